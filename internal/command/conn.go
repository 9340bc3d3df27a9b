package command

import (
	"time"

	"github.com/skiffdb/skiff/internal/resp"
)

// Conn is what a connection offers the command layer beyond its reply
// writer: out-of-band pushes and waits. respserver implements it.
type Conn interface {
	// Push queues msg, a complete message encoded for the client's protocol
	// and never modified afterwards, to be written after the replies already
	// buffered. It never blocks. It returns false when the connection is
	// closed, or has just been closed for exceeding lim.
	Push(msg []byte, lim OutputLimit) bool
	// Pending returns the bytes queued by Push and not yet written.
	Pending() int64
	// Flush writes the replies buffered in w and the queued pushes now.
	Flush(w *resp.Writer) error
	// WaitStart flushes w and marks the connection as waiting in a blocked
	// command: pushes flow meanwhile, and the returned channel is closed if
	// the peer disconnects. Input arriving meanwhile is kept for later.
	WaitStart(w *resp.Writer) <-chan struct{}
	// WaitEnd ends the wait begun by WaitStart.
	WaitEnd()
}

// OutputLimit is a client-output-buffer-limit class: a connection whose
// queued pushes exceed Hard bytes, or Soft bytes for SoftFor, is closed.
// Zero disables a limit.
type OutputLimit struct {
	Hard, Soft int64
	SoftFor    time.Duration
}
