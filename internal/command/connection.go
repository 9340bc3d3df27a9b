package command

import (
	"crypto/subtle"
	"math"
	"strconv"
)

// redisVersion is the Redis version skiff reports (HELLO, INFO): clients
// choose their features by it, so it names the Redis whose behaviour skiff
// matches.
const redisVersion = "7.2.4"

// defaultUser is the only user skiff knows (no ACLs yet).
const defaultUser = "default"

func connectionCommands() []*Command {
	const g = "connection"
	return []*Command{
		{Name: "hello", Arity: -1, Flags: NoScript | Loading | Stale | Fast | NoAuth, Group: g, Since: "6.0.0", Summary: "Handshakes with the Redis server.", Complexity: "O(1)", Handler: cmdHello},
		{Name: "auth", Arity: -2, Flags: NoScript | Loading | Stale | Fast | NoAuth, Group: g, Since: "1.0.0", Summary: "Authenticates the connection.", Complexity: "O(N) where N is the number of passwords defined for the user", Handler: cmdAuth},
		{Name: "ping", Arity: -1, Flags: Fast, Group: g, Since: "1.0.0", Summary: "Returns the server's liveliness response.", Complexity: "O(1)", Handler: cmdPing},
		{Name: "echo", Arity: 2, Flags: Loading | Stale | Fast, Group: g, Since: "1.0.0", Summary: "Returns the given string.", Complexity: "O(1)", Handler: cmdEcho},
		{Name: "quit", Arity: -1, Flags: NoScript | Loading | Stale | Fast | NoAuth, Group: g, Since: "1.0.0", Summary: "Closes the connection.", Complexity: "O(1)", Handler: cmdQuit},
		{Name: "reset", Arity: 1, Flags: NoScript | Loading | Stale | Fast | NoAuth, Group: g, Since: "6.2.0", Summary: "Resets the connection.", Complexity: "O(1)", Handler: cmdReset},
		{Name: "select", Arity: 2, Flags: Loading | Stale | Fast, Group: g, Since: "1.0.0", Summary: "Changes the selected database.", Complexity: "O(1)", Handler: cmdSelect},
		{Name: "client", Arity: -2, Group: g, Since: "2.4.0", Summary: "A container for client connection commands.", Complexity: "Depends on subcommand.", Subcommands: clientSubcommands()},
	}
}

// checkPassword reports whether user/pass authenticate against requirepass.
// With no password set the default user is "nopass": any password works,
// as in Redis.
func checkPassword(c *Ctx, user, pass []byte) bool {
	if string(user) != defaultUser {
		return false
	}
	want := c.Srv.params.Get("requirepass")
	if want == "" {
		return true
	}
	return subtle.ConstantTimeCompare([]byte(want), pass) == 1
}

const errWrongPass replyError = "WRONGPASS invalid username-password pair or user is disabled."

