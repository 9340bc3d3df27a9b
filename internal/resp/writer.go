package resp

import (
	"io"
	"strconv"
)

const (
	defaultWriterSize = 16 << 10 // Redis PROTO_REPLY_CHUNK_BYTES
	// A buffer grown past this for one big reply is released after Flush.
	maxKeptWriterSize = 1 << 20
)

// Writer buffers replies for one connection and writes them with one Write
// call per Flush. Each Write* method appends the reply in the form for the
// connection's protocol version (RESP2 by default; SetProto(3) after HELLO 3)
// and never blocks or fails; errors surface from Flush.
//
// Steady state is allocation free: the buffer is reused, numbers are
// formatted with strconv.Append*. A Writer belongs to the connection goroutine
// and is not safe for concurrent use.
type Writer struct {
	dst   io.Writer
	buf   []byte
	proto int
	err   error // sticky write error
}

// NewWriter returns a Writer to w speaking RESP2.
func NewWriter(w io.Writer) *Writer {
	return &Writer{dst: w, buf: make([]byte, 0, defaultWriterSize), proto: 2}
}

// Reset discards unflushed output and any write error, directs output to dst
// and returns to RESP2, so a Writer can serve a new connection.
func (w *Writer) Reset(dst io.Writer) {
	w.dst = dst
	w.buf = w.buf[:0]
	w.err = nil
	w.proto = 2
}

// SetProto selects the protocol version: 3 for RESP3, anything else RESP2.
// respserver calls it when HELLO switches the connection.
func (w *Writer) SetProto(p int) {
	if p == 3 {
		w.proto = 3
	} else {
		w.proto = 2
	}
}

// Proto returns the protocol version, 2 or 3.
func (w *Writer) Proto() int { return w.proto }

func (w *Writer) crlf() { w.buf = append(w.buf, '\r', '\n') }

// header appends a type byte, a decimal length and CRLF.
func (w *Writer) header(t byte, n int64) {
	w.buf = append(w.buf, t)
	w.buf = strconv.AppendInt(w.buf, n, 10)
	w.crlf()
}

// WriteSimple appends the simple string +s. s must not contain '\r' or '\n'
// (callers pass constants such as "OK" and "PONG").
func (w *Writer) WriteSimple(s string) {
	w.buf = append(w.buf, '+')
	w.buf = append(w.buf, s...)
	w.crlf()
}

// WriteError appends the error reply -s. s is the text without the leading
// '-' and without CRLF, starting with the error code, e.g. "ERR syntax error"
// or (*ProtocolError).Error(). Any '\r' or '\n' in s becomes a space, as
// Redis does, so the reply cannot break the framing.
func (w *Writer) WriteError(s string) {
	w.buf = append(w.buf, '-')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		w.buf = append(w.buf, c)
	}
	w.crlf()
}

// WriteInt appends the integer reply :n.
func (w *Writer) WriteInt(n int64) { w.header(':', n) }

// WriteBulk appends the bulk string $len b. A nil b is an empty bulk string,
// not a null; use WriteNull for a null.
func (w *Writer) WriteBulk(b []byte) {
	w.header('$', int64(len(b)))
	w.buf = append(w.buf, b...)
	w.crlf()
}

// WriteBulkString appends the bulk string $len s.
func (w *Writer) WriteBulkString(s string) {
	w.header('$', int64(len(s)))
	w.buf = append(w.buf, s...)
	w.crlf()
}

// WriteNull appends a null: "$-1" in RESP2, "_" in RESP3.
func (w *Writer) WriteNull() {
	if w.proto == 3 {
		w.buf = append(w.buf, '_', '\r', '\n')
		return
	}
	w.buf = append(w.buf, "$-1\r\n"...)
}

// WriteNullArray appends a null array: "*-1" in RESP2, "_" in RESP3.
func (w *Writer) WriteNullArray() {
	if w.proto == 3 {
		w.buf = append(w.buf, '_', '\r', '\n')
		return
	}
	w.buf = append(w.buf, "*-1\r\n"...)
}

// WriteArrayLen appends an array header *n; the caller then writes n replies.
func (w *Writer) WriteArrayLen(n int) { w.header('*', int64(n)) }

