package command

import (
	"math"

	"github.com/skiffdb/skiff/internal/op"
	"github.com/skiffdb/skiff/internal/store"
)

// The SKIFF.KV.* commands: the keyspace API (api.go) as commands, so that
// gRPC and REST requests take the command layer's one path (routing, read
// fences, forwarding, batching, errors, statistics). They are skiff
// extensions open to RESP clients too: string keys with revisions,
// conditional puts and deletes, ordered ranges and compare-then-else
// transactions, like etcd's KV API (docs/commands.md).
//
//	SKIFF.KV.GET key
//	    -> nil, or [value, revision, expire-at-ms]
//	SKIFF.KV.PUT key value [PX ms] [NX] [IFREV rev]
//	    -> [written 0|1, revision]
//	SKIFF.KV.DEL key [IFREV rev]
//	    -> [deleted 0|1, revision]
//	SKIFF.KV.RANGE [PREFIX p | START s [END e]] [AFTER key] [LIMIT n] [KEYSONLY]
//	    -> [revision, more 0|1, [[key, value|nil, revision, expire-at-ms] ...]]
//	SKIFF.KV.TXN ncmp {key VALUE|REV|EXISTS =|!=|<|> operand}... nthen
//	        {PUT key value ttl-ms | DEL key}... {PUT ... | DEL ...}...
//	    -> [succeeded 0|1, revision]
//
// Revisions are store revisions (package store): a key's is the revision
// of the last operation that changed it, identical on every replica.

const (
	cmdNameKVGet   = "skiff.kv.get"
	cmdNameKVPut   = "skiff.kv.put"
	cmdNameKVDel   = "skiff.kv.del"
	cmdNameKVRange = "skiff.kv.range"
	cmdNameKVTxn   = "skiff.kv.txn"
)

// Range page sizes.
const (
	kvRangeDefault = 1000
	kvRangeMax     = 10000
)

func kvCommands() []*Command {
	const g, since = "skiff", "skiff 0.1"
	return []*Command{
		{Name: cmdNameKVGet, Arity: 2, Flags: ReadOnly | Fast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: since,
			Summary: "Returns a string key's value, revision and deadline (nil when absent).", Complexity: "O(1)", Handler: cmdKVGet},
		{Name: cmdNameKVPut, Arity: -3, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: since,
			Summary: "Sets a string value, optionally only if absent or at a revision; returns whether it was written and the key's revision.", Complexity: "O(1)", Handler: cmdKVPut},
		{Name: cmdNameKVDel, Arity: -2, Flags: Write | Fast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: since,
			Summary: "Deletes a key, optionally only at a revision; returns whether it was deleted and the revision of the deletion.", Complexity: "O(1)", Handler: cmdKVDel},
		{Name: cmdNameKVRange, Arity: -1, Flags: ReadOnly, Group: g, Since: since,
			Summary: "Lists string keys in byte order by prefix or [start, end), a page at a time.", Complexity: "O(N log L) with N the keys of the database and L the page size", Handler: cmdKVRange},
		{Name: cmdNameKVTxn, Arity: -3, Flags: Write | DenyOOM, Group: g, Since: since,
			Summary: "Compares keys and applies one of two lists of puts and deletes, atomically.", Complexity: "O(N) with N the compares and steps", Handler: cmdKVTxn},
	}
}

var errKVBadRev = replyError("ERR invalid revision: a positive integer is required")

// parseRev parses a revision argument (a positive integer).
func parseRev(b []byte) (uint64, error) {
	r, ok := op.ParseUint(b)
	if !ok || r == 0 {
		return 0, errKVBadRev
	}
	return r, nil
}

// revArg formats a revision argument (0 without allocating).
func revArg(r uint64) []byte {
	if r == 0 {
		return op.Itoa(0)
	}
	return op.AppendUint(nil, r)
}

// kvCheckKey refuses the empty key (the API's keys are never empty).
func kvCheckKey(c *Ctx, key []byte) bool {
	if len(key) == 0 {
		c.ErrorString("ERR invalid key: the empty key is not allowed")
		return false
	}
	return true
}

