package resp

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fuzzLimits picks limits from the fuzzer's mode byte: bit 0 unauthenticated,
// bit 1 small limits (so short inputs reach every limit), bit 2 a tiny query
// buffer.
func fuzzLimits(mode byte) Limits {
	l := DefaultLimits()
	l.Unauthenticated = mode&1 != 0
	if mode&2 != 0 {
		l.MaxInline = 32
		l.MaxBulkLen = 64
		l.MaxMultibulk = 8
		l.MaxQueryBuffer = 256
	}
	if mode&4 != 0 {
		l.MaxQueryBuffer = 24
	}
	return l
}

// fuzzSizes turns the fuzzer's chunk byte into Read sizes: pieces of 1..16
// bytes alternating with pieces of 0..15 (0 is a Read returning (0, nil)).
func fuzzSizes(chunk byte) []int { return []int{int(chunk&15) + 1, int(chunk >> 4)} }

// FuzzReader checks ReadCommand on arbitrary input:
//   - no panic, and no error other than *ProtocolError (with a known message),
//     ErrQueryBufferLimit, io.EOF or io.ErrUnexpectedEOF;
//   - the same commands and the same final error whether the input arrives in
//     one Read or in pieces chosen by the fuzzer, through a small buffer;
//   - every command read, encoded with AppendCommand, reads back unchanged;
//     so does the input itself split into arguments at the chunk byte.
//
// Run: go test -run=XXX -fuzz=FuzzReader ./internal/resp/
func FuzzReader(f *testing.F) {
	for _, tc := range readerCases {
		if len(tc.in) < 1000 {
			f.Add([]byte(tc.in), byte(0x10), byte(0))
		}
	}
	f.Add([]byte(chunkedStream), byte(0x31), byte(2))
	f.Fuzz(func(t *testing.T, data []byte, chunk byte, mode byte) {
		lim := fuzzLimits(mode)
		whole := readAll(&chunkReader{data: data}, 4096, &lim)
		if !knownError(whole.err) {
			t.Fatalf("unexpected error %#v", whole.err)
		}
		pieces := readAll(&chunkReader{data: data, sizes: fuzzSizes(chunk)}, 16, &lim)
		if !sameResult(whole, pieces) {
			t.Fatalf("delivery changes the result:\n whole  %s\n pieces %s", whole, pieces)
		}

		for _, cmd := range whole.cmds {
			enc := AppendCommandString(nil, cmd...)
			back := readAll(bytes.NewReader(enc), 16, nil)
			want := result{cmds: [][]string{cmd}, err: io.EOF}
			if !sameResult(back, want) {
				t.Fatalf("round trip of %s gave %s", want, back)
			}
		}

		args := bytes.Split(data, []byte{chunk})
		enc := AppendCommand(nil, args...)
		back := readAll(&chunkReader{data: enc, sizes: fuzzSizes(mode)}, 16, nil)
		if len(back.cmds) != 1 || back.err != io.EOF || len(back.cmds[0]) != len(args) {
			t.Fatalf("round trip of %d args gave %s", len(args), back)
		}
		for i, a := range args {
			if back.cmds[0][i] != string(a) {
				t.Fatalf("round trip arg %d: %q, want %q", i, back.cmds[0][i], a)
			}
		}
	})
}

// FuzzReadReply checks ReadReply and ReadValue on arbitrary input: no panic,
// the same replies whatever the delivery, replies that are exactly the bytes
// consumed, and every reply ReadReply accepts decodes with ReadValue.
func FuzzReadReply(f *testing.F) {
	for _, s := range redisReplies {
		f.Add([]byte(s), byte(0x10))
	}
	f.Add([]byte("*2\r\n|1\r\n+a\r\n:1\r\n%1\r\n~0\r\n>0\r\n_\r\n"), byte(0x21))
	f.Fuzz(func(t *testing.T, data []byte, chunk byte) {
		readReplies := func(rd io.Reader, size int) ([][]byte, error) {
			r := NewReader(rd, size)
			var out [][]byte
			for range 1000 {
				b, err := r.ReadReply()
				if err != nil {
					return out, err
				}
				out = append(out, b)
			}
			return out, nil
		}
		whole, err1 := readReplies(&chunkReader{data: data}, 4096)
		pieces, err2 := readReplies(&chunkReader{data: data, sizes: fuzzSizes(chunk)}, 16)
		if errString(err1) != errString(err2) || len(whole) != len(pieces) {
			t.Fatalf("delivery changes the result: %d replies, %v vs %d replies, %v", len(whole), err1, len(pieces), err2)
		}
		consumed := 0
		for i := range whole {
			if !bytes.Equal(whole[i], pieces[i]) {
				t.Fatalf("reply %d differs: %q vs %q", i, whole[i], pieces[i])
			}
			if !bytes.Equal(whole[i], data[consumed:consumed+len(whole[i])]) {
				t.Fatalf("reply %d is not the input bytes", i)
			}
			consumed += len(whole[i])
			if _, err := decodeReply(whole[i]); err != nil {
				t.Fatalf("ReadReply accepted %q but decoding fails: %v", whole[i], err)
			}
		}
	})
}

// The checked-in seed corpus covers every error ReadCommand can return.
func TestFuzzCorpus_CoversEveryError(t *testing.T) {
	files, err := filepath.Glob("testdata/fuzz/FuzzReader/*")
	if err != nil || len(files) < 12 {
		t.Fatalf("%d corpus files, %v", len(files), err)
	}
	seen := map[string]bool{}
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
		if len(lines) != 4 || lines[0] != "go test fuzz v1" {
			t.Fatalf("%s: not a FuzzReader corpus file", name)
		}
		data, err1 := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
		chunk, _, _, err2 := strconv.UnquoteChar(strings.TrimSuffix(strings.TrimPrefix(lines[2], "byte('"), "')"), '\'')
		mode, _, _, err3 := strconv.UnquoteChar(strings.TrimSuffix(strings.TrimPrefix(lines[3], "byte('"), "')"), '\'')
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("%s: %v %v %v", name, err1, err2, err3)
		}
		lim := fuzzLimits(byte(mode))
		res := readAll(&chunkReader{data: []byte(data), sizes: fuzzSizes(byte(chunk))}, 16, &lim)
		seen[errString(res.err)] = true
	}
	for _, want := range []error{
		pe(msgInvalidMultibulk), pe(msgInvalidBulk), pe(msgUnauthMultibulk), pe(msgUnauthBulk),
		pe(msgTooBigMbulkCount), pe(msgTooBigBulkCount), pe(msgTooBigInline), pe(msgUnbalancedQuotes),
		pe("expected '$', got ':'"), ErrQueryBufferLimit, io.EOF, io.ErrUnexpectedEOF,
	} {
		if !seen[want.Error()] {
			t.Errorf("no corpus file ends with %q", want)
		}
	}
}
