package op

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// Version is the encoding version written as the first byte of every
// encoded entry. Decoders reject versions they do not know, so a node never
// applies a log entry it would misread.
const Version byte = 1

// Code names a deterministic mutation. Codes are part of the log format:
// never renumber or reuse one; append new codes at the end.
type Code uint16

// The operations of strings and the keyspace. The Args layout of each code is
// documented beside it; integers are decimal ASCII (see Int/AppendInt).
const (
	Invalid Code = iota
	// Set: key, value, flags (decimal SetFlag bits), expireAt (unix ms, 0 = none).
	// Reply: SetResult.
	Set
	// MSet: key, value, key, value ... Reply: nil.
	MSet
	// MSetNX: key, value, ... Sets all only if none exists. Reply: int64 (1 or 0).
	MSetNX
	// Del: key ... Reply: int64 removed count.
	Del
	// GetDel: key. Reply: []byte or nil.
	GetDel
	// GetEx: key, expireAt (-1 = persist, 0 = keep, else unix ms). Reply: []byte or nil.
	GetEx
	// Append: key, value. Reply: int64 new length.
	Append
	// SetRange: key, offset, value. Reply: int64 new length.
	SetRange
	// IncrBy: key, delta. Reply: int64 new value.
	IncrBy
	// IncrByFloat: key, delta (as the client sent it, already validated). Reply: []byte new value.
	IncrByFloat
	// Expire: key, deadline (unix ms), cond (decimal Expire* bits). Reply: int64 (1 set, 0 not).
	Expire
	// Persist: key. Reply: int64.
	Persist
	// Rename: src, dst, nx ("0"/"1"). Reply: int64 (1 renamed, 0 dst existed with nx) or error.
	Rename
	// Copy: src, dst, dstdb, replace ("0"/"1"). Reply: int64.
	Copy
	// FlushDB: no args (Op.DB is the database). Reply: nil.
	FlushDB
	// FlushAll: no args. Reply: nil.
	FlushAll
	// SwapDB: db1, db2. Reply: nil.
	SwapDB
	// Expired: key ... Removes each key whose deadline is <= Op.Time (the
	// active expiry cycle's proposal). Reply: int64 removed count.
	Expired
	// Move: key, dstdb. Reply: int64.
	Move
)

// Code blocks per family (a family appends codes inside its block, in its
// own file): strings and keys 1-31, lists 32-63 (list.go), hashes 64-95
// (hash.go), sets 96-127, sorted sets 128-159, streams 160-191, others 192-255.
const maxCode = 256

// codeNames names every valid code; decoding rejects codes without a name.
var codeNames = buildNames(baseNames, listNames, hashNames, setNames, zsetNames, pubsubNames, txnNames, kvNames)

func buildNames(families ...map[Code]string) [maxCode]string {
	var t [maxCode]string
	for _, f := range families {
		for c, n := range f {
			if t[c] != "" {
				panic("op: code " + n + " defined twice")
			}
			t[c] = n
		}
	}
	return t
}

var baseNames = map[Code]string{
	Set: "set", MSet: "mset", MSetNX: "msetnx", Del: "del",
	GetDel: "getdel", GetEx: "getex", Append: "append", SetRange: "setrange",
	IncrBy: "incrby", IncrByFloat: "incrbyfloat", Expire: "expire", Persist: "persist",
	Rename: "rename", Copy: "copy", FlushDB: "flushdb", FlushAll: "flushall",
	SwapDB: "swapdb", Expired: "expired", Move: "move",
}

func (c Code) String() string {
	if int(c) < len(codeNames) && codeNames[c] != "" {
		return codeNames[c]
	}
	return "code(" + strconv.Itoa(int(c)) + ")"
}

// SetFlag bits for the Set operation.
const (
	SetNX      = 1 << iota // only if the key does not exist
	SetXX                  // only if the key exists
	SetKeepTTL             // keep the existing deadline
	SetGet                 // reply with the old value
)

// Expire condition bits (EXPIRE's NX/XX/GT/LT options; several may be set).
const (
	ExpireNX = 1 << iota // only if the key has no deadline
	ExpireXX             // only if the key has a deadline
	ExpireGT             // only if the new deadline is later (no deadline = infinite)
	ExpireLT             // only if the new deadline is earlier (no deadline = infinite)
)

// Op is one deterministic mutation. Everything apply needs is inside it: the
// leader has already resolved relative times to absolute ones (Time is the
// leader's clock, read once) and chosen anything random.
type Op struct {
	Code Code
	DB   int
	Time int64 // unix milliseconds when the leader prepared the op
	Args [][]byte
}

// Errors returned by Decode.
var (
	ErrVersion   = errors.New("op: unknown encoding version")
	ErrTruncated = errors.New("op: truncated entry")
	ErrCode      = errors.New("op: unknown op code")
)

