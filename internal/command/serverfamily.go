package command

import (
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skiffdb/skiff/internal/op"
)

// familyState is the node-local state of the server and connection families
// (LASTSAVE, error counts, INFO's rate samples). The zero value is ready.
type familyState struct {
	lastSave  atomic.Int64 // unix seconds of the last SAVE/BGSAVE; 0 = server start
	bgsaving  atomic.Bool  // a BGSAVE is running (backup.go)
	saveBase  atomic.Int64 // write calls counted at the last SAVE (rdb_changes_since_last_save)
	errors    errorCounts
	peakHeap  atomic.Uint64
	opsSample struct {
		sync.Mutex
		at       time.Time
		commands int64
		rate     int64
	}
}

// maxErrorTypes bounds the distinct error prefixes INFO errorstats tracks,
// as Redis does (beyond it, new prefixes are not counted).
const maxErrorTypes = 128

// errorCounts counts error replies by their first word ("ERR", "WRONGTYPE")
// for INFO errorstats. Safe for concurrent use.
type errorCounts struct {
	mu sync.Mutex
	m  map[string]int64
}

// count records one error reply with text msg (without the leading '-').
func (e *errorCounts) count(msg string) {
	prefix := msg
	if i := strings.IndexByte(msg, ' '); i >= 0 {
		prefix = msg[:i]
	}
	e.mu.Lock()
	if e.m == nil {
		e.m = make(map[string]int64)
	}
	if _, ok := e.m[prefix]; ok || len(e.m) < maxErrorTypes {
		e.m[prefix]++
	}
	e.mu.Unlock()
}

