package testcluster_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/skiffdb/skiff/internal/testcluster"
)

// readonlyConn returns a connection to member i that reads its local state
// (READONLY): DBSIZE then counts the keys physically in that node's store,
// expired or not.
func readonlyConn(t *testing.T, c *testcluster.Cluster, i int) *redis.Conn {
	t.Helper()
	conn := c.Client(i).Conn()
	t.Cleanup(func() { conn.Close() })
	if err := conn.ReadOnly(ctx).Err(); err != nil {
		t.Fatalf("READONLY on %s: %v", c.Nodes[i].ID, err)
	}
	return conn
}

// waitDBSize polls until conn's node holds want keys.
func waitDBSize(c *testcluster.Cluster, id string, conn *redis.Conn, want int64) {
	c.Eventually(func() error {
		n, err := conn.DBSize(ctx).Result()
		if err != nil || n != want {
			return fmt.Errorf("%s: DBSIZE = %d %v, want %d", id, n, err, want)
		}
		return nil
	})
}

// TestCluster_TTLSurvivesFailover: deadlines are absolute unix-ms times in
// the replicated state, so a failover neither resets nor loses them, and
// the new leader's expiry cycle deletes expired keys through the log on
// every replica, the restarted old leader included.
func TestCluster_TTLSurvivesFailover(t *testing.T) {
	c := testcluster.Start(t, 3)
	old := c.WaitLeader()
	oc := c.Client(old.Index)
	beforeSet := time.Now()
	if err := oc.Set(ctx, "ttl:long", "v", 10*time.Second).Err(); err != nil {
		t.Fatal(err)
	}
	afterSet := time.Now()
	// Expires after the failover (unless the kill is very slow): deleted by
	// the new leader.
	shortSet := time.Now()
	if err := oc.Set(ctx, "ttl:short", "v", 1500*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	at, err := oc.PExpireTime(ctx, "ttl:long").Result()
	if err != nil {
		t.Fatal(err)
	}
	c.EnsureConverged() // every replica holds both keys before the crash

	c.Kill(old.Index)
	killed := time.Now()
	nl := c.WaitLeader()
	if nl == old {
		t.Fatal("killed node still leads")
	}
	nc := c.Client(nl.Index)
	beforeRead := time.Now()
	pttl, err := nc.PTTL(ctx, "ttl:long").Result()
	afterRead := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	// Same clock on both nodes (one process): the remaining time is 10 s
	// minus the time since the SET was applied, which lies within the
	// bounds below; 1.5 s of slack below for scheduling, none above (a
	// reset deadline would exceed it by the failover's duration).
	lo := 10*time.Second - afterRead.Sub(beforeSet) - 1500*time.Millisecond
	hi := 10*time.Second - beforeRead.Sub(afterSet) + 5*time.Millisecond
	if pttl < lo || pttl > hi {
		t.Fatalf("PTTL on the new leader %s = %v, want within [%v, %v] (%v after the SET)", nl.ID, pttl, lo, hi, beforeRead.Sub(beforeSet))
	}
	if at2, err := nc.PExpireTime(ctx, "ttl:long").Result(); err != nil || at2 != at {
		t.Fatalf("PEXPIRETIME on the new leader = %v %v, was %v on the old one", at2, err, at)
	}
	t.Logf("PTTL %v on the new leader %s, %v after the SET", pttl, nl.ID, beforeRead.Sub(beforeSet).Round(time.Millisecond))

	// A key with a short TTL written after the failover.
	if err := nc.Set(ctx, "ttl:new", "v", 300*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	if killed.Sub(shortSet) < 1500*time.Millisecond {
		t.Logf("ttl:short expired after the kill: only the new leader can have deleted it")
	} else {
		t.Logf("slow kill: ttl:short may have been deleted by the old leader")
	}
	// Both short keys disappear from every surviving replica: its expiry
	// cycle deleted them through the log (followers never delete on their
	// own, see TestCluster_FollowersNeverExpireOnTheirOwn). ttl:long stays,
	// unless this machine is so slow that its 10 s are up.
	longDeadline := time.UnixMilli(at.Milliseconds()) // PEXPIRETIME: unix ms
	onlyLong := func(id string, conn *redis.Conn) {
		c.Eventually(func() error {
			want := int64(1)
			if time.Now().After(longDeadline) {
				want = 0
			}
			n, err := conn.DBSize(ctx).Result()
			if err != nil || n != want {
				return fmt.Errorf("%s: DBSIZE = %d %v, want %d", id, n, err, want)
			}
			return nil
		})
	}
	for _, m := range c.Nodes {
		if m != old {
			onlyLong(m.ID, readonlyConn(t, c, m.Index))
		}
	}
	// The old leader, restarted, gets the deletions through the log too.
	c.Restart(old.Index)
	c.EnsureConverged()
	onlyLong(old.ID, readonlyConn(t, c, old.Index))
}

// TestCluster_FollowersNeverExpireOnTheirOwn: a follower cut off from the
// leader keeps an expired key in its store (its reads treat it as absent)
// until the leader's deletion reaches it through the log.
func TestCluster_FollowersNeverExpireOnTheirOwn(t *testing.T) {
	c := testcluster.Start(t, 3)
	l := c.WaitLeader()
	lc := c.Client(l.Index)
	f := c.Followers()[0]
	fconn := readonlyConn(t, c, f.Index)
	lconn := readonlyConn(t, c, l.Index)
	if err := lc.Set(ctx, "keep", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}

	// The follower must be cut off before the key expires: no deletion can
	// have reached it then, since the leader proposes one only after the
	// deadline. On a slow machine that may miss for 200 ms: retry longer.
	ttl := 200 * time.Millisecond
	var setAt time.Time
	for attempt := 0; ; attempt++ {
		if attempt == 4 {
			t.Fatal("could not partition the follower before the key expired")
		}
		setAt = time.Now()
		if err := lc.Set(ctx, "exp", "v", ttl).Err(); err != nil {
			t.Fatal(err)
		}
		waitDBSize(c, f.ID, fconn, 2) // the follower applied the SET
		c.Partition(f.Index)
		if time.Since(setAt) < ttl {
			break
		}
		t.Logf("partitioned %v after the SET, TTL %v: again with a longer TTL", time.Since(setAt), ttl)
		c.Heal(f.Index)
		c.EnsureConverged()
		ttl *= 4
	}

	// The leader deletes the expired key...
	waitDBSize(c, l.ID, lconn, 1)
	// ...and, a second after the deadline, the follower still has it.
	time.Sleep(time.Until(setAt.Add(ttl + time.Second)))
	if n, err := fconn.DBSize(ctx).Result(); err != nil || n != 2 {
		t.Fatalf("partitioned follower: DBSIZE = %d %v, want 2 (the expired key is still in its store)", n, err)
	}
	// Its reads treat the expired key as absent.
	if v, err := fconn.Get(ctx, "exp").Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("partitioned follower: GET exp = %q %v, want nil", v, err)
	}
	if n, err := fconn.Exists(ctx, "exp").Result(); err != nil || n != 0 {
		t.Fatalf("partitioned follower: EXISTS exp = %d %v, want 0", n, err)
	}
	if d, err := fconn.PTTL(ctx, "exp").Result(); err != nil || d != -2*time.Nanosecond {
		t.Fatalf("partitioned follower: PTTL exp = %v %v, want -2 (absent)", d, err)
	}
	if v, err := fconn.Get(ctx, "keep").Result(); err != nil || v != "v" {
		t.Fatalf("partitioned follower: GET keep = %q %v", v, err)
	}

	// Healed, it receives the leader's deletion.
	c.Heal(f.Index)
	waitDBSize(c, f.ID, fconn, 1)
	c.EnsureConverged()
}
