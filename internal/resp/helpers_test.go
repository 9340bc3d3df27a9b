package resp

import (
	"errors"
	"io"
	"strings"
)

// chunkReader returns data in pieces whose sizes come from sizes, cycling;
// a size of 0 makes one Read return (0, nil).
type chunkReader struct {
	data  []byte
	sizes []int
	i     int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := len(c.data)
	if len(c.sizes) > 0 {
		n = c.sizes[c.i%len(c.sizes)]
		c.i++
	}
	n = min(n, len(p), len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// result is everything ReadCommand produced for one stream: the commands
// (copied) and the error that ended it.
type result struct {
	cmds [][]string
	err  error
}

func (r result) String() string {
	var b strings.Builder
	for _, c := range r.cmds {
		b.WriteString("[")
		for i, a := range c {
			if i > 0 {
				b.WriteString(" ")
			}
			b.WriteString(quote(a))
		}
		b.WriteString("] ")
	}
	b.WriteString("err=")
	b.WriteString(errString(r.err))
	return b.String()
}

func quote(s string) string { return "\"" + strings.ReplaceAll(s, "\"", "\\\"") + "\"" }

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// readAll runs ReadCommand until it fails (at most maxCmds commands).
func readAll(rd io.Reader, size int, lim *Limits) result {
	r := NewReader(rd, size)
	if lim != nil {
		r.SetLimits(*lim)
	}
	var res result
	for range 100000 {
		args, err := r.ReadCommand()
		if err != nil {
			res.err = err
			return res
		}
		cmd := make([]string, len(args))
		for i, a := range args {
			cmd[i] = string(a)
		}
		res.cmds = append(res.cmds, cmd)
	}
	res.err = errors.New("too many commands")
	return res
}

func sameResult(a, b result) bool {
	if len(a.cmds) != len(b.cmds) || errString(a.err) != errString(b.err) {
		return false
	}
	for i := range a.cmds {
		if len(a.cmds[i]) != len(b.cmds[i]) {
			return false
		}
		for j := range a.cmds[i] {
			if a.cmds[i][j] != b.cmds[i][j] {
				return false
			}
		}
	}
	return true
}

// knownError reports whether err is one ReadCommand may return for an
// in-memory stream.
func knownError(err error) bool {
	var pe *ProtocolError
	if errors.As(err, &pe) {
		switch pe.Msg {
		case msgInvalidMultibulk, msgInvalidBulk, msgUnauthMultibulk, msgUnauthBulk,
			msgTooBigMbulkCount, msgTooBigBulkCount, msgTooBigInline, msgUnbalancedQuotes:
			return true
		}
		return strings.HasPrefix(pe.Msg, msgExpectedDollarFrom) && len(pe.Msg) == len(msgExpectedDollarFrom)+2 &&
			!strings.ContainsAny(pe.Msg, "\r\n")
	}
	return errors.Is(err, ErrQueryBufferLimit) || err == io.EOF || err == io.ErrUnexpectedEOF
}
