package resp

import (
	"bytes"
	"math"
	"strconv"
)

// Reply parsing messages (client side; Redis has no wording for these).
const (
	msgReplyType     = "invalid reply type byte '"
	msgReplyCRLF     = "expected CRLF"
	msgReplyInt      = "invalid integer reply"
	msgReplyDouble   = "invalid double reply"
	msgReplyBool     = "invalid boolean reply"
	msgReplyNull     = "invalid null reply"
	msgReplyBigNum   = "invalid big number reply"
	msgReplyVerbatim = "invalid verbatim string reply"
	msgReplyLine     = "too big reply line"
	msgReplyTooLarge = "reply has too many elements"
)

// replyState is the progress through a partly received reply. Offsets are
// relative to r.r, the reply's first byte.
type replyState struct {
	active  bool
	pos     int   // bytes of complete values so far
	pending int64 // values still to read
	ls      lineScan
}

// ReadReply reads one complete RESP2 or RESP3 reply of any type and returns
// its exact bytes, in a new slice the caller owns. Types: + - : $ * _ , # ! =
// ( % ~ > | with nested aggregates, the RESP2 nulls $-1 and *-1. An attribute
// (|) is returned together with the reply it annotates, as one reply; a push
// (>) is a reply of its own. Streamed RESP3 aggregates and strings ($?, *?)
// are not supported and are a ProtocolError.
//
// Callers: clients, tests and forwarding. Limits apply as for requests:
// lengths above MaxBulkLen / MaxMultibulk and lines above MaxInline are a
// *ProtocolError, a reply larger than MaxQueryBuffer is ErrQueryBufferLimit.
// Both are sticky; read errors are returned as from ReadCommand. Framing is
// checked strictly (every line and payload ends in CRLF) and scalar contents
// are validated (integers, doubles, booleans, nulls, big numbers).
//
// The whole reply is buffered before it is returned, however deeply nested;
// parsing does not recurse.
func (r *Reader) ReadReply() ([]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	r.maybeShrink()
	for {
		if r.r < r.w {
			if !r.rep.active {
				r.rep = replyState{active: true, pending: 1}
			}
			done, err := r.parseReply()
			if err != nil {
				return nil, err
			}
			if done {
				n := r.rep.pos
				out := make([]byte, n)
				copy(out, r.buf[r.r:r.r+n])
				r.r += n
				r.rep = replyState{}
				r.need = 0
				if n <= r.size/2 {
					r.smallRun++
				} else {
					r.smallRun = 0
				}
				return out, nil
			}
		}
		if err := r.fill(); err != nil {
			return nil, err
		}
	}
}

