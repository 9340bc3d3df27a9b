package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/skiffdb/skiff/internal/op"
)

// genKV generates the keyspace API's operations for the snapshot tests.
func genKV(g *opGen, o *op.Op) {
	r := g.rng
	rev := func() []byte { return op.AppendUint(nil, uint64(r.IntN(400))) }
	at := func() []byte {
		if r.IntN(3) == 0 {
			return g.deadline()
		}
		return []byte("0")
	}
	switch r.IntN(3) {
	case 0:
		o.Code, o.Args = op.KVPut, [][]byte{g.key(), g.val(), at(), op.Itoa(int64(r.IntN(4))), rev()}
	case 1:
		o.Code, o.Args = op.KVDelete, [][]byte{g.key(), []byte("0")}
		if r.IntN(2) == 0 {
			o.Args[1] = rev()
		}
	default:
		o.Code = op.KVTxn
		n := r.IntN(3)
		o.Args = [][]byte{op.Itoa(int64(n))}
		for range n {
			switch t := r.IntN(3); t {
			case op.KVTargetValue:
				o.Args = append(o.Args, g.key(), op.Itoa(int64(t)), op.Itoa(int64(r.IntN(4))), g.val())
			case op.KVTargetRevision:
				o.Args = append(o.Args, g.key(), op.Itoa(int64(t)), op.Itoa(int64(r.IntN(4))), rev())
			default:
				o.Args = append(o.Args, g.key(), op.Itoa(int64(t)), op.Itoa(int64(r.IntN(2))), op.Itoa(int64(r.IntN(2))))
			}
		}
		steps := func() [][]byte {
			var a [][]byte
			for range r.IntN(3) {
				if r.IntN(3) == 0 {
					a = append(a, []byte("1"), g.key(), nil, nil)
				} else {
					a = append(a, []byte("0"), g.key(), g.val(), at())
				}
			}
			return a
		}
		then := steps()
		o.Args = append(o.Args, op.Itoa(int64(len(then)/4)))
		o.Args = append(append(o.Args, then...), steps()...)
	}
}

func kvApplyOp(t *testing.T, s *Store, code op.Code, now int64, args ...string) (any, error) {
	t.Helper()
	o := op.Op{Code: code, Time: now}
	for _, a := range args {
		o.Args = append(o.Args, []byte(a))
	}
	dec, _, err := op.Decode(op.Encode(&o))
	if err != nil {
		t.Fatal(err)
	}
	return s.Apply(&dec)
}

// kvDo applies one operation that must succeed and returns its KVResult.
func kvDo(t *testing.T, s *Store, code op.Code, now int64, args ...string) KVResult {
	t.Helper()
	v, err := kvApplyOp(t, s, code, now, args...)
	if err != nil {
		t.Fatal(err)
	}
	return v.(KVResult)
}

