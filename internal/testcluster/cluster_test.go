package testcluster_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/skiffdb/skiff/internal/config"
	"github.com/skiffdb/skiff/internal/testcluster"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).reaper"),
		// raft's transport heartbeat/pipeline goroutines end shortly after Shutdown.
		goleak.IgnoreAnyFunction("github.com/hashicorp/raft.(*NetworkTransport).listen"),
		goleak.IgnoreAnyFunction("github.com/hashicorp/raft.(*netPipeline).decodeResponses"),
		// A request raft left unanswered at a node's shutdown (hashicorp/raft#498):
		// replication stops waiting for it; its helper goroutine stays.
		goleak.IgnoreAnyFunction("github.com/hashicorp/raft.(*deferError).Error"),
	)
}

var ctx = context.Background()

// retriable reports whether err is one of skiff's documented retriable errors.
func retriable(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.HasPrefix(s, "TRYAGAIN") || strings.HasPrefix(s, "CLUSTERDOWN") ||
		strings.Contains(s, "connection refused") || strings.Contains(s, "EOF") ||
		strings.Contains(s, "i/o timeout") || strings.Contains(s, "closed") || strings.Contains(s, "reset by peer")
}

func TestCluster_FollowersForwardWritesAndReads(t *testing.T) {
	c := testcluster.Start(t, 3)
	fs := c.Followers()
	w := c.Client(fs[0].Index)
	r := c.Client(fs[1].Index)
	r3 := c.Client(fs[1].Index, func(o *redis.Options) { o.Protocol = 3 })
	for i := 0; i < 50; i++ {
		k := fmt.Sprint("k", i)
		if err := w.Set(ctx, k, i, 0).Err(); err != nil {
			t.Fatalf("SET via follower: %v", err)
		}
		// Linearizable: a read on another follower sees the acknowledged write.
		if v, err := r.Get(ctx, k).Int(); err != nil || v != i {
			t.Fatalf("GET via other follower = %d %v, want %d", v, err, i)
		}
	}
	if _, err := r3.Get(ctx, "missing").Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("RESP3 GET missing via follower: %v", err)
	}
	w.Set(ctx, "text", "abc", 0)
	if err := r.Incr(ctx, "text").Err(); err == nil || err.Error() != "ERR value is not an integer or out of range" {
		t.Fatalf("error relayed from the leader: %v", err)
	}
	// SELECT is per connection and travels with forwarded commands.
	pipe := w.Pipeline()
	pipe.Select(ctx, 3)
	pipe.Set(ctx, "in3", "x", 0)
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	l := c.Client(c.WaitLeader().Index)
	if n, _ := l.Exists(ctx, "in3").Result(); n != 0 {
		t.Fatal("forwarded write landed in db 0")
	}
	// Stale reads are opt-in: READONLY then GET on a follower reads local state.
	conn := r.Conn()
	defer conn.Close()
	if err := conn.Do(ctx, "READONLY").Err(); err != nil {
		t.Fatal(err)
	}
	c.Eventually(func() error {
		v, err := conn.Get(ctx, "k49").Int()
		if err != nil || v != 49 {
			return fmt.Errorf("stale read = %d %v", v, err)
		}
		return nil
	})
	c.EnsureConverged()
}

