package resp

import (
	"bytes"
	"errors"
	"io"
	"math"
)

// Buffer sizing.
const (
	defaultReaderSize = 16 << 10
	minReaderSize     = 16
	// After this many consecutive requests no bigger than half the initial
	// size, a buffer or argument slice that grew for a big request is
	// released (Redis shrinks idle query buffers in clientsCron).
	shrinkAfterSmall = 8
	// Argument slices with more capacity than this are released under the
	// same rule.
	maxKeptArgs = 1024
	// Initial capacity for the argument slices of a multibulk request; the
	// claimed count is never preallocated beyond it.
	initialArgs = 16
	// Consecutive (0, nil) reads tolerated before io.ErrNoProgress.
	maxEmptyReads = 100
)

// lineTooLong is findLine's answer for a line longer than Limits.MaxInline.
const lineTooLong = -2

var errNegativeRead = errors.New("resp: reader returned invalid count from Read")

// Reader reads pipelined requests (or replies) from an io.Reader through one
// growable buffer.
//
// The connection goroutine (respserver) calls ReadCommand in a loop; clients
// and tests call ReadReply or ReadValue. Do not mix the two kinds of call
// while one is mid-message. A Reader is not safe for concurrent use.
//
// Memory: the buffer starts at the size given to NewReader and grows, by
// doubling, only as bytes arrive, up to Limits.MaxQueryBuffer (+1). A claimed
// length ($N or *N) is never preallocated. After a run of small requests a
// grown buffer is released again.
type Reader struct {
	rd   io.Reader
	buf  []byte // len(buf) is the usable size
	r, w int    // buf[r:w] is buffered and not yet consumed
	size int    // initial size, kept after shrinking
	lim  Limits

	err  error // sticky: *ProtocolError or ErrQueryBufferLimit
	rerr error // read error held back until the bytes read with it are parsed
	need int64 // bytes (from r) the message being parsed needs; 0 if unknown

	args     [][]byte
	cmd      cmdState
	rep      replyState
	smallRun int
}

// span is one multibulk argument, as an offset from the request's first byte.
type span struct{ off, n int }

// lineScan remembers how far the search for a line terminator has got, so
// bytes are scanned once however the line is delivered.
type lineScan struct {
	from    int  // offset (from the message start) where the search resumes
	blocked bool // a NUL byte came before the terminator (see findLine)
}

// cmdState is the progress through a partly received request. Offsets are
// relative to r.r, the request's first byte, so they survive compaction.
type cmdState struct {
	active bool
	multi  bool  // multibulk (else inline)
	header bool  // multibulk: the *N header has been parsed
	pos    int   // multibulk: bytes parsed so far
	left   int64 // multibulk: arguments still expected
	bulk   int64 // multibulk: length of the argument being received, -1 before its $ header
	spans  []span
	ls     lineScan
}

// NewReader returns a Reader over rd whose buffer starts at size bytes (16
// KiB is a good choice for a server connection; size <= 0 means 16 KiB) with
// DefaultLimits.
func NewReader(rd io.Reader, size int) *Reader {
	if size <= 0 {
		size = defaultReaderSize
	}
	if size < minReaderSize {
		size = minReaderSize
	}
	return &Reader{
		rd:   rd,
		buf:  make([]byte, size),
		size: size,
		lim:  DefaultLimits(),
	}
}

// SetLimits replaces the limits; zero numeric fields take their defaults.
// respserver calls it between requests, e.g. with Unauthenticated set until
// AUTH succeeds. The new limits apply from the next header parsed.
func (r *Reader) SetLimits(l Limits) { r.lim = l.withDefaults() }

// Buffered reports how many bytes have been read from the underlying reader
// and not consumed yet. respserver flushes its replies when it is 0, i.e.
// when the next ReadCommand may block.
//
// ReadCommand consumes complete empty requests (blank lines, *0, *-1) that
// follow the request it returns, so a trailing "\r\n" after a command does
// not keep Buffered above 0 while the client waits for its reply.
func (r *Reader) Buffered() int { return r.w - r.r }

