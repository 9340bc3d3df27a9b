package store

// Model-based tests (pebble's metamorphic tests in miniature): a seeded
// random sequence of operations is applied both to the store, through Apply
// with encoded and decoded op.Op values as the log carries them, and to a
// reference model in plain Go (slices and maps re-implementing Redis's
// semantics straightforwardly). Every reply is compared with the model's;
// after every operation the keys it names, and every modelCheckEvery
// operations and at the end the whole keyspace, are compared through the
// store's read API (TYPE, EXISTS, deadlines, KEYS and the family's reads).
//
// A failure names the seed and the operation index; rerun it alone with
//
//	go test ./internal/store -run TestListModel -model.seed N
//
// This file holds the harness shared with hash_model_test.go and
// set_model_test.go, and the list model.

import (
	"errors"
	"flag"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/skiffdb/skiff/internal/op"
)

var (
	modelSeed  = flag.Uint64("model.seed", 0, "run the model tests with this seed only")
	modelSteps = flag.Int("model.steps", 0, "operations per seed in the model tests (0 = default)")
)

const (
	modelDBs        = 2
	modelCheckEvery = 25
)

// modelKeys is the keyspace of every database: few keys, so that operations
// keep meeting each other (and the strings written by SET).
var modelKeys = [...]string{"k0", "k1", "k2", "k3", "k4"}

// refEntry is one key of the reference model; of the value fields, only the
// one of its type is used.
type refEntry struct {
	typ      Type
	expireAt int64 // unix ms; 0 = none
	str      string
	list     []string
	hash     *refHash
	set      *refSet
}

