package replication

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"github.com/hashicorp/raft-wal/types"
)

// Measurements for metrics, without a metrics dependency: the node passes
// Hooks (callbacks it points at its Prometheus instruments) and reads
// LeaderChanges, FollowerLag and Status when it is scraped.

// Hooks receive measurements as they happen. Any may be nil. They are
// called inline on raft's, the log's and the FSM's goroutines, so they must
// be quick (an atomic add, a histogram observation), must not block and
// must not call back into Raft.
type Hooks struct {
	// LogSync: one fsync of a log file took d (in everysec mode: the
	// background sync, and the sync when a segment is sealed).
	LogSync func(d time.Duration)
	// LogAppend: raft stored a batch of entries in the log (one StoreLogs:
	// written and, in always mode, synced) in d. The batch is what group
	// commit gathered: proposals from many connections, one fsync.
	LogAppend func(entries int, d time.Duration)
	// EntryApplied: the FSM applied a command entry of ops operations (a
	// pipeline's writes form one entry).
	EntryApplied func(ops int)
	// Snapshot: a snapshot of size bytes was persisted in d.
	Snapshot func(d time.Duration, size int64)
}

func (h *Hooks) entryApplied(ops int) {
	if h.EntryApplied != nil {
		h.EntryApplied(ops)
	}
}

// wrapSnapshot times s's Persist and counts its bytes for h.Snapshot.
func (h *Hooks) wrapSnapshot(s raft.FSMSnapshot) raft.FSMSnapshot {
	if h.Snapshot == nil {
		return s
	}
	return &measuredSnapshot{FSMSnapshot: s, done: h.Snapshot}
}

type measuredSnapshot struct {
	raft.FSMSnapshot
	done func(time.Duration, int64)
}

func (s *measuredSnapshot) Persist(sink raft.SnapshotSink) error {
	start := time.Now()
	cs := &countingSink{SnapshotSink: sink}
	err := s.FSMSnapshot.Persist(cs)
	if err == nil {
		s.done(time.Since(start), cs.n)
	}
	return err
}

type countingSink struct {
	raft.SnapshotSink
	n int64
}

func (c *countingSink) Write(p []byte) (int, error) {
	n, err := c.SnapshotSink.Write(p)
	c.n += int64(n)
	return n, err
}

// StoreLogs stores a batch of entries (raft.LogStore), timing it for
// Hooks.LogAppend.
func (l *logStore) StoreLogs(logs []*raft.Log) error {
	h := l.hooks.Load()
	if h == nil || h.LogAppend == nil {
		return l.WAL.StoreLogs(logs)
	}
	start := time.Now()
	err := l.WAL.StoreLogs(logs)
	if err == nil {
		h.LogAppend(len(logs), time.Since(start))
	}
	return err
}

// syncTimedFS is the log's file system with every file's Sync timed for
// Hooks.LogSync.
type syncTimedFS struct {
	types.VFS
	ls *logStore
}

func (f syncTimedFS) Create(dir, name string, size uint64) (types.WritableFile, error) {
	w, err := f.VFS.Create(dir, name, size)
	if err != nil {
		return nil, err
	}
	return syncTimedFile{w, f.ls}, nil
}

func (f syncTimedFS) OpenWriter(dir, name string) (types.WritableFile, error) {
	w, err := f.VFS.OpenWriter(dir, name)
	if err != nil {
		return nil, err
	}
	return syncTimedFile{w, f.ls}, nil
}

type syncTimedFile struct {
	types.WritableFile
	ls *logStore
}

func (f syncTimedFile) Sync() error {
	h := f.ls.hooks.Load()
	if h == nil || h.LogSync == nil {
		return f.WritableFile.Sync()
	}
	start := time.Now()
	err := f.WritableFile.Sync()
	if err == nil {
		h.LogSync(time.Since(start))
	}
	return err
}

// raftMetrics is what Raft keeps for scrapes: leader changes and, on the
// leader, each follower's last log index as its replies report it.
type raftMetrics struct {
	leaderChanges atomic.Uint64
	mu            struct {
		sync.Mutex
		peers map[raft.ServerID]peerProgress
	}
}

// peerProgress is a follower's last log index as of a reply in term.
type peerProgress struct {
	term, lastLog uint64
}

// observe counts leader changes. It is a raft observer's filter: raft calls
// it synchronously for every observation; it never lets one through (the
// observer has no channel), so no goroutine is needed.
func (m *raftMetrics) observe(o *raft.Observation) bool {
	if lo, ok := o.Data.(raft.LeaderObservation); ok && lo.LeaderID != "" {
		m.leaderChanges.Add(1)
	}
	return false
}

// record notes a follower's reply to an AppendEntries request.
func (m *raftMetrics) record(id raft.ServerID, args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) {
	last := resp.LastLog
	if resp.Success && len(args.Entries) > 0 {
		last = max(last, args.Entries[len(args.Entries)-1].Index)
	}
	m.mu.Lock()
	if m.mu.peers == nil {
		m.mu.peers = make(map[raft.ServerID]peerProgress)
	}
	if p := m.mu.peers[id]; args.Term > p.term || args.Term == p.term && last > p.lastLog {
		m.mu.peers[id] = peerProgress{term: args.Term, lastLog: last}
	}
	m.mu.Unlock()
}

// lagTransport is raft's transport with AppendEntries replies watched: a
// follower's reply carries its last log index, and heartbeats (sent every
// tenth of the heartbeat timeout, outside the pipeline) keep it fresh.
// Everything else, optional interfaces included, is the NetworkTransport's.
type lagTransport struct {
	*raft.NetworkTransport
	m *raftMetrics
}

func (t *lagTransport) AppendEntries(id raft.ServerID, target raft.ServerAddress, args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) error {
	err := t.NetworkTransport.AppendEntries(id, target, args, resp)
	if err == nil && resp.Term == args.Term {
		t.m.record(id, args, resp)
	}
	return err
}

// LeaderChanges returns how many times this node has seen a new leader
// since it started (elections it won included).
func (rn *Raft) LeaderChanges() uint64 { return rn.metrics.leaderChanges.Load() }

// FollowerLag returns, on the leader, how many log entries each follower
// (by member id) lacks: this node's last index minus the follower's last
// log index as its latest reply in this term said (a reply arrives at least
// every tenth of the heartbeat timeout while it is reachable). A follower
// that has not replied in this term is absent. It returns nil on other
// nodes. Safe for concurrent use; it asks raft for the configuration.
func (rn *Raft) FollowerLag() map[string]uint64 {
	if !rn.IsLeader() {
		return nil
	}
	term, last := rn.r.CurrentTerm(), rn.r.LastIndex()
	members, err := rn.Members()
	if err != nil {
		return nil
	}
	out := make(map[string]uint64, len(members))
	rn.metrics.mu.Lock()
	defer rn.metrics.mu.Unlock()
	for _, mb := range members {
		p, ok := rn.metrics.mu.peers[raft.ServerID(mb.ID)]
		if mb.Self || !ok || p.term != term {
			continue
		}
		lag := uint64(0)
		if last > p.lastLog {
			lag = last - p.lastLog
		}
		out[mb.ID] = lag
	}
	return out
}