// WriteMapLen appends a map header for n key/value pairs: %n in RESP3, *2n in
// RESP2. The caller then writes 2n replies, key and value alternately.
func (w *Writer) WriteMapLen(n int) {
	if w.proto == 3 {
		w.header('%', int64(n))
		return
	}
	w.header('*', 2*int64(n))
}

// WriteSetLen appends a set header: ~n in RESP3, *n in RESP2.
func (w *Writer) WriteSetLen(n int) {
	if w.proto == 3 {
		w.header('~', int64(n))
		return
	}
	w.header('*', int64(n))
}

// WritePushLen appends a push header (pub/sub messages, invalidations): >n in
// RESP3, *n in RESP2.
func (w *Writer) WritePushLen(n int) {
	if w.proto == 3 {
		w.header('>', int64(n))
		return
	}
	w.header('*', int64(n))
}

// WriteDouble appends a double: ",<f>" in RESP3, a bulk string in RESP2. The
// text is Redis 7.2's: shortest round-trip digits, integral values as
// integers, "inf", "-inf", "nan" (see appendDouble).
func (w *Writer) WriteDouble(f float64) {
	if w.proto == 3 {
		w.buf = append(w.buf, ',')
		w.buf = appendDouble(w.buf, f)
		w.crlf()
		return
	}
	var tmp [40]byte
	d := appendDouble(tmp[:0], f)
	w.header('$', int64(len(d)))
	w.buf = append(w.buf, d...)
	w.crlf()
}

// WriteBool appends a boolean: #t / #f in RESP3, :1 / :0 in RESP2.
func (w *Writer) WriteBool(b bool) {
	switch {
	case w.proto == 3 && b:
		w.buf = append(w.buf, "#t\r\n"...)
	case w.proto == 3:
		w.buf = append(w.buf, "#f\r\n"...)
	case b:
		w.buf = append(w.buf, ":1\r\n"...)
	default:
		w.buf = append(w.buf, ":0\r\n"...)
	}
}

// WriteVerbatim appends a verbatim string: "=len\r\nfmt:b\r\n" in RESP3, where
// format is the 3-byte type ("txt", "mkd"; a longer format is cut and a
// shorter one padded with spaces, as Redis always copies 3 bytes), and the
// bulk string b in RESP2.
func (w *Writer) WriteVerbatim(format string, b []byte) {
	if w.proto != 3 {
		w.WriteBulk(b)
		return
	}
	w.header('=', int64(len(b))+4)
	for i := range 3 {
		c := byte(' ')
		if i < len(format) {
			c = format[i]
		}
		w.buf = append(w.buf, c)
	}
	w.buf = append(w.buf, ':')
	w.buf = append(w.buf, b...)
	w.crlf()
}

// WriteBigNumber appends a big number: "(s" in RESP3, the bulk string s in
// RESP2. s is the decimal text, e.g. "1234567999999999999999999999".
func (w *Writer) WriteBigNumber(s string) {
	if w.proto != 3 {
		w.WriteBulkString(s)
		return
	}
	w.buf = append(w.buf, '(')
	w.buf = append(w.buf, s...)
	w.crlf()
}

// WriteRaw appends b unchanged, e.g. a reply relayed from ReadReply. The
// caller is responsible for b being whole replies in the connection's
// protocol version.
func (w *Writer) WriteRaw(b []byte) { w.buf = append(w.buf, b...) }

// Buffered returns the number of bytes written and not yet flushed.
func (w *Writer) Buffered() int { return len(w.buf) }

// Flush writes the buffered replies with one Write call. On a write error the
// unwritten bytes stay buffered and the error is returned by this and every
// later Flush (until Reset); the caller closes the connection.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if len(w.buf) == 0 {
		return nil
	}
	n, err := w.dst.Write(w.buf)
	if n < len(w.buf) && err == nil {
		err = io.ErrShortWrite
	}
	if err != nil {
		if n > 0 && n < len(w.buf) {
			w.buf = w.buf[:copy(w.buf, w.buf[n:])]
		}
		w.err = err
		return err
	}
	if cap(w.buf) > maxKeptWriterSize {
		w.buf = make([]byte, 0, defaultWriterSize)
	} else {
		w.buf = w.buf[:0]
	}
	return nil
}
