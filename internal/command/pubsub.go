package command

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skiffdb/skiff/internal/engine"
	"github.com/skiffdb/skiff/internal/glob"
	"github.com/skiffdb/skiff/internal/op"
)

// Pub/Sub. PUBLISH and SPUBLISH go through the Raft log as an op.Publish
// that changes no state; every node hands the message to its own subscribers
// when it applies the entry (OnEvent), so a message published on any node
// reaches subscribers on every node, in the log's order. Delivery is a
// non-blocking Push onto each subscriber's connection; a subscriber that
// does not read is closed at client-output-buffer-limit's pubsub class and
// never slows the publisher or the log.

func pubsubCommands() []*Command {
	const g = "pubsub"
	f := PubSub | NoScript | Loading | Stale
	sub := func(name string, arity int, since, summary string, h Handler) *Command {
		return &Command{Name: "pubsub|" + name, Arity: arity, Flags: PubSub | Loading | Stale, Group: g, Since: since, Summary: summary, Handler: h}
	}
	return []*Command{
		{Name: "subscribe", Arity: -2, Flags: f, Group: g, Since: "2.0.0", Summary: "Listens for messages published to channels.", Handler: cmdSubscribe},
		{Name: "unsubscribe", Arity: -1, Flags: f, Group: g, Since: "2.0.0", Summary: "Stops listening to messages posted to channels.", Handler: cmdSubscribe},
		{Name: "psubscribe", Arity: -2, Flags: f, Group: g, Since: "2.0.0", Summary: "Listens for messages published to channels that match one or more patterns.", Handler: cmdSubscribe},
		{Name: "punsubscribe", Arity: -1, Flags: f, Group: g, Since: "2.0.0", Summary: "Stops listening to messages published to channels that match one or more patterns.", Handler: cmdSubscribe},
		{Name: "ssubscribe", Arity: -2, Flags: f, Group: g, Since: "7.0.0", Summary: "Listens for messages published to shard channels.", FirstKey: 1, LastKey: -1, Step: 1, Handler: cmdSubscribe},
		{Name: "sunsubscribe", Arity: -1, Flags: f, Group: g, Since: "7.0.0", Summary: "Stops listening to messages posted to shard channels.", FirstKey: 1, LastKey: -1, Step: 1, Handler: cmdSubscribe},
		{Name: "publish", Arity: 3, Flags: PubSub | Loading | Stale | Fast | MayReplicate, Group: g, Since: "2.0.0", Summary: "Posts a message to a channel.", Handler: cmdPublish},
		{Name: "spublish", Arity: 3, Flags: PubSub | Loading | Stale | Fast | MayReplicate, Group: g, Since: "7.0.0", Summary: "Post a message to a shard channel", FirstKey: 1, LastKey: 1, Step: 1, Handler: cmdPublish},
		{Name: "pubsub", Arity: -2, Group: g, Since: "2.8.0", Summary: "A container for Pub/Sub commands.", Subcommands: map[string]*Command{
			"channels":      sub("channels", -2, "2.8.0", "Returns the active channels.", cmdPubsubChannels),
			"numsub":        sub("numsub", -2, "2.8.0", "Returns a count of subscribers to channels.", cmdPubsubNumsub),
			"numpat":        sub("numpat", 2, "2.8.0", "Returns a count of unique pattern subscriptions.", cmdPubsubNumpat),
			"shardchannels": sub("shardchannels", -2, "7.0.0", "Returns the active shard channels.", cmdPubsubChannels),
			"shardnumsub":   sub("shardnumsub", -2, "7.0.0", "Returns the count of subscribers of shard channels.", cmdPubsubNumsub),
			"help":          {Name: "pubsub|help", Arity: 2, Flags: Loading | Stale, Group: g, Since: "6.2.0", Summary: "Returns helpful text about the different subcommands.", Handler: cmdPubsubHelp},
		}},
	}
}

// Subscription kinds.
const (
	subChannel = iota
	subPattern
	subShard
	subKinds
)

var subNames = [subKinds][2]string{
	subChannel: {"subscribe", "unsubscribe"},
	subPattern: {"psubscribe", "punsubscribe"},
	subShard:   {"ssubscribe", "sunsubscribe"},
}

