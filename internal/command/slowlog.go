package command

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Introspection as Redis 7 offers it: SLOWLOG (this file), LATENCY and the
// per-command latency histograms (latency.go), MONITOR (monitor.go). Every
// executed command passes through Server.observe (latency.go), called once
// from Server.finish; what it costs when nothing is watched is a few atomic
// loads and one atomic add into the command's histogram.

// introState is the node-local state of SLOWLOG, LATENCY and MONITOR. The
// zero value is ready.
type introState struct {
	slow slowLog
	lat  latencyMonitor
	mon  monitorHub
}

// introConfig caches the parameters the command path consults on every
// command, parsed once when they are set (Params.applied). Safe for
// concurrent use.
type introConfig struct {
	slowerThan atomic.Int64 // slowlog-log-slower-than in ns; offNs = disabled
	slowMaxLen atomic.Int64 // slowlog-max-len
	latencyMin atomic.Int64 // latency-monitor-threshold in ns; offNs = disabled
	// watchFrom is min(slowerThan, latencyMin): a command faster than this
	// is neither slow nor a latency event, so observe looks no further.
	watchFrom   atomic.Int64
	latencyMs   atomic.Int64              // latency-monitor-threshold as set (LATENCY DOCTOR)
	tracking    atomic.Bool               // latency-tracking: per-command histograms
	percentiles atomic.Pointer[[]float64] // latency-tracking-info-percentiles
}

// offNs is a threshold no duration reaches.
const offNs = math.MaxInt64

// introParams are the parameters introConfig caches.
var introParams = [...]string{
	"slowlog-log-slower-than", "slowlog-max-len", "latency-monitor-threshold",
	"latency-tracking", "latency-tracking-info-percentiles",
}

// load sets every cached parameter from vals (the parameters' values by
// canonical name), as newParams has them.
func (ic *introConfig) load(vals map[string]string) {
	for _, name := range introParams {
		ic.set(name, vals[name])
	}
}

// set caches parameter name's new value v (normalized, as CONFIG GET shows
// it). Other parameters are ignored.
func (ic *introConfig) set(name, v string) {
	switch name {
	case "slowlog-log-slower-than":
		n, _ := strconv.ParseInt(v, 10, 64)
		ic.slowerThan.Store(scaleThreshold(n, 1000, n < 0))
	case "slowlog-max-len":
		n, _ := strconv.ParseInt(v, 10, 64)
		ic.slowMaxLen.Store(n)
	case "latency-monitor-threshold":
		n, _ := strconv.ParseInt(v, 10, 64)
		ic.latencyMs.Store(n)
		ic.latencyMin.Store(scaleThreshold(n, 1_000_000, n <= 0))
	case "latency-tracking":
		ic.tracking.Store(v == "yes")
	case "latency-tracking-info-percentiles":
		var ps []float64
		for _, f := range strings.Fields(v) {
			if p, err := strconv.ParseFloat(f, 64); err == nil {
				ps = append(ps, p)
			}
		}
		ic.percentiles.Store(&ps)
		return
	default:
		return
	}
	ic.watchFrom.Store(min(ic.slowerThan.Load(), ic.latencyMin.Load()))
}

// scaleThreshold returns n*unit nanoseconds, or offNs when off or when the
// product does not fit.
func scaleThreshold(n, unit int64, off bool) int64 {
	if off || n > offNs/unit {
		return offNs
	}
	return n * unit
}

// Redis's limits on what one slow log entry keeps of a command.
const (
	slowlogMaxArgc   = 32  // SLOWLOG_ENTRY_MAX_ARGC
	slowlogMaxString = 128 // SLOWLOG_ENTRY_MAX_STRING
)

// slowlogEntry is one SLOWLOG GET entry. Its fields are never modified
// after it is logged.
type slowlogEntry struct {
	id       int64
	time     int64 // unix seconds
	duration int64 // microseconds
	args     [][]byte
	addr     string
	name     string
}

// slowLog is the slow log: a ring of the newest entries, at most
// slowlog-max-len of them (a lower limit takes effect at the next entry, as
// in Redis). Safe for concurrent use.
type slowLog struct {
	mu     sync.Mutex
	buf    []slowlogEntry // ring; buf[head] is the oldest entry
	head   int
	n      int
	nextID int64
}

