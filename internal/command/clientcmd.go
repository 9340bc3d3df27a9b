package command

import (
	"io"
	"strconv"
	"time"

	"github.com/skiffdb/skiff/internal/resp"
)

// replyMode is a connection's CLIENT REPLY state.
type replyMode uint8

const (
	replyOn   replyMode = iota
	replyOff            // CLIENT REPLY OFF: no replies until CLIENT REPLY ON
	replySkip           // CLIENT REPLY SKIP: the next command's reply is dropped
)

// replyState is the per-client CLIENT REPLY machinery, owned by the
// connection goroutine.
type replyState struct {
	mode  replyMode
	real  *resp.Writer // the connection's writer while replies are muted
	sink  *resp.Writer // discards replies
	proto int          // the protocol when the muted command started
}

// replyWriter returns the writer the next command's replies go to: w itself,
// or a discarding writer while CLIENT REPLY OFF is on or for the one command
// after CLIENT REPLY SKIP. Server.Exec calls it before running a command and
// restoreProto after.
func (c *Client) replyWriter(w *resp.Writer) *resp.Writer {
	if c.reply.mode == replyOn {
		return w
	}
	if c.reply.mode == replySkip {
		c.reply.mode = replyOn
	}
	if c.reply.sink == nil {
		c.reply.sink = resp.NewWriter(io.Discard)
	}
	c.reply.real = w
	c.reply.proto = w.Proto()
	c.reply.sink.SetProto(w.Proto())
	return c.reply.sink
}

// restoreProto carries a protocol switch made while replies were muted (HELLO
// under CLIENT REPLY OFF) to the connection's writer, and drops what the
// muted command wrote.
func (c *Client) restoreProto(w, used *resp.Writer) {
	if used != w {
		if used.Proto() != c.reply.proto {
			w.SetProto(used.Proto())
		}
		_ = used.Flush()
	}
}

// unmute turns replies back on from within a command running muted (CLIENT
// REPLY ON, RESET): its own reply reaches the connection.
func unmute(c *Ctx) {
	cl := c.Client
	if c.W == cl.reply.sink && cl.reply.real != nil {
		c.W = cl.reply.real
	}
	cl.reply.mode = replyOn
}

// errClientName is Redis's error for a name with forbidden characters.
const errClientName replyError = "ERR Client names cannot contain spaces, newlines or special characters."

