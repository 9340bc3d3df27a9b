package store

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/skiffdb/skiff/internal/op"
)

// checkZset verifies a sorted set's invariants: the skiplist's order,
// spans, backward links, tail and length, and the map's agreement with it.
func checkZset(t *testing.T, z *zsetObj) {
	t.Helper()
	zl := z.zsl
	var nodes []*zslNode
	for x := zl.first(); x != nil; x = x.level[0].forward {
		nodes = append(nodes, x)
	}
	if len(nodes) != zl.length || len(z.dict) != zl.length {
		t.Fatalf("length %d, %d nodes, %d in the map", zl.length, len(nodes), len(z.dict))
	}
	rank := map[*zslNode]int{zl.header: 0}
	for i, x := range nodes {
		rank[x] = i + 1
		if z.dict[x.member] != x {
			t.Fatalf("map entry of %q is not its node", x.member)
		}
		if i > 0 && !zslLess(nodes[i-1].score, nodes[i-1].member, x.score, x.member) {
			t.Fatalf("out of order at %d: %v %q after %v %q", i, x.score, x.member, nodes[i-1].score, nodes[i-1].member)
		}
		want := (*zslNode)(nil)
		if i > 0 {
			want = nodes[i-1]
		}
		if x.backward != want {
			t.Fatalf("backward link of %q", x.member)
		}
		if math.IsNaN(x.score) {
			t.Fatalf("NaN score for %q", x.member)
		}
		if z.listpack && x.score == 0 && math.Signbit(x.score) {
			t.Fatalf("listpack holds -0 for %q", x.member)
		}
	}
	if (len(nodes) == 0 && zl.tail != nil) || (len(nodes) > 0 && zl.tail != nodes[len(nodes)-1]) {
		t.Fatal("tail")
	}
	for lvl := range zl.level {
		for x := zl.header; x != nil; x = x.level[lvl].forward {
			f := x.level[lvl].forward
			want := zl.length - rank[x] // a last link spans to the end
			if f != nil {
				want = rank[f] - rank[x]
			}
			if x.level[lvl].span != want {
				t.Fatalf("level %d span after rank %d: %d, want %d", lvl, rank[x], x.level[lvl].span, want)
			}
		}
	}
	for lvl := zl.level; lvl < len(zl.header.level); lvl++ {
		if zl.header.level[lvl].forward != nil {
			t.Fatalf("header link above the level at %d", lvl)
		}
	}
	if z.listpack {
		if zl.length > zsetMaxListpackEntries {
			t.Fatalf("listpack of %d members", zl.length)
		}
		for _, x := range nodes {
			if len(x.member) > zsetMaxListpackValue {
				t.Fatalf("listpack holds a %d-byte member", len(x.member))
			}
		}
	}
}

func zsetOf(t *testing.T, s *Store, key string) *zsetObj {
	t.Helper()
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := s.dbs[0].dict.find([]byte(key))
	if e == nil {
		return nil
	}
	return e.obj.(*zsetObj)
}

// zdump renders key's members and scores ("a:1 b:2").
func zdump(t *testing.T, s *Store, key string) string {
	t.Helper()
	es, err := s.ZRange(0, []byte(key), &ZRangeSpec{Start: 0, Stop: -1, Count: -1}, t0)
	if err != nil {
		t.Fatal(err)
	}
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Member + ":" + strconv.FormatFloat(e.Score, 'g', -1, 64)
	}
	return strings.Join(parts, " ")
}

func zenc(s *Store, key string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return encodingOf(s.dbs[0].dict.find([]byte(key)))
}

