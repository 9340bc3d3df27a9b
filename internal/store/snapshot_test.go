package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/skiffdb/skiff/internal/op"
)

const snapDBs = 4

// opGen generates a reproducible mix of every operation apply knows,
// including the ones that replace or move whole databases.
type opGen struct {
	rng   *rand.Rand
	nkeys int
	now   int64
	seen  map[op.Code]bool
}

func newOpGen(seed uint64, nkeys int) *opGen {
	return &opGen{rng: rand.New(rand.NewPCG(seed, seed^0x9e37)), nkeys: nkeys, now: t0, seen: map[op.Code]bool{}}
}

func (g *opGen) key() []byte {
	i := g.rng.IntN(g.nkeys)
	switch {
	case i%97 == 0: // longer than the inline key and than the writer's short-key path
		return []byte(strings.Repeat("L", 300) + strconv.Itoa(i))
	case i%31 == 0:
		return []byte(fmt.Sprintf("medium-key-longer-than-inline-%d", i))
	}
	return []byte("k" + strconv.Itoa(i))
}

func (g *opGen) val() []byte {
	n := g.rng.IntN(24)
	if g.rng.IntN(200) == 0 {
		n = 4096
	}
	if g.rng.IntN(3) == 0 {
		return op.Itoa(int64(g.rng.IntN(1000)))
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + g.rng.IntN(26))
	}
	return b
}

func (g *opGen) deadline() []byte { return op.Itoa(g.now + int64(g.rng.IntN(3000)) - 200) }

func (g *opGen) next() op.Op {
	r := g.rng
	g.now += int64(r.IntN(3))
	num := func(n int) []byte { return op.Itoa(int64(r.IntN(n))) }
	o := op.Op{DB: r.IntN(snapDBs), Time: g.now}
	switch p := r.IntN(1000); {
	case p == 999: // whole-database operations, rarely enough to leave a keyspace
		switch q := r.IntN(100); {
		case q < 80:
			o.Code, o.Args = op.SwapDB, [][]byte{num(snapDBs), num(snapDBs)}
		case q < 97:
			o.Code = op.FlushDB
		default:
			o.Code = op.FlushAll
		}
	case p < 250:
		at := []byte("0")
		if r.IntN(3) == 0 {
			at = g.deadline()
		}
		o.Code, o.Args = op.Set, [][]byte{g.key(), g.val(), num(16), at}
	case p < 300:
		o.Code, o.Args = op.MSet, [][]byte{g.key(), g.val(), g.key(), g.val()}
	case p < 320:
		o.Code, o.Args = op.MSetNX, [][]byte{g.key(), g.val(), g.key(), g.val()}
	case p < 400:
		o.Code, o.Args = op.Del, [][]byte{g.key(), g.key()}
	case p < 430:
		o.Code, o.Args = op.GetDel, [][]byte{g.key()}
	case p < 470:
		at := [][]byte{[]byte("-1"), []byte("0"), g.deadline()}[r.IntN(3)]
		o.Code, o.Args = op.GetEx, [][]byte{g.key(), at}
	case p < 540:
		o.Code, o.Args = op.Append, [][]byte{g.key(), g.val()}
	case p < 570:
		o.Code, o.Args = op.SetRange, [][]byte{g.key(), num(30), g.val()}
	case p < 630:
		o.Code, o.Args = op.IncrBy, [][]byte{g.key(), op.Itoa(int64(r.IntN(20) - 10))}
	case p < 650:
		o.Code, o.Args = op.IncrByFloat, [][]byte{g.key(), []byte("1.25")}
	case p < 720:
		o.Code, o.Args = op.Expire, [][]byte{g.key(), g.deadline(), num(16)}
	case p < 750:
		o.Code, o.Args = op.Persist, [][]byte{g.key()}
	case p < 800:
		o.Code, o.Args = op.Rename, [][]byte{g.key(), g.key(), num(2)}
	case p < 840:
		o.Code, o.Args = op.Copy, [][]byte{g.key(), g.key(), num(snapDBs), num(2)}
	case p < 880:
		o.Code, o.Args = op.Move, [][]byte{g.key(), num(snapDBs)}
	case p < 900:
		o.Code, o.Args = op.Expired, [][]byte{g.key(), g.key(), g.key()}
	default: // the data-type families (list_test.go, hash_test.go ...)
		gens := familyGens()
		gens[r.IntN(len(gens))](g, &o)
	}
	g.seen[o.Code] = true
	return o
}

