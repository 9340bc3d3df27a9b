package resp

import (
	"bytes"
	"errors"
	"io"
	"math"
	"strconv"
	"testing"
)

func TestWriter_Forms(t *testing.T) {
	cases := []struct {
		name       string
		write      func(w *Writer)
		resp2, re3 string
	}{
		{"simple", func(w *Writer) { w.WriteSimple("OK") }, "+OK\r\n", "+OK\r\n"},
		{"error", func(w *Writer) { w.WriteError("ERR syntax error") }, "-ERR syntax error\r\n", "-ERR syntax error\r\n"},
		{"error sanitized", func(w *Writer) { w.WriteError("ERR a\r\nb\nc\rd") },
			"-ERR a  b c d\r\n", "-ERR a  b c d\r\n"},
		{"protocol error", func(w *Writer) { w.WriteError((&ProtocolError{Msg: msgInvalidBulk}).Error()) },
			"-ERR Protocol error: invalid bulk length\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
		{"int", func(w *Writer) { w.WriteInt(12345) }, ":12345\r\n", ":12345\r\n"},
		{"int negative", func(w *Writer) { w.WriteInt(-1) }, ":-1\r\n", ":-1\r\n"},
		{"int min", func(w *Writer) { w.WriteInt(math.MinInt64) }, ":-9223372036854775808\r\n", ":-9223372036854775808\r\n"},
		{"bulk", func(w *Writer) { w.WriteBulk([]byte("Hello World")) }, "$11\r\nHello World\r\n", "$11\r\nHello World\r\n"},
		{"bulk binary", func(w *Writer) { w.WriteBulk([]byte("a\r\n\x00")) }, "$4\r\na\r\n\x00\r\n", "$4\r\na\r\n\x00\r\n"},
		{"bulk nil is empty", func(w *Writer) { w.WriteBulk(nil) }, "$0\r\n\r\n", "$0\r\n\r\n"},
		{"bulk string", func(w *Writer) { w.WriteBulkString("hi") }, "$2\r\nhi\r\n", "$2\r\nhi\r\n"},
		{"null", func(w *Writer) { w.WriteNull() }, "$-1\r\n", "_\r\n"},
		{"null array", func(w *Writer) { w.WriteNullArray() }, "*-1\r\n", "_\r\n"},
		{"array", func(w *Writer) { w.WriteArrayLen(3) }, "*3\r\n", "*3\r\n"},
		{"array empty", func(w *Writer) { w.WriteArrayLen(0) }, "*0\r\n", "*0\r\n"},
		{"map", func(w *Writer) { w.WriteMapLen(3) }, "*6\r\n", "%3\r\n"},
		{"set", func(w *Writer) { w.WriteSetLen(3) }, "*3\r\n", "~3\r\n"},
		{"push", func(w *Writer) { w.WritePushLen(2) }, "*2\r\n", ">2\r\n"},
		{"double", func(w *Writer) { w.WriteDouble(3.141) }, "$5\r\n3.141\r\n", ",3.141\r\n"},
		{"double integral", func(w *Writer) { w.WriteDouble(3) }, "$1\r\n3\r\n", ",3\r\n"},
		{"double inf", func(w *Writer) { w.WriteDouble(math.Inf(1)) }, "$3\r\ninf\r\n", ",inf\r\n"},
		{"double -inf", func(w *Writer) { w.WriteDouble(math.Inf(-1)) }, "$4\r\n-inf\r\n", ",-inf\r\n"},
		{"double nan", func(w *Writer) { w.WriteDouble(math.NaN()) }, "$3\r\nnan\r\n", ",nan\r\n"},
		{"bool true", func(w *Writer) { w.WriteBool(true) }, ":1\r\n", "#t\r\n"},
		{"bool false", func(w *Writer) { w.WriteBool(false) }, ":0\r\n", "#f\r\n"},
		{"verbatim", func(w *Writer) { w.WriteVerbatim("txt", []byte("This is a verbatim\nstring")) },
			"$25\r\nThis is a verbatim\nstring\r\n", "=29\r\ntxt:This is a verbatim\nstring\r\n"},
		{"verbatim short format", func(w *Writer) { w.WriteVerbatim("md", []byte("x")) }, "$1\r\nx\r\n", "=5\r\nmd :x\r\n"},
		{"verbatim long format", func(w *Writer) { w.WriteVerbatim("text", []byte("x")) }, "$1\r\nx\r\n", "=5\r\ntex:x\r\n"},
		{"big number", func(w *Writer) { w.WriteBigNumber("1234567999999999999999999999999999999") },
			"$37\r\n1234567999999999999999999999999999999\r\n", "(1234567999999999999999999999999999999\r\n"},
		{"raw", func(w *Writer) { w.WriteRaw([]byte("+relayed\r\n")) }, "+relayed\r\n", "+relayed\r\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, p := range []struct {
				proto int
				want  string
			}{{2, tc.resp2}, {3, tc.re3}} {
				var out bytes.Buffer
				w := NewWriter(&out)
				w.SetProto(p.proto)
				tc.write(w)
				if w.Buffered() != len(p.want) {
					t.Errorf("RESP%d: Buffered = %d, want %d", p.proto, w.Buffered(), len(p.want))
				}
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
				if out.String() != p.want {
					t.Errorf("RESP%d: got %q, want %q", p.proto, out.String(), p.want)
				}
				// Every form is a reply ReadReply accepts byte for byte.
				got, err := NewReader(&out, 0).ReadReply()
				if p.want[0] == '*' || p.want[0] == '%' || p.want[0] == '~' || p.want[0] == '>' {
					if p.want != "*-1\r\n" {
						continue // an aggregate header alone is not a whole reply
					}
				}
				if err != nil || string(got) != p.want {
					t.Errorf("RESP%d: ReadReply = %q, %v", p.proto, got, err)
				}
			}
		})
	}
}