func TestZSkiplist_RandomAgainstSortedSlice(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	z := newZsetObj(false, 0)
	for i := range 20000 {
		m := "m" + strconv.Itoa(r.IntN(600))
		sc := float64(r.IntN(50)) / 4
		if n, ok := z.dict[m]; ok {
			switch r.IntN(3) {
			case 0:
				z.remove(n)
			default:
				z.setScore(n, sc)
			}
		} else {
			z.insertNew(m, sc)
		}
		if i%997 == 0 {
			checkZset(t, z)
			// rank and byRank agree with the order.
			j := 1
			for x := z.zsl.first(); x != nil; x = x.level[0].forward {
				if z.zsl.rank(x.score, x.member) != j || z.zsl.byRank(j) != x {
					t.Fatalf("rank %d of %q", j, x.member)
				}
				j++
			}
			if z.zsl.byRank(0) != nil || z.zsl.byRank(z.len()+1) != nil || z.zsl.rank(-1, "nope") != 0 {
				t.Fatal("out-of-range rank")
			}
		}
	}
	// deleteRange over random windows.
	for z.len() > 0 {
		a := 1 + r.IntN(z.len())
		b := a + r.IntN(10)
		want := min(b, z.len()) - a + 1
		if got := z.zsl.deleteRange(a, b, func(x *zslNode) { delete(z.dict, x.member) }); got != want {
			t.Fatalf("deleteRange(%d, %d) = %d, want %d", a, b, got, want)
		}
		checkZset(t, z)
	}
}

func TestZSkiplist_BuildFromSorted(t *testing.T) {
	for _, n := range []int{0, 1, 2, 5, 128, 129, 3000} {
		es := make([]ZEntry, n)
		for i := range es {
			es[i] = ZEntry{fmt.Sprintf("m%05d", i), float64(i / 3)}
		}
		z := buildZset(es, false)
		checkZset(t, z)
		if !slices.Equal(z.entries(), es) {
			t.Fatalf("n=%d: entries differ", n)
		}
		z.insertNew("zzz", -1)
		checkZset(t, z)
	}
}

func TestZSet_AddFlagsAndReplies(t *testing.T) {
	s := New(Options{})
	flags := func(f int) string { return strconv.Itoa(f) }
	cases := []struct {
		args []string
		want any
	}{
		{[]string{"z", flags(0), "1", "a", "2", "b"}, int64(2)},
		{[]string{"z", flags(0), "1", "a", "3", "c"}, int64(1)},
		{[]string{"z", flags(op.ZAddCH), "5", "a", "3", "c", "4", "d"}, int64(2)},
		{[]string{"z", flags(op.ZAddNX), "9", "a", "9", "e"}, int64(1)},
		{[]string{"z", flags(op.ZAddXX | op.ZAddCH), "6", "a", "9", "nope"}, int64(1)},
		{[]string{"z", flags(op.ZAddGT | op.ZAddCH), "1", "a", "10", "b"}, int64(1)},
		{[]string{"z", flags(op.ZAddLT | op.ZAddCH), "1", "a", "100", "b"}, int64(1)},
		{[]string{"z", flags(op.ZAddIncr), "2.5", "a"}, 3.5},
		{[]string{"z", flags(op.ZAddIncr | op.ZAddNX), "1", "a"}, nil},
		{[]string{"z", flags(op.ZAddIncr | op.ZAddXX), "1", "new"}, nil},
		{[]string{"z", flags(op.ZAddIncr | op.ZAddGT), "-1", "a"}, nil},
		{[]string{"z", flags(op.ZAddIncr | op.ZAddLT), "-1", "a"}, 2.5},
		{[]string{"nokey", flags(op.ZAddXX), "1", "a"}, int64(0)},
		{[]string{"nokey", flags(op.ZAddXX | op.ZAddIncr), "1", "a"}, nil},
	}
	for _, c := range cases {
		if got := mustApply(t, s, op.ZAdd, c.args...); got != c.want {
			t.Fatalf("ZADD %q = %#v, want %#v", c.args, got, c.want)
		}
	}
	if got := zdump(t, s, "z"); got != "a:2.5 c:3 d:4 e:9 b:10" {
		t.Fatal(got)
	}
	if s.Type(0, []byte("nokey"), t0) != TypeNone {
		t.Fatal("XX created a key")
	}
	mustApply(t, s, op.ZAdd, "z", flags(0), "inf", "a")
	if _, err := apply(t, s, op.ZAdd, t0, "z", flags(op.ZAddIncr), "-inf", "a"); !errors.Is(err, ErrScoreNaN) {
		t.Fatalf("inf + -inf: %v", err)
	}
	if got := zdump(t, s, "z"); got != "c:3 d:4 e:9 b:10 a:+Inf" {
		t.Fatal("NaN changed the set:", got)
	}
	mustApply(t, s, op.Set, "str", "v", "0", "0")
	for _, c := range []op.Code{op.ZAdd, op.ZRem} {
		args := []string{"str", "0", "1", "a"}
		if c == op.ZRem {
			args = []string{"str", "a"}
		}
		if _, err := apply(t, s, c, t0, args...); !errors.Is(err, ErrWrongType) {
			t.Fatalf("%v on a string: %v", c, err)
		}
	}
	for _, bad := range [][]string{{"z", "0", "1"}, {"z", "0", "x", "a"}, {"z", "x", "1", "a"}, {"z", flags(op.ZAddIncr), "1", "a", "2", "b"}} {
		if _, err := apply(t, s, op.ZAdd, t0, bad...); !errors.Is(err, ErrMalformedOp) {
			t.Fatalf("malformed %q: %v", bad, err)
		}
	}
}

