package command

import (
	"net"
	"strconv"
	"strings"
	"sync"

	"github.com/skiffdb/skiff/internal/engine"
	"github.com/skiffdb/skiff/internal/resp"
)

// Cluster is what the command layer needs from the replication layer for
// the admin commands, INFO replication and ROLE.
type Cluster interface {
	Status() ClusterStatus
	AddVoter(id, raftAddr string) error
	RemoveServer(id string) error
	TransferLeadership(id string) error
	Snapshot() error
}

// ClusterStatus describes this node's view of the cluster.
type ClusterStatus struct {
	NodeID, RaftAddr           string
	State                      string // Leader, Follower, Candidate, Shutdown
	LeaderID, LeaderRaftAddr   string
	Term, CommitIndex, Applied uint64
	// LogApplied counts raft's own entries too (no-ops, configuration):
	// the node has caught up when it reaches CommitIndex.
	LogApplied              uint64
	LastIndex, LastSnapshot uint64
	Members                 []ClusterMember
}

// ClusterMember is one member of the configuration.
type ClusterMember struct {
	ID, RaftAddr        string
	Voter, Leader, Self bool
}

// The admin command is SKIFF.CLUSTER: a dotted name, as Redis modules use,
// cannot collide with a Redis command.
const clusterCmd = "skiff.cluster"

func clusterCommands() []*Command {
	const g = "cluster"
	sub := func(name string, arity int, h Handler, summary string) *Command {
		return &Command{Name: clusterCmd + "|" + name, Arity: arity, Flags: Admin | Stale | NoScript, Group: g, Since: "skiff 0.1", Summary: summary, Handler: h}
	}
	return []*Command{
		// Arity -4: SKIFF.FWD <db> <proto> <command>; the command may have no
		// arguments (DBSIZE, SKIFF.APPLIED).
		{Name: strings.ToLower(engine.FwdCommand), Arity: -4, Flags: NoAuth | NoScript, Group: g, Since: "skiff 0.1",
			Summary: "Internal: a request forwarded by a follower (accepted only from other nodes).", Handler: cmdFwd},
		{Name: clusterCmd, Arity: -2, Group: g, Since: "skiff 0.1", Summary: "skiff cluster administration.", Subcommands: map[string]*Command{
			"members":  sub("members", 2, cmdClusterMembers, "Lists the members: id, raft address, voter, leader, self."),
			"status":   sub("status", 2, cmdClusterStatus, "This node's Raft state: role, term, indexes, leader."),
			"add":      sub("add", 4, cmdClusterChange, "Adds a voting member: SKIFF.CLUSTER ADD <id> <raft-addr>."),
			"remove":   sub("remove", 3, cmdClusterChange, "Removes a member: SKIFF.CLUSTER REMOVE <id>."),
			"transfer": sub("transfer", -2, cmdClusterChange, "Transfers leadership: SKIFF.CLUSTER TRANSFER [<id>]."),
			"snapshot": sub("snapshot", 2, cmdClusterSnapshot, "Takes a snapshot now and compacts this node's log."),
			"addr":     sub("addr", 2, cmdClusterAddr, "This node's RESP address."),
			"help": sub("help", 2, func(c *Ctx) {
				writeHelp(c, "SKIFF.CLUSTER <subcommand> [<arg> ...]. Subcommands are:",
					"MEMBERS", "    List the members.", "STATUS", "    Show this node's Raft state.",
					"ADD <id> <raft-addr>", "    Add a voting member (runs on the leader).",
					"REMOVE <id>", "    Remove a member (runs on the leader).",
					"TRANSFER [<id>]", "    Transfer leadership (to <id>, or to any up-to-date voter).",
					"SNAPSHOT", "    Take a snapshot now.", "ADDR", "    This node's RESP address.")
			}, "Shows help."),
		}},
		{Name: "role", Arity: 1, Flags: NoScript | Loading | Stale | Fast, Group: "server", Since: "2.8.12", Summary: "Returns the replication role.", Handler: cmdRole},
		{Name: "readonly", Arity: 1, Flags: Loading | Stale | Fast, Group: "cluster", Since: "3.0.0", Summary: "Enables stale reads of this node's local state for the connection.", Handler: cmdReadonly},
		{Name: "readwrite", Arity: 1, Flags: Loading | Stale | Fast, Group: "cluster", Since: "3.0.0", Summary: "Turns stale reads off: reads are linearizable again.", Handler: cmdReadonly},
	}
}

