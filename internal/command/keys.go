package command

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/skiffdb/skiff/internal/op"
	"github.com/skiffdb/skiff/internal/store"
)

func keyCommands() []*Command {
	const g = "generic"
	k1 := func(c *Command) *Command { c.FirstKey, c.LastKey, c.Step, c.Group = 1, 1, 1, g; return c }
	kn := func(c *Command) *Command { c.FirstKey, c.LastKey, c.Step, c.Group = 1, -1, 1, g; return c }
	k2 := func(c *Command) *Command { c.FirstKey, c.LastKey, c.Step, c.Group = 1, 2, 1, g; return c }
	return []*Command{
		kn(&Command{Name: "del", Arity: -2, Flags: Write, Since: "1.0.0", Summary: "Deletes one or more keys.", Handler: cmdDel}),
		kn(&Command{Name: "unlink", Arity: -2, Flags: Write | Fast, Since: "4.0.0", Summary: "Asynchronously deletes one or more keys.", Handler: cmdDel}),
		kn(&Command{Name: "exists", Arity: -2, Flags: ReadOnly | Fast, Since: "1.0.0", Summary: "Determines whether one or more keys exist.", Handler: cmdExists}),
		kn(&Command{Name: "touch", Arity: -2, Flags: ReadOnly | Fast, Since: "3.2.1", Summary: "Returns the number of existing keys out of those specified after updating the time they were last accessed.", Handler: cmdExists}),
		k1(&Command{Name: "type", Arity: 2, Flags: ReadOnly | Fast, Since: "1.0.0", Summary: "Determines the type of value stored at a key.", Handler: cmdType}),
		k1(&Command{Name: "expire", Arity: -3, Flags: Write | Fast, Since: "1.0.0", Summary: "Sets the expiration time of a key in seconds.", Handler: cmdExpire}),
		k1(&Command{Name: "pexpire", Arity: -3, Flags: Write | Fast, Since: "2.6.0", Summary: "Sets the expiration time of a key in milliseconds.", Handler: cmdExpire}),
		k1(&Command{Name: "expireat", Arity: -3, Flags: Write | Fast, Since: "1.2.0", Summary: "Sets the expiration time of a key to a Unix timestamp.", Handler: cmdExpire}),
		k1(&Command{Name: "pexpireat", Arity: -3, Flags: Write | Fast, Since: "2.6.0", Summary: "Sets the expiration time of a key to a Unix milliseconds timestamp.", Handler: cmdExpire}),
		k1(&Command{Name: "ttl", Arity: 2, Flags: ReadOnly | Fast, Since: "1.0.0", Summary: "Returns the expiration time in seconds of a key.", Handler: cmdTTL}),
		k1(&Command{Name: "pttl", Arity: 2, Flags: ReadOnly | Fast, Since: "2.6.0", Summary: "Returns the expiration time in milliseconds of a key.", Handler: cmdTTL}),
		k1(&Command{Name: "expiretime", Arity: 2, Flags: ReadOnly | Fast, Since: "7.0.0", Summary: "Returns the expiration time of a key as a Unix timestamp.", Handler: cmdTTL}),
		k1(&Command{Name: "pexpiretime", Arity: 2, Flags: ReadOnly | Fast, Since: "7.0.0", Summary: "Returns the expiration time of a key as a Unix milliseconds timestamp.", Handler: cmdTTL}),
		k1(&Command{Name: "persist", Arity: 2, Flags: Write | Fast, Since: "2.2.0", Summary: "Removes the expiration time of a key.", Handler: cmdPersist}),
		{Name: "keys", Arity: 2, Flags: ReadOnly, Group: g, Since: "1.0.0", Summary: "Returns all key names that match a pattern.", Handler: cmdKeys},
		{Name: "scan", Arity: -2, Flags: ReadOnly, Group: g, Since: "2.8.0", Summary: "Iterates over the key names in the database.", Handler: cmdScan},
		{Name: "randomkey", Arity: 1, Flags: ReadOnly, Group: g, Since: "1.0.0", Summary: "Returns a random key name from the database.", Handler: cmdRandomKey},
		k2(&Command{Name: "rename", Arity: 3, Flags: Write, Since: "1.0.0", Summary: "Renames a key and overwrites the destination.", Handler: cmdRename}),
		k2(&Command{Name: "renamenx", Arity: 3, Flags: Write | Fast, Since: "1.0.0", Summary: "Renames a key only when the target key name doesn't exist.", Handler: cmdRename}),
		k2(&Command{Name: "copy", Arity: -3, Flags: Write | DenyOOM, Since: "6.2.0", Summary: "Copies the value of a key to a new key.", Handler: cmdCopy}),
		k1(&Command{Name: "move", Arity: 3, Flags: Write | Fast, Since: "1.0.0", Summary: "Moves a key to another database.", Handler: cmdMove}),
		{Name: "object", Arity: -2, Group: g, Since: "2.2.3", Summary: "A container for object introspection commands.", Subcommands: objectSubcommands()},
	}
}

