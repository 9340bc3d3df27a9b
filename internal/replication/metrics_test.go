package replication

import (
	"bytes"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// hookCounts records what Hooks report.
type hookCounts struct {
	syncs, appends, entries atomic.Int64
	mu                      sync.Mutex
	batches                 []int
	snapBytes               int64
}

func (h *hookCounts) hooks() *Hooks {
	return &Hooks{
		LogSync: func(time.Duration) { h.syncs.Add(1) },
		LogAppend: func(n int, _ time.Duration) {
			h.appends.Add(1)
			h.entries.Add(int64(n))
			h.mu.Lock()
			h.batches = append(h.batches, n)
			h.mu.Unlock()
		},
		Snapshot: func(_ time.Duration, size int64) {
			h.mu.Lock()
			h.snapBytes = size
			h.mu.Unlock()
		},
	}
}

// The log reports each StoreLogs batch and each real fsync: one per batch
// in always mode, only the background (and sealing) syncs in everysec mode.
func TestLogStore_Hooks(t *testing.T) {
	for _, mode := range []Fsync{FsyncAlways, FsyncEverySec} {
		t.Run(string(mode), func(t *testing.T) {
			ls, err := openLogStore(t.TempDir(), mode, 1<<20, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			var h hookCounts
			ls.hooks.Store(h.hooks())
			for b := 0; b < 5; b++ {
				storeN(t, ls, 1+b*3, 3)
			}
			if got := h.appends.Load(); got != 5 {
				t.Errorf("appends = %d, want 5", got)
			}
			if got := h.entries.Load(); got != 15 {
				t.Errorf("entries = %d, want 15", got)
			}
			syncs := h.syncs.Load()
			switch mode {
			case FsyncAlways:
				if syncs < 5 {
					t.Errorf("always: %d fsyncs for 5 batches", syncs)
				}
			case FsyncEverySec:
				if syncs >= 5 {
					t.Errorf("everysec: %d fsyncs for 5 batches: syncs are not deferred", syncs)
				}
			}
			if err := ls.Close(); err != nil {
				t.Fatal(err)
			}
			if mode == FsyncEverySec && h.syncs.Load() == syncs {
				t.Error("everysec: the sync at Close was not reported")
			}
		})
	}
}

// The hooks are optional: none set costs the log nothing but a load.
func TestLogStore_NoHooks(t *testing.T) {
	ls, err := openLogStore(t.TempDir(), FsyncAlways, 1<<20, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Close()
	storeN(t, ls, 1, 2)
	ls.hooks.Store(&Hooks{})
	storeN(t, ls, 3, 2)
}

type fakeSnapshot struct{ body []byte }

func (s fakeSnapshot) Persist(sink raft.SnapshotSink) error {
	_, err := sink.Write(s.body)
	return err
}
func (fakeSnapshot) Release() {}

type bufSink struct{ bytes.Buffer }

func (*bufSink) ID() string    { return "test" }
func (*bufSink) Cancel() error { return nil }
func (*bufSink) Close() error  { return nil }

func TestHooks_Snapshot(t *testing.T) {
	var none Hooks
	if _, wrapped := none.wrapSnapshot(fakeSnapshot{}).(*measuredSnapshot); wrapped {
		t.Error("no Snapshot hook: the snapshot must not be wrapped")
	}
	var h hookCounts
	snap := h.hooks().wrapSnapshot(fakeSnapshot{body: make([]byte, 1234)})
	var sink bufSink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	if h.snapBytes != 1234 || sink.Len() != 1234 {
		t.Errorf("snapshot bytes: hook %d, written %d, want 1234", h.snapBytes, sink.Len())
	}
}

// Leader changes count observations naming a leader; losing one (an empty
// id) is not a change.
func TestRaftMetrics_LeaderChanges(t *testing.T) {
	var m raftMetrics
	for _, o := range []any{
		raft.LeaderObservation{LeaderID: "n1"},
		raft.LeaderObservation{},
		raft.PeerObservation{},
		raft.LeaderObservation{LeaderID: "n2"},
	} {
		if m.observe(&raft.Observation{Data: o}) {
			t.Fatal("the filter let an observation through: the observer has no channel")
		}
	}
	if got := m.leaderChanges.Load(); got != 2 {
		t.Errorf("leader changes = %d, want 2", got)
	}
}

// A follower's progress is its reply's LastLog, or the last entry it
// accepted; it never goes back within a term, and a new term replaces it.
func TestRaftMetrics_FollowerProgress(t *testing.T) {
	var m raftMetrics
	hb := func(term, last uint64) {
		m.record("n2", &raft.AppendEntriesRequest{Term: term}, &raft.AppendEntriesResponse{Term: term, LastLog: last, Success: true})
	}
	hb(2, 10)
	m.record("n2", &raft.AppendEntriesRequest{Term: 2, Entries: []*raft.Log{{Index: 11}, {Index: 12}}},
		&raft.AppendEntriesResponse{Term: 2, LastLog: 10, Success: true})
	if p := m.mu.peers["n2"]; p.lastLog != 12 || p.term != 2 {
		t.Fatalf("after appending 11-12: %+v", p)
	}
	hb(2, 9) // a reordered older reply
	if p := m.mu.peers["n2"]; p.lastLog != 12 {
		t.Fatalf("progress went back: %+v", p)
	}
	hb(3, 5) // a new term (a truncated log)
	if p := m.mu.peers["n2"]; p.lastLog != 5 || p.term != 3 {
		t.Fatalf("new term not taken: %+v", p)
	}
}
