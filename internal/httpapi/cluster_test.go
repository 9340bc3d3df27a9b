package httpapi

import (
	"strings"
	"sync"
	"testing"

	"github.com/skiffdb/skiff/internal/command"
	"github.com/skiffdb/skiff/internal/engine"
)

// fakeCluster is command.Cluster for the cluster endpoints, through the
// real command.Server.
type fakeCluster struct {
	mu     sync.Mutex
	status command.ClusterStatus
	calls  []string
	err    error
}

func (c *fakeCluster) Status() command.ClusterStatus {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

func (c *fakeCluster) record(s string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, s)
	return c.err
}

func (c *fakeCluster) AddVoter(id, raftAddr string) error {
	return c.record("add " + id + " " + raftAddr)
}
func (c *fakeCluster) RemoveServer(id string) error       { return c.record("remove " + id) }
func (c *fakeCluster) TransferLeadership(id string) error { return c.record("transfer " + id) }
func (c *fakeCluster) Snapshot() error                    { return c.record("snapshot") }

func (c *fakeCluster) lastCall() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.calls) == 0 {
		return ""
	}
	return c.calls[len(c.calls)-1]
}

func threeNodes() command.ClusterStatus {
	return command.ClusterStatus{
		NodeID: "n1", RaftAddr: "127.0.0.1:16379", State: "Leader", LeaderID: "n1", LeaderRaftAddr: "127.0.0.1:16379",
		Term: 3, CommitIndex: 42, Applied: 42, LogApplied: 42, LastIndex: 43, LastSnapshot: 10,
		Members: []command.ClusterMember{
			{ID: "n1", RaftAddr: "127.0.0.1:16379", Voter: true, Leader: true, Self: true},
			{ID: "n2", RaftAddr: "127.0.0.1:16380", Voter: true},
		},
	}
}

func TestHello(t *testing.T) {
	e := newEnv(t, newFakeAPI(), Options{})
	for path, want := range map[string]string{
		"/hello/world":               "Hello, world 👋",
		"/hello/J%C3%BCrgen%20M%2Fx": "Hello, Jürgen M/x 👋",
	} {
		a := e.do("GET", path, nil)
		if a.status != 200 || string(a.body) != want || a.header.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Errorf("%s: %d %q %q", path, a.status, a.body, a.header.Get("Content-Type"))
		}
	}
	e.do("POST", "/hello/x", nil).errorCode(t, 405, codeMethodNotAllowed)
	e.do("GET", "/hello/a/b", nil).errorCode(t, 404, codeNotFound)
}

func TestHealthAndReady(t *testing.T) {
	f := newFakeAPI()
	e := newEnv(t, f, Options{})
	if a := e.do("GET", "/healthz", nil); a.status != 200 || string(a.body) != "ok\n" {
		t.Errorf("healthz: %d %q", a.status, a.body)
	}
	if a := e.do("GET", "/readyz", nil); a.status != 200 || string(a.body) != "ok\n" {
		t.Errorf("readyz: %d %q", a.status, a.body)
	}
	f.mu.Lock()
	f.ready, f.reason = false, "no leader elected"
	f.mu.Unlock()
	d := e.do("GET", "/readyz", nil).errorCode(t, 503, codeUnavailable)
	if !strings.Contains(d.Message, "no leader elected") {
		t.Errorf("readyz reason %q", d.Message)
	}
	if a := e.do("GET", "/healthz", nil); a.status != 200 {
		t.Errorf("healthz while not ready: %d", a.status)
	}

	// Through the real command.Server: readiness follows the cluster.
	fc := &fakeCluster{status: threeNodes()}
	e = newEnv(t, newCommandServer(t, fc), Options{})
	if a := e.do("GET", "/readyz", nil); a.status != 200 {
		t.Errorf("readyz with a leader: %d %s", a.status, a.body)
	}
	fc.mu.Lock()
	fc.status.Applied, fc.status.LogApplied, fc.status.CommitIndex = 40, 40, 5000 // replaying a long log
	fc.mu.Unlock()
	d = e.do("GET", "/readyz", nil).errorCode(t, 503, codeUnavailable)
	if !strings.Contains(d.Message, "applied 40 of 5000") {
		t.Errorf("readyz reason %q", d.Message)
	}
	fc.mu.Lock()
	fc.status.LeaderID = ""
	fc.mu.Unlock()
	e.do("GET", "/readyz", nil).errorCode(t, 503, codeUnavailable)
}

