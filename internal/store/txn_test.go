package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/skiffdb/skiff/internal/op"
)

func txnSet(key, val string) *op.Op {
	return &op.Op{Code: op.Set, Time: t0, Args: [][]byte{[]byte(key), []byte(val), []byte("0"), []byte("0")}}
}

func applyTxnOp(t *testing.T, s *Store, b *op.TxnBuilder, at int64) TxnResult {
	t.Helper()
	// Through the encoding, as the log delivers it.
	o, rest, err := op.Decode(op.Encode(b.Op(at)))
	if err != nil || len(rest) != 0 {
		t.Fatalf("decode txn: %v", err)
	}
	v, err := s.Apply(&o)
	if err != nil {
		t.Fatalf("apply txn: %v", err)
	}
	return v.(TxnResult)
}

func TestTxn_AppliesStepsInOrder(t *testing.T) {
	s := New(Options{})
	var b op.TxnBuilder
	b.Step(txnSet("a", "1"))
	b.Step(&op.Op{Code: op.IncrBy, Time: t0, Args: [][]byte{[]byte("a"), []byte("5")}})
	b.Step(&op.Op{Code: op.ListPush, Time: t0, Args: [][]byte{[]byte("a"), []byte("0"), []byte("0"), []byte("x")}})
	b.Step(&op.Op{Code: op.IncrBy, DB: 3, Time: t0, Args: [][]byte{[]byte("a"), []byte("1")}})
	r := applyTxnOp(t, s, &b, t0)
	if r.Aborted || len(r.Results) != 4 {
		t.Fatalf("result %+v", r)
	}
	if r.Results[1].Value != int64(6) || !errors.Is(r.Results[2].Err, ErrWrongType) || r.Results[3].Value != int64(1) {
		t.Fatalf("results %+v", r.Results)
	}
	if v, _, _ := s.Get(0, []byte("a"), t0); string(v) != "6" {
		t.Fatalf("a = %q", v)
	}
}

func TestTxn_Conditions(t *testing.T) {
	s := New(Options{})
	s.Apply(txnSet("w", "1"))
	s.Apply(&op.Op{Code: op.Set, Time: t0, Args: [][]byte{[]byte("e"), []byte("1"), []byte("0"), op.Itoa(t0 + 100)}})
	revs := s.Revisions(0, [][]byte{[]byte("w"), []byte("e"), []byte("absent")}, t0, nil)
	if revs[0] == 0 || revs[1] == 0 || revs[2]&RevAbsent == 0 {
		t.Fatalf("revisions %v", revs)
	}
	n := 0
	txn := func(at int64, conds ...op.TxnCond) TxnResult {
		var b op.TxnBuilder
		for _, c := range conds {
			b.Cond(c.DB, c.Key, c.Rev)
		}
		n++
		b.Step(txnSet("out", fmt.Sprint(n)))
		return applyTxnOp(t, s, &b, at)
	}
	w := op.TxnCond{Key: []byte("w"), Rev: revs[0]}
	e := op.TxnCond{Key: []byte("e"), Rev: revs[1]}
	absent := op.TxnCond{Key: []byte("absent")}
	if r := txn(t0, w, e, absent); r.Aborted {
		t.Fatal("unchanged keys aborted")
	}
	// Expired between WATCH and EXEC: aborts.
	if r := txn(t0+100, e); !r.Aborted {
		t.Fatal("a watched key that expired did not abort")
	}
	// Watched while already expired (revision 0): still absent, no abort.
	if r := txn(t0+200, op.TxnCond{Key: []byte("e")}); r.Aborted {
		t.Fatal("a key expired at WATCH time aborted")
	}
	// Another database's key of the same name does not matter.
	s.Apply(&op.Op{Code: op.Set, DB: 1, Time: t0, Args: [][]byte{[]byte("w"), []byte("x"), []byte("0"), []byte("0")}})
	if r := txn(t0, w); r.Aborted {
		t.Fatal("a change in another database aborted")
	}
	s.Apply(txnSet("w", "1")) // same value: still a change
	if r := txn(t0, w); !r.Aborted {
		t.Fatal("a rewritten key did not abort")
	}
	if v, _, _ := s.Get(0, []byte("out"), t0); string(v) != "4" {
		t.Fatalf("an aborted transaction applied its steps: out = %q", v)
	}
	s.Apply(txnSet("absent", "now"))
	if r := txn(t0, absent); !r.Aborted {
		t.Fatal("a created key did not abort")
	}
	// FLUSHALL and SWAPDB change every existing key's revision to 0 or another's.
	w = op.TxnCond{Key: []byte("w"), Rev: s.Revisions(0, [][]byte{[]byte("w")}, t0, nil)[0]}
	s.Apply(&op.Op{Code: op.SwapDB, Time: t0, Args: [][]byte{[]byte("0"), []byte("1")}})
	if r := txn(t0, w); !r.Aborted {
		t.Fatal("SWAPDB did not abort")
	}
	s.Apply(&op.Op{Code: op.FlushAll, Time: t0})
	if r := txn(t0, op.TxnCond{Key: []byte("w"), Rev: revs[0]}); !r.Aborted {
		t.Fatal("FLUSHALL did not abort")
	}
}

