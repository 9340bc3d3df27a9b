package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/skiffdb/skiff/internal/op"
)

const t0 = int64(1_700_000_000_000)

func apply(t *testing.T, s *Store, code op.Code, now int64, args ...string) (any, error) {
	t.Helper()
	o := op.Op{Code: code, Time: now}
	for _, a := range args {
		o.Args = append(o.Args, []byte(a))
	}
	// Apply what the log will carry: the encoded and decoded operation.
	dec, _, err := op.Decode(op.Encode(&o))
	if err != nil {
		t.Fatal(err)
	}
	return s.Apply(&dec)
}

func get(s *Store, key string, now int64) (string, bool) {
	v, ok, _ := s.Get(0, []byte(key), now)
	return string(v), ok
}

func TestSet_Conditions(t *testing.T) {
	s := New(Options{})
	tests := []struct {
		name    string
		flags   int
		at      int64
		wantSet bool
		wantVal string
	}{
		{"xx on missing", op.SetXX, 0, false, ""},
		{"nx on missing", op.SetNX, 0, true, "v1"},
		{"nx on existing", op.SetNX, 0, false, "v1"},
		{"xx on existing", op.SetXX, 0, true, "v3"},
		{"plain", 0, t0 + 1000, true, "v4"},
		{"keepttl", op.SetKeepTTL, 0, true, "v5"},
	}
	for i, tc := range tests {
		val := "v" + strconv.Itoa(i)
		r, err := apply(t, s, op.Set, t0, "k", val, strconv.Itoa(tc.flags), strconv.FormatInt(tc.at, 10))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if (r.(int64) == 1) != tc.wantSet {
			t.Fatalf("%s: reply = %v", tc.name, r)
		}
		if got, _ := get(s, "k", t0); got != tc.wantVal {
			t.Fatalf("%s: value %q, want %q", tc.name, got, tc.wantVal)
		}
	}
	if at, _ := s.Deadline(0, []byte("k"), t0); at != t0+1000 {
		t.Fatalf("KEEPTTL lost the deadline: %d", at)
	}
}

func TestSet_GetOnWrongTypeFailsWithoutWriting(t *testing.T) {
	s := New(Options{})
	// Fake a non-string value directly: only strings exist in this version.
	s.setEntry(s.dbs[0], []byte("h"), value{typ: Type(99)}, 0)
	_, err := apply(t, s, op.Set, t0, "h", "v", strconv.Itoa(op.SetGet), "0")
	if !errors.Is(err, ErrWrongType) {
		t.Fatalf("err = %v, want wrong type", err)
	}
	if s.Type(0, []byte("h"), t0) != Type(99) {
		t.Fatal("value was overwritten")
	}
}

func TestExpiry_LazyAndActive(t *testing.T) {
	s := New(Options{})
	apply(t, s, op.Set, t0, "a", "1", "0", strconv.FormatInt(t0+100, 10))
	apply(t, s, op.Set, t0, "b", "2", "0", strconv.FormatInt(t0+200, 10))
	apply(t, s, op.Set, t0, "c", "3", "0", "0")
	if _, ok := get(s, "a", t0+99); !ok {
		t.Fatal("a expired early")
	}
	if _, ok := get(s, "a", t0+100); ok {
		t.Fatal("a readable at its deadline")
	}
	// Reads never delete: the key still counts until removed through an op.
	if n := s.DBSize(0); n != 3 {
		t.Fatalf("dbsize = %d, want 3 before the expiry op", n)
	}
	keys := s.ExpiredKeys(0, t0+150, 10)
	if len(keys) != 1 || string(keys[0]) != "a" {
		t.Fatalf("expired keys = %q", keys)
	}
	// The op re-checks deadlines at its own time: b is not yet expired at t0+150.
	n, _ := apply(t, s, op.Expired, t0+150, "a", "b", "c")
	if n.(int64) != 1 || s.DBSize(0) != 2 {
		t.Fatalf("expired removed %v, dbsize %d", n, s.DBSize(0))
	}
	// A write at a time past the deadline sees the key as absent.
	r, _ := apply(t, s, op.Set, t0+300, "b", "new", strconv.Itoa(op.SetNX), "0")
	if r.(int64) != 1 {
		t.Fatal("SET NX on an expired key did not write")
	}
	if at, _ := s.Deadline(0, []byte("b"), t0+300); at != 0 {
		t.Fatalf("new value inherited deadline %d", at)
	}
}

