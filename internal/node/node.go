package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/skiffdb/skiff/internal/command"
	"github.com/skiffdb/skiff/internal/config"
	"github.com/skiffdb/skiff/internal/engine"
	"github.com/skiffdb/skiff/internal/replication"
	"github.com/skiffdb/skiff/internal/resp"
	"github.com/skiffdb/skiff/internal/respserver"
	"github.com/skiffdb/skiff/internal/store"
	"github.com/skiffdb/skiff/internal/telemetry"
)

// Node is one skiff server: the store, the engine, the command layer and
// the front doors, wired together. The binary and the tests start nodes only
// through New and Run.
type Node struct {
	cfg    config.Config
	log    *slog.Logger
	store  *store.Store
	raft   *replication.Raft
	engine *engine.Engine
	exec   *command.Server
	resp   *respserver.Server
	front  *frontDoors // gRPC and REST
	// stopTracing flushes and stops the tracer provider the node set up.
	stopTracing func(context.Context) error
	// ctx is cancelled when Run's shutdown is complete; commands use it.
	ctx    context.Context
	cancel context.CancelFunc
}

// New builds a node and binds its listeners, so an address already in use is
// reported here. Call Run to serve; if Run is never called, call Close.
func New(cfg config.Config, log *slog.Logger) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("node: data dir: %w", err)
	}
	// Bind the client port first: a port in use is reported before anything starts.
	ln, err := net.Listen("tcp", cfg.RedisAddr)
	if err != nil {
		return nil, fmt.Errorf("node: RESP listen on %s: %w", cfg.RedisAddr, err)
	}
	id, err := nodeID(cfg)
	if err != nil {
		ln.Close()
		return nil, err
	}
	cfg.NodeID = id
	tp, stopTracing, err := tracing(cfg, log.With("node_id", id, "component", "tracing"))
	if err != nil {
		ln.Close()
		return nil, err
	}
	built := false
	defer func() {
		if !built {
			_ = stopTracing(context.Background())
		}
	}()
	n := &Node{cfg: cfg, log: log.With("node_id", id), stopTracing: stopTracing}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	n.store = store.New(store.Options{Databases: cfg.Databases})
	metrics := telemetry.NewMetrics() // this node's Prometheus registry, served at GET /metrics
	if n.raft, err = openRaft(cfg, n.store, n.log, metrics); err != nil {
		n.cancel()
		ln.Close()
		return nil, err
	}
	n.engine = engine.New(n.store, engine.Options{Logger: n.log.With("component", "engine"), Log: n.raft, TracerProvider: tp})
	params := map[string]string{"databases": strconv.Itoa(cfg.Databases), "maxclients": strconv.Itoa(cfg.MaxClients)}
	if cfg.RequirePass != "" {
		params["requirepass"] = cfg.RequirePass
	}
	exec, err := command.NewServer(n.ctx, command.Options{
		Engine:   n.engine,
		Logger:   log.With("component", "command"),
		Version:  config.Version,
		RESPAddr: cfg.RedisAddr,
		Params:   params,
		Cluster:  clusterAdapter{n.raft},
		Metrics:  metrics,
	})
	if err == nil { // what a scrape reads: commands, clients, keyspace; Raft
		err = errors.Join(metrics.AddServer(exec), metrics.AddRaft(raftStats(n.raft)))
	}
	if err != nil {
		n.cancel()
		n.raft.Close()
		ln.Close()
		return nil, err
	}
	n.exec = exec
	// The change feed: every entry this node applies reaches its clients
	// (pub/sub, keyspace events, blocked commands, tracking).
	n.store.SetListener(exec.OnEvent)
	n.resp, err = respserver.Listen(respserver.Options{
		Listener:   ln,
		Exec:       exec,
		Logger:     log.With("component", "resp"),
		MaxClients: cfg.MaxClients,
	})
	if err != nil {
		n.cancel()
		n.raft.Close()
		return nil, fmt.Errorf("node: RESP listen on %s: %w", cfg.RedisAddr, err)
	}
	exec.SetAddr(n.RESPAddr())
	if n.front, err = listenFrontDoors(cfg, exec, n.log, tp, metrics); err != nil {
		n.cancel()
		n.raft.Close()
		n.resp.Abort()
		return nil, err
	}
	// Requests forwarded by followers arrive on the Raft port.
	n.raft.SetForwardHandler(n.resp.ServeInternal)
	built = true
	return n, nil
}