func TestTxn_ReadHookSeesItsPoint(t *testing.T) {
	s := New(Options{})
	s.Apply(txnSet("a", "old"))
	var b op.TxnBuilder
	r0 := b.Read()
	b.Step(txnSet("a", "new"))
	r1 := b.Read()
	b.Step(&op.Op{Code: op.FlushAll, Time: t0})
	r2 := b.Read()
	id := []byte("0123456789abcdef")
	op.SetTxnID(b.Op(t0), id)
	got := map[int]string{}
	unregister := s.RegisterTxnHook(id, func(step int, v *Store) {
		val, _, _ := v.Get(0, []byte("a"), t0) // takes v's lock, not s's: no deadlock
		got[step] = string(val)
	})
	res := applyTxnOp(t, s, &b, t0)
	unregister()
	if res.Aborted || len(res.Results) != 5 {
		t.Fatalf("result %+v", res)
	}
	if got[r0] != "old" || got[r1] != "new" || got[r2] != "" || len(got) != 3 {
		t.Fatalf("reads %v", got)
	}
	// Another node (no hook registered) or an unregistered hook: reads skipped.
	called := false
	unregister = s.RegisterTxnHook(id, func(int, *Store) { called = true })
	unregister()
	applyTxnOp(t, s, &b, t0)
	other := New(Options{})
	applyTxnOp(t, other, &b, t0)
	if called {
		t.Fatal("an unregistered hook ran")
	}
}

func TestTxn_MalformedChangesNothing(t *testing.T) {
	s := New(Options{})
	s.Apply(txnSet("a", "1"))
	before := s.Digest()
	good := op.Encode(txnSet("a", "2"))
	nested := func() []byte {
		var b op.TxnBuilder
		b.Step(txnSet("a", "3"))
		return op.Encode(b.Op(t0))
	}()
	cases := map[string][][]byte{
		"no args":       nil,
		"bad count":     {{}, []byte("x")},
		"count too big": {{}, []byte("1"), []byte("0")},
		"bad cond db":   {{}, []byte("1"), []byte("-1"), []byte("a"), []byte("1")},
		"cond db range": {{}, []byte("1"), []byte("99"), []byte("a"), []byte("1")},
		"bad rev":       {{}, []byte("1"), []byte("0"), []byte("a"), []byte("x")},
		"bad step":      {{}, []byte("0"), good, []byte("junk")},
		"trailing":      {{}, []byte("0"), append(bytes.Clone(good), 1)},
		"nested txn":    {{}, []byte("0"), good, nested},
	}
	for name, args := range cases {
		if _, err := s.Apply(&op.Op{Code: op.Txn, Time: t0, Args: args}); !errors.Is(err, ErrMalformedOp) {
			t.Errorf("%s: err %v", name, err)
		}
	}
	if s.Digest() != before {
		t.Fatal("a malformed transaction changed the state")
	}
}