// cmdHello is HELLO [protover [AUTH user pass] [SETNAME name]]. It checks
// in Redis's order: the version, the options, the credentials, then that
// the connection is authenticated; only then does it rename and switch the
// protocol, and the reply is written in the new protocol.
func cmdHello(c *Ctx) {
	ver := int64(0)
	if len(c.Args) >= 2 {
		n, err := ParseInt(c.Args[1])
		if err != nil {
			c.ErrorString("ERR Protocol version is not an integer or out of range")
			return
		}
		if n < 2 || n > 3 {
			c.ErrorString("NOPROTO unsupported protocol version")
			return
		}
		ver = n
	}
	var user, pass, name []byte
	for i := 2; i < len(c.Args); i++ {
		more := len(c.Args) - 1 - i
		switch {
		case c.ArgIs(i, "auth") && more >= 2:
			user, pass = c.Args[i+1], c.Args[i+2]
			i += 2
		case c.ArgIs(i, "setname") && more >= 1:
			name = c.Args[i+1]
			if !validClientAttr(name) {
				c.Error(errClientName)
				return
			}
			i++
		default:
			c.ErrorString("ERR Syntax error in HELLO option '" + string(cut(c.Args[i], 128)) + "'")
			return
		}
	}
	if user != nil {
		if !checkPassword(c, user, pass) {
			c.Error(errWrongPass)
			return
		}
		c.Client.Authed = true
	}
	if !c.Client.Authed {
		c.ErrorString("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	if name != nil {
		c.Client.SetName(string(name))
	}
	if ver != 0 {
		c.Client.SetProto(int(ver))
		c.W.SetProto(int(ver))
	}
	w := c.W
	w.WriteMapLen(7)
	w.WriteBulkString("server")
	w.WriteBulkString("redis")
	w.WriteBulkString("version")
	w.WriteBulkString(redisVersion)
	w.WriteBulkString("proto")
	w.WriteInt(int64(c.Client.Proto))
	w.WriteBulkString("id")
	w.WriteInt(c.Client.ID)
	w.WriteBulkString("mode")
	w.WriteBulkString("standalone")
	w.WriteBulkString("role")
	w.WriteBulkString("master")
	w.WriteBulkString("modules")
	w.WriteArrayLen(0)
}

// cmdAuth is AUTH [username] password.
func cmdAuth(c *Ctx) {
	if len(c.Args) > 3 {
		c.SyntaxError()
		return
	}
	user, pass := []byte(defaultUser), c.Args[1]
	if len(c.Args) == 2 {
		if c.Srv.params.Get("requirepass") == "" {
			c.ErrorString("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
			return
		}
	} else {
		user, pass = c.Args[1], c.Args[2]
	}
	if !checkPassword(c, user, pass) {
		c.Error(errWrongPass)
		return
	}
	c.Client.Authed = true
	c.OK()
}

func cmdPing(c *Ctx) {
	if c.Client.Subscribed() && c.W.Proto() == 2 {
		// In RESP2's subscribed context PING answers like a message.
		if len(c.Args) > 2 {
			c.WrongArity()
			return
		}
		c.W.WriteArrayLen(2)
		c.W.WriteBulkString("pong")
		if len(c.Args) == 2 {
			c.W.WriteBulk(c.Args[1])
		} else {
			c.W.WriteBulkString("")
		}
		return
	}
	switch len(c.Args) {
	case 1:
		c.W.WriteSimple("PONG")
	case 2:
		c.W.WriteBulk(c.Args[1])
	default:
		c.WrongArity()
	}
}

func cmdEcho(c *Ctx) { c.W.WriteBulk(c.Args[1]) }

// cmdQuit replies +OK; respserver flushes it and closes the connection.
func cmdQuit(c *Ctx) {
	c.OK()
	c.Client.CloseAfterReply = true
}

// cmdReset returns the connection to its initial state as Redis's RESET
// does: database 0, RESP2, no name, no READONLY, reply mode and eviction
// flags off, and unauthenticated when a password is set. The library name
// and version stay (they still describe the client). MULTI and
// subscriptions, which live in respserver, are its to clear when it sees
// RESET.
func cmdReset(c *Ctx) {
	cl := c.Client
	unmute(c)
	cl.SelectDB(0)
	cl.SetProto(2)
	c.W.SetProto(2)
	cl.SetName("")
	cl.ReadOnly = false
	cl.noEvict.Store(false)
	cl.noTouch.Store(false)
	cl.Authed = !c.Srv.AuthRequired()
	c.Srv.pubsub.removeClient(cl)
	c.Srv.track.disable(cl)
	c.W.WriteSimple("RESET")
}

// parseInt32 parses an argument as Redis's getIntFromObjectOrReply does:
// msg replaces both the not-an-integer and the out-of-int-range errors when
// it is set.
func parseInt32(b []byte, msg replyError) (int, error) {
	n, err := ParseInt(b)
	if err != nil {
		if msg != "" {
			return 0, msg
		}
		return 0, err
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		if msg != "" {
			return 0, msg
		}
		return 0, replyError("ERR value is out of range, value must between " +
			strconv.Itoa(math.MinInt32) + " and " + strconv.Itoa(math.MaxInt32))
	}
	return int(n), nil
}

func cmdSelect(c *Ctx) {
	db, err := parseInt32(c.Args[1], "")
	if err != nil {
		c.Error(err)
		return
	}
	if db < 0 || db >= c.Store().Databases() {
		c.Error(ErrDBIndex)
		return
	}
	c.Client.SelectDB(db)
	c.OK()
}