// push logs e with the next id and drops the oldest entries beyond max.
func (l *slowLog) push(e slowlogEntry, limit int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e.id = l.nextID
	l.nextID++
	for l.n > 0 && int64(l.n) >= limit {
		l.buf[l.head] = slowlogEntry{}
		l.head = (l.head + 1) % len(l.buf)
		l.n--
	}
	if limit <= 0 {
		return
	}
	if l.n == len(l.buf) {
		grown := int64(max(8, 2*len(l.buf)))
		nb := make([]slowlogEntry, min(grown, limit))
		for i := 0; i < l.n; i++ {
			nb[i] = l.buf[(l.head+i)%len(l.buf)]
		}
		l.buf, l.head = nb, 0
	}
	l.buf[(l.head+l.n)%len(l.buf)] = e
	l.n++
}

// newest returns up to count entries, newest first (count < 0: all).
func (l *slowLog) newest(count int64) []slowlogEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if count < 0 || count > int64(l.n) {
		count = int64(l.n)
	}
	out := make([]slowlogEntry, count)
	for i := range out {
		out[i] = l.buf[(l.head+l.n-1-i)%len(l.buf)]
	}
	return out
}

func (l *slowLog) len() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(l.n)
}

// reset empties the log; ids keep counting, as in Redis.
func (l *slowLog) reset() {
	l.mu.Lock()
	l.buf, l.head, l.n = nil, 0, 0
	l.mu.Unlock()
}

// logSlow records a command that took d in the slow log.
func (s *Server) logSlow(ctx *Ctx, cmd *Command, start time.Time, d time.Duration) {
	cl := ctx.Client
	s.intro.slow.push(slowlogEntry{
		time:     start.Unix(),
		duration: int64(d / time.Microsecond),
		args:     slowlogArgs(cmd, ctx.Args),
		addr:     cl.Addr,
		name:     cl.Name(),
	}, s.params.intro.slowMaxLen.Load())
}

// slowlogArgs copies args as Redis's slowlogCreateEntry keeps them: at most
// 32 arguments, the last saying how many more there were, each cut to 128
// bytes, and secrets (AUTH's password ...) redacted.
func slowlogArgs(cmd *Command, args [][]byte) [][]byte {
	argc := min(len(args), slowlogMaxArgc)
	out := make([][]byte, argc)
	for j := range out {
		switch a := args[j]; {
		case argc != len(args) && j == argc-1:
			out[j] = []byte("... (" + strconv.Itoa(len(args)-argc+1) + " more arguments)")
		case redacted(cmd, args, j):
			out[j] = []byte(redactedArg)
		case len(a) > slowlogMaxString:
			b := make([]byte, 0, slowlogMaxString+32)
			b = append(b, a[:slowlogMaxString]...)
			out[j] = append(b, "... ("+strconv.Itoa(len(a)-slowlogMaxString)+" more bytes)"...)
		default:
			out[j] = append([]byte(nil), a...)
		}
	}
	return out
}

// redactedArg replaces secrets in SLOWLOG and MONITOR, as in Redis.
const redactedArg = "(redacted)"

// sensitiveParams are the parameters whose CONFIG SET value Redis redacts.
var sensitiveParams = map[string]bool{
	"requirepass": true, "masterauth": true, "masteruser": true,
	"tls-key-file-pass": true, "tls-client-key-file-pass": true,
}

// redacted reports whether argument j of cmd's args is a secret that Redis
// replaces with "(redacted)" before logging or showing the command: AUTH's
// arguments, HELLO's AUTH username and password, and the values of
// sensitive parameters in CONFIG SET.
func redacted(cmd *Command, args [][]byte, j int) bool {
	if j == 0 {
		return false
	}
	switch cmd.Name {
	case "auth":
		return true
	case "hello":
		for i := 2; i < len(args); i++ {
			more := len(args) - i - 1
			switch {
			case equalFold(string(args[i]), "auth") && more >= 2:
				if j == i+1 || j == i+2 {
					return true
				}
				i += 2
			case equalFold(string(args[i]), "setname") && more >= 1:
				i++
			default:
				return false
			}
		}
	case "config|set":
		return j >= 3 && j%2 == 1 && sensitiveParams[strings.ToLower(string(args[j-1]))]
	}
	return false
}