// TestTxn_EveryChangeStampsTheKey: WATCH relies on every mutation path
// stamping the changed key's revision, including in-place changes of lists,
// hashes and sets. Any key whose type, value or deadline an operation
// changes must carry that operation's revision.
func TestTxn_EveryChangeStampsTheKey(t *testing.T) {
	g := newOpGen(7, 40)
	s := newSnapStore()
	applyOps(s, g.fill(200))
	fingerprints := func() map[string]string {
		m := map[string]string{}
		for i, d := range s.dbs {
			d.dict.each(func(e *entry) bool {
				fp := fmt.Sprintf("%v/%d/", e.typ, e.expireAt)
				if ops := opsFor(e.typ); ops != nil {
					fp += string(ops.digest(nil, e.value))
				}
				m[fmt.Sprint(i, ":", e.key)] = fp
				return true
			})
		}
		return m
	}
	revOf := func(id string) uint64 {
		var dbi int
		var key string
		fmt.Sscanf(id, "%d:", &dbi)
		key = id[len(fmt.Sprint(dbi))+1:]
		if e := s.dbs[dbi].dict.find([]byte(key)); e != nil {
			return e.rev
		}
		return 0
	}
	checked := 0
	for i := 0; i < 6000; i++ {
		o := g.next()
		before := fingerprints()
		s.Apply(&o)
		switch o.Code {
		case op.FlushDB, op.FlushAll, op.SwapDB:
			continue // whole databases move: their keys are other entries now
		}
		for id, fp := range fingerprints() {
			if old, ok := before[id]; ok && old == fp {
				continue
			}
			checked++
			if r := revOf(id); r != s.rev {
				t.Fatalf("op %d (%v %q): key %s changed but has rev %d, want %d", i, o.Code, o.Args, id, r, s.rev)
			}
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d changes checked: test is weak", checked)
	}
}

// TestTxn_SnapshotAndDeterminism: transactions apply their steps exactly as
// the same operations applied alone would (same digest), and a snapshot
// taken while transactions apply is a point-in-time image.
func TestTxn_SnapshotAndDeterminism(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		g := newOpGen(seed, 1500)
		base := append(g.ops(6000), g.fill(1000)...)
		rest := g.ops(12000)
		rng := rand.New(rand.NewPCG(seed, 1))
		var txns []op.Op
		for i := 0; i < len(rest); {
			var b op.TxnBuilder
			for n := 1 + rng.IntN(6); n > 0 && i < len(rest); n-- {
				b.Step(&rest[i])
				i++
			}
			o, _, err := op.Decode(op.Encode(b.Op(rest[i-1].Time)))
			if err != nil {
				t.Fatal(err)
			}
			txns = append(txns, o)
		}
		src, ref := newSnapStore(), newSnapStore()
		applyOps(src, base)
		applyOps(ref, base)
		sn, err := src.BeginSnapshot()
		if err != nil {
			t.Fatal(err)
		}
		sn.chunkBuckets = 2
		j := 0
		sn.afterChunk = func() {
			for n := rng.IntN(4); n > 0 && j < len(txns); n-- {
				src.Apply(&txns[j])
				j++
			}
		}
		var buf bytes.Buffer
		if _, err := sn.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		sn.Release()
		applyOps(src, txns[j:])
		if j < 100 {
			t.Fatalf("only %d transactions ran during the walk: test is weak", j)
		}
		checkSame(t, "restored", restored(t, buf.Bytes()), ref)
		applyOps(ref, rest)
		if src.Digest() != ref.Digest() {
			t.Fatal("transactions and the same operations alone differ")
		}
	}
}

func TestTxn_ScratchCopiesKeys(t *testing.T) {
	s := New(Options{Databases: 4})
	s.Apply(&op.Op{Code: op.SAdd, Time: t0, Args: [][]byte{[]byte("k"), []byte("a"), []byte("b")}})
	s.Apply(&op.Op{Code: op.Set, DB: 2, Time: t0, Args: [][]byte{[]byte("k"), []byte("v"), []byte("0"), op.Itoa(t0 + 50)}})
	sc := s.NewScratch()
	sc.Apply(txnSet("k", "stale"))
	s.CopyKeys(sc, [][]byte{[]byte("k"), []byte("none")})
	if n, err := sc.SCard(0, []byte("k"), t0); n != 2 || err != nil {
		t.Fatalf("scratch SCARD = %d %v", n, err)
	}
	if at, ok := sc.Deadline(2, []byte("k"), t0); !ok || at != t0+50 {
		t.Fatalf("scratch deadline = %d %v", at, ok)
	}
	// The copy is deep: changing it leaves the store alone.
	sc.Apply(&op.Op{Code: op.SRem, Time: t0, Args: [][]byte{[]byte("k"), []byte("a")}})
	if n, _ := s.SCard(0, []byte("k"), t0); n != 2 {
		t.Fatalf("store SCARD after changing the scratch = %d", n)
	}
	if got, want := s.Revisions(0, [][]byte{[]byte("k")}, t0, nil), sc.Revisions(0, [][]byte{[]byte("k")}, t0, nil); got[0] == want[0] {
		t.Fatal("the scratch change did not stamp its copy")
	}
}

