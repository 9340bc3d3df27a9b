package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/skiffdb/skiff/internal/op"
)

func lrange(t *testing.T, s *Store, key string) string {
	t.Helper()
	elems, err := s.ListRange(0, []byte(key), 0, -1, t0)
	if err != nil {
		t.Fatal(err)
	}
	parts := make([]string, len(elems))
	for i, e := range elems {
		parts[i] = string(e)
	}
	return strings.Join(parts, " ")
}

func mustApply(t *testing.T, s *Store, code op.Code, args ...string) any {
	t.Helper()
	v, err := apply(t, s, code, t0, args...)
	if err != nil {
		t.Fatalf("%v %q: %v", code, args, err)
	}
	return v
}

// TestListDeque checks the ring buffer against a slice model through
// growth, wrap-around and shrinking.
func TestListDeque(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	l := &list{}
	var model []string
	maxLen, shrunk := 0, false
	for i := range 20000 {
		v := strconv.Itoa(i)
		// Phases that grow then drain, so shrinking is exercised too.
		grow := (i/1000)%2 == 0
		p := rng.IntN(10)
		if !grow { // drain: pops dominate
			p = []int{0, 3, 6, 6, 6, 8, 8, 8, 9, 9}[p]
		}
		switch {
		case p < 3:
			l.PushFront([]byte(v))
			model = append([]string{v}, model...)
		case p < 6:
			l.PushBack([]byte(v))
			model = append(model, v)
		case p < 8:
			if len(model) > 0 {
				if got := string(l.PopFront()); got != model[0] {
					t.Fatalf("step %d: PopFront = %q, want %q", i, got, model[0])
				}
				model = model[1:]
			}
		case p < 9:
			if len(model) > 0 {
				if got := string(l.PopBack()); got != model[len(model)-1] {
					t.Fatalf("step %d: PopBack = %q, want %q", i, got, model[len(model)-1])
				}
				model = model[:len(model)-1]
			}
		}
		if p == 9 && len(model) > 0 {
			j := rng.IntN(len(model))
			l.set(j, []byte(v))
			model[j] = v
		}
		if l.Len() != len(model) {
			t.Fatalf("step %d: Len = %d, want %d", i, l.Len(), len(model))
		}
		if len(l.buf) > 16 && l.Len() < len(l.buf)/8 {
			t.Fatalf("step %d: capacity %d for %d elements never shrank", i, len(l.buf), l.Len())
		}
		maxLen = max(maxLen, l.Len())
		if maxLen > 100 && len(l.buf) < maxLen/2 {
			shrunk = true
		}
		if i%997 == 0 {
			for j, want := range model {
				if got := string(l.At(j)); got != want {
					t.Fatalf("step %d: At(%d) = %q, want %q", i, j, got, want)
				}
			}
		}
	}
	if !shrunk {
		t.Fatal("the buffer never shrank")
	}
}

func TestList_PushPopAndEmptyDeletes(t *testing.T) {
	s := New(Options{})
	if v := mustApply(t, s, op.ListPush, "l", "0", "0", "a", "b", "c"); v != int64(3) {
		t.Fatalf("LPUSH = %v", v)
	}
	if v := mustApply(t, s, op.ListPush, "l", "1", "1", "d"); v != int64(4) {
		t.Fatalf("RPUSHX = %v", v)
	}
	if v := mustApply(t, s, op.ListPush, "nokey", "1", "1", "d"); v != int64(0) {
		t.Fatalf("RPUSHX on absent key = %v", v)
	}
	if got := lrange(t, s, "l"); got != "c b a d" {
		t.Fatalf("LRANGE = %q", got)
	}
	if v := mustApply(t, s, op.ListPop, "l", "1", "-1"); string(v.([]byte)) != "d" {
		t.Fatalf("RPOP = %q", v)
	}
	v := mustApply(t, s, op.ListPop, "l", "0", "10")
	if got := fmt.Sprintf("%q", v); got != `["c" "b" "a"]` {
		t.Fatalf("LPOP 10 = %s", got)
	}
	if s.Type(0, []byte("l"), t0) != TypeNone {
		t.Fatal("an emptied list must be deleted")
	}
	if v := mustApply(t, s, op.ListPop, "l", "0", "2"); v != nil {
		t.Fatalf("LPOP on absent key = %v", v)
	}
}