func TestCluster_RoleAndInfoReplication(t *testing.T) {
	c := testcluster.Start(t, 3)
	l := c.WaitLeader()
	lc := c.Client(l.Index)
	role, err := lc.Do(ctx, "ROLE").Slice()
	if err != nil || role[0] != "master" {
		t.Fatalf("leader ROLE = %v %v", role, err)
	}
	f := c.Followers()[0]
	fc := c.Client(f.Index)
	role, err = fc.Do(ctx, "ROLE").Slice()
	if err != nil || role[0] != "slave" || role[1] != "127.0.0.1" || fmt.Sprint(role[2]) != l.RESPAddr[strings.LastIndex(l.RESPAddr, ":")+1:] {
		t.Fatalf("follower ROLE = %v %v (leader at %s)", role, err, l.RESPAddr)
	}
	info, err := fc.Info(ctx, "replication").Result()
	if err != nil || !strings.Contains(info, "role:slave") || !strings.Contains(info, "skiff_leader_id:"+l.ID) || !strings.Contains(info, "master_link_status:up") ||
		!strings.Contains(info, "skiff_leader_resp_addr:"+l.RESPAddr) {
		t.Fatalf("follower INFO replication:\n%s", info)
	}
	info, _ = lc.Info(ctx, "replication").Result()
	if !strings.Contains(info, "role:master") || !strings.Contains(info, "skiff_members:3") ||
		!strings.Contains(info, "skiff_leader_resp_addr:"+l.RESPAddr) {
		t.Fatalf("leader INFO replication:\n%s", info)
	}
}

// TestCluster_FailoverKeepsAcknowledgedWrites kills the leader under write
// load from clients on every node; every acknowledged write must be present
// afterwards, and all replicas must converge.
func TestCluster_FailoverKeepsAcknowledgedWrites(t *testing.T) {
	c := testcluster.Start(t, 3)
	leader := c.WaitLeader()
	var acked sync.Map
	var nacked atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range c.Nodes {
		if i == leader.Index {
			continue // clients of the node that dies lose their connection; use the others
		}
		cl := c.Client(i)
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for seq := 0; seq < 100000; seq++ {
					select {
					case <-stop:
						return
					default:
					}
					k := fmt.Sprintf("n%d:w%d:%d", i, w, seq)
					err := cl.Set(ctx, k, seq, 0).Err()
					if err == nil {
						acked.Store(k, seq)
						nacked.Add(1)
						continue
					}
					if !retriable(err) {
						t.Errorf("SET %s: non-retriable error %v", k, err)
						return
					}
					time.Sleep(5 * time.Millisecond)
				}
			}()
		}
	}
	c.Eventually(func() error {
		if nacked.Load() < 200 {
			return fmt.Errorf("only %d writes so far", nacked.Load())
		}
		return nil
	})
	c.Kill(leader.Index)
	newLeader := c.WaitLeader()
	if newLeader == leader {
		t.Fatal("killed node still leads")
	}
	before := nacked.Load()
	c.Eventually(func() error {
		if nacked.Load() < before+200 {
			return fmt.Errorf("writes not resumed after failover (%d)", nacked.Load()-before)
		}
		return nil
	})
	close(stop)
	wg.Wait()
	c.Restart(leader.Index)
	c.EnsureConverged()
	lc := c.Client(c.WaitLeader().Index)
	missing := 0
	acked.Range(func(k, v any) bool {
		got, err := lc.Get(ctx, k.(string)).Int()
		if err != nil || got != v.(int) {
			missing++
			if missing < 5 {
				t.Errorf("acknowledged %s=%v: read %d %v", k, v, got, err)
			}
		}
		return true
	})
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged writes lost", missing, nacked.Load())
	}
	t.Logf("%d acknowledged writes, all present after failover", nacked.Load())
}