func TestTxn_BuilderRoundTrip(t *testing.T) {
	var b op.TxnBuilder
	revs := []uint64{0, 9, 10, 1<<63 + 5, ^uint64(0)}
	for i, r := range revs {
		b.Cond(i, []byte(fmt.Sprint("k", i)), r)
	}
	b.Read()
	b.Step(txnSet("a", "1"))
	o, _, err := op.Decode(op.Encode(b.Op(t0)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := op.ParseTxn(&o)
	if err != nil || len(p.Conds) != len(revs) || len(p.Steps) != 2 || len(p.Steps[0]) != 0 || b.Encoded(0) != nil || b.Encoded(1) == nil {
		t.Fatalf("parsed %+v, %v", p, err)
	}
	for i, c := range p.Conds {
		if c.DB != i || string(c.Key) != fmt.Sprint("k", i) || c.Rev != revs[i] {
			t.Fatalf("cond %d = %+v", i, c)
		}
	}
	for _, bad := range []string{"", "01", "-1", "18446744073709551616", "1x"} {
		if _, ok := op.ParseUint([]byte(bad)); ok {
			t.Errorf("ParseUint(%q) accepted", bad)
		}
	}
}

// TestTxn_AbsentKeyTouched: a key absent at WATCH and at EXEC aborts the
// transaction when it was created in between (and deleted, expired or flushed
// away again), as in Redis; a key already expired at WATCH and merely deleted
// since does not.
func TestTxn_AbsentKeyTouched(t *testing.T) {
	del := func(k string) *op.Op { return &op.Op{Code: op.Del, Time: t0, Args: [][]byte{[]byte(k)}} }
	watch := func(s *Store, k string) op.TxnCond {
		r := s.Revisions(0, [][]byte{[]byte(k)}, t0, nil)[0]
		if r&RevAbsent == 0 {
			t.Fatalf("%s: revision %d of an absent key is not flagged", k, r)
		}
		return op.TxnCond{Key: []byte(k), Rev: r}
	}
	exec := func(s *Store, c op.TxnCond) bool {
		var b op.TxnBuilder
		b.Cond(c.DB, c.Key, c.Rev)
		b.Step(txnSet("out", "1"))
		return applyTxnOp(t, s, &b, t0).Aborted
	}
	for name, between := range map[string][]*op.Op{
		"created and deleted": {txnSet("k", "1"), del("k")},
		"created and flushed": {txnSet("k", "1"), {Code: op.FlushAll, Time: t0}},
	} {
		s := New(Options{})
		s.Apply(txnSet("other", "1"))
		c := watch(s, "k")
		for _, o := range between {
			s.Apply(o)
		}
		if !exec(s, c) {
			t.Fatalf("%s: EXEC applied", name)
		}
	}
	// Untouched: other keys change, the watched one stays absent.
	s := New(Options{})
	c := watch(s, "k")
	s.Apply(txnSet("x", "1"))
	s.Apply(del("x"))
	s.Apply(del("k"))
	if exec(s, c) {
		t.Fatal("an absent key nobody created aborted")
	}
	// Created before WATCH and deleted before WATCH: absent since, no abort.
	s.Apply(txnSet("k", "1"))
	s.Apply(del("k"))
	if exec(s, watch(s, "k")) {
		t.Fatal("a key deleted before WATCH aborted")
	}
	// Expired at WATCH, deleted since: logically no change.
	s.Apply(&op.Op{Code: op.Set, Time: t0 - 100, Args: [][]byte{[]byte("e"), []byte("1"), []byte("0"), op.Itoa(t0 - 50)}})
	c = watch(s, "e")
	s.Apply(del("e"))
	if exec(s, c) {
		t.Fatal("deleting a key expired at WATCH aborted")
	}
	// ... but recreated, it aborts.
	c = watch(s, "e")
	s.Apply(txnSet("e", "again"))
	s.Apply(del("e"))
	if exec(s, c) == false {
		t.Fatal("a recreated key did not abort")
	}
}

// TestTxn_AbsentKeyCreatedThenSwappedAway: WATCH k (absent), k created in db
// 0, then SWAPDB 0 1 (k absent again in db 0): EXEC aborts, as in Redis.
func TestTxn_AbsentKeyCreatedThenSwappedAway(t *testing.T) {
	s := New(Options{})
	c := op.TxnCond{Key: []byte("k"), Rev: s.Revisions(0, [][]byte{[]byte("k")}, t0, nil)[0]}
	s.Apply(txnSet("k", "1"))
	s.Apply(&op.Op{Code: op.SwapDB, Time: t0, Args: [][]byte{[]byte("0"), []byte("1")}})
	var b op.TxnBuilder
	b.Cond(c.DB, c.Key, c.Rev)
	b.Step(txnSet("out", "1"))
	if !applyTxnOp(t, s, &b, t0).Aborted {
		t.Fatal("EXEC ran after the watched key was created and swapped away")
	}
}
