package replication

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/skiffdb/skiff/internal/store"
)

// Errors. The edges map them to retriable client errors.
var (
	// ErrNotLeader: this node is not the leader; the request must go to the leader.
	ErrNotLeader = errors.New("replication: not leader")
	// ErrNoLeader: no leader is known (election in progress or no quorum).
	ErrNoLeader = errors.New("replication: no leader")
	// ErrOutcomeUnknown: leadership was lost after the entry was proposed;
	// it may or may not be committed.
	ErrOutcomeUnknown = errors.New("replication: leadership lost, outcome unknown")
	// ErrClosed: the node is shutting down.
	ErrClosed = errors.New("replication: closed")
	// ErrTimeout: the proposal could not be enqueued in time.
	ErrTimeout = errors.New("replication: timed out")
)

// Member is a cluster member as the configuration names it.
type Member struct {
	ID     string
	Addr   string // Raft address
	Voter  bool
	Leader bool
	Self   bool
}

// Options configures a replicated node.
type Options struct {
	NodeID   string
	RaftAddr string // bind address; the advertised address is the bound one
	DataDir  string // log in DataDir/raft/wal, snapshots in DataDir/raft/snapshots
	// Bootstrap a new cluster with Servers (or just this node when empty) if
	// there is no existing state. A node that joins an existing cluster
	// starts with Bootstrap false and is added by the leader.
	Bootstrap bool
	Servers   []Member
	Fsync     Fsync
	// SnapshotEntries: snapshot after this many new log entries (default 8192).
	SnapshotEntries uint64
	// SnapshotInterval: how often to check whether to snapshot (default 30s).
	SnapshotInterval time.Duration
	// SnapshotBytes: also snapshot once this many bytes of entries were
	// applied since the last snapshot (checked every second; 0 = 64 MiB).
	SnapshotBytes int64
	// TrailingLogs kept after a snapshot for followers slightly behind (default 10240).
	TrailingLogs uint64
	// LogSegmentBytes is the size of a log segment file (default 64 MiB).
	// Compaction frees whole segments; entries of a partly compacted segment
	// stay readable, so followers within one segment catch up from the log.
	LogSegmentBytes int
	// Timeouts (0 = defaults: heartbeat and election 500ms, lease 250ms;
	// heartbeats go out every tenth of the heartbeat timeout).
	HeartbeatTimeout, ElectionTimeout, LeaderLeaseTimeout time.Duration
	Store                                                 *store.Store
	Logger                                                *slog.Logger
	// Hooks receive measurements for metrics (metrics.go); zero = none.
	Hooks Hooks
}

// Raft is a replicated node: hashicorp/raft over the skiff FSM.
type Raft struct {
	r      *raft.Raft
	fsm    *fsm
	logs   *logStore
	stream *streamLayer
	trans  *raft.NetworkTransport
	log    *slog.Logger
	id     raft.ServerID
	reads  readBatcher
	closed atomic.Bool
	// metrics: leader changes and followers' progress (metrics.go)
	metrics raftMetrics
	// readyTerm is the term whose barrier has completed (linearizable reads
	// need it, see reads.go); 0 = none.
	readyTerm atomic.Uint64
	downCh    chan struct{} // closed once raft has shut down
	bytesDone chan struct{} // closed when the snapshot-by-size watcher ends
	events    eventLog      // logs leader changes (logevents.go)
	restore   restoreState  // restore.go
}

