package resp

// parseInline parses the inline request at r.r if its line is complete. It
// follows processInlineBuffer in Redis's networking.c: the line ends at '\n',
// one '\r' before it is dropped, and the rest is split by splitInline.
func (r *Reader) parseInline() (bool, error) {
	c := &r.cmd
	b := r.buf[r.r:r.w]
	end := r.findLine(&c.ls, 0, '\n')
	if end == lineTooLong {
		return false, r.fail(&ProtocolError{Msg: msgTooBigInline}, r.lim.MaxInline+1)
	}
	if end < 0 {
		return false, r.needMore(0)
	}
	line := b[:end]
	if end > 0 && line[end-1] == '\r' {
		line = line[:end-1]
	}
	args, ok := splitInline(line, r.args[:0])
	r.args = args
	if !ok {
		return false, r.fail(&ProtocolError{Msg: msgUnbalancedQuotes}, end+1)
	}
	if int64(end+1) > r.lim.MaxQueryBuffer {
		return false, r.fail(ErrQueryBufferLimit, end+1)
	}
	r.consume(end + 1)
	return true, nil
}

// isSpace is C's isspace in the "C" locale.
func isSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// splitInline splits an inline request line into arguments the way Redis's
// sdssplitargs does, appending them to args. It reports false for unbalanced
// quotes. The line must not contain '\n' or NUL (findLine guarantees both),
// so the end of line plays the role of sdssplitargs's terminating NUL.
//
// Rules (sdssplitargs, Redis 7):
//   - blanks before an argument are C isspace bytes (space \t \n \v \f \r);
//     an unquoted argument ends at space, \t, \r (not at \v or \f);
//   - "double quotes" understand \xHH (two hex digits), \n \r \t \b \a, and a
//     backslash before any other byte stands for that byte;
//   - 'single quotes' understand only \';
//   - a quote may open in the middle of an argument (a"b c" is `ab c`);
//   - a closing quote must be followed by isspace or the end of line.
//
// Arguments are unescaped in place: the output never outgrows the input, so
// each argument is a slice of line and nothing is allocated beyond args.
func splitInline(line []byte, args [][]byte) ([][]byte, bool) {
	n := len(line)
	i, w := 0, 0 // read and write positions; w <= i always
	for {
		for i < n && isSpace(line[i]) {
			i++
		}
		if i >= n {
			return args, true
		}
		start := w
		inq, insq := false, false
		for done := false; !done; {
			atEnd := i >= n
			var c byte
			if !atEnd {
				c = line[i]
			}
			switch {
			case inq:
				switch {
				case atEnd:
					return args, false // unterminated quotes
				case c == '\\' && i+3 < n && line[i+1] == 'x' && isHex(line[i+2]) && isHex(line[i+3]):
					line[w] = unhex(line[i+2])<<4 | unhex(line[i+3])
					w++
					i += 3
				case c == '\\' && i+1 < n:
					i++
					switch c = line[i]; c {
					case 'n':
						c = '\n'
					case 'r':
						c = '\r'
					case 't':
						c = '\t'
					case 'b':
						c = '\b'
					case 'a':
						c = '\a'
					}
					line[w] = c
					w++
				case c == '"':
					// The closing quote must be followed by a space or nothing.
					if i+1 < n && !isSpace(line[i+1]) {
						return args, false
					}
					done = true
				default:
					line[w] = c
					w++
				}
			case insq:
				switch {
				case atEnd:
					return args, false
				case c == '\\' && i+1 < n && line[i+1] == '\'':
					i++
					line[w] = '\''
					w++
				case c == '\'':
					if i+1 < n && !isSpace(line[i+1]) {
						return args, false
					}
					done = true
				default:
					line[w] = c
					w++
				}
			default:
				switch {
				case atEnd, c == ' ', c == '\n', c == '\r', c == '\t':
					done = true
				case c == '"':
					inq = true
				case c == '\'':
					insq = true
				default:
					line[w] = c
					w++
				}
			}
			if !atEnd {
				i++
			}
		}
		args = append(args, line[start:w:w])
	}
}