// ReadCommand reads one request: a multibulk (*N then N $len bulks) or an
// inline command line. It blocks in the underlying Read only when the
// buffered bytes do not hold a complete request.
//
// The returned arguments are slices into the Reader's buffer, valid only until
// the next call on the Reader; the caller copies what it keeps. Empty requests
// (*0, *-1, blank inline lines) are skipped and the next request is read.
//
// Errors:
//   - *ProtocolError: the request is malformed. The caller replies with
//     err.Error() as an error reply, flushes and closes the connection.
//   - ErrQueryBufferLimit: the request needs more than
//     Limits.MaxQueryBuffer bytes. The caller closes without a reply.
//   - io.EOF when the peer closed between requests, io.ErrUnexpectedEOF
//     when it closed inside one, or any other error from the underlying
//     reader. Read errors are returned as they are and do not poison the
//     Reader (a read deadline may be retried).
//
// Protocol and limit errors are sticky: every later call returns the same
// error.
func (r *Reader) ReadCommand() ([][]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	r.maybeShrink()
	for {
		if r.r < r.w {
			if !r.cmd.active {
				r.cmd.active = true
				r.cmd.multi = r.buf[r.r] == '*'
			}
			var done bool
			var err error
			if r.cmd.multi {
				done, err = r.parseMultibulk()
			} else {
				done, err = r.parseInline()
			}
			if err != nil {
				return nil, err
			}
			if done {
				if len(r.args) == 0 {
					continue // empty request
				}
				r.skipEmpty()
				return r.args, nil
			}
		}
		if err := r.fill(); err != nil {
			return nil, err
		}
	}
}

// parseMultibulk advances the multibulk request at r.r as far as the buffered
// bytes allow. It reports done when the request is complete (r.args set, r.r
// advanced), or an error. This follows processMultibulkBuffer in Redis's
// networking.c: header lines end at '\r' and the byte after it is skipped
// unchecked, as is the 2-byte terminator after each bulk.
func (r *Reader) parseMultibulk() (bool, error) {
	c := &r.cmd
	b := r.buf[r.r:r.w]
	if !c.header {
		end := r.findLine(&c.ls, 0, '\r')
		if end == lineTooLong {
			return false, r.fail(&ProtocolError{Msg: msgTooBigMbulkCount}, r.lim.MaxInline+1)
		}
		if end < 0 || end+2 > len(b) {
			return false, r.needMore(0)
		}
		n, ok := parseLL(b[1:end])
		if !ok || n > r.lim.MaxMultibulk {
			return false, r.fail(&ProtocolError{Msg: msgInvalidMultibulk}, end+2)
		}
		if r.lim.Unauthenticated && n > unauthMaxMultibulk {
			return false, r.fail(&ProtocolError{Msg: msgUnauthMultibulk}, end+2)
		}
		c.pos = end + 2
		c.ls = lineScan{from: c.pos}
		if n <= 0 {
			return true, r.finishMultibulk()
		}
		c.header = true
		c.left = n
		c.bulk = -1
		if cap(c.spans) < initialArgs {
			c.spans = make([]span, 0, initialArgs)
		}
		c.spans = c.spans[:0]
	}
	for c.left > 0 {
		if c.bulk < 0 {
			end := r.findLine(&c.ls, c.pos, '\r')
			if end == lineTooLong {
				return false, r.fail(&ProtocolError{Msg: msgTooBigBulkCount}, c.pos+r.lim.MaxInline+1)
			}
			if end < 0 || end+2 > len(b) {
				return false, r.needMore(0)
			}
			if b[c.pos] != '$' {
				return false, r.fail(expectedDollar(b[c.pos]), end+2)
			}
			n, ok := parseLL(b[c.pos+1 : end])
			if !ok || n < 0 || n > r.lim.MaxBulkLen {
				return false, r.fail(&ProtocolError{Msg: msgInvalidBulk}, end+2)
			}
			if r.lim.Unauthenticated && n > unauthMaxBulkLen {
				return false, r.fail(&ProtocolError{Msg: msgUnauthBulk}, end+2)
			}
			c.pos = end + 2
			c.bulk = n
		}
		need := addSat(int64(c.pos), c.bulk, 2)
		if need > int64(len(b)) {
			return false, r.needMore(need)
		}
		c.spans = append(c.spans, span{off: c.pos, n: int(c.bulk)})
		c.pos = int(need)
		c.bulk = -1
		c.left--
		c.ls = lineScan{from: c.pos}
	}
	return true, r.finishMultibulk()
}

