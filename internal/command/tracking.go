package command

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/skiffdb/skiff/internal/store"
)

// Client-side caching (CLIENT TRACKING), as Redis 6+ does it. In the
// default mode the node remembers, per key, the clients that read it; in
// BCAST mode, the prefixes each client registered. Every node invalidates
// from its own change feed, so a key written through any node invalidates the
// caches of the clients that read it on every node. Invalidations are RESP3
// pushes ["invalidate", [key]] on the reading connection, or, with REDIRECT,
// messages on __redis__:invalidate to a RESP2 connection subscribed there.
//
// Not done: NOLOOP is accepted but a client is also sent invalidations for
// its own writes (the feed does not carry who wrote), which costs an extra
// message but never leaves a stale cache.

// clientTracker is a client's CLIENT TRACKING state, guarded by tracker.mu
// (read by the apply goroutine when invalidating); caching is touched by the
// connection goroutine only.
type clientTracker struct {
	on, bcast, optin, optout, noloop bool
	brokenRedir                      bool
	redir                            int64
	prefixes                         []string
	caching                          bool // CLIENT CACHING yes/no for the next command
}

// tracker is the node's tracking table.
type tracker struct {
	mu       sync.Mutex
	keys     map[string]map[*Client]struct{} // default mode: key -> readers
	prefixes map[string]map[*Client]struct{} // BCAST: prefix -> clients
	clients  map[*Client]struct{}            // every tracking client
	n        atomic.Int64
	limit    func() OutputLimit
}

const invalidateChannel = "__redis__:invalidate"

// cmdClientTracking is CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...]
// [BCAST] [OPTIN] [OPTOUT] [NOLOOP], with Redis's checks in Redis's order.
func cmdClientTracking(c *Ctx) {
	var (
		redir                        int64
		bcast, optin, optout, noloop bool
		prefixes                     []string
	)
	for j := 3; j < len(c.Args); j++ {
		more := len(c.Args) - 1 - j
		switch {
		case c.ArgIs(j, "redirect") && more > 0:
			j++
			if redir != 0 {
				c.ErrorString("ERR A client can only redirect to a single other client")
				return
			}
			id, err := ParseInt(c.Args[j])
			if err != nil {
				c.Error(err)
				return
			}
			if c.Srv.clients.get(id) == nil {
				c.ErrorString("ERR The client ID you want redirect to does not exist")
				return
			}
			redir = id
		case c.ArgIs(j, "bcast"):
			bcast = true
		case c.ArgIs(j, "optin"):
			optin = true
		case c.ArgIs(j, "optout"):
			optout = true
		case c.ArgIs(j, "noloop"):
			noloop = true
		case c.ArgIs(j, "prefix") && more > 0:
			j++
			prefixes = append(prefixes, string(c.Args[j]))
		default:
			c.SyntaxError()
			return
		}
	}
	t := &c.Srv.track
	cl := c.Client
	switch {
	case c.ArgIs(2, "on"):
		if !bcast && len(prefixes) > 0 {
			c.ErrorString("ERR PREFIX option requires BCAST mode to be enabled")
			return
		}
		t.mu.Lock()
		cur := cl.trk
		t.mu.Unlock()
		if cur.on && cur.bcast != bcast {
			c.ErrorString("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.")
			return
		}
		if bcast && (optin || optout) {
			c.ErrorString("ERR OPTIN and OPTOUT are not compatible with BCAST")
			return
		}
		if optin && optout {
			c.ErrorString("ERR You can't specify both OPTIN mode and OPTOUT mode")
			return
		}
		if cur.on && ((optin && cur.optout) || (optout && cur.optin)) {
			c.ErrorString("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.")
			return
		}
		if bcast {
			if msg := prefixCollision(cur.prefixes, prefixes); msg != "" {
				c.ErrorString(msg)
				return
			}
		}
		t.enable(c.Srv, cl, redir, bcast, optin, optout, noloop, prefixes)
	case c.ArgIs(2, "off"):
		t.disable(cl)
	default:
		c.SyntaxError()
		return
	}
	c.OK()
}

