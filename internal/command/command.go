package command

import (
	"strconv"
	"strings"
	"sync/atomic"
)

// Flags describe a command as Redis's command table does; COMMAND INFO
// reports them by their Redis names.
type Flags uint32

// Command flags.
const (
	Write        Flags = 1 << iota // mutates the keyspace: prepared into an op and proposed
	ReadOnly                       // reads the keyspace
	Fast                           // O(1) or O(log n)
	Blocking                       // may block the client
	Admin                          // administrative
	PubSub                         // pub/sub related
	NoScript                       // not allowed from scripts
	Loading                        // allowed while loading
	Stale                          // allowed on a stale replica
	NoAuth                         // allowed before AUTH (AUTH, HELLO, QUIT ...)
	DenyOOM                        // may grow memory
	SkipSlowlog                    // not recorded in SLOWLOG
	NoMulti                        // not allowed inside MULTI
	MayReplicate                   // may propose through the log without being a write (PUBLISH)
)

var flagNames = []struct {
	f    Flags
	name string
}{
	{Write, "write"}, {ReadOnly, "readonly"}, {DenyOOM, "denyoom"}, {Admin, "admin"},
	{PubSub, "pubsub"}, {NoScript, "noscript"}, {Blocking, "blocking"}, {Loading, "loading"},
	{Stale, "stale"}, {SkipSlowlog, "skip_slowlog"}, {Fast, "fast"}, {NoAuth, "no_auth"},
	{MayReplicate, "may_replicate"}, {NoMulti, "no_multi"},
}

// Names returns the Redis names of the flags, in Redis's order.
func (f Flags) Names() []string {
	var out []string
	for _, fn := range flagNames {
		if f&fn.f != 0 {
			out = append(out, fn.name)
		}
	}
	return out
}

// Handler executes one command. It reads c.Args, writes exactly one reply to
// c.W (or proposes an operation whose reply function writes it), and must not
// keep c or c.Args after it returns.
type Handler func(c *Ctx)

// Command is one entry of the command table.
type Command struct {
	Name  string // lower case
	Arity int    // Redis convention: N = exactly N args (name included), -N = at least N
	Flags Flags
	// Key positions (1-based, Redis convention): FirstKey 0 = no keys;
	// LastKey -1 = the last argument; Step between keys.
	FirstKey, LastKey, Step int
	// NumKeysAt is the position of a numkeys argument followed by that many
	// keys (ZUNIONSTORE's 2, LMPOP's 1), 0 for none: Redis's movablekeys,
	// set from numKeysAt (cmdinfo.go) when the table is built.
	NumKeysAt  int
	Group      string // "string", "generic", "connection", "server" ...
	Since      string // Redis version that introduced it
	Summary    string
	Complexity string
	Handler    Handler
	// Subcommands for container commands (CLIENT, CONFIG, COMMAND, OBJECT ...),
	// keyed by lower-case name; used for COMMAND INFO/DOCS and dispatch.
	Subcommands map[string]*Command

	stats cmdStats
}

type cmdStats struct {
	calls    atomic.Int64
	usec     atomic.Int64
	failed   atomic.Int64
	rejected atomic.Int64
	hist     atomic.Pointer[cmdHist] // latency histogram, allocated at the first call (latency.go)
}

// Table is the command table: immutable after construction.
type Table struct {
	cmds  map[string]*Command
	names []string
}

// newTable builds the table from the per-family lists.
func newTable(families ...[]*Command) *Table {
	t := &Table{cmds: make(map[string]*Command)}
	for _, fam := range families {
		for _, c := range fam {
			if _, dup := t.cmds[c.Name]; dup {
				panic("command: duplicate command " + c.Name)
			}
			t.cmds[c.Name] = c
			t.names = append(t.names, c.Name)
		}
	}
	for name, at := range numKeysAt {
		if c := t.cmds[name]; c != nil {
			c.NumKeysAt = at
		}
	}
	return t
}

// Lookup finds a command by name, case-insensitively, without allocating for
// names up to 32 bytes.
func (t *Table) Lookup(name []byte) *Command {
	var buf [32]byte
	if len(name) > len(buf) {
		return t.cmds[strings.ToLower(string(name))]
	}
	for i, ch := range name {
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		buf[i] = ch
	}
	return t.cmds[string(buf[:len(name)])]
}

// All returns every command, in registration order.
func (t *Table) All() []*Command {
	out := make([]*Command, 0, len(t.names))
	for _, n := range t.names {
		out = append(out, t.cmds[n])
	}
	return out
}

// Len is the number of top-level commands.
func (t *Table) Len() int { return len(t.cmds) }

// checkArity reports whether n arguments (name included) satisfy arity.
func checkArity(arity, n int) bool {
	if arity >= 0 {
		return n == arity
	}
	return n >= -arity
}

// Keys returns the key arguments of args according to the command's key
// positions: the fixed ones, then those a numkeys argument counts. It returns
// nil when the numkeys argument is not a positive count of the arguments that
// follow it (the command itself would fail).
func (c *Command) Keys(args [][]byte) [][]byte {
	var keys [][]byte
	if c.FirstKey > 0 && c.FirstKey < len(args) {
		last := c.LastKey
		if last < 0 {
			last = len(args) + last
		}
		step := max(c.Step, 1)
		for i := c.FirstKey; i <= last && i < len(args); i += step {
			keys = append(keys, args[i])
		}
	}
	if at := c.NumKeysAt; at > 0 {
		if at >= len(args) {
			return nil
		}
		n, err := strconv.Atoi(string(args[at]))
		if err != nil || n <= 0 || n > len(args)-at-1 {
			return nil
		}
		keys = append(keys, args[at+1:at+1+n]...)
	}
	return keys
}

// subcommand returns the container command's subcommand named by args[1].
func (c *Command) subcommand(args [][]byte) *Command {
	if len(args) < 2 || c.Subcommands == nil {
		return nil
	}
	return c.Subcommands[strings.ToLower(string(args[1]))]
}