// finishMultibulk turns the spans of the complete request into r.args and
// consumes it.
func (r *Reader) finishMultibulk() error {
	c := &r.cmd
	n := c.pos
	if int64(n) > r.lim.MaxQueryBuffer {
		return r.fail(ErrQueryBufferLimit, n)
	}
	base := r.buf[r.r : r.r+n]
	r.args = r.args[:0]
	if c.header {
		for _, s := range c.spans {
			r.args = append(r.args, base[s.off:s.off+s.n:s.off+s.n])
		}
	}
	r.consume(n)
	return nil
}

// consume ends the current request, which was n bytes long.
func (r *Reader) consume(n int) {
	r.r += n
	spans := r.cmd.spans
	r.cmd = cmdState{spans: spans[:0]}
	r.need = 0
	if n <= r.size/2 {
		r.smallRun++
	} else {
		r.smallRun = 0
	}
}

// findLine looks for the terminator term of the line that starts at off
// (offsets relative to r.r). It returns the terminator's offset, -1 when more
// bytes are needed, or lineTooLong when the line holds more than
// Limits.MaxInline bytes before its terminator.
//
// Redis finds terminators with strchr on its NUL-terminated query buffer, so
// a NUL byte before the terminator hides it: the request then waits for more
// bytes until the line is too long. findLine keeps that behaviour (blocked).
//
// The outcome depends only on the bytes, not on how they were split across
// reads: a line is too long exactly when its terminator is not within the
// first MaxInline+1 bytes.
func (r *Reader) findLine(ls *lineScan, off int, term byte) int {
	b := r.buf[r.r:r.w]
	if ls.from < off {
		ls.from = off
	}
	if !ls.blocked && ls.from < len(b) {
		seg := b[ls.from:]
		i := bytes.IndexByte(seg, term)
		head := seg
		if i >= 0 {
			head = seg[:i]
		}
		if bytes.IndexByte(head, 0) >= 0 {
			ls.blocked = true
		} else if i >= 0 {
			end := ls.from + i
			ls.from = end // a repeated call finds it at once
			if end-off > r.lim.MaxInline {
				return lineTooLong
			}
			return end
		} else {
			ls.from = len(b)
		}
	}
	if len(b)-off > r.lim.MaxInline {
		return lineTooLong
	}
	return -1
}

// fail records a sticky protocol or limit error. frontier is how many bytes of
// the message were needed to detect it; if that is more than the query buffer
// may hold, the limit error wins, so that the result does not depend on how
// the bytes were split across reads.
func (r *Reader) fail(err error, frontier int) error {
	if int64(frontier) > r.lim.MaxQueryBuffer {
		err = ErrQueryBufferLimit
	}
	r.err = err
	return err
}

// needMore is the answer of a parse that needs more bytes. need is how many
// bytes (from r.r) the message needs, if known, and guides buffer growth.
func (r *Reader) needMore(need int64) error {
	r.need = need
	if int64(r.w-r.r) > r.lim.MaxQueryBuffer {
		r.err = ErrQueryBufferLimit
		return r.err
	}
	return nil
}