// prefixCollision returns Redis's error when a new prefix overlaps an
// existing one or another new one ("" when none does).
func prefixCollision(existing, added []string) string {
	overlap := func(a, b string) bool { return strings.HasPrefix(a, b) || strings.HasPrefix(b, a) }
	for i, p := range added {
		for _, e := range existing {
			if overlap(p, e) {
				return "ERR Prefix '" + p + "' overlaps with an existing prefix '" + e + "'. Prefixes for a single client must not overlap."
			}
		}
		for j, q := range added {
			if i != j && overlap(p, q) {
				return "ERR Prefix '" + p + "' overlaps with another provided prefix '" + q + "'. Prefixes for a single client must not overlap."
			}
		}
	}
	return ""
}

func (t *tracker) enable(s *Server, cl *Client, redir int64, bcast, optin, optout, noloop bool, prefixes []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.clients == nil {
		t.clients = make(map[*Client]struct{})
		t.keys = make(map[string]map[*Client]struct{})
		t.prefixes = make(map[string]map[*Client]struct{})
		t.limit = s.pubsub.outputLimit
	}
	tr := &cl.trk
	if !tr.on {
		t.n.Add(1)
	}
	tr.on, tr.redir, tr.bcast, tr.noloop, tr.brokenRedir = true, redir, bcast, noloop, false
	tr.optin, tr.optout = optin, optout
	t.clients[cl] = struct{}{}
	if bcast {
		if len(prefixes) == 0 && len(tr.prefixes) == 0 {
			prefixes = []string{""}
		}
		for _, p := range prefixes {
			m := t.prefixes[p]
			if m == nil {
				m = make(map[*Client]struct{})
				t.prefixes[p] = m
			}
			m[cl] = struct{}{}
			tr.prefixes = append(tr.prefixes, p)
		}
	}
}

// disable turns tracking off for cl (CLIENT TRACKING OFF, RESET, close).
func (t *tracker) disable(cl *Client) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tr := &cl.trk
	if !tr.on {
		return
	}
	for _, p := range tr.prefixes {
		if m := t.prefixes[p]; m != nil {
			delete(m, cl)
			if len(m) == 0 {
				delete(t.prefixes, p)
			}
		}
	}
	delete(t.clients, cl)
	*tr = clientTracker{}
	t.n.Add(-1)
}

// remember records the keys a read-only command read, for a client
// tracking in the default mode (after the command ran).
func (s *Server) remember(ctx *Ctx, cmd *Command) {
	cl := ctx.Client
	t := &s.track
	t.mu.Lock()
	defer t.mu.Unlock()
	tr := &cl.trk
	caching := tr.caching
	// As Redis's resetClient: CLIENT CACHING covers the next command, or the
	// whole transaction when that is MULTI (rueidis sends CLIENT CACHING YES,
	// MULTI, PTTL k, GET k, EXEC).
	if cmd.Name != "client|caching" && cmd.Name != "multi" && !ctx.InExec() {
		tr.caching = false
	}
	if cmd.Flags&ReadOnly == 0 || (cmd.FirstKey <= 0 && cmd.NumKeysAt == 0) {
		return
	}
	if !tr.on || tr.bcast || (tr.optin && !caching) || (tr.optout && caching) {
		return
	}
	for _, key := range cmd.Keys(ctx.Args) {
		k := string(key)
		m := t.keys[k]
		if m == nil {
			m = make(map[*Client]struct{})
			t.keys[k] = m
		}
		m[cl] = struct{}{}
	}
}

// onEvent invalidates from the change feed (apply goroutine): a changed
// key is sent to the clients that read it and to the BCAST prefixes it
// matches; a flushed database invalidates everything.
func (t *tracker) onEvent(s *Server, ev *store.Event) {
	if t.n.Load() == 0 {
		return
	}
	switch {
	case ev.Class == store.ClassDB:
		t.mu.Lock()
		targets := make([]*Client, 0, len(t.clients))
		for cl := range t.clients {
			targets = append(targets, cl)
		}
		clear(t.keys)
		t.mu.Unlock()
		for _, cl := range targets {
			t.send(s, cl, nil)
		}
	case ev.Key != nil && ev.Class&(store.ClassNew|store.ClassServed|store.ClassPublish) == 0:
		key := string(ev.Key)
		t.mu.Lock()
		var targets []*Client
		for cl := range t.keys[key] {
			targets = append(targets, cl)
		}
		delete(t.keys, key)
		for p, m := range t.prefixes {
			if strings.HasPrefix(key, p) {
				for cl := range m {
					targets = append(targets, cl)
				}
			}
		}
		t.mu.Unlock()
		for _, cl := range targets {
			t.send(s, cl, ev.Key)
		}
	}
}