func TestCluster(t *testing.T) {
	fc := &fakeCluster{status: threeNodes()}
	e := newEnv(t, newCommandServer(t, fc), Options{})

	var cj clusterJSON
	e.do("GET", "/v1/cluster", nil).json(t, &cj)
	if cj.NodeID != "n1" || cj.State != "Leader" || cj.LeaderID != "n1" || cj.Term != 3 || cj.CommitIndex != 42 ||
		cj.AppliedIndex != 42 || cj.LastLogIndex != 43 || cj.LastSnapshotIndex != 10 || len(cj.Members) != 2 ||
		cj.Members[0] != (memberJSON{ID: "n1", RaftAddr: "127.0.0.1:16379", Voter: true, Leader: true, Self: true}) ||
		cj.Members[1] != (memberJSON{ID: "n2", RaftAddr: "127.0.0.1:16380", Voter: true}) {
		t.Fatalf("cluster %+v", cj)
	}

	if a := e.do("POST", "/v1/cluster/members", []byte(`{"id":"n3","raft_addr":"127.0.0.1:16381"}`)); a.status != 204 || len(a.body) != 0 {
		t.Fatalf("add: %d %s", a.status, a.body)
	}
	if c := fc.lastCall(); c != "add n3 127.0.0.1:16381" {
		t.Errorf("add -> %q", c)
	}
	for _, bad := range []string{``, `{}`, `{"id":"n3"}`, `{"id":"","raft_addr":"h:1"}`, `{"id":"n3","raft_addr":"nohost"}`, `{"id":"n3","raft_addr":"h:1","voter":false}`, `nope`} {
		e.do("POST", "/v1/cluster/members", []byte(bad)).errorCode(t, 400, codeInvalidArgument)
	}

	if a := e.do("DELETE", "/v1/cluster/members/n%2F2", nil); a.status != 204 {
		t.Fatalf("remove: %d %s", a.status, a.body)
	}
	if c := fc.lastCall(); c != "remove n/2" {
		t.Errorf("remove -> %q", c)
	}

	if a := e.do("POST", "/v1/cluster/leader", []byte(`{"id":"n2"}`)); a.status != 204 {
		t.Fatalf("transfer: %d %s", a.status, a.body)
	}
	if c := fc.lastCall(); c != "transfer n2" {
		t.Errorf("transfer -> %q", c)
	}
	if a := e.do("POST", "/v1/cluster/leader", nil); a.status != 204 {
		t.Fatalf("transfer to anyone: %d %s", a.status, a.body)
	}
	if c := fc.lastCall(); c != "transfer " {
		t.Errorf("transfer -> %q", c)
	}
	e.do("POST", "/v1/cluster/leader", []byte(`{"to":"n2"}`)).errorCode(t, 400, codeInvalidArgument)

	// Not the leader: 503 with Retry-After.
	fc.mu.Lock()
	fc.err = engine.ErrNotLeader
	fc.mu.Unlock()
	a := e.do("DELETE", "/v1/cluster/members/n2", nil)
	a.errorCode(t, 503, codeUnavailable)
	if a.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	e.do("GET", "/v1/cluster?verbose=1", nil).errorCode(t, 400, codeInvalidArgument)

	// A node without replication.
	e = newEnv(t, newCommandServer(t, nil), Options{})
	e.do("GET", "/v1/cluster", nil).errorCode(t, 501, codeUnimplemented)
	e.do("POST", "/v1/cluster/members", []byte(`{"id":"n3","raft_addr":"127.0.0.1:16381"}`)).errorCode(t, 501, codeUnimplemented)
}

func TestQueues_DesignedNotYetAvailable(t *testing.T) {
	e := newEnv(t, newFakeAPI(), Options{MaxBodyBytes: 4096})
	for _, c := range []struct{ path, body string }{
		{"/v1/queues/jobs/messages", `{"value":"work"}`},
		{"/v1/queues/jobs/messages", `{"value_base64":"AAE=","delay":"5s"}`},
		{"/v1/queues/j%2Fobs/receive", `{"max":10,"visibility_timeout":"30s","wait":2}`},
		{"/v1/queues/jobs/receive", ``},
		{"/v1/queues/jobs/ack", `{"ids":["1-0","2-0"]}`},
	} {
		d := e.do("POST", c.path, []byte(c.body), "Content-Type", "application/json").errorCode(t, 501, codeUnimplemented)
		if !strings.Contains(d.Message, "Streams") {
			t.Errorf("%s: message %q", c.path, d.Message)
		}
	}
	for _, c := range []struct{ path, body string }{
		{"/v1/queues/jobs/messages", ``},
		{"/v1/queues/jobs/messages", `{}`},
		{"/v1/queues/jobs/messages", `{"value":"a","value_base64":"YQ=="}`},
		{"/v1/queues/jobs/messages", `{"value":"a","priority":1}`},
		{"/v1/queues/jobs/messages", `{"value":"a","delay":"-1s"}`},
		{"/v1/queues/jobs/receive", `{"max":1001}`},
		{"/v1/queues/jobs/receive", `{"max":-1}`},
		{"/v1/queues/jobs/receive", `{"wait":"x"}`},
		{"/v1/queues/jobs/ack", `{}`},
		{"/v1/queues/jobs/ack", `{"ids":[]}`},
		{"/v1/queues/jobs/ack", `{"ids":[""]}`},
		{"/v1/queues/jobs/ack?x=1", `{"ids":["1-0"]}`},
	} {
		e.do("POST", c.path, []byte(c.body)).errorCode(t, 400, codeInvalidArgument)
	}
	e.do("POST", "/v1/queues/jobs/ack", []byte(`{"ids":["`+strings.Repeat("1", 5000)+`"]}`)).errorCode(t, 413, codeTooLarge)
	e.do("POST", "/v1/queues//ack", []byte(`{"ids":["1-0"]}`)).errorCode(t, 404, codeNotFound)
}
