package command_test

// Differential test: the same random commands go to skiff and to a real
// redis-server, and every reply must be the same bytes (after normalizing
// what Redis leaves unordered or random). It runs only against a server:
//
//	go test ./internal/command -run TestDifferential -redis-addr 127.0.0.1:7000 [-diff-n 5000] [-diff-seed 7]
//
// .ci/run starts a throwaway redis-server and runs it with the transcripts.
// Each family (differential_*_test.go) registers a generator: a function that
// returns one random command over a small space of keys, members and numbers
// (valid and invalid alike: error replies are compared too) and, where Redis's
// reply is unordered or random, a normalizer for it. Each family runs twice,
// over RESP2 and over RESP3 (HELLO 3), with its own random stream.

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/skiffdb/skiff/internal/node/nodetest"
	"github.com/skiffdb/skiff/internal/resp"
)

var (
	diffN    = flag.Int("diff-n", 3000, "commands per family in TestDifferential")
	diffSeed = flag.Uint64("diff-seed", 0, "seed of TestDifferential (0 = a new one, printed)")
)

// diffFamily generates random commands of one command family.
type diffFamily struct {
	name string
	// gen returns the next command. g carries the random source and the
	// shared vocabulary (keys, members, numbers).
	gen func(g *diffGen) []string
	// norm, when set, rewrites a reply before comparison (nil: compare the
	// bytes). args is the command that produced it.
	norm func(args []string, reply []byte) string
}

var diffFamilies []diffFamily

func registerDiffFamily(f diffFamily) { diffFamilies = append(diffFamilies, f) }

// diffGen is the random source with helpers for building commands.
type diffGen struct {
	*rand.Rand
}

// Pick returns one of xs.
func (g *diffGen) Pick(xs ...string) string { return xs[g.IntN(len(xs))] }

// Chance is true with probability p.
func (g *diffGen) Chance(p float64) bool { return g.Float64() < p }

// Key returns one of a few keys, so that commands meet each other's data
// (and other types: WRONGTYPE is compared too).
func (g *diffGen) Key() string { return g.Pick("k1", "k2", "k3", "k4", "{t}a", "{t}b") }

// Member returns a member or field name from a small space.
func (g *diffGen) Member() string { return g.Pick("a", "b", "c", "d", "e", "f", "10", "-1", "") }

// Int returns an integer argument: mostly small, sometimes an edge case or
// not a number at all.
func (g *diffGen) Int() string {
	switch g.IntN(10) {
	case 0:
		return g.Pick("0", "-0", "+1", " 1", "1.5", "abc", "", "9223372036854775807", "-9223372036854775808",
			"9223372036854775808", "2147483648", "-2147483649", "0x10", "1e3")
	case 1, 2:
		return fmt.Sprint(-g.IntN(6))
	default:
		return fmt.Sprint(g.IntN(8))
	}
}

// Float returns a float argument, with Redis's spellings of the edges.
func (g *diffGen) Float() string {
	switch g.IntN(8) {
	case 0:
		return g.Pick("inf", "-inf", "+inf", "nan", "1e400", "-1e400", "0x1p3", "1.5e", "(1", "abc", "", " 1", "3.0")
	case 1:
		return fmt.Sprint(g.IntN(10)) + "." + fmt.Sprint(g.IntN(100))
	default:
		return fmt.Sprint(g.IntN(10) - 3)
	}
}

// Value returns a string value.
func (g *diffGen) Value() string {
	return g.Pick("v", "hello", "1", "-5", "3.5", "", "x y", "10", "9223372036854775807", strings.Repeat("z", 70))
}

// SortedArray renders an array reply with its elements sorted (for replies
// Redis orders by its hash tables). Nested arrays are kept as one element.
func SortedArray(reply []byte) string {
	elems, ok := splitReplyArray(reply)
	if !ok {
		return string(reply)
	}
	s := make([]string, len(elems))
	for i, e := range elems {
		s[i] = string(e)
	}
	sort.Strings(s)
	return fmt.Sprintf("sorted%c%d%q", reply[0], len(s), s)
}

