package store

import (
	"encoding/binary"
	"fmt"
)

// typeOps is what the generic parts of the store (snapshots, digests, COPY,
// OBJECT ENCODING) need from a value type. Adding a data type is adding its
// Type constant, its name in typeNames, and one entry here built in its own
// file, next to its apply functions.
type typeOps struct {
	// payload encodes v for a snapshot record. It runs under the store's
	// read lock; a type whose values are mutated in place must copy.
	payload func(v value) ([]byte, error)
	// fromPayload decodes a snapshot record's payload (owned by the result).
	fromPayload func(payload []byte) (value, error)
	// clone returns a copy of v sharing nothing that apply mutates (COPY,
	// and a snapshot's saved pre-image).
	clone func(v value) value
	// encoding is OBJECT ENCODING's answer.
	encoding func(v value) string
	// digest appends a canonical encoding of v (equal states give equal bytes).
	digest func(buf []byte, v value) []byte
}

// opsFor returns the behaviour of type t, or nil for an unknown type.
func opsFor(t Type) *typeOps {
	if int(t) < len(typeTable) {
		return typeTable[t]
	}
	return nil
}

// typeTable is indexed by Type; built once, never changed.
var typeTable = [...]*typeOps{
	TypeString: &stringOps,
	TypeList:   listOps,
	TypeHash:   hashOps,
	TypeSet:    setOps,
	TypeZSet:   zsetOps,
}

var stringOps = typeOps{
	// Never mutated within its length: the value is its own encoding.
	payload: func(v value) ([]byte, error) { return v.str, nil },
	fromPayload: func(p []byte) (value, error) {
		if len(p) > MaxStringLen {
			return value{}, fmt.Errorf("%w: string of %d bytes", ErrSnapshotCorrupt, len(p))
		}
		return strValue(p), nil
	},
	// A later APPEND to either key reallocates instead of writing into the
	// shared array.
	clone:    func(v value) value { v.str = v.str[:len(v.str):len(v.str)]; return v },
	encoding: stringEncoding, // strings.go
	digest: func(buf []byte, v value) []byte {
		buf = binary.AppendUvarint(buf, uint64(len(v.str)))
		return append(buf, v.str...)
	},
}

// objFor returns key's live entry and its T object on the write path (nil
// entry when absent; ErrWrongType when the key holds another type). The
// data-type families call it through their typed wrappers.
func objFor[T any](s *Store, d *db, key []byte, now int64, t Type) (*entry, T, error) {
	var zero T
	e := s.lookupWrite(d, key, now)
	if e == nil {
		return nil, zero, nil
	}
	if e.typ != t {
		return nil, zero, ErrWrongType
	}
	return e, e.obj.(T), nil
}

// objRead is objFor on the read path (caller holds the read lock; expired
// keys read as absent and are not removed).
func objRead[T any](s *Store, dbi int, key []byte, now int64, t Type) (T, error) {
	var zero T
	e := s.readLookup(dbi, key, now)
	if e == nil {
		return zero, nil
	}
	if e.typ != t {
		return zero, ErrWrongType
	}
	return e.obj.(T), nil
}
