package replication

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/skiffdb/skiff/internal/op"
	"github.com/skiffdb/skiff/internal/store"
)

// capture is a slog.Handler that keeps every record, for tests.
type capture struct {
	mu      *sync.Mutex
	records *[]slog.Record
	attrs   []slog.Attr
}

func newCapture() capture { return capture{mu: new(sync.Mutex), records: new([]slog.Record)} }

func (c capture) Enabled(context.Context, slog.Level) bool { return true }

func (c capture) Handle(_ context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(c.attrs...)
	c.mu.Lock()
	*c.records = append(*c.records, r)
	c.mu.Unlock()
	return nil
}

func (c capture) WithAttrs(as []slog.Attr) slog.Handler {
	c.attrs = append(append([]slog.Attr(nil), c.attrs...), as...)
	return c
}

func (c capture) WithGroup(string) slog.Handler { return c }

// find returns the attributes of the records with message msg.
func (c capture) find(msg string) []map[string]slog.Value {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []map[string]slog.Value
	for _, r := range *c.records {
		if r.Message != msg {
			continue
		}
		m := map[string]slog.Value{"level": slog.StringValue(r.Level.String())}
		r.Attrs(func(a slog.Attr) bool {
			m[a.Key] = a.Value.Resolve()
			return true
		})
		out = append(out, m)
	}
	return out
}

// openOne starts a one-node cluster on an ephemeral port and waits until it
// leads. It is closed when the test ends.
func openOne(t *testing.T, st *store.Store, log *slog.Logger) *Raft {
	t.Helper()
	rn, err := Open(Options{
		NodeID: "n1", RaftAddr: "127.0.0.1:0", DataDir: t.TempDir(), Bootstrap: true, Store: st, Logger: log,
		HeartbeatTimeout: 200 * time.Millisecond, ElectionTimeout: 200 * time.Millisecond, LeaderLeaseTimeout: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rn.Close() })
	deadline := time.Now().Add(20 * time.Second)
	for !rn.IsLeader() {
		if time.Now().After(deadline) {
			t.Fatal("no leader")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return rn
}

// set applies SET key value db through the log.
func set(t *testing.T, rn *Raft, db int, key, value string) {
	t.Helper()
	entry := op.Encode(&op.Op{Code: op.Set, DB: db, Time: 1, Args: [][]byte{[]byte(key), []byte(value), []byte("0"), []byte("0")}})
	if _, err := rn.Apply(context.Background(), entry); err != nil {
		t.Fatalf("apply: %v", err)
	}
}

// TestLogEvents_SnapshotAndLeader: a snapshot logs its size and duration at
// info; becoming leader logs the leader and term.
func TestLogEvents_SnapshotAndLeader(t *testing.T) {
	c := newCapture()
	rn := openOne(t, store.New(store.Options{}), slog.New(c))
	for i := range 100 {
		set(t, rn, 0, "k"+strconv.Itoa(i), "value")
	}
	if err := rn.Snapshot(); err != nil {
		t.Fatal(err)
	}
	recs := c.find("snapshot written")
	if len(recs) != 1 {
		t.Fatalf("%d \"snapshot written\" records, want 1", len(recs))
	}
	r := recs[0]
	if r["level"].String() != "INFO" || r["bytes"].Int64() < int64(100*len("k00value")) || r["duration_ms"].Kind() != slog.KindFloat64 ||
		r["duration_ms"].Float64() <= 0 || r["applied_index"].Uint64() == 0 || r["snapshot_id"].String() == "" {
		t.Fatalf("snapshot written: %v", r)
	}

	var leader []map[string]slog.Value
	for deadline := time.Now().Add(5 * time.Second); len(leader) == 0 && time.Now().Before(deadline); {
		leader = c.find("leader changed")
		time.Sleep(10 * time.Millisecond)
	}
	if len(leader) == 0 || leader[len(leader)-1]["leader_id"].String() != "n1" || !leader[len(leader)-1]["self"].Bool() ||
		leader[len(leader)-1]["term"].Uint64() == 0 {
		t.Fatalf("leader changed: %v", leader)
	}
}

// TestLogEvents_SlowLogWrite: a log write slower than slowSync is logged
// with its duration.
func TestLogEvents_SlowLogWrite(t *testing.T) {
	c := newCapture()
	ls, err := openLogStore(t.TempDir(), FsyncAlways, 0, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Close()
	tl := timedLogStore{ls, slog.New(c)}
	if err := tl.StoreLogs(nil); err != nil {
		t.Fatal(err)
	}
	tl.noteWrite(10*time.Millisecond, 3)
	if got := c.find("slow log write"); len(got) != 0 {
		t.Fatalf("fast writes were logged: %v", got)
	}
	tl.noteWrite(600*time.Millisecond, 3)
	got := c.find("slow log write")
	if len(got) != 1 || got[0]["level"].String() != "WARN" || got[0]["duration_ms"].Float64() != 600 ||
		got[0]["entries"].Int64() != 3 || got[0]["fsync"].String() != "always" {
		t.Fatalf("slow log write: %v", got)
	}
}