// SortedPairs is SortedArray for flat [k1 v1 k2 v2 ...] replies (HGETALL,
// HRANDFIELD WITHVALUES, ZRANDMEMBER WITHSCORES in RESP2): pairs stay together.
func SortedPairs(reply []byte) string {
	elems, ok := splitReplyArray(reply)
	if !ok || len(elems)%2 != 0 {
		return string(reply)
	}
	s := make([]string, 0, len(elems)/2)
	for i := 0; i < len(elems); i += 2 {
		s = append(s, string(elems[i])+"\x00"+string(elems[i+1]))
	}
	sort.Strings(s)
	return fmt.Sprintf("pairs%c%d%q", reply[0], len(s), s)
}

// ArrayLen renders an array reply as its length only (random picks).
func ArrayLen(reply []byte) string {
	elems, ok := splitReplyArray(reply)
	if !ok {
		return string(reply)
	}
	return fmt.Sprintf("%c array of %d", reply[0], len(elems))
}

// splitReplyArray splits an aggregate reply (a RESP2 array, or a RESP3
// array, set, map or push) into its elements' raw bytes: a map's keys and
// values alternate. The normalizers above keep the reply's type byte, so a
// set and an array never compare equal.
func splitReplyArray(reply []byte) ([][]byte, bool) {
	if len(reply) == 0 || !strings.ContainsRune("*~%>", rune(reply[0])) || bytes.HasPrefix(reply, []byte("*-1")) {
		return nil, false
	}
	end := bytes.Index(reply, []byte("\r\n"))
	n, err := strconv.Atoi(string(reply[1:max(end, 1)]))
	if end < 0 || err != nil {
		return nil, false
	}
	if reply[0] == '%' {
		n *= 2
	}
	rd := resp.NewReader(bytes.NewReader(reply[end+2:]), 1<<20)
	out := make([][]byte, 0, n)
	for range n {
		e, err := rd.ReadReply()
		if err != nil {
			return nil, false
		}
		out = append(out, slices.Clone(e))
	}
	return out, true
}

func TestDifferential(t *testing.T) {
	if *redisAddr == "" {
		t.Skip("needs -redis-addr (a throwaway redis-server); .ci/run starts one")
	}
	seed := *diffSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (rerun with -diff-seed %d)", seed, seed)
	skiff := nodetest.Start(t, nil).Addr
	for fi, fam := range diffFamilies {
		t.Run(fam.name, func(t *testing.T) {
			for _, proto := range []int{2, 3} {
				t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
					g := &diffGen{rand.New(rand.NewPCG(seed, uint64(fi)<<8|uint64(proto)))}
					runDiff(t, fam, g, proto, skiff)
				})
			}
		})
	}
}

// runDiff runs one family's commands on fresh connections to skiff and to
// Redis, both after FLUSHALL and HELLO proto.
func runDiff(t *testing.T, fam diffFamily, g *diffGen, proto int, skiff string) {
	a := &conns{t: t, addr: skiff, conns: map[int]*tconn{}}
	b := &conns{t: t, addr: *redisAddr, conns: map[int]*tconn{}}
	defer a.close()
	defer b.close()
	for _, cs := range []*conns{a, b} {
		cs.do(1, [][]byte{[]byte("FLUSHALL")})
		cs.do(1, [][]byte{[]byte("HELLO"), []byte(strconv.Itoa(proto))}) // its reply names the server: not compared
	}
	var history []string
	mismatches := 0
	for i := 0; i < *diffN && mismatches < 10; i++ {
		cmd := fam.gen(g)
		args := make([][]byte, len(cmd))
		for j, s := range cmd {
			args[j] = []byte(s)
		}
		ra, rb := a.do(1, args), b.do(1, args)
		history = append(history, quoteCmd(cmd))
		na, nb := string(ra), string(rb)
		if fam.norm != nil {
			na, nb = fam.norm(cmd, ra), fam.norm(cmd, rb)
		}
		if na != nb {
			mismatches++
			from := max(0, len(history)-8)
			t.Errorf("command %d: %s\n skiff: %q\n redis: %q\n (normalized %q vs %q)\n last commands:\n  %s",
				i, quoteCmd(cmd), ra, rb, na, nb, strings.Join(history[from:], "\n  "))
		}
	}
}

// quoteCmd renders a command for a failure message, redis-cli style.
func quoteCmd(cmd []string) string {
	q := make([]string, len(cmd))
	for i, s := range cmd {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, " ")
}
