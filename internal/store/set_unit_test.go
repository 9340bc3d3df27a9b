package store

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/skiffdb/skiff/internal/op"
)

func smembers(t *testing.T, s *Store, key string) string {
	t.Helper()
	ms, err := s.SMembers(0, []byte(key), t0)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(ms, " ")
}

func setEnc(s *Store, key string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return encodingOf(s.dbs[0].dict.find([]byte(key)))
}

func TestSet_AddRemOrder(t *testing.T) {
	s := New(Options{})
	if v := mustApply(t, s, op.SAdd, "s", "c", "a", "b", "a"); v != int64(3) {
		t.Fatalf("SADD added %v", v)
	}
	if got := smembers(t, s, "s"); got != "c a b" {
		t.Fatalf("listpack order %q", got)
	}
	if v := mustApply(t, s, op.SRem, "s", "a", "zz"); v != int64(1) {
		t.Fatalf("SREM %v", v)
	}
	mustApply(t, s, op.SAdd, "s", "a")
	if got := smembers(t, s, "s"); got != "c b a" {
		t.Fatalf("order after re-add %q", got)
	}
	if v := mustApply(t, s, op.SRem, "s", "a", "b", "c"); v != int64(3) {
		t.Fatal(v)
	}
	if s.Type(0, []byte("s"), t0) != TypeNone {
		t.Fatal("emptied set not deleted")
	}
	mustApply(t, s, op.Set, "str", "v", "0", "0")
	for _, c := range []op.Code{op.SAdd, op.SRem, op.SPop} {
		if _, err := apply(t, s, c, t0, "str", "a"); !errors.Is(err, ErrWrongType) {
			t.Fatalf("%v on string: %v", c, err)
		}
	}
	if _, err := s.SCard(0, []byte("str"), t0); !errors.Is(err, ErrWrongType) {
		t.Fatal("SCard on string")
	}
}

func TestSet_Encodings(t *testing.T) {
	s := New(Options{})
	mustApply(t, s, op.SAdd, "i", "3", "1", "2")
	if setEnc(s, "i") != "intset" || smembers(t, s, "i") != "1 2 3" {
		t.Fatal(setEnc(s, "i"), smembers(t, s, "i"))
	}
	mustApply(t, s, op.SAdd, "i", "x")
	if setEnc(s, "i") != "listpack" || smembers(t, s, "i") != "1 2 3 x" {
		t.Fatal(setEnc(s, "i"), smembers(t, s, "i"))
	}
	for i := range 125 {
		mustApply(t, s, op.SAdd, "i", "y"+strconv.Itoa(i))
	}
	if setEnc(s, "i") != "hashtable" {
		t.Fatal("129 members:", setEnc(s, "i"))
	}
	for i := range 120 {
		mustApply(t, s, op.SRem, "i", "y"+strconv.Itoa(i))
	}
	if setEnc(s, "i") != "hashtable" {
		t.Fatal("converted back:", setEnc(s, "i"))
	}
	mustApply(t, s, op.SAdd, "long", "a", strings.Repeat("x", 65))
	if setEnc(s, "long") != "hashtable" {
		t.Fatal("long member:", setEnc(s, "long"))
	}
	for i := range 513 {
		mustApply(t, s, op.SAdd, "ints", strconv.Itoa(i))
	}
	if setEnc(s, "ints") != "hashtable" {
		t.Fatal("513 ints:", setEnc(s, "ints"))
	}
	mustApply(t, s, op.SAdd, "n", "007")
	if setEnc(s, "n") != "listpack" {
		t.Fatal("non-canonical integer:", setEnc(s, "n"))
	}
}

func TestSet_MoveAndStore(t *testing.T) {
	s := New(Options{})
	mustApply(t, s, op.SAdd, "a", "1", "2", "3")
	mustApply(t, s, op.SAdd, "b", "2", "3", "4")
	if v := mustApply(t, s, op.SMove, "a", "c", "1"); v != int64(1) {
		t.Fatal(v)
	}
	if v := mustApply(t, s, op.SMove, "a", "c", "1"); v != int64(0) {
		t.Fatal(v)
	}
	if got := smembers(t, s, "c"); got != "1" {
		t.Fatal(got)
	}
	if v := mustApply(t, s, op.SInterStore, "d", "a", "b"); v != int64(2) || smembers(t, s, "d") != "2 3" {
		t.Fatal(v, smembers(t, s, "d"))
	}
	if v := mustApply(t, s, op.SUnionStore, "d", "a", "b", "c"); v != int64(4) || smembers(t, s, "d") != "1 2 3 4" {
		t.Fatal(v, smembers(t, s, "d"))
	}
	if v := mustApply(t, s, op.SDiffStore, "d", "b", "a"); v != int64(1) || smembers(t, s, "d") != "4" {
		t.Fatal(v, smembers(t, s, "d"))
	}
	if v := mustApply(t, s, op.SInterStore, "d", "a", "missing"); v != int64(0) || s.Type(0, []byte("d"), t0) != TypeNone {
		t.Fatal("empty store result kept dst")
	}
	n, _ := s.SetAlgebra(0, [][]byte{[]byte("a"), []byte("b")}, SetInter, 1, t0)
	if len(n) != 1 {
		t.Fatal("limit", n)
	}
}