// clientSubs is a client's subscriptions, guarded by the hub's lock.
type clientSubs struct {
	set [subKinds]map[string]struct{}
	n   atomic.Int64 // total, readable without the lock
}

func (cs *clientSubs) count(kind int) int { return len(cs.set[kind]) }

// pubsubHub holds this node's subscriptions.
type pubsubHub struct {
	mu     sync.RWMutex
	subs   [subKinds]map[string]map[*Client]struct{}
	params *Params
	// limit caches client-output-buffer-limit's pubsub class.
	limit atomic.Pointer[limitCache]
	// subscribed counts clients with at least one subscription (a cheap
	// test on the publish path).
	subscribed atomic.Int64
}

type limitCache struct {
	raw string
	lim OutputLimit
}

// outputLimit returns the pubsub output-buffer limit now in force.
func (h *pubsubHub) outputLimit() OutputLimit {
	if h.params == nil {
		return OutputLimit{Hard: 32 << 20, Soft: 8 << 20, SoftFor: time.Minute}
	}
	raw := h.params.Get("client-output-buffer-limit")
	if c := h.limit.Load(); c != nil && c.raw == raw {
		return c.lim
	}
	c := &limitCache{raw: raw}
	f := strings.Fields(raw)
	for i := 0; i+3 < len(f); i += 4 {
		if f[i] == "pubsub" {
			hard, _ := strconv.ParseInt(f[i+1], 10, 64)
			soft, _ := strconv.ParseInt(f[i+2], 10, 64)
			secs, _ := strconv.ParseInt(f[i+3], 10, 64)
			c.lim = OutputLimit{Hard: hard, Soft: soft, SoftFor: time.Duration(secs) * time.Second}
		}
	}
	h.limit.Store(c)
	return c.lim
}

// subscribe adds (or with unsub removes) the client's subscription and
// returns whether it changed anything and the client's new count for the
// reply.
func (h *pubsubHub) change(c *Client, kind int, name []byte, unsub bool) (changed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	before := c.subs.total()
	cs := &c.subs.set[kind]
	key := string(name)
	if unsub {
		if _, ok := (*cs)[key]; !ok {
			return false
		}
		delete(*cs, key)
		m := h.subs[kind][key]
		delete(m, c)
		if len(m) == 0 {
			delete(h.subs[kind], key)
		}
	} else {
		if _, ok := (*cs)[key]; ok {
			return false
		}
		if *cs == nil {
			*cs = make(map[string]struct{})
		}
		(*cs)[key] = struct{}{}
		if h.subs[kind] == nil {
			h.subs[kind] = make(map[string]map[*Client]struct{})
		}
		m := h.subs[kind][key]
		if m == nil {
			m = make(map[*Client]struct{})
			h.subs[kind][key] = m
		}
		m[c] = struct{}{}
	}
	after := c.subs.total()
	c.subs.n.Store(int64(after))
	switch {
	case before == 0 && after > 0:
		h.subscribed.Add(1)
	case before > 0 && after == 0:
		h.subscribed.Add(-1)
	}
	return true
}

func (cs *clientSubs) total() int {
	return len(cs.set[subChannel]) + len(cs.set[subPattern]) + len(cs.set[subShard])
}

// names returns the client's subscriptions of kind, sorted.
func (h *pubsubHub) names(c *Client, kind int) []string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]string, 0, len(c.subs.set[kind]))
	for n := range c.subs.set[kind] {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// counts returns the client's subscription counts (channels+patterns, shard).
func (h *pubsubHub) counts(c *Client) (normal, shard int) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return c.subs.count(subChannel) + c.subs.count(subPattern), c.subs.count(subShard)
}

// removeClient drops every subscription of a closed or reset client.
func (h *pubsubHub) removeClient(c *Client) {
	for kind := range subKinds {
		for _, n := range h.names(c, kind) {
			h.change(c, kind, []byte(n), true)
		}
	}
}

// Subscribed reports whether c has any subscription (RESP2's subscribed
// context restricts its commands).
func (c *Client) Subscribed() bool { return c.subs.n.Load() > 0 }