func TestKVPut_ConditionsAndRevisions(t *testing.T) {
	s := New(Options{})
	var rec feedRecorder
	s.SetListener(rec.listen)
	r := kvDo(t, s, op.KVPut, t0, "k", "v1", "0", "0", "0")
	if !r.Done || r.Rev != 1 {
		t.Fatalf("first put = %+v", r)
	}
	// if-absent on an existing key: not written, current revision.
	if r = kvDo(t, s, op.KVPut, t0, "k", "v2", "0", "1", "0"); r.Done || r.Rev != 1 {
		t.Fatalf("if-absent put = %+v", r)
	}
	// CAS with a stale revision, then the right one.
	if r = kvDo(t, s, op.KVPut, t0, "k", "v2", "0", "2", "7"); r.Done || r.Rev != 1 {
		t.Fatalf("CAS mismatch = %+v", r)
	}
	if r = kvDo(t, s, op.KVPut, t0, "k", "v2", strconv.FormatInt(t0+1000, 10), "2", "1"); !r.Done || r.Rev != 4 {
		t.Fatalf("CAS match = %+v", r)
	}
	kv, ok, rev, err := s.GetWithRevision(0, []byte("k"), t0)
	if err != nil || !ok || string(kv.Value) != "v2" || kv.Rev != 4 || kv.ExpireAt != t0+1000 || rev != 4 {
		t.Fatalf("GetWithRevision = %+v %v %d %v", kv, ok, rev, err)
	}
	// Past its deadline the key is absent: if-absent writes, CAS on 0 fails.
	if r = kvDo(t, s, op.KVPut, t0+2000, "k", "v3", "0", "2", "4"); r.Done || r.Rev != 0 {
		t.Fatalf("CAS on an expired key = %+v", r)
	}
	if r = kvDo(t, s, op.KVPut, t0+2000, "k", "v3", "0", "1", "0"); !r.Done || r.Rev != 6 {
		t.Fatalf("if-absent after expiry = %+v", r)
	}
	want := []string{"0 n new k", "0 $ set k", "0 $ set k", "0 g expire k", "0 x expired k", "0 n new k", "0 $ set k"}
	if !slices.Equal(rec.got, want) {
		t.Fatalf("events:\n got %q\nwant %q", rec.got, want)
	}
	// A put replaces another type, as SET does.
	kvApplyOp(t, s, op.HSet, t0, "h", "f", "v")
	if r = kvDo(t, s, op.KVPut, t0, "h", "s", "0", "0", "0"); !r.Done {
		t.Fatalf("put over a hash = %+v", r)
	}
	if _, err := kvApplyOp(t, s, op.KVPut, t0, "k", "v", "x", "0", "0"); !errors.Is(err, ErrMalformedOp) {
		t.Fatalf("malformed put: %v", err)
	}
}

func TestKVDelete_IfRevision(t *testing.T) {
	s := New(Options{})
	kvApplyOp(t, s, op.KVPut, t0, "k", "v", "0", "0", "0") // rev 1
	if r := kvDo(t, s, op.KVDelete, t0, "k", "9"); r.Done || r.Rev != 0 {
		t.Fatalf("delete with a stale revision = %+v", r)
	}
	if r := kvDo(t, s, op.KVDelete, t0, "k", "1"); !r.Done || r.Rev != 3 {
		t.Fatalf("delete = %+v", r)
	}
	if r := kvDo(t, s, op.KVDelete, t0, "k", "0"); r.Done || r.Rev != 0 {
		t.Fatalf("delete of an absent key = %+v", r)
	}
}