// clone is a deep copy of e (COPY).
func (e *refEntry) clone() *refEntry {
	c := *e
	c.list = slices.Clone(e.list)
	if e.hash != nil {
		c.hash = &refHash{names: slices.Clone(e.hash.names), vals: maps.Clone(e.hash.vals), big: e.hash.big}
	}
	if e.set != nil {
		c.set = &refSet{members: maps.Clone(e.set.members), intset: e.set.intset}
	}
	return &c
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// modelFamily is what a data type adds to the harness.
type modelFamily struct {
	// gen picks an operation of the family on r.db and returns it with its
	// execution on the model, which returns the reply the store must give.
	gen func(r *modelRun) (op.Op, func() (any, error))
	// check compares key of database db between the store and the model
	// through the family's read methods (also when the key is absent or
	// holds a string).
	check func(r *modelRun, db int, key string)
	// codes are the family's op codes: each must have succeeded at least
	// once (and failed with an error at least once, when listed in
	// errCodes), or the generator has lost its reach.
	codes, errCodes []op.Code
}

// modelRun is one seeded run.
type modelRun struct {
	t    *testing.T
	seed uint64
	step int
	desc string     // the current operation, for failure messages
	rng  *rand.Rand // operations
	rrng *rand.Rand // reads (so that checks do not change the operations)
	s    *Store
	dbs  [modelDBs]map[string]*refEntry
	db   int // database of the current operation
	now  int64
}

// runModel runs fam over several seeds.
func runModel(t *testing.T, fam modelFamily) {
	seeds := []uint64{1, 2, 3, 4}
	if *modelSeed != 0 {
		seeds = []uint64{*modelSeed}
	}
	steps := 2500
	if *modelSteps > 0 {
		steps = *modelSteps
	}
	outcomes := map[string]int{} // "code: ok" or "code: error", for the log
	for _, seed := range seeds {
		r := &modelRun{
			t: t, seed: seed,
			rng:  rand.New(rand.NewPCG(seed, 1)),
			rrng: rand.New(rand.NewPCG(seed, 2)),
			s:    New(Options{Databases: modelDBs}),
			now:  t0,
		}
		for i := range r.dbs {
			r.dbs[i] = map[string]*refEntry{}
		}
		for r.step = 0; r.step < steps; r.step++ {
			r.now += int64(r.rng.IntN(40))
			r.db = r.rng.IntN(modelDBs)
			var o op.Op
			var run func() (any, error)
			if r.rng.IntN(100) < 12 {
				o, run = r.genKeyOp()
			} else {
				o, run = fam.gen(r)
			}
			o.DB, o.Time = r.db, r.now
			r.desc = describeOp(&o)
			want, wantErr := run()
			got, gotErr := r.apply(o)
			r.checkReply(got, gotErr, want, wantErr)
			outcome := "ok"
			if gotErr != nil {
				outcome = gotErr.Error()
			}
			outcomes[o.Code.String()+": "+outcome]++
			for _, k := range modelKeys {
				if slices.ContainsFunc(o.Args, func(a []byte) bool { return string(a) == k }) {
					r.checkKey(fam, r.db, k)
					if o.Code == op.Copy || o.Code == op.Move {
						r.checkKey(fam, 1-r.db, k)
					}
				}
			}
			if r.step%modelCheckEvery == 0 {
				r.checkAll(fam)
			}
		}
		r.desc = "final check"
		r.checkAll(fam)
	}
	names := slices.Sorted(maps.Keys(outcomes))
	for _, n := range names {
		t.Logf("%6d %s", outcomes[n], n)
	}
	for _, c := range fam.codes {
		if outcomes[c.String()+": ok"] == 0 {
			t.Errorf("no %v succeeded", c)
		}
	}
	for _, c := range fam.errCodes {
		if !slices.ContainsFunc(names, func(n string) bool {
			return strings.HasPrefix(n, c.String()+": ") && !strings.HasSuffix(n, ": ok")
		}) {
			t.Errorf("no %v failed", c)
		}
	}
}

func (r *modelRun) fatalf(format string, args ...any) {
	r.t.Helper()
	r.t.Fatalf("seed %d op %d (%s): %s\n(rerun: go test ./internal/store -run '^%s$' -model.seed %d -model.steps %d)",
		r.seed, r.step, r.desc, fmt.Sprintf(format, args...), r.t.Name(), r.seed, r.step+1)
}

func describeOp(o *op.Op) string {
	var b strings.Builder
	fmt.Fprintf(&b, "db %d t0+%d %v", o.DB, o.Time-t0, o.Code)
	for i, a := range o.Args {
		if i == 8 {
			fmt.Fprintf(&b, " ...(%d args)", len(o.Args))
			break
		}
		fmt.Fprintf(&b, " %q", a)
	}
	return b.String()
}

// apply applies o to the store as a replica receives it: encoded and decoded.
func (r *modelRun) apply(o op.Op) (any, error) {
	dec, _, err := op.Decode(op.Encode(&o))
	if err != nil {
		r.fatalf("decode: %v", err)
	}
	return r.s.Apply(&dec)
}

// atMost is a model reply that only bounds an int64 reply: op.Expired counts
// the keys it removes, and the store may already have removed an expired
// key lazily (its write path does; the model does not track which keys each
// write looks up).
type atMost int64

func (r *modelRun) checkReply(got any, gotErr error, want any, wantErr error) {
	switch {
	case wantErr != nil:
		if !errors.Is(gotErr, wantErr) {
			r.fatalf("error %v (reply %s), model error %v", gotErr, renderReply(got), wantErr)
		}
	case gotErr != nil:
		r.fatalf("error %v, model reply %s", gotErr, renderReply(want))
	default:
		if n, ok := want.(atMost); ok {
			if g, ok := got.(int64); !ok || g < 0 || g > int64(n) {
				r.fatalf("reply %s, model at most :%d", renderReply(got), n)
			}
			return
		}
		if g, w := renderReply(got), renderReply(want); g != w {
			r.fatalf("reply %s, model %s", g, w)
		}
	}
}

// renderReply renders an Apply reply as the client would see it: a nil
// []byte is a null bulk like untyped nil, a nil [][]byte an empty array
// (the command layer's reply functions treat them so).
func renderReply(v any) string {
	switch x := v.(type) {
	case nil:
		return "(nil)"
	case int64:
		return ":" + strconv.FormatInt(x, 10)
	case []byte:
		if x == nil {
			return "(nil)"
		}
		return strconv.Quote(string(x))
	case [][]byte:
		return fmt.Sprintf("%q", bulkStrings(x))
	}
	return fmt.Sprintf("%T(%v)", v, v)
}

func bulkStrings(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = string(b)
	}
	return out
}

