package store

import (
	"bytes"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/skiffdb/skiff/internal/op"
)

// SetResult is the reply of op.Set with op.SetGet. Without SetGet the reply
// is int64(1) when the value was written and int64(0) when NX/XX prevented
// it (small integers box without allocating).
type SetResult struct {
	Done   bool   // the value was written (false when NX/XX prevented it)
	Old    []byte // previous value when op.SetGet was asked and a string existed
	HadOld bool   // a previous string value existed (only meaningful with op.SetGet)
}

// strEnc, in a string's value.obj, records the encoding Redis gives a
// string when it depends on how the value was written rather than on its
// content; nil means by content, as tryObjectEncoding leaves the value of
// SET, MSET, APPEND to a new key, INCR and the like ("int", "embstr" or "raw").
// It survives RENAME, MOVE and COPY (dupStringObject keeps the encoding) but
// not a snapshot: a restored replica answers by content again, as Redis does
// after loading an RDB.
type strEnc uint8

const (
	// strRaw: APPEND to an existing key or SETRANGE made the value a
	// modifiable sds, "raw" whatever it holds (dbUnshareStringValue).
	strRaw strEnc = iota + 1
	// strNoInt: INCRBYFLOAT's result, "embstr" or "raw" by length but never
	// "int" (createStringObjectFromLongDouble).
	strNoInt
)

// stringEncoding is OBJECT ENCODING of a string value.
func stringEncoding(v value) string {
	enc, _ := v.obj.(strEnc)
	if enc == strRaw {
		return "raw"
	}
	if enc == 0 && len(v.str) <= 20 {
		if _, err := ParseStrictInt(v.str); err == nil {
			return "int"
		}
	}
	if len(v.str) <= 44 {
		return "embstr"
	}
	return "raw"
}

var stringApply = map[op.Code]applyFunc{
	op.Set:         applySet,
	op.MSet:        applyMSet,
	op.MSetNX:      applyMSetNX,
	op.GetDel:      applyGetDel,
	op.GetEx:       applyGetEx,
	op.Append:      applyAppend,
	op.SetRange:    applySetRange,
	op.IncrBy:      applyIncrBy,
	op.IncrByFloat: applyIncrByFloat,
}

func argc(o *op.Op, n int) error {
	if len(o.Args) != n {
		return ErrMalformedOp
	}
	return nil
}

func intArg(b []byte) (int64, error) {
	n, err := op.Int(b)
	if err != nil {
		return 0, ErrMalformedOp
	}
	return n, nil
}

func applySet(s *Store, o *op.Op) (any, error) {
	if err := argc(o, 4); err != nil {
		return nil, err
	}
	flags, err := intArg(o.Args[2])
	if err != nil {
		return nil, err
	}
	at, err := intArg(o.Args[3])
	if err != nil {
		return nil, err
	}
	d := s.dbs[o.DB]
	key := o.Args[0]
	e := s.lookupWrite(d, key, o.Time)
	var res SetResult
	if flags&op.SetGet != 0 && e != nil {
		if e.typ != TypeString {
			return nil, ErrWrongType
		}
		res.Old, res.HadOld = e.str, true
	}
	if (flags&op.SetNX != 0 && e != nil) || (flags&op.SetXX != 0 && e == nil) {
		if flags&op.SetGet == 0 {
			return int64(0), nil
		}
		return res, nil
	}
	expire := at != 0 && flags&op.SetKeepTTL == 0 // EX/PX/EXAT/PXAT given
	if flags&op.SetKeepTTL != 0 && e != nil {
		at = e.expireAt
	}
	s.put(d, e, key, strValue(o.Args[1]), at)
	s.emitStr(o.DB, ClassString, "set", key, o.Args[1])
	if expire {
		s.emitStr(o.DB, ClassGeneric, "expire", key, o.Args[1])
	}
	if flags&op.SetGet == 0 {
		return int64(1), nil
	}
	res.Done = true
	return res, nil
}