// tracing returns the node's tracer provider: the one the test injected
// (config.Config.TracerProvider), else the one the OTEL_* environment
// describes (a no-op provider unless it names an exporter), and its shutdown.
func tracing(cfg config.Config, log *slog.Logger) (trace.TracerProvider, func(context.Context) error, error) {
	if cfg.TracerProvider != nil {
		return cfg.TracerProvider, func(context.Context) error { return nil }, nil
	}
	return telemetry.Setup(context.Background(), log,
		attribute.String("service.instance.id", cfg.NodeID), attribute.String("service.version", config.BuildVersion()))
}

// shutdownTracing exports the spans still buffered, for a few seconds at most.
func (n *Node) shutdownTracing() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return n.stopTracing(ctx)
}

// clusterAdapter presents replication to the command layer.
type clusterAdapter struct{ r *replication.Raft }

func (a clusterAdapter) Status() command.ClusterStatus {
	st := a.r.Status()
	lid, laddr := a.r.Leader()
	out := command.ClusterStatus{
		NodeID: a.r.ID(), RaftAddr: a.r.Addr(), State: st.State, LeaderID: lid, LeaderRaftAddr: laddr,
		Term: st.Term, CommitIndex: st.CommitIndex, Applied: st.AppliedIndex, LogApplied: st.LogApplied, LastIndex: st.LastIndex, LastSnapshot: st.LastSnapshot,
	}
	members, _ := a.r.Members()
	for _, m := range members {
		out.Members = append(out.Members, command.ClusterMember{ID: m.ID, RaftAddr: m.Addr, Voter: m.Voter, Leader: m.Leader, Self: m.Self})
	}
	return out
}

func (a clusterAdapter) AddVoter(id, addr string) error     { return a.r.AddVoter(id, addr) }
func (a clusterAdapter) RemoveServer(id string) error       { return a.r.RemoveServer(id) }
func (a clusterAdapter) TransferLeadership(id string) error { return a.r.TransferLeadership(id) }
func (a clusterAdapter) Snapshot() error                    { return a.r.Snapshot() }
func (a clusterAdapter) Restore(r io.Reader) error          { return a.r.Restore(r) }
func (a clusterAdapter) LastSnapshotTime() time.Time        { return a.r.LastSnapshotTime() }

// openRaft opens the replicated log: a new one-node cluster on first start
// unless the node joins one (--join) or all members are listed
// (--initial-cluster).
func openRaft(cfg config.Config, st *store.Store, log *slog.Logger, metrics *telemetry.Metrics) (*replication.Raft, error) {
	fsync, err := replication.ParseFsync(cfg.Fsync)
	if err != nil {
		return nil, err
	}
	peers, err := cfg.Peers()
	if err != nil {
		return nil, err
	}
	opts := replication.Options{
		NodeID:          cfg.NodeID,
		RaftAddr:        cfg.RaftAddr,
		DataDir:         cfg.DataDir,
		Bootstrap:       cfg.Bootstrap || (cfg.Join == "" && len(peers) == 0) || len(peers) > 0,
		Fsync:           fsync,
		SnapshotEntries: uint64(cfg.SnapshotEntries),
		SnapshotBytes:   int64(cfg.SnapshotMB) << 20,
		TrailingLogs:    uint64(cfg.TrailingLogs),
		LogSegmentBytes: cfg.LogSegmentBytes,
		Store:           st,
		Logger:          log.With("component", "raft"),
		Hooks:           raftHooks(metrics),
	}
	for _, p := range peers {
		opts.Servers = append(opts.Servers, replication.Member{ID: p.ID, Addr: p.RaftAddr, Voter: true})
	}
	if cfg.RaftTimeout > 0 {
		opts.HeartbeatTimeout, opts.ElectionTimeout, opts.LeaderLeaseTimeout = cfg.RaftTimeout, cfg.RaftTimeout, cfg.RaftTimeout/2
	}
	return replication.Open(opts)
}

// raftHooks points replication's measurements at the node's histograms.
func raftHooks(m *telemetry.Metrics) replication.Hooks {
	return replication.Hooks{LogSync: m.ObserveLogSync, LogAppend: m.ObserveLogAppend, EntryApplied: m.ObserveEntryOps, Snapshot: m.ObserveSnapshot}
}

// raftStats reads replication's state for a metrics scrape.
func raftStats(r *replication.Raft) func() telemetry.RaftStats {
	return func() telemetry.RaftStats {
		st := r.Status()
		return telemetry.RaftStats{
			State: st.State, Term: st.Term, CommitIndex: st.CommitIndex, AppliedIndex: st.LogApplied, LastIndex: st.LastIndex,
			SnapshotIndex: st.LastSnapshot, LeaderChanges: r.LeaderChanges(), FollowerLag: r.FollowerLag(),
		}
	}
}