func bulks(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// mkop builds an operation from string arguments (fresh slices: the store
// keeps argument slices as values).
func mkop(code op.Code, args ...string) op.Op {
	return op.Op{Code: code, Args: bulks(args)}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func flag01(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func (r *modelRun) key() string { return modelKeys[r.rng.IntN(len(modelKeys))] }

func (r *modelRun) keyList(n int) []string {
	ks := make([]string, n)
	for i := range ks {
		ks[i] = r.key()
	}
	return ks
}

// getIn returns key's model entry in database db if it exists at r.now.
// Expired entries stay in the map (as in the store) until a write replaces
// or removes them, or op.Expired does.
func (r *modelRun) getIn(db int, key string) *refEntry {
	e := r.dbs[db][key]
	if e == nil || (e.expireAt != 0 && e.expireAt <= r.now) {
		return nil
	}
	return e
}

func (r *modelRun) get(key string) *refEntry { return r.getIn(r.db, key) }

// lookup is get for a command on type t: ErrWrongType when key holds
// another type.
func (r *modelRun) lookup(key string, t Type) (*refEntry, error) {
	e := r.get(key)
	if e != nil && e.typ != t {
		return nil, ErrWrongType
	}
	return e, nil
}

// put creates or replaces key in the current database (without a deadline
// unless e has one).
func (r *modelRun) put(key string, e *refEntry) { r.dbs[r.db][key] = e }

func (r *modelRun) del(key string) { delete(r.dbs[r.db], key) }

// genKeyOp generates an operation of the keyspace, shared by every family:
// SET (a string meets the family's type: WRONGTYPE, overwrites), DEL,
// EXPIRE, PERSIST, the expiry cycle's op.Expired, COPY (deep copies),
// RENAME, MOVE and SWAPDB.
func (r *modelRun) genKeyOp() (op.Op, func() (any, error)) {
	rng := r.rng
	k := r.key()
	switch p := rng.IntN(100); {
	case p < 25:
		val := "s" + strconv.Itoa(rng.IntN(10))
		flags := [...]int64{0, 0, op.SetNX, op.SetXX}[rng.IntN(4)]
		at := int64(0)
		if rng.IntN(3) == 0 {
			at = r.now + 1 + int64(rng.IntN(3)*rng.IntN(250))
		}
		return mkop(op.Set, k, val, itoa(flags), itoa(at)), func() (any, error) {
			e := r.get(k)
			if (flags&op.SetNX != 0 && e != nil) || (flags&op.SetXX != 0 && e == nil) {
				return int64(0), nil
			}
			r.put(k, &refEntry{typ: TypeString, str: val, expireAt: at})
			return int64(1), nil
		}
	case p < 37:
		keys := r.keyList(1 + rng.IntN(2))
		return mkop(op.Del, keys...), func() (any, error) {
			var n int64
			for _, k := range keys {
				if r.get(k) != nil {
					r.del(k)
					n++
				}
			}
			return n, nil
		}
	case p < 57:
		// Deadlines now and just after it too: the boundary (a key whose
		// deadline is the current time is gone) is where bugs hide.
		at := r.now + int64(rng.IntN(700)) - 100
		if rng.IntN(3) == 0 {
			at = r.now + int64(rng.IntN(3)*rng.IntN(20))
		}
		cond := [...]int64{0, 0, 0, op.ExpireNX, op.ExpireXX, op.ExpireGT, op.ExpireLT}[rng.IntN(7)]
		return mkop(op.Expire, k, itoa(at), itoa(cond)), func() (any, error) {
			e := r.get(k)
			if e == nil {
				return int64(0), nil
			}
			switch {
			case cond == op.ExpireNX && e.expireAt != 0,
				cond == op.ExpireXX && e.expireAt == 0,
				cond == op.ExpireGT && (e.expireAt == 0 || at <= e.expireAt),
				cond == op.ExpireLT && e.expireAt != 0 && at >= e.expireAt:
				return int64(0), nil
			}
			if at <= r.now {
				r.del(k)
			} else {
				e.expireAt = at
			}
			return int64(1), nil
		}
	case p < 63:
		return mkop(op.Persist, k), func() (any, error) {
			e := r.get(k)
			if e == nil || e.expireAt == 0 {
				return int64(0), nil
			}
			e.expireAt = 0
			return int64(1), nil
		}
	case p < 78:
		// What the expiry cycle proposes (ExpiredKeys), plus any key.
		keys := []string{k}
		for _, ek := range r.s.ExpiredKeys(r.db, r.now, 3) {
			keys = append(keys, string(ek))
		}
		return mkop(op.Expired, keys...), func() (any, error) {
			var n int64
			for _, k := range keys {
				if e := r.dbs[r.db][k]; e != nil && e.expireAt != 0 && e.expireAt <= r.now {
					r.del(k)
					n++
				}
			}
			return atMost(n), nil
		}
	case p < 88: // COPY, to this database or the other (a deep copy: later
		// writes to either key must not show in the other)
		dst, dstDB, replace := r.key(), rng.IntN(modelDBs), rng.IntN(2) == 0
		if dstDB == r.db && dst == k {
			dstDB = 1 - r.db // the command refuses a key onto itself
		}
		return mkop(op.Copy, k, dst, itoa(int64(dstDB)), flag01(replace)), func() (any, error) {
			e := r.get(k)
			if e == nil || (r.getIn(dstDB, dst) != nil && !replace) {
				return int64(0), nil
			}
			r.dbs[dstDB][dst] = e.clone()
			return int64(1), nil
		}
	case p < 94: // RENAME, RENAMENX (also onto itself)
		dst, nx := r.key(), rng.IntN(3) == 0
		return mkop(op.Rename, k, dst, flag01(nx)), func() (any, error) {
			e := r.get(k)
			switch {
			case e == nil:
				return nil, ErrNoSuchKey
			case dst == k:
				return int64(boolInt(!nx)), nil
			case nx && r.get(dst) != nil:
				return int64(0), nil
			}
			r.del(k)
			r.put(dst, e)
			return int64(1), nil
		}
	case p < 98: // MOVE to the other database
		dstDB := 1 - r.db
		return mkop(op.Move, k, itoa(int64(dstDB))), func() (any, error) {
			e := r.get(k)
			if e == nil || r.getIn(dstDB, k) != nil {
				return int64(0), nil
			}
			r.del(k)
			r.dbs[dstDB][k] = e
			return int64(1), nil
		}
	default:
		return mkop(op.SwapDB, "0", "1"), func() (any, error) {
			r.dbs[0], r.dbs[1] = r.dbs[1], r.dbs[0]
			return nil, nil
		}
	}
}

// checkKey compares key of database db: type, existence, deadline, a
// string's value, and the family's reads.
func (r *modelRun) checkKey(fam modelFamily, db int, key string) {
	e := r.getIn(db, key)
	k := []byte(key)
	wantType := TypeNone
	if e != nil {
		wantType = e.typ
	}
	if got := r.s.Type(db, k, r.now); got != wantType {
		r.fatalf("TYPE db %d %s = %v, model %v", db, key, got, wantType)
	}
	wantN := int64(0)
	if e != nil {
		wantN = 2
	}
	if got := r.s.Exists(db, [][]byte{k, k}, r.now); got != wantN {
		r.fatalf("EXISTS db %d %s %s = %d, model %d", db, key, key, got, wantN)
	}
	at, exists := r.s.Deadline(db, k, r.now)
	if exists != (e != nil) || (e != nil && at != e.expireAt) {
		r.fatalf("deadline of db %d %s = %d (exists %v), model %+v", db, key, at, exists, e)
	}
	v, found, err := r.s.Get(db, k, r.now)
	switch {
	case e != nil && e.typ == TypeString:
		if err != nil || !found || string(v) != e.str {
			r.fatalf("GET db %d %s = %q %v %v, model %q", db, key, v, found, err, e.str)
		}
	case e != nil:
		if !errors.Is(err, ErrWrongType) {
			r.fatalf("GET db %d %s (a %v): err %v, want WRONGTYPE", db, key, e.typ, err)
		}
	default:
		if err != nil || found {
			r.fatalf("GET db %d %s (absent) = %q %v %v", db, key, v, found, err)
		}
	}
	fam.check(r, db, key)
}

// checkAll compares the whole keyspace: every key of every database, and
// KEYS * (no key the model lacks).
func (r *modelRun) checkAll(fam modelFamily) {
	for db := range modelDBs {
		var want []string
		for k := range r.dbs[db] {
			if r.getIn(db, k) != nil {
				want = append(want, k)
			}
		}
		got := bulkStrings(r.s.Keys(db, []byte("*"), r.now))
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			r.fatalf("KEYS * in db %d = %q, model %q", db, got, want)
		}
		for _, k := range modelKeys {
			r.checkKey(fam, db, k)
		}
	}
}

// readErr is the error a read of type t must return for entry e.
func readErr(e *refEntry, t Type) error {
	if e != nil && e.typ != t {
		return ErrWrongType
	}
	return nil
}

// expectEq compares a read's result and error with the model's; what names
// the read (called only to report a mismatch).
func expectEq[T comparable](r *modelRun, what func() string, got T, gotErr error, want T, wantErr error) {
	r.expect(what, gotErr == nil && wantErr == nil && got == want, got, gotErr, want, wantErr)
}

// expectSeq is expectEq for a sequence (nil and empty are equal).
func expectSeq[T comparable](r *modelRun, what func() string, got []T, gotErr error, want []T, wantErr error) {
	r.expect(what, gotErr == nil && wantErr == nil && slices.Equal(got, want), got, gotErr, want, wantErr)
}

func (r *modelRun) expect(what func() string, equal bool, got any, gotErr error, want any, wantErr error) {
	switch {
	case equal:
	case wantErr != nil:
		if !errors.Is(gotErr, wantErr) {
			r.fatalf("%s: error %v (%#v), model error %v", what(), gotErr, got, wantErr)
		}
	case gotErr != nil:
		r.fatalf("%s: error %v, model %#v", what(), gotErr, want)
	default:
		r.fatalf("%s = %#v, model %#v", what(), got, want)
	}
}

// --- lists ---

func TestListModel(t *testing.T) {
	runModel(t, modelFamily{
		gen: genListModelOp, check: checkListModel,
		codes: []op.Code{op.ListPush, op.ListPop, op.ListSet, op.ListInsert, op.ListRem,
			op.ListTrim, op.ListMove, op.ListMPop, op.Set, op.Del, op.Expire, op.Persist, op.Expired,
			op.Copy, op.Rename, op.Move, op.SwapDB},
		errCodes: []op.Code{op.ListPush, op.ListPop, op.ListSet, op.ListInsert, op.ListRem, op.ListTrim, op.ListMove, op.ListMPop},
	})
}

// listElem draws from a small alphabet (so that pivots, LREM and LPOS hit),
// with the empty element and now and then a distinct one.
func (r *modelRun) listElem() string {
	switch r.rng.IntN(10) {
	case 0:
		return "e" + strconv.Itoa(r.rng.IntN(50))
	case 1:
		return ""
	}
	return string(rune('a' + r.rng.IntN(4)))
}

func listPopModel(e *refEntry, right bool) string {
	var v string
	if right {
		v, e.list = e.list[len(e.list)-1], e.list[:len(e.list)-1]
	} else {
		v, e.list = e.list[0], e.list[1:]
	}
	return v
}

func listPushModel(e *refEntry, right bool, v string) {
	if right {
		e.list = append(e.list, v)
	} else {
		e.list = append([]string{v}, e.list...)
	}
}

// dropIfEmpty removes an emptied list, as Redis does.
func (r *modelRun) dropIfEmpty(key string, e *refEntry) {
	if len(e.list) == 0 {
		r.del(key)
	}
}

// listRangeModel is LRANGE's index arithmetic.
func listRangeModel(l []string, start, stop int64) []string {
	n := int64(len(l))
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	if start < 0 {
		start = 0
	}
	if stop >= n {
		stop = n - 1
	}
	if start > stop || start >= n {
		return nil
	}
	return slices.Clone(l[start : stop+1])
}

// redisInt parses s as Redis's string2ll: an optional '-', digits without
// a leading zero (except "0" itself; "-0" is refused), no '+', no spaces,
// within int64.
func redisInt(s string) (int64, bool) {
	if s == "0" {
		return 0, true
	}
	d := strings.TrimPrefix(s, "-")
	if d == "" || d[0] < '1' || d[0] > '9' {
		return 0, false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

func genListModelOp(r *modelRun) (op.Op, func() (any, error)) {
	rng := r.rng
	k := r.key()
	right := rng.IntN(2) == 1
	switch p := rng.IntN(100); {
	case p < 28: // LPUSH RPUSH LPUSHX RPUSHX
		xx := rng.IntN(6) == 0
		elems := make([]string, 1+rng.IntN(4))
		for i := range elems {
			elems[i] = r.listElem()
		}
		return mkop(op.ListPush, append([]string{k, flag01(right), flag01(xx)}, elems...)...), func() (any, error) {
			e, err := r.lookup(k, TypeList)
			if err != nil {
				return nil, err
			}
			if e == nil {
				if xx {
					return int64(0), nil
				}
				e = &refEntry{typ: TypeList}
				r.put(k, e)
			}
			for _, v := range elems {
				listPushModel(e, right, v)
			}
			return int64(len(e.list)), nil
		}
	case p < 42: // LPOP RPOP, with and without a count
		count := [...]int64{-1, -1, -1, 0, 1, 2, 3, 10}[rng.IntN(8)]
		return mkop(op.ListPop, k, flag01(right), itoa(count)), func() (any, error) {
			e, err := r.lookup(k, TypeList)
			if e == nil || err != nil {
				return nil, err
			}
			if count == -1 {
				v := listPopModel(e, right)
				r.dropIfEmpty(k, e)
				return []byte(v), nil
			}
			out := [][]byte{}
			for int64(len(out)) < count && len(e.list) > 0 {
				out = append(out, []byte(listPopModel(e, right)))
			}
			r.dropIfEmpty(k, e)
			return out, nil
		}
	case p < 52: // LSET, with the index as the client sent it
		idx := itoa(int64(rng.IntN(13) - 6))
		switch rng.IntN(12) {
		case 0:
			idx = "x"
		case 1:
			idx = "99999999999999999999"
		case 2:
			idx = "+1"
		case 3:
			idx = "-9223372036854775808"
		}
		v := r.listElem()
		return mkop(op.ListSet, k, idx, v), func() (any, error) {
			e, err := r.lookup(k, TypeList)
			if err != nil {
				return nil, err
			}
			if e == nil {
				return nil, ErrNoSuchKey
			}
			i, ok := redisInt(idx)
			if !ok {
				return nil, ErrNotInteger
			}
			if i < 0 {
				i += int64(len(e.list))
			}
			if i < 0 || i >= int64(len(e.list)) {
				return nil, ErrIndexOutOfRange
			}
			e.list[i] = v
			return nil, nil
		}
	case p < 60: // LINSERT BEFORE|AFTER
		before := rng.IntN(2) == 1
		pivot, v := r.listElem(), r.listElem()
		return mkop(op.ListInsert, k, flag01(before), pivot, v), func() (any, error) {
			e, err := r.lookup(k, TypeList)
			if err != nil {
				return nil, err
			}
			if e == nil {
				return int64(0), nil
			}
			at := slices.Index(e.list, pivot)
			if at < 0 {
				return int64(-1), nil
			}
			if !before {
				at++
			}
			e.list = slices.Insert(slices.Clone(e.list), at, v)
			return int64(len(e.list)), nil
		}
	case p < 70: // LREM with positive, negative and zero counts
		count := int64(rng.IntN(7) - 3)
		if rng.IntN(15) == 0 {
			count = [...]int64{100, -100, -9223372036854775808}[rng.IntN(3)]
		}
		v := r.listElem()
		return mkop(op.ListRem, k, itoa(count), v), func() (any, error) {
			e, err := r.lookup(k, TypeList)
			if e == nil || err != nil {
				return int64(0), err
			}
			// LREM's count: > 0 from the head, < 0 from the tail, 0 all.
			// -MinInt64 stays negative: no limit, as in Redis.
			limit := count
			if count < 0 {
				limit = -count
			}
			remove := make([]bool, len(e.list))
			var n int64
			for step := range e.list {
				i := step
				if count < 0 {
					i = len(e.list) - 1 - step
				}
				if e.list[i] == v && (limit <= 0 || n < limit) {
					remove[i] = true
					n++
				}
			}
			var keep []string
			for i, x := range e.list {
				if !remove[i] {
					keep = append(keep, x)
				}
			}
			e.list = keep
			r.dropIfEmpty(k, e)
			return n, nil
		}
	case p < 78: // LTRIM
		bound := func() int64 {
			switch rng.IntN(20) {
			case 0:
				return [...]int64{math.MinInt64, math.MaxInt64}[rng.IntN(2)]
			case 1, 2:
				return int64(rng.IntN(401) - 200)
			}
			return int64(rng.IntN(15) - 7)
		}
		start, stop := bound(), bound()
		return mkop(op.ListTrim, k, itoa(start), itoa(stop)), func() (any, error) {
			e, err := r.lookup(k, TypeList)
			if e == nil || err != nil {
				return nil, err
			}
			e.list = listRangeModel(e.list, start, stop)
			r.dropIfEmpty(k, e)
			return nil, nil
		}
	case p < 91: // LMOVE, RPOPLPUSH (also from a key onto itself)
		dst := r.key()
		toRight := rng.IntN(2) == 1
		return mkop(op.ListMove, k, dst, flag01(right), flag01(toRight)), func() (any, error) {
			se, err := r.lookup(k, TypeList)
			if se == nil || err != nil {
				return nil, err
			}
			de, err := r.lookup(dst, TypeList)
			if err != nil {
				return nil, err
			}
			v := listPopModel(se, right)
			if dst == k {
				listPushModel(se, toRight, v)
				return []byte(v), nil
			}
			r.dropIfEmpty(k, se)
			if de == nil {
				de = &refEntry{typ: TypeList}
				r.put(dst, de)
			}
			listPushModel(de, toRight, v)
			return []byte(v), nil
		}
	default: // LMPOP
		count := int64(1 + rng.IntN(3))
		keys := r.keyList(1 + rng.IntN(3))
		return mkop(op.ListMPop, append([]string{flag01(right), itoa(count)}, keys...)...), func() (any, error) {
			for _, k := range keys {
				e, err := r.lookup(k, TypeList)
				if err != nil {
					return nil, err
				}
				if e == nil {
					continue
				}
				out := [][]byte{[]byte(k)}
				for int64(len(out)-1) < count && len(e.list) > 0 {
					out = append(out, []byte(listPopModel(e, right)))
				}
				r.dropIfEmpty(k, e)
				return out, nil
			}
			return nil, nil
		}
	}
}

// listPosModel is LPOS: the positions of the matches of elem from the
// rank-th (negative: counting from the tail), at most count of them (0 =
// all), looking at no more than maxLen elements (0 = all).
func listPosModel(l []string, elem string, rank, count, maxLen int64) []int64 {
	var matches []int64
	for step := range len(l) {
		if maxLen > 0 && int64(step) >= maxLen {
			break
		}
		i := step
		if rank < 0 {
			i = len(l) - 1 - step
		}
		if l[i] == elem {
			matches = append(matches, int64(i))
		}
	}
	skip := rank - 1
	if rank < 0 {
		skip = -rank - 1
	}
	if skip >= int64(len(matches)) {
		return nil
	}
	matches = matches[skip:]
	if count > 0 && int64(len(matches)) > count {
		matches = matches[:count]
	}
	return matches
}

func checkListModel(r *modelRun, db int, key string) {
	e := r.getIn(db, key)
	wantErr := readErr(e, TypeList)
	var l []string
	if wantErr == nil && e != nil {
		l = e.list
	}
	k := []byte(key)
	rng := r.rrng
	name := func(cmd string, args ...any) func() string {
		return func() string { return fmt.Sprintf("%s db %d %s %v", cmd, db, key, args) }
	}

	n, err := r.s.ListLen(db, k, r.now)
	expectEq(r, name("LLEN"), n, err, int64(len(l)), wantErr)

	all, err := r.s.ListRange(db, k, 0, -1, r.now)
	expectSeq(r, name("LRANGE", 0, -1), bulkStrings(all), err, l, wantErr)

	bound := func() int64 {
		if rng.IntN(10) == 0 {
			return [...]int64{math.MinInt64, math.MaxInt64}[rng.IntN(2)]
		}
		return int64(rng.IntN(17) - 8)
	}
	start, stop := bound(), bound()
	part, err := r.s.ListRange(db, k, start, stop, r.now)
	expectSeq(r, name("LRANGE", start, stop), bulkStrings(part), err, listRangeModel(l, start, stop), wantErr)

	idx := int64(rng.IntN(2*len(l)+5) - len(l) - 2)
	if rng.IntN(10) == 0 {
		idx = bound()
	}
	v, ok, err := r.s.ListIndex(db, k, idx, r.now)
	want, i := "(nil)", idx
	if i < 0 {
		i += int64(len(l))
	}
	if i >= 0 && i < int64(len(l)) {
		want = strconv.Quote(l[i])
	}
	got := "(nil)"
	if ok {
		got = strconv.Quote(string(v))
	}
	expectEq(r, name("LINDEX", idx), got, err, want, wantErr)

	elem := listElemFrom(rng, l)
	rank := [...]int64{1, 1, 2, 3, -1, -2}[rng.IntN(6)]
	count := [...]int64{1, 1, 0, 2}[rng.IntN(4)]
	maxLen := [...]int64{0, 0, 1, 2, 5}[rng.IntN(5)]
	pos, err := r.s.ListPos(db, k, []byte(elem), rank, count, maxLen, r.now)
	expectSeq(r, name("LPOS", elem, "RANK", rank, "COUNT", count, "MAXLEN", maxLen), pos, err,
		listPosModel(l, elem, rank, count, maxLen), wantErr)
}

// listElemFrom picks an element to look for: one of l's, or any.
func listElemFrom(rng *rand.Rand, l []string) string {
	if len(l) > 0 && rng.IntN(2) == 0 {
		return l[rng.IntN(len(l))]
	}
	return string(rune('a' + rng.IntN(5)))
}
