// Package testcluster runs N skiff nodes in one test process, each started
// through internal/node on ephemeral loopback ports with its own data dir,
// with fault verbs: Stop, Kill (a simulated crash), Restart, Partition and
// Heal (all of a node's Raft traffic cut through its transport), and checks
// that replicas converge (equal state digests).
//
// Every wait polls with a generous deadline: these tests run on a loaded
// 2-core CI machine.
package testcluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/skiffdb/skiff/internal/config"
	"github.com/skiffdb/skiff/internal/node"
)

// Timeout is the default deadline for cluster-level waits.
const Timeout = 30 * time.Second

// Cluster is a set of in-process nodes.
type Cluster struct {
	t     testing.TB
	Nodes []*Member
	edit  func(i int, cfg *config.Config)
}

// Member is one node of the cluster.
type Member struct {
	Index    int
	ID       string
	cfg      config.Config
	mu       sync.Mutex
	node     *node.Node
	cancel   context.CancelFunc
	done     chan error
	clients  []*redis.Client
	iso      bool
	RESPAddr string
	RaftAddr string
	GRPCAddr string // gRPC front door
	HTTPAddr string // REST front door
}

// Option changes a member's configuration before it first starts.
type Option func(i int, cfg *config.Config)

// Start starts n nodes: node 0 bootstraps a new cluster, the others join
// it through node 0's RESP address; it returns when all n are members and a
// leader is known. Nodes are stopped when the test ends.
func Start(t testing.TB, n int, opts ...Option) *Cluster {
	t.Helper()
	c := &Cluster{t: t}
	c.edit = func(i int, cfg *config.Config) {
		for _, o := range opts {
			o(i, cfg)
		}
	}
	t.Cleanup(c.stopAll)
	for i := 0; i < n; i++ {
		cfg := config.Default()
		cfg.NodeID = fmt.Sprintf("n%d", i+1)
		cfg.RedisAddr = "127.0.0.1:0"
		cfg.GRPCAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
		cfg.RaftAddr = "127.0.0.1:0"
		cfg.DataDir = t.TempDir()
		cfg.LogLevel = "warn"
		cfg.RaftTimeout = 300 * time.Millisecond
		if i > 0 {
			cfg.Join = c.Nodes[0].RESPAddr
		}
		c.edit(i, &cfg)
		m := &Member{Index: i, ID: cfg.NodeID, cfg: cfg}
		c.Nodes = append(c.Nodes, m)
		c.start(m)
		if i == 0 {
			c.WaitLeader()
		}
	}
	c.WaitMembers(n)
	return c
}