// familyGens lists each data-type family's generator: it sets o.Code and
// o.Args to one of its operations, on keys from g.key().
func familyGens() []func(g *opGen, o *op.Op) {
	return []func(g *opGen, o *op.Op){genList, genHash, genSet, genZSet, genOther, genKV}
}

// fill returns n plain SETs, so that a test's keyspace is not left nearly
// empty by a late FLUSHALL.
func (g *opGen) fill(n int) []op.Op {
	out := make([]op.Op, n)
	for i := range out {
		out[i] = op.Op{Code: op.Set, DB: g.rng.IntN(snapDBs), Time: g.now, Args: [][]byte{g.key(), g.val(), []byte("0"), []byte("0")}}
	}
	return out
}

func (g *opGen) ops(n int) []op.Op {
	out := make([]op.Op, n)
	for i := range out {
		out[i] = g.next()
	}
	return out
}

// TestOpGen_CoversEveryCode keeps the generator honest as op codes are added:
// a code the snapshot tests never apply could mutate without preserving.
func TestOpGen_CoversEveryCode(t *testing.T) {
	g := newOpGen(1, 100)
	g.ops(400000) // whole-database ops are rare on purpose: FLUSHALL is ~1 in 30,000
	for c, fn := range applyTable {
		if fn != nil && !g.seen[op.Code(c)] {
			t.Errorf("snapshot tests never apply %v: add it to opGen", op.Code(c))
		}
	}
}

func newSnapStore() *Store { return New(Options{Databases: snapDBs}) }

func applyOps(s *Store, ops []op.Op) {
	for i := range ops {
		s.Apply(&ops[i])
	}
}

// fullState renders everything a snapshot must carry, the per-key revisions
// included (Digest leaves them out).
func fullState(s *Store) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var lines []string
	for i, d := range s.dbs {
		d.dict.each(func(e *entry) bool {
			lines = append(lines, fmt.Sprintf("%d %q %v %d %d %q", i, e.key, e.typ, e.expireAt, e.rev, e.str))
			return true
		})
		if d.touched != nil {
			for slot, r := range d.touched {
				if r != 0 {
					lines = append(lines, fmt.Sprintf("%d touched %d %d", i, slot, r))
				}
			}
		}
	}
	sort.Strings(lines)
	return fmt.Sprintf("rev %d\n%s", s.rev, strings.Join(lines, "\n"))
}

func snapshotBytes(t testing.TB, s *Store) []byte {
	t.Helper()
	sn, err := s.BeginSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer sn.Release()
	var buf bytes.Buffer
	n, err := sn.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteTo returned %d, wrote %d", n, buf.Len())
	}
	return buf.Bytes()
}

