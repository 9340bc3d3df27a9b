package respserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skiffdb/skiff/internal/command"
	"github.com/skiffdb/skiff/internal/resp"
)

// Options configures the RESP server.
type Options struct {
	// Addr to listen on, e.g. "127.0.0.1:6379" or "127.0.0.1:0".
	Addr string
	// Listener, when set, is used instead of listening on Addr.
	Listener net.Listener
	// Exec runs commands.
	Exec *command.Server
	// Logger for connection-level events (debug) and accept errors.
	Logger *slog.Logger
	// MaxClients refuses connections beyond this count; default 10000.
	MaxClients int
	// ReadBufferSize is each connection's initial read buffer; default 16 KiB.
	ReadBufferSize int
}

// Server accepts RESP connections and runs one goroutine per connection:
// read every request already buffered, execute each, and send all replies in
// one write when the connection would otherwise wait for input.
type Server struct {
	opts Options
	ln   net.Listener
	log  *slog.Logger

	mu struct {
		sync.Mutex
		conns map[net.Conn]struct{}
	}
	wg     sync.WaitGroup
	closed atomic.Bool
}

// Listen binds the listener. A port in use is reported here, before Serve.
func Listen(opts Options) (*Server, error) {
	if opts.MaxClients <= 0 {
		opts.MaxClients = 10000
	}
	if opts.ReadBufferSize <= 0 {
		opts.ReadBufferSize = 16 << 10
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	ln := opts.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", opts.Addr); err != nil {
			return nil, err
		}
	}
	s := &Server{opts: opts, ln: ln, log: opts.Logger}
	s.mu.conns = make(map[net.Conn]struct{})
	return s, nil
}

// Addr returns the bound address (useful with port 0).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve accepts connections until ctx ends. Then it stops accepting, lets
// every connection finish the commands it has already read (their replies
// are sent), closes the connections and returns once all have ended.
func (s *Server) Serve(ctx context.Context) error {
	stop := context.AfterFunc(ctx, s.shutdown)
	defer stop()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			if s.closed.Load() {
				s.wg.Wait()
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(5 * time.Millisecond) // accept back-off (EMFILE and friends)
				continue
			}
			s.shutdown()
			s.wg.Wait()
			return err
		}
		if !s.track(conn) {
			conn.Close()
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(conn)
			s.handleConn(conn)
		}()
	}
}

// shutdown stops accepting and interrupts every connection's pending read;
// a connection executing a command finishes it and sends the reply first.
func (s *Server) shutdown() {
	if s.closed.Swap(true) {
		return
	}
	s.ln.Close()
	s.mu.Lock()
	for c := range s.mu.conns {
		_ = c.SetReadDeadline(time.Now())
	}
	s.mu.Unlock()
}

// Abort closes the listener and every connection at once, without letting
// commands finish (a simulated crash); Serve then returns.
func (s *Server) Abort() {
	s.shutdown()
	s.mu.Lock()
	for c := range s.mu.conns {
		c.Close()
	}
	s.mu.Unlock()
}

func (s *Server) track(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return false
	}
	if len(s.mu.conns) >= s.opts.MaxClients {
		s.opts.Exec.RejectConnection()
		_, _ = c.Write([]byte("-ERR max number of clients reached\r\n"))
		return false
	}
	s.mu.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c net.Conn) {
	s.mu.Lock()
	delete(s.mu.conns, c)
	s.mu.Unlock()
}

// flushingReader flushes pending replies before every read from the socket:
// replies to everything already buffered go out in one write exactly when
// the connection is about to wait for more input.
type flushingReader struct {
	c    *conn
	w    *resp.Writer
	cl   *command.Client
	exec *command.Server
	in   int64
}

func (f *flushingReader) Read(p []byte) (int, error) {
	f.exec.FlushBatch(f.cl, f.w) // the pipeline's writes: one proposal
	if err := f.c.flush(f.w); err != nil {
		return 0, err
	}
	n, err := f.c.read(p)
	f.in += int64(n)
	if n > 0 {
		f.cl.NewInput() // new requests: the next read needs a fresh read fence
	}
	return n, err
}

// maxPendingReply bounds the replies held before a flush inside a long pipeline.
const maxPendingReply = 64 << 10

// ServeInternal serves a connection from another node (requests forwarded
// to this node as leader, arriving on the Raft port). It returns when the
// connection ends; shutdown closes it like any other.
func (s *Server) ServeInternal(conn net.Conn) {
	if !s.track(conn) {
		conn.Close()
		return
	}
	s.wg.Add(1)
	defer s.wg.Done()
	defer s.untrack(conn)
	s.handle(conn, true)
}

func (s *Server) handleConn(conn net.Conn) { s.handle(conn, false) }

func (s *Server) handle(nc net.Conn, internal bool) {
	cn := newConn(nc, &s.closed)
	defer cn.end()
	exec := s.opts.Exec
	cl := exec.NewClient(nc.RemoteAddr().String(), nc.LocalAddr().String())
	defer exec.RemoveClient(cl)
	cl.Kill = cn.kill
	cl.Conn = cn
	// A command that panics (a bug) closes its own connection, as net/http
	// does for a handler, instead of taking every client and the node's Raft
	// membership down with the process. Runs before RemoveClient and end.
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("a command panicked: its connection is closed", "client_id", cl.ID, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	if internal {
		cl.Internal, cl.Authed = true, true
	}

	w := resp.NewWriter(cn)
	cl.Batching = true
	fr := &flushingReader{c: cn, w: w, cl: cl, exec: exec}
	rd := resp.NewReader(fr, s.opts.ReadBufferSize)
	limits := resp.DefaultLimits()
	authed := cl.Authed
	limits.Unauthenticated = !authed
	rd.SetLimits(limits)
	var reported struct{ in, out int64 }
	defer func() {
		exec.AddNetStats(fr.in-reported.in, cn.out.Load()-reported.out)
	}()

	for {
		args, err := rd.ReadCommand()
		if err != nil {
			var pe *resp.ProtocolError
			if errors.As(err, &pe) {
				exec.FlushBatch(cl, w) // requests before the bad one are answered first
				w.WriteError(pe.Error())
				_ = cn.flush(w)
			} else if err != io.EOF && !s.closed.Load() && !errors.Is(err, net.ErrClosed) {
				s.log.Debug("connection closed", "client_id", cl.ID, "err", err)
			}
			_ = cn.flush(w)
			return
		}
		exec.Exec(cl, args, w)
		if cl.CloseAfterReply {
			exec.FlushBatch(cl, w)
			_ = cn.flush(w)
			return
		}
		if w.Buffered() > maxPendingReply {
			if err := cn.flush(w); err != nil {
				return
			}
		}
		if cl.Authed != authed {
			authed = cl.Authed
			limits.Unauthenticated = !authed
			rd.SetLimits(limits)
		}
		if d := fr.in - reported.in; d > 1<<20 {
			out := cn.out.Load()
			exec.AddNetStats(d, out-reported.out)
			reported.in, reported.out = fr.in, out
		}
	}
}
