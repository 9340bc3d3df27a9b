package store

// The hash model (the harness is in list_model_test.go).

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/skiffdb/skiff/internal/op"
)

// refHash is a hash of the model: fields in insertion order, which is the
// order Redis shows while the hash is a listpack.
type refHash struct {
	names []string
	vals  map[string]string
	// big: Redis would have converted the hash to a hashtable, whose order
	// is unspecified (more than 512 fields or a field or value longer than
	// 64 bytes at some point); its fields are compared as a sorted set.
	big bool
}

func newRefHash() *refHash { return &refHash{vals: map[string]string{}} }

// set sets f and reports whether it was added.
func (h *refHash) set(f, v string) bool {
	if len(f) > 64 || len(v) > 64 {
		h.big = true
	}
	_, had := h.vals[f]
	if !had {
		h.names = append(h.names, f)
	}
	h.vals[f] = v
	if len(h.names) > hashMaxListpackEntries {
		h.big = true
	}
	return !had
}

func (h *refHash) del(f string) bool {
	if _, ok := h.vals[f]; !ok {
		return false
	}
	delete(h.vals, f)
	h.names = slices.DeleteFunc(h.names, func(n string) bool { return n == f })
	return true
}

func TestHashModel(t *testing.T) {
	runModel(t, modelFamily{
		gen: genHashModelOp, check: checkHashModel,
		codes:    []op.Code{op.HSet, op.HSetNX, op.HDel, op.HIncrBy, op.HIncrByFloat},
		errCodes: []op.Code{op.HSet, op.HSetNX, op.HDel, op.HIncrBy, op.HIncrByFloat},
	})
}

// hashModelFields are the fields reads look for.
var hashModelFields = [...]string{"f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "nofield"}

func (r *modelRun) hashField() string {
	if r.rng.IntN(40) == 0 {
		return "long-field-" + strconv.Itoa(r.rng.IntN(3)) + strings.Repeat("x", 60)
	}
	return hashModelFields[r.rng.IntN(len(hashModelFields)-1)]
}

// hashModelValues mixes plain strings, integers (canonical and not), and
// floats (finite, infinite, out of the long double range, malformed), so
// that HINCRBY and HINCRBYFLOAT meet every case. Hexadecimal floats and
// literals that underflow are left out: see TestHashFloat_ParsesLikeStrtold.
var hashModelValues = [...]string{
	"v0", "v1", "v2", "", "abc",
	"0", "7", "-3", "100", "9223372036854775807", "-9223372036854775808", "9223372036854775808",
	"007", "-0", "+3", " 1", "1 ",
	"1.5", "-0.25", "3.0", ".5", "5.", "1e3", "1E-3", "1e4932", "-1e4932", "1e4933",
	"inf", "-inf", "Infinity", "nan", "1_0", "1e", ".",
}

func (r *modelRun) hashValue() string {
	if r.rng.IntN(50) == 0 {
		return strings.Repeat("w", 70)
	}
	return hashModelValues[r.rng.IntN(len(hashModelValues))]
}

var (
	ldDecimal = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)
	ldInf     = regexp.MustCompile(`(?i)^[+-]?(inf|infinity)$`)
	// ldMax is the largest finite x87 long double, (2^64-1) * 2^(16384-64).
	ldMax = new(big.Float).SetMantExp(new(big.Float).SetInt(new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 64), big.NewInt(1))), 16384-64)
)

// ldParse parses s as Redis's string2ld does with glibc's strtold, for
// decimal and infinite literals: no leading space, nothing after the
// number, no NaN, and no value beyond the long double range (ERANGE).
// Rounds to a 64-bit mantissa, as strtold does.
func ldParse(s string) (f *big.Float, ok bool) {
	if s == "" || len(s) >= 5*1024 {
		return nil, false
	}
	if ldInf.MatchString(s) {
		return new(big.Float).SetInf(s[0] == '-'), true
	}
	if !ldDecimal.MatchString(s) {
		return nil, false
	}
	f, _, err := big.ParseFloat(s, 10, 64, big.ToNearestEven)
	if err != nil || new(big.Float).Abs(f).Cmp(ldMax) > 0 {
		return nil, false
	}
	return f, true
}

// ldFormat is ld2string's LD_STR_HUMAN: "%.17Lf", then trailing zeros and
// a trailing point removed, and "-0" written "0".
func ldFormat(f *big.Float) string {
	s := f.Text('f', 17)
	s = strings.TrimRight(s, "0")
	s = strings.TrimSuffix(s, ".")
	if s == "-0" {
		s = "0"
	}
	return s
}

