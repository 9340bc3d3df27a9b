package engine

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/skiffdb/skiff/internal/resp"
)

// ErrForward: the request could not be relayed to the leader (connection
// lost mid-request). A forwarded write's outcome is then unknown.
var ErrForward = errors.New("engine: leader unreachable")

// ErrDial: no connection to the leader could be made, so nothing was sent:
// a write's outcome is known (not applied) and it may be retried.
var ErrDial = errors.New("engine: cannot connect to the leader")

// FwdCommand is the internal command that carries a forwarded request:
// SKIFF.FWD [<traceparent>] <db> <proto> <command> [args...]. It is accepted
// only on connections that arrive on the Raft port (see replication's stream
// layer). The optional W3C traceparent (never a number, so never taken for
// db) is sent when the forward is traced (trace.go): the leader's spans
// continue the follower's trace.
const FwdCommand = "SKIFF.FWD"

// maxIdleFwd bounds the idle connections kept to the leader.
const maxIdleFwd = 64

// forwarder keeps pooled connections from this node to the leader.
type forwarder struct {
	mu   sync.Mutex
	idle []*fwdConn
}

type fwdConn struct {
	c    net.Conn
	rd   *resp.Reader
	addr string
	buf  []byte
}

// Forward relays one command (args, as the client sent it) to the leader,
// for a client on database db speaking protocol proto, and returns the
// leader's reply bytes exactly as sent (errors included). It may be called
// from any goroutine. Errors: ErrNoLeader, ErrNotLeader (this node leads
// now: execute locally), ErrForward.
func (e *Engine) Forward(ctx context.Context, db, proto int, args [][]byte) ([]byte, error) {
	if e.rlog == nil {
		return nil, ErrNotLeader
	}
	if e.tr != nil {
		return e.forwardTraced(ctx, db, proto, args)
	}
	return e.forward(ctx, nil, db, proto, args)
}

// forward sends SKIFF.FWD (with traceparent tp when not nil) and reads the
// reply.
func (e *Engine) forward(ctx context.Context, tp []byte, db, proto int, args [][]byte) ([]byte, error) {
	fc, err := e.fwdConn(ctx)
	if err != nil {
		return nil, err
	}
	fc.buf = appendFwd(fc.buf[:0], tp, db, proto, args)
	deadline := time.Now().Add(30 * time.Second)
	if dl, ok := ctx.Deadline(); ok {
		deadline = dl
	}
	_ = fc.c.SetDeadline(deadline)
	if _, err := fc.c.Write(fc.buf); err != nil {
		fc.c.Close()
		return nil, ErrForward
	}
	reply, err := fc.rd.ReadReply()
	if err != nil {
		fc.c.Close()
		return nil, ErrForward
	}
	e.fwd.put(fc)
	return reply, nil
}

func appendFwd(dst, tp []byte, db, proto int, args [][]byte) []byte {
	n := len(args) + 3
	if tp != nil {
		n++
	}
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(n), 10)
	dst = append(dst, "\r\n"...)
	dst = appendBulk(dst, []byte(FwdCommand))
	if tp != nil {
		dst = appendBulk(dst, tp)
	}
	dst = appendBulk(dst, strconv.AppendInt(nil, int64(db), 10))
	dst = appendBulk(dst, strconv.AppendInt(nil, int64(proto), 10))
	for _, a := range args {
		dst = appendBulk(dst, a)
	}
	return dst
}

func appendBulk(dst, b []byte) []byte {
	dst = append(dst, '$')
	dst = strconv.AppendInt(dst, int64(len(b)), 10)
	dst = append(dst, "\r\n"...)
	dst = append(dst, b...)
	return append(dst, "\r\n"...)
}

// fwdConn returns an idle connection to the current leader or dials one.
func (e *Engine) fwdConn(ctx context.Context) (*fwdConn, error) {
	_, leader := e.rlog.Leader()
	if fc := e.fwd.get(leader); fc != nil {
		return fc, nil
	}
	c, addr, err := e.rlog.DialLeader(ctx)
	if err != nil {
		if errors.Is(err, ErrNoLeader) || errors.Is(err, ErrNotLeader) {
			return nil, err
		}
		return nil, ErrDial
	}
	return &fwdConn{c: c, rd: resp.NewReader(c, 16<<10), addr: addr}, nil
}

func (f *forwarder) get(addr string) *fwdConn {
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(f.idle) > 0 {
		fc := f.idle[len(f.idle)-1]
		f.idle = f.idle[:len(f.idle)-1]
		if fc.addr == addr {
			return fc
		}
		fc.c.Close() // the leader changed
	}
	return nil
}

func (f *forwarder) put(fc *fwdConn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.idle) >= maxIdleFwd {
		fc.c.Close()
		return
	}
	f.idle = append(f.idle, fc)
}

func (f *forwarder) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fc := range f.idle {
		fc.c.Close()
	}
	f.idle = nil
}