func restored(t testing.TB, snap []byte) *Store {
	t.Helper()
	s := newSnapStore()
	if err := s.Restore(bytes.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	return s
}

func checkSame(t *testing.T, what string, got, want *Store) {
	t.Helper()
	if got.Digest() != want.Digest() {
		t.Fatalf("%s: digests differ", what)
	}
	if g, w := fullState(got), fullState(want); g != w {
		t.Fatalf("%s: state differs (revisions?)\n got: %.600s\nwant: %.600s", what, g, w)
	}
}

func TestSnapshot_RoundTrip(t *testing.T) {
	t.Run("empty", func(t *testing.T) {
		src := newSnapStore()
		checkSame(t, "empty", restored(t, snapshotBytes(t, src)), src)
	})
	for seed := uint64(1); seed <= 4; seed++ {
		g := newOpGen(seed, 500)
		src := newSnapStore()
		applyOps(src, g.ops(5000))
		applyOps(src, randomOps(seed, 2000)) // the store tests' mix too
		dst := restored(t, snapshotBytes(t, src))
		checkSame(t, fmt.Sprintf("seed %d", seed), dst, src)

		// The restored tables and expiry heaps work: the same operations
		// give the same replies and states, and expiry finds the same keys.
		more := g.ops(3000)
		for i := range more {
			ra, ea := src.Apply(&more[i])
			rb, eb := dst.Apply(&more[i])
			if fmt.Sprint(ra, ea) != fmt.Sprint(rb, eb) {
				t.Fatalf("seed %d: op %d replies differ: %v %v vs %v %v", seed, i, ra, ea, rb, eb)
			}
		}
		checkSame(t, fmt.Sprintf("seed %d after more ops", seed), dst, src)
		expiring := 0
		for dbi := 0; dbi < snapDBs; dbi++ {
			if src.NextDeadline(dbi) != dst.NextDeadline(dbi) {
				t.Fatalf("seed %d db %d: next deadline differs", seed, dbi)
			}
			a, b := src.ExpiredKeys(dbi, g.now+5000, 1<<20), dst.ExpiredKeys(dbi, g.now+5000, 1<<20)
			if !sameKeySet(a, b) {
				t.Fatalf("seed %d db %d: expired keys differ (%d vs %d)", seed, dbi, len(a), len(b))
			}
			expiring += len(a)
		}
		if expiring == 0 {
			t.Fatalf("seed %d: no key has a deadline: test is weak", seed)
		}
	}
}

func sameKeySet(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, k := range a {
		m[string(k)]++
	}
	for _, k := range b {
		m[string(k)]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

// TestSnapshot_PointInTime interleaves writes with the walk the way raft does
// (applies between the walk's lock holds): the stream must restore to exactly
// the state at BeginSnapshot, per-key revisions included.
func TestSnapshot_PointInTime(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			g := newOpGen(seed, 3000)
			base := append(g.ops(12000), g.fill(2000)...)
			rest := g.ops(20000)
			src, ref := newSnapStore(), newSnapStore()
			applyOps(src, base)
			applyOps(ref, base)

			sn, err := src.BeginSnapshot()
			if err != nil {
				t.Fatal(err)
			}
			defer sn.Release()
			sn.chunkBuckets = 1 + int(seed%4)
			rng := rand.New(rand.NewPCG(seed, 0))
			i, chunks := 0, 0
			sn.afterChunk = func() {
				chunks++
				for n := rng.IntN(12); n > 0 && i < len(rest); n-- {
					src.Apply(&rest[i])
					i++
				}
			}
			var buf bytes.Buffer
			if _, err := sn.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			applyOps(src, rest[i:])
			if i < 500 {
				t.Fatalf("only %d ops ran during the walk (%d chunks): test is weak", i, chunks)
			}
			sn.mu.Lock()
			preserved := sn.mu.preserved
			sn.mu.Unlock()
			if preserved == 0 {
				t.Fatal("no pre-image was saved: test is weak")
			}
			checkSame(t, "restored", restored(t, buf.Bytes()), ref)

			// Apply went on correctly while the snapshot was active.
			applyOps(ref, rest)
			checkSame(t, "source", src, ref)
			t.Logf("%d ops in %d chunks during the walk, %d pre-images", i, chunks, preserved)
		})
	}
}

// slowWriter yields on every write so the walk interleaves with the applier.
type slowWriter struct{ buf bytes.Buffer }

func (w *slowWriter) Write(p []byte) (int, error) {
	runtime.Gosched()
	return w.buf.Write(p)
}

