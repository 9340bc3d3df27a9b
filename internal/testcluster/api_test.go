package testcluster_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/skiffdb/skiff/internal/command"
	"github.com/skiffdb/skiff/internal/testcluster"
)

// apiOf returns the command server a member's node wires (the one its gRPC
// and REST front doors call). node.Node does not export it yet: read the
// field, in tests only.
func apiOf(t testing.TB, m *testcluster.Member) *command.Server {
	t.Helper()
	n := m.Node()
	if n == nil {
		t.Fatalf("%s is not running", m.ID)
	}
	if a, ok := any(n).(interface{ Command() *command.Server }); ok {
		return a.Command()
	}
	f := reflect.ValueOf(n).Elem().FieldByName("exec")
	if !f.IsValid() || f.Type() != reflect.TypeOf((*command.Server)(nil)) {
		t.Fatal("node.Node has no exec *command.Server field: update apiOf")
	}
	return (*command.Server)(unsafe.Pointer(f.Pointer()))
}

// TestCluster_APIAnyNode: a Put through a follower is forwarded to the
// leader; linearizable Gets anywhere see it at once, serializable ones once
// the node has applied it; keys written over RESP and over the API are the
// same keys.
func TestCluster_APIAnyNode(t *testing.T) {
	c := testcluster.Start(t, 3)
	fs := c.Followers()
	f1, f2 := fs[0], fs[1]
	leader := c.WaitLeader()
	p, err := apiOf(t, f1).Put(ctx, command.PutRequest{Key: []byte("k"), Value: []byte("v")})
	if err != nil || !p.Written || p.Revision == 0 {
		t.Fatalf("Put on a follower = %+v %v", p, err)
	}
	for _, m := range []*testcluster.Member{leader, f2, f1} {
		kv, err := apiOf(t, m).Get(ctx, command.GetRequest{Key: []byte("k")})
		if err != nil || string(kv.Value) != "v" || kv.Revision != p.Revision {
			t.Fatalf("linearizable Get on %s = %+v %v", m.ID, kv, err)
		}
		c.Eventually(func() error {
			kv, err := apiOf(t, m).Get(ctx, command.GetRequest{Key: []byte("k"), Consistency: command.Serializable})
			if err != nil || kv.Revision != p.Revision {
				return fmt.Errorf("serializable Get on %s = %+v %v", m.ID, kv, err)
			}
			return nil
		})
	}
	// RESP -> API and API -> RESP, across nodes.
	if err := c.Client(f2.Index).Set(ctx, "from-resp", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if kv, err := apiOf(t, f1).Get(ctx, command.GetRequest{Key: []byte("from-resp")}); err != nil || string(kv.Value) != "1" {
		t.Fatalf("RESP write read through the API = %+v %v", kv, err)
	}
	if _, err := apiOf(t, leader).Put(ctx, command.PutRequest{Key: []byte("from-api"), Value: []byte("2"), TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Client(f2.Index).Get(ctx, "from-api").Result(); err != nil || v != "2" {
		t.Fatalf("API write read over RESP = %q %v", v, err)
	}
	if ttl, err := c.Client(f1.Index).TTL(ctx, "from-api").Result(); err != nil || ttl < 59*time.Minute {
		t.Fatalf("API TTL seen over RESP = %v %v", ttl, err)
	}
	// Compare-and-set and transactions through a follower.
	if r, err := apiOf(t, f2).Put(ctx, command.PutRequest{Key: []byte("k"), Value: []byte("x"), IfRevision: p.Revision + 1000}); err != nil || r.Written || r.Revision != p.Revision {
		t.Fatalf("CAS mismatch via a follower = %+v %v", r, err)
	}
	tr, err := apiOf(t, f2).Txn(ctx, command.TxnRequest{
		Compares: []command.Compare{{Key: []byte("k"), Target: command.CompareRevision, Revision: p.Revision}},
		Then:     []command.TxnOp{{Key: []byte("k"), Value: []byte("t")}, {Key: []byte("k2"), Value: []byte("t")}},
	})
	if err != nil || !tr.Succeeded {
		t.Fatalf("Txn via a follower = %+v %v", tr, err)
	}
	r, err := apiOf(t, f1).Range(ctx, command.RangeRequest{Prefix: []byte("k")})
	if err != nil || len(r.KVs) != 2 || r.KVs[0].Revision != tr.Revision || r.KVs[1].Revision != tr.Revision {
		t.Fatalf("Range via a follower = %+v %v", r, err)
	}
	// Membership through a follower: leadership moves.
	if err := apiOf(t, f1).TransferLeader(""); err != nil {
		t.Fatalf("TransferLeader via a follower: %v", err)
	}
	c.Eventually(func() error {
		if l := c.WaitLeader(); l == leader {
			return errors.New("leadership did not move")
		}
		return nil
	})
	c.EnsureConverged()
}

// TestCluster_APIWatchResumesAfterLeaderKill: a watch on the leader is cut
// by the leader's crash and resumed from its last token on another node;
// the events seen, in order, hold every acknowledged write exactly once and
// nothing twice.
func TestCluster_APIWatchResumesAfterLeaderKill(t *testing.T) {
	c := testcluster.Start(t, 3)
	leader := c.WaitLeader()
	fs := c.Followers()
	writer, other := fs[0], fs[1]
	start := apiOf(t, leader).CurrentToken()

	type seen struct {
		rev uint64
		key string
	}
	var (
		mu     sync.Mutex
		events []seen
		last   string
	)
	watch := func(m *testcluster.Member, from string, stop <-chan struct{}) error {
		wctx, cancel := contextWithStop(stop)
		defer cancel()
		return apiOf(t, m).Watch(wctx, command.WatchRequest{IsPrefix: true, Key: []byte("w/"), FromToken: from, ProgressInterval: -1},
			func(ev command.WatchEvent) error {
				mu.Lock()
				events = append(events, seen{ev.Revision, string(ev.Key)})
				last = ev.Token
				mu.Unlock()
				return nil
			})
	}
	watchDone := make(chan error, 1)
	go func() { watchDone <- watch(leader, start, nil) }()

	// One writer through a follower: each key names its attempt, so a retry
	// after an unknown outcome is another key.
	acked := map[string]uint64{}
	var ackMu sync.Mutex
	var phase atomic.Int32
	stopWrites := make(chan struct{})
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		s := apiOf(t, writer)
		for i := 0; ; i++ {
			select {
			case <-stopWrites:
				return
			default:
			}
			key := "w/" + strconv.Itoa(i)
			r, err := s.Put(ctx, command.PutRequest{Key: []byte(key), Value: []byte("v")})
			if err != nil {
				time.Sleep(20 * time.Millisecond) // election in progress: the outcome may be unknown
				continue
			}
			ackMu.Lock()
			acked[key] = r.Revision
			ackMu.Unlock()
			if i == 100 {
				phase.Store(1)
			}
		}
	}()
	c.Eventually(func() error {
		if phase.Load() == 0 {
			return errors.New("writes have not reached 100")
		}
		return nil
	})
	c.Kill(leader.Index)
	select {
	case err := <-watchDone:
		t.Logf("watch on the killed leader ended: %v", err)
	case <-time.After(testcluster.Timeout):
		t.Fatal("the watch on the killed leader did not end")
	}
	mu.Lock()
	from := last
	mu.Unlock()
	if from == "" {
		from = start
	}
	stopWatch := make(chan struct{})
	go func() { watchDone <- watch(other, from, stopWatch) }()
	// Let writes go on through the new leader, then stop them.
	c.WaitLeader()
	ackMu.Lock()
	n0 := len(acked)
	ackMu.Unlock()
	c.Eventually(func() error {
		ackMu.Lock()
		defer ackMu.Unlock()
		if len(acked) < n0+100 {
			return fmt.Errorf("%d writes after the kill", len(acked)-n0)
		}
		return nil
	})
	close(stopWrites)
	<-wrote
	// Wait until the resumed watch has seen every acknowledged write.
	c.Eventually(func() error {
		mu.Lock()
		defer mu.Unlock()
		got := map[string]bool{}
		for _, e := range events {
			got[e.key] = true
		}
		ackMu.Lock()
		defer ackMu.Unlock()
		for k := range acked {
			if !got[k] {
				return fmt.Errorf("acknowledged %s not seen yet (%d events)", k, len(events))
			}
		}
		return nil
	})
	close(stopWatch)
	<-watchDone
	mu.Lock()
	defer mu.Unlock()
	count := map[string]int{}
	for i, e := range events {
		count[e.key]++
		if count[e.key] > 1 {
			t.Fatalf("event %d: %s seen twice", i, e.key)
		}
		if i > 0 && e.rev <= events[i-1].rev {
			t.Fatalf("event %d: revision %d after %d", i, e.rev, events[i-1].rev)
		}
		if rev, ok := acked[e.key]; ok && rev != e.rev {
			t.Fatalf("%s acknowledged at revision %d, watched at %d", e.key, rev, e.rev)
		}
	}
	t.Logf("%d acknowledged writes, %d events, resumed from %q", len(acked), len(events), from)
}

// contextWithStop is a context cancelled when stop closes (nil: never).
func contextWithStop(stop <-chan struct{}) (context.Context, func()) {
	cctx, cancel := context.WithCancel(ctx)
	if stop != nil {
		go func() {
			select {
			case <-stop:
				cancel()
			case <-cctx.Done():
			}
		}()
	}
	return cctx, cancel
}

// BenchmarkCluster3APIPut: the API's Put on a 3-node cluster (fsync
// always), 50 concurrent callers on the leader, as the gRPC front door
// would call it: the number to compare with etcd's put benchmark.
func BenchmarkCluster3APIPut(b *testing.B) {
	for _, via := range []string{"leader", "follower"} {
		b.Run(via, func(b *testing.B) {
			c := testcluster.Start(b, 3)
			m := c.WaitLeader()
			if via == "follower" {
				m = c.Followers()[0]
			}
			s := apiOf(b, m)
			var seq atomic.Int64
			val := make([]byte, 256)
			b.SetParallelism(max(1, 50/runtime.GOMAXPROCS(0)))
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				key := make([]byte, 0, 32)
				for pb.Next() {
					key = strconv.AppendInt(append(key[:0], "key:"...), seq.Add(1)%100000, 10)
					if _, err := s.Put(ctx, command.PutRequest{Key: key, Value: val}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