func TestZSet_Encodings(t *testing.T) {
	s := New(Options{})
	for i := range 128 {
		mustApply(t, s, op.ZAdd, "z", "0", strconv.Itoa(i), "m"+strconv.Itoa(i))
	}
	if zenc(s, "z") != "listpack" {
		t.Fatal("128 members:", zenc(s, "z"))
	}
	mustApply(t, s, op.ZAdd, "z", "0", "1", "m1") // an update never converts
	if zenc(s, "z") != "listpack" {
		t.Fatal("update converted")
	}
	mustApply(t, s, op.ZAdd, "z", "0", "500", "m500")
	if zenc(s, "z") != "skiplist" {
		t.Fatal("129 members:", zenc(s, "z"))
	}
	mustApply(t, s, op.ZRemRange, "z", "0", "0", "-3")
	if zenc(s, "z") != "skiplist" || zdump(t, s, "z") != "m127:127 m500:500" {
		t.Fatal("converted back:", zenc(s, "z"), zdump(t, s, "z"))
	}
	checkZset(t, zsetOf(t, s, "z"))

	mustApply(t, s, op.ZAdd, "long", "0", "1", strings.Repeat("x", 64))
	if zenc(s, "long") != "listpack" {
		t.Fatal("64-byte member")
	}
	mustApply(t, s, op.ZAdd, "long", "0", "2", strings.Repeat("x", 65))
	if zenc(s, "long") != "skiplist" {
		t.Fatal("65-byte member")
	}
	// Computed results are listpacks when they fit, whatever their sources.
	mustApply(t, s, op.ZUnionStore, "u", "0", "z", "1")
	if zenc(s, "u") != "listpack" {
		t.Fatal("small union:", zenc(s, "u"))
	}
	mustApply(t, s, op.ZRangeStore, "r", "long", "0", "0", "0", "-1", "0", "-1")
	if zenc(s, "r") != "skiplist" {
		t.Fatal("range with a long member:", zenc(s, "r"))
	}
	big := []string{"big", "0"}
	for i := range 200 {
		big = append(big, strconv.Itoa(i), "b"+strconv.Itoa(i))
	}
	mustApply(t, s, op.ZAdd, big...)
	mustApply(t, s, op.ZRangeStore, "r", "big", "0", "0", "0", "127", "0", "-1")
	if zenc(s, "r") != "listpack" {
		t.Fatal("128-member range:", zenc(s, "r"))
	}
	mustApply(t, s, op.ZRangeStore, "r", "big", "0", "0", "0", "128", "0", "-1")
	if zenc(s, "r") != "skiplist" {
		t.Fatal("129-member range:", zenc(s, "r"))
	}
	checkZset(t, zsetOf(t, s, "r"))
}