// publish delivers msg on channel to every local subscriber without
// blocking and returns how many received it (a client subscribed to the
// channel and to a matching pattern counts twice, as in Redis).
func (h *pubsubHub) publish(sharded bool, channel, msg []byte) int64 {
	if h.subscribed.Load() == 0 {
		return 0
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	var n int64
	var lim OutputLimit
	var limSet bool
	deliver := func(c *Client, enc *[2][]byte, build func(proto int) []byte) {
		if !limSet {
			lim, limSet = h.outputLimit(), true
		}
		p := int(c.protoShare.Load())
		i := 0
		if p == 3 {
			i = 1
		}
		if enc[i] == nil {
			enc[i] = build(p)
		}
		if c.Conn != nil && c.Conn.Push(enc[i], lim) {
			n++
		}
	}
	if sharded {
		var enc [2][]byte
		for c := range h.subs[subShard][string(channel)] {
			deliver(c, &enc, func(p int) []byte { return encodeMessage(p, "smessage", nil, channel, msg) })
		}
		return n
	}
	var enc [2][]byte
	for c := range h.subs[subChannel][string(channel)] {
		deliver(c, &enc, func(p int) []byte { return encodeMessage(p, "message", nil, channel, msg) })
	}
	for pat, clients := range h.subs[subPattern] {
		if !glob.MatchString(pat, string(channel), false) {
			continue
		}
		var penc [2][]byte
		for c := range clients {
			deliver(c, &penc, func(p int) []byte { return encodeMessage(p, "pmessage", []byte(pat), channel, msg) })
		}
	}
	return n
}

// localReceivers counts the local subscribers a publish on channel reaches
// (PUBLISH's reply on a node that forwarded the message to the leader).
func (h *pubsubHub) localReceivers(sharded bool, channel []byte) int64 {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if sharded {
		return int64(len(h.subs[subShard][string(channel)]))
	}
	n := int64(len(h.subs[subChannel][string(channel)]))
	for pat, clients := range h.subs[subPattern] {
		if glob.MatchString(pat, string(channel), false) {
			n += int64(len(clients))
		}
	}
	return n
}

// encodeMessage encodes a message push: [kind, (pattern,) channel, msg],
// a RESP3 push or a RESP2 array.
func encodeMessage(proto int, kind string, pattern, channel, msg []byte) []byte {
	n := 3
	if pattern != nil {
		n = 4
	}
	b := make([]byte, 0, 48+len(kind)+len(pattern)+len(channel)+len(msg))
	if proto == 3 {
		b = append(b, '>')
	} else {
		b = append(b, '*')
	}
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, '\r', '\n')
	b = appendBulk(b, []byte(kind))
	if pattern != nil {
		b = appendBulk(b, pattern)
	}
	b = appendBulk(b, channel)
	return appendBulk(b, msg)
}

func appendBulk(b, v []byte) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(v)), 10)
	b = append(b, '\r', '\n')
	b = append(b, v...)
	return append(b, '\r', '\n')
}

// cmdSubscribe is SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE,
// SSUBSCRIBE and SUNSUBSCRIBE: one confirmation per channel, each carrying
// the client's subscription count after it. The confirmations are flushed
// before the subscription can receive anything, so no message overtakes them.
func cmdSubscribe(c *Ctx) {
	name := c.Cmd.Name
	unsub := strings.Contains(name, "unsub")
	kind := subChannel
	switch name {
	case "psubscribe", "punsubscribe":
		kind = subPattern
	case "ssubscribe", "sunsubscribe":
		kind = subShard
	}
	h := &c.Srv.pubsub
	cl := c.Client
	names := c.Args[1:]
	if unsub && len(names) == 0 {
		for _, n := range h.names(cl, kind) {
			names = append(names, []byte(n))
		}
		if len(names) == 0 {
			normal, shard := h.counts(cl)
			count := normal
			if kind == subShard {
				count = shard
			}
			c.W.WritePushLen(3)
			c.W.WriteBulkString(subNames[kind][1])
			c.W.WriteNull()
			c.W.WriteInt(int64(count))
			return
		}
	}
	for _, n := range names {
		h.change(cl, kind, n, unsub)
		normal, shard := h.counts(cl)
		count := normal
		if kind == subShard {
			count = shard
		}
		c.W.WritePushLen(3)
		c.W.WriteBulkString(subNames[kind][b2i(unsub)])
		c.W.WriteBulk(n)
		c.W.WriteInt(int64(count))
	}
}