func TestList_WrongType(t *testing.T) {
	s := New(Options{})
	mustApply(t, s, op.Set, "s", "v", "0", "0")
	mustApply(t, s, op.ListPush, "l", "1", "0", "a")
	cases := []struct {
		code op.Code
		args []string
	}{
		{op.ListPush, []string{"s", "0", "0", "x"}},
		{op.ListPop, []string{"s", "0", "-1"}},
		{op.ListSet, []string{"s", "0", "x"}},
		{op.ListInsert, []string{"s", "1", "a", "x"}},
		{op.ListRem, []string{"s", "0", "a"}},
		{op.ListTrim, []string{"s", "0", "1"}},
		{op.ListMove, []string{"s", "l", "0", "0"}},
		{op.ListMove, []string{"l", "s", "0", "0"}},
		{op.ListMPop, []string{"0", "1", "nokey", "s", "l"}},
	}
	for _, c := range cases {
		if _, err := apply(t, s, c.code, t0, c.args...); !errors.Is(err, ErrWrongType) {
			t.Errorf("%v %q: err = %v, want WRONGTYPE", c.code, c.args, err)
		}
	}
	if got := lrange(t, s, "l"); got != "a" {
		t.Fatalf("a failed LMOVE changed the source: %q", got)
	}
	if _, err := s.ListLen(0, []byte("s"), t0); !errors.Is(err, ErrWrongType) {
		t.Errorf("ListLen: %v", err)
	}
	if _, err := s.ListRange(0, []byte("s"), 0, -1, t0); !errors.Is(err, ErrWrongType) {
		t.Errorf("ListRange: %v", err)
	}
	if _, _, err := s.ListIndex(0, []byte("s"), 0, t0); !errors.Is(err, ErrWrongType) {
		t.Errorf("ListIndex: %v", err)
	}
	if _, err := s.ListPos(0, []byte("s"), []byte("a"), 1, 1, 0, t0); !errors.Is(err, ErrWrongType) {
		t.Errorf("ListPos: %v", err)
	}
}

func TestList_SetInsertRemTrim(t *testing.T) {
	s := New(Options{})
	mustApply(t, s, op.ListPush, "l", "1", "0", "a", "b", "a", "c", "a")
	if _, err := apply(t, s, op.ListSet, t0, "nokey", "0", "x"); !errors.Is(err, ErrNoSuchKey) {
		t.Fatalf("LSET absent: %v", err)
	}
	if _, err := apply(t, s, op.ListSet, t0, "l", "5", "x"); !errors.Is(err, ErrIndexOutOfRange) {
		t.Fatalf("LSET out of range: %v", err)
	}
	if _, err := apply(t, s, op.ListSet, t0, "l", "x", "x"); !errors.Is(err, ErrNotInteger) {
		t.Fatalf("LSET bad index: %v", err)
	}
	mustApply(t, s, op.ListSet, "l", "-1", "z")
	if v := mustApply(t, s, op.ListInsert, "l", "1", "c", "B"); v != int64(6) {
		t.Fatalf("LINSERT = %v", v)
	}
	if v := mustApply(t, s, op.ListInsert, "l", "0", "z", "end"); v != int64(7) {
		t.Fatalf("LINSERT after last = %v", v)
	}
	if v := mustApply(t, s, op.ListInsert, "l", "1", "nope", "x"); v != int64(-1) {
		t.Fatalf("LINSERT no pivot = %v", v)
	}
	if got := lrange(t, s, "l"); got != "a b a B c z end" {
		t.Fatalf("after LSET/LINSERT: %q", got)
	}
	if v := mustApply(t, s, op.ListRem, "l", "-1", "a"); v != int64(1) {
		t.Fatalf("LREM -1 = %v", v)
	}
	if got := lrange(t, s, "l"); got != "a b B c z end" {
		t.Fatalf("after LREM -1: %q", got)
	}
	mustApply(t, s, op.ListTrim, "l", "1", "-2")
	if got := lrange(t, s, "l"); got != "b B c z" {
		t.Fatalf("after LTRIM: %q", got)
	}
	mustApply(t, s, op.ListTrim, "l", "3", "1")
	if s.Type(0, []byte("l"), t0) != TypeNone {
		t.Fatal("LTRIM to nothing must delete the key")
	}
}