// TestSet_SPopReplicatedAsRemovals: SPOP is chosen on the read path and
// replicated as the removal of the chosen members, so replicas that apply
// the op agree whatever their own randomness.
func TestSet_SPopReplicatedAsRemovals(t *testing.T) {
	leader, follower := New(Options{}), New(Options{})
	var args []string
	for i := range 50 {
		args = append(args, "m"+strconv.Itoa(i))
	}
	both := func(code op.Code, a ...string) any {
		mustApply(t, follower, code, a...)
		return mustApply(t, leader, code, a...)
	}
	both(op.SAdd, append([]string{"s"}, args...)...)
	rng := rand.New(rand.NewPCG(1, 2))
	for leader.DBSize(0) > 0 {
		ms, found, err := leader.SRandMember(0, []byte("s"), t0, 7, rng.Uint64)
		if err != nil || !found {
			t.Fatal(err, found)
		}
		got := both(op.SPop, append([]string{"s"}, ms...)...).([][]byte)
		if len(got) != len(ms) {
			t.Fatalf("popped %d of %d", len(got), len(ms))
		}
		for i := range got {
			if string(got[i]) != ms[i] {
				t.Fatal("reply is not the chosen members")
			}
		}
		if leader.Digest() != follower.Digest() {
			t.Fatal("replicas diverged")
		}
	}
	if follower.DBSize(0) != 0 {
		t.Fatal("follower kept the set")
	}
	// Members gone meanwhile are simply not removed again.
	both(op.SAdd, "s", "a")
	if got := both(op.SPop, "s", "zz").([][]byte); len(got) != 0 {
		t.Fatal(got)
	}
}

func setOnlyOps(seed uint64, n int) []op.Op {
	g := newOpGen(seed, 20)
	out := make([]op.Op, n)
	for i := range out {
		o := op.Op{DB: g.rng.IntN(2), Time: t0 + int64(i)}
		if g.rng.IntN(50) == 0 {
			o.Code, o.Args = op.Set, [][]byte{g.key(), g.val(), []byte("0"), []byte("0")}
		} else {
			genSet(g, &o)
		}
		out[i] = o
	}
	return out
}

// TestSet_Determinism: two stores applying the same operations (one through
// the log encoding) end with equal digests, and a snapshot restores it.
func TestSet_Determinism(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		ops := setOnlyOps(seed, 20000)
		a, b := newSnapStore(), newSnapStore()
		applyOps(a, ops)
		for i := range ops {
			dec, _, err := op.Decode(op.Encode(&ops[i]))
			if err != nil {
				t.Fatal(err)
			}
			b.Apply(&dec)
		}
		if a.Digest() != b.Digest() {
			t.Fatalf("seed %d: digests differ", seed)
		}
		if a.DBSize(0)+a.DBSize(1) == 0 {
			t.Fatalf("seed %d: no sets left to compare", seed)
		}
		checkSame(t, "restored", restored(t, snapshotBytes(t, a)), a)
	}
}

func TestSet_ScanBig(t *testing.T) {
	s := New(Options{})
	want := map[string]bool{}
	for i := range 1000 {
		m := "k" + strconv.Itoa(i)
		mustApply(t, s, op.SAdd, "s", m)
		want[m] = true
	}
	var cursor uint64
	seen := map[string]int{}
	for {
		next, ms, err := s.SScan(0, []byte("s"), t0, cursor, nil, 37)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			seen[m]++
		}
		if next == 0 {
			break
		}
		cursor = next
		// Mutations between pages do not disturb members present throughout.
		mustApply(t, s, op.SAdd, "s", "new"+strconv.FormatUint(next, 10))
	}
	for m := range want {
		if seen[m] != 1 {
			t.Fatalf("%s seen %d times", m, seen[m])
		}
	}
}

func TestSet_CorruptPayload(t *testing.T) {
	good, _ := setOps.payload(setValue(func() *setObj {
		o := newIntsetSet()
		o.add([]byte("1"))
		o.add([]byte("2"))
		return o
	}()))
	if _, err := setOps.fromPayload(good); err != nil {
		t.Fatal(err)
	}
	bad := [][]byte{
		nil,
		{3, 1, 1, '1'},
		{0, 0},
		{0, 1, 1, 'x'},         // non-integer in intset
		{1, 2, 1, 'a', 1, 'a'}, // duplicate
		{1, 1, 1, 'a', 9},      // trailing
		{1, 2, 1, 'a', 5, 'b'}, // truncated
		slices.Concat(good, []byte{0}),
	}
	for i, p := range bad {
		if _, err := setOps.fromPayload(p); !errors.Is(err, ErrSnapshotCorrupt) {
			t.Fatalf("case %d: %v", i, err)
		}
	}
}