func TestExpire_Conditions(t *testing.T) {
	s := New(Options{})
	apply(t, s, op.Set, t0, "k", "v", "0", "0")
	cases := []struct {
		at   int64
		cond int
		want int64
		then int64 // deadline after
	}{
		{t0 + 5000, op.ExpireXX, 0, 0},
		{t0 + 5000, op.ExpireGT, 0, 0}, // no deadline = infinite: GT fails
		{t0 + 5000, op.ExpireLT, 1, t0 + 5000},
		{t0 + 9000, op.ExpireNX, 0, t0 + 5000},
		{t0 + 4000, op.ExpireGT, 0, t0 + 5000},
		{t0 + 9000, op.ExpireGT | op.ExpireXX, 1, t0 + 9000},
		{t0 + 9500, op.ExpireLT, 0, t0 + 9000},
	}
	for i, c := range cases {
		r, err := apply(t, s, op.Expire, t0, "k", strconv.FormatInt(c.at, 10), strconv.Itoa(c.cond))
		if err != nil || r.(int64) != c.want {
			t.Fatalf("case %d: got %v %v, want %d", i, r, err, c.want)
		}
		if at, _ := s.Deadline(0, []byte("k"), t0); at != c.then {
			t.Fatalf("case %d: deadline %d, want %d", i, at, c.then)
		}
	}
	// A deadline in the past deletes the key.
	r, _ := apply(t, s, op.Expire, t0, "k", strconv.FormatInt(t0-1, 10), "0")
	if r.(int64) != 1 || s.Exists(0, [][]byte{[]byte("k")}, t0) != 0 {
		t.Fatal("past deadline did not delete")
	}
}

func TestIncr_Errors(t *testing.T) {
	s := New(Options{})
	apply(t, s, op.Set, t0, "s", "abc", "0", "0")
	apply(t, s, op.Set, t0, "big", "9223372036854775807", "0", "0")
	apply(t, s, op.Set, t0, "sp", " 1", "0", "0")
	if _, err := apply(t, s, op.IncrBy, t0, "s", "1"); !errors.Is(err, ErrNotInteger) {
		t.Fatalf("incr of text: %v", err)
	}
	if _, err := apply(t, s, op.IncrBy, t0, "sp", "1"); !errors.Is(err, ErrNotInteger) {
		t.Fatalf("incr of ' 1': %v", err)
	}
	if _, err := apply(t, s, op.IncrBy, t0, "big", "1"); !errors.Is(err, ErrOverflow) {
		t.Fatalf("overflow: %v", err)
	}
	r, err := apply(t, s, op.IncrBy, t0, "n", "-5")
	if err != nil || r.(int64) != -5 {
		t.Fatalf("incrby missing: %v %v", r, err)
	}
}

func TestIncrByFloat_MatchesRedisDigits(t *testing.T) {
	cases := []struct{ start, delta, want string }{
		{"10.50", "0.1", "10.6"},
		{"0.1", "0.2", "0.3"},
		{"5.0e3", "2.0e2", "5200"},
		{"3", "-3", "0"},
		{"1", "1.5", "2.5"},
	}
	for _, c := range cases {
		s := New(Options{})
		apply(t, s, op.Set, t0, "k", c.start, "0", "0")
		r, err := apply(t, s, op.IncrByFloat, t0, "k", c.delta)
		if err != nil || string(r.([]byte)) != c.want {
			t.Fatalf("%s + %s = %q %v, want %s", c.start, c.delta, r, err, c.want)
		}
	}
	s := New(Options{})
	apply(t, s, op.Set, t0, "k", "1", "0", "0")
	if _, err := apply(t, s, op.IncrByFloat, t0, "k", "inf"); !errors.Is(err, ErrNaN) {
		t.Fatalf("inf: %v", err)
	}
}

func TestAppendDoesNotDisturbHeldValue(t *testing.T) {
	s := New(Options{})
	apply(t, s, op.Set, t0, "k", "abc", "0", "0")
	apply(t, s, op.Append, t0, "k", "d")
	held, _, _ := s.Get(0, []byte("k"), t0)
	apply(t, s, op.Append, t0, "k", "XYZ")
	apply(t, s, op.SetRange, t0, "k", "0", "Q")
	if string(held) != "abcd" {
		t.Fatalf("held value changed to %q", held)
	}
	if v, _ := get(s, "k", t0); v != "QbcdXYZ" {
		t.Fatalf("value = %q", v)
	}
}