// Variables, so that 0.1+0.2 is computed in float64 and not as an exact
// constant.
var pointOne, pointTwo = 0.1, 0.2

func TestWriter_Double(t *testing.T) {
	cases := []struct {
		f    float64
		want string
	}{
		{0, "0"},
		{math.Copysign(0, -1), "-0"},
		{1, "1"},
		{-3, "-3"},
		{1.5, "1.5"},
		{-1.5, "-1.5"},
		{0.1, "0.1"},
		{pointOne + pointTwo, "0.30000000000000004"},
		{3.141, "3.141"},
		{1234.5, "1234.5"},
		{123456789.125, "123456789.125"},
		{0.000001, "0.000001"},
		{0.0000015, "1.5e-6"}, // k = -7: fpconv switches to exponent form
		{1e-7, "1e-7"},
		{1.5e-7, "1.5e-7"},
		{1.234567890123e3, "1234.567890123"},
		{1e15, "1000000000000000"},
		{1e18, "1000000000000000000"},
		{4611686018427387904, "4611686018427387904"}, // 2^62, still printed as an integer
		{4.7e18, "4.7e+18"},
		{1e19, "1e+19"},
		{1.2345678901234567e19, "12345678901234567000"},
		{1e21, "1e+21"},
		{-1e21, "-1e+21"},
		{1e100, "1e+100"},
		{1e300, "1e+300"},
		{math.MaxFloat64, "1.7976931348623157e+308"},
		{math.SmallestNonzeroFloat64, "5e-324"},
		{2.5e-10, "2.5e-10"},
		{123.456e-5, "0.00123456"},
	}
	for _, tc := range cases {
		got := string(appendDouble(nil, tc.f))
		if got != tc.want {
			t.Errorf("appendDouble(%v) = %q, want %q", tc.f, got, tc.want)
		}
		if f, err := strconv.ParseFloat(got, 64); err != nil || (f != tc.f && !math.IsNaN(tc.f)) {
			t.Errorf("appendDouble(%v) = %q does not round-trip (%v, %v)", tc.f, got, f, err)
		}
	}
}

// Every finite double formats to text that parses back to the same value.
func TestWriter_DoubleRoundTrip(t *testing.T) {
	for i := range 100000 {
		bits := uint64(i)*0x9E3779B97F4A7C15 ^ uint64(i)<<7
		f := math.Float64frombits(bits)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		s := string(appendDouble(nil, f))
		g, err := strconv.ParseFloat(s, 64)
		if err != nil || g != f {
			t.Fatalf("%v (%#x) -> %q -> %v, %v", f, bits, s, g, err)
		}
	}
}

func TestWriter_SetProto(t *testing.T) {
	w := NewWriter(io.Discard)
	if w.Proto() != 2 {
		t.Fatalf("default proto %d", w.Proto())
	}
	w.SetProto(3)
	if w.Proto() != 3 {
		t.Fatalf("proto %d after SetProto(3)", w.Proto())
	}
	w.SetProto(7)
	if w.Proto() != 2 {
		t.Fatalf("proto %d after SetProto(7)", w.Proto())
	}
	w.SetProto(3)
	w.Reset(io.Discard)
	if w.Proto() != 2 || w.Buffered() != 0 {
		t.Fatalf("after Reset: proto %d, buffered %d", w.Proto(), w.Buffered())
	}
}