// cmdPublish is PUBLISH and SPUBLISH: the message goes through the log (on
// the leader directly, from a follower forwarded to it). The reply counts
// the receivers on the node the client is connected to, as in Redis Cluster.
func cmdPublish(c *Ctx) {
	sharded := c.Cmd.Name == "spublish"
	kind := []byte("0")
	if sharded {
		kind = []byte("1")
	}
	if c.Srv.eng.IsLeader() {
		c.Propose(c.NewOp(op.Publish, kind, c.Args[1], c.Args[2]), ReplyInt)
		return
	}
	if c.Client.Internal {
		c.Error(engine.ErrNotLeader)
		return
	}
	reply, err := c.Srv.eng.Forward(c.ctx, c.Client.DB, c.Client.Proto, c.Args)
	if err != nil {
		c.Error(err)
		return
	}
	if len(reply) > 0 && reply[0] == '-' {
		c.failed = true
		c.W.WriteRaw(reply)
		return
	}
	c.W.WriteInt(c.Srv.pubsub.localReceivers(sharded, c.Args[1]))
}

// cmdPubsubChannels is PUBSUB CHANNELS|SHARDCHANNELS [pattern].
func cmdPubsubChannels(c *Ctx) {
	if len(c.Args) > 3 {
		c.ErrorString("ERR unknown subcommand or wrong number of arguments for '" + string(cut(c.Args[1], 128)) + "'. Try PUBSUB HELP.")
		return
	}
	kind := subChannel
	if c.Cmd.Name == "pubsub|shardchannels" {
		kind = subShard
	}
	h := &c.Srv.pubsub
	h.mu.RLock()
	var out []string
	for ch := range h.subs[kind] {
		if len(c.Args) == 3 && !glob.MatchString(string(c.Args[2]), ch, false) {
			continue
		}
		out = append(out, ch)
	}
	h.mu.RUnlock()
	slices.Sort(out)
	c.W.WriteArrayLen(len(out))
	for _, ch := range out {
		c.W.WriteBulkString(ch)
	}
}

// cmdPubsubNumsub is PUBSUB NUMSUB|SHARDNUMSUB [channel ...].
func cmdPubsubNumsub(c *Ctx) {
	kind := subChannel
	if c.Cmd.Name == "pubsub|shardnumsub" {
		kind = subShard
	}
	h := &c.Srv.pubsub
	h.mu.RLock()
	defer h.mu.RUnlock()
	chans := c.Args[2:]
	if c.W.Proto() == 3 && kind == subShard {
		c.W.WriteMapLen(len(chans))
	} else {
		c.W.WriteArrayLen(2 * len(chans))
	}
	for _, ch := range chans {
		c.W.WriteBulk(ch)
		c.W.WriteInt(int64(len(h.subs[kind][string(ch)])))
	}
}

// cmdPubsubNumpat is PUBSUB NUMPAT: the number of distinct patterns.
func cmdPubsubNumpat(c *Ctx) {
	h := &c.Srv.pubsub
	h.mu.RLock()
	n := len(h.subs[subPattern])
	h.mu.RUnlock()
	c.W.WriteInt(int64(n))
}

func cmdPubsubHelp(c *Ctx) {
	writeHelp(c, "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"CHANNELS [<pattern>]",
		"    Return the currently active channels matching a <pattern> (default: '*').",
		"NUMPAT",
		"    Return number of subscriptions to patterns.",
		"NUMSUB [<channel> ...]",
		"    Return the number of subscribers for the specified channels, excluding",
		"    pattern subscriptions(default: no channels).",
		"SHARDCHANNELS [<pattern>]",
		"    Return the currently active shard level channels matching a <pattern> (default: '*').",
		"SHARDNUMSUB [<shardchannel> ...]",
		"    Return the number of subscribers for the specified shard level channel(s)",
	)
}

// allowedSubscribed reports whether a RESP2 connection with subscriptions
// may run the command.
func allowedSubscribed(name string) bool {
	switch name {
	case "subscribe", "ssubscribe", "sunsubscribe", "psubscribe", "unsubscribe", "punsubscribe", "ping", "quit", "reset":
		return true
	}
	return false
}