func TestList_MoveAndMPop(t *testing.T) {
	s := New(Options{})
	mustApply(t, s, op.ListPush, "a", "1", "0", "1", "2", "3")
	if v := mustApply(t, s, op.ListMove, "a", "a", "0", "1"); string(v.([]byte)) != "1" {
		t.Fatalf("LMOVE rotate = %q", v)
	}
	if got := lrange(t, s, "a"); got != "2 3 1" {
		t.Fatalf("after rotate: %q", got)
	}
	mustApply(t, s, op.ListMove, "a", "b", "1", "0")
	mustApply(t, s, op.ListMove, "a", "b", "1", "0")
	mustApply(t, s, op.ListMove, "a", "b", "1", "0")
	if s.Type(0, []byte("a"), t0) != TypeNone || lrange(t, s, "b") != "2 3 1" {
		t.Fatalf("after moving everything: a=%v b=%q", s.Type(0, []byte("a"), t0), lrange(t, s, "b"))
	}
	if v := mustApply(t, s, op.ListMove, "a", "b", "1", "0"); v != nil {
		t.Fatalf("LMOVE from absent = %v", v)
	}
	v := mustApply(t, s, op.ListMPop, "1", "2", "nokey", "b")
	if got := fmt.Sprintf("%q", v); got != `["b" "1" "3"]` {
		t.Fatalf("LMPOP = %s", got)
	}
	if v := mustApply(t, s, op.ListMPop, "0", "1", "nokey", "other"); v != nil {
		t.Fatalf("LMPOP none = %v", v)
	}
}

func TestList_Pos(t *testing.T) {
	s := New(Options{})
	mustApply(t, s, op.ListPush, "l", "1", "0", "a", "b", "c", "1", "2", "3", "c", "c")
	cases := []struct {
		rank, count, maxLen int64
		want                string
	}{
		{1, 1, 0, "[2]"},
		{2, 1, 0, "[6]"},
		{-1, 1, 0, "[7]"},
		{-3, 1, 0, "[2]"},
		{4, 1, 0, "[]"},
		{1, 0, 0, "[2 6 7]"},
		{-1, 2, 0, "[7 6]"},
		{1, 0, 3, "[2]"},
		{1, 1, 2, "[]"},
		{-9223372036854775808, 1, 0, "[7]"},
	}
	for _, c := range cases {
		pos, err := s.ListPos(0, []byte("l"), []byte("c"), c.rank, c.count, c.maxLen, t0)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(pos); got != c.want {
			t.Errorf("LPOS RANK %d COUNT %d MAXLEN %d = %s, want %s", c.rank, c.count, c.maxLen, got, c.want)
		}
	}
}

func TestList_Encoding(t *testing.T) {
	s := New(Options{})
	mustApply(t, s, op.ListPush, "l", "1", "0", "a")
	enc := func() string {
		info, _ := s.Object(0, []byte("l"), t0)
		return info.Encoding
	}
	if enc() != "listpack" {
		t.Fatalf("small list: %s", enc())
	}
	mustApply(t, s, op.ListPush, "l", "1", "0", strings.Repeat("x", 65))
	if enc() != "quicklist" {
		t.Fatalf("long element: %s", enc())
	}
	mustApply(t, s, op.ListPop, "l", "1", "-1")
	for range 128 {
		mustApply(t, s, op.ListPush, "l", "1", "0", "y")
	}
	if enc() != "quicklist" {
		t.Fatalf("129 entries: %s", enc())
	}
}

