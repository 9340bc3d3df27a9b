package command

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/skiffdb/skiff/internal/engine"
	"github.com/skiffdb/skiff/internal/resp"
	"github.com/skiffdb/skiff/internal/store"
)

// The API's internal clients: each keyspace API call (api.go) runs one
// command on a pooled Client through Server.Exec, exactly as a RESP
// connection would, into an in-memory reply that is decoded here. Such a
// client is authenticated, speaks RESP2, does not batch (each call is one
// proposal; raft group-commits concurrent ones), is not listed by CLIENT
// LIST, and takes a read fence for every linearizable read.

// apiState is the Server's keyspace-API state: the pool of internal
// clients and the watch hub (watch.go).
type apiState struct {
	pool  sync.Pool // *apiClient
	watch watchHub
}

// apiClient is one internal client with its reply buffer. Exec is serial
// per client, so a client serves one call at a time.
type apiClient struct {
	c    *Client
	w    *resp.Writer
	out  bytes.Buffer
	args [][]byte
	num  []byte // formatted numeric arguments (args alias it)
}

func (s *Server) getAPIClient() *apiClient {
	if ac, ok := s.api.pool.Get().(*apiClient); ok {
		return ac
	}
	c := NewClient(s.clients.nextID.Add(1), "api", "api", time.Now())
	c.ctx = Ctx{Client: c, Srv: s, ctx: s.ctx}
	c.Authed = true
	ac := &apiClient{c: c, args: make([][]byte, 0, 16), num: make([]byte, 0, 64)}
	ac.w = resp.NewWriter(&ac.out)
	return ac
}

func (s *Server) putAPIClient(ac *apiClient) {
	if ac.out.Cap() > 64<<10 {
		return // let a client that held a big reply go
	}
	clear(ac.args[:cap(ac.args)]) // drop references to the request's bytes
	ac.args = ac.args[:0]
	ac.num = ac.num[:0]
	s.api.pool.Put(ac)
}

// start begins a command: name is its first argument.
func (ac *apiClient) start(name string) {
	ac.args = append(ac.args[:0], unsafeBytes(name))
	ac.num = ac.num[:0]
}

// arg appends arguments (aliased, not copied: Exec does not keep them).
func (ac *apiClient) arg(a ...[]byte) { ac.args = append(ac.args, a...) }

// uint appends a decimal argument formatted into the client's scratch.
func (ac *apiClient) uint(n uint64) {
	if cap(ac.num)-len(ac.num) < 20 {
		ac.num = make([]byte, 0, 64)
	}
	start := len(ac.num)
	ac.num = strconv.AppendUint(ac.num, n, 10)
	ac.args = append(ac.args, ac.num[start:len(ac.num):len(ac.num)])
}

// word appends a constant argument.
func (ac *apiClient) word(w string) { ac.args = append(ac.args, unsafeBytes(w)) }

// int appends a decimal argument formatted into the client's scratch.
func (ac *apiClient) int(n int64) {
	if cap(ac.num)-len(ac.num) < 20 {
		ac.num = make([]byte, 0, 64) // earlier arguments keep the old array
	}
	start := len(ac.num)
	ac.num = strconv.AppendInt(ac.num, n, 10)
	ac.args = append(ac.args, ac.num[start:len(ac.num):len(ac.num)])
}