// setField is HSET of one field, creating the hash when e is nil.
func (r *modelRun) setField(key string, e *refEntry, f, v string) {
	if e == nil {
		e = &refEntry{typ: TypeHash, hash: newRefHash()}
		r.put(key, e)
	}
	e.hash.set(f, v)
}

func genHashModelOp(r *modelRun) (op.Op, func() (any, error)) {
	rng := r.rng
	k := r.key()
	switch p := rng.IntN(100); {
	case p < 35: // HSET (a field may repeat)
		var pairs []string
		if rng.IntN(60) == 0 { // past hash-max-listpack-entries
			for i := range 520 {
				pairs = append(pairs, "g"+strconv.Itoa(i), "v"+strconv.Itoa(i))
			}
		} else {
			for range 1 + rng.IntN(3) {
				pairs = append(pairs, r.hashField(), r.hashValue())
			}
		}
		return mkop(op.HSet, append([]string{k}, pairs...)...), func() (any, error) {
			e, err := r.lookup(k, TypeHash)
			if err != nil {
				return nil, err
			}
			if e == nil {
				e = &refEntry{typ: TypeHash, hash: newRefHash()}
				r.put(k, e)
			}
			var added int64
			for i := 0; i < len(pairs); i += 2 {
				if e.hash.set(pairs[i], pairs[i+1]) {
					added++
				}
			}
			return added, nil
		}
	case p < 45: // HSETNX
		f, v := r.hashField(), r.hashValue()
		return mkop(op.HSetNX, k, f, v), func() (any, error) {
			e, err := r.lookup(k, TypeHash)
			if err != nil {
				return nil, err
			}
			if e != nil {
				if _, ok := e.hash.vals[f]; ok {
					return int64(0), nil
				}
			}
			r.setField(k, e, f, v)
			return int64(1), nil
		}
	case p < 65: // HDEL
		fields := make([]string, 1+rng.IntN(3))
		for i := range fields {
			fields[i] = r.hashField()
		}
		return mkop(op.HDel, append([]string{k}, fields...)...), func() (any, error) {
			e, err := r.lookup(k, TypeHash)
			if e == nil || err != nil {
				return int64(0), err
			}
			var n int64
			for _, f := range fields {
				if e.hash.del(f) {
					n++
				}
			}
			if len(e.hash.names) == 0 {
				r.del(k)
			}
			return n, nil
		}
	case p < 82: // HINCRBY
		f := r.hashField()
		delta := int64(rng.IntN(21) - 10)
		if rng.IntN(8) == 0 {
			delta = [...]int64{9223372036854775807, -9223372036854775808, 1 << 62, -(1 << 62)}[rng.IntN(4)]
		}
		return mkop(op.HIncrBy, k, f, itoa(delta)), func() (any, error) {
			e, err := r.lookup(k, TypeHash)
			if err != nil {
				return nil, err
			}
			var cur int64
			if e != nil {
				if v, ok := e.hash.vals[f]; ok {
					if cur, ok = redisInt(v); !ok {
						return nil, ErrHashNotInteger
					}
				}
			}
			sum := new(big.Int).Add(big.NewInt(cur), big.NewInt(delta))
			if !sum.IsInt64() {
				return nil, ErrOverflow
			}
			r.setField(k, e, f, sum.String())
			return sum.Int64(), nil
		}
	default: // HINCRBYFLOAT (the increment is already a finite long double)
		f := r.hashField()
		delta := [...]string{"1.5", "-0.25", "0.1", "-0.1", "3", "1e10", "2.5e-3", "-7", "1e4932", "-1e4932"}[rng.IntN(10)]
		return mkop(op.HIncrByFloat, k, f, delta), func() (any, error) {
			e, err := r.lookup(k, TypeHash)
			if err != nil {
				return nil, err
			}
			cur := new(big.Float).SetPrec(64)
			if e != nil {
				if v, ok := e.hash.vals[f]; ok {
					if cur, ok = ldParse(v); !ok {
						return nil, ErrHashNotFloat
					}
				}
			}
			d, _ := ldParse(delta)
			if cur.IsInf() {
				return nil, ErrNaN
			}
			sum := new(big.Float).SetPrec(64).SetMode(big.ToNearestEven).Add(cur, d)
			if new(big.Float).Abs(sum).Cmp(ldMax) > 0 {
				return nil, ErrNaN // infinite in a long double
			}
			s := ldFormat(sum)
			r.setField(k, e, f, s)
			return []byte(s), nil
		}
	}
}