func objectSubcommands() map[string]*Command {
	sub := func(name string, arity int, h Handler, summary string) *Command {
		return &Command{Name: "object|" + name, Arity: arity, Flags: ReadOnly, FirstKey: 2, LastKey: 2, Step: 1, Group: "generic", Since: "2.2.3", Summary: summary, Handler: h}
	}
	return map[string]*Command{
		"encoding": sub("encoding", 3, cmdObject, "Returns the internal encoding of a Redis object."),
		"idletime": sub("idletime", 3, cmdObject, "Returns the time since the last access to a Redis object."),
		"freq":     sub("freq", 3, cmdObject, "Returns the logarithmic access frequency counter of a Redis object."),
		"refcount": sub("refcount", 3, cmdObject, "Returns the reference count of a value of a key."),
		"help": {Name: "object|help", Arity: 2, Flags: Loading | Stale, Group: "generic", Since: "6.2.0", Summary: "Returns helpful text about the different subcommands.", Handler: func(c *Ctx) {
			writeHelp(c, "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
				"ENCODING <key>", "    Return the kind of internal representation used in order to store the value", "    associated with a <key>.",
				"FREQ <key>", "    Return the access frequency index of the <key>. The returned integer is", "    proportional to the logarithm of the recent access frequency of the key.",
				"IDLETIME <key>", "    Return the idle time of the <key>, that is the approximated number of", "    seconds elapsed since the last access to the key.",
				"REFCOUNT <key>", "    Return the number of references of the value associated with the specified", "    <key>.")
		}},
	}
}

// writeHelp writes a HELP reply as Redis 7.0 does (addReplyHelp): the
// header, the lines, then "HELP" and "    Prints this help.".
func writeHelp(c *Ctx, header string, lines ...string) {
	c.W.WriteArrayLen(len(lines) + 3)
	c.W.WriteSimple(header)
	for _, l := range lines {
		c.W.WriteSimple(l)
	}
	c.W.WriteSimple("HELP")
	c.W.WriteSimple("    Prints this help.")
}

func cmdDel(c *Ctx) { c.Propose(c.NewOp(op.Del, c.Args[1:]...), ReplyInt) }

func cmdExists(c *Ctx) { c.W.WriteInt(c.Store().Exists(c.DB(), c.Args[1:], c.Now())) }

func cmdType(c *Ctx) { c.W.WriteSimple(c.Store().Type(c.DB(), c.Args[1], c.Now()).String()) }