// Open starts the node: opens (or recovers) the log and the latest
// snapshot, replays, and joins the Raft protocol. It returns once Raft runs;
// a leader may not be known yet (see WaitLeader).
func Open(opts Options) (*Raft, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Fsync == "" {
		opts.Fsync = FsyncAlways
	}
	dir := filepath.Join(opts.DataDir, "raft")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	rn := &Raft{log: opts.Logger, id: raft.ServerID(opts.NodeID), downCh: make(chan struct{}), bytesDone: make(chan struct{})}
	rn.fsm = &fsm{st: opts.Store, log: opts.Logger, hooks: opts.Hooks}
	rn.restore.dir = dir
	rn.reads.r = rn
	var err error
	cleanup := func() {
		if rn.trans != nil {
			rn.trans.Close()
		} else if rn.stream != nil {
			rn.stream.Close()
		}
		if rn.logs != nil {
			rn.logs.Close()
		}
	}
	if rn.logs, err = openLogStore(filepath.Join(dir, "wal"), opts.Fsync, opts.LogSegmentBytes, opts.Logger); err != nil {
		return nil, err
	}
	rn.logs.hooks.Store(&opts.Hooks)
	snaps, err := raft.NewFileSnapshotStoreWithLogger(filepath.Join(dir, "snapshots"), 2, newHCLogger("raft-snapshots", opts.Logger))
	if err != nil {
		cleanup()
		return nil, err
	}
	if rn.stream, err = newStreamLayer(opts.RaftAddr); err != nil {
		cleanup()
		return nil, fmt.Errorf("replication: raft listen on %s: %w", opts.RaftAddr, err)
	}
	rn.trans = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  rn.stream,
		MaxPool: 4,
		Timeout: 10 * time.Second,
		Logger:  newHCLogger("raft-net", opts.Logger),
	})

	conf := raft.DefaultConfig()
	conf.LocalID = rn.id
	conf.Logger = newHCLogger("raft", opts.Logger)
	conf.SnapshotThreshold = orDefault(opts.SnapshotEntries, 8192)
	conf.TrailingLogs = orDefault(opts.TrailingLogs, 10240)
	conf.SnapshotInterval = orDefaultDur(opts.SnapshotInterval, 30*time.Second)
	conf.HeartbeatTimeout = orDefaultDur(opts.HeartbeatTimeout, 500*time.Millisecond)
	conf.ElectionTimeout = orDefaultDur(opts.ElectionTimeout, 500*time.Millisecond)
	conf.LeaderLeaseTimeout = orDefaultDur(opts.LeaderLeaseTimeout, 250*time.Millisecond)
	conf.MaxAppendEntries = 1024
	// An unbuffered apply channel still group-commits (the leader drains every
	// proposer blocked on it into one batch), and unlike BatchApplyCh it never
	// strands a future in a buffer at shutdown: raft would never answer it
	// and Apply would wait forever.
	conf.BatchApplyCh = false
	conf.NoLegacyTelemetry = true

	existing, err := raft.HasExistingState(rn.logs, rn.logs, snaps)
	if err != nil {
		cleanup()
		return nil, err
	}
	if !existing && opts.Bootstrap {
		servers := opts.Servers
		if len(servers) == 0 {
			servers = []Member{{ID: opts.NodeID, Addr: rn.Addr(), Voter: true}}
		}
		cfg := raft.Configuration{}
		for _, m := range servers {
			cfg.Servers = append(cfg.Servers, raft.Server{ID: raft.ServerID(m.ID), Address: raft.ServerAddress(m.Addr), Suffrage: raft.Voter})
		}
		if err := raft.BootstrapCluster(conf, rn.logs, rn.logs, snaps, rn.trans, cfg); err != nil {
			cleanup()
			return nil, fmt.Errorf("replication: bootstrap: %w", err)
		}
	}
	// The leader reads every entry back to send it to each follower: from
	// the WAL that is a pread per entry (9.5% of a leader's CPU under gRPC
	// puts); the cache serves the recent ones from memory.
	logs, err := raft.NewLogCache(logCacheEntries, timedLogStore{rn.logs, rn.log})
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("replication: log cache: %w", err)
	}
	if rn.r, err = raft.NewRaft(conf, rn.fsm, logs, rn.logs, snaps, &lagTransport{rn.trans, &rn.metrics}); err != nil {
		cleanup()
		return nil, fmt.Errorf("replication: start raft: %w", err)
	}
	rn.r.RegisterObserver(raft.NewObserver(nil, false, rn.metrics.observe))
	limit := opts.SnapshotBytes
	if limit <= 0 {
		limit = 64 << 20
	}
	go rn.snapshotBySize(limit)
	rn.events.start(rn)
	return rn, nil
}

func orDefault(v, d uint64) uint64 {
	if v == 0 {
		return d
	}
	return v
}

func orDefaultDur(v, d time.Duration) time.Duration {
	if v == 0 {
		return d
	}
	return v
}

// logCacheEntries is how many recent log entries (each a batch of
// operations) the leader keeps in memory for replication.
const logCacheEntries = 256

// Addr is this node's Raft address.
func (rn *Raft) Addr() string { return rn.stream.Addr().String() }

// ID is this node's id.
func (rn *Raft) ID() string { return string(rn.id) }

