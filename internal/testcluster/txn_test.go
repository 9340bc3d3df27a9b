package testcluster_test

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/skiffdb/skiff/internal/testcluster"
)

// TestCluster_TxnOnFollower: MULTI/EXEC through a follower is forwarded to
// the leader as one request; reads see the state at their point in the
// transaction, local commands (PING, SELECT) run on the follower in their
// place, and every replica applies the transaction.
func TestCluster_TxnOnFollower(t *testing.T) {
	c := testcluster.Start(t, 3)
	f := c.Followers()[0]
	fc := c.Client(f.Index)
	if err := fc.Set(ctx, "a", "old", 0).Err(); err != nil {
		t.Fatal(err)
	}
	var get1, get2 *redis.StringCmd
	var ping *redis.StatusCmd
	cmds, err := fc.TxPipelined(ctx, func(p redis.Pipeliner) error {
		get1 = p.Get(ctx, "a")
		p.Set(ctx, "a", "new", 0)
		get2 = p.Get(ctx, "a")
		ping = p.Ping(ctx)
		p.RPush(ctx, "l", "x", "y")
		p.LPop(ctx, "l")
		return nil
	})
	if err != nil {
		t.Fatalf("EXEC via follower: %v (%v)", err, cmds)
	}
	if get1.Val() != "old" || get2.Val() != "new" || ping.Val() != "PONG" {
		t.Fatalf("EXEC via follower: GET %q, GET %q, PING %q", get1.Val(), get2.Val(), ping.Val())
	}
	// SELECT inside the transaction moves the connection: the keyspace steps
	// after it run in database 2 on the leader.
	conn := fc.Conn()
	defer conn.Close()
	_, err = conn.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Select(ctx, 2)
		p.Set(ctx, "in2", "v", 0)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := conn.Get(ctx, "in2").Result(); err != nil || v != "v" {
		t.Fatalf("after SELECT 2 inside EXEC: GET in2 = %q %v", v, err)
	}
	if n, _ := c.Client(c.WaitLeader().Index).Exists(ctx, "in2").Result(); n != 0 {
		t.Fatal("the write after SELECT 2 landed in database 0")
	}
	// A runtime error is one entry of the reply; the rest is applied.
	_, err = fc.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Incr(ctx, "a")
		p.Set(ctx, "b", "1", 0)
		return nil
	})
	if err == nil || err.Error() != "ERR value is not an integer or out of range" {
		t.Fatalf("EXEC with a failing INCR: %v", err)
	}
	if v, _ := fc.Get(ctx, "b").Result(); v != "1" {
		t.Fatalf("SET after a failing INCR in the same EXEC: b = %q", v)
	}
	c.EnsureConverged()
}