// cmdExpire follows Redis's expireGenericCommand: the NX/XX/GT/LT options
// are checked before the time argument, and only an overflow of the unit
// conversion or of adding the base time is an invalid expire time (a
// negative or past time deletes the key).
func cmdExpire(c *Ctx) {
	var cond int64
	for i := 3; i < len(c.Args); i++ {
		switch {
		case c.ArgIs(i, "nx"):
			cond |= op.ExpireNX
		case c.ArgIs(i, "xx"):
			cond |= op.ExpireXX
		case c.ArgIs(i, "gt"):
			cond |= op.ExpireGT
		case c.ArgIs(i, "lt"):
			cond |= op.ExpireLT
		default:
			c.ErrorString("ERR Unsupported option " + string(cut(c.Args[i], 128)))
			return
		}
	}
	if cond&op.ExpireNX != 0 && cond != op.ExpireNX {
		c.ErrorString("ERR NX and XX, GT or LT options at the same time are not compatible")
		return
	}
	if cond&op.ExpireGT != 0 && cond&op.ExpireLT != 0 {
		c.ErrorString("ERR GT and LT options at the same time are not compatible")
		return
	}
	n, err := ParseInt(c.Args[2])
	if err != nil {
		c.Error(err)
		return
	}
	invalid := replyError("ERR invalid expire time in '" + c.Cmd.Name + "' command")
	if c.Cmd.Name == "expire" || c.Cmd.Name == "expireat" {
		if n > math.MaxInt64/1000 || n < math.MinInt64/1000 {
			c.Error(invalid)
			return
		}
		n *= 1000
	}
	if c.Cmd.Name == "expire" || c.Cmd.Name == "pexpire" {
		now := c.Now()
		if n > math.MaxInt64-now {
			c.Error(invalid)
			return
		}
		n += now // cannot underflow: now > 0
	}
	c.Propose(c.NewOp(op.Expire, c.Args[1], op.Itoa(n), op.Itoa(cond)), ReplyInt)
}

func cmdTTL(c *Ctx) {
	now := c.Now()
	at, ok := c.Store().Deadline(c.DB(), c.Args[1], now)
	switch {
	case !ok:
		c.W.WriteInt(-2)
	case at == 0:
		c.W.WriteInt(-1)
	default:
		switch c.Cmd.Name {
		case "ttl":
			c.W.WriteInt((max(at-now, 0) + 500) / 1000)
		case "pttl":
			c.W.WriteInt(max(at-now, 0))
		case "expiretime":
			// Rounded as Redis does, (at+500)/1000, without overflowing.
			c.W.WriteInt(at/1000 + (at%1000+500)/1000)
		default:
			c.W.WriteInt(at)
		}
	}
}

func cmdPersist(c *Ctx) { c.Propose(c.NewOp(op.Persist, c.Args[1]), ReplyInt) }

func cmdKeys(c *Ctx) {
	keys := c.Store().Keys(c.DB(), c.Args[1], c.Now())
	c.W.WriteArrayLen(len(keys))
	for _, k := range keys {
		c.W.WriteBulk(k)
	}
}

func cmdScan(c *Ctx) {
	cursor, ok := parseScanCursor(c.Args[1])
	if !ok {
		c.ErrorString("ERR invalid cursor")
		return
	}
	var opts store.ScanOptions
	for i := 2; i < len(c.Args); i++ {
		if i+1 >= len(c.Args) {
			c.SyntaxError()
			return
		}
		switch {
		case c.ArgIs(i, "match"):
			opts.Match = c.Args[i+1]
		case c.ArgIs(i, "count"):
			n, err := ParseInt(c.Args[i+1])
			if err != nil {
				c.Error(err)
				return
			}
			if n < 1 {
				c.SyntaxError()
				return
			}
			opts.Count = int(min(n, math.MaxInt32))
		case c.ArgIs(i, "type"):
			t, ok := store.ParseType(strings.ToLower(string(c.Args[i+1]))) // Redis compares with strcasecmp
			if !ok {
				// Redis 7.2 answers an unknown type with an empty page of keys.
				t = store.Type(255)
			}
			opts.Type = t
		default:
			c.SyntaxError()
			return
		}
		i++
	}
	next, keys := c.Store().Scan(c.DB(), cursor, opts, c.Now())
	c.W.WriteArrayLen(2)
	c.W.WriteBulk(strconv.AppendUint(nil, next, 10))
	c.W.WriteArrayLen(len(keys))
	for _, k := range keys {
		c.W.WriteBulk(k)
	}
}

