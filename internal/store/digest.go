package store

import (
	"crypto/sha256"
	"encoding/binary"
	"sort"
)

// Digest returns a hash of the replicated state: every database's keys,
// types, values and deadlines in a canonical (sorted) order. Two stores that
// applied the same operations have equal digests; node-local data (access
// times, table layout) is excluded. It holds the read lock for the whole
// walk: use it in tests and convergence checks, not on a hot path.
func (s *Store) Digest() [32]byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	h := sha256.New()
	var buf []byte
	for i, d := range s.dbs {
		var ents []*entry
		d.dict.each(func(e *entry) bool {
			ents = append(ents, e)
			return true
		})
		sort.Slice(ents, func(a, b int) bool { return ents[a].key < ents[b].key })
		buf = binary.AppendUvarint(buf[:0], uint64(i))
		buf = binary.AppendUvarint(buf, uint64(len(ents)))
		h.Write(buf)
		for _, e := range ents {
			buf = binary.AppendUvarint(buf[:0], uint64(len(e.key)))
			buf = append(buf, e.key...)
			buf = append(buf, byte(e.typ))
			buf = binary.AppendVarint(buf, e.expireAt)
			buf = appendValue(buf, e)
			h.Write(buf)
		}
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func appendValue(buf []byte, e *entry) []byte {
	if ops := opsFor(e.typ); ops != nil {
		return ops.digest(buf, e.value)
	}
	return buf
}