func cmdKVGet(c *Ctx) {
	if !kvCheckKey(c, c.Args[1]) {
		return
	}
	kv, ok, _, err := c.Store().GetWithRevision(c.DB(), c.Args[1], c.Now())
	switch {
	case err != nil:
		c.Error(err)
	case !ok:
		c.Srv.stats.keyspaceMiss.Add(1)
		c.W.WriteNull()
	default:
		c.Srv.stats.keyspaceHits.Add(1)
		c.W.WriteArrayLen(3)
		c.W.WriteBulk(kv.Value)
		c.W.WriteInt(int64(kv.Rev))
		c.W.WriteInt(kv.ExpireAt)
	}
}

func cmdKVPut(c *Ctx) {
	if !kvCheckKey(c, c.Args[1]) {
		return
	}
	var at, flags int64
	var ifRev uint64
	for i := 3; i < len(c.Args); i++ {
		hasNext := i+1 < len(c.Args)
		switch {
		case c.ArgIs(i, "px") && hasNext && at == 0:
			i++
			var err error
			if at, err = deadline(c, unitPX, c.Args[i]); err != nil {
				c.Error(err)
				return
			}
		case c.ArgIs(i, "nx") && flags&op.KVIfAbsent == 0:
			flags |= op.KVIfAbsent
		case c.ArgIs(i, "ifrev") && hasNext && flags&op.KVIfRevision == 0:
			i++
			var err error
			if ifRev, err = parseRev(c.Args[i]); err != nil {
				c.Error(err)
				return
			}
			flags |= op.KVIfRevision
		default:
			c.SyntaxError()
			return
		}
	}
	if flags == op.KVIfAbsent|op.KVIfRevision {
		c.ErrorString("ERR invalid request: NX and IFREV cannot be combined")
		return
	}
	c.Propose(c.NewOp(op.KVPut, c.Args[1], c.Args[2], op.Itoa(at), op.Itoa(flags), revArg(ifRev)), replyKVResult)
}

// replyKVResult writes [done 0|1, revision] from a store.KVResult.
func replyKVResult(c *Ctx, v any) {
	r := v.(store.KVResult)
	c.W.WriteArrayLen(2)
	c.W.WriteInt(b2i(r.Done))
	c.W.WriteInt(int64(r.Rev))
}

func cmdKVDel(c *Ctx) {
	if !kvCheckKey(c, c.Args[1]) {
		return
	}
	var ifRev uint64
	switch {
	case len(c.Args) == 2:
	case len(c.Args) == 4 && c.ArgIs(2, "ifrev"):
		var err error
		if ifRev, err = parseRev(c.Args[3]); err != nil {
			c.Error(err)
			return
		}
	default:
		c.SyntaxError()
		return
	}
	c.Propose(c.NewOp(op.KVDelete, c.Args[1], revArg(ifRev)), replyKVResult)
}

func cmdKVRange(c *Ctx) {
	opts := store.RangeOptions{Limit: kvRangeDefault}
	var seen [5]bool // PREFIX START END AFTER LIMIT
	for i := 1; i < len(c.Args); i++ {
		hasNext := i+1 < len(c.Args)
		word := -1
		switch {
		case c.ArgIs(i, "keysonly"):
			opts.KeysOnly = true
			continue
		case c.ArgIs(i, "prefix"):
			word = 0
		case c.ArgIs(i, "start"):
			word = 1
		case c.ArgIs(i, "end"):
			word = 2
		case c.ArgIs(i, "after"):
			word = 3
		case c.ArgIs(i, "limit"):
			word = 4
		}
		if word < 0 || !hasNext || seen[word] {
			c.SyntaxError()
			return
		}
		seen[word] = true
		i++
		a := c.Args[i]
		switch word {
		case 0:
			opts.Prefix = a
		case 1:
			opts.Start = a
		case 2:
			if len(a) > 0 {
				opts.End = a
			}
		case 3:
			if len(a) > 0 {
				opts.After = a
			}
		case 4:
			n, err := ParseInt(a)
			if err != nil || n < 0 {
				c.ErrorString("ERR invalid limit: a non-negative integer is required")
				return
			}
			if n > 0 {
				opts.Limit = int(min(n, kvRangeMax))
			}
		}
	}
	if len(opts.Prefix) > 0 && (len(opts.Start) > 0 || opts.End != nil) {
		c.ErrorString("ERR invalid request: PREFIX cannot be combined with START or END")
		return
	}
	kvs, more, rev := c.Store().Range(c.DB(), opts, c.Now())
	w := c.W
	w.WriteArrayLen(3)
	w.WriteInt(int64(rev))
	w.WriteInt(b2i(more))
	w.WriteArrayLen(len(kvs))
	for _, kv := range kvs {
		w.WriteArrayLen(4)
		w.WriteBulk(kv.Key)
		if opts.KeysOnly {
			w.WriteNull()
		} else {
			w.WriteBulk(kv.Value)
		}
		w.WriteInt(int64(kv.Rev))
		w.WriteInt(kv.ExpireAt)
	}
}