func TestRenameCopyMove(t *testing.T) {
	s := New(Options{})
	apply(t, s, op.Set, t0, "a", "1", "0", strconv.FormatInt(t0+1000, 10))
	if _, err := apply(t, s, op.Rename, t0, "missing", "x", "0"); !errors.Is(err, ErrNoSuchKey) {
		t.Fatalf("rename missing: %v", err)
	}
	apply(t, s, op.Rename, t0, "a", "b", "0")
	if at, ok := s.Deadline(0, []byte("b"), t0); !ok || at != t0+1000 {
		t.Fatalf("rename lost key or deadline: %v %d", ok, at)
	}
	r, _ := apply(t, s, op.Copy, t0, "b", "c", "3", "0")
	if r.(int64) != 1 {
		t.Fatal("copy failed")
	}
	if v, ok, _ := s.Get(3, []byte("c"), t0); !ok || string(v) != "1" {
		t.Fatal("copy to db 3 missing")
	}
	r, _ = apply(t, s, op.Move, t0, "b", "3")
	if r.(int64) != 1 || s.Exists(0, [][]byte{[]byte("b")}, t0) != 0 {
		t.Fatal("move failed")
	}
	r, _ = apply(t, s, op.Copy, t0, "zz", "c", "0", "0")
	if r.(int64) != 0 {
		t.Fatal("copy of missing key succeeded")
	}
}

func TestApply_MalformedOpChangesNothing(t *testing.T) {
	s := New(Options{})
	before := s.Digest()
	bad := []op.Op{
		{Code: op.Set, Args: [][]byte{[]byte("k")}},
		{Code: op.Set, Args: [][]byte{[]byte("k"), []byte("v"), []byte("x"), []byte("0")}},
		{Code: op.SwapDB, Args: [][]byte{[]byte("0"), []byte("99")}},
		{Code: op.Code(200)},
		{Code: op.Del, DB: 99},
	}
	for _, o := range bad {
		if _, err := s.Apply(&o); !errors.Is(err, ErrMalformedOp) {
			t.Fatalf("%v: err = %v", o.Code, err)
		}
	}
	if s.Digest() != before {
		t.Fatal("malformed ops changed the state")
	}
}

// randomOps generates a reproducible mix of every string and key operation.
func randomOps(seed uint64, n int) []op.Op {
	rng := rand.New(rand.NewPCG(seed, seed))
	key := func() []byte { return []byte(fmt.Sprint("k", rng.IntN(40))) }
	num := func(v int64) []byte { return op.Itoa(v) }
	now := t0
	var ops []op.Op
	for i := 0; i < n; i++ {
		now += int64(rng.IntN(50))
		o := op.Op{DB: rng.IntN(3), Time: now}
		switch rng.IntN(12) {
		case 0:
			at := int64(0)
			if rng.IntN(2) == 0 {
				at = now + int64(rng.IntN(500))
			}
			o.Code, o.Args = op.Set, [][]byte{key(), num(int64(rng.IntN(1000))), num(int64(rng.IntN(16))), num(at)}
		case 1:
			o.Code, o.Args = op.Del, [][]byte{key(), key()}
		case 2:
			o.Code, o.Args = op.IncrBy, [][]byte{key(), num(int64(rng.IntN(10) - 5))}
		case 3:
			o.Code, o.Args = op.Append, [][]byte{key(), []byte("x")}
		case 4:
			o.Code, o.Args = op.Expire, [][]byte{key(), num(now + int64(rng.IntN(400)-100)), num(int64(rng.IntN(16)))}
		case 5:
			o.Code, o.Args = op.Persist, [][]byte{key()}
		case 6:
			o.Code, o.Args = op.Rename, [][]byte{key(), key(), num(int64(rng.IntN(2)))}
		case 7:
			o.Code, o.Args = op.Copy, [][]byte{key(), key(), num(int64(rng.IntN(3))), num(int64(rng.IntN(2)))}
		case 8:
			o.Code, o.Args = op.SetRange, [][]byte{key(), num(int64(rng.IntN(8))), []byte("yz")}
		case 9:
			o.Code, o.Args = op.Expired, [][]byte{key(), key(), key()}
		case 10:
			o.Code, o.Args = op.GetEx, [][]byte{key(), num(now + int64(rng.IntN(300)))}
		default:
			o.Code, o.Args = op.IncrByFloat, [][]byte{key(), []byte("1.5")}
		}
		ops = append(ops, o)
	}
	return ops
}