// TestSnapshot_ConcurrentWrites runs WriteTo on its own goroutine, as
// Persist does, while one goroutine applies batches and others read.
func TestSnapshot_ConcurrentWrites(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		g := newOpGen(seed, 2000)
		base := append(g.ops(8000), g.fill(2000)...)
		rest := g.ops(60000)
		src, ref := newSnapStore(), newSnapStore()
		applyOps(src, base)
		applyOps(ref, base)

		sn, err := src.BeginSnapshot()
		if err != nil {
			t.Fatal(err)
		}
		sn.chunkBuckets = 2
		w := &slowWriter{}
		doneCh := make(chan error, 1)
		go func() {
			_, err := sn.WriteTo(w)
			doneCh <- err
		}()
		stopCh := make(chan struct{})
		var readers sync.WaitGroup
		for r := 0; r < 2; r++ {
			readers.Add(1)
			go func() {
				defer readers.Done()
				for {
					select {
					case <-stopCh:
						return
					default:
					}
					src.Get(r, []byte("k1"), g.now)
					src.Scan(r, 0, ScanOptions{Count: 50}, g.now)
					src.Exists(r, [][]byte{[]byte("k2")}, g.now)
				}
			}()
		}
		applied := 0
		var werr error
	loop:
		for applied < len(rest) {
			select {
			case werr = <-doneCh:
				break loop
			default:
			}
			end := min(applied+16, len(rest))
			src.ApplyBatch(rest[applied:end], nil)
			applied = end
		}
		if applied == len(rest) {
			werr = <-doneCh
		}
		close(stopCh)
		readers.Wait()
		if werr != nil {
			t.Fatal(werr)
		}
		sn.Release()
		checkSame(t, fmt.Sprintf("seed %d restored", seed), restored(t, w.buf.Bytes()), ref)
		applyOps(src, rest[applied:])
		applyOps(ref, rest)
		checkSame(t, fmt.Sprintf("seed %d source", seed), src, ref)
		t.Logf("seed %d: %d ops applied during the walk", seed, applied)
	}
}

// TestSnapshot_RestoreDuringWrite: raft may install a snapshot from the
// leader while an older one is still being persisted. The persisting one
// keeps the databases it captured and completes correctly.
func TestSnapshot_RestoreDuringWrite(t *testing.T) {
	g := newOpGen(9, 2000)
	src, ref, other := newSnapStore(), newSnapStore(), newSnapStore()
	base := append(g.ops(8000), g.fill(1000)...)
	applyOps(src, base)
	applyOps(ref, base)
	applyOps(other, g.ops(3000))
	otherSnap := snapshotBytes(t, other)
	later := g.ops(3000)

	sn, err := src.BeginSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	sn.chunkBuckets = 3
	chunk := 0
	sn.afterChunk = func() {
		switch chunk++; {
		case chunk == 5:
			applyOps(src, later[:1000])
			if err := src.Restore(bytes.NewReader(otherSnap)); err != nil {
				t.Error(err)
			}
		case chunk > 5 && chunk < 20:
			applyOps(src, later[1000+(chunk-6)*100:1000+(chunk-5)*100])
		}
	}
	var buf bytes.Buffer
	if _, err := sn.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if chunk < 20 {
		t.Fatalf("walk took %d chunks: test is weak", chunk)
	}
	checkSame(t, "persisted", restored(t, buf.Bytes()), ref)
	applyOps(other, later[1000:2400])
	checkSame(t, "after restore", src, other)
	// The restore detached the snapshot: a new one can begin before Release.
	sn2, err := src.BeginSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	sn.Release()
	sn2.Release()
}

// TestSnapshot_WalkAcrossResizes: the table shrinks and grows under the walk,
// so SCAN's cursor meets entries twice; each must be written once.
func TestSnapshot_WalkAcrossResizes(t *testing.T) {
	s, ref := newSnapStore(), newSnapStore()
	var base []op.Op
	for i := 0; i < 250; i++ {
		base = append(base, op.Op{Code: op.Set, Time: t0, Args: [][]byte{[]byte("stable" + strconv.Itoa(i)), []byte("v"), []byte("0"), []byte("0")}})
	}
	churn := func(code op.Code, from, n int) op.Op {
		o := op.Op{Code: code, Time: t0}
		for i := from; i < from+n; i++ {
			o.Args = append(o.Args, []byte("churn"+strconv.Itoa(i)))
			if code == op.MSet {
				o.Args = append(o.Args, []byte("c"))
			}
		}
		return o
	}
	applyOps(s, base)
	applyOps(ref, base)

	sn, err := s.BeginSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer sn.Release()
	sn.chunkBuckets = 1
	chunk := 0
	sn.afterChunk = func() {
		// Grow the table eightfold, then shrink it back: at each shrink the
		// cursor continues in a smaller table, whose buckets merge ones the
		// walk has visited with ones it has not.
		switch chunk++; chunk % 6 {
		case 0:
			s.Apply(ptr(churn(op.MSet, chunk*10000, 2000)))
		case 3:
			s.Apply(ptr(churn(op.Del, (chunk-3)*10000, 2000)))
		}
	}
	var buf bytes.Buffer
	if _, err := sn.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if sn.revisits == 0 {
		t.Fatalf("the walk met no entry twice in %d chunks: test is weak", chunk)
	}
	checkSame(t, "restored", restored(t, buf.Bytes()), ref)
	t.Logf("%d chunks, %d entries met again", chunk, sn.revisits)
}