func applyMSet(s *Store, o *op.Op) (any, error) {
	if len(o.Args)%2 != 0 {
		return nil, ErrMalformedOp
	}
	d := s.dbs[o.DB]
	for i := 0; i < len(o.Args); i += 2 {
		k := o.Args[i]
		s.put(d, s.lookupWrite(d, k, o.Time), k, strValue(o.Args[i+1]), 0)
		s.emitStr(o.DB, ClassString, "set", k, o.Args[i+1])
	}
	return nil, nil
}

func applyMSetNX(s *Store, o *op.Op) (any, error) {
	if len(o.Args)%2 != 0 {
		return nil, ErrMalformedOp
	}
	d := s.dbs[o.DB]
	for i := 0; i < len(o.Args); i += 2 {
		if s.lookupWrite(d, o.Args[i], o.Time) != nil {
			return int64(0), nil
		}
	}
	for i := 0; i < len(o.Args); i += 2 {
		s.setEntry(d, o.Args[i], strValue(o.Args[i+1]), 0)
		s.emitStr(o.DB, ClassString, "set", o.Args[i], o.Args[i+1])
	}
	return int64(1), nil
}

// stringFor returns key's live string value; nil entry when absent.
func (s *Store) stringFor(d *db, key []byte, now int64) (*entry, []byte, error) {
	e := s.lookupWrite(d, key, now)
	if e == nil {
		return nil, nil, nil
	}
	if e.typ != TypeString {
		return nil, nil, ErrWrongType
	}
	return e, e.str, nil
}

func applyGetDel(s *Store, o *op.Op) (any, error) {
	if err := argc(o, 1); err != nil {
		return nil, err
	}
	d := s.dbs[o.DB]
	e, v, err := s.stringFor(d, o.Args[0], o.Time)
	if e == nil || err != nil {
		return nil, err
	}
	s.deleteEntry(d, o.Args[0])
	s.emit(o.DB, ClassGeneric, "del", o.Args[0])
	return v, nil
}

func applyGetEx(s *Store, o *op.Op) (any, error) {
	if err := argc(o, 2); err != nil {
		return nil, err
	}
	at, err := intArg(o.Args[1])
	if err != nil {
		return nil, err
	}
	d := s.dbs[o.DB]
	e, v, err := s.stringFor(d, o.Args[0], o.Time)
	if e == nil || err != nil {
		return nil, err
	}
	// Only a change stamps the key (and emits): PERSIST on a key without a
	// deadline leaves it untouched, as in Redis (WATCH is not triggered).
	switch {
	case at == -1 && e.expireAt != 0:
		s.preserve(d, e)
		s.setExpire(d, e, 0)
		e.rev = s.rev
		s.emitStr(o.DB, ClassGeneric, "persist", o.Args[0], v)
	case at > 0 && at <= o.Time:
		s.deleteEntry(d, o.Args[0])
		s.emit(o.DB, ClassGeneric, "del", o.Args[0])
	case at > 0:
		s.preserve(d, e)
		s.setExpire(d, e, at)
		e.rev = s.rev
		s.emitStr(o.DB, ClassGeneric, "expire", o.Args[0], v)
	}
	return v, nil
}

func applyAppend(s *Store, o *op.Op) (any, error) {
	if err := argc(o, 2); err != nil {
		return nil, err
	}
	d := s.dbs[o.DB]
	e, v, err := s.stringFor(d, o.Args[0], o.Time)
	if err != nil {
		return nil, err
	}
	if e == nil {
		s.put(d, nil, o.Args[0], strValue(o.Args[1]), 0)
		s.emitStr(o.DB, ClassString, "append", o.Args[0], o.Args[1])
		return int64(len(o.Args[1])), nil
	}
	if len(v)+len(o.Args[1]) > MaxStringLen {
		return nil, ErrTooLong
	}
	// Appending past len never touches bytes a reader may hold (values are
	// never mutated within their published length).
	s.preserve(d, e)
	e.str = append(v, o.Args[1]...)
	e.obj = strRaw
	e.rev = s.rev
	s.emitStr(o.DB, ClassString, "append", o.Args[0], e.str)
	return int64(len(v) + len(o.Args[1])), nil
}