// cmdFwd runs a forwarded request: SKIFF.FWD [<traceparent>] <db> <proto>
// <command> [args...]; with a traceparent, in a span continuing the
// follower's trace (trace.go).
func cmdFwd(c *Ctx) {
	cl := c.Client
	if !cl.Internal {
		c.ErrorString(unknownCommand(c.Args))
		return
	}
	args := c.Args
	var tp []byte
	if engine.IsTraceparent(args[1]) {
		if !checkArity(c.Cmd.Arity, len(args)-1) { // the arity without the traceparent
			c.WrongArity()
			return
		}
		tp, args = args[1], args[1:]
	}
	db, err1 := ParseInt(args[1])
	proto, err2 := ParseInt(args[2])
	if err1 != nil || err2 != nil || db < 0 || (proto != 2 && proto != 3) {
		c.SyntaxError()
		return
	}
	cl.SelectDB(int(db))
	cl.SetProto(int(proto))
	c.W.SetProto(int(proto))
	srv, w, inner := c.Srv, c.W, args[3:]
	if tp != nil {
		srv.execForwarded(cl, tp, inner, w)
		return
	}
	srv.Exec(cl, inner, w) // reuses c: nothing of c is touched after this
}

func (s *Server) clusterOrErr(c *Ctx) Cluster {
	if s.cluster == nil {
		c.ErrorString("ERR this node runs without replication")
	}
	return s.cluster
}