func checkHashModel(r *modelRun, db int, key string) {
	e := r.getIn(db, key)
	wantErr := readErr(e, TypeHash)
	h := newRefHash()
	if wantErr == nil && e != nil {
		h = e.hash
	}
	k := []byte(key)
	name := func(cmd string, args ...any) func() string {
		return func() string { return fmt.Sprintf("%s db %d %s %v", cmd, db, key, args) }
	}

	n, err := r.s.HLen(db, k, r.now)
	expectEq(r, name("HLEN"), n, err, int64(len(h.names)), wantErr)

	// HGETALL in insertion order while Redis shows it (listpack), else as
	// sorted pairs; HKEYS and HVALS agree with it.
	names, vals, err := r.s.HGetAll(db, k, r.now, true, true)
	got := make([]string, len(names))
	for i := range names {
		got[i] = names[i] + "=" + string(vals[i])
	}
	want := make([]string, len(h.names))
	for i, f := range h.names {
		want[i] = f + "=" + h.vals[f]
	}
	if h.big {
		slices.Sort(got)
		slices.Sort(want)
	}
	expectSeq(r, name("HGETALL"), got, err, want, wantErr)
	onlyNames, _, err := r.s.HGetAll(db, k, r.now, true, false)
	expectSeq(r, name("HKEYS"), onlyNames, err, names, wantErr)
	_, onlyVals, err := r.s.HGetAll(db, k, r.now, false, true)
	expectSeq(r, name("HVALS"), bulkStrings(onlyVals), err, bulkStrings(vals), wantErr)

	// HGET, HSTRLEN and HEXISTS (one read method serves them) of every field.
	fields := append(hashModelFields[:len(hashModelFields):len(hashModelFields)], h.names...)
	type field struct {
		found  bool
		val    string
		strlen int
	}
	for _, f := range fields[:min(len(fields), len(hashModelFields)+20)] {
		v, found, err := r.s.HGet(db, k, []byte(f), r.now)
		wv, wfound := h.vals[f]
		expectEq(r, name("HGET", f), field{found, string(v), len(v)}, err, field{wfound, wv, len(wv)}, wantErr)
	}

	// HMGET of a few fields, present or not, possibly repeated.
	mf := make([]string, 1+r.rrng.IntN(4))
	for i := range mf {
		mf[i] = fields[r.rrng.IntN(len(fields))]
	}
	mv, mfound, err := r.s.HMGet(db, k, bulks(mf), r.now)
	var gotM, wantM []field
	for i, f := range mf {
		if err == nil {
			gotM = append(gotM, field{mfound[i], string(mv[i]), len(mv[i])})
		}
		wv, ok := h.vals[f]
		wantM = append(wantM, field{ok, wv, len(wv)})
	}
	expectSeq(r, name("HMGET", mf), gotM, err, wantM, wantErr)
}

// TestHashFloat_ParsesLikeStrtold: Redis reads a float (HINCRBYFLOAT's
// stored value and increment, INCRBYFLOAT's too) with string2ld, that is
// glibc's strtold, which accepts hexadecimal floats and refuses a literal
// that underflows to zero (ERANGE). redis-server 7.0.15 replies:
//
//	HSET h a 0x10 b 0X1p3 c 1e-5000
//	HINCRBYFLOAT h a 1      "17"
//	HINCRBYFLOAT h b 1      "9"
//	HINCRBYFLOAT h c 1      ERR hash value is not a float
//	HINCRBYFLOAT h d 0x10   "16"
//	HINCRBYFLOAT h d 1e-5000  ERR value is not a valid float
//
// ParseLongDouble (strings.go), under ParseHashFloat, follows strtold's
// bases and range.
func TestHashFloat_ParsesLikeStrtold(t *testing.T) {
	s := New(Options{})
	apply(t, s, op.HSet, t0, "h", "a", "0x10", "b", "0X1p3", "c", "1e-5000")
	for _, c := range []struct {
		field, want string
		err         error
	}{
		{"a", "17", nil},
		{"b", "9", nil},
		{"c", "", ErrHashNotFloat},
	} {
		v, err := apply(t, s, op.HIncrByFloat, t0, "h", c.field, "1")
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("HINCRBYFLOAT h %s 1 = %s, %v; want %v", c.field, renderReply(v), err, c.err)
			}
			continue
		}
		if err != nil || string(v.([]byte)) != c.want {
			t.Errorf("HINCRBYFLOAT h %s 1 = %s, %v; want %q", c.field, renderReply(v), err, c.want)
		}
	}
	if f, err := ParseHashFloat([]byte("0x10")); err != nil || f.String() != "16" {
		t.Errorf("ParseHashFloat(0x10) = %v, %v; want 16", f, err)
	}
	if f, err := ParseHashFloat([]byte("1e-5000")); err == nil {
		t.Errorf("ParseHashFloat(1e-5000) = %v; want an error (underflow)", f)
	}
}