// skipEmpty consumes complete empty requests (blank or all-space inline
// lines, *N with N <= 0) at the front of the buffer without reading.
func (r *Reader) skipEmpty() {
	for r.r < r.w {
		b := r.buf[r.r:r.w]
		var next int
		if b[0] == '*' {
			// A valid count is at most 20 bytes; anything longer is not an
			// empty request.
			head := b[:min(len(b), 24)]
			i := bytes.IndexByte(head, '\r')
			if i < 0 || i+2 > len(b) || i > r.lim.MaxInline {
				return
			}
			n, ok := parseLL(b[1:i])
			if !ok || n > 0 {
				return
			}
			next = i + 2
		} else {
			i := 0
			for i < len(b) && b[i] != '\n' && isSpace(b[i]) {
				i++
			}
			if i == len(b) || b[i] != '\n' || i > r.lim.MaxInline {
				return
			}
			next = i + 1
		}
		if int64(next) > r.lim.MaxQueryBuffer {
			return
		}
		r.r += next
	}
}

// fill reads more bytes, first moving unconsumed bytes to the front of the
// buffer and growing it when it is full.
func (r *Reader) fill() error {
	if r.rerr != nil {
		err := r.rerr
		r.rerr = nil
		return r.readErr(err)
	}
	if r.r > 0 {
		n := copy(r.buf, r.buf[r.r:r.w])
		r.r, r.w = 0, n
	}
	if r.w == len(r.buf) {
		r.grow()
	}
	for range maxEmptyReads {
		n, err := r.rd.Read(r.buf[r.w:])
		if n < 0 || n > len(r.buf)-r.w {
			return errNegativeRead
		}
		r.w += n
		if err != nil {
			if n > 0 {
				r.rerr = err
				return nil
			}
			return r.readErr(err)
		}
		if n > 0 {
			return nil
		}
	}
	return io.ErrNoProgress
}

// readErr maps io.EOF inside a message to io.ErrUnexpectedEOF.
func (r *Reader) readErr(err error) error {
	if err == io.EOF && r.r < r.w {
		return io.ErrUnexpectedEOF
	}
	return err
}

// grow enlarges the full buffer: double it, but not past what the message is
// known to need, nor past MaxQueryBuffer+1 (one byte more than a request may
// hold, enough to detect the limit).
func (r *Reader) grow() {
	cur := int64(len(r.buf))
	n := cur * 2
	if r.need > cur && r.need < n {
		n = r.need
	}
	if lim := r.lim.MaxQueryBuffer + 1; n > lim && lim > cur {
		n = lim
	}
	if n > math.MaxInt {
		n = math.MaxInt
	}
	nb := make([]byte, int(n))
	copy(nb, r.buf[r.r:r.w])
	r.buf = nb
	r.w -= r.r
	r.r = 0
}

// maybeShrink releases a buffer (and argument slices) grown for a big request
// once a run of small requests shows it is no longer needed.
func (r *Reader) maybeShrink() {
	if r.smallRun < shrinkAfterSmall || r.cmd.active || r.rep.active {
		return
	}
	if len(r.buf) > r.size && r.w-r.r <= r.size/2 {
		nb := make([]byte, r.size)
		r.w = copy(nb, r.buf[r.r:r.w])
		r.r = 0
		r.buf = nb
	}
	if cap(r.args) > maxKeptArgs {
		r.args = nil
	}
	if cap(r.cmd.spans) > maxKeptArgs {
		r.cmd.spans = nil
	}
}

// addSat returns a+b+c for non-negative values, saturating at MaxInt64.
func addSat(a, b, c int64) int64 {
	if b > math.MaxInt64-a {
		return math.MaxInt64
	}
	s := a + b
	if c > math.MaxInt64-s {
		return math.MaxInt64
	}
	return s + c
}

// bufCap reports the buffer size, for tests.
func (r *Reader) bufCap() int { return cap(r.buf) }