// TestList_CopyIsDeep: COPY's clone shares no container with the source.
func TestList_CopyIsDeep(t *testing.T) {
	s := New(Options{})
	mustApply(t, s, op.ListPush, "a", "1", "0", "1", "2", "3")
	mustApply(t, s, op.Copy, "a", "b", "0", "0")
	mustApply(t, s, op.ListSet, "a", "0", "X")
	mustApply(t, s, op.ListPop, "a", "1", "-1")
	if got := lrange(t, s, "b"); got != "1 2 3" {
		t.Fatalf("copy changed with its source: %q", got)
	}
}

// listOnlyOps generates list operations (and a few strings, for WRONGTYPE)
// over a small keyspace.
func listOnlyOps(seed uint64, n int) []op.Op {
	g := newOpGen(seed, 20)
	out := make([]op.Op, n)
	for i := range out {
		o := op.Op{DB: g.rng.IntN(2), Time: t0 + int64(i)}
		if g.rng.IntN(50) == 0 {
			o.Code, o.Args = op.Set, [][]byte{g.key(), g.val(), []byte("0"), []byte("0")}
		} else {
			genList(g, &o)
		}
		out[i] = o
	}
	return out
}

// TestList_Determinism: two stores applying the same operations (one of them
// through the log encoding) end with equal digests, and a snapshot of the
// result restores to the same state.
func TestList_Determinism(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		ops := listOnlyOps(seed, 20000)
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
			t.Fatalf("seed %d: no lists left to compare", seed)
		}
		checkSame(t, "restored", restored(t, snapshotBytes(t, a)), a)
	}
}

// TestList_ReadersKeepTheirView: a range read stays unchanged while apply
// keeps mutating the list (run with -race).
func TestList_ReadersKeepTheirView(t *testing.T) {
	s := New(Options{})
	for i := range 100 {
		mustApply(t, s, op.ListPush, "l", "1", "0", strconv.Itoa(i))
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			elems, err := s.ListRange(0, []byte("l"), 0, -1, t0)
			if err != nil {
				t.Error(err)
				return
			}
			snap := make([][]byte, len(elems))
			for i, e := range elems {
				snap[i] = bytes.Clone(e)
			}
			for range 10 {
				for i := range elems {
					if !bytes.Equal(elems[i], snap[i]) {
						t.Error("a read result changed under a concurrent apply")
						return
					}
				}
			}
		}
	}()
	for i := range 5000 {
		v := strconv.Itoa(i)
		switch i % 4 {
		case 0:
			mustApply(t, s, op.ListPush, "l", "0", "0", v)
		case 1:
			mustApply(t, s, op.ListPop, "l", "1", "-1")
		case 2:
			mustApply(t, s, op.ListSet, "l", "3", v)
		default:
			mustApply(t, s, op.ListMove, "l", "l", "0", "1")
		}
	}
	close(stop)
	wg.Wait()
}

func TestList_PayloadRejectsCorrupt(t *testing.T) {
	good, err := listOps.payload(listValue(newList([][]byte{[]byte("a"), []byte("bc")})))
	if err != nil {
		t.Fatal(err)
	}
	v, err := listOps.fromPayload(good)
	if err != nil || fmt.Sprintf("%q", v.obj.(*list).Elems()) != `["a" "bc"]` {
		t.Fatalf("round trip: %v %v", v, err)
	}
	for _, p := range [][]byte{nil, {0}, good[:len(good)-1], append(append([]byte(nil), good...), 'x'), {200, 1}} {
		if _, err := listOps.fromPayload(p); !errors.Is(err, ErrSnapshotCorrupt) {
			t.Errorf("payload %q: err = %v", p, err)
		}
	}
}
