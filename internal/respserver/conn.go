package respserver

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skiffdb/skiff/internal/command"
	"github.com/skiffdb/skiff/internal/resp"
)

// conn is one client connection's output side and its waits. It implements
// command.Conn.
//
// Replies are written by the connection goroutine when it is about to wait
// for input. Out-of-band messages (pub/sub messages, invalidations) are
// queued by any goroutine with Push and written after the replies that were
// buffered before them: by the connection goroutine at its next flush, or,
// while it is idle (waiting for input or blocked in a command), by a pusher
// goroutine started on the first Push. So a message never overtakes the reply
// to a command executed before it was published (SUBSCRIBE's confirmation,
// the GET whose key is later invalidated).
type conn struct {
	net.Conn
	closing *atomic.Bool // the server is shutting down (Server.closed)
	out     atomic.Int64 // bytes written
	wmu     sync.Mutex   // serializes writes to the socket

	mu     sync.Mutex
	queue  [][]byte // pushed messages not yet written
	queued int64    // their bytes
	idle   bool     // the connection goroutine is waiting; the pusher may write
	pusher bool     // the pusher goroutine runs
	dead   bool     // closed (output-buffer limit, write error or end)
	overAt time.Time
	wake   chan struct{}
	spare  [][]byte

	// Input read from the socket during a wait, served before the socket.
	side     []byte
	watchEnd chan struct{}
	gone     chan struct{}
}

func newConn(c net.Conn, closing *atomic.Bool) *conn {
	return &conn{Conn: c, closing: closing, wake: make(chan struct{}, 1)}
}

// Write writes p to the socket (the reply writer's destination).
func (c *conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	n, err := c.Conn.Write(p)
	c.wmu.Unlock()
	c.out.Add(int64(n))
	return n, err
}

// Push queues msg (owned by the caller, never modified afterwards). It never
// blocks. Past the hard limit, or past the soft limit for longer than its
// duration, the connection is closed, as Redis's client-output-buffer-limit
// does for pub/sub clients.
func (c *conn) Push(msg []byte, lim command.OutputLimit) bool {
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return false
	}
	c.queue = append(c.queue, msg)
	c.queued += int64(len(msg))
	if over := c.overLimit(lim); over {
		c.dead = true
		c.queue, c.queued = nil, 0
		c.mu.Unlock()
		_ = c.Conn.Close()
		return false
	}
	if c.idle && !c.pusher {
		c.pusher = true
		go c.push()
	}
	c.kick()
	c.mu.Unlock()
	return true
}

// kick wakes the pusher, if it runs; c.mu is held (end closes wake under it).
func (c *conn) kick() {
	if !c.pusher {
		return
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *conn) overLimit(lim command.OutputLimit) bool {
	if lim.Hard > 0 && c.queued > lim.Hard {
		return true
	}
	if lim.Soft > 0 && c.queued > lim.Soft {
		now := time.Now()
		if c.overAt.IsZero() {
			c.overAt = now
		} else if now.Sub(c.overAt) >= lim.SoftFor {
			return true
		}
	} else {
		c.overAt = time.Time{}
	}
	return false
}

// Pending returns the bytes of queued messages (CLIENT LIST's omem).
func (c *conn) Pending() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.queued
}

// take removes and returns the queue when the caller may write it.
func (c *conn) take(onlyIdle bool) [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) == 0 || (onlyIdle && !c.idle) || c.dead {
		return nil
	}
	q := c.queue
	c.queue, c.queued, c.overAt = c.spare[:0], 0, time.Time{}
	c.spare = nil
	return q
}

// writeQueue writes q to the socket in one call.
func (c *conn) writeQueue(q [][]byte) error {
	bufs := net.Buffers(q)
	c.wmu.Lock()
	n, err := bufs.WriteTo(c.Conn)
	c.wmu.Unlock()
	c.out.Add(n)
	c.mu.Lock()
	if c.spare == nil {
		clear(q)
		c.spare = q[:0]
	}
	c.mu.Unlock()
	return err
}