func cmdRandomKey(c *Ctx) {
	k := c.Store().RandomKey(c.DB(), c.Now(), rand.Uint64)
	if k == nil {
		c.W.WriteNull()
		return
	}
	c.W.WriteBulk(k)
}

func cmdRename(c *Ctx) {
	nx := "0"
	reply := ReplyOK
	if c.Cmd.Name == "renamenx" {
		nx, reply = "1", ReplyInt
	}
	c.Propose(c.NewOp(op.Rename, c.Args[1], c.Args[2], []byte(nx)), reply)
}

func cmdCopy(c *Ctx) {
	dst := int64(c.DB())
	replace := "0"
	for i := 3; i < len(c.Args); i++ {
		switch {
		case c.ArgIs(i, "replace"):
			replace = "1"
		case c.ArgIs(i, "db") && i+1 < len(c.Args):
			// Each DB is checked as it is read, as Redis does.
			n, err := parseDBIndex(c, c.Args[i+1])
			if err != nil {
				c.Error(err)
				return
			}
			dst = n
			i++
		default:
			c.SyntaxError()
			return
		}
	}
	if dst == int64(c.DB()) && string(c.Args[1]) == string(c.Args[2]) {
		c.ErrorString("ERR source and destination objects are the same")
		return
	}
	c.Propose(c.NewOp(op.Copy, c.Args[1], c.Args[2], op.Itoa(dst), []byte(replace)), ReplyInt)
}

func cmdMove(c *Ctx) {
	dst, err := parseDBIndex(c, c.Args[2])
	if err != nil {
		c.Error(err)
		return
	}
	if dst == int64(c.DB()) {
		c.ErrorString("ERR source and destination objects are the same")
		return
	}
	c.Propose(c.NewOp(op.Move, c.Args[1], op.Itoa(dst)), ReplyInt)
}

// parseDBIndex parses a database number as COPY's DB and MOVE do: an int
// (getIntFromObjectOrReply, with its out-of-range message), then a database
// that exists.
func parseDBIndex(c *Ctx, arg []byte) (int64, error) {
	n, err := parseInt32(arg, "")
	if err != nil {
		return 0, err
	}
	if n < 0 || n >= c.Store().Databases() {
		return 0, ErrDBIndex
	}
	return int64(n), nil
}

func cmdObject(c *Ctx) {
	info, ok := c.Store().Object(c.DB(), c.Args[2], c.Now())
	if !ok {
		c.W.WriteNull()
		return
	}
	lfu := strings.Contains(c.Srv.params.Get("maxmemory-policy"), "lfu")
	switch c.Cmd.Name {
	case "object|encoding":
		c.W.WriteBulkString(info.Encoding)
	case "object|idletime":
		if lfu {
			c.ErrorString("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
			return
		}
		c.W.WriteInt(info.IdleMs / 1000)
	case "object|freq":
		if !lfu {
			c.ErrorString("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
			return
		}
		c.W.WriteInt(0)
	case "object|refcount":
		c.W.WriteInt(objectRefcount(c, info))
	}
}

// objectRefcount is OBJECT REFCOUNT: Redis stores an integer 0..9999 as one
// of its shared objects (refcount OBJ_SHARED_REFCOUNT) unless maxmemory is
// set with an LRU or LFU policy; every other value has one reference.
func objectRefcount(c *Ctx, info store.ObjectInfo) int64 {
	if info.Encoding != "int" {
		return 1
	}
	policy := c.Srv.params.Get("maxmemory-policy")
	if c.Srv.params.Get("maxmemory") != "0" && (strings.Contains(policy, "lru") || strings.Contains(policy, "lfu")) {
		return 1 // MAXMEMORY_FLAG_NO_SHARED_INTEGERS
	}
	if n, err := ParseInt(info.Str); err == nil && n >= 0 && n < 10000 {
		return math.MaxInt32
	}
	return 1
}