// TestCluster_TxnWatchAcrossNodes: a client WATCHes on one node, another
// client changes the key through another node, and EXEC answers null; with
// no change it runs. Both sides are tried on a follower and on the leader.
func TestCluster_TxnWatchAcrossNodes(t *testing.T) {
	c := testcluster.Start(t, 3)
	l := c.WaitLeader()
	fs := c.Followers()
	pairs := []struct{ watch, write int }{
		{fs[0].Index, fs[1].Index},
		{fs[0].Index, l.Index},
		{l.Index, fs[0].Index},
	}
	for i, p := range pairs {
		wc, oc := c.Client(p.watch), c.Client(p.write)
		key := fmt.Sprint("w", i)
		if err := oc.Set(ctx, key, "0", 0).Err(); err != nil {
			t.Fatal(err)
		}
		err := wc.Watch(ctx, func(tx *redis.Tx) error {
			v, err := tx.Get(ctx, key).Result()
			if err != nil {
				return err
			}
			if err := oc.Set(ctx, key, "other", 0).Err(); err != nil {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(pp redis.Pipeliner) error {
				pp.Set(ctx, key, v+"+1", 0)
				return nil
			})
			return err
		}, key)
		if !errors.Is(err, redis.TxFailedErr) {
			t.Fatalf("pair %d: EXEC after a change on another node: %v, want a null reply", i, err)
		}
		if v, _ := wc.Get(ctx, key).Result(); v != "other" {
			t.Fatalf("pair %d: %s = %q after the aborted EXEC", i, key, v)
		}
		// Unchanged: EXEC runs.
		err = wc.Watch(ctx, func(tx *redis.Tx) error {
			_, err := tx.TxPipelined(ctx, func(pp redis.Pipeliner) error {
				pp.Set(ctx, key, "mine", 0)
				return nil
			})
			return err
		}, key)
		if err != nil {
			t.Fatalf("pair %d: EXEC without a conflict: %v", i, err)
		}
		if v, _ := oc.Get(ctx, key).Result(); v != "mine" {
			t.Fatalf("pair %d: %s = %q after EXEC", i, key, v)
		}
		// Absent at WATCH and at EXEC, created and deleted in between
		// through the other node: aborts, as in Redis.
		absent := key + ":absent"
		err = wc.Watch(ctx, func(tx *redis.Tx) error {
			if err := oc.Set(ctx, absent, "x", 0).Err(); err != nil {
				return err
			}
			if err := oc.Del(ctx, absent).Err(); err != nil {
				return err
			}
			_, err := tx.TxPipelined(ctx, func(pp redis.Pipeliner) error {
				pp.Set(ctx, absent, "mine", 0)
				return nil
			})
			return err
		}, absent)
		if !errors.Is(err, redis.TxFailedErr) {
			t.Fatalf("pair %d: EXEC after an absent key was created and deleted: %v, want a null reply", i, err)
		}
	}
	// An acknowledged write just before WATCH on a follower is seen by the
	// WATCH (it asks the leader), so it does not abort the EXEC.
	fc := c.Client(fs[1].Index)
	for i := 0; i < 20; i++ {
		if err := c.Client(l.Index).Set(ctx, "fresh", i, 0).Err(); err != nil {
			t.Fatal(err)
		}
		err := fc.Watch(ctx, func(tx *redis.Tx) error {
			_, err := tx.TxPipelined(ctx, func(pp redis.Pipeliner) error {
				pp.Incr(ctx, "fresh")
				return nil
			})
			return err
		}, "fresh")
		if err != nil {
			t.Fatalf("round %d: WATCH after an acknowledged write: %v", i, err)
		}
	}
	c.EnsureConverged()
}