func TestKVTxn_BranchesAndCompares(t *testing.T) {
	s := New(Options{})
	kvApplyOp(t, s, op.KVPut, t0, "a", "5", "0", "0", "0") // rev 1
	kvApplyOp(t, s, op.ListPush, t0, "l", "1", "0", "x")   // rev 2
	txn := func(cmps [][4]string, then, els [][4]string) (KVResult, error) {
		args := []string{strconv.Itoa(len(cmps))}
		for _, c := range cmps {
			args = append(args, c[:]...)
		}
		args = append(args, strconv.Itoa(len(then)))
		for _, st := range append(then, els...) {
			args = append(args, st[:]...)
		}
		v, err := kvApplyOp(t, s, op.KVTxn, t0, args...)
		if err != nil {
			return KVResult{}, err
		}
		return v.(KVResult), nil
	}
	put := func(k, v string) [4]string { return [4]string{"0", k, v, "0"} }
	del := func(k string) [4]string { return [4]string{"1", k, "", ""} }
	cases := []struct {
		cmp  [4]string
		want bool
	}{
		{[4]string{"a", "0", "0", "5"}, true},
		{[4]string{"a", "0", "1", "5"}, false},
		{[4]string{"a", "0", "2", "6"}, true},
		{[4]string{"a", "0", "3", "6"}, false},
		{[4]string{"missing", "0", "1", "x"}, false}, // value compares of absent keys fail
		{[4]string{"a", "1", "0", "1"}, true},
		{[4]string{"a", "1", "3", "0"}, true},
		{[4]string{"missing", "1", "0", "0"}, true},
		{[4]string{"a", "2", "0", "1"}, true},
		{[4]string{"missing", "2", "0", "0"}, true},
		{[4]string{"missing", "2", "1", "0"}, false},
	}
	for _, c := range cases {
		r, err := txn([][4]string{c.cmp}, nil, nil)
		if err != nil || r.Done != c.want {
			t.Errorf("compare %q = %+v %v, want %v", c.cmp, r, err, c.want)
		}
	}
	before := s.Digest()
	if _, err := txn([][4]string{{"a", "0", "0", "5"}, {"l", "0", "0", "x"}}, [][4]string{put("b", "1")}, nil); !errors.Is(err, ErrWrongType) {
		t.Fatalf("value compare of a list: %v", err)
	}
	if _, err := txn([][4]string{{"a", "2", "2", "1"}}, nil, nil); !errors.Is(err, ErrMalformedOp) {
		t.Fatalf("exists with <: %v", err)
	}
	if s.Digest() != before {
		t.Fatal("a failed transaction changed the state")
	}
	// Then: both steps, one revision.
	r, err := txn([][4]string{{"a", "0", "0", "5"}}, [][4]string{put("b", "1"), del("a")}, [][4]string{put("c", "1")})
	if err != nil || !r.Done {
		t.Fatalf("then = %+v %v", r, err)
	}
	b, _, _, _ := s.GetWithRevision(0, []byte("b"), t0)
	if _, ok, _, _ := s.GetWithRevision(0, []byte("a"), t0); ok || b.Rev != r.Rev || s.Exists(0, [][]byte{[]byte("c")}, t0) != 0 {
		t.Fatalf("then branch: a present=%v b=%+v rev %d", ok, b, r.Rev)
	}
	// Else.
	r, err = txn([][4]string{{"a", "2", "0", "1"}}, [][4]string{put("d", "1")}, [][4]string{put("c", "2"), del("b")})
	if err != nil || r.Done {
		t.Fatalf("else = %+v %v", r, err)
	}
	if s.Exists(0, [][]byte{[]byte("c")}, t0) != 1 || s.Exists(0, [][]byte{[]byte("b"), []byte("d")}, t0) != 0 {
		t.Fatal("else branch not applied")
	}
	for _, bad := range [][]string{{}, {"1"}, {"0", "1", "0", "k"}, {"0", "0", "2", "k", "v", "0"}, {"x", "0"}} {
		if _, err := kvApplyOp(t, s, op.KVTxn, t0, bad...); !errors.Is(err, ErrMalformedOp) {
			t.Errorf("malformed txn %q: %v", bad, err)
		}
	}
}

// TestEvents_CarryStringValues: events of keys that hold a string after
// the change carry the value; other types and deletions do not.
func TestEvents_CarryStringValues(t *testing.T) {
	s := New(Options{})
	var got []string
	s.SetListener(func(ev *Event) int64 {
		if ev.Class != ClassNew {
			got = append(got, fmt.Sprintf("%s %s=%q/%v", ev.Name, ev.Key, ev.StrValue, ev.StrValue != nil))
		}
		return 0
	})
	steps := []struct {
		code op.Code
		args []string
	}{
		{op.Set, []string{"a", "1", "0", strconv.FormatInt(t0+5000, 10)}},
		{op.Append, []string{"a", "2"}},
		{op.IncrBy, []string{"a", "1"}},
		{op.Persist, []string{"a"}},
		{op.Rename, []string{"a", "b", "0"}},
		{op.Set, []string{"e", "", "0", "0"}},
		{op.ListPush, []string{"l", "1", "0", "x"}},
		{op.Expire, []string{"l", strconv.FormatInt(t0+5000, 10), "0"}},
		{op.Del, []string{"b"}},
	}
	for _, st := range steps {
		kvApplyOp(t, s, st.code, t0, st.args...)
	}
	want := []string{
		`set a="1"/true`, `expire a="1"/true`, `append a="12"/true`, `incrby a="13"/true`, `persist a="13"/true`,
		`rename_from a=""/false`, `rename_to b="13"/true`, `set e=""/true`, `rpush l=""/false`, `expire l=""/false`, `del b=""/false`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events:\n got %q\nwant %q", got, want)
	}
}