// SlowlogEntry is one slow log entry, for callers outside RESP (the
// dashboard): Args are already cut and redacted as SLOWLOG GET shows them.
type SlowlogEntry struct {
	ID             int64
	TimeUnix       int64
	DurationMicros int64
	Args           []string
	Client         string // address
	ClientName     string
}

// Slowlog returns up to n of the newest slow log entries, newest first
// (n < 0: all). Safe for concurrent use.
func (s *Server) Slowlog(n int) []SlowlogEntry {
	var out []SlowlogEntry
	for _, e := range s.intro.slow.newest(int64(n)) {
		args := make([]string, len(e.args))
		for i, a := range e.args {
			args[i] = string(a)
		}
		out = append(out, SlowlogEntry{ID: e.id, TimeUnix: e.time, DurationMicros: e.duration, Args: args, Client: e.addr, ClientName: e.name})
	}
	return out
}

// --- SLOWLOG ---

func slowlogCommands() []*Command {
	const g = "server"
	sub := func(name string, arity int, f Flags, since, summary, complexity string, h Handler) *Command {
		return &Command{Name: "slowlog|" + name, Arity: arity, Flags: f, Group: g, Since: since, Summary: summary, Complexity: complexity, Handler: h}
	}
	const adm = Admin | Loading | Stale
	return []*Command{
		{Name: "slowlog", Arity: -2, Group: g, Since: "2.2.12", Summary: "A container for slow log commands.", Complexity: "Depends on subcommand.", Subcommands: map[string]*Command{
			"get":   sub("get", -2, adm, "2.2.12", "Returns the slow log's entries.", "O(N) where N is the number of entries returned", cmdSlowlogGet),
			"len":   sub("len", 2, adm, "2.2.12", "Returns the number of entries in the slow log.", "O(1)", cmdSlowlogLen),
			"reset": sub("reset", 2, adm, "2.2.12", "Clears all entries from the slow log.", "O(N) where N is the number of entries in the slowlog", cmdSlowlogReset),
			"help":  sub("help", 2, Loading|Stale, "6.2.0", "Show helpful text about the different subcommands", "O(1)", cmdSlowlogHelp),
		}},
	}
}

// cmdSlowlogGet is SLOWLOG GET [count]: the newest entries (default 10, -1
// all), each [id, unix time, microseconds, [args...], client addr, client
// name].
func cmdSlowlogGet(c *Ctx) {
	count := int64(10)
	switch len(c.Args) {
	case 2:
	case 3:
		n, err := ParseInt(c.Args[2])
		if err != nil || n < -1 {
			c.ErrorString("ERR count should be greater than or equal to -1")
			return
		}
		count = n
	default:
		c.ErrorString("ERR unknown subcommand or wrong number of arguments for '" + string(cut(c.Args[1], 128)) + "'. Try SLOWLOG HELP.")
		return
	}
	entries := c.Srv.intro.slow.newest(count)
	c.W.WriteArrayLen(len(entries))
	for _, e := range entries {
		c.W.WriteArrayLen(6)
		c.W.WriteInt(e.id)
		c.W.WriteInt(e.time)
		c.W.WriteInt(e.duration)
		c.W.WriteArrayLen(len(e.args))
		for _, a := range e.args {
			c.W.WriteBulk(a)
		}
		c.W.WriteBulkString(e.addr)
		c.W.WriteBulkString(e.name)
	}
}

func cmdSlowlogLen(c *Ctx) { c.W.WriteInt(c.Srv.intro.slow.len()) }

func cmdSlowlogReset(c *Ctx) {
	c.Srv.intro.slow.reset()
	c.OK()
}

func cmdSlowlogHelp(c *Ctx) {
	writeHelp(c, "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"GET [<count>]",
		"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
		"    Entries are made of:",
		"    id, timestamp, time in microseconds, arguments array, client IP and port,",
		"    client name",
		"LEN",
		"    Return the length of the slowlog.",
		"RESET",
		"    Reset the slowlog.")
}
