package resp

import (
	"bytes"
	"errors"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"
)

// Replies captured from redis-server 7.0.15 (DEBUG PROTOCOL <type>, HELLO 3).
var redisReplies = []string{
	"$11\r\nHello World\r\n",
	":12345\r\n",
	",3.141\r\n",
	"(1234567999999999999999999999999999999\r\n",
	"_\r\n",
	"*3\r\n:0\r\n:1\r\n:2\r\n",
	"~3\r\n:0\r\n:1\r\n:2\r\n",
	"%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n",
	"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply following the attribute\r\n",
	">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n",
	"=29\r\ntxt:This is a verbatim\nstring\r\n",
	"#t\r\n",
	"#f\r\n",
	"$-1\r\n",
	"*-1\r\n",
	"-ERR RESP2 is not supported by this command\r\n",
	"+OK\r\n",
	"*0\r\n",
	"%0\r\n",
	"!21\r\nSYNTAX invalid syntax\r\n",
	",inf\r\n",
	",-inf\r\n",
	",nan\r\n",
	",1.5e-7\r\n",
	":-9223372036854775808\r\n",
	// Nested RESP3: a map of arrays, sets and maps, with nulls inside.
	"%2\r\n+first\r\n*3\r\n:1\r\n_\r\n~2\r\n$1\r\na\r\n#t\r\n$6\r\nsecond\r\n%1\r\n$1\r\nk\r\n*2\r\n$-1\r\n*-1\r\n",
	// HELLO 3 from redis-server 7.0.15.
	"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:16\r\n" +
		"$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n",
}

func TestReadReply_ExactBytes(t *testing.T) {
	all := strings.Join(redisReplies, "")
	for _, sizes := range [][]int{nil, {1}, {3, 0, 7}} {
		r := NewReader(&chunkReader{data: []byte(all), sizes: sizes}, 16)
		for _, want := range redisReplies {
			got, err := r.ReadReply()
			if err != nil || string(got) != want {
				t.Fatalf("sizes %v: ReadReply = %q, %v; want %q", sizes, got, err, want)
			}
		}
		if _, err := r.ReadReply(); err != io.EOF {
			t.Fatalf("at end: %v, want io.EOF", err)
		}
	}
}

func TestReadReply_CopyIsOwned(t *testing.T) {
	r := NewReader(strings.NewReader("+a\r\n+b\r\n"), 16)
	a, _ := r.ReadReply()
	b, _ := r.ReadReply()
	if string(a) != "+a\r\n" || string(b) != "+b\r\n" {
		t.Fatalf("got %q, %q", a, b)
	}
}

func TestReadValue(t *testing.T) {
	str := func(t byte, s string) Value { return Value{Type: t, Str: []byte(s)} }
	integer := func(n int64) Value { return Value{Type: ':', Int: n} }
	boolean := func(b bool) Value { return Value{Type: '#', Bool: b} }
	cases := []struct {
		in   string
		want Value
	}{
		{"+OK\r\n", str('+', "OK")},
		{"-ERR x\r\n", str('-', "ERR x")},
		{":-7\r\n", integer(-7)},
		{"$3\r\nfoo\r\n", str('$', "foo")},
		{"$0\r\n\r\n", str('$', "")},
		{"$-1\r\n", Value{Type: '$', Null: true}},
		{"*-1\r\n", Value{Type: '*', Null: true}},
		{"_\r\n", Value{Type: '_', Null: true}},
		{",3.141\r\n", Value{Type: ',', Float: 3.141, Str: []byte("3.141")}},
		{",-inf\r\n", Value{Type: ',', Float: math.Inf(-1), Str: []byte("-inf")}},
		{"#t\r\n", boolean(true)},
		{"(123456789012345678901234567890\r\n", str('(', "123456789012345678901234567890")},
		{"!5\r\nERR x\r\n", str('!', "ERR x")},
		{"=8\r\ntxt:abcd\r\n", str('=', "txt:abcd")},
		{"*0\r\n", Value{Type: '*', Elems: []Value{}}},
		{"*2\r\n:1\r\n*1\r\n$1\r\nx\r\n", Value{Type: '*', Elems: []Value{
			integer(1), {Type: '*', Elems: []Value{str('$', "x")}}}}},
		{"%2\r\n+a\r\n:1\r\n+b\r\n~1\r\n#f\r\n", Value{Type: '%', Elems: []Value{
			str('+', "a"), integer(1), str('+', "b"), {Type: '~', Elems: []Value{boolean(false)}}}}},
		{">2\r\n+message\r\n$2\r\nhi\r\n", Value{Type: '>', Elems: []Value{str('+', "message"), str('$', "hi")}}},
		{"|1\r\n+ttl\r\n:3600\r\n$1\r\nv\r\n", Value{Type: '|', Elems: []Value{
			str('+', "ttl"), integer(3600), str('$', "v")}}},
		{"*3\r\n|1\r\n+a\r\n:1\r\n:2\r\n_\r\n*0\r\n", Value{Type: '*', Elems: []Value{
			{Type: '|', Elems: []Value{str('+', "a"), integer(1), integer(2)}},
			{Type: '_', Null: true},
			{Type: '*', Elems: []Value{}}}}},
	}
	for _, tc := range cases {
		got, err := NewReader(strings.NewReader(tc.in), 16).ReadValue()
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.in, got, tc.want)
		}
	}
}

