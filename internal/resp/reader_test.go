package resp

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

func pe(msg string) error { return &ProtocolError{Msg: msg} }

type readerCase struct {
	name string
	in   string
	lim  *Limits
	want [][]string
	err  error // the error that ends the stream
}

func cmds(c ...[]string) [][]string { return c }
func args(a ...string) []string     { return a }

var unauth = &Limits{Unauthenticated: true}

var readerCases = []readerCase{
	// Multibulk.
	{name: "multibulk", in: "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n",
		want: cmds(args("SET", "key", "value")), err: io.EOF},
	{name: "multibulk binary safe", in: "*2\r\n$3\r\nSET\r\n$6\r\na\r\n\x00b\xff\r\n",
		want: cmds(args("SET", "a\r\n\x00b\xff")), err: io.EOF},
	{name: "empty bulk", in: "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n",
		want: cmds(args("ECHO", "")), err: io.EOF},
	{name: "bulk terminator not checked, like redis", in: "*1\r\n$4\r\nPINGxy*1\r\n$4\r\nPING\r\n",
		want: cmds(args("PING"), args("PING")), err: io.EOF},
	{name: "header line ends at CR, next byte skipped", in: "*1\rX$4\rYPING\r\n",
		want: cmds(args("PING")), err: io.EOF},
	{name: "multibulk max int count waits", in: "*2147483647\r\n$1\r\na\r\n",
		err: io.ErrUnexpectedEOF},
	{name: "multibulk huge count waits", in: "*1048577\r\n", err: io.ErrUnexpectedEOF},
	{name: "pipelined", in: "*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nECHO \"x y\"\n",
		want: cmds(args("PING"), args("PING"), args("ECHO", "hi"), args("ECHO", "x y")), err: io.EOF},
	{name: "mixed case and big arg count", in: "*12\r\n" + strings.Repeat("$1\r\nx\r\n", 12),
		want: cmds(args("x", "x", "x", "x", "x", "x", "x", "x", "x", "x", "x", "x")), err: io.EOF},

	// Empty requests.
	{name: "empty requests skipped", in: "*0\r\n*-1\r\n*-5\r\n\r\n\n   \r\n\t\v\f\r\n*1\r\n$4\r\nPING\r\n*0\r\n",
		want: cmds(args("PING")), err: io.EOF},
	{name: "min int64 count is empty", in: "*-9223372036854775808\r\nPING\r\n",
		want: cmds(args("PING")), err: io.EOF},

	// Inline.
	{name: "inline", in: "PING\r\n", want: cmds(args("PING")), err: io.EOF},
	{name: "inline LF only", in: "SET a b\nGET a\n", want: cmds(args("SET", "a", "b"), args("GET", "a")), err: io.EOF},
	{name: "inline spaces", in: "  SET\t a   b  \r\n", want: cmds(args("SET", "a", "b")), err: io.EOF},
	{name: "inline CR splits", in: "a\rb\r\r\n", want: cmds(args("a", "b")), err: io.EOF},
	{name: "inline VT and FF do not split", in: "\v\fa\vb\fc d\n", want: cmds(args("a\vb\fc", "d")), err: io.EOF},
	{name: "inline dollar is inline", in: "$3\r\n", want: cmds(args("$3")), err: io.EOF},
	{name: "inline colon", in: ":5\r\n", want: cmds(args(":5")), err: io.EOF},
	{name: "inline only CR", in: "\r\nPING\n", want: cmds(args("PING")), err: io.EOF},

	// Quoting and escapes (sdssplitargs).
	{name: "double quotes", in: "SET \"a b\" \"\"\r\n", want: cmds(args("SET", "a b", "")), err: io.EOF},
	{name: "single quotes", in: "SET 'a b' ''\r\n", want: cmds(args("SET", "a b", "")), err: io.EOF},
	{name: "escapes", in: `ECHO "\x41\x4a\x4A\n\r\t\b\a\\\"\q\'"` + "\r\n",
		want: cmds(args("ECHO", "AJJ\n\r\t\b\a\\\"q'")), err: io.EOF},
	{name: "bad hex escapes", in: `ECHO "\x4" "\xZZ" "\x"` + "\n",
		want: cmds(args("ECHO", "x4", "xZZ", "x")), err: io.EOF},
	{name: "hex NUL", in: `ECHO "a\x00b"` + "\n", want: cmds(args("ECHO", "a\x00b")), err: io.EOF},
	{name: "single quote escape", in: `ECHO 'a\'b' 'c\\d' 'e\nf'` + "\n",
		want: cmds(args("ECHO", "a'b", `c\\d`, `e\nf`)), err: io.EOF},
	{name: "quote inside token", in: "ECHO a\"b c\" x'y z'\n", want: cmds(args("ECHO", "ab c", "xy z")), err: io.EOF},
	{name: "closing quote then VT", in: "ECHO \"a\"\vb\n", want: cmds(args("ECHO", "a", "b")), err: io.EOF},
	{name: "closing quote at CR", in: "ECHO \"a\"\r\n", want: cmds(args("ECHO", "a")), err: io.EOF},
	{name: "quoted CR LF kept", in: "ECHO \"a\rb\"\n", want: cmds(args("ECHO", "a\rb")), err: io.EOF},

	// Protocol errors, with redis-server 7's exact messages.
	{name: "count above INT_MAX", in: "*2147483648\r\n", err: pe("invalid multibulk length")},
	{name: "count abc", in: "*abc\r\n", err: pe("invalid multibulk length")},
	{name: "count leading zero", in: "*01\r\n", err: pe("invalid multibulk length")},
	{name: "count plus", in: "*+1\r\n", err: pe("invalid multibulk length")},
	{name: "count minus zero", in: "*-0\r\n", err: pe("invalid multibulk length")},
	{name: "count empty", in: "*\r\n", err: pe("invalid multibulk length")},
	{name: "count space", in: "* 1\r\n", err: pe("invalid multibulk length")},
	{name: "count overflow", in: "*99999999999999999999\r\n", err: pe("invalid multibulk length")},
	{name: "count 21 digits", in: "*000000000000000000001\r\n", err: pe("invalid multibulk length")},
	{name: "count after command", in: "PING\r\n*x\r\n", want: cmds(args("PING")), err: pe("invalid multibulk length")},
	{name: "bulk above proto-max-bulk-len", in: "*1\r\n$536870913\r\n", err: pe("invalid bulk length")},
	{name: "bulk at proto-max-bulk-len waits", in: "*1\r\n$536870912\r\n", err: io.ErrUnexpectedEOF},
	{name: "bulk negative", in: "*1\r\n$-5\r\n", err: pe("invalid bulk length")},
	{name: "bulk minus one", in: "*1\r\n$-1\r\n", err: pe("invalid bulk length")},
	{name: "bulk abc", in: "*1\r\n$abc\r\n", err: pe("invalid bulk length")},
	{name: "bulk empty", in: "*1\r\n$\r\n", err: pe("invalid bulk length")},
	{name: "second bulk bad", in: "*2\r\n$1\r\na\r\n$x\r\n", err: pe("invalid bulk length")},
	{name: "expected dollar", in: "*1\r\n:5\r\n", err: pe("expected '$', got ':'")},
	{name: "expected dollar star", in: "*2\r\n$1\r\na\r\n*1\r\n", err: pe("expected '$', got '*'")},
	{name: "expected dollar CR becomes space", in: "*1\r\n\r\n", err: pe("expected '$', got ' '")},
	{name: "expected dollar LF becomes space", in: "*1\r\n\n$4\r\n", err: pe("expected '$', got ' '")},
	{name: "expected dollar raw byte", in: "*1\r\n\xff\r\n", err: pe("expected '$', got '\xff'")},
	{name: "expected dollar needs whole line", in: "*1\r\n:5", err: io.ErrUnexpectedEOF},
	{name: "too big mbulk count string", in: "*" + strings.Repeat("1", 70000), err: pe("too big mbulk count string")},
	{name: "mbulk count line at limit waits", in: "*" + strings.Repeat("1", 65535), err: io.ErrUnexpectedEOF},
	{name: "mbulk count line over limit with CR", in: "*" + strings.Repeat("1", 65536) + "\r\n",
		err: pe("too big mbulk count string")},
	{name: "too big bulk count string", in: "*1\r\n$" + strings.Repeat("1", 70000), err: pe("too big bulk count string")},
	{name: "too big inline request", in: strings.Repeat("a", 70000), err: pe("too big inline request")},
	{name: "inline at limit", in: strings.Repeat("a", 65536) + "\n", want: cmds(args(strings.Repeat("a", 65536))), err: io.EOF},
	{name: "inline over limit with LF", in: strings.Repeat("a", 65537) + "\n", err: pe("too big inline request")},
	{name: "unbalanced double", in: "SET \"a b\r\n", err: pe("unbalanced quotes in request")},
	{name: "unbalanced single", in: "SET 'a b\r\n", err: pe("unbalanced quotes in request")},
	{name: "closing quote glued", in: "ECHO \"a\"b\r\n", err: pe("unbalanced quotes in request")},
	{name: "closing single quote glued", in: "ECHO 'a'b\r\n", err: pe("unbalanced quotes in request")},
	{name: "trailing backslash in quotes", in: "ECHO \"a\\\r\n", err: pe("unbalanced quotes in request")},
	{name: "quote then quote", in: "ECHO \"a\"'b'\n", err: pe("unbalanced quotes in request")},

	// NUL before a line terminator hides it, as with Redis's strchr.
	{name: "NUL in inline line waits", in: "PING a\x00b\r\nPING\r\n", err: io.ErrUnexpectedEOF},
	{name: "NUL in inline line then too big", in: "PING\x00\r\n" + strings.Repeat("x", 65600), err: pe("too big inline request")},
	{name: "NUL in count waits", in: "*1\x00\r\n$4\r\nPING\r\n", err: io.ErrUnexpectedEOF},
	{name: "NUL in bulk header then too big", in: "*1\r\n\x00$4\r\n" + strings.Repeat("x", 65600), err: pe("too big bulk count string")},

	// Unauthenticated connections.
	{name: "unauth multibulk", in: "*11\r\n", lim: unauth, err: pe("unauthenticated multibulk length")},
	{name: "unauth multibulk 10 ok", in: "*10\r\n" + strings.Repeat("$1\r\nx\r\n", 10), lim: unauth,
		want: cmds(args("x", "x", "x", "x", "x", "x", "x", "x", "x", "x")), err: io.EOF},
	{name: "unauth bulk", in: "*1\r\n$16385\r\n", lim: unauth, err: pe("unauthenticated bulk length")},
	{name: "unauth bulk 16384 waits", in: "*1\r\n$16384\r\n", lim: unauth, err: io.ErrUnexpectedEOF},
	{name: "unauth invalid wins", in: "*1\r\n$536870913\r\n", lim: unauth, err: pe("invalid bulk length")},
	{name: "unauth count invalid wins", in: "*2147483648\r\n", lim: unauth, err: pe("invalid multibulk length")},
	{name: "unauth inline not limited", in: "a b c d e f g h i j k l\n", lim: unauth,
		want: cmds(args("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l")), err: io.EOF},

	// Configured limits.
	{name: "MaxBulkLen", in: "*1\r\n$11\r\n", lim: &Limits{MaxBulkLen: 10}, err: pe("invalid bulk length")},
	{name: "MaxMultibulk", in: "*4\r\n", lim: &Limits{MaxMultibulk: 3}, err: pe("invalid multibulk length")},
	{name: "MaxInline", in: "aaaaa\n", lim: &Limits{MaxInline: 4}, err: pe("too big inline request")},
	{name: "trailing empty request over MaxInline", in: "PING\r\n*-1000\r\n", lim: &Limits{MaxInline: 5},
		want: cmds(args("PING")), err: pe("too big mbulk count string")},
	{name: "query buffer limit", in: "*1\r\n$100\r\n" + strings.Repeat("x", 100), lim: &Limits{MaxQueryBuffer: 50},
		err: ErrQueryBufferLimit},
	{name: "query buffer limit complete command", in: "*1\r\n$100\r\n" + strings.Repeat("x", 100) + "\r\n",
		lim: &Limits{MaxQueryBuffer: 50}, err: ErrQueryBufferLimit},
	{name: "query buffer limit inline", in: strings.Repeat("x", 100) + "\n", lim: &Limits{MaxQueryBuffer: 50},
		err: ErrQueryBufferLimit},
	{name: "query buffer limit counts one command", in: strings.Repeat("*1\r\n$10\r\n0123456789\r\n", 10),
		lim: &Limits{MaxQueryBuffer: 21},
		want: cmds(args("0123456789"), args("0123456789"), args("0123456789"), args("0123456789"), args("0123456789"),
			args("0123456789"), args("0123456789"), args("0123456789"), args("0123456789"), args("0123456789")),
		err: io.EOF},
	{name: "query buffer limit before later error", in: "*2\r\n$100\r\n" + strings.Repeat("x", 100) + "\r\n:1\r\n",
		lim: &Limits{MaxQueryBuffer: 50}, err: ErrQueryBufferLimit},

	// End of stream.
	{name: "empty stream", in: "", err: io.EOF},
	{name: "EOF inside inline", in: "PING", err: io.ErrUnexpectedEOF},
	{name: "EOF inside bulk", in: "*1\r\n$4\r\nPI", err: io.ErrUnexpectedEOF},
	{name: "EOF before bulk terminator", in: "*1\r\n$4\r\nPING", err: io.ErrUnexpectedEOF},
	{name: "EOF after header CR", in: "*1\r", err: io.ErrUnexpectedEOF},
}