func applySetRange(s *Store, o *op.Op) (any, error) {
	if err := argc(o, 3); err != nil {
		return nil, err
	}
	off, err := intArg(o.Args[1])
	if err != nil || off < 0 {
		return nil, ErrMalformedOp
	}
	val := o.Args[2]
	d := s.dbs[o.DB]
	e, v, err := s.stringFor(d, o.Args[0], o.Time)
	if err != nil {
		return nil, err
	}
	if len(val) == 0 {
		return int64(len(v)), nil
	}
	if off > MaxStringLen-int64(len(val)) { // off+len would overflow near MaxInt64
		return nil, ErrTooLong
	}
	n := max(len(v), int(off)+len(val))
	nv := make([]byte, n) // copy: readers may hold v
	copy(nv, v)
	copy(nv[off:], val)
	if e == nil {
		s.put(d, nil, o.Args[0], value{typ: TypeString, str: nv, obj: strRaw}, 0)
	} else {
		s.preserve(d, e)
		e.str = nv
		e.obj = strRaw
		e.rev = s.rev
	}
	s.emitStr(o.DB, ClassString, "setrange", o.Args[0], nv)
	return int64(n), nil
}

func applyIncrBy(s *Store, o *op.Op) (any, error) {
	if err := argc(o, 2); err != nil {
		return nil, err
	}
	delta, err := intArg(o.Args[1])
	if err != nil {
		return nil, err
	}
	d := s.dbs[o.DB]
	e, v, err := s.stringFor(d, o.Args[0], o.Time)
	if err != nil {
		return nil, err
	}
	var cur int64
	if e != nil {
		if cur, err = ParseStrictInt(v); err != nil {
			return nil, ErrNotInteger
		}
	}
	if (delta > 0 && cur > math.MaxInt64-delta) || (delta < 0 && cur < math.MinInt64-delta) {
		return nil, ErrOverflow
	}
	cur += delta
	nv := strconv.AppendInt(nil, cur, 10)
	if e == nil {
		s.put(d, nil, o.Args[0], strValue(nv), 0)
	} else {
		s.preserve(d, e)
		e.str = nv
		e.obj = nil // "int" again, as Redis stores the result
		e.rev = s.rev
	}
	s.emitStr(o.DB, ClassString, "incrby", o.Args[0], nv)
	return cur, nil
}

func applyIncrByFloat(s *Store, o *op.Op) (any, error) {
	if err := argc(o, 2); err != nil {
		return nil, err
	}
	// Redis's order (incrbyfloatCommand): the type, the current value, then
	// the increment.
	d := s.dbs[o.DB]
	e, v, err := s.stringFor(d, o.Args[0], o.Time)
	if err != nil {
		return nil, err
	}
	cur := new(big.Float).SetPrec(longDoublePrec)
	if e != nil {
		if cur, err = ParseLongDouble(v); err != nil {
			return nil, ErrNotFloat
		}
	}
	delta, err := ParseLongDouble(o.Args[1])
	if err != nil {
		return nil, ErrNotFloat
	}
	if cur.IsInf() || delta.IsInf() {
		return nil, ErrNaN
	}
	cur.Add(cur, delta)
	nv := FormatLongDouble(cur)
	if e == nil {
		s.put(d, nil, o.Args[0], value{typ: TypeString, str: nv, obj: strNoInt}, 0)
	} else {
		s.preserve(d, e)
		e.str = nv
		e.obj = strNoInt
		e.rev = s.rev
	}
	s.emitStr(o.DB, ClassString, "incrbyfloat", o.Args[0], nv)
	return nv, nil
}

