package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/skiffdb/skiff/internal/op"
)

func hgetall(t *testing.T, s *Store, key string) string {
	t.Helper()
	names, vals, err := s.HGetAll(0, []byte(key), t0, true, true)
	if err != nil {
		t.Fatal(err)
	}
	out := ""
	for i := range names {
		out += names[i] + "=" + string(vals[i]) + " "
	}
	return out
}

func TestHash_SetGetDelOrder(t *testing.T) {
	s := New(Options{})
	if v, _ := apply(t, s, op.HSet, t0, "h", "c", "1", "a", "2", "b", "3", "a", "4"); v != int64(3) {
		t.Fatalf("HSET added %v", v)
	}
	if got := hgetall(t, s, "h"); got != "c=1 a=4 b=3 " {
		t.Fatalf("order %q", got)
	}
	if v, _ := apply(t, s, op.HDel, t0, "h", "a", "zz"); v != int64(1) {
		t.Fatalf("HDEL %v", v)
	}
	apply(t, s, op.HSet, t0, "h", "a", "5")
	if got := hgetall(t, s, "h"); got != "c=1 b=3 a=5 " {
		t.Fatalf("order after delete/re-add %q", got)
	}
	if v, _ := apply(t, s, op.HSetNX, t0, "h", "a", "x"); v != int64(0) {
		t.Fatal("HSETNX overwrote")
	}
	if v, _ := apply(t, s, op.HDel, t0, "h", "a", "b", "c"); v != int64(3) {
		t.Fatalf("HDEL %v", v)
	}
	if s.Type(0, []byte("h"), t0) != TypeNone {
		t.Fatal("emptied hash not deleted")
	}
	apply(t, s, op.Set, t0, "str", "v", "0", "0")
	for _, c := range []op.Code{op.HSet, op.HSetNX, op.HIncrBy} {
		if _, err := apply(t, s, c, t0, "str", "f", "1"); !errors.Is(err, ErrWrongType) {
			t.Fatalf("%v on string: %v", c, err)
		}
	}
	if _, _, err := s.HGet(0, []byte("str"), []byte("f"), t0); !errors.Is(err, ErrWrongType) {
		t.Fatal("HGet on string")
	}
}

func TestHash_CompactionKeepsOrder(t *testing.T) {
	s := New(Options{})
	var want []string
	for i := range 100 {
		apply(t, s, op.HSet, t0, "h", "f"+strconv.Itoa(i), "v")
	}
	for i := range 100 {
		if i%3 != 0 {
			apply(t, s, op.HDel, t0, "h", "f"+strconv.Itoa(i))
		} else {
			want = append(want, "f"+strconv.Itoa(i))
		}
	}
	names, _, _ := s.HGetAll(0, []byte("h"), t0, true, false)
	if !slices.Equal(names, want) {
		t.Fatalf("got %v", names)
	}
	for _, f := range want {
		if _, ok, _ := s.HGet(0, []byte("h"), []byte(f), t0); !ok {
			t.Fatalf("lost %s", f)
		}
	}
}

func TestHash_Encoding(t *testing.T) {
	s := New(Options{})
	apply(t, s, op.HSet, t0, "h", "f", string(make([]byte, 64)))
	enc := func() string {
		s.mu.RLock()
		defer s.mu.RUnlock()
		return encodingOf(s.dbs[0].dict.find([]byte("h")))
	}
	if enc() != "listpack" {
		t.Fatal(enc())
	}
	for i := range 511 {
		apply(t, s, op.HSet, t0, "h", "f"+strconv.Itoa(i), "v")
	}
	if enc() != "listpack" {
		t.Fatal("512 fields:", enc())
	}
	apply(t, s, op.HSet, t0, "h", "f511", "v")
	if enc() != "hashtable" {
		t.Fatal("513 fields:", enc())
	}
	for i := range 500 {
		apply(t, s, op.HDel, t0, "h", "f"+strconv.Itoa(i))
	}
	if enc() != "hashtable" {
		t.Fatal("conversion back:", enc())
	}
}