// snapshot returns the counts sorted by prefix.
func (e *errorCounts) snapshot() [][2]string {
	e.mu.Lock()
	out := make([][2]string, 0, len(e.m))
	for k, v := range e.m {
		out = append(out, [2]string{k, strconv.FormatInt(v, 10)})
	}
	e.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

func (e *errorCounts) reset() {
	e.mu.Lock()
	e.m = nil
	e.mu.Unlock()
}

func serverCommands() []*Command {
	const g = "server"
	return []*Command{
		{Name: "dbsize", Arity: 1, Flags: ReadOnly | Fast, Group: g, Since: "1.0.0", Summary: "Returns the number of keys in the database.", Complexity: "O(1)", Handler: cmdDBSize},
		{Name: "flushdb", Arity: -1, Flags: Write, Group: g, Since: "1.0.0", Summary: "Remove all keys from the current database.", Complexity: "O(N) where N is the number of keys in the selected database", Handler: cmdFlush},
		{Name: "flushall", Arity: -1, Flags: Write, Group: g, Since: "1.0.0", Summary: "Removes all keys from all databases.", Complexity: "O(N) where N is the total number of keys in all databases", Handler: cmdFlush},
		{Name: "swapdb", Arity: 3, Flags: Write | Fast, Group: g, Since: "4.0.0", Summary: "Swaps two Redis databases.", Complexity: "O(N) where N is the count of clients watching or blocking on keys from both databases.", Handler: cmdSwapDB},
		{Name: "time", Arity: 1, Flags: Loading | Stale | Fast, Group: g, Since: "2.6.0", Summary: "Returns the server time.", Complexity: "O(1)", Handler: cmdTime},
		{Name: "lastsave", Arity: 1, Flags: Loading | Stale | Fast, Group: g, Since: "1.0.0", Summary: "Returns the Unix timestamp of the last successful save to disk.", Complexity: "O(1)", Handler: cmdLastSave},
		{Name: "save", Arity: 1, Flags: Admin | NoScript | NoMulti, Group: g, Since: "1.0.0", Summary: "Synchronously saves the database(s) to disk.", Complexity: "O(N) where N is the total number of keys in all databases", Handler: cmdSave},
		{Name: "bgsave", Arity: -1, Flags: Admin | NoScript, Group: g, Since: "1.0.0", Summary: "Asynchronously saves the database(s) to disk.", Complexity: "O(1)", Handler: cmdSave},
		{Name: "info", Arity: -1, Flags: Loading | Stale, Group: g, Since: "1.0.0", Summary: "Returns information and statistics about the server.", Complexity: "O(1)", Handler: cmdInfo},
		{Name: "command", Arity: -1, Flags: Loading | Stale, Group: g, Since: "2.8.13", Summary: "Returns detailed information about all commands.", Complexity: "O(N) where N is the total number of Redis commands", Handler: cmdCommand, Subcommands: commandSubcommands()},
		{Name: "config", Arity: -2, Group: g, Since: "2.0.0", Summary: "A container for server configuration commands.", Complexity: "Depends on subcommand.", Subcommands: configSubcommands()},
		{Name: "cluster", Arity: -2, Group: "cluster", Since: "3.0.0", Summary: "A container for Redis Cluster commands.", Complexity: "Depends on subcommand.", Subcommands: clusterSubcommands()},
	}
}

func cmdDBSize(c *Ctx) { c.W.WriteInt(c.Store().DBSize(c.DB())) }

// cmdFlush is FLUSHDB/FLUSHALL [ASYNC|SYNC]; both modes are synchronous in
// skiff (the store drops its maps in O(1)).
func cmdFlush(c *Ctx) {
	if len(c.Args) > 2 || (len(c.Args) == 2 && !c.ArgIs(1, "sync") && !c.ArgIs(1, "async")) {
		c.SyntaxError()
		return
	}
	code := op.FlushDB
	if c.Cmd.Name == "flushall" {
		code = op.FlushAll
	}
	c.Propose(c.NewOp(code), ReplyOK)
}

func cmdSwapDB(c *Ctx) {
	a, err := parseInt32(c.Args[1], "ERR invalid first DB index")
	if err != nil {
		c.Error(err)
		return
	}
	b, err := parseInt32(c.Args[2], "ERR invalid second DB index")
	if err != nil {
		c.Error(err)
		return
	}
	n := c.Store().Databases()
	if a < 0 || a >= n || b < 0 || b >= n {
		c.Error(ErrDBIndex)
		return
	}
	c.Propose(c.NewOp(op.SwapDB, op.Itoa(int64(a)), op.Itoa(int64(b))), ReplyOK)
}

func cmdTime(c *Ctx) {
	now := time.Now()
	us := now.UnixMicro()
	c.W.WriteArrayLen(2)
	c.W.WriteBulk(strconv.AppendInt(nil, us/1_000_000, 10))
	c.W.WriteBulk(strconv.AppendInt(nil, us%1_000_000, 10))
}

func cmdLastSave(c *Ctx) { c.W.WriteInt(c.Srv.lastSave()) }

// cmdSave is SAVE and BGSAVE [SCHEDULE]: a Raft snapshot of this node (and
// the compaction of its log), skiff's RDB file (backup.go). SAVE waits for
// it; BGSAVE starts it and answers at once, as Redis does. Without
// replication (unit tests) both only record the time.
func cmdSave(c *Ctx) {
	if c.Cmd.Name == "bgsave" && (len(c.Args) > 2 || (len(c.Args) == 2 && !c.ArgIs(1, "schedule"))) {
		c.SyntaxError()
		return
	}
	s := c.Srv
	switch {
	case s.cluster == nil:
		s.fam.lastSave.Store(time.Now().Unix())
		s.fam.saveBase.Store(s.writeCalls())
	case c.Cmd.Name == "save":
		if err := s.save(); err != nil {
			c.Error(err)
			return
		}
	case !s.bgsave():
		c.ErrorString("ERR Background save already in progress")
		return
	}
	if c.Cmd.Name == "save" {
		c.OK()
		return
	}
	c.W.WriteSimple("Background saving started")
}

// writeCalls sums the successful calls of write commands, skiff's stand-in
// for Redis's dirty counter.
func (s *Server) writeCalls() int64 {
	var n int64
	for _, cmd := range s.table.All() {
		if cmd.Flags&Write != 0 {
			n += cmd.stats.calls.Load() - cmd.stats.failed.Load()
		}
	}
	return n
}

// clusterSubcommands answers Redis Cluster probes as a non-cluster Redis
// does, which keeps cluster-aware clients in single-server mode.
func clusterSubcommands() map[string]*Command {
	disabled := func(c *Ctx) { c.ErrorString("ERR This instance has cluster support disabled") }
	subs := []struct {
		name           string
		arity          int
		since, summary string
	}{
		{"info", 2, "3.0.0", "Returns information about the state of a node."},
		{"slots", 2, "3.0.0", "Returns the mapping of cluster slots to nodes."},
		{"nodes", 2, "3.0.0", "Returns the cluster configuration for a node."},
		{"shards", 2, "7.0.0", "Returns the mapping of cluster slots to shards."},
		{"myid", 2, "3.0.0", "Returns the ID of a node."},
		{"myshardid", 2, "7.2.0", "Returns the shard ID of a node."},
		{"links", 2, "7.0.0", "Returns a list of all TCP links to and from peer nodes."},
		{"keyslot", 3, "3.0.0", "Returns the hash slot for a key."},
		{"countkeysinslot", 3, "3.0.0", "Returns the number of keys in a hash slot."},
		{"getkeysinslot", 4, "3.0.0", "Returns the key names in a hash slot."},
		{"replicas", 3, "5.0.0", "Lists the replica nodes of a master node."},
		{"slaves", 3, "3.0.0", "Lists the replica nodes of a master node."},
		{"help", 2, "5.0.0", "Returns helpful text about the different subcommands."},
	}
	out := make(map[string]*Command, len(subs))
	for _, sc := range subs {
		f := Stale
		switch sc.name {
		case "help":
			f |= Loading
		case "replicas", "slaves":
			f |= Admin
		}
		out[sc.name] = &Command{Name: "cluster|" + sc.name, Arity: sc.arity, Flags: f, Group: "cluster", Since: sc.since, Summary: sc.summary, Handler: disabled}
	}
	return out
}