// TestCluster_PartitionedLeaderCannotAcknowledge: a leader cut off from the
// others cannot acknowledge writes and steps down; the majority elects a new
// leader; after healing the old leader rejoins as follower and catches up.
func TestCluster_PartitionedLeaderCannotAcknowledge(t *testing.T) {
	c := testcluster.Start(t, 3)
	old := c.WaitLeader()
	oc := c.Client(old.Index)
	if err := oc.Set(ctx, "before", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	c.Partition(old.Index)
	err := oc.Set(ctx, "during", "x", 0).Err()
	if err == nil {
		t.Fatal("a partitioned leader acknowledged a write")
	}
	if !retriable(err) {
		t.Fatalf("partitioned write: %v, want a retriable error", err)
	}
	c.Eventually(func() error {
		if old.Node().Raft().IsLeader() {
			return errors.New("partitioned leader has not stepped down")
		}
		return nil
	})
	var nl *testcluster.Member
	c.Eventually(func() error {
		for _, m := range c.Nodes {
			if m != old && m.Node().Raft().IsLeader() {
				nl = m
				return nil
			}
		}
		return errors.New("majority has no leader")
	})
	nc := c.Client(nl.Index)
	if err := nc.Set(ctx, "after", "2", 0).Err(); err != nil {
		t.Fatal(err)
	}
	c.Heal(old.Index)
	c.EnsureConverged()
	if v, err := c.Client(old.Index).Get(ctx, "after").Result(); err != nil || v != "2" {
		t.Fatalf("healed node reads after=%q %v", v, err)
	}
	// The write attempted during the partition is either absent or present
	// everywhere; converged digests already prove every replica agrees.
}

// TestCluster_SnapshotInstallCatchesUpLaggingFollower: a follower that was
// down while the leader snapshotted and compacted its log is caught up by
// snapshot install.
func TestCluster_SnapshotInstallCatchesUpLaggingFollower(t *testing.T) {
	c := testcluster.Start(t, 3, func(i int, cfg *config.Config) {
		cfg.SnapshotEntries = 64
		cfg.TrailingLogs = 16
		cfg.LogSegmentBytes = 4096 // compaction frees whole segments
	})
	f := c.Followers()[0]
	c.Stop(f.Index)
	lc := c.Client(c.WaitLeader().Index)
	// One request at a time: each write is its own log entry (a pipeline
	// would be one entry), so the log outgrows the snapshot threshold.
	for i := 0; i < 400; i++ {
		if err := lc.Set(ctx, fmt.Sprint("snap:", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := lc.Do(ctx, "SKIFF.CLUSTER", "SNAPSHOT").Err(); err != nil {
		t.Fatal(err)
	}
	c.Restart(f.Index)
	c.EnsureConverged()
	fc := c.Client(f.Index)
	conn := fc.Conn()
	defer conn.Close()
	conn.Do(ctx, "READONLY")
	if v, err := conn.Get(ctx, "snap:399").Int(); err != nil || v != 399 {
		t.Fatalf("lagging follower after snapshot install: %d %v", v, err)
	}
	// It was caught up by a snapshot, not by replaying the (compacted) log.
	if st := f.Node().Raft().Status(); st.LastSnapshot == 0 {
		t.Fatalf("follower has no snapshot: %+v", st)
	}
}

func TestCluster_AddAndRemoveMembers(t *testing.T) {
	c := testcluster.Start(t, 4)
	l := c.WaitLeader()
	lc := c.Client(l.Index)
	if err := lc.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	// Remove a follower through a follower (forwarded to the leader).
	fs := c.Followers()
	victim, via := fs[0], fs[1]
	if err := c.Client(via.Index).Do(ctx, "SKIFF.CLUSTER", "REMOVE", victim.ID).Err(); err != nil {
		t.Fatal(err)
	}
	c.WaitMembers(3)
	c.Stop(victim.Index)
	if err := lc.Set(ctx, "k2", "v2", 0).Err(); err != nil {
		t.Fatal(err)
	}
	members, err := lc.Do(ctx, "SKIFF.CLUSTER", "MEMBERS").Slice()
	if err != nil || len(members) != 3 {
		t.Fatalf("members after remove: %v %v", members, err)
	}
}

func TestCluster_TransferLeadership(t *testing.T) {
	c := testcluster.Start(t, 3)
	old := c.WaitLeader()
	target := c.Followers()[0]
	if err := c.Client(old.Index).Do(ctx, "SKIFF.CLUSTER", "TRANSFER", target.ID).Err(); err != nil {
		t.Fatal(err)
	}
	c.Eventually(func() error {
		if l := c.WaitLeader(); l != target {
			return fmt.Errorf("leader is %s, want %s", l.ID, target.ID)
		}
		return nil
	})
}

// TestSingleNode_KillKeepsAcknowledgedWrites: a one-node cluster killed
// mid-load (no graceful shutdown) has every acknowledged write after restart.
func TestSingleNode_KillKeepsAcknowledgedWrites(t *testing.T) {
	c := testcluster.Start(t, 1)
	cl := c.Client(0)
	var acked atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				err := cl.Incr(ctx, fmt.Sprint("ctr", w)).Err()
				if err != nil {
					return // the node died
				}
				acked.Add(1)
			}
		}()
	}
	c.Eventually(func() error {
		if acked.Load() < 500 {
			return fmt.Errorf("%d writes", acked.Load())
		}
		return nil
	})
	c.Kill(0)
	close(stop)
	wg.Wait()
	c.Restart(0)
	c.WaitLeader()
	cl = c.Client(0)
	var sum int64
	for w := 0; w < 8; w++ {
		n, err := cl.Get(ctx, fmt.Sprint("ctr", w)).Int64()
		if err != nil && !errors.Is(err, redis.Nil) {
			t.Fatal(err)
		}
		sum += n
	}
	// Every acknowledged INCR is there; at most the 8 in flight at the kill
	// may also have been applied.
	if sum < acked.Load() || sum > acked.Load()+8 {
		t.Fatalf("after restart the counters sum to %d; %d increments were acknowledged", sum, acked.Load())
	}
	t.Logf("%d acknowledged increments survived the kill", acked.Load())
}

// TestSingleNode_RecoversFromSnapshotPlusLog: restart after a crash
// restores the latest snapshot and replays the log written after it.
func TestSingleNode_RecoversFromSnapshotPlusLog(t *testing.T) {
	c := testcluster.Start(t, 1, func(i int, cfg *config.Config) {
		cfg.SnapshotEntries = 50
		cfg.TrailingLogs = 10
		cfg.LogSegmentBytes = 4096
	})
	cl := c.Client(0)
	for i := 0; i < 300; i++ {
		if err := cl.Set(ctx, fmt.Sprint("a", i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.Do(ctx, "SKIFF.CLUSTER", "SNAPSHOT").Err(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ { // after the snapshot: only in the log
		if err := cl.Incr(ctx, "after").Err(); err != nil {
			t.Fatal(err)
		}
	}
	want := c.Nodes[0].Node().Store().Digest()
	c.Kill(0)
	c.Restart(0)
	c.WaitLeader()
	if st := c.Nodes[0].Node().Raft().Status(); st.LastSnapshot == 0 || st.FirstIndex <= 1 {
		t.Fatalf("no snapshot or no compaction: %+v", st)
	}
	c.Eventually(func() error {
		if c.Nodes[0].Node().Store().Digest() != want {
			return errors.New("state after restart differs from state before the kill")
		}
		return nil
	})
	if v, err := c.Client(0).Get(ctx, "after").Int(); err != nil || v != 20 {
		t.Fatalf("after = %d %v", v, err)
	}
}

// TestSingleNode_SnapshotBySize: a snapshot is taken once enough bytes of
// log accumulate, even far below the entry-count threshold.
func TestSingleNode_SnapshotBySize(t *testing.T) {
	c := testcluster.Start(t, 1, func(i int, cfg *config.Config) {
		cfg.SnapshotEntries = 1000000
		cfg.SnapshotMB = 1
	})
	cl := c.Client(0)
	big := strings.Repeat("x", 64<<10)
	for i := 0; i < 24; i++ { // 1.5 MiB in 24 entries
		if err := cl.Set(ctx, fmt.Sprint("big", i), big, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	c.Eventually(func() error {
		if st := c.Nodes[0].Node().Raft().Status(); st.LastSnapshot == 0 {
			return fmt.Errorf("no snapshot yet: %+v", st)
		}
		return nil
	})
}