func ptr[T any](v T) *T { return &v }

func TestSnapshot_Lifecycle(t *testing.T) {
	s := newSnapStore()
	applyOps(s, newOpGen(3, 50).ops(200))
	sn, err := s.BeginSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.BeginSnapshot(); !errors.Is(err, ErrSnapshotActive) {
		t.Fatalf("second BeginSnapshot: %v", err)
	}
	if _, err := sn.WriteTo(io.Discard); err != nil {
		t.Fatal(err)
	}
	if _, err := sn.WriteTo(io.Discard); !errors.Is(err, ErrSnapshotDone) {
		t.Fatalf("second WriteTo: %v", err)
	}
	sn.Release()
	sn.Release()
	if s.snap != nil {
		t.Fatal("Release left the snapshot active")
	}
	sn, err = s.BeginSnapshot()
	if err != nil {
		t.Fatalf("BeginSnapshot after Release: %v", err)
	}
	sn.Release()
	if _, err := sn.WriteTo(io.Discard); !errors.Is(err, ErrSnapshotDone) {
		t.Fatalf("WriteTo after Release: %v", err)
	}

	// Release during the walk makes WriteTo fail instead of writing a
	// snapshot that is no longer point-in-time.
	sn, _ = s.BeginSnapshot()
	sn.chunkBuckets = 1
	sn.afterChunk = sn.Release
	if _, err := sn.WriteTo(io.Discard); !errors.Is(err, ErrSnapshotDone) {
		t.Fatalf("WriteTo across Release: %v", err)
	}
}

// corruptTarget is a store with state of its own, to check that a failed
// Restore leaves it exactly as it was.
func corruptTarget(t *testing.T) (*Store, string) {
	s := newSnapStore()
	applyOps(s, newOpGen(77, 30).ops(100))
	return s, fullState(s)
}

func TestSnapshot_CorruptionIsDetected(t *testing.T) {
	src := newSnapStore()
	applyOps(src, newOpGen(5, 40).ops(400))
	snap := snapshotBytes(t, src)
	if len(snap) < 200 {
		t.Fatalf("snapshot of %d bytes: test is weak", len(snap))
	}
	dst, before := corruptTarget(t)
	check := func(what string, b []byte) {
		t.Helper()
		err := dst.Restore(bytes.NewReader(b))
		if err == nil {
			t.Fatalf("%s: Restore succeeded", what)
		}
		if !errors.Is(err, ErrSnapshotCorrupt) && !errors.Is(err, ErrSnapshotVersion) && !errors.Is(err, ErrSnapshotMismatch) {
			t.Fatalf("%s: unexpected error %v", what, err)
		}
		if fullState(dst) != before {
			t.Fatalf("%s: failed Restore changed the store", what)
		}
	}
	for i := range snap {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			b := bytes.Clone(snap)
			b[i] ^= mask
			check(fmt.Sprintf("byte %d ^ %#x", i, mask), b)
		}
	}
	for n := 0; n < len(snap); n++ {
		check(fmt.Sprintf("truncated to %d", n), snap[:n])
	}
	check("trailing byte", append(bytes.Clone(snap), 0))
	// The intact stream still restores (the loop above used the same target).
	if err := dst.Restore(bytes.NewReader(snap)); err != nil {
		t.Fatal(err)
	}
	checkSame(t, "intact", dst, src)
}

