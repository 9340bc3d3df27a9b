package command

func configSubcommands() map[string]*Command {
	const g = "server"
	const std = Admin | NoScript | Loading | Stale
	sub := func(name string, arity int, f Flags, since, summary, complexity string, h Handler) *Command {
		return &Command{Name: "config|" + name, Arity: arity, Flags: f, Group: g, Since: since, Summary: summary, Complexity: complexity, Handler: h}
	}
	return map[string]*Command{
		"get":       sub("get", -3, std, "2.0.0", "Returns the effective values of configuration parameters.", "O(N) when N is the number of configuration parameters provided", cmdConfigGet),
		"set":       sub("set", -4, std, "2.0.0", "Sets configuration parameters in-flight.", "O(N) when N is the number of configuration parameters provided", cmdConfigSet),
		"resetstat": sub("resetstat", 2, std, "2.0.0", "Resets the server's statistics.", "O(1)", cmdConfigResetStat),
		"rewrite":   sub("rewrite", 2, std, "2.8.0", "Persists the effective configuration to file.", "O(1)", cmdConfigRewrite),
		"help":      sub("help", 2, Loading|Stale, "5.0.0", "Returns helpful text about the different subcommands.", "O(1)", cmdConfigHelp),
	}
}

// cmdConfigGet is CONFIG GET pattern [pattern ...]: a map of names to values
// (a flat array in RESP2).
func cmdConfigGet(c *Ctx) {
	pats := make([]string, 0, len(c.Args)-2)
	for _, a := range c.Args[2:] {
		pats = append(pats, string(a))
	}
	kvs := c.Srv.params.ConfigGet(pats)
	c.W.WriteMapLen(len(kvs))
	for _, kv := range kvs {
		c.W.WriteBulkString(kv[0])
		c.W.WriteBulkString(kv[1])
	}
}

// cmdConfigSet is CONFIG SET name value [name value ...], all or nothing.
func cmdConfigSet(c *Ctx) {
	if len(c.Args)%2 != 0 {
		c.SyntaxError()
		return
	}
	pairs := make([][2]string, 0, (len(c.Args)-2)/2)
	for i := 2; i+1 < len(c.Args); i += 2 {
		pairs = append(pairs, [2]string{string(c.Args[i]), string(c.Args[i+1])})
	}
	if err := c.Srv.params.Set(pairs); err != nil {
		c.Error(err)
		return
	}
	c.OK()
}

func cmdConfigResetStat(c *Ctx) {
	c.Srv.resetStats()
	c.OK()
}

// cmdConfigRewrite fails as Redis does without a config file: skiff's
// configuration comes from flags and environment, which it does not rewrite.
func cmdConfigRewrite(c *Ctx) {
	c.ErrorString("ERR The server is running without a config file")
}

func cmdConfigHelp(c *Ctx) {
	writeHelp(c, "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"GET <pattern>",
		"    Return parameters matching the glob-like <pattern> and their values.",
		"SET <directive> <value>",
		"    Set the configuration <directive> to <value>.",
		"RESETSTAT",
		"    Reset statistics reported by the INFO command.",
		"REWRITE",
		"    Rewrite the configuration file.")
}