func TestZSet_NegativeZero(t *testing.T) {
	s := New(Options{})
	if v := mustApply(t, s, op.ZAdd, "lp", strconv.Itoa(op.ZAddIncr), "-0", "x"); !math.Signbit(v.(float64)) {
		t.Fatal("the reply keeps the computed -0")
	}
	sc, _, _ := s.ZScore(0, []byte("lp"), [][]byte{[]byte("x")}, t0)
	if math.Signbit(sc[0]) {
		t.Fatal("a listpack stores -0 as 0")
	}
	mustApply(t, s, op.ZAdd, "sl", "0", "1", strings.Repeat("x", 65), "-0", "x")
	sc, _, _ = s.ZScore(0, []byte("sl"), [][]byte{[]byte("x")}, t0)
	if !math.Signbit(sc[0]) {
		t.Fatal("a skiplist keeps -0")
	}
	mustApply(t, s, op.ZAdd, "sl", "0", "0", "x") // 0 == -0: no update
	sc, _, _ = s.ZScore(0, []byte("sl"), [][]byte{[]byte("x")}, t0)
	if !math.Signbit(sc[0]) {
		t.Fatal("ZADD 0 replaced -0")
	}
	// Snapshots and COPY keep the sign.
	v := zsetValue(zsetOf(t, s, "sl"))
	p, err := zsetOps.payload(v)
	if err != nil {
		t.Fatal(err)
	}
	back, err := zsetOps.fromPayload(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []value{back, zsetOps.clone(v)} {
		z := w.obj.(*zsetObj)
		checkZset(t, z)
		if !math.Signbit(z.dict["x"].score) || z.listpack {
			t.Fatal("restored copy lost -0 or the encoding")
		}
	}
}

func TestZSet_PayloadRoundTripAndCorruption(t *testing.T) {
	s := New(Options{})
	mustApply(t, s, op.ZAdd, "z", "0", "1", "a", "-inf", "b", "inf", "c", "2.5", "d", "2.5", "aa")
	v := zsetValue(zsetOf(t, s, "z"))
	p, _ := zsetOps.payload(v)
	back, err := zsetOps.fromPayload(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(zsetOps.digest(nil, back)) != string(zsetOps.digest(nil, v)) || zsetOps.encoding(back) != "listpack" {
		t.Fatal("round trip changed the value")
	}
	for i := range p {
		if _, err := zsetOps.fromPayload(p[:i]); err == nil {
			t.Fatalf("truncated at %d accepted", i)
		}
	}
	bad := slices.Clone(p)
	bad[0] = 7
	if _, err := zsetOps.fromPayload(bad); !errors.Is(err, ErrSnapshotCorrupt) {
		t.Fatal("bad flags accepted")
	}
	// Two members swapped: out of order.
	swapped := buildZset([]ZEntry{{"b", 2}, {"a", 1}}, true)
	sp, _ := zsetOps.payload(zsetValue(swapped))
	if _, err := zsetOps.fromPayload(sp); !errors.Is(err, ErrSnapshotCorrupt) {
		t.Fatal("out-of-order members accepted")
	}
}

func TestZSet_RangesAndLimits(t *testing.T) {
	s := New(Options{})
	mustApply(t, s, op.ZAdd, "z", "0", "1", "a", "2", "b", "2", "bb", "3", "c", "4", "d")
	names := func(es []ZEntry) string {
		var b []string
		for _, e := range es {
			b = append(b, e.Member)
		}
		return strings.Join(b, " ")
	}
	score := func(min, max string) ZScoreRange {
		r, ok := ParseScoreRange([]byte(min), []byte(max))
		if !ok {
			t.Fatal(min, max)
		}
		return r
	}
	lex := func(min, max string) ZLexRange {
		r, ok := ParseLexRange([]byte(min), []byte(max))
		if !ok {
			t.Fatal(min, max)
		}
		return r
	}
	cases := []struct {
		sp   ZRangeSpec
		want string
	}{
		{ZRangeSpec{Start: 1, Stop: -2, Count: -1}, "b bb c"},
		{ZRangeSpec{Start: 0, Stop: 1, Rev: true, Count: -1}, "d c"},
		{ZRangeSpec{Start: -1, Stop: -100, Count: -1}, ""},
		{ZRangeSpec{By: ZByScore, Score: score("(1", "3"), Count: -1}, "b bb c"},
		{ZRangeSpec{By: ZByScore, Score: score("(1", "3"), Rev: true, Offset: 1, Count: 1}, "bb"},
		{ZRangeSpec{By: ZByScore, Score: score("-inf", "+inf"), Offset: 4, Count: 10}, "d"},
		{ZRangeSpec{By: ZByScore, Score: score("-inf", "+inf"), Offset: 5, Count: 10}, ""},
		{ZRangeSpec{By: ZByScore, Score: score("-inf", "+inf"), Offset: -1, Count: 10}, ""},
		{ZRangeSpec{By: ZByScore, Score: score("2", "2"), Count: -1}, "b bb"},
		{ZRangeSpec{By: ZByScore, Score: score("(2", "2"), Count: -1}, ""},
		{ZRangeSpec{By: ZByLex, Lex: lex("[b", "(c"), Count: -1}, "b bb"},
		{ZRangeSpec{By: ZByLex, Lex: lex("-", "+"), Rev: true, Offset: 1, Count: 2}, "c bb"},
	}
	for _, c := range cases {
		es, err := s.ZRange(0, []byte("z"), &c.sp, t0)
		if err != nil || names(es) != c.want {
			t.Errorf("%+v: %q %v, want %q", c.sp, names(es), err, c.want)
		}
	}
}

func TestZSet_ParseLikeRedis(t *testing.T) {
	good := map[string]float64{
		"1": 1, "-1.5": -1.5, "+2": 2, "inf": math.Inf(1), "-Infinity": math.Inf(-1), "+INF": math.Inf(1),
		"0x10": 16, "0x1p4": 16, "0X.8": 0.5, "1e3": 1000, ".5": 0.5, "5.": 5, "4.9e-324": 5e-324, "1e-310": 1e-310,
	}
	for in, want := range good {
		if f, ok := ParseScore([]byte(in)); !ok || f != want {
			t.Errorf("ParseScore(%q) = %v %v, want %v", in, f, ok, want)
		}
	}
	for _, in := range []string{"", " 1", "1 ", "nan", "-nan", "1e400", "-1e400", "1e-400", "0x", "1e", "1x", "(1", "1\x00", "0x1p", "infinit", "--1", "1_0"} {
		if f, ok := ParseScore([]byte(in)); ok {
			t.Errorf("ParseScore(%q) = %v, want rejection", in, f)
		}
	}
	bounds := map[string]struct {
		f  float64
		ex bool
	}{
		"": {0, false}, "(": {0, true}, " 1": {1, false}, "(1e400": {math.Inf(1), true}, "1e-400": {0, false},
		"2\x00junk": {2, false}, "(-inf": {math.Inf(-1), true},
	}
	for in, want := range bounds {
		if f, ex, ok := parseScoreBound([]byte(in)); !ok || f != want.f || ex != want.ex {
			t.Errorf("parseScoreBound(%q) = %v %v %v", in, f, ex, ok)
		}
	}
	for _, in := range []string{"a", "1 ", " ", "[1", "nan", "(nan", "((1"} {
		if _, _, ok := parseScoreBound([]byte(in)); ok {
			t.Errorf("parseScoreBound(%q) accepted", in)
		}
	}
	for _, in := range []string{"-", "+", "[", "(", "[a", "(abc", "+\x00x"} {
		if _, ok := parseLexBound([]byte(in)); !ok {
			t.Errorf("parseLexBound(%q) rejected", in)
		}
	}
	for _, in := range []string{"", "a", "--", "+a", "]a"} {
		if _, ok := parseLexBound([]byte(in)); ok {
			t.Errorf("parseLexBound(%q) accepted", in)
		}
	}
}

// TestZSet_Events checks the change feed: Redis's event names, "del" after
// the event that emptied a key, nothing for a no-op.
func TestZSet_Events(t *testing.T) {
	s := New(Options{})
	var got []string
	s.SetListener(func(ev *Event) int64 {
		got = append(got, ev.Name+":"+string(ev.Key))
		return 0
	})
	step := func(want string, code op.Code, args ...string) {
		t.Helper()
		got = nil
		if _, err := apply(t, s, code, t0, args...); err != nil {
			t.Fatal(err)
		}
		if g := strings.Join(got, " "); g != want {
			t.Fatalf("%v %q: events %q, want %q", code, args, g, want)
		}
	}
	incr := strconv.Itoa(op.ZAddIncr)
	step("new:z zadd:z", op.ZAdd, "z", "0", "1", "a", "2", "b", "3", "c")
	step("", op.ZAdd, "z", "0", "1", "a")
	step("zadd:z", op.ZAdd, "z", "0", "5", "a")
	step("zincr:z", op.ZAdd, "z", incr, "1", "a")
	step("", op.ZAdd, "z", strconv.Itoa(op.ZAddIncr|op.ZAddNX), "1", "a")
	step("zrem:z", op.ZRem, "z", "a", "nope")
	step("", op.ZRem, "z", "nope")
	step("zremrangebyscore:z", op.ZRemRange, "z", "1", "2", "2")
	step("", op.ZRemRange, "z", "0", "5", "9")
	step("zpopmax:z del:z", op.ZMPop, "1", "5", "nokey", "z")
	step("", op.ZMPop, "0", "1", "z")
	step("new:a zadd:a", op.ZAdd, "a", "0", "1", "x", "2", "y")
	step("zpopmin:a", op.ZMPop, "0", "1", "a")
	step("new:d zrangestore:d", op.ZRangeStore, "d", "a", "0", "0", "0", "-1", "0", "-1")
	step("zunionstore:d", op.ZUnionStore, "d", "0", "a", "1", "nokey", "2")
	step("zinterstore:d", op.ZInterStore, "d", "0", "a", "1")
	step("del:d", op.ZDiffStore, "d", "0", "a", "1", "a", "1")
	step("", op.ZDiffStore, "d", "0", "a", "1", "a", "1")
	step("zremrangebylex:a del:a", op.ZRemRange, "a", "2", "-", "+")
	step("new:b zadd:b", op.ZAdd, "b", "0", "1", "x")
	step("zremrangebyrank:b del:b", op.ZRemRange, "b", "0", "0", "-1")
	step("new:b zincr:b", op.ZAdd, "b", incr, "1", "x")
	step("zrem:b del:b", op.ZRem, "b", "x", "y")
}

// TestZSet_ReadsStayValid: what a read returned is not changed by later
// writes to the same sorted set.
func TestZSet_ReadsStayValid(t *testing.T) {
	s := New(Options{})
	mustApply(t, s, op.ZAdd, "z", "0", "1", "a", "2", "b")
	es, _ := s.ZRange(0, []byte("z"), &ZRangeSpec{Start: 0, Stop: -1, Count: -1}, t0)
	mustApply(t, s, op.ZAdd, "z", "0", "10", "a", "0", "c")
	mustApply(t, s, op.ZRem, "z", "b")
	if es[0] != (ZEntry{"a", 1}) || es[1] != (ZEntry{"b", 2}) {
		t.Fatal("read changed by later writes:", es)
	}
}

func TestZSet_RandMemberAndScan(t *testing.T) {
	s := New(Options{})
	args := []string{"z", "0"}
	for i := range 300 {
		args = append(args, strconv.Itoa(i), "m"+strconv.Itoa(i))
	}
	mustApply(t, s, op.ZAdd, args...)
	r := rand.New(rand.NewPCG(1, 2))
	for _, count := range []int64{1, 5, 150, 299} {
		es, found, err := s.ZRandMember(0, []byte("z"), t0, count, r.Uint64)
		seen := map[string]bool{}
		for _, e := range es {
			if seen[e.Member] || "m"+strconv.Itoa(int(e.Score)) != e.Member {
				t.Fatalf("count %d: repeated or wrong %v", count, e)
			}
			seen[e.Member] = true
		}
		if !found || err != nil || int64(len(es)) != count {
			t.Fatalf("count %d: %d members", count, len(es))
		}
	}
	es, _, _ := s.ZRandMember(0, []byte("z"), t0, 1000, r.Uint64)
	if len(es) != 300 || es[0].Member != "m299" || es[299].Member != "m0" {
		t.Fatal("whole set not in descending order")
	}
	es, _, _ = s.ZRandMember(0, []byte("z"), t0, -1000, r.Uint64)
	es2, _, _ := s.ZRandMember(0, []byte("z"), t0, -5, r.Uint64)
	if len(es) != 1000 || len(es2) != 5 {
		t.Fatal("repeating counts")
	}
	// A skiplist is paged by hash; every member exactly once.
	seen := map[string]int{}
	cursor := uint64(0)
	for pages := 0; ; pages++ {
		next, page, err := s.ZScan(0, []byte("z"), t0, cursor, nil, 7)
		if err != nil || pages > 1000 {
			t.Fatal(err, pages)
		}
		for _, e := range page {
			seen[e.Member]++
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	if len(seen) != 300 {
		t.Fatalf("scan saw %d members", len(seen))
	}
	for m, n := range seen {
		if n != 1 {
			t.Fatalf("%s seen %d times", m, n)
		}
	}
}

// TestZSet_LexOnSkiplist checks lex ranges of a big (skiplist) sorted set,
// searched by rank, against a plain filter.
func TestZSet_LexOnSkiplist(t *testing.T) {
	s := New(Options{})
	args := []string{"z", "0"}
	var all []string
	for i := range 300 {
		m := fmt.Sprintf("%c%03d", 'a'+i%7, i)
		all = append(all, m)
		args = append(args, "0", m)
	}
	slices.Sort(all)
	mustApply(t, s, op.ZAdd, args...)
	if zenc(s, "z") != "skiplist" {
		t.Fatal(zenc(s, "z"))
	}
	r := rand.New(rand.NewPCG(3, 3))
	bound := func() string {
		switch r.IntN(8) {
		case 0:
			return "-"
		case 1:
			return "+"
		case 2, 3:
			return "(" + all[r.IntN(len(all))][:1+r.IntN(3)]
		}
		return "[" + all[r.IntN(len(all))][:1+r.IntN(4)]
	}
	for range 2000 {
		lr, ok := ParseLexRange([]byte(bound()), []byte(bound()))
		if !ok {
			t.Fatal("bound")
		}
		var want []string
		for _, m := range all {
			if lr.gteMin(m) && lr.lteMax(m) {
				want = append(want, m)
			}
		}
		sp := ZRangeSpec{By: ZByLex, Lex: lr, Count: -1, Rev: r.IntN(2) == 0}
		es, _ := s.ZRange(0, []byte("z"), &sp, t0)
		var got []string
		for _, e := range es {
			got = append(got, e.Member)
		}
		if sp.Rev {
			slices.Reverse(got)
		}
		n, _ := s.ZCount(0, []byte("z"), &sp, t0)
		if !slices.Equal(got, want) || n != int64(len(want)) {
			t.Fatalf("%+v: got %d %v, count %d, want %v", lr, len(got), got, n, want)
		}
	}
}