// send delivers one invalidation (key nil = everything) for cl.
func (t *tracker) send(s *Server, cl *Client, key []byte) {
	t.mu.Lock()
	tr := cl.trk
	t.mu.Unlock()
	if !tr.on {
		return
	}
	target := cl
	if tr.redir != 0 {
		target = s.clients.get(tr.redir)
		if target == nil {
			t.mu.Lock()
			cl.trk.brokenRedir = true
			t.mu.Unlock()
			if cl.protoShare.Load() == 3 && cl.Conn != nil {
				b := []byte(">2\r\n$21\r\ntracking-redir-broken\r\n:")
				b = strconv.AppendInt(b, tr.redir, 10)
				cl.Conn.Push(append(b, '\r', '\n'), t.limit())
			}
			return
		}
	}
	if target.Conn == nil {
		return
	}
	var b []byte
	switch {
	case target.protoShare.Load() == 3:
		b = append(b, ">2\r\n$10\r\ninvalidate\r\n"...)
	case tr.redir != 0 && target.Subscribed():
		b = append(b, "*3\r\n$7\r\nmessage\r\n$20\r\n"+invalidateChannel+"\r\n"...)
	default:
		return // RESP2 without a subscribed redirect: nowhere to send it
	}
	switch {
	case key != nil:
		b = append(b, "*1\r\n"...)
		b = appendBulk(b, key)
	case target.protoShare.Load() == 3:
		b = append(b, "_\r\n"...)
	default:
		b = append(b, "$-1\r\n"...)
	}
	target.Conn.Push(b, t.limit())
}

// cmdClientCaching is CLIENT CACHING YES|NO.
func cmdClientCaching(c *Ctx) {
	t := &c.Srv.track
	t.mu.Lock()
	tr := c.Client.trk
	t.mu.Unlock()
	if !tr.on {
		c.ErrorString("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
		return
	}
	switch {
	case c.ArgIs(2, "yes"):
		if !tr.optin {
			c.ErrorString("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
			return
		}
	case c.ArgIs(2, "no"):
		if !tr.optout {
			c.ErrorString("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
			return
		}
	default:
		c.SyntaxError()
		return
	}
	t.mu.Lock()
	c.Client.trk.caching = true
	t.mu.Unlock()
	c.OK()
}

// cmdClientGetRedir is CLIENT GETREDIR: -1 when not tracking, else the
// redirect id (0 = none).
func cmdClientGetRedir(c *Ctx) {
	t := &c.Srv.track
	t.mu.Lock()
	tr := c.Client.trk
	t.mu.Unlock()
	if !tr.on {
		c.W.WriteInt(-1)
		return
	}
	c.W.WriteInt(tr.redir)
}

// cmdClientTrackingInfo is CLIENT TRACKINGINFO.
func cmdClientTrackingInfo(c *Ctx) {
	t := &c.Srv.track
	t.mu.Lock()
	tr := c.Client.trk
	t.mu.Unlock()
	var flags []string
	if !tr.on {
		flags = append(flags, "off")
	} else {
		flags = append(flags, "on")
		if tr.bcast {
			flags = append(flags, "bcast")
		}
		if tr.optin {
			flags = append(flags, "optin")
			if tr.caching {
				flags = append(flags, "caching-yes")
			}
		}
		if tr.optout {
			flags = append(flags, "optout")
			if tr.caching {
				flags = append(flags, "caching-no")
			}
		}
		if tr.noloop {
			flags = append(flags, "noloop")
		}
		if tr.brokenRedir {
			flags = append(flags, "broken_redirect")
		}
	}
	c.W.WriteMapLen(3)
	c.W.WriteBulkString("flags")
	c.W.WriteSetLen(len(flags))
	for _, f := range flags {
		c.W.WriteBulkString(f)
	}
	c.W.WriteBulkString("redirect")
	switch {
	case !tr.on:
		c.W.WriteInt(-1)
	default:
		c.W.WriteInt(tr.redir)
	}
	c.W.WriteBulkString("prefixes")
	prefixes := slices.Sorted(slices.Values(tr.prefixes)) // Redis lists them from a radix tree
	c.W.WriteArrayLen(len(prefixes))
	for _, p := range prefixes {
		c.W.WriteBulkString(p)
	}
}