// Apply replicates entry (encoded operations) and returns the FSM's response
// for it ([]store.Result) once it is committed and applied on this node, the
// leader. Errors: ErrNotLeader, ErrOutcomeUnknown, ErrClosed, ErrTimeout.
// ctx bounds only the wait to enqueue; once proposed, the call returns when
// the entry is applied or leadership is lost.
func (rn *Raft) Apply(ctx context.Context, entry []byte) (any, error) {
	timeout := 5 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	f := rn.r.Apply(entry, timeout)
	if err := rn.wait(f); err != nil {
		return nil, rn.notLeaderErr(mapRaftErr(err))
	}
	resp := f.Response()
	if err, ok := resp.(error); ok {
		return nil, err
	}
	return resp, nil
}

func mapRaftErr(err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader):
		return ErrNotLeader
	case errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrAbortedByRestore):
		return ErrOutcomeUnknown
	case errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return ErrNotLeader
	case errors.Is(err, raft.ErrRaftShutdown):
		return ErrClosed
	case errors.Is(err, raft.ErrEnqueueTimeout):
		return ErrTimeout
	}
	return err
}

// notLeaderErr refines ErrNotLeader into ErrNoLeader when no leader is known.
func (rn *Raft) notLeaderErr(err error) error {
	if errors.Is(err, ErrNotLeader) {
		if id, _ := rn.Leader(); id == "" {
			return ErrNoLeader
		}
	}
	return err
}

// IsLeader reports whether this node is the leader now.
func (rn *Raft) IsLeader() bool { return rn.r.State() == raft.Leader }

// Leader returns the known leader's id and Raft address ("" when none).
func (rn *Raft) Leader() (id, addr string) {
	a, i := rn.r.LeaderWithID()
	return string(i), string(a)
}

// WaitLeader waits until some leader is known.
func (rn *Raft) WaitLeader(ctx context.Context) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		if id, _ := rn.Leader(); id != "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// ReadBarrier makes a linearizable read possible on this node: it confirms
// leadership with a quorum (one round shared by all concurrent callers) and
// waits until the FSM has applied everything committed before the call.
// Errors: ErrNotLeader (the read must go to the leader), ErrOutcomeUnknown is
// never returned, ctx errors.
func (rn *Raft) ReadBarrier(ctx context.Context) error {
	if !rn.IsLeader() {
		return rn.notLeaderErr(ErrNotLeader)
	}
	return rn.notLeaderErr(rn.reads.wait(ctx))
}

// Members returns the current configuration.
func (rn *Raft) Members() ([]Member, error) {
	f := rn.r.GetConfiguration()
	if err := rn.wait(f); err != nil {
		return nil, mapRaftErr(err)
	}
	lid, _ := rn.Leader()
	var out []Member
	for _, s := range f.Configuration().Servers {
		out = append(out, Member{
			ID: string(s.ID), Addr: string(s.Address), Voter: s.Suffrage == raft.Voter,
			Leader: string(s.ID) == lid, Self: s.ID == rn.id,
		})
	}
	return out, nil
}

// AddVoter adds (or updates) a voting member; leader only.
func (rn *Raft) AddVoter(id, addr string) error {
	f := rn.r.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, 10*time.Second)
	if err := rn.wait(f); err != nil {
		return mapRaftErr(err)
	}
	rn.log.Info("member added", "member_id", id, "member_addr", addr, "index", f.Index())
	return nil
}

// RemoveServer removes a member; leader only.
func (rn *Raft) RemoveServer(id string) error {
	f := rn.r.RemoveServer(raft.ServerID(id), 0, 10*time.Second)
	if err := rn.wait(f); err != nil {
		return mapRaftErr(err)
	}
	rn.log.Info("member removed", "member_id", id, "index", f.Index())
	return nil
}

// TransferLeadership hands leadership to id (any up-to-date voter when id is "").
func (rn *Raft) TransferLeadership(id string) error {
	if id == "" {
		return mapRaftErr(rn.wait(rn.r.LeadershipTransfer()))
	}
	ms, err := rn.Members()
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.ID == id {
			return mapRaftErr(rn.wait(rn.r.LeadershipTransferToServer(raft.ServerID(id), raft.ServerAddress(m.Addr))))
		}
	}
	return fmt.Errorf("replication: no member %q", id)
}

// Snapshot takes a snapshot now (and compacts the log).
func (rn *Raft) Snapshot() error { return mapRaftErr(rn.wait(rn.r.Snapshot())) }