// Deep nesting is parsed without recursion.
func TestReadValue_DeepNesting(t *testing.T) {
	const depth = 200000
	in := strings.Repeat("*1\r\n", depth) + ":7\r\n"
	v, err := NewReader(strings.NewReader(in), 0).ReadValue()
	if err != nil {
		t.Fatal(err)
	}
	for range depth {
		if v.Type != '*' || len(v.Elems) != 1 {
			t.Fatalf("bad level: %c with %d elems", v.Type, len(v.Elems))
		}
		v = v.Elems[0]
	}
	if v.Type != ':' || v.Int != 7 {
		t.Fatalf("leaf %+v", v)
	}
}

func TestReadReply_Errors(t *testing.T) {
	cases := []struct {
		in  string
		lim *Limits
		err error
	}{
		{"?\r\n", nil, pe("invalid reply type byte '?'")},
		{"\r\n", nil, pe("invalid reply type byte ' '")},
		{"+OK\rX", nil, pe("expected CRLF")},
		{"$3\r\nfooXY", nil, pe("expected CRLF")},
		{"$-2\r\n", nil, pe("invalid bulk length")},
		{"!-1\r\n", nil, pe("invalid bulk length")},
		{"$?\r\n", nil, pe("invalid bulk length")},
		{"*?\r\n", nil, pe("invalid multibulk length")},
		{"%-1\r\n", nil, pe("invalid multibulk length")},
		{":abc\r\n", nil, pe("invalid integer reply")},
		{",abc\r\n", nil, pe("invalid double reply")},
		{",\r\n", nil, pe("invalid double reply")},
		{"#x\r\n", nil, pe("invalid boolean reply")},
		{"_x\r\n", nil, pe("invalid null reply")},
		{"(12a\r\n", nil, pe("invalid big number reply")},
		{"=3\r\ntxt\r\n", nil, pe("invalid verbatim string reply")},
		{"=4\r\ntxtx\r\n", nil, pe("invalid verbatim string reply")},
		{"$11\r\n", &Limits{MaxBulkLen: 10}, pe("invalid bulk length")},
		{"*4\r\n", &Limits{MaxMultibulk: 3}, pe("invalid multibulk length")},
		{"+" + strings.Repeat("x", 100), &Limits{MaxInline: 50}, pe("too big reply line")},
		{"*3\r\n$100\r\n" + strings.Repeat("x", 100), &Limits{MaxQueryBuffer: 50}, ErrQueryBufferLimit},
		{"*2\r\n:1\r\n", nil, io.ErrUnexpectedEOF},
		{"$5\r\nab", nil, io.ErrUnexpectedEOF},
		{"", nil, io.EOF},
	}
	for _, tc := range cases {
		for _, sizes := range [][]int{nil, {1}} {
			r := NewReader(&chunkReader{data: []byte(tc.in), sizes: sizes}, 16)
			if tc.lim != nil {
				r.SetLimits(*tc.lim)
			}
			_, err := r.ReadReply()
			if errString(err) != errString(tc.err) {
				t.Errorf("%.30q sizes %v: err %v, want %v", tc.in, sizes, err, tc.err)
			}
			var p *ProtocolError
			if errors.As(tc.err, &p) {
				if _, err2 := r.ReadValue(); err2 != err {
					t.Errorf("%q: error not sticky: %v then %v", tc.in, err, err2)
				}
			}
		}
	}
}

// A reply much larger than the buffer arrives in small pieces.
func TestReadReply_Large(t *testing.T) {
	var w bytes.Buffer
	wr := NewWriter(&w)
	wr.SetProto(3)
	wr.WriteMapLen(1000)
	for i := range 1000 {
		wr.WriteBulkString(strings.Repeat("k", i))
		wr.WriteArrayLen(2)
		wr.WriteDouble(float64(i) / 8)
		wr.WriteBulk(bytes.Repeat([]byte{byte(i)}, 3000))
	}
	if err := wr.Flush(); err != nil {
		t.Fatal(err)
	}
	want := w.Bytes()
	r := NewReader(&chunkReader{data: want, sizes: []int{1, 100, 4096}}, 16)
	got, err := r.ReadReply()
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%d bytes, %v; want %d bytes", len(got), err, len(want))
	}
	v, err := NewReader(bytes.NewReader(want), 0).ReadValue()
	if err != nil || len(v.Elems) != 2000 || v.Elems[1999].Elems[0].Float != 999.0/8 {
		t.Fatalf("ReadValue: %v", err)
	}
}
