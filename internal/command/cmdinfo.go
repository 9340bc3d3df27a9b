package command

import (
	"github.com/skiffdb/skiff/internal/resp"
	"sort"
	"strconv"
	"strings"

	"github.com/skiffdb/skiff/internal/glob"
)

func commandSubcommands() map[string]*Command {
	sub := func(name string, arity int, since, summary, complexity string, h Handler) *Command {
		return &Command{Name: "command|" + name, Arity: arity, Flags: Loading | Stale, Group: "server", Since: since, Summary: summary, Complexity: complexity, Handler: h}
	}
	return map[string]*Command{
		"count":           sub("count", 2, "2.8.13", "Returns a count of commands.", "O(1)", func(c *Ctx) { c.W.WriteInt(int64(c.Srv.table.Len())) }),
		"info":            sub("info", -2, "2.8.13", "Returns information about one, multiple or all commands.", "O(N) where N is the number of commands to look up", cmdCommandInfo),
		"docs":            sub("docs", -2, "7.0.0", "Returns documentary information about one, multiple or all commands.", "O(N) where N is the number of commands to look up", cmdCommandDocs),
		"list":            sub("list", -2, "7.0.0", "Returns a list of command names.", "O(N) where N is the total number of Redis commands", cmdCommandList),
		"getkeys":         sub("getkeys", -4, "2.8.13", "Extracts the key names from an arbitrary command.", "O(N) where N is the number of arguments to the command", cmdCommandGetKeys),
		"getkeysandflags": sub("getkeysandflags", -4, "7.0.0", "Extracts the key names and access flags for an arbitrary command.", "O(N) where N is the number of arguments to the command", cmdCommandGetKeys),
		"help":            sub("help", 2, "5.0.0", "Returns helpful text about the different subcommands.", "O(1)", cmdCommandHelp),
	}
}

