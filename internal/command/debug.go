package command

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// DEBUG, with the subcommands that make sense in skiff: SLEEP, OBJECT and
// HELP. The others answer Redis's error for an unknown subcommand.
//
// Unlike Redis, DEBUG is available whatever enable-debug-command says:
// skiff's subcommands cannot crash, stall or corrupt the server (DEBUG SLEEP
// blocks only the client that sent it), and the parameter is immutable, so
// honouring Redis's default ("no") would make DEBUG unusable.

func debugCommands() []*Command {
	return []*Command{
		{Name: "debug", Arity: -2, Flags: Admin | NoScript | Loading | Stale, Group: "server", Since: "1.0.0",
			Summary: "A container for debugging commands.", Complexity: "Depends on subcommand.", Handler: cmdDebug},
	}
}

func cmdDebug(c *Ctx) {
	switch {
	case c.ArgIs(1, "help") && len(c.Args) == 2:
		writeHelp(c, "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
			"OBJECT <key>",
			"    Show low level info about `key` and associated value.",
			"SLEEP <seconds>",
			"    Stop the server for <seconds>. Decimals allowed.",
			"    In skiff only the calling client waits.")
	case c.ArgIs(1, "sleep") && len(c.Args) == 3:
		debugSleep(c, strtodPrefix(c.Args[2]))
	case c.ArgIs(1, "object") && len(c.Args) == 3:
		debugObject(c)
	default:
		c.ErrorString("ERR unknown subcommand or wrong number of arguments for '" + string(cut(c.Args[1], 128)) + "'. Try DEBUG HELP.")
	}
}

// debugSleep waits secs seconds (nothing when not positive), then answers
// OK. Only this client waits: pushes to it flow meanwhile, and a disconnect
// or the server stopping ends the wait.
func debugSleep(c *Ctx, secs float64) {
	d := time.Duration(math.Min(secs*1e6, float64(math.MaxInt64/1000))) * time.Microsecond
	if d <= 0 {
		c.OK()
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	var gone <-chan struct{}
	if conn := c.Client.Conn; conn != nil && !c.InExec() {
		gone = conn.WaitStart(c.W)
		defer conn.WaitEnd()
	}
	select {
	case <-t.C:
	case <-gone:
		c.Client.CloseAfterReply = true
	case <-c.Context().Done():
	}
	c.OK()
}

// strtodPrefix parses the longest decimal prefix of b as C's strtod does
// (DEBUG SLEEP "abc" sleeps 0 seconds, "1.5x" 1.5).
func strtodPrefix(b []byte) float64 {
	s := strings.TrimLeft(string(cut(b, 64)), " \t\n\v\f\r")
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return 0
	}
	end := i
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for ; k < len(s) && s[k] >= '0' && s[k] <= '9'; k++ {
		}
		if k > j {
			end = k
		}
	}
	f, err := strconv.ParseFloat(s[:end], 64)
	if err != nil && !math.IsInf(f, 0) {
		return 0
	}
	return f
}

// debugObject answers Redis's DEBUG OBJECT line for a key:
//
//	Value at:0x... refcount:1 encoding:listpack serializedlength:13 lru:5 lru_seconds_idle:0
//
// serializedlength is the value's size in a skiff snapshot record; a
// quicklist adds Redis's ql_* fields, estimated from the list's bytes.
func debugObject(c *Ctx) {
	d, ok := c.Store().DebugObject(c.DB(), c.Args[2], c.Now())
	if !ok {
		c.Error(ErrNoSuchKey)
		return
	}
	b := []byte("Value at:0x")
	b = strconv.AppendUint(b, uint64(d.Addr), 16)
	b = append(b, " refcount:1 encoding:"...)
	b = append(b, d.Encoding...)
	b = append(b, " serializedlength:"...)
	b = strconv.AppendInt(b, d.Serialized, 10)
	b = append(b, " lru:"...)
	b = strconv.AppendInt(b, (d.AccessMs/1000)&(1<<24-1), 10)
	b = append(b, " lru_seconds_idle:"...)
	b = strconv.AppendInt(b, d.IdleMs/1000, 10)
	if d.Encoding == "quicklist" {
		maxSize, _ := strconv.ParseInt(c.Srv.params.Get("list-max-listpack-size"), 10, 64)
		// A listpack node holds 8 KiB at the default (-2); each element
		// costs its bytes plus about two of header.
		nodeBytes := int64(8 << 10)
		if maxSize < 0 && maxSize >= -5 {
			nodeBytes = 4 << 10 << (-maxSize - 1)
		}
		size := d.ElemBytes + 2*d.Len
		nodes := max((size+nodeBytes-1)/nodeBytes, 1)
		if maxSize > 0 { // at most maxSize elements a node
			nodes = max((d.Len+maxSize-1)/maxSize, 1)
		}
		b = append(b, " ql_nodes:"...)
		b = strconv.AppendInt(b, nodes, 10)
		b = append(b, " ql_avg_node:"...)
		b = strconv.AppendFloat(b, float64(d.Len)/float64(nodes), 'f', 2, 64)
		b = append(b, " ql_listpack_max:"...)
		b = strconv.AppendInt(b, maxSize, 10)
		b = append(b, " ql_compressed:0 ql_uncompressed_size:"...)
		b = strconv.AppendInt(b, size, 10)
	}
	c.W.WriteSimple(string(b))
}