func TestHash_Counters(t *testing.T) {
	s := New(Options{})
	if v, _ := apply(t, s, op.HIncrBy, t0, "h", "n", "-5"); v != int64(-5) {
		t.Fatal(v)
	}
	apply(t, s, op.HSet, t0, "h", "max", "9223372036854775807", "s", "abc", "inf", "inf")
	if _, err := apply(t, s, op.HIncrBy, t0, "h", "max", "1"); !errors.Is(err, ErrOverflow) {
		t.Fatal(err)
	}
	if _, err := apply(t, s, op.HIncrBy, t0, "h", "s", "1"); err != ErrHashNotInteger {
		t.Fatal(err)
	}
	if _, err := apply(t, s, op.HIncrByFloat, t0, "h", "s", "1"); err != ErrHashNotFloat {
		t.Fatal(err)
	}
	if _, err := apply(t, s, op.HIncrByFloat, t0, "h", "inf", "1"); !errors.Is(err, ErrNaN) {
		t.Fatal(err)
	}
	apply(t, s, op.HIncrByFloat, t0, "h", "f", "0.1")
	if v, _ := apply(t, s, op.HIncrByFloat, t0, "h", "f", "0.2"); string(v.([]byte)) != "0.3" {
		t.Fatalf("%s", v)
	}
	if _, err := apply(t, s, op.HIncrByFloat, t0, "h", "f", "inf"); !errors.Is(err, ErrMalformedOp) {
		t.Fatal(err)
	}
}

func TestHash_RandField(t *testing.T) {
	s := New(Options{})
	for i := range 20 {
		apply(t, s, op.HSet, t0, "h", "f"+strconv.Itoa(i), "v"+strconv.Itoa(i))
	}
	rnd := rand.New(rand.NewPCG(1, 2)).Uint64
	for _, count := range []int64{1, 5, 19, 20, 25} {
		names, vals, found, err := s.HRandField(0, []byte("h"), t0, count, true, rnd)
		if err != nil || !found {
			t.Fatal(err)
		}
		if want := min(count, 20); int64(len(names)) != want {
			t.Fatalf("count %d: %d names", count, len(names))
		}
		seen := map[string]bool{}
		for i, n := range names {
			if seen[n] {
				t.Fatalf("count %d: %s repeated", count, n)
			}
			seen[n] = true
			if "v"+n[1:] != string(vals[i]) {
				t.Fatalf("value %s for %s", vals[i], n)
			}
		}
	}
	names, _, _, _ := s.HRandField(0, []byte("h"), t0, -100, false, rnd)
	if len(names) != 100 {
		t.Fatal(len(names))
	}
	for i := range 15 { // tombstones (no compaction below 9)
		apply(t, s, op.HDel, t0, "h", "f"+strconv.Itoa(i*20%21))
	}
	if n, _ := s.HLen(0, []byte("h"), t0); n != 6 { // f20 never existed
		t.Fatal(n)
	}
	for _, count := range []int64{-50, 3, 5, 9} {
		names, _, _, _ := s.HRandField(0, []byte("h"), t0, count, false, rnd)
		seen := map[string]bool{}
		for _, n := range names {
			if _, ok, _ := s.HGet(0, []byte("h"), []byte(n), t0); !ok || (count > 0 && seen[n]) {
				t.Fatalf("count %d: bad pick %s in %v", count, n, names)
			}
			seen[n] = true
		}
	}
	if _, _, found, _ := s.HRandField(0, []byte("nokey"), t0, 3, false, rnd); found {
		t.Fatal("found missing key")
	}
}

