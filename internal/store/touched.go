package store

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// WATCH of an absent key. A present key's revision changes with every write,
// but an absent key has no entry to stamp: created and deleted again between
// WATCH and EXEC it is absent at both ends, and Redis aborts such an EXEC.
// So each database keeps a small table of the revision at which a key hashing
// to each slot was last created. WATCH of an absent key records "absent as
// of revision R" (the store revision then, flagged with RevAbsent), and the
// transaction aborts if the key exists at apply or its slot was stamped after
// R. Any change to an absent key starts with a creation, so the creation alone
// is enough to stamp; a key that was already expired when it was watched and
// is merely deleted since changes nothing, as in Redis. Unrelated keys sharing
// a slot may abort a transaction that Redis would let through (as a WATCH
// client must expect to retry anyway), never the reverse.
//
// The table is replicated state: the slot is a CRC of the key (not the
// dict's per-process seed), and snapshots carry it.

// RevAbsent flags a WATCH revision that stands for "absent as of revision
// rev &^ RevAbsent" (store revisions never reach bit 63).
const RevAbsent = uint64(1) << 63

// touchSlots is the number of slots of a database's table (a power of two).
const touchSlots = 1024

type touchTable [touchSlots]uint64

func touchSlot(key []byte) int {
	return int(crc32.Checksum(key, castagnoli) & (touchSlots - 1))
}

// touchCreate stamps key's slot with the current revision (apply only).
func (s *Store) touchCreate(d *db, key []byte) {
	if d.touched == nil {
		d.touched = new(touchTable)
	}
	d.touched[touchSlot(key)] = s.rev
}

// watchHolds reports whether a WATCH condition recorded as rev (Revisions'
// answer) still holds for key in d at time now.
func (s *Store) watchHolds(d *db, key []byte, rev uint64, now int64) bool {
	cur := s.revAt(d, key, now)
	if rev&RevAbsent == 0 {
		return cur == rev
	}
	return cur == 0 && (d.touched == nil || d.touched[touchSlot(key)] <= rev&^RevAbsent)
}

// cloneTouched copies each database's table (nil stays nil), for a snapshot.
func cloneTouched(dbs []*db) []*touchTable {
	out := make([]*touchTable, len(dbs))
	for i, d := range dbs {
		if d.touched != nil {
			t := *d.touched
			out[i] = &t
		}
	}
	return out
}

// touched writes a 'T' record for database dbi's table t: the nonzero
// slots as (slot, revision) pairs.
func (sw *snapWriter) touched(dbi int, t *touchTable) {
	n := 0
	for _, r := range t {
		if r != 0 {
			n++
		}
	}
	b := append(sw.scratch[:0], recTouched)
	b = binary.AppendUvarint(b, uint64(dbi))
	b = binary.AppendUvarint(b, uint64(n))
	for slot, r := range t {
		if r != 0 {
			b = binary.AppendUvarint(b, uint64(slot))
			b = binary.AppendUvarint(b, r)
		}
	}
	sw.write(b)
	sw.scratch = b
}

// touched decodes a 'T' record (after its kind byte) into dbs.
func (sr *snapReader) touched(dbs []*db, rev uint64) error {
	dbi, err := sr.uvarint()
	if err != nil {
		return err
	}
	n, err := sr.uvarint()
	if err != nil {
		return err
	}
	if dbi >= uint64(len(dbs)) || dbs[dbi].touched != nil || n > touchSlots {
		return fmt.Errorf("%w: touched table for db %d with %d slots", ErrSnapshotCorrupt, dbi, n)
	}
	t := new(touchTable)
	for range n {
		slot, err := sr.uvarint()
		if err != nil {
			return err
		}
		r, err := sr.uvarint()
		if err != nil {
			return err
		}
		if slot >= touchSlots || r == 0 || r > rev || t[slot] != 0 {
			return fmt.Errorf("%w: touched slot %d at revision %d in db %d", ErrSnapshotCorrupt, slot, r, dbi)
		}
		t[slot] = r
	}
	dbs[dbi].touched = t
	return nil
}

// flushedDB is an empty database in place of d (FLUSHDB, FLUSHALL): the keys
// go, the creation table stays (a key created after a WATCH and flushed away
// still aborts that transaction).
func (s *Store) flushedDB(d *db) *db {
	nd := s.newDB()
	nd.touched = d.touched
	return nd
}