// nodeID returns the configured id, or the one kept in the data dir,
// generating and keeping one on first start.
func nodeID(cfg config.Config) (string, error) {
	if cfg.NodeID != "" {
		return cfg.NodeID, nil
	}
	path := filepath.Join(cfg.DataDir, "node-id")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	var r [4]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	id := "skiff-" + hex.EncodeToString(r[:])
	if err := os.WriteFile(path, []byte(id+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("node: keep node id: %w", err)
	}
	return id, nil
}

// RESPAddr returns the bound RESP address (host:port), useful with port 0.
func (n *Node) RESPAddr() string { return n.resp.Addr().String() }

// GRPCAddr and HTTPAddr return the bound gRPC and REST addresses ("" when
// that front door is off).
func (n *Node) GRPCAddr() string { return addrOf(n.front.grpcLn) }

func (n *Node) HTTPAddr() string { return addrOf(n.front.httpLn) }

// Command returns the node's command layer (the API the front doors call).
func (n *Node) Command() *command.Server { return n.exec }

// Store returns the node's store (tests compare digests).
func (n *Node) Store() *store.Store { return n.store }

// Run serves until ctx ends, then shuts down in order: stop accepting, let
// connections finish the commands they have read, stop the engine. It returns
// nil after a clean shutdown.
func (n *Node) Run(ctx context.Context) error {
	n.log.Info("skiff started",
		"version", config.BuildVersion(),
		"resp_addr", n.RESPAddr(),
		"raft_addr", n.raft.Addr(),
		"grpc_addr", n.GRPCAddr(),
		"http_addr", n.HTTPAddr(),
		"data_dir", n.cfg.DataDir,
		"fsync", n.cfg.Fsync,
		"pid", os.Getpid())
	engCtx, stopEngine := context.WithCancel(context.Background())
	engDone := make(chan error, 1)
	go func() { engDone <- n.engine.Run(engCtx) }()
	if n.cfg.Join != "" {
		go n.join(ctx)
	}

	n.front.serve()
	stopFront := context.AfterFunc(ctx, n.front.stop)
	defer stopFront()
	err := n.resp.Serve(ctx)
	n.front.stop()
	stopEngine()
	if eerr := <-engDone; err == nil {
		err = eerr
	}
	n.cancel()
	if rerr := n.raft.Close(); err == nil && rerr != nil {
		err = fmt.Errorf("node: close raft: %w", rerr)
	}
	if terr := n.shutdownTracing(); terr != nil {
		n.log.Warn("tracing shutdown", "err", terr)
	}
	n.log.Info("skiff stopped")
	return err
}

// WaitReady waits until the node knows a leader (and, when it leads, can
// accept writes).
func (n *Node) WaitReady(ctx context.Context) error { return n.raft.WaitLeader(ctx) }

// join asks the cluster at cfg.Join (any member's RESP address; a follower
// forwards it to the leader) to add this node as a voter, retrying until it
// is a member or ctx ends.
func (n *Node) join(ctx context.Context) {
	req := resp.AppendCommandString(nil, "SKIFF.CLUSTER", "ADD", n.cfg.NodeID, n.raft.Addr())
	for attempt := 0; ; attempt++ {
		reply, err := roundTrip(ctx, n.cfg.Join, req)
		if err == nil && string(reply) == "+OK\r\n" {
			n.log.Info("joined cluster", "via", n.cfg.Join)
			return
		}
		if attempt%20 == 0 {
			n.log.Warn("join failed, retrying", "via", n.cfg.Join, "err", err, "reply", strings.TrimSpace(string(reply)))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// roundTrip sends one RESP request to addr and returns the reply bytes.
func roundTrip(ctx context.Context, addr string, req []byte) ([]byte, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := c.Write(req); err != nil {
		return nil, err
	}
	return resp.NewReader(c, 4096).ReadReply()
}

// Kill stops the node the way a crash would, as far as a process can do it
// to itself: Raft stops at once without flushing or snapshotting (see
// replication.Raft.Kill), then the client port closes; Run returns. For tests.
func (n *Node) Kill() {
	n.raft.Kill()
	n.cancel() // requests waiting on the node's context give up
	n.resp.Abort()
	n.front.abort()
}

// Raft returns the node's replication layer (tests and admin).
func (n *Node) Raft() *replication.Raft { return n.raft }

// ID returns the node's member id.
func (n *Node) ID() string { return n.cfg.NodeID }

// Close releases a node whose Run was never called.
func (n *Node) Close() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = n.resp.Serve(ctx)
	n.front.close()
	n.cancel()
	n.raft.Close()
	_ = n.shutdownTracing()
}