func TestReader_Cases(t *testing.T) {
	for _, tc := range readerCases {
		t.Run(tc.name, func(t *testing.T) {
			want := result{cmds: tc.want, err: tc.err}
			for _, size := range []int{16, 4096, 1 << 20} {
				got := readAll(strings.NewReader(tc.in), size, tc.lim)
				if !sameResult(got, want) {
					t.Fatalf("size %d:\n got %s\nwant %s", size, got, want)
				}
			}
			// One byte at a time, and with (0, nil) reads in between.
			got := readAll(&chunkReader{data: []byte(tc.in), sizes: []int{1, 0}}, 16, tc.lim)
			if !sameResult(got, want) {
				t.Fatalf("bytewise:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestReader_ErrorsAreSticky(t *testing.T) {
	r := NewReader(strings.NewReader("*abc\r\nPING\r\n"), 0)
	_, err1 := r.ReadCommand()
	_, err2 := r.ReadCommand()
	var p *ProtocolError
	if !errors.As(err1, &p) || err1 != err2 {
		t.Fatalf("errors %v, %v: want the same *ProtocolError twice", err1, err2)
	}
	if got := err1.Error(); got != "ERR Protocol error: invalid multibulk length" {
		t.Fatalf("Error() = %q", got)
	}
}

// errAfterReader returns data, then err, then data2 (a read deadline that
// passes and is retried).
type errAfterReader struct {
	parts []any
}

func (e *errAfterReader) Read(p []byte) (int, error) {
	if len(e.parts) == 0 {
		return 0, io.EOF
	}
	part := e.parts[0]
	e.parts = e.parts[1:]
	switch v := part.(type) {
	case string:
		return copy(p, v), nil
	case error:
		return 0, v
	}
	panic("bad part")
}

func TestReader_ReadErrorIsNotSticky(t *testing.T) {
	timeout := errors.New("i/o timeout")
	r := NewReader(&errAfterReader{parts: []any{"*1\r\n$4\r\nPI", timeout, "NG\r\n"}}, 0)
	if _, err := r.ReadCommand(); err != timeout {
		t.Fatalf("err = %v, want the read error", err)
	}
	args, err := r.ReadCommand()
	if err != nil || len(args) != 1 || string(args[0]) != "PING" {
		t.Fatalf("after retry: %q, %v", args, err)
	}
}

func TestReader_DataWithErrorIsParsedFirst(t *testing.T) {
	// A Read that returns bytes and io.EOF together.
	calls := 0
	r := NewReader(readerFunc(func(p []byte) (int, error) {
		calls++
		if calls > 1 {
			return 0, errors.New("read after io.EOF")
		}
		return copy(p, "PING\r\nECHO a\r\n"), io.EOF
	}), 0)
	for _, want := range []string{"PING", "ECHO"} {
		args, err := r.ReadCommand()
		if err != nil || string(args[0]) != want {
			t.Fatalf("got %q, %v; want %s", args, err, want)
		}
	}
	if _, err := r.ReadCommand(); err != io.EOF {
		t.Fatalf("err = %v, want io.EOF", err)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func TestReader_NoProgress(t *testing.T) {
	r := NewReader(readerFunc(func([]byte) (int, error) { return 0, nil }), 0)
	if _, err := r.ReadCommand(); err != io.ErrNoProgress {
		t.Fatalf("err = %v, want io.ErrNoProgress", err)
	}
}

func TestReader_SetLimitsBetweenCommands(t *testing.T) {
	in := "*11\r\n" + strings.Repeat("$1\r\nx\r\n", 11)
	r := NewReader(strings.NewReader("AUTH pw\r\n"+in+in), 0)
	r.SetLimits(Limits{Unauthenticated: true})
	if args, err := r.ReadCommand(); err != nil || string(args[0]) != "AUTH" {
		t.Fatalf("AUTH: %q, %v", args, err)
	}
	r.SetLimits(DefaultLimits())
	if args, err := r.ReadCommand(); err != nil || len(args) != 11 {
		t.Fatalf("after auth: %d args, %v", len(args), err)
	}
	r.SetLimits(Limits{Unauthenticated: true})
	if _, err := r.ReadCommand(); errString(err) != "ERR Protocol error: unauthenticated multibulk length" {
		t.Fatalf("err = %v", err)
	}
}

// A trailing empty request is consumed with the command before it, so
// Buffered is 0 and respserver flushes instead of blocking in Read.
func TestReader_BufferedAfterTrailingEmptyRequest(t *testing.T) {
	r := NewReader(strings.NewReader("PING\r\n\r\n*0\r\n  \n"), 0)
	if _, err := r.ReadCommand(); err != nil {
		t.Fatal(err)
	}
	if n := r.Buffered(); n != 0 {
		t.Fatalf("Buffered = %d, want 0", n)
	}
	r = NewReader(strings.NewReader("PING\r\nPING\r\n\r"), 0)
	if _, err := r.ReadCommand(); err != nil {
		t.Fatal(err)
	}
	if n := r.Buffered(); n != 7 {
		t.Fatalf("Buffered = %d, want 7", n)
	}
	if _, err := r.ReadCommand(); err != nil {
		t.Fatal(err)
	}
	if n := r.Buffered(); n != 1 { // "\r" is not a complete request
		t.Fatalf("Buffered = %d, want 1", n)
	}
}

// The args slices must not let an append by the caller overwrite the next
// argument in the buffer.
func TestReader_ArgsCapacityIsClipped(t *testing.T) {
	r := NewReader(strings.NewReader("*2\r\n$1\r\na\r\n$1\r\nb\r\nSET x y\n"), 0)
	for _, want := range []string{"b", "x"} {
		args, err := r.ReadCommand()
		if err != nil {
			t.Fatal(err)
		}
		_ = append(args[0], "ZZZZZZZZZZ"...)
		if string(args[1]) != want {
			t.Fatalf("append to args[0] changed args[1] to %q", args[1])
		}
	}
}

func TestReader_LargeBulkInSmallChunks(t *testing.T) {
	val := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	in := AppendCommand(nil, []byte("SET"), []byte("k"), val)
	in = AppendCommandString(in, "GET", "k")
	for _, sizes := range [][]int{{1000}, {1, 7, 4096}, {65536}} {
		r := NewReader(&chunkReader{data: in, sizes: sizes}, 16)
		args, err := r.ReadCommand()
		if err != nil || len(args) != 3 || !bytes.Equal(args[2], val) {
			t.Fatalf("sizes %v: %d args, err %v", sizes, len(args), err)
		}
		// Grown by doubling up to what the request needed, not beyond 2x.
		if c := r.bufCap(); c > 2*len(in) {
			t.Fatalf("buffer %d bytes for a %d-byte request", c, len(in))
		}
		args, err = r.ReadCommand()
		if err != nil || string(args[0]) != "GET" {
			t.Fatalf("next command: %q, %v", args, err)
		}
	}
}

// A claimed length is not allocated before the bytes arrive.
func TestReader_ClaimedBulkIsNotPreallocated(t *testing.T) {
	in := append([]byte("*1\r\n$500000000\r\n"), bytes.Repeat([]byte("x"), 4000)...)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := NewReader(bytes.NewReader(in), 16<<10)
	_, err := r.ReadCommand()
	runtime.ReadMemStats(&after)
	if err != io.ErrUnexpectedEOF {
		t.Fatalf("err = %v, want io.ErrUnexpectedEOF", err)
	}
	if c := r.bufCap(); c > 16<<10 {
		t.Fatalf("buffer grew to %d bytes for %d received", c, len(in))
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
		t.Fatalf("allocated %d bytes for %d received", d, len(in))
	}

	// With more bytes, the buffer follows what was received, not the claim.
	in = append([]byte("*1\r\n$500000000\r\n"), bytes.Repeat([]byte("x"), 300<<10)...)
	r = NewReader(&chunkReader{data: in, sizes: []int{4096}}, 16<<10)
	if _, err := r.ReadCommand(); err != io.ErrUnexpectedEOF {
		t.Fatalf("err = %v", err)
	}
	if c := r.bufCap(); c > 2*len(in) {
		t.Fatalf("buffer grew to %d bytes for %d received", c, len(in))
	}
}

// A claimed argument count is not allocated before the arguments arrive.
func TestReader_ClaimedCountIsNotPreallocated(t *testing.T) {
	in := "*1048577\r\n" + strings.Repeat("$1\r\nx\r\n", 100)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r := NewReader(strings.NewReader(in), 0)
	_, err := r.ReadCommand()
	runtime.ReadMemStats(&after)
	if err != io.ErrUnexpectedEOF {
		t.Fatalf("err = %v", err)
	}
	if c := cap(r.cmd.spans); c > 256 {
		t.Fatalf("spans capacity %d for 100 arguments received", c)
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 256<<10 {
		t.Fatalf("allocated %d bytes", d)
	}
}

func TestReader_ShrinksAfterBigRequest(t *testing.T) {
	var in []byte
	in = AppendCommand(in, []byte("SET"), bytes.Repeat([]byte("x"), 1<<20))
	big := make([][]byte, 5000)
	for i := range big {
		big[i] = []byte("a")
	}
	in = AppendCommand(in, big...)
	for range shrinkAfterSmall + 1 {
		in = AppendCommandString(in, "PING")
	}
	r := NewReader(&chunkReader{data: in, sizes: []int{8192}}, 4096)
	for range 2 + shrinkAfterSmall + 1 {
		if _, err := r.ReadCommand(); err != nil {
			t.Fatal(err)
		}
	}
	if c := r.bufCap(); c != 4096 {
		t.Fatalf("buffer %d bytes after small requests, want 4096", c)
	}
	if c := cap(r.args); c > maxKeptArgs {
		t.Fatalf("args capacity %d kept", c)
	}
}

// Steady state: no allocation per command.
func TestReader_NoAllocsSteadyState(t *testing.T) {
	one := AppendCommandString(nil, "SET", "key:000001", "value-value-value")
	one = append(one, "GET key\r\n"...)
	src := &repeatReader{data: bytes.Repeat(one, 64)}
	r := NewReader(src, 16<<10)
	for range 1000 { // warm up
		if _, err := r.ReadCommand(); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := r.ReadCommand(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per command", allocs)
	}
}

// repeatReader returns data over and over.
type repeatReader struct {
	data []byte
	off  int
}

func (rr *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], rr.data[rr.off:])
		n += c
		rr.off = (rr.off + c) % len(rr.data)
	}
	return n, nil
}

func TestReader_RoundTrip(t *testing.T) {
	cases := [][]string{
		{"PING"},
		{"SET", "k", "v"},
		{"SET", "", "\x00\r\n\"'"},
		{"MSET", strings.Repeat("k", 70000), strings.Repeat("v", 100000)},
	}
	var in []byte
	for _, c := range cases {
		in = AppendCommandString(in, c...)
	}
	got := readAll(&chunkReader{data: in, sizes: []int{3, 1000}}, 16, nil)
	want := result{cmds: cases, err: io.EOF}
	if !sameResult(got, want) {
		t.Fatalf("round trip mismatch: got %d commands, err %v", len(got.cmds), got.err)
	}
}

func TestParseLL(t *testing.T) {
	for _, tc := range []struct {
		in string
		v  int64
		ok bool
	}{
		{"0", 0, true}, {"1", 1, true}, {"-1", -1, true}, {"10", 10, true},
		{"9223372036854775807", 9223372036854775807, true},
		{"-9223372036854775808", -9223372036854775808, true},
		{"9223372036854775808", 0, false}, {"-9223372036854775809", 0, false},
		{"18446744073709551616", 0, false}, {"99999999999999999999", 0, false},
		{"", 0, false}, {"-", 0, false}, {"-0", 0, false}, {"00", 0, false}, {"01", 0, false},
		{"+1", 0, false}, {" 1", 0, false}, {"1 ", 0, false}, {"1a", 0, false}, {"0x1", 0, false},
		{"000000000000000000001", 0, false},
	} {
		v, ok := parseLL([]byte(tc.in))
		if v != tc.v || ok != tc.ok {
			t.Errorf("parseLL(%q) = %d, %v; want %d, %v", tc.in, v, ok, tc.v, tc.ok)
		}
	}
}