// parseReply advances the reply at r.r as far as the buffered bytes allow.
// Each value header is consumed only together with its payload, so the state
// is just the position of the next header and the count of values still due.
func (r *Reader) parseReply() (bool, error) {
	s := &r.rep
	b := r.buf[r.r:r.w]
	for s.pending > 0 {
		end := r.findReplyLine(s.pos)
		if end == lineTooLong {
			return false, r.fail(&ProtocolError{Msg: msgReplyLine}, s.pos+r.lim.MaxInline+1)
		}
		if end < 0 || end+2 > len(b) {
			return false, r.needMore(0)
		}
		if b[end+1] != '\n' {
			return false, r.fail(&ProtocolError{Msg: msgReplyCRLF}, end+2)
		}
		typ, line := b[s.pos], b[min(s.pos+1, end):end] // an empty line has type '\r'
		next := end + 2
		var add int64
		switch typ {
		case '+', '-':
		case ':':
			if _, err := strconv.ParseInt(string(line), 10, 64); err != nil {
				return false, r.fail(&ProtocolError{Msg: msgReplyInt}, next)
			}
		case ',':
			if _, ok := parseDouble(line); !ok {
				return false, r.fail(&ProtocolError{Msg: msgReplyDouble}, next)
			}
		case '#':
			if len(line) != 1 || (line[0] != 't' && line[0] != 'f') {
				return false, r.fail(&ProtocolError{Msg: msgReplyBool}, next)
			}
		case '_':
			if len(line) != 0 {
				return false, r.fail(&ProtocolError{Msg: msgReplyNull}, next)
			}
		case '(':
			if !validBigNumber(line) {
				return false, r.fail(&ProtocolError{Msg: msgReplyBigNum}, next)
			}
		case '$', '!', '=':
			n, ok := parseLL(line)
			if ok && n == -1 && typ == '$' {
				break // null bulk
			}
			if !ok || n < 0 || n > r.lim.MaxBulkLen {
				return false, r.fail(&ProtocolError{Msg: msgInvalidBulk}, next)
			}
			need := addSat(int64(next), n, 2)
			if need > int64(len(b)) {
				return false, r.needMore(need)
			}
			pe := next + int(n)
			if b[pe] != '\r' || b[pe+1] != '\n' {
				return false, r.fail(&ProtocolError{Msg: msgReplyCRLF}, pe+2)
			}
			if typ == '=' && (n < 4 || b[next+3] != ':') {
				return false, r.fail(&ProtocolError{Msg: msgReplyVerbatim}, pe+2)
			}
			next = pe + 2
		case '*', '%', '~', '>', '|':
			n, ok := parseLL(line)
			if ok && n == -1 && typ == '*' {
				break // null array
			}
			if !ok || n < 0 || n > r.lim.MaxMultibulk {
				return false, r.fail(&ProtocolError{Msg: msgInvalidMultibulk}, next)
			}
			add = n
			if typ == '%' || typ == '|' {
				if n > math.MaxInt64/2-1 {
					return false, r.fail(&ProtocolError{Msg: msgReplyTooLarge}, next)
				}
				add = 2 * n
			}
			if typ == '|' {
				add++ // the reply the attribute annotates
			}
		default:
			c := typ
			if c == '\r' || c == '\n' {
				c = ' '
			}
			return false, r.fail(&ProtocolError{Msg: msgReplyType + string([]byte{c}) + "'"}, next)
		}
		if add > math.MaxInt64-s.pending {
			return false, r.fail(&ProtocolError{Msg: msgReplyTooLarge}, next)
		}
		s.pending += add - 1
		s.pos = next
		s.ls = lineScan{from: next}
	}
	if int64(s.pos) > r.lim.MaxQueryBuffer {
		return false, r.fail(ErrQueryBufferLimit, s.pos)
	}
	return true, nil
}

// findReplyLine finds the '\r' ending the reply line at off. Unlike request
// headers, reply lines are binary safe (no NUL rule).
func (r *Reader) findReplyLine(off int) int {
	ls := &r.rep.ls
	b := r.buf[r.r:r.w]
	if ls.from < off {
		ls.from = off
	}
	if ls.from < len(b) {
		if i := bytes.IndexByte(b[ls.from:], '\r'); i >= 0 {
			end := ls.from + i
			ls.from = end
			if end-off > r.lim.MaxInline {
				return lineTooLong
			}
			return end
		}
		ls.from = len(b)
	}
	if len(b)-off > r.lim.MaxInline {
		return lineTooLong
	}
	return -1
}