// longDoublePrec is the mantissa of an x87 long double, which Redis uses for
// INCRBYFLOAT; computing with it (deterministically, in software) gives the
// same digits Redis gives ("0.1" + "0.2" is "0.3").
const longDoublePrec = 64

// ParseLongDouble parses a float the way Redis's string2ld does: no
// surrounding spaces, no NaN, at most 5 KiB.
func ParseLongDouble(b []byte) (*big.Float, error) {
	if len(b) == 0 || len(b) > 5*1024 || isSpace(b[0]) || isSpace(b[len(b)-1]) {
		return nil, ErrNotFloat
	}
	if inf, neg := isInfLiteral(b); inf {
		return new(big.Float).SetPrec(longDoublePrec).SetInf(neg), nil
	}
	base := 10
	if isHexFloat(b) {
		base = 0 // strtold reads hexadecimal floats (0x10, 0x1p3) too
	}
	f, _, err := big.ParseFloat(string(b), base, longDoublePrec, big.ToNearestEven)
	if err != nil || bytes.IndexByte(b, '_') >= 0 {
		return nil, ErrNotFloat
	}
	// A long double holds magnitudes in [2^-16445, 2^16384): beyond them
	// strtold underflows to zero or overflows to infinity, which Redis
	// rejects.
	if !f.IsInf() && f.Sign() != 0 {
		if exp := f.MantExp(nil); exp < -16444 || exp > 16384 {
			return nil, ErrNotFloat
		}
	}
	return f, nil
}

// isInfLiteral reports whether b spells an infinity as strtold reads it:
// "inf" or "infinity", any case, optionally signed (big.ParseFloat knows
// only "inf" and "Inf").
func isInfLiteral(b []byte) (inf, neg bool) {
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		neg = b[0] == '-'
		b = b[1:]
	}
	return strings.EqualFold(string(b), "inf") || strings.EqualFold(string(b), "infinity"), neg
}

// isHexFloat reports whether b starts like a hexadecimal float: [+-]0x.
func isHexFloat(b []byte) bool {
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		b = b[1:]
	}
	return len(b) > 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X')
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// FormatLongDouble formats like Redis's ld2string(LD_STR_HUMAN): "%.17Lf"
// with trailing zeros (and a trailing '.') removed.
func FormatLongDouble(f *big.Float) []byte {
	b := f.Append(nil, 'f', 17)
	if i := bytes.IndexByte(b, '.'); i >= 0 {
		b = bytes.TrimRight(b, "0")
		b = bytes.TrimSuffix(b, []byte("."))
	}
	if string(b) == "-0" {
		b = b[1:]
	}
	return b
}

// ParseStrictInt parses a decimal int64 the way Redis's string2ll does: no
// leading '+', no spaces, no leading zeros (except "0"), at most 20 bytes.
func ParseStrictInt(b []byte) (int64, error) {
	n, ok := op.ParseInt(b)
	if !ok {
		return 0, ErrNotInteger
	}
	return n, nil
}

// Get returns the string value of key. found is false when the key does not
// exist; err is ErrWrongType when it holds another type.
func (s *Store) Get(dbi int, key []byte, now int64) (val []byte, found bool, err error) {
	s.mu.RLock()
	e := s.readLookup(dbi, key, now)
	if e == nil {
		s.mu.RUnlock()
		return nil, false, nil
	}
	if e.typ != TypeString {
		s.mu.RUnlock()
		return nil, false, ErrWrongType
	}
	v := e.str
	s.mu.RUnlock()
	return v, true, nil
}

// MGet calls fn for each key with its string value (nil, false for missing
// keys and keys of another type), under one read lock. fn must not call the
// store.
func (s *Store) MGet(dbi int, keys [][]byte, now int64, fn func(val []byte, ok bool)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, k := range keys {
		e := s.readLookup(dbi, k, now)
		if e == nil || e.typ != TypeString {
			fn(nil, false)
			continue
		}
		fn(e.str, true)
	}
}