// maxArgs bounds the argument count a decoder accepts before it allocates;
// maxDB bounds the database index.
const (
	maxArgs = 1 << 24
	maxDB   = 1 << 16
)

// AppendEncode appends the encoding of o to dst:
//
//	version(1) code(uvarint) db(uvarint) time(varint) nargs(uvarint) {len(uvarint) bytes}*
func AppendEncode(dst []byte, o *Op) []byte {
	dst = append(dst, Version)
	dst = binary.AppendUvarint(dst, uint64(o.Code))
	dst = binary.AppendUvarint(dst, uint64(o.DB))
	dst = binary.AppendVarint(dst, o.Time)
	dst = binary.AppendUvarint(dst, uint64(len(o.Args)))
	for _, a := range o.Args {
		dst = binary.AppendUvarint(dst, uint64(len(a)))
		dst = append(dst, a...)
	}
	return dst
}

// Encode returns the encoding of o in a new slice.
func Encode(o *Op) []byte {
	n := 16
	for _, a := range o.Args {
		n += len(a) + 4
	}
	return AppendEncode(make([]byte, 0, n), o)
}

// Decode decodes one operation from b and returns the rest of b. The
// returned Args alias b: the caller must not modify b while the Op is in use.
func Decode(b []byte) (Op, []byte, error) {
	var o Op
	rest, err := DecodeInto(&o, b)
	return o, rest, err
}

// DecodeInto is Decode into o, reusing the capacity of o.Args (the apply
// loop decodes every entry into one Op without allocating).
func DecodeInto(o *Op, b []byte) ([]byte, error) {
	rest, err := decode(o, b)
	if err != nil {
		*o = Op{Args: o.Args[:0]}
	}
	return rest, err
}

func decode(o *Op, b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, ErrTruncated
	}
	if b[0] != Version {
		return nil, fmt.Errorf("%w %d", ErrVersion, b[0])
	}
	b = b[1:]
	code, b, err := uvarint(b)
	if err != nil {
		return nil, err
	}
	if code == 0 || code >= maxCode || codeNames[code] == "" {
		return nil, fmt.Errorf("%w %d", ErrCode, code)
	}
	db, b, err := uvarint(b)
	if err != nil {
		return nil, err
	}
	if db > maxDB {
		return nil, ErrTruncated
	}
	t, n := binary.Varint(b)
	if n <= 0 {
		return nil, ErrTruncated
	}
	b = b[n:]
	nargs, b, err := uvarint(b)
	if err != nil {
		return nil, err
	}
	if nargs > maxArgs || nargs > uint64(len(b)) {
		return nil, ErrTruncated
	}
	o.Code, o.DB, o.Time = Code(code), int(db), t
	if uint64(cap(o.Args)) >= nargs {
		o.Args = o.Args[:nargs]
	} else {
		o.Args = make([][]byte, nargs)
	}
	for i := range o.Args {
		var l uint64
		l, b, err = uvarint(b)
		if err != nil {
			return nil, err
		}
		if l > uint64(len(b)) {
			return nil, ErrTruncated
		}
		o.Args[i] = b[:l:l]
		b = b[l:]
	}
	return b, nil
}

func uvarint(b []byte) (uint64, []byte, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, ErrTruncated
	}
	return v, b[n:], nil
}

// Int parses a decimal integer argument written by AppendInt/Itoa.
func Int(b []byte) (int64, error) {
	n, ok := ParseInt(b)
	if !ok {
		return 0, errNotInt
	}
	return n, nil
}

var errNotInt = errors.New("op: not an integer")

// ParseInt parses a canonical decimal int64 the way Redis's string2ll does:
// an optional '-', no '+', no spaces, no leading zeros ("0" itself is fine,
// "-0" is not), no overflow. It does not allocate.
func ParseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	neg := b[0] == '-'
	d := b
	if neg {
		d = b[1:]
	}
	if len(d) == 0 || (d[0] == '0' && (len(d) > 1 || neg)) {
		return 0, false
	}
	var u uint64
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
		if u > (1<<63)/10 {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	switch {
	case neg && u <= 1<<63:
		return -int64(u-1) - 1, true
	case !neg && u < 1<<63:
		return int64(u), true
	}
	return 0, false
}

// Itoa formats an integer argument. Values 0..15 (flag words, small
// counts) return shared slices that callers must not modify.
func Itoa(n int64) []byte {
	if n >= 0 && n < int64(len(smallInts)) {
		return smallInts[n]
	}
	return strconv.AppendInt(nil, n, 10)
}

var smallInts = func() (t [16][]byte) {
	for i := range t {
		t[i] = strconv.AppendInt(nil, int64(i), 10)
		t[i] = t[i][:len(t[i]):len(t[i])]
	}
	return t
}()