func TestSnapshot_VersionAndShape(t *testing.T) {
	src := newSnapStore()
	applyOps(src, newOpGen(6, 20).ops(50))
	snap := snapshotBytes(t, src)

	b := bytes.Clone(snap)
	b[len(snapMagic)] = snapVersion + 1
	if err := newSnapStore().Restore(bytes.NewReader(b)); !errors.Is(err, ErrSnapshotVersion) {
		t.Fatalf("future version: %v", err)
	}
	if err := New(Options{Databases: 16}).Restore(bytes.NewReader(snap)); !errors.Is(err, ErrSnapshotMismatch) {
		t.Fatalf("database count mismatch: %v", err)
	}
	if err := newSnapStore().Restore(strings.NewReader("SKIFFSNQ\x01")); !errors.Is(err, ErrSnapshotCorrupt) {
		t.Fatalf("bad magic: %v", err)
	}
	// Version 1 (no touched records) is still read.
	v1 := craftV(1, 5, nil, snapItem{db: 1, typ: TypeString, key: "a", rev: 3, payload: []byte("v")})
	if err := newSnapStore().Restore(bytes.NewReader(v1)); err != nil {
		t.Fatalf("version 1: %v", err)
	}
}

// craftV is craft with a version byte and touched tables (by db).
func craftV(version byte, rev uint64, touched map[int]*touchTable, items ...snapItem) []byte {
	var buf bytes.Buffer
	sw := newSnapWriter(&buf)
	sw.write(append([]byte(snapMagic), version))
	sw.write(binary.AppendUvarint(binary.AppendUvarint(nil, rev), snapDBs))
	for dbi := 0; dbi < snapDBs; dbi++ {
		if t := touched[dbi]; t != nil {
			sw.touched(dbi, t)
		}
	}
	for i := range items {
		sw.record(&items[i])
	}
	sw.trailer(len(items))
	return buf.Bytes()
}

// craft encodes a stream with a valid checksum from hand-made records.
func craft(rev uint64, items ...snapItem) []byte {
	var buf bytes.Buffer
	sw := newSnapWriter(&buf)
	sw.header(rev, snapDBs)
	for i := range items {
		sw.record(&items[i])
	}
	sw.trailer(len(items))
	return buf.Bytes()
}

// TestSnapshot_RejectsWellFormedNonsense: streams whose checksum is right but
// whose content no writer produces.
func TestSnapshot_RejectsWellFormedNonsense(t *testing.T) {
	ok := snapItem{db: 1, typ: TypeString, key: "a", rev: 3, payload: []byte("v")}
	if err := newSnapStore().Restore(bytes.NewReader(craft(5, ok))); err != nil {
		t.Fatalf("crafted stream: %v", err)
	}
	bad := map[string][]byte{
		"unknown type":     craft(5, snapItem{db: 1, typ: Type(99), key: "a", rev: 3}),
		"type none":        craft(5, snapItem{db: 1, typ: TypeNone, key: "a", rev: 3}),
		"duplicate key":    craft(5, ok, ok),
		"db range":         craft(5, snapItem{db: snapDBs, typ: TypeString, key: "a", rev: 3}),
		"future rev":       craft(2, ok),
		"touched slot rev": craftV(snapVersion, 5, map[int]*touchTable{0: touchedAt(7, 9)}, ok),
		"touched in v1":    craftV(1, 5, map[int]*touchTable{0: touchedAt(7, 4)}, ok),
	}
	for name, b := range bad {
		dst, before := corruptTarget(t)
		if err := dst.Restore(bytes.NewReader(b)); !errors.Is(err, ErrSnapshotCorrupt) {
			t.Fatalf("%s: %v", name, err)
		}
		if fullState(dst) != before {
			t.Fatalf("%s: store changed", name)
		}
	}
}

func touchedAt(slot int, rev uint64) *touchTable {
	t := new(touchTable)
	t[slot] = rev
	return t
}