// TestCluster_TxnOptimisticIncrements: clients on every node increment one
// counter with WATCH/GET/MULTI/SET/EXEC, retrying aborted transactions. A
// conflict WATCH missed would lose an increment.
func TestCluster_TxnOptimisticIncrements(t *testing.T) {
	c := testcluster.Start(t, 3)
	const perClient = 15
	var wg sync.WaitGroup
	var aborts, unknown atomic.Int64
	clients := 0
	for i := range c.Nodes {
		for range 2 {
			clients++
			cl := c.Client(i)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for done := 0; done < perClient; {
					err := cl.Watch(ctx, func(tx *redis.Tx) error {
						n, err := tx.Get(ctx, "ctr").Int()
						if err != nil && !errors.Is(err, redis.Nil) {
							return err
						}
						_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
							p.Set(ctx, "ctr", n+1, 0)
							return nil
						})
						return err
					}, "ctr")
					switch {
					case err == nil:
						done++
					case errors.Is(err, redis.TxFailedErr):
						aborts.Add(1)
					case retriable(err):
						// Leadership changed or the leader was unreachable:
						// the EXEC may or may not have been applied.
						unknown.Add(1)
						time.Sleep(5 * time.Millisecond)
					default:
						t.Errorf("optimistic increment: %v", err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	got, err := c.Client(c.WaitLeader().Index).Get(ctx, "ctr").Int()
	want := clients * perClient
	if err != nil || got < want || got > want+int(unknown.Load()) {
		t.Fatalf("ctr = %d %v, want %d (+ up to %d of unknown outcome; %d aborted attempts)", got, err, want, unknown.Load(), aborts.Load())
	}
	t.Logf("%d increments, %d aborted attempts, %d of unknown outcome", got, aborts.Load(), unknown.Load())
	c.EnsureConverged()
}

// TestCluster_TxnAtomicAcrossLeaderKill: transactions that increment two
// counters run on the followers while the leader is killed. Each EXEC is
// one log entry: on every replica the counters are equal, and at least as
// large as the number of acknowledged transactions.
func TestCluster_TxnAtomicAcrossLeaderKill(t *testing.T) {
	c := testcluster.Start(t, 3)
	leader := c.WaitLeader()
	var acked atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, m := range c.Nodes {
		if m == leader {
			continue
		}
		cl := c.Client(m.Index)
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					_, err := cl.TxPipelined(ctx, func(p redis.Pipeliner) error {
						p.Incr(ctx, "x")
						p.Incr(ctx, "y")
						return nil
					})
					if err == nil {
						acked.Add(1)
						continue
					}
					if !retriable(err) {
						t.Errorf("EXEC: non-retriable error %v", err)
						return
					}
					time.Sleep(5 * time.Millisecond)
				}
			}()
		}
	}
	c.Eventually(func() error {
		if acked.Load() < 100 {
			return fmt.Errorf("only %d transactions so far", acked.Load())
		}
		return nil
	})
	c.Kill(leader.Index)
	if c.WaitLeader() == leader {
		t.Fatal("killed node still leads")
	}
	before := acked.Load()
	c.Eventually(func() error {
		if acked.Load() < before+100 {
			return fmt.Errorf("transactions not resumed after failover (%d)", acked.Load()-before)
		}
		return nil
	})
	close(stop)
	wg.Wait()
	c.Restart(leader.Index)
	c.EnsureConverged()
	for _, m := range c.Nodes {
		conn := c.Client(m.Index).Conn()
		if err := conn.Do(ctx, "READONLY").Err(); err != nil {
			t.Fatal(err)
		}
		vals, err := conn.MGet(ctx, "x", "y").Result()
		conn.Close()
		if err != nil {
			t.Fatal(err)
		}
		x, _ := strconv.ParseInt(fmt.Sprint(vals[0]), 10, 64)
		y, _ := strconv.ParseInt(fmt.Sprint(vals[1]), 10, 64)
		if x != y || x < acked.Load() {
			t.Fatalf("%s: x=%d y=%d after %d acknowledged transactions", m.ID, x, y, acked.Load())
		}
	}
	t.Logf("%d acknowledged transactions", acked.Load())
}

// TestCluster_TxnReadsAreIsolated: clients on every node run transactions
// that interleave reads and writes of one counter; each read must see
// exactly the transaction's own earlier writes, never another client's.
func TestCluster_TxnReadsAreIsolated(t *testing.T) {
	c := testcluster.Start(t, 3)
	var wg sync.WaitGroup
	for i := range c.Nodes {
		for range 2 {
			cl := c.Client(i)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 25 {
					var incr, incrBy *redis.IntCmd
					var get1, get2 *redis.StringCmd
					_, err := cl.TxPipelined(ctx, func(p redis.Pipeliner) error {
						incr = p.Incr(ctx, "iso")
						get1 = p.Get(ctx, "iso")
						incrBy = p.IncrBy(ctx, "iso", 10)
						get2 = p.Get(ctx, "iso")
						return nil
					})
					if err != nil {
						if retriable(err) {
							continue
						}
						t.Errorf("EXEC: %v", err)
						return
					}
					n := incr.Val()
					if get1.Val() != fmt.Sprint(n) || incrBy.Val() != n+10 || get2.Val() != fmt.Sprint(n+10) {
						t.Errorf("not isolated: INCR %d, GET %s, INCRBY %d, GET %s", n, get1.Val(), incrBy.Val(), get2.Val())
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	c.EnsureConverged()
}