// unsafeBytes returns a constant string's bytes without copying: handlers
// never write to their arguments (they alias a connection's read buffer).
func unsafeBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// run executes the built command on database db (readOnly: stale local
// reads) and returns a decoder of its reply, valid until the client is
// returned to the pool. An error reply is returned as an error (apiError);
// so is ctx's error when it ended meanwhile. ctx bounds the proposal;
// routing, read fences and forwarding are bounded by the server's own
// limits (the forwarding deadline, shutdown).
func (s *Server) run(ctx context.Context, ac *apiClient, db int, readOnly bool) (replyDec, error) {
	if err := ctx.Err(); err != nil {
		return replyDec{}, err
	}
	c := ac.c
	if c.DB != db {
		c.SelectDB(db)
	}
	c.ReadOnly = readOnly
	c.NewInput() // one read fence per call
	c.ctx.ctx = ctx
	ac.out.Reset()
	s.Exec(c, ac.args, ac.w)
	_ = ac.w.Flush() // into ac.out: cannot fail
	c.ctx.ctx = s.ctx
	d := replyDec{b: ac.out.Bytes()}
	if len(d.b) > 0 && d.b[0] == '-' {
		if err := ctx.Err(); err != nil {
			return replyDec{}, err
		}
		return replyDec{}, apiError(string(bytes.TrimSuffix(d.b[1:], []byte("\r\n"))))
	}
	return d, nil
}

// apiError maps an error reply back to the sentinel it was written for
// (the inverse of errorTable), so the API's callers see the same errors
// whatever node served them: a follower relays the leader's reply text.
func apiError(msg string) error {
	for _, m := range errorTable {
		if m.reply == msg {
			return m.err
		}
	}
	code, _, _ := strings.Cut(msg, " ")
	switch code {
	case "WRONGTYPE":
		return store.ErrWrongType
	case "CLUSTERDOWN":
		return fmt.Errorf("%w: %s", engine.ErrNoLeader, msg)
	case "TRYAGAIN":
		return fmt.Errorf("%w: %s", engine.ErrOutcomeUnknown, msg)
	case "ERR":
		if isInvalidArgument(msg) {
			return fmt.Errorf("%w: %s", ErrInvalidArgument, strings.TrimPrefix(msg, "ERR "))
		}
	}
	return errors.New(msg)
}

// isInvalidArgument reports whether an ERR reply is about the request
// (Redis's argument errors and the SKIFF.KV.* commands' "invalid ...").
func isInvalidArgument(msg string) bool {
	for _, s := range []string{"invalid", "syntax error", "out of range", "not an integer", "wrong number of arguments", "cannot be combined"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// replyDec decodes the replies of the commands the API runs: integers,
// bulk strings, nulls and arrays of them. Bytes returned alias the reply.
type replyDec struct {
	b   []byte
	bad bool
}

// line returns the next header's type and text.
func (d *replyDec) line() (byte, []byte) {
	i := bytes.IndexByte(d.b, '\r')
	if d.bad || i < 1 || i+1 >= len(d.b) || d.b[i+1] != '\n' {
		d.bad = true
		return 0, nil
	}
	t, l := d.b[0], d.b[1:i]
	d.b = d.b[i+2:]
	return t, l
}

func (d *replyDec) int() int64 {
	t, l := d.line()
	n, err := strconv.ParseInt(string(l), 10, 64)
	if t != ':' || err != nil {
		d.bad = true
	}
	return n
}

// bulk returns a bulk string; null reports $-1 (or RESP3's _).
func (d *replyDec) bulk() (b []byte, null bool) {
	t, l := d.line()
	switch {
	case t == '_' || (t == '$' && string(l) == "-1"):
		return nil, true
	case t != '$':
		d.bad = true
		return nil, false
	}
	n, err := strconv.Atoi(string(l))
	if err != nil || n < 0 || n+2 > len(d.b) {
		d.bad = true
		return nil, false
	}
	b = d.b[:n:n]
	d.b = d.b[n+2:]
	return b, false
}

// array returns an array's length, -1 for a null reply.
func (d *replyDec) array() int {
	t, l := d.line()
	if t == '_' || (t == '$' || t == '*') && string(l) == "-1" {
		return -1
	}
	n, err := strconv.Atoi(string(l))
	if t != '*' || err != nil || n < 0 {
		d.bad = true
		return 0
	}
	return n
}

// simple reads +OK.
func (d *replyDec) ok() error {
	if t, l := d.line(); t != '+' || string(l) != "OK" {
		return errBadLeaderReply
	}
	return nil
}