// push is the pusher goroutine: while the connection goroutine waits, it
// writes queued messages as they arrive. It ends with the connection.
func (c *conn) push() {
	for range c.wake {
		if q := c.take(true); q != nil {
			if err := c.writeQueue(q); err != nil {
				c.kill()
				return
			}
		}
		c.mu.Lock()
		dead := c.dead
		c.mu.Unlock()
		if dead {
			return
		}
	}
}

// flush writes the buffered replies, then the queued messages; the
// connection goroutine calls it before waiting.
func (c *conn) flush(w *resp.Writer) error {
	if w.Buffered() > 0 {
		if err := w.Flush(); err != nil {
			return err
		}
	}
	if q := c.take(false); q != nil {
		return c.writeQueue(q)
	}
	return nil
}

// Flush implements command.Conn: pending replies and messages go out now.
func (c *conn) Flush(w *resp.Writer) error { return c.flush(w) }

// setIdle marks whether the connection goroutine is waiting. Going idle
// after the final flush hands queued messages to the pusher.
func (c *conn) setIdle(idle bool) {
	c.mu.Lock()
	c.idle = idle
	if idle && len(c.queue) > 0 && !c.dead {
		if !c.pusher {
			c.pusher = true
			go c.push()
		}
		c.kick()
	}
	c.mu.Unlock()
}

// kill closes the connection and stops the pusher.
func (c *conn) kill() {
	c.mu.Lock()
	if !c.dead {
		c.dead = true
		c.queue, c.queued = nil, 0
	}
	c.mu.Unlock()
	_ = c.Conn.Close()
}

// end is called once when the connection goroutine finishes.
func (c *conn) end() {
	c.kill()
	c.mu.Lock()
	if c.pusher {
		close(c.wake) // the pusher sees dead and returns
		c.pusher = false
	}
	c.mu.Unlock()
}

// maxSide bounds the input a blocked client may send while it waits; a
// watcher stops reading there (the peer's writes then back up in TCP).
const maxSide = 64 << 10

// WaitStart implements command.Conn: the connection goroutine is about to
// block in a command (BLPOP ...). Replies and messages are flushed, pushes
// flow while it waits, and the returned channel is closed if the peer
// disconnects meanwhile (input that arrives is kept for later).
func (c *conn) WaitStart(w *resp.Writer) <-chan struct{} {
	_ = c.flush(w)
	c.gone = make(chan struct{})
	c.watchEnd = make(chan struct{})
	c.setIdle(true)
	if len(c.side) >= maxSide {
		close(c.watchEnd)
		return c.gone
	}
	go c.watch(c.gone, c.watchEnd)
	return c.gone
}

// watch reads the socket during a wait, to notice a disconnect.
func (c *conn) watch(gone, end chan struct{}) {
	defer close(end)
	buf := make([]byte, 4096)
	for len(c.side) < maxSide {
		n, err := c.Conn.Read(buf)
		c.side = append(c.side, buf[:n]...)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return // WaitEnd interrupted the read
			}
			close(gone)
			return
		}
	}
}

// WaitEnd implements command.Conn: the wait is over; the watcher is stopped
// before the connection goroutine reads again.
func (c *conn) WaitEnd() {
	_ = c.Conn.SetReadDeadline(time.Now())
	<-c.watchEnd
	if !c.closing.Load() { // shutdown's deadline stays
		_ = c.Conn.SetReadDeadline(time.Time{})
	}
	c.setIdle(false)
}

// read serves input kept from a wait, then the socket.
func (c *conn) read(p []byte) (int, error) {
	if len(c.side) > 0 {
		n := copy(p, c.side)
		c.side = c.side[n:]
		if len(c.side) == 0 {
			c.side = nil
		}
		return n, nil
	}
	c.setIdle(true)
	n, err := c.Conn.Read(p)
	c.setIdle(false)
	return n, err
}