// TestHash_ScanGuarantee: on a big hash, every field present for the whole
// iteration is returned exactly once while others come and go.
func TestHash_ScanGuarantee(t *testing.T) {
	s := New(Options{})
	for i := range 1000 {
		apply(t, s, op.HSet, t0, "h", "stay"+strconv.Itoa(i), "v")
	}
	seen := map[string]int{}
	var cursor uint64
	for round := 0; ; round++ {
		next, names, _, err := s.HScan(0, []byte("h"), t0, cursor, nil, 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			seen[n]++
		}
		apply(t, s, op.HSet, t0, "h", "tmp"+strconv.Itoa(round), "v")
		apply(t, s, op.HDel, t0, "h", "tmp"+strconv.Itoa(round/2))
		if next == 0 {
			break
		}
		cursor = next
	}
	for i := range 1000 {
		if n := seen["stay"+strconv.Itoa(i)]; n != 1 {
			t.Fatalf("stay%d returned %d times", i, n)
		}
	}
	// MATCH filters, a small hash comes whole.
	apply(t, s, op.HSet, t0, "small", "a", "1", "b", "2")
	next, names, _, _ := s.HScan(0, []byte("small"), t0, 0, []byte("b*"), 1)
	if next != 0 || !slices.Equal(names, []string{"b"}) {
		t.Fatal(next, names)
	}
}

// TestHash_Determinism: two stores applying the same hash-heavy ops (via
// the log encoding) end with equal digests; snapshots restore them.
func TestHash_Determinism(t *testing.T) {
	g1, g2 := newOpGen(7, 50), newOpGen(7, 50)
	a, b := newSnapStore(), newSnapStore()
	for range 20000 {
		var o1, o2 op.Op
		o1.DB, o1.Time = g1.rng.IntN(snapDBs), t0
		o2.DB, o2.Time = g2.rng.IntN(snapDBs), t0
		genHash(g1, &o1)
		genHash(g2, &o2)
		dec, _, err := op.Decode(op.Encode(&o1))
		if err != nil {
			t.Fatal(err)
		}
		r1, e1 := a.Apply(&dec)
		r2, e2 := b.Apply(&o2)
		if fmt.Sprint(r1, e1) != fmt.Sprint(r2, e2) {
			t.Fatalf("replies differ: %v %v / %v %v", r1, e1, r2, e2)
		}
	}
	if a.Digest() != b.Digest() {
		t.Fatal("digests differ")
	}
	checkSame(t, "restore", restored(t, snapshotBytes(t, a)), a)
	c := newSnapStore()
	applyOps(c, []op.Op{{Code: op.HSet, Time: t0, Args: [][]byte{[]byte("k1"), []byte("x"), []byte("y")}}})
	if c.Digest() == a.Digest() {
		t.Fatal("different states, equal digests")
	}
}

// TestHash_ConcurrentReads runs readers against apply (for -race).
func TestHash_ConcurrentReads(t *testing.T) {
	s := New(Options{})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for r := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(r), 1)).Uint64
			for {
				select {
				case <-stop:
					return
				default:
				}
				names, vals, _ := s.HGetAll(0, []byte("h"), t0, true, true)
				for i := range names {
					_ = len(names[i]) + len(vals[i])
				}
				s.HRandField(0, []byte("h"), t0, -3, true, rnd)
				s.HScan(0, []byte("h"), t0, 0, nil, 5)
				s.HMGet(0, []byte("h"), [][]byte{[]byte("f1")}, t0)
			}
		}()
	}
	for i := range 5000 {
		f := "f" + strconv.Itoa(i%200)
		switch i % 3 {
		case 0:
			apply(t, s, op.HSet, t0, "h", f, strconv.Itoa(i))
		case 1:
			apply(t, s, op.HIncrBy, t0, "h", f+"n", "1")
		default:
			apply(t, s, op.HDel, t0, "h", "f"+strconv.Itoa((i*7)%200))
		}
	}
	close(stop)
	wg.Wait()
}

func TestHash_PayloadCorrupt(t *testing.T) {
	for _, p := range [][]byte{nil, {2}, {0}, {0, 0}, {0, 1, 1, 'a'}, {0, 1, 1, 'a', 1, 'b', 9}, {0, 2, 1, 'a', 0, 1, 'a', 0}} {
		if _, err := hashOps.fromPayload(p); !errors.Is(err, ErrSnapshotCorrupt) {
			t.Errorf("%v: %v", p, err)
		}
	}
	h := newHashObj(0)
	h.set([]byte("a"), []byte("1"))
	p, _ := hashOps.payload(hashValue(h))
	v, err := hashOps.fromPayload(p)
	if err != nil || v.obj.(*hashObj).len() != 1 {
		t.Fatal(err)
	}
}