func TestSnapshot_UnencodableTypeFailsWriteTo(t *testing.T) {
	s := newSnapStore()
	s.setEntry(s.dbs[0], []byte("h"), value{typ: Type(99)}, 0)
	sn, _ := s.BeginSnapshot()
	defer sn.Release()
	if _, err := sn.WriteTo(io.Discard); err == nil {
		t.Fatal("WriteTo encoded an unknown type")
	}
}

// TestSnapshot_PreservesOnlyWhatChanges: the snapshot copies nothing of the
// keyspace; apply saves a pre-image only for keys that existed at the
// snapshot, changed during the walk and had not been written yet, and the
// walk drains them every chunk.
func TestSnapshot_PreservesOnlyWhatChanges(t *testing.T) {
	const n, perChunk = 20000, 5
	s := newSnapStore()
	for i := 0; i < n; i++ {
		apply(t, s, op.Set, t0, "key:"+strconv.Itoa(i), "value", "0", "0")
	}
	sn, err := s.BeginSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer sn.Release()
	rng := rand.New(rand.NewPCG(1, 1))
	touched := map[int]bool{}
	chunks := 0
	sn.afterChunk = func() {
		chunks++
		for j := 0; j < perChunk; j++ {
			k := rng.IntN(2 * n) // half of them did not exist at the snapshot
			if k < n {
				touched[k] = true
			}
			apply(t, s, op.Set, t0, "key:"+strconv.Itoa(k), "new", "0", "0")
		}
	}
	if _, err := sn.WriteTo(io.Discard); err != nil {
		t.Fatal(err)
	}
	sn.mu.Lock()
	preserved, maxPending := sn.mu.preserved, sn.mu.maxPending
	sn.mu.Unlock()
	if preserved == 0 || preserved > len(touched) {
		t.Fatalf("%d pre-images for %d pre-existing keys changed during the walk", preserved, len(touched))
	}
	if maxPending > perChunk {
		t.Fatalf("%d pre-images held at once with %d writes per chunk", maxPending, perChunk)
	}
	t.Logf("%d chunks, %d pre-existing keys changed, %d pre-images, at most %d held", chunks, len(touched), preserved, maxPending)
}

// TestSnapshot_WriteToMemoryIsBounded: streaming a snapshot allocates a few
// buffers, not anything proportional to the keyspace.
func TestSnapshot_WriteToMemoryIsBounded(t *testing.T) {
	const n = 50000
	s := New(Options{})
	val := strings.Repeat("v", 200)
	for i := 0; i < n; i++ {
		apply(t, s, op.Set, t0, "key:"+strconv.Itoa(i), val, "0", "0")
	}
	sn, err := s.BeginSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer sn.Release()
	var cw countWriter
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if _, err := sn.WriteTo(&cw); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	if alloc > 1<<20 || alloc*10 > uint64(cw.n) {
		t.Fatalf("WriteTo allocated %d bytes for a %d-byte snapshot", alloc, cw.n)
	}
	t.Logf("WriteTo allocated %d bytes for a %d-byte snapshot", alloc, cw.n)
}

type countWriter struct{ n int }

func (w *countWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

func benchStore(b *testing.B, n int) *Store {
	s := New(Options{})
	val := bytes.Repeat([]byte("x"), 100)
	for i := 0; i < n; i++ {
		o := op.Op{Code: op.Set, Time: t0, Args: [][]byte{[]byte(fmt.Sprintf("key:%08d", i)), val, []byte("0"), []byte("0")}}
		if i%4 == 0 {
			o.Args[3] = op.Itoa(t0 + 1e9)
		}
		s.Apply(&o)
	}
	return s
}

func BenchmarkSnapshotWriteTo(b *testing.B) {
	s := benchStore(b, 100000)
	size := len(snapshotBytes(b, s))
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sn, err := s.BeginSnapshot()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := sn.WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
		sn.Release()
	}
}

func BenchmarkRestore(b *testing.B) {
	snap := snapshotBytes(b, benchStore(b, 100000))
	b.SetBytes(int64(len(snap)))
	b.ReportAllocs()
	s := New(Options{})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.Restore(bytes.NewReader(snap)); err != nil {
			b.Fatal(err)
		}
	}
}