// countingWriter records each Write call.
type countingWriter struct {
	calls int
	buf   bytes.Buffer
	fail  error
	short int // accept only this many bytes, if > 0
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.calls++
	if c.fail != nil {
		n := min(c.short, len(p))
		c.buf.Write(p[:n])
		return n, c.fail
	}
	return c.buf.Write(p)
}

func TestWriter_FlushOneWrite(t *testing.T) {
	cw := &countingWriter{}
	w := NewWriter(cw)
	for range 1000 {
		w.WriteBulk(bytes.Repeat([]byte("x"), 100))
	}
	if cw.calls != 0 {
		t.Fatalf("%d writes before Flush", cw.calls)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if cw.calls != 1 || cw.buf.Len() != 1000*108 {
		t.Fatalf("%d writes, %d bytes", cw.calls, cw.buf.Len())
	}
	if err := w.Flush(); err != nil || cw.calls != 1 {
		t.Fatalf("empty Flush: %v, %d writes", err, cw.calls)
	}
	if w.Buffered() != 0 {
		t.Fatalf("Buffered %d after Flush", w.Buffered())
	}
}

func TestWriter_FlushErrorIsSticky(t *testing.T) {
	boom := errors.New("broken pipe")
	cw := &countingWriter{fail: boom, short: 3}
	w := NewWriter(cw)
	w.WriteSimple("OK")
	if err := w.Flush(); err != boom {
		t.Fatalf("err = %v", err)
	}
	if w.Buffered() != 2 { // "+OK\r\n" minus the 3 bytes accepted
		t.Fatalf("Buffered = %d, want 2", w.Buffered())
	}
	if err := w.Flush(); err != boom || cw.calls != 1 {
		t.Fatalf("second Flush: %v after %d writes", err, cw.calls)
	}
	w.Reset(&bytes.Buffer{})
	w.WriteSimple("OK")
	if err := w.Flush(); err != nil {
		t.Fatalf("after Reset: %v", err)
	}
}

type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return len(p) / 2, nil }

func TestWriter_ShortWrite(t *testing.T) {
	w := NewWriter(shortWriter{})
	w.WriteSimple("OK")
	if err := w.Flush(); err != io.ErrShortWrite {
		t.Fatalf("err = %v, want io.ErrShortWrite", err)
	}
}

func TestWriter_ReleasesBigBuffer(t *testing.T) {
	w := NewWriter(io.Discard)
	w.WriteBulk(make([]byte, 4<<20))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if c := cap(w.buf); c > maxKeptWriterSize {
		t.Fatalf("kept %d bytes after Flush", c)
	}
}

func TestWriter_NoAllocs(t *testing.T) {
	w := NewWriter(io.Discard)
	val := []byte("value-value-value")
	allocs := testing.AllocsPerRun(1000, func() {
		for _, p := range []int{2, 3} {
			w.SetProto(p)
			w.WriteSimple("OK")
			w.WriteError("ERR x")
			w.WriteInt(123456789)
			w.WriteBulk(val)
			w.WriteBulkString("abc")
			w.WriteNull()
			w.WriteNullArray()
			w.WriteArrayLen(2)
			w.WriteMapLen(2)
			w.WriteSetLen(2)
			w.WritePushLen(2)
			w.WriteDouble(3.25)
			w.WriteDouble(1e-7)
			w.WriteBool(true)
			w.WriteVerbatim("txt", val)
			w.WriteBigNumber("123")
			_ = w.Flush()
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per round", allocs)
	}
}

func TestAppendCommand(t *testing.T) {
	got := string(AppendCommandString([]byte("x"), "SET", "k", ""))
	if want := "x*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n"; got != want {
		t.Fatalf("AppendCommandString = %q, want %q", got, want)
	}
	got = string(AppendCommand(nil, []byte("GET"), nil))
	if want := "*2\r\n$3\r\nGET\r\n$0\r\n\r\n"; got != want {
		t.Fatalf("AppendCommand = %q, want %q", got, want)
	}
	if got := string(AppendCommand(nil)); got != "*0\r\n" {
		t.Fatalf("AppendCommand() = %q", got)
	}
}