// TestDeterminism: the same operations applied to two stores (with different
// hash seeds, so different table layouts) give byte-identical state.
func TestDeterminism(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		ops := randomOps(seed, 3000)
		a, b := New(Options{}), New(Options{})
		for i := range ops {
			ra, ea := a.Apply(&ops[i])
			rb, eb := b.Apply(&ops[i])
			if fmt.Sprint(ra, ea) != fmt.Sprint(rb, eb) {
				t.Fatalf("seed %d op %d: replies differ: %v/%v vs %v/%v", seed, i, ra, ea, rb, eb)
			}
		}
		if a.Digest() != b.Digest() {
			t.Fatalf("seed %d: digests differ", seed)
		}
		if a.Digest() == New(Options{}).Digest() {
			t.Fatalf("seed %d: digest did not change", seed)
		}
	}
}

// TestModel checks strings against a tiny reference model (a map) under a
// random sequence of SET/DEL/INCRBY/APPEND without expiry.
func TestModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	s := New(Options{})
	model := map[string]string{}
	for i := 0; i < 20000; i++ {
		k := fmt.Sprint("k", rng.IntN(100))
		switch rng.IntN(4) {
		case 0:
			v := fmt.Sprint(rng.IntN(100))
			apply(t, s, op.Set, t0, k, v, "0", "0")
			model[k] = v
		case 1:
			r, _ := apply(t, s, op.Del, t0, k)
			_, had := model[k]
			if (r.(int64) == 1) != had {
				t.Fatalf("del %s: %v, model had %v", k, r, had)
			}
			delete(model, k)
		case 2:
			r, err := apply(t, s, op.IncrBy, t0, k, "3")
			cur, had := model[k]
			n, perr := strconv.ParseInt(cur, 10, 64)
			if had && perr != nil {
				if err == nil {
					t.Fatalf("incr of %q succeeded", cur)
				}
				continue
			}
			model[k] = strconv.FormatInt(n+3, 10)
			if err != nil || r.(int64) != n+3 {
				t.Fatalf("incr %s: %v %v", k, r, err)
			}
		case 3:
			apply(t, s, op.Append, t0, k, "a")
			model[k] += "a"
		}
	}
	if int(s.DBSize(0)) != len(model) {
		t.Fatalf("dbsize %d, model %d", s.DBSize(0), len(model))
	}
	for k, v := range model {
		if got, ok := get(s, k, t0); !ok || got != v {
			t.Fatalf("%s = %q, model %q", k, got, v)
		}
	}
}

func TestScanAndKeys(t *testing.T) {
	s := New(Options{})
	for i := 0; i < 500; i++ {
		apply(t, s, op.Set, t0, fmt.Sprint("user:", i), "x", "0", "0")
	}
	apply(t, s, op.Set, t0, "other", "x", "0", "0")
	if n := len(s.Keys(0, []byte("user:*"), t0)); n != 500 {
		t.Fatalf("KEYS user:* = %d", n)
	}
	seen := map[string]bool{}
	var cursor uint64
	for {
		var keys [][]byte
		cursor, keys = s.Scan(0, cursor, ScanOptions{Match: []byte("user:1*"), Count: 20}, t0)
		for _, k := range keys {
			seen[string(k)] = true
		}
		if cursor == 0 {
			break
		}
	}
	if len(seen) != 111 { // user:1, user:10-19, user:100-199
		t.Fatalf("SCAN MATCH user:1* found %d keys", len(seen))
	}
}

func BenchmarkApplySet(b *testing.B) {
	s := New(Options{})
	o := op.Op{Code: op.Set, Time: t0, Args: [][]byte{[]byte("key"), []byte("value"), []byte("0"), []byte("0")}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.Apply(&o)
	}
}

func BenchmarkGet(b *testing.B) {
	s := New(Options{})
	o := op.Op{Code: op.Set, Time: t0, Args: [][]byte{[]byte("key"), []byte("value"), []byte("0"), []byte("0")}}
	s.Apply(&o)
	key := []byte("key")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.Get(0, key, t0)
	}
}

// BenchmarkApplyPushPop is a queue's pattern: each push creates the list and
// each pop of its last element deletes it.
func BenchmarkApplyPushPop(b *testing.B) {
	s := New(Options{})
	push := op.Op{Code: op.ListPush, Time: t0, Args: [][]byte{[]byte("queue:default"), []byte("1"), []byte("0"), []byte("job")}}
	pop := op.Op{Code: op.ListPop, Time: t0, Args: [][]byte{[]byte("queue:default"), []byte("1"), []byte("-1")}}
	if _, err := s.Apply(&push); err != nil {
		b.Fatal(err)
	}
	if _, err := s.Apply(&pop); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.Apply(&push)
		s.Apply(&pop)
	}
}