// validClientAttr reports whether b may be a client name, lib-name or
// lib-ver: printable ASCII without spaces ('!'..'~'), as Redis requires.
func validClientAttr(b []byte) bool {
	for _, ch := range b {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

func clientSubcommands() map[string]*Command {
	const g = "connection"
	sub := func(name string, arity int, f Flags, since, summary, complexity string, h Handler) *Command {
		return &Command{Name: "client|" + name, Arity: arity, Flags: f, Group: g, Since: since, Summary: summary, Complexity: complexity, Handler: h}
	}
	const std = NoScript | Loading | Stale
	return map[string]*Command{
		"id":           sub("id", 2, std, "5.0.0", "Returns the unique client ID of the connection.", "O(1)", func(c *Ctx) { c.W.WriteInt(c.Client.ID) }),
		"getname":      sub("getname", 2, std, "2.6.9", "Returns the name of the connection.", "O(1)", cmdClientGetName),
		"setname":      sub("setname", 3, std, "2.6.9", "Sets the connection name.", "O(1)", cmdClientSetName),
		"setinfo":      sub("setinfo", 4, std, "7.2.0", "Sets information specific to the client or connection.", "O(1)", cmdClientSetInfo),
		"info":         sub("info", 2, std, "6.2.0", "Returns information about the connection.", "O(1)", cmdClientInfo),
		"list":         sub("list", -2, Admin|std, "2.4.0", "Lists open connections.", "O(N) where N is the number of client connections", cmdClientList),
		"kill":         sub("kill", -3, Admin|std, "2.4.0", "Terminates open connections.", "O(N) where N is the number of client connections", cmdClientKill),
		"no-evict":     sub("no-evict", 3, Admin|std, "7.0.0", "Sets the client eviction mode of the connection.", "O(1)", cmdClientNoEvict),
		"no-touch":     sub("no-touch", 3, std, "7.2.0", "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.", "O(1)", cmdClientNoTouch),
		"reply":        sub("reply", 3, std, "3.2.0", "Instructs the server whether to reply to commands.", "O(1)", cmdClientReply),
		"help":         sub("help", 2, Loading|Stale, "5.0.0", "Returns helpful text about the different subcommands.", "O(1)", cmdClientHelp),
		"tracking":     sub("tracking", -3, std, "6.0.0", "Controls server-assisted client-side caching for the connection.", "O(1). Some options may introduce additional complexity.", cmdClientTracking),
		"caching":      sub("caching", 3, std, "6.0.0", "Instructs the server whether to track the keys in the next request.", "O(1)", cmdClientCaching),
		"getredir":     sub("getredir", 2, std, "6.0.0", "Returns the client ID to which the connection's tracking notifications are redirected.", "O(1)", cmdClientGetRedir),
		"trackinginfo": sub("trackinginfo", 2, std, "6.2.0", "Returns information about server-assisted client-side caching for the connection.", "O(1)", cmdClientTrackingInfo),
		"unblock":      sub("unblock", -3, Admin|std, "5.0.0", "Unblocks a client blocked by a blocking command from a different connection.", "O(log N) where N is the number of client connections", cmdClientUnblock),
	}
}

func cmdClientGetName(c *Ctx) {
	if n := c.Client.Name(); n != "" {
		c.W.WriteBulkString(n)
		return
	}
	c.W.WriteNull()
}

func cmdClientSetName(c *Ctx) {
	if !validClientAttr(c.Args[2]) {
		c.Error(errClientName)
		return
	}
	c.Client.SetName(string(c.Args[2]))
	c.OK()
}

func cmdClientSetInfo(c *Ctx) {
	attr := string(c.Args[2])
	val := string(c.Args[3])
	var name, ver *string
	switch {
	case c.ArgIs(2, "lib-name"):
		name = &val
	case c.ArgIs(2, "lib-ver"):
		ver = &val
	default:
		c.ErrorString("ERR Unrecognized option '" + attr + "'")
		return
	}
	if !validClientAttr(c.Args[3]) {
		c.ErrorString("ERR " + attr + " cannot contain spaces, newlines or special characters.")
		return
	}
	c.Client.SetLibInfo(name, ver)
	c.OK()
}

// clientView is a client's CLIENT LIST line: its Snapshot and what the
// command layer adds (snapshot).
type clientView struct {
	Snapshot
	multi   int   // commands queued in MULTI; -1 outside a transaction
	omem    int64 // pushed bytes not yet written (Conn.Pending)
	monitor bool  // MONITOR is on
}

// appendClientInfo appends Redis 7.2's CLIENT LIST line for v (without the
// newline). Fields skiff does not track (fd, the query and reply buffers
// and their memory) read 0 or -1; omem is the bytes of pushed messages
// (pub/sub, invalidations, MONITOR) not yet written, and tot-mem counts
// them too.
func appendClientInfo(b []byte, v clientView) []byte {
	s := &v.Snapshot
	b = append(b, "id="...)
	b = strconv.AppendInt(b, s.ID, 10)
	b = append(b, " addr="...)
	b = append(b, s.Addr...)
	b = append(b, " laddr="...)
	b = append(b, s.LAddr...)
	b = append(b, " fd=-1 name="...)
	b = append(b, s.Name...)
	b = append(b, " age="...)
	b = strconv.AppendInt(b, s.AgeSec, 10)
	b = append(b, " idle="...)
	b = strconv.AppendInt(b, s.IdleSec, 10)
	b = append(b, " flags="...)
	n := len(b)
	// In Redis's order (getClientInfoString).
	if v.monitor {
		b = append(b, 'O')
	}
	if s.Sub+s.PSub+s.SSub > 0 {
		b = append(b, 'P')
	}
	if v.multi >= 0 {
		b = append(b, 'x')
	}
	if s.Blocked {
		b = append(b, 'b')
	}
	if s.Tracking {
		b = append(b, 't')
	}
	if s.NoEvict {
		b = append(b, 'e')
	}
	if s.NoTouch {
		b = append(b, 'T')
	}
	if len(b) == n {
		b = append(b, 'N')
	}
	b = append(b, " db="...)
	b = strconv.AppendInt(b, int64(s.DB), 10)
	b = append(b, " sub="...)
	b = strconv.AppendInt(b, int64(s.Sub), 10)
	b = append(b, " psub="...)
	b = strconv.AppendInt(b, int64(s.PSub), 10)
	b = append(b, " ssub="...)
	b = strconv.AppendInt(b, int64(s.SSub), 10)
	b = append(b, " multi="...)
	b = strconv.AppendInt(b, int64(v.multi), 10)
	b = append(b, " qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem="...)
	b = strconv.AppendInt(b, v.omem, 10)
	b = append(b, " tot-mem="...)
	b = strconv.AppendInt(b, v.omem, 10)
	b = append(b, " events=r"...)
	if v.omem > 0 {
		b = append(b, 'w')
	}
	b = append(b, " cmd="...)
	b = append(b, s.LastCmd...)
	b = append(b, " user=default redir="...)
	b = strconv.AppendInt(b, s.Redir, 10)
	b = append(b, " resp="...)
	b = strconv.AppendInt(b, int64(s.Proto), 10)
	b = append(b, " lib-name="...)
	b = append(b, s.LibName...)
	b = append(b, " lib-ver="...)
	b = append(b, s.LibVer...)
	return b
}

// snapshot returns cl's listing as seen by the command running in c: for
// the calling client the current command and no idle time, as Redis shows
// them (it records the command before running it). A transaction's state
// is owned by its connection goroutine, so only the caller's shows (flag x
// and multi: inside EXEC, the commands it runs, and cmd=exec as in Redis);
// other clients read multi=-1.
func snapshot(c *Ctx, cl *Client, now time.Time) clientView {
	v := clientView{Snapshot: cl.Snapshot(now), multi: -1}
	s := &v.Snapshot
	h := &c.Srv.pubsub
	h.mu.RLock()
	s.Sub, s.PSub, s.SSub = cl.subs.count(subChannel), cl.subs.count(subPattern), cl.subs.count(subShard)
	h.mu.RUnlock()
	s.Blocked = cl.blk.w.Load() != nil
	t := &c.Srv.track
	t.mu.Lock()
	s.Tracking, s.Redir = cl.trk.on, -1
	if cl.trk.on {
		s.Redir = cl.trk.redir
	}
	t.mu.Unlock()
	if cl.Conn != nil {
		v.omem = cl.Conn.Pending()
	}
	v.monitor = c.Srv.intro.mon.has(cl)
	if cl == c.Client {
		s.LastCmd = c.Cmd.Name
		s.IdleSec = 0
		switch {
		case c.txn != nil:
			v.multi, s.LastCmd = len(c.txn.steps), "exec"
		case cl.tx.multi:
			v.multi = len(cl.tx.queue)
		}
	}
	return v
}

func cmdClientInfo(c *Ctx) {
	b := appendClientInfo(nil, snapshot(c, c.Client, time.Now()))
	c.W.WriteVerbatim("txt", append(b, '\n'))
}

// clientTypeKnown reports whether name is one of Redis's client types for
// CLIENT LIST/KILL TYPE. Every skiff connection is of type normal.
func clientTypeKnown(name string) (normal, ok bool) {
	switch {
	case equalFold(name, "normal"):
		return true, true
	case equalFold(name, "slave"), equalFold(name, "replica"), equalFold(name, "master"), equalFold(name, "pubsub"):
		return false, true
	}
	return false, false
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// cmdClientList is CLIENT LIST [TYPE type | ID id [id ...]].
func cmdClientList(c *Ctx) {
	now := time.Now()
	var b []byte
	switch {
	case len(c.Args) == 4 && c.ArgIs(2, "type"):
		normal, ok := clientTypeKnown(c.Arg(3))
		if !ok {
			c.ErrorString("ERR Unknown client type '" + c.Arg(3) + "'")
			return
		}
		if normal {
			for _, cl := range c.Srv.clients.list() {
				b = append(appendClientInfo(b, snapshot(c, cl, now)), '\n')
			}
		}
	case len(c.Args) > 3 && c.ArgIs(2, "id"):
		ids := make([]int64, 0, len(c.Args)-3)
		for i := 3; i < len(c.Args); i++ {
			id, err := ParseInt(c.Args[i])
			if err != nil {
				c.ErrorString("ERR Invalid client ID")
				return
			}
			ids = append(ids, id)
		}
		byID := make(map[int64]*Client)
		for _, cl := range c.Srv.clients.list() {
			byID[cl.ID] = cl
		}
		for _, id := range ids {
			if cl := byID[id]; cl != nil {
				b = append(appendClientInfo(b, snapshot(c, cl, now)), '\n')
			}
		}
	case len(c.Args) != 2:
		c.SyntaxError()
		return
	default:
		for _, cl := range c.Srv.clients.list() {
			b = append(appendClientInfo(b, snapshot(c, cl, now)), '\n')
		}
	}
	if b == nil {
		b = []byte{}
	}
	c.W.WriteVerbatim("txt", b)
}

// cmdClientKill is CLIENT KILL addr (old form: +OK or "No such client", may
// kill the caller) or CLIENT KILL <filter> <value> ... (new form: the count
// killed; the caller is skipped unless SKIPME no). Killing the caller sets
// CloseAfterReply so the reply is sent before the connection closes.
func cmdClientKill(c *Ctx) {
	var (
		addr, laddr     *string
		id              int64
		typeSet, normal bool
		skipme          = true
	)
	old := len(c.Args) == 3
	if old {
		a := c.Arg(2)
		addr = &a
		skipme = false
	} else {
		for i := 2; i < len(c.Args); i += 2 {
			more := i+1 < len(c.Args)
			if !more {
				c.SyntaxError()
				return
			}
			v := c.Arg(i + 1)
			switch {
			case c.ArgIs(i, "id"):
				n, err := ParseInt(c.Args[i+1])
				if err != nil || n < 1 {
					c.ErrorString("ERR client-id should be greater than 0")
					return
				}
				id = n
			case c.ArgIs(i, "type"):
				n, ok := clientTypeKnown(v)
				if !ok {
					c.ErrorString("ERR Unknown client type '" + v + "'")
					return
				}
				typeSet, normal = true, n
			case c.ArgIs(i, "addr"):
				addr = &v
			case c.ArgIs(i, "laddr"):
				laddr = &v
			case c.ArgIs(i, "user"):
				if v != defaultUser {
					c.ErrorString("ERR No such user '" + v + "'")
					return
				}
			case c.ArgIs(i, "skipme"):
				switch {
				case equalFold(v, "yes"):
					skipme = true
				case equalFold(v, "no"):
					skipme = false
				default:
					c.SyntaxError()
					return
				}
			default:
				c.SyntaxError()
				return
			}
		}
	}
	killed := int64(0)
	for _, cl := range c.Srv.clients.list() {
		switch {
		case addr != nil && cl.Addr != *addr,
			laddr != nil && cl.LAddr != *laddr,
			typeSet && !normal,
			id != 0 && cl.ID != id,
			cl == c.Client && skipme:
			continue
		}
		if cl == c.Client {
			c.Client.CloseAfterReply = true
		} else if cl.Kill != nil {
			cl.Kill()
		}
		killed++
	}
	if !old {
		c.W.WriteInt(killed)
		return
	}
	if killed == 0 {
		c.ErrorString("ERR No such client")
		return
	}
	c.OK()
}

// onOff parses CLIENT NO-EVICT / NO-TOUCH's argument.
func onOff(c *Ctx, i int) (on, ok bool) {
	switch {
	case c.ArgIs(i, "on"):
		return true, true
	case c.ArgIs(i, "off"):
		return false, true
	}
	c.SyntaxError()
	return false, false
}

// cmdClientNoEvict records the flag (shown in CLIENT LIST); skiff never
// evicts clients.
func cmdClientNoEvict(c *Ctx) {
	if on, ok := onOff(c, 2); ok {
		c.Client.noEvict.Store(on)
		c.OK()
	}
}

// cmdClientNoTouch records the flag (shown in CLIENT LIST).
func cmdClientNoTouch(c *Ctx) {
	if on, ok := onOff(c, 2); ok {
		c.Client.noTouch.Store(on)
		c.OK()
	}
}

// cmdClientReply is CLIENT REPLY ON|OFF|SKIP. OFF and SKIP are not answered
// (that is their point); ON is answered even when replies were off.
func cmdClientReply(c *Ctx) {
	switch {
	case c.ArgIs(2, "on"):
		unmute(c)
		c.OK()
	case c.ArgIs(2, "off"):
		c.Client.reply.mode = replyOff
	case c.ArgIs(2, "skip"):
		if c.Client.reply.mode != replyOff {
			c.Client.reply.mode = replySkip
		}
	default:
		c.SyntaxError()
	}
}

func cmdClientHelp(c *Ctx) {
	writeHelp(c, "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"CACHING (YES|NO)",
		"    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
		"GETREDIR",
		"    Return the client ID we are redirecting to when tracking is enabled.",
		"GETNAME",
		"    Return the name of the current connection.",
		"ID",
		"    Return the ID of the current connection.",
		"INFO",
		"    Return information about the current client connection.",
		"KILL <ip:port>",
		"    Kill connection made from <ip:port>.",
		"KILL <option> <value> [<option> <value> [...]]",
		"    Kill connections. Options are:",
		"    * ADDR (<ip:port>|<unixsocket>:0)",
		"      Kill connections made from the specified address",
		"    * LADDR (<ip:port>|<unixsocket>:0)",
		"      Kill connections made to specified local address",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Kill connections by type.",
		"    * USER <username>",
		"      Kill connections authenticated by <username>.",
		"    * SKIPME (YES|NO)",
		"      Skip killing current connection (default: yes).",
		"LIST [options ...]",
		"    Return information about client connections. Options:",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Return clients of specified type.",
		"UNPAUSE",
		"    Stop the current client pause, resuming traffic.",
		"PAUSE <timeout> [WRITE|ALL]",
		"    Suspend all, or just write, clients for <timeout> milliseconds.",
		"REPLY (ON|OFF|SKIP)",
		"    Control the replies sent to the current connection.",
		"SETNAME <name>",
		"    Assign the name <name> to the current connection.",
		"SETINFO <option> <value>",
		"    Set client meta attr. Options are:",
		"    * LIB-NAME: the client lib name.",
		"    * LIB-VER: the client lib version.",
		"UNBLOCK <clientid> [TIMEOUT|ERROR]",
		"    Unblock the specified blocked client.",
		"TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
		"         [OPTIN] [OPTOUT] [NOLOOP]",
		"    Control server assisted client side caching.",
		"TRACKINGINFO",
		"    Report tracking status for the current connection.",
		"NO-EVICT (ON|OFF)",
		"    Protect current client connection from eviction.",
		"NO-TOUCH (ON|OFF)",
		"    Will not touch LRU/LFU stats when this mode is on.")
}