func cmdClusterMembers(c *Ctx) {
	cl := c.Srv.clusterOrErr(c)
	if cl == nil {
		return
	}
	st := cl.Status()
	c.W.WriteArrayLen(len(st.Members))
	for _, m := range st.Members {
		c.W.WriteMapLen(5)
		c.W.WriteBulkString("id")
		c.W.WriteBulkString(m.ID)
		c.W.WriteBulkString("raft_addr")
		c.W.WriteBulkString(m.RaftAddr)
		c.W.WriteBulkString("voter")
		c.W.WriteInt(b2i(m.Voter))
		c.W.WriteBulkString("leader")
		c.W.WriteInt(b2i(m.Leader))
		c.W.WriteBulkString("self")
		c.W.WriteInt(b2i(m.Self))
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func cmdClusterStatus(c *Ctx) {
	cl := c.Srv.clusterOrErr(c)
	if cl == nil {
		return
	}
	st := cl.Status()
	fields := [][2]string{
		{"node_id", st.NodeID}, {"raft_addr", st.RaftAddr}, {"resp_addr", c.Srv.addr}, {"state", st.State},
		{"leader_id", st.LeaderID}, {"leader_raft_addr", st.LeaderRaftAddr},
		{"term", u64(st.Term)}, {"commit_index", u64(st.CommitIndex)}, {"applied_index", u64(st.Applied)},
		{"last_log_index", u64(st.LastIndex)}, {"last_snapshot_index", u64(st.LastSnapshot)},
		{"members", strconv.Itoa(len(st.Members))},
	}
	c.W.WriteMapLen(len(fields))
	for _, f := range fields {
		c.W.WriteBulkString(f[0])
		c.W.WriteBulkString(f[1])
	}
}

func u64(n uint64) string { return strconv.FormatUint(n, 10) }

// cmdClusterChange runs ADD, REMOVE and TRANSFER on the leader (forwarding
// them from a follower).
func cmdClusterChange(c *Ctx) {
	cl := c.Srv.clusterOrErr(c)
	if cl == nil {
		return
	}
	if !c.Srv.eng.IsLeader() && !c.Client.Internal {
		reply, err := c.Srv.eng.Forward(c.Srv.ctx, c.Client.DB, c.Client.Proto, c.Args)
		if err != nil {
			c.Error(err)
			return
		}
		c.W.WriteRaw(reply)
		return
	}
	var err error
	switch c.Cmd.Name {
	case clusterCmd + "|add":
		addr := string(c.Args[3])
		if _, _, aerr := net.SplitHostPort(addr); aerr != nil {
			c.ErrorString("ERR invalid raft address '" + addr + "'")
			return
		}
		err = cl.AddVoter(string(c.Args[2]), addr)
	case clusterCmd + "|remove":
		err = cl.RemoveServer(string(c.Args[2]))
	default:
		if len(c.Args) > 3 {
			c.SyntaxError()
			return
		}
		id := ""
		if len(c.Args) == 3 {
			id = string(c.Args[2])
		}
		err = cl.TransferLeadership(id)
	}
	if err != nil {
		c.Error(err)
		return
	}
	c.OK()
}

func cmdClusterSnapshot(c *Ctx) {
	cl := c.Srv.clusterOrErr(c)
	if cl == nil {
		return
	}
	if err := cl.Snapshot(); err != nil {
		c.Error(err)
		return
	}
	c.OK()
}

func cmdClusterAddr(c *Ctx) { c.W.WriteBulkString(c.Srv.addr) }

func cmdReadonly(c *Ctx) {
	c.Client.ReadOnly = c.Cmd.Name == "readonly"
	c.OK()
}

// cmdRole answers in Redis's shape: ["master", offset, [replicas]] on the
// leader, ["slave", host, port, state, offset] elsewhere.
func cmdRole(c *Ctx) {
	cl := c.Srv.cluster
	if cl == nil {
		c.W.WriteArrayLen(3)
		c.W.WriteBulkString("master")
		c.W.WriteInt(0)
		c.W.WriteArrayLen(0)
		return
	}
	st := cl.Status()
	if st.State == "Leader" {
		c.W.WriteArrayLen(3)
		c.W.WriteBulkString("master")
		c.W.WriteInt(int64(st.Applied))
		c.W.WriteArrayLen(0)
		return
	}
	host, port, state := c.Srv.leaderRESP(st)
	c.W.WriteArrayLen(5)
	c.W.WriteBulkString("slave")
	c.W.WriteBulkString(host)
	c.W.WriteInt(int64(port))
	c.W.WriteBulkString(state)
	c.W.WriteInt(int64(st.Applied))
}

// leaderCache remembers the leader's RESP address by leader id.
type leaderCache struct {
	mu       sync.Mutex
	id, addr string
}

// leaderRESP returns the leader's RESP host and port (asked from the leader
// over the forwarding channel, cached per leader) and Redis's link state.
func (s *Server) leaderRESP(st ClusterStatus) (host string, port int, state string) {
	if st.LeaderID == "" {
		return "", 0, "connect"
	}
	s.lcache.mu.Lock()
	id, addr := s.lcache.id, s.lcache.addr
	s.lcache.mu.Unlock()
	if id != st.LeaderID || addr == "" {
		reply, err := s.eng.Forward(s.ctx, 0, 2, [][]byte{[]byte(clusterCmd), []byte("addr")})
		if err != nil {
			return "", 0, "connecting"
		}
		v, err := resp.NewReader(strings.NewReader(string(reply)), 256).ReadValue()
		if err != nil || v.Type != '$' {
			return "", 0, "connecting"
		}
		addr = string(v.Str)
		s.lcache.mu.Lock()
		s.lcache.id, s.lcache.addr = st.LeaderID, addr
		s.lcache.mu.Unlock()
	}
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, "connecting"
	}
	pn, _ := strconv.Atoi(p)
	return h, pn, "connected"
}
