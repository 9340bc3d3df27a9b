package command

import (
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// MONITOR streams every command this node executes, from every client, to
// every monitoring client, one status line each, as Redis formats them:
//
//	+1700000000.123456 [0 127.0.0.1:50000] "SET" "k" "v"
//
// The line is built once and queued on each monitor's connection with
// Conn.Push (never blocking the executing client; a monitor that does not
// read is closed at the pubsub class of client-output-buffer-limit). Server.observe
// calls feedMonitors only while someone monitors: otherwise MONITOR costs one
// atomic load per command.
//
// As in Redis: administrative commands (CONFIG, SLOWLOG, DEBUG, MONITOR ...)
// are not shown; AUTH's arguments and HELLO's AUTH credentials read
// "(redacted)"; a command is shown after it ran, in the database the client
// was in then; RESET ends monitoring for its client, QUIT ends the
// connection; a monitoring client may not run keyspace commands ("Replica
// can't interact with the keyspace"). Unlike Redis, the commands inside
// MULTI/EXEC are shown only as MULTI and EXEC, and a blocking command is
// shown when it completes (with the time it started).

// monitorHub holds the monitoring clients. Safe for concurrent use.
type monitorHub struct {
	n  atomic.Int64 // len(clients): the one load observe pays
	mu sync.Mutex
	// clients in the order they started monitoring; a client whose
	// connection is gone is dropped at the next line it fails to take.
	clients []*Client
}

// add makes c a monitor; false when it already is one.
func (h *monitorHub) add(c *Client) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range h.clients {
		if m == c {
			return false
		}
	}
	h.clients = append(h.clients, c)
	h.n.Store(int64(len(h.clients)))
	return true
}

// remove stops c monitoring.
func (h *monitorHub) remove(c *Client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, m := range h.clients {
		if m == c {
			h.clients = slices.Delete(h.clients, i, i+1)
			break
		}
	}
	h.n.Store(int64(len(h.clients)))
}

// has reports whether c monitors (CLIENT LIST's O flag).
func (h *monitorHub) has(c *Client) bool {
	if h.n.Load() == 0 {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, m := range h.clients {
		if m == c {
			return true
		}
	}
	return false
}

func monitorCommands() []*Command {
	return []*Command{
		{Name: "monitor", Arity: 1, Flags: Admin | NoScript | Loading | Stale, Group: "server", Since: "1.0.0",
			Summary: "Listens for all requests received by the server in real-time.", Handler: cmdMonitor},
	}
}

// cmdMonitor turns the connection into a monitor. A client that cannot
// receive a stream (inside EXEC, or without a connection: the gRPC/REST
// API's internal clients) gets Redis's error for a client that expects one
// reply per command; a second MONITOR is not answered, as in Redis.
func cmdMonitor(c *Ctx) {
	cl := c.Client
	if cl.Conn == nil || c.InExec() {
		c.ErrorString("ERR MONITOR isn't allowed for DENY BLOCKING client")
		return
	}
	if c.Srv.intro.mon.add(cl) {
		c.OK()
	}
}

// execArgs is what MONITOR shows for EXEC: its handler leaves the last
// queued command's arguments in Ctx.Args.
var execArgs = [][]byte{[]byte("exec")}

// feedMonitors sends the command that just ran to every monitor.
func (s *Server) feedMonitors(ctx *Ctx, cmd *Command, start time.Time) {
	h := &s.intro.mon
	cl := ctx.Client
	if cmd.Name == "reset" {
		h.remove(cl) // before the line: the client no longer monitors
	}
	if cmd.Flags&Admin != 0 || isForwardWrapper(cmd) {
		return
	}
	args := ctx.Args
	if cmd.Name == "exec" {
		args = execArgs
	}
	line := appendMonitorLine(make([]byte, 0, 64), start, cl.DB, cl.Addr, cmd, args)
	lim := s.pubsub.outputLimit()
	// One lock around the pushes: every monitor sees the same order.
	h.mu.Lock()
	defer h.mu.Unlock()
	kept := h.clients[:0]
	for _, m := range h.clients {
		if m.Conn != nil && m.Conn.Push(line, lim) {
			kept = append(kept, m)
		}
	}
	clear(h.clients[len(kept):])
	h.clients = kept
	h.n.Store(int64(len(kept)))
}

// appendMonitorLine appends Redis's MONITOR line for args, run by a client
// at addr in database db at time t: a status reply, whatever the monitor's
// protocol.
func appendMonitorLine(b []byte, t time.Time, db int, addr string, cmd *Command, args [][]byte) []byte {
	us := t.UnixMicro()
	b = append(b, '+')
	b = strconv.AppendInt(b, us/1e6, 10)
	b = append(b, '.')
	frac := us % 1e6
	for d := int64(100000); d > 1 && frac < d; d /= 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, frac, 10)
	b = append(b, " ["...)
	b = strconv.AppendInt(b, int64(db), 10)
	b = append(b, ' ')
	b = append(b, addr...)
	b = append(b, "] "...)
	for j, a := range args {
		if j > 0 {
			b = append(b, ' ')
		}
		if redacted(cmd, args, j) {
			a = []byte(redactedArg)
		}
		b = appendRepr(b, a)
	}
	return append(b, '\r', '\n')
}

// appendRepr appends a quoted as Redis's sdscatrepr: "..." with \\ \" \n
// \r \t \a \b escaped and other bytes outside printable ASCII as \xHH.
func appendRepr(b, a []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, ch := range a {
		switch ch {
		case '\\', '"':
			b = append(b, '\\', ch)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\a':
			b = append(b, '\\', 'a')
		case '\b':
			b = append(b, '\\', 'b')
		default:
			if ch >= 0x20 && ch <= 0x7e {
				b = append(b, ch)
			} else {
				b = append(b, '\\', 'x', hex[ch>>4], hex[ch&15])
			}
		}
	}
	return append(b, '"')
}