// cmdKVTxn parses SKIFF.KV.TXN into one op.KVTxn.
func cmdKVTxn(c *Ctx) {
	a := c.Args[1:]
	n, err := ParseInt(a[0])
	if err != nil || n < 0 || n > int64(len(a)-2)/4 {
		c.ErrorString("ERR invalid compare count")
		return
	}
	args := make([][]byte, 0, len(a)+8)
	args = append(args, a[0])
	for i := 0; i < int(n); i++ {
		cm := a[1+4*i : 5+4*i]
		if !kvCheckKey(c, cm[0]) {
			return
		}
		var target, cmp int64
		switch {
		case wordIs(cm[1], "value"):
			target = op.KVTargetValue
		case wordIs(cm[1], "rev"):
			target = op.KVTargetRevision
		case wordIs(cm[1], "exists"):
			target = op.KVTargetExists
		default:
			c.ErrorString("ERR invalid compare target '" + string(cut(cm[1], 32)) + "': VALUE, REV or EXISTS")
			return
		}
		switch string(cm[2]) {
		case "=":
			cmp = op.KVCmpEqual
		case "!=":
			cmp = op.KVCmpNotEqual
		case "<":
			cmp = op.KVCmpLess
		case ">":
			cmp = op.KVCmpGreater
		default:
			c.ErrorString("ERR invalid compare operator '" + string(cut(cm[2], 32)) + "': =, !=, < or >")
			return
		}
		switch target {
		case op.KVTargetRevision:
			if _, ok := op.ParseUint(cm[3]); !ok {
				c.Error(errKVBadRev)
				return
			}
		case op.KVTargetExists:
			if (string(cm[3]) != "0" && string(cm[3]) != "1") || cmp > op.KVCmpNotEqual {
				c.ErrorString("ERR invalid EXISTS compare: = or != with 1 or 0")
				return
			}
		}
		args = append(args, cm[0], op.Itoa(target), op.Itoa(cmp), cm[3])
	}
	a = a[1+4*n:]
	m, err := ParseInt(a[0])
	if err != nil || m < 0 || m > int64(len(a)-1)/2 {
		c.ErrorString("ERR invalid step count")
		return
	}
	args = append(args, a[0])
	a = a[1:]
	steps := 0
	for len(a) > 0 {
		switch {
		case len(a) >= 4 && wordIs(a[0], "put"):
			if !kvCheckKey(c, a[1]) {
				return
			}
			var at int64
			if string(a[3]) != "0" {
				var err error
				if at, err = deadline(c, unitPX, a[3]); err != nil {
					c.Error(err)
					return
				}
			}
			args = append(args, op.Itoa(op.KVStepPut), a[1], a[2], op.Itoa(at))
			a = a[4:]
		case len(a) >= 2 && wordIs(a[0], "del"):
			if !kvCheckKey(c, a[1]) {
				return
			}
			args = append(args, op.Itoa(op.KVStepDelete), a[1], nil, nil)
			a = a[2:]
		default:
			c.SyntaxError()
			return
		}
		steps++
	}
	if int64(steps) < m {
		c.ErrorString("ERR invalid step count")
		return
	}
	o := c.NewOp(op.KVTxn)
	o.Args = args
	c.Propose(o, replyKVResult)
}

// wordIs reports whether b is the lower-case word lower, in any case.
func wordIs(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i, ch := range b {
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != lower[i] {
			return false
		}
	}
	return true
}

// ttlMillis converts an API TTL to whole milliseconds, rounding up (a
// positive TTL never becomes "no deadline").
func ttlMillis(d int64) int64 {
	const ms = int64(1e6)
	if d <= 0 {
		return 0
	}
	if d > math.MaxInt64-ms {
		return math.MaxInt64 / ms
	}
	return (d + ms - 1) / ms
}