// wait returns f's error, or ErrRaftShutdown once this node has shut down:
// hashicorp/raft can leave a request queued at shutdown unanswered forever
// (hashicorp/raft#498), and nothing else would unblock its waiter. The
// helper goroutine of such a request stays blocked; only shutdown strands it.
func (rn *Raft) wait(f raft.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-rn.downCh:
		return raft.ErrRaftShutdown
	}
}

// Status is what INFO replication and the Cluster API report.
type Status struct {
	State        string // Leader, Follower, Candidate, Shutdown
	Term         uint64
	CommitIndex  uint64
	AppliedIndex uint64 // the last entry the store has applied (FSM commands only)
	// LogApplied is the last log entry raft has handed on, including its own
	// entries that never reach the store (the no-op of each term,
	// configuration changes): caught up when it reaches CommitIndex.
	LogApplied   uint64
	LastIndex    uint64
	LastSnapshot uint64
	FirstIndex   uint64 // oldest entry still in the log (older ones are in the snapshot)
}

// Status returns the node's Raft state.
func (rn *Raft) Status() Status {
	st := rn.r.Stats()
	u := func(k string) uint64 { n, _ := strconv.ParseUint(st[k], 10, 64); return n }
	first, _ := rn.logs.FirstIndex()
	return Status{
		State: rn.r.State().String(), Term: u("term"), CommitIndex: rn.r.CommitIndex(),
		AppliedIndex: rn.fsm.applied.Load(), LogApplied: rn.r.AppliedIndex(), LastIndex: rn.r.LastIndex(), LastSnapshot: u("last_snapshot_index"),
		FirstIndex: first,
	}
}

// DialLeader opens a connection to the leader's Raft address, which also
// serves forwarded RESP requests (see streamLayer). Errors: ErrNoLeader,
// ErrNotLeader when this node is the leader, dial errors.
func (rn *Raft) DialLeader(ctx context.Context) (net.Conn, string, error) {
	id, addr := rn.Leader()
	switch {
	case id == "":
		return nil, "", ErrNoLeader
	case raft.ServerID(id) == rn.id:
		return nil, "", ErrNotLeader
	}
	timeout := 5 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	c, err := rn.stream.Dial(raft.ServerAddress(addr), timeout)
	return c, addr, err
}

// SetForwardHandler sets the function that serves RESP connections
// forwarded by followers to this node's Raft port.
// Restores streamed by followers arrive the same way (restore.go).
func (rn *Raft) SetForwardHandler(fn func(net.Conn)) { rn.stream.setForwardHandler(rn.restoreHook(fn)) }

// snapshotBySize takes a snapshot when the entries applied since the last
// one exceed limit bytes (raft itself triggers only on entry counts).
func (rn *Raft) snapshotBySize(limit int64) {
	defer close(rn.bytesDone)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-rn.downCh:
			return
		case <-t.C:
			if rn.fsm.bytes.Load() >= limit {
				if err := rn.Snapshot(); err != nil {
					rn.log.Warn("snapshot by size failed", "err", err)
				}
			}
		}
	}
}

// Isolate cuts (true) or restores (false) all of this node's Raft traffic.
// For tests: it is how the cluster harness partitions a node.
func (rn *Raft) Isolate(on bool) { rn.stream.setIsolated(on) }

// Close shuts down gracefully: stops Raft, closes the transport and syncs
// and closes the log.
func (rn *Raft) Close() error {
	if rn.closed.Swap(true) {
		return nil
	}
	err := rn.r.Shutdown().Error()
	close(rn.downCh)
	<-rn.bytesDone
	rn.events.wait()
	rn.trans.Close()
	if cerr := rn.logs.Close(); err == nil {
		err = cerr
	}
	return err
}

// Kill stops the node the way a crash would, as far as a process can do it
// to itself: traffic is cut first, nothing is flushed or snapshotted, and the
// log is abandoned without a final sync (in everysec mode unsynced entries
// stay only in the OS page cache). Goroutines and ports are released so the
// node can be restarted in the same process. For tests.
func (rn *Raft) Kill() {
	if rn.closed.Swap(true) {
		return
	}
	rn.Isolate(true)
	_ = rn.r.Shutdown().Error()
	close(rn.downCh)
	<-rn.bytesDone
	rn.events.wait()
	rn.trans.Close()
	if rn.logs.deferred != nil {
		rn.logs.deferred.abandon()
	}
	rn.logs.WAL.Close()
	rn.logs.meta.Close()
}
