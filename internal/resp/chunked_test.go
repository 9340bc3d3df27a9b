package resp

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// chunkedStream mixes every request form, every empty form and the quirks
// (unchecked terminators, CR-terminated headers) in one pipelined stream.
var chunkedStream = "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n" +
	"*0\r\n*-1\r\n\r\n \t\r\n" +
	"PING\r\n" +
	"SET \"a b\\x41\\n\" 'c\\'d' e\"f g\"\n" +
	"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n" +
	"*1\rx$4\r\nPINGzz" +
	"*2\r\n$4\r\nECHO\r\n$6\r\na\r\n\x00\xffb\r\n" +
	"GET k\r\n" +
	"*1\r\n$40\r\n" + strings.Repeat("0123456789", 4) + "\r\n"

// TestReader_ChunkedDelivery feeds the same stream split at every byte
// boundary, and in pieces of every size from 1 to k, and expects the same
// commands as when the stream arrives in one Read.
func TestReader_ChunkedDelivery(t *testing.T) {
	tails := []string{
		"",
		"*abc\r\n",
		"*1\r\n:1\r\n",
		"*1\r\n$-5\r\n",
		"ECHO \"a\r\n",
		"*" + strings.Repeat("1", 70000),
		"*1\r\n$" + strings.Repeat("1", 70000),
		strings.Repeat("a", 70000),
		"PING\x00\r\n" + strings.Repeat("a", 66000),
		"*1\r\n$4\r\nPI",
	}
	for _, tail := range tails {
		in := []byte(chunkedStream + tail)
		want := readAll(&chunkReader{data: in}, 1<<20, nil)
		if len(want.cmds) != 8 {
			t.Fatalf("baseline has %d commands, want 8: %s", len(want.cmds), want)
		}
		check := func(desc string, sizes []int, bufSize int) {
			t.Helper()
			got := readAll(&chunkReader{data: in, sizes: sizes}, bufSize, nil)
			if !sameResult(got, want) {
				t.Fatalf("tail %.20q, %s:\n got %s\nwant %s", tail, desc, got, want)
			}
		}
		// Split in two at every boundary (within the interesting prefix).
		for p := 0; p <= min(len(in), len(chunkedStream)+40); p++ {
			check("split at "+strconv.Itoa(p), []int{p, len(in)}, 16)
		}
		// Fixed piece sizes 1..k.
		for k := 1; k <= 64; k++ {
			check("pieces of "+strconv.Itoa(k), []int{k}, 16)
		}
		// Random piece sizes.
		rng := rand.New(rand.NewPCG(1, uint64(len(tail))))
		for range 20 {
			sizes := make([]int, 1+rng.IntN(10))
			for i := range sizes {
				sizes[i] = rng.IntN(300)
			}
			sizes[0]++ // at least one non-zero size
			check("random pieces", sizes, 16+rng.IntN(100))
		}
	}
}