// parseDouble parses a RESP3 double: a decimal or exponent form, "inf",
// "-inf" or "nan" (any case, as strconv accepts).
func parseDouble(b []byte) (float64, bool) {
	if len(b) == 0 || bytes.IndexByte(b, '_') >= 0 {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		// ParseFloat reports out-of-range values as ±Inf with an error;
		// they are still numbers.
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, true
}

// validBigNumber reports whether b is an optional sign followed by digits.
func validBigNumber(b []byte) bool {
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		b = b[1:]
	}
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Value is a decoded reply, for tests and clients. Type is the RESP type byte.
//
//   - '+' simple string, '-' error, '(' big number: Str.
//   - '$' bulk, '!' blob error: Str; '$' with Null for $-1.
//   - '=' verbatim string: Str is the whole payload including the
//     3-byte format and ':' (e.g. "txt:hello").
//   - ':' integer: Int. ',' double: Float, and Str holds its text.
//   - '#' boolean: Bool. '_' null: Null.
//   - '*' array, '~' set, '>' push: Elems; '*' with Null for *-1.
//   - '%' map: Elems holds keys and values alternately (2n elements).
//   - '|' attribute: Elems holds the attribute's keys and values
//     alternately, followed by the reply it annotates as the last element.
//
// Str slices share one backing array owned by the caller.
type Value struct {
	Type  byte
	Str   []byte
	Int   int64
	Float float64
	Bool  bool
	Elems []Value
	Null  bool
}

// ReadValue reads one reply as ReadReply does and decodes it into a Value
// tree. Errors are those of ReadReply.
func (r *Reader) ReadValue() (Value, error) {
	raw, err := r.ReadReply()
	if err != nil {
		return Value{}, err
	}
	return decodeReply(raw)
}

// decodeReply decodes one reply that ReadReply has already validated. It
// builds the tree iteratively (no recursion, whatever the nesting depth).
// Element slices are allocated with their exact final length, which is safe
// because the whole reply is present (every element takes at least 3 bytes),
// so pointers into them stay valid while children are filled.
func decodeReply(b []byte) (Value, error) {
	type frame struct {
		v    *Value
		want int
	}
	var root Value
	var stack []frame
	pos := 0
	for {
		if pos >= len(b) {
			return Value{}, &ProtocolError{Msg: "truncated reply"}
		}
		end := pos + bytes.IndexByte(b[pos:], '\r')
		if end < pos || end+2 > len(b) {
			return Value{}, &ProtocolError{Msg: "truncated reply"}
		}
		v := Value{Type: b[pos]}
		line := b[min(pos+1, end):end]
		pos = end + 2
		count := -1
		switch v.Type {
		case '+', '-', '(':
			v.Str = line
		case ':':
			v.Int, _ = strconv.ParseInt(string(line), 10, 64)
		case ',':
			v.Float, _ = parseDouble(line)
			v.Str = line
		case '#':
			v.Bool = len(line) == 1 && line[0] == 't'
		case '_':
			v.Null = true
		case '$', '!', '=':
			n, _ := parseLL(line)
			if n < 0 {
				v.Null = true
				break
			}
			if int64(len(b)-pos) < n+2 {
				return Value{}, &ProtocolError{Msg: "truncated reply"}
			}
			v.Str = b[pos : pos+int(n) : pos+int(n)]
			pos += int(n) + 2
		case '*', '%', '~', '>', '|':
			n, _ := parseLL(line)
			if n < 0 {
				v.Null = true
				break
			}
			switch v.Type {
			case '%':
				n *= 2
			case '|':
				n = 2*n + 1
			}
			if n > int64(len(b)-pos)/3 {
				return Value{}, &ProtocolError{Msg: "truncated reply"}
			}
			count = int(n)
		default:
			return Value{}, &ProtocolError{Msg: msgReplyType + string([]byte{v.Type}) + "'"}
		}

		var slot *Value
		if len(stack) == 0 {
			root = v
			slot = &root
		} else {
			top := stack[len(stack)-1].v
			top.Elems = append(top.Elems, v)
			slot = &top.Elems[len(top.Elems)-1]
		}
		if count > 0 {
			slot.Elems = make([]Value, 0, count)
			stack = append(stack, frame{v: slot, want: count})
		} else if count == 0 {
			slot.Elems = []Value{}
		}
		for len(stack) > 0 && len(stack[len(stack)-1].v.Elems) == stack[len(stack)-1].want {
			stack = stack[:len(stack)-1]
		}
		if len(stack) == 0 {
			return root, nil
		}
	}
}