// sortedSubcommands returns cmd's subcommands ordered by name (Redis's
// order is its hash table's; a stable order makes replies comparable).
func sortedSubcommands(cmd *Command) []*Command {
	if len(cmd.Subcommands) == 0 {
		return nil
	}
	out := make([]*Command, 0, len(cmd.Subcommands))
	for _, sub := range cmd.Subcommands {
		out = append(out, sub)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// lookupFull finds a command by its full name, "get" or "client|list",
// case-insensitively (COMMAND INFO/DOCS).
func (t *Table) lookupFull(name string) *Command {
	name = strings.ToLower(name)
	base, sub, ok := strings.Cut(name, "|")
	cmd := t.cmds[base]
	if !ok || cmd == nil {
		return cmd
	}
	return cmd.Subcommands[sub]
}

// aclCategories is Redis's category table, in the order COMMAND INFO lists
// a command's categories.
var aclCategories = []string{
	"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
	"hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
	"dangerous", "connection", "transaction", "scripting",
}

// groupCategory is the category every command of a data group carries.
var groupCategory = map[string]string{
	"generic": "keyspace", "string": "string", "list": "list", "set": "set",
	"sorted-set": "sortedset", "hash": "hash", "stream": "stream", "geo": "geo",
	"hyperloglog": "hyperloglog", "bitmap": "bitmap",
	"connection": "connection", "transactions": "transaction", "scripting": "scripting",
}

// extraCategories are the categories Redis's command table gives a command
// beyond what its flags and group imply.
var extraCategories = map[string][]string{
	"dbsize": {"keyspace"}, "flushdb": {"keyspace", "dangerous"}, "flushall": {"keyspace", "dangerous"},
	"swapdb": {"keyspace", "dangerous"}, "info": {"dangerous"}, "lastsave": {"admin", "dangerous"},
	"keys": {"dangerous"}, "command": {"connection"}, "command|count": {"connection"},
	"command|info": {"connection"}, "command|docs": {"connection"}, "command|list": {"connection"},
	"command|getkeys": {"connection"}, "command|getkeysandflags": {"connection"}, "command|help": {"connection"},
	"sort": {"dangerous"}, "migrate": {"dangerous"}, "restore": {"dangerous"},
	"role": {"admin", "dangerous"}, "readonly": {"connection"}, "readwrite": {"connection"},
}

// commandTips are Redis's command tips (request/response policies for
// cluster clients, nondeterministic output).
var commandTips = map[string][]string{
	"ping":                  {"request_policy:all_shards", "response_policy:all_succeeded"},
	"dbsize":                {"request_policy:all_shards", "response_policy:agg_sum"},
	"flushdb":               {"request_policy:all_shards", "response_policy:all_succeeded"},
	"flushall":              {"request_policy:all_shards", "response_policy:all_succeeded"},
	"time":                  {"nondeterministic_output"},
	"lastsave":              {"nondeterministic_output"},
	"info":                  {"nondeterministic_output", "request_policy:all_shards", "response_policy:special"},
	"command":               {"nondeterministic_output_order"},
	"command|info":          {"nondeterministic_output_order"},
	"command|docs":          {"nondeterministic_output_order"},
	"command|list":          {"nondeterministic_output_order"},
	"client|list":           {"nondeterministic_output"},
	"client|info":           {"nondeterministic_output"},
	"config|set":            {"request_policy:all_nodes", "response_policy:all_succeeded"},
	"cluster|info":          {"nondeterministic_output"},
	"cluster|slots":         {"nondeterministic_output"},
	"cluster|nodes":         {"nondeterministic_output"},
	"cluster|shards":        {"nondeterministic_output"},
	"cluster|links":         {"nondeterministic_output"},
	"cluster|getkeysinslot": {"nondeterministic_output"},
	"cluster|replicas":      {"nondeterministic_output"},
	"cluster|slaves":        {"nondeterministic_output"},
	"object|encoding":       {"nondeterministic_output"},
	"object|freq":           {"nondeterministic_output"},
	"object|idletime":       {"nondeterministic_output"},
	"object|refcount":       {"nondeterministic_output"},
	"msetnx":                {"request_policy:multi_shard", "response_policy:agg_min"},
	"keys":                  {"request_policy:all_shards", "nondeterministic_output_order"},
	"scan":                  {"nondeterministic_output", "request_policy:special"},
	"randomkey":             {"request_policy:all_shards", "nondeterministic_output"},
	"del":                   {"request_policy:multi_shard", "response_policy:agg_sum"},
	"unlink":                {"request_policy:multi_shard", "response_policy:agg_sum"},
	"exists":                {"request_policy:multi_shard", "response_policy:agg_sum"},
	"touch":                 {"request_policy:multi_shard", "response_policy:agg_sum"},
	"mget":                  {"request_policy:multi_shard"},
	"mset":                  {"request_policy:multi_shard", "response_policy:all_succeeded"},
	"ttl":                   {"nondeterministic_output"},
	"pttl":                  {"nondeterministic_output"},
	"hgetall":               {"nondeterministic_output_order"},
	"hkeys":                 {"nondeterministic_output_order"},
	"hvals":                 {"nondeterministic_output_order"},
	"smembers":              {"nondeterministic_output_order"},
	"sinter":                {"nondeterministic_output_order"},
	"sunion":                {"nondeterministic_output_order"},
	"sdiff":                 {"nondeterministic_output_order"},
	"hrandfield":            {"nondeterministic_output"},
	"hscan":                 {"nondeterministic_output"},
	"spop":                  {"nondeterministic_output"},
	"srandmember":           {"nondeterministic_output"},
	"sscan":                 {"nondeterministic_output"},
	"zrandmember":           {"nondeterministic_output"},
	"zscan":                 {"nondeterministic_output"},
	"slowlog|get":           {"request_policy:all_nodes", "nondeterministic_output"},
	"slowlog|len":           {"request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output"},
	"slowlog|reset":         {"request_policy:all_nodes", "response_policy:all_succeeded"},
	"latency|doctor":        {"nondeterministic_output", "request_policy:all_nodes", "response_policy:special"},
	"latency|graph":         {"nondeterministic_output", "request_policy:all_nodes", "response_policy:special"},
	"latency|histogram":     {"nondeterministic_output", "request_policy:all_nodes", "response_policy:special"},
	"latency|history":       {"nondeterministic_output", "request_policy:all_nodes", "response_policy:special"},
	"latency|latest":        {"nondeterministic_output", "request_policy:all_nodes", "response_policy:special"},
	"latency|reset":         {"request_policy:all_nodes", "response_policy:all_succeeded"},
	"memory|doctor":         {"nondeterministic_output", "request_policy:all_shards", "response_policy:special"},
	"memory|malloc-stats":   {"nondeterministic_output", "request_policy:all_shards", "response_policy:special"},
	"memory|stats":          {"nondeterministic_output", "request_policy:all_shards", "response_policy:special"},
	"memory|purge":          {"request_policy:all_shards", "response_policy:all_succeeded"},
}

// categories returns cmd's ACL categories in Redis's order, derived from its
// flags and group as Redis's setImplicitACLCategories does, plus the
// explicit ones of extraCategories. A container command takes nothing from
// its group.
func categories(cmd *Command) []string {
	set := make(map[string]bool)
	if cmd.Subcommands == nil {
		if g, ok := groupCategory[cmd.Group]; ok {
			set[g] = true
		}
	}
	for _, e := range extraCategories[cmd.Name] {
		set[e] = true
	}
	f := cmd.Flags
	if f&Write != 0 {
		set["write"] = true
	}
	if f&ReadOnly != 0 && cmd.Group != "scripting" {
		set["read"] = true
	}
	if f&Admin != 0 {
		set["admin"], set["dangerous"] = true, true
	}
	if f&PubSub != 0 {
		set["pubsub"] = true
	}
	if f&Fast != 0 {
		set["fast"] = true
	}
	if f&Blocking != 0 {
		set["blocking"] = true
	}
	if !set["fast"] {
		set["slow"] = true
	}
	out := make([]string, 0, len(set))
	for _, cat := range aclCategories {
		if set[cat] {
			out = append(out, cat)
		}
	}
	return out
}

// keySpecFlags are the access flags skiff reports for a command's keys:
// Redis's per-command flags are finer (insert, delete, OW ...); these say
// read-only or read-write.
// numKeysAt gives the commands whose keys a numkeys argument counts the
// position of that argument (Command.NumKeysAt).
var numKeysAt = map[string]int{
	"zunionstore": 2, "zinterstore": 2, "zdiffstore": 2,
	"zunion": 1, "zinter": 1, "zdiff": 1, "zintercard": 1, "sintercard": 1,
	"lmpop": 1, "zmpop": 1, "blmpop": 2, "bzmpop": 2,
}

func keySpecFlags(cmd *Command) []string {
	switch {
	case cmd.Flags&Write != 0 && cmd.NumKeysAt > 0:
		return []string{"OW", "update"} // ZUNIONSTORE's destination
	case cmd.Flags&Write != 0:
		return []string{"RW", "update"}
	}
	return []string{"RO", "access"}
}

// countedKeyFlags are the key spec flags of the keys a numkeys argument
// counts: read (ZUNIONSTORE's sources), or read and removed from (LMPOP's)
// when the command writes and has no fixed key.
func countedKeyFlags(cmd *Command) []string {
	if cmd.Flags&Write != 0 && cmd.FirstKey <= 0 {
		return []string{"RW", "access", "delete"}
	}
	return []string{"RO", "access"}
}

// writeCommandInfo writes Redis 7's COMMAND INFO entry for cmd: name, arity,
// flags, first/last/step, categories, tips, key specs and subcommands.
// cmd nil is a null entry.
func writeCommandInfo(c *Ctx, cmd *Command) {
	w := c.W
	if cmd == nil {
		w.WriteNull()
		return
	}
	w.WriteArrayLen(10)
	w.WriteBulkString(cmd.Name)
	w.WriteInt(int64(cmd.Arity))
	// Redis hides may_replicate (an internal flag) from COMMAND INFO.
	flags := (cmd.Flags &^ MayReplicate).Names()
	if cmd.NumKeysAt > 0 {
		flags = append(flags, "movablekeys")
	}
	w.WriteSetLen(len(flags))
	for _, f := range flags {
		w.WriteSimple(f)
	}
	w.WriteInt(int64(cmd.FirstKey))
	w.WriteInt(int64(cmd.LastKey))
	w.WriteInt(int64(cmd.Step))
	cats := categories(cmd)
	w.WriteSetLen(len(cats))
	for _, cat := range cats {
		w.WriteSimple("@" + cat)
	}
	tips := commandTips[cmd.Name]
	w.WriteSetLen(len(tips))
	for _, t := range tips {
		w.WriteBulkString(t)
	}
	writeKeySpecs(c, cmd)
	subs := sortedSubcommands(cmd)
	if subs == nil {
		w.WriteSetLen(0)
		return
	}
	w.WriteArrayLen(len(subs))
	for _, sub := range subs {
		writeCommandInfo(c, sub)
	}
}

// writeKeySpecs writes the key specs: one range spec built from the legacy
// key positions, and a keynum spec for a numkeys argument (none for a keyless
// command).
func writeKeySpecs(c *Ctx, cmd *Command) {
	w := c.W
	n := 0
	if cmd.FirstKey > 0 {
		n++
	}
	if cmd.NumKeysAt > 0 {
		n++
	}
	w.WriteSetLen(n)
	if cmd.FirstKey > 0 {
		last := cmd.LastKey
		if last >= 0 {
			last -= cmd.FirstKey
		}
		writeKeySpec(w, keySpecFlags(cmd), cmd.FirstKey, "range",
			specField{"lastkey", last}, specField{"keystep", max(cmd.Step, 1)}, specField{"limit", 0})
	}
	if cmd.NumKeysAt > 0 {
		writeKeySpec(w, countedKeyFlags(cmd), cmd.NumKeysAt, "keynum",
			specField{"keynumidx", 0}, specField{"firstkey", 1}, specField{"keystep", 1})
	}
}

type specField struct {
	name string
	v    int
}

// writeKeySpec writes one key spec: its flags, an index begin_search at
// index, and a find_keys of type typ with spec.
func writeKeySpec(w *resp.Writer, flags []string, index int, typ string, spec ...specField) {
	w.WriteMapLen(3)
	w.WriteBulkString("flags")
	w.WriteSetLen(len(flags))
	for _, f := range flags {
		w.WriteSimple(f)
	}
	w.WriteBulkString("begin_search")
	w.WriteMapLen(2)
	w.WriteBulkString("type")
	w.WriteBulkString("index")
	w.WriteBulkString("spec")
	w.WriteMapLen(1)
	w.WriteBulkString("index")
	w.WriteInt(int64(index))
	w.WriteBulkString("find_keys")
	w.WriteMapLen(2)
	w.WriteBulkString("type")
	w.WriteBulkString(typ)
	w.WriteBulkString("spec")
	w.WriteMapLen(len(spec))
	for _, f := range spec {
		w.WriteBulkString(f.name)
		w.WriteInt(int64(f.v))
	}
}

// writeCommandDocs writes COMMAND DOCS's map for cmd: summary, since, group,
// complexity when known, and the subcommands' docs.
func writeCommandDocs(c *Ctx, cmd *Command) {
	w := c.W
	subs := sortedSubcommands(cmd)
	n := 3
	if cmd.Complexity != "" {
		n++
	}
	if subs != nil {
		n++
	}
	w.WriteMapLen(n)
	w.WriteBulkString("summary")
	w.WriteBulkString(cmd.Summary)
	w.WriteBulkString("since")
	w.WriteBulkString(cmd.Since)
	w.WriteBulkString("group")
	w.WriteBulkString(cmd.Group)
	if cmd.Complexity != "" {
		w.WriteBulkString("complexity")
		w.WriteBulkString(cmd.Complexity)
	}
	if subs != nil {
		w.WriteBulkString("subcommands")
		w.WriteMapLen(len(subs))
		for _, sub := range subs {
			w.WriteBulkString(sub.Name)
			writeCommandDocs(c, sub)
		}
	}
}

// cmdCommand is COMMAND alone: every top-level command's info.
func cmdCommand(c *Ctx) {
	all := c.Srv.table.All()
	c.W.WriteArrayLen(len(all))
	for _, cmd := range all {
		writeCommandInfo(c, cmd)
	}
}

func cmdCommandInfo(c *Ctx) {
	if len(c.Args) == 2 {
		cmdCommand(c)
		return
	}
	c.W.WriteArrayLen(len(c.Args) - 2)
	for _, a := range c.Args[2:] {
		writeCommandInfo(c, c.Srv.table.lookupFull(string(a)))
	}
}

func cmdCommandDocs(c *Ctx) {
	var cmds []*Command
	if len(c.Args) == 2 {
		cmds = c.Srv.table.All()
	} else {
		for _, a := range c.Args[2:] {
			if cmd := c.Srv.table.lookupFull(string(a)); cmd != nil {
				cmds = append(cmds, cmd)
			}
		}
	}
	c.W.WriteMapLen(len(cmds))
	for _, cmd := range cmds {
		c.W.WriteBulkString(cmd.Name)
		writeCommandDocs(c, cmd)
	}
}

// cmdCommandList is COMMAND LIST [FILTERBY MODULE name|ACLCAT cat|PATTERN p]:
// every command and subcommand name, filtered.
func cmdCommandList(c *Ctx) {
	var keep func(*Command) bool
	switch {
	case len(c.Args) == 2:
		keep = func(*Command) bool { return true }
	case len(c.Args) == 5 && c.ArgIs(2, "filterby"):
		arg := c.Arg(4)
		switch {
		case c.ArgIs(3, "module"):
			keep = func(*Command) bool { return false }
		case c.ArgIs(3, "aclcat"):
			cat := strings.ToLower(arg)
			keep = func(cmd *Command) bool {
				for _, x := range categories(cmd) {
					if x == cat {
						return true
					}
				}
				return false
			}
		case c.ArgIs(3, "pattern"):
			keep = func(cmd *Command) bool { return glob.MatchString(arg, cmd.Name, true) }
		}
	}
	if keep == nil {
		c.SyntaxError()
		return
	}
	var names []string
	for _, cmd := range c.Srv.table.All() {
		if keep(cmd) {
			names = append(names, cmd.Name)
		}
		for _, sub := range sortedSubcommands(cmd) {
			if keep(sub) {
				names = append(names, sub.Name)
			}
		}
	}
	c.W.WriteArrayLen(len(names))
	for _, n := range names {
		c.W.WriteBulkString(n)
	}
}

// cmdCommandGetKeys is COMMAND GETKEYS and GETKEYSANDFLAGS <command ...>,
// resolving a container's subcommand as Redis's lookupCommand does.
func cmdCommandGetKeys(c *Ctx) {
	args := c.Args[2:]
	cmd := c.Srv.table.Lookup(args[0])
	if cmd != nil && cmd.Subcommands != nil && len(args) >= 2 {
		cmd = cmd.subcommand(args)
	}
	switch {
	case cmd == nil:
		c.ErrorString("ERR Invalid command specified")
		return
	case cmd.FirstKey <= 0 && cmd.NumKeysAt == 0:
		c.ErrorString("ERR The command has no key arguments")
		return
	case !checkArity(cmd.Arity, len(args)):
		c.ErrorString("ERR Invalid number of arguments specified for command")
		return
	}
	keys := cmd.Keys(args)
	if len(keys) == 0 {
		c.ErrorString("ERR Invalid arguments specified for command")
		return
	}
	withFlags := c.Cmd.Name == "command|getkeysandflags"
	fixed := len(keys) // keys before the counted ones (Keys returns those last)
	if cmd.NumKeysAt > 0 {
		n, _ := strconv.Atoi(string(args[cmd.NumKeysAt])) // valid: Keys checked it
		fixed -= n
	}
	c.W.WriteArrayLen(len(keys))
	for i, k := range keys {
		if !withFlags {
			c.W.WriteBulk(k)
			continue
		}
		c.W.WriteArrayLen(2)
		c.W.WriteBulk(k)
		flags := keySpecFlags(cmd)
		if i >= fixed {
			flags = countedKeyFlags(cmd)
		}
		c.W.WriteSetLen(len(flags))
		for _, f := range flags {
			c.W.WriteSimple(f)
		}
	}
}

func cmdCommandHelp(c *Ctx) {
	writeHelp(c, "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"(no subcommand)",
		"    Return details about all Redis commands.",
		"COUNT",
		"    Return the total number of commands in this Redis server.",
		"LIST",
		"    Return a list of all commands in this Redis server.",
		"INFO [<command-name> ...]",
		"    Return details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"DOCS [<command-name> ...]",
		"    Return documentation details about multiple Redis commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"GETKEYS <full-command>",
		"    Return the keys from a full Redis command.",
		"GETKEYSANDFLAGS <full-command>",
		"    Return the keys and the access flags from a full Redis command.")
}
