package command

import (
	"context"
	"strings"

	"github.com/skiffdb/skiff/internal/op"
	"github.com/skiffdb/skiff/internal/resp"
	"github.com/skiffdb/skiff/internal/store"
)

// Ctx is what a handler sees for one command: the arguments, the reply
// writer, the client and the server. One Ctx per client is reused for every
// command; a handler must not keep it after returning.
type Ctx struct {
	Args   [][]byte
	W      *resp.Writer
	Client *Client
	Srv    *Server
	Cmd    *Command

	ctx     context.Context
	now     int64
	failed  bool
	batched bool         // this write joins the client's pipeline batch
	out     *resp.Writer // the connection's writer (W may be the batch scratch)
	op      op.Op        // reused by NewOp: Propose encodes it before returning
	opArgs  [8][]byte    // backing array for op.Args
	txn     *execRun     // set while EXEC runs queued commands (multi.go)
}

// Now returns the current unix time in milliseconds, read once per command:
// every use within one command sees the same instant, and write operations
// carry it.
func (c *Ctx) Now() int64 { return c.now }

// Store returns the local store for reads. While EXEC runs, it is the state
// at the command's point in the transaction (multi.go).
func (c *Ctx) Store() *store.Store {
	if c.txn != nil {
		return c.txn.store(c)
	}
	return c.Srv.eng.Store()
}

// InExec reports whether the command runs inside EXEC: a blocking command
// must then answer at once, as if its timeout had passed (as in Redis).
// Inside EXEC a read command (ReadOnly) runs on the leader's apply goroutine
// while the transaction is applied: it must read only through c.Store() and
// must not block, propose, forward or wait for a read fence.
func (c *Ctx) InExec() bool { return c.txn != nil }

// Context returns the request context (cancelled when the server stops).
func (c *Ctx) Context() context.Context { return c.ctx }

// DB returns the client's selected database.
func (c *Ctx) DB() int { return c.Client.DB }

// Error writes err as an error reply, mapped to Redis's text.
func (c *Ctx) Error(err error) {
	c.failed = true
	msg := ReplyText(err)
	c.Srv.fam.errors.count(msg)
	c.W.WriteError(msg)
}

// ErrorString writes an error reply with the exact text s (no leading '-').
func (c *Ctx) ErrorString(s string) {
	c.failed = true
	c.Srv.fam.errors.count(s)
	c.W.WriteError(s)
}

// OK writes +OK.
func (c *Ctx) OK() { c.W.WriteSimple("OK") }

// WrongArity writes Redis's wrong-number-of-arguments error for the command.
func (c *Ctx) WrongArity() {
	if c.Cmd.Name == "exec" { // Redis aborts the transaction (execCommandAbort)
		c.Client.tx.clear()
		c.ErrorString("EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command")
		return
	}
	c.ErrorString("ERR wrong number of arguments for '" + c.Cmd.Name + "' command")
}

// SyntaxError writes "ERR syntax error".
func (c *Ctx) SyntaxError() { c.Error(ErrSyntax) }

// NewOp returns an operation of code for the client's database, stamped with
// this command's time. The Op is owned by the Ctx and valid until the next
// NewOp: pass it straight to Propose.
func (c *Ctx) NewOp(code op.Code, args ...[]byte) *op.Op {
	c.op = op.Op{Code: code, DB: c.Client.DB, Time: c.Now(), Args: append(c.opArgs[:0], args...)}
	return &c.op
}

// ReplyFunc writes the reply of a successfully applied operation from its
// reply value (see package op for each code's value).
type ReplyFunc func(c *Ctx, v any)

// Propose replicates and applies o; on success reply writes the reply from
// the apply result, on failure the error is written. Handlers call Propose
// last and write nothing after it: in a later version the reply may be written
// after other commands of the same pipeline have been read.
func (c *Ctx) Propose(o *op.Op, reply ReplyFunc) {
	if c.batched {
		c.enqueue(o, reply)
		if b := &c.Client.batch; b.ops >= maxBatchOps || len(b.entry) >= maxBatchBytes {
			c.Srv.FlushBatch(c.Client, c.out)
		}
		return
	}
	if c.txn != nil && c.txn.propose(c, o, reply) {
		return
	}
	v, err := c.Srv.eng.Propose(c.ctx, o)
	if err != nil {
		c.Error(err)
		return
	}
	reply(c, v)
}

// Arg returns argument i as a string (allocates).
func (c *Ctx) Arg(i int) string { return string(c.Args[i]) }

// ArgIs reports whether argument i equals name, case-insensitively.
func (c *Ctx) ArgIs(i int, name string) bool {
	return len(c.Args[i]) == len(name) && strings.EqualFold(string(c.Args[i]), name)
}

// Common reply functions.

// ReplyOK writes +OK whatever the value.
func ReplyOK(c *Ctx, _ any) { c.OK() }

// ReplyInt writes an int64 value.
func ReplyInt(c *Ctx, v any) { c.W.WriteInt(v.(int64)) }

// ReplyBulkOrNull writes a []byte value, or null when it is nil.
func ReplyBulkOrNull(c *Ctx, v any) {
	if b, ok := v.([]byte); ok && b != nil {
		c.W.WriteBulk(b)
		return
	}
	c.W.WriteNull()
}