// TestRange_AgainstModel compares Range with a sorted model over random
// keys and every way of choosing them, paging to the end.
func TestRange_AgainstModel(t *testing.T) {
	s := New(Options{})
	rng := rand.New(rand.NewPCG(1, 2))
	model := map[string]bool{}
	for i := range 600 {
		k := fmt.Sprintf("%c%d", 'a'+rng.IntN(4), rng.IntN(300))
		at := "0"
		if i%17 == 0 {
			at = strconv.FormatInt(t0-1, 10) // expired at the read's time
		}
		kvApplyOp(t, s, op.Set, t0-10, k, "v"+k, "0", at)
		model[k] = at == "0"
	}
	kvApplyOp(t, s, op.ListPush, t0, "b-list", "1", "0", "x") // another type: skipped
	var live []string
	for k, ok := range model {
		if ok {
			live = append(live, k)
		}
	}
	slices.Sort(live)
	type sel struct{ prefix, start, end string }
	for _, sl := range []sel{{}, {prefix: "b"}, {prefix: "c1"}, {start: "b"}, {start: "b", end: "c2"}, {prefix: "zz"}} {
		for _, limit := range []int{1, 7, 1000} {
			var want []string
			for _, k := range live {
				if strings.HasPrefix(k, sl.prefix) && k >= sl.start && (sl.end == "" || k < sl.end) {
					want = append(want, k)
				}
			}
			var got []string
			var after []byte
			for pages := 0; ; pages++ {
				opts := RangeOptions{Prefix: []byte(sl.prefix), Start: []byte(sl.start), After: after, Limit: limit, KeysOnly: pages%2 == 1}
				if sl.end != "" {
					opts.End = []byte(sl.end)
				}
				kvs, more, rev := s.Range(0, opts, t0)
				if rev != s.CurrentRevision() {
					t.Fatalf("Range revision %d", rev)
				}
				if len(kvs) > limit || (more && len(kvs) != limit) {
					t.Fatalf("%+v: page of %d, more=%v", sl, len(kvs), more)
				}
				for _, kv := range kvs {
					got = append(got, string(kv.Key))
					if opts.KeysOnly != (kv.Value == nil) || (!opts.KeysOnly && !bytes.Equal(kv.Value, append([]byte("v"), kv.Key...))) {
						t.Fatalf("%q: value %q (keys only %v)", kv.Key, kv.Value, opts.KeysOnly)
					}
				}
				if !more {
					break
				}
				after = kvs[len(kvs)-1].Key
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%+v limit %d:\n got %q\nwant %q", sl, limit, got, want)
			}
		}
	}
}

func TestGetWithRevision_WrongTypeAndAbsent(t *testing.T) {
	s := New(Options{})
	kvApplyOp(t, s, op.ListPush, t0, "l", "1", "0", "x")
	if _, _, _, err := s.GetWithRevision(0, []byte("l"), t0); !errors.Is(err, ErrWrongType) {
		t.Fatalf("list: %v", err)
	}
	if _, ok, rev, err := s.GetWithRevision(0, []byte("nope"), t0); ok || err != nil || rev != 1 {
		t.Fatalf("absent: %v %d %v", ok, rev, err)
	}
	if _, ok, _, _ := s.GetWithRevision(99, []byte("l"), t0); ok {
		t.Fatal("bad db found a key")
	}
}