func (c *Cluster) start(m *Member) {
	c.t.Helper()
	log := slog.New(slog.NewTextHandler(logWriter{c.t, m.cfg.NodeID}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	nd, err := node.New(m.cfg, log)
	if err != nil {
		c.t.Fatalf("testcluster: start %s: %v", m.ID, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- nd.Run(ctx) }()
	m.mu.Lock()
	m.node, m.cancel, m.done = nd, cancel, done
	m.RESPAddr = nd.RESPAddr()
	m.RaftAddr = nd.Raft().Addr()
	m.GRPCAddr, m.HTTPAddr = nd.GRPCAddr(), nd.HTTPAddr()
	// A restart reuses the same ports and data dir.
	m.cfg.RedisAddr, m.cfg.RaftAddr = m.RESPAddr, m.RaftAddr
	m.cfg.GRPCAddr, m.cfg.HTTPAddr = m.GRPCAddr, m.HTTPAddr
	m.cfg.Join = ""
	m.iso = false
	m.mu.Unlock()
}

// Node returns the running node (nil when stopped).
func (m *Member) Node() *node.Node {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.node
}

// Running reports whether the member runs.
func (m *Member) Running() bool { return m.Node() != nil }

// Client returns a new go-redis client for this member (closed when the
// test ends).
func (c *Cluster) Client(i int, opts ...func(*redis.Options)) *redis.Client {
	m := c.Nodes[i]
	o := &redis.Options{Addr: m.RESPAddr, MaxRetries: -1, DialTimeout: 2 * time.Second, ReadTimeout: 10 * time.Second}
	for _, f := range opts {
		f(o)
	}
	cl := redis.NewClient(o)
	m.mu.Lock()
	m.clients = append(m.clients, cl)
	m.mu.Unlock()
	return cl
}

// Leader waits for a leader among running members and returns it.
func (c *Cluster) WaitLeader() *Member {
	c.t.Helper()
	var leader *Member
	c.Eventually(func() error {
		leader = nil
		for _, m := range c.Nodes {
			nd := m.Node()
			if nd != nil && nd.Raft().IsLeader() {
				if leader != nil {
					return fmt.Errorf("two leaders: %s and %s", leader.ID, m.ID)
				}
				leader = m
			}
		}
		if leader == nil {
			return fmt.Errorf("no leader")
		}
		// Every running, connected member agrees on it.
		for _, m := range c.Nodes {
			nd := m.Node()
			if nd == nil || m.isolated() {
				continue
			}
			if id, _ := nd.Raft().Leader(); id != leader.ID {
				return fmt.Errorf("%s sees leader %q, not %s", m.ID, id, leader.ID)
			}
		}
		return nil
	})
	return leader
}

// Followers returns running members other than the leader.
func (c *Cluster) Followers() []*Member {
	l := c.WaitLeader()
	var out []*Member
	for _, m := range c.Nodes {
		if m != l && m.Running() {
			out = append(out, m)
		}
	}
	return out
}

// WaitMembers waits until the leader's configuration has n members.
func (c *Cluster) WaitMembers(n int) {
	c.t.Helper()
	c.Eventually(func() error {
		l := c.leaderNow()
		if l == nil {
			return fmt.Errorf("no leader")
		}
		ms, err := l.Node().Raft().Members()
		if err != nil {
			return err
		}
		if len(ms) != n {
			return fmt.Errorf("%d members, want %d", len(ms), n)
		}
		return nil
	})
}

func (c *Cluster) leaderNow() *Member {
	for _, m := range c.Nodes {
		if nd := m.Node(); nd != nil && nd.Raft().IsLeader() {
			return m
		}
	}
	return nil
}

// detach marks member m stopped and closes its clients; it returns what is
// needed to wait for the node (nil when it was not running).
func (m *Member) detach() (*node.Node, context.CancelFunc, chan error) {
	m.mu.Lock()
	nd, cancel, done := m.node, m.cancel, m.done
	m.node = nil
	clients := m.clients
	m.clients = nil
	m.mu.Unlock()
	for _, cl := range clients {
		cl.Close()
	}
	return nd, cancel, done
}

// Stop stops member i gracefully.
func (c *Cluster) Stop(i int) {
	c.t.Helper()
	m := c.Nodes[i]
	nd, cancel, done := m.detach()
	if nd == nil {
		return
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			c.t.Errorf("testcluster: %s stopped with %v", m.ID, err)
		}
	case <-time.After(Timeout):
		c.t.Fatalf("testcluster: %s did not stop", m.ID)
	}
}

// Kill crashes member i (no graceful shutdown, no flush, no snapshot).
func (c *Cluster) Kill(i int) {
	c.t.Helper()
	m := c.Nodes[i]
	nd, cancel, done := m.detach()
	if nd == nil {
		return
	}
	nd.Kill()
	cancel()
	select {
	case <-done:
	case <-time.After(Timeout):
		c.t.Fatalf("testcluster: killed %s did not stop", m.ID)
	}
}

// Restart starts a stopped or killed member again on its ports and data dir.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	m := c.Nodes[i]
	if m.Running() {
		c.t.Fatalf("testcluster: %s is running", m.ID)
	}
	c.start(m)
}

// Partition cuts all of member i's Raft traffic (and forwarding) in both
// directions; Heal restores it.
func (c *Cluster) Partition(i int) { c.setIsolated(i, true) }

// Heal undoes Partition.
func (c *Cluster) Heal(i int) { c.setIsolated(i, false) }

func (c *Cluster) setIsolated(i int, on bool) {
	m := c.Nodes[i]
	if nd := m.Node(); nd != nil {
		nd.Raft().Isolate(on)
		m.mu.Lock()
		m.iso = on
		m.mu.Unlock()
	}
}

func (m *Member) isolated() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.iso
}

// EnsureConverged waits until every running member has applied the same
// log and holds byte-identical state (equal store digests).
func (c *Cluster) EnsureConverged() {
	c.t.Helper()
	c.Eventually(func() error {
		var first [32]byte
		var firstID string
		var applied uint64
		for _, m := range c.Nodes {
			nd := m.Node()
			if nd == nil {
				continue
			}
			st := nd.Raft().Status()
			d := nd.Store().Digest()
			if firstID == "" {
				first, firstID, applied = d, m.ID, st.AppliedIndex
				continue
			}
			if st.AppliedIndex != applied {
				return fmt.Errorf("%s applied %d, %s applied %d", m.ID, st.AppliedIndex, firstID, applied)
			}
			if d != first {
				return fmt.Errorf("%s and %s hold different state at index %d", m.ID, firstID, applied)
			}
		}
		return nil
	})
}

// Eventually polls fn until it returns nil or Timeout passes.
func (c *Cluster) Eventually(fn func() error) {
	c.t.Helper()
	deadline := time.Now().Add(Timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = fn(); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatalf("testcluster: not within %v: %v", Timeout, err)
}

func (c *Cluster) stopAll() {
	for i := range c.Nodes {
		c.Stop(i)
	}
}

type logWriter struct {
	t  testing.TB
	id string
}

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(w.id + ": " + strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var _ io.Writer = logWriter{}
