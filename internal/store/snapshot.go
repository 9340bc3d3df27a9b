package store

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"sync"
)

// Snapshot stream, version 2 (all integers are varints unless sized):
//
//	stream  = magic version header touched* record* trailer
//	magic   = "SKIFFSNP"
//	version = byte 2 (1 is read too: it has no touched records)
//	header  = rev:uvarint ndb:uvarint
//	touched = 'T' db:uvarint n:uvarint (slot:uvarint rev:uvarint)*n
//	record  = 'K' db:uvarint type:byte deadline:varint rev:uvarint
//	          keylen:uvarint key payloadlen:uvarint payload
//	trailer = 'E' count:uvarint crc:uint32 (little endian)
//
// touched is a database's table of key-creation revisions by slot, nonzero
// slots only, at most one per database (touched.go: WATCH of absent keys).
// rev is the store revision the snapshot was taken at; each record is one
// key with its own revision (the stamp WATCH compares) and deadline (unix ms,
// 0 = none; expired keys are written as they are: deadlines are data).
// payload is the type's encoding of the value (see snapPayload and
// valueFromPayload). count is the number of 'K' records and crc the CRC-32C
// (Castagnoli) of every byte before it, magic included. Records come in no
// particular order (table order differs between replicas); a reader must
// reject a duplicate key, an unknown record kind or type, a touched record
// after a key record, and anything after
// the trailer.
const (
	snapMagic   = "SKIFFSNP"
	snapVersion = 2
	recKey      = 'K'
	recTouched  = 'T'
	recEnd      = 'E'

	// maxPayload bounds a record's key and payload lengths before anything is
	// allocated for them (a corrupt length must not cost memory).
	maxPayload = MaxStringLen
)

// Snapshot errors. A snapshot that fails to restore leaves the store unchanged.
var (
	ErrSnapshotActive   = errors.New("store: a snapshot is already active")
	ErrSnapshotDone     = errors.New("store: snapshot already written or released")
	ErrSnapshotVersion  = errors.New("store: unsupported snapshot version")
	ErrSnapshotCorrupt  = errors.New("store: corrupt snapshot")
	ErrSnapshotMismatch = errors.New("store: snapshot does not fit this store")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Walk chunking: the walk holds the read lock for at most walkBuckets table
// buckets or walkBatch entries, then writes what it collected unlocked.
const (
	walkBuckets = 64
	walkBatch   = 32
)

// Snapshot is a point-in-time view of the store, taken by BeginSnapshot and
// streamed by WriteTo while Apply goes on. See "Snapshots" in DESIGN.md.
type Snapshot struct {
	s    *Store
	id   uint64 // stamped into entry.snapMark for each key accounted for
	rev  uint64 // the revision the snapshot shows
	dbs  []*db  // the databases as of rev, by index (FLUSHDB replaces a *db, SWAPDB moves it)
	keys int    // keys in dbs at rev: the walk must account for each exactly once

	touched []*touchTable // each database's creation table as of rev (touched.go)

	// Tests only: buckets per lock hold (0 = walkBuckets), and a function the
	// walk calls between chunks without holding any lock.
	chunkBuckets int
	afterChunk   func()
	revisits     int // entries the walk met again (after a resize); walk goroutine only

	mu struct {
		sync.Mutex
		pending    []snapItem // pre-images saved by apply, not yet written
		err        error      // a pre-image that could not be encoded
		started    bool       // WriteTo was called
		closed     bool       // the walk is complete: no pre-image can be needed any more
		released   bool
		preserved  int // pre-images saved in total
		maxPending int // most pre-images held at once
	}
}

// snapItem is one key as the snapshot shows it, captured under the store
// lock; every field stays valid after the lock is released.
type snapItem struct {
	db       int
	typ      Type
	key      string
	expireAt int64
	rev      uint64
	payload  []byte
}

// BeginSnapshot captures the replicated state as of now, in O(databases):
// nothing of the keyspace is copied. From now until Release, apply saves the
// old version of a key the first time it changes or removes one the walk has
// not written yet (copy-on-write by revision).
//
// The FSM calls it on its apply goroutine, between applies; it takes the
// write lock, so a concurrent Apply is merely ordered before or after it.
// At most one snapshot is active at a time: a second BeginSnapshot before
// Release returns ErrSnapshotActive (raft takes one snapshot at a time).
func (s *Store) BeginSnapshot() (*Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.snap != nil {
		return nil, ErrSnapshotActive
	}
	s.snapSeq++
	sn := &Snapshot{s: s, id: s.snapSeq, rev: s.rev, dbs: slices.Clone(s.dbs), touched: cloneTouched(s.dbs)}
	for _, d := range sn.dbs {
		sn.keys += d.dict.len()
	}
	s.snap = sn
	return sn, nil
}

// preserve is called by apply (write lock held) before it changes or removes
// e, an entry of d. While a snapshot is active and e still holds the state the
// snapshot shows, it saves that state once. Nearly free without a snapshot.
func (s *Store) preserve(d *db, e *entry) {
	if s.snap != nil { // inlined: one load and branch on apply's hot path
		s.snap.save(d, e)
	}
}

func (sn *Snapshot) save(d *db, e *entry) {
	if e.rev > sn.rev || e.snapMark.Load() == sn.id {
		return // created or changed since the snapshot, or already written or saved
	}
	// Accounted for: the walk skips it from now on, whatever apply does next.
	e.snapMark.Store(sn.id)
	dbi := slices.Index(sn.dbs, d)
	if dbi < 0 {
		return // not reachable: entries with rev <= sn.rev live in captured dbs
	}
	payload, err := snapPayload(e.value)
	sn.mu.Lock()
	defer sn.mu.Unlock()
	if sn.mu.closed || sn.mu.released {
		return
	}
	if err != nil {
		sn.mu.err = cmp.Or(sn.mu.err, err)
		return
	}
	sn.mu.pending = append(sn.mu.pending, snapItem{
		db: dbi, typ: e.typ, key: e.key, expireAt: e.expireAt, rev: e.rev, payload: payload,
	})
	sn.mu.preserved++
	sn.mu.maxPending = max(sn.mu.maxPending, len(sn.mu.pending))
}

// snapPayload returns the snapshot encoding of v, under the store lock (the
// walk's read lock or apply's write lock). The bytes must stay valid, and
// unchanged, after the lock is released.
func snapPayload(v value) ([]byte, error) {
	if ops := opsFor(v.typ); ops != nil && v.typ != TypeNone {
		return ops.payload(v)
	}
	return nil, fmt.Errorf("store: snapshot cannot encode type %v", v.typ)
}

// valueFromPayload decodes a record's payload; payload is owned by the result.
func valueFromPayload(t Type, payload []byte) (value, error) {
	if ops := opsFor(t); ops != nil && t != TypeNone {
		return ops.fromPayload(payload)
	}
	return value{}, fmt.Errorf("%w: unknown type %d", ErrSnapshotCorrupt, t)
}

// WriteTo streams the snapshot to w and returns the bytes written. It may run
// on any goroutine, concurrently with Apply and reads: it walks the databases
// captured by BeginSnapshot holding the read lock for one chunk of buckets at
// a time, and writes unlocked. It buffers one chunk plus the old versions
// apply saved since the last chunk, never the keyspace.
//
// WriteTo may be called once. On error the stream is incomplete (no trailer)
// and the caller discards it; either way it must call Release.
func (sn *Snapshot) WriteTo(w io.Writer) (int64, error) {
	sn.mu.Lock()
	if sn.mu.started || sn.mu.released {
		sn.mu.Unlock()
		return 0, ErrSnapshotDone
	}
	sn.mu.started = true
	sn.mu.Unlock()

	sw := newSnapWriter(w)
	sw.header(sn.rev, len(sn.dbs))
	for dbi, t := range sn.touched {
		if t != nil {
			sw.touched(dbi, t)
		}
	}
	var count int
	batch, spare := make([]snapItem, 0, walkBatch), []snapItem(nil)
	write := func(items []snapItem) {
		for i := range items {
			sw.record(&items[i])
		}
		count += len(items)
		clear(items) // drop references to values
	}
	for dbi, d := range sn.dbs {
		var cursor uint64
		for done := false; !done; {
			var err error
			if batch, cursor, done, err = sn.walk(dbi, d, cursor, batch[:0]); err != nil {
				return sw.n(), err
			}
			write(batch)
			if spare, err = sn.drain(spare[:0], false); err != nil {
				return sw.n(), err
			}
			write(spare)
			if sw.err != nil {
				return sw.n(), sw.err
			}
			if sn.afterChunk != nil {
				sn.afterChunk()
			}
		}
	}
	// The walk has accounted for every key still holding its old state, so
	// apply can need to save nothing more: close and write the rest.
	spare, err := sn.drain(spare[:0], true)
	if err != nil {
		return sw.n(), err
	}
	write(spare)
	if count != sn.keys {
		return sw.n(), fmt.Errorf("store: snapshot walk accounted for %d of %d keys", count, sn.keys)
	}
	return sw.trailer(count)
}

// walk collects, under the read lock, the entries of one chunk of d that
// still hold their state as of the snapshot and have not been written, and
// returns the next cursor (done when the table has been covered). SCAN's
// cursor returns every entry present for the whole walk at least once across
// resizes; snapMark makes it exactly once.
func (sn *Snapshot) walk(dbi int, d *db, cursor uint64, out []snapItem) (_ []snapItem, next uint64, done bool, err error) {
	buckets := sn.chunkBuckets
	if buckets <= 0 {
		buckets = walkBuckets
	}
	emit := func(e *entry) {
		switch {
		case e.rev > sn.rev || err != nil:
			return // created or changed since the snapshot (a pre-image was saved)
		case e.snapMark.Load() == sn.id:
			sn.revisits++ // already written or saved
			return
		}
		e.snapMark.Store(sn.id)
		var p []byte
		if p, err = snapPayload(e.value); err != nil {
			return
		}
		out = append(out, snapItem{db: dbi, typ: e.typ, key: e.key, expireAt: e.expireAt, rev: e.rev, payload: p})
	}
	s := sn.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i := 0; i < buckets && len(out) < walkBatch && err == nil; i++ {
		if cursor = d.dict.scan(cursor, emit); cursor == 0 {
			return out, 0, true, err
		}
	}
	return out, cursor, false, err
}

// drain moves the saved pre-images into buf (swapping buffers, so neither
// side allocates in the steady state) and reports a failure or a release.
func (sn *Snapshot) drain(buf []snapItem, closing bool) ([]snapItem, error) {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	if sn.mu.released {
		return buf, ErrSnapshotDone
	}
	if sn.mu.err != nil {
		return buf, sn.mu.err
	}
	out := sn.mu.pending
	sn.mu.pending = buf
	sn.mu.closed = closing
	return out, nil
}

// Release ends the snapshot: apply stops saving old versions and the
// databases it held can be collected. Call it exactly when the snapshot is no
// longer needed, also after a failed WriteTo; a WriteTo still running fails.
// It is idempotent and may be called from any goroutine.
func (sn *Snapshot) Release() {
	s := sn.s
	s.mu.Lock()
	if s.snap == sn {
		s.snap = nil
	}
	s.mu.Unlock()
	sn.mu.Lock()
	sn.mu.released = true
	sn.mu.pending = nil
	sn.mu.Unlock()
}

// Restore replaces the whole state (every database and the revision) with
// the snapshot read from r. It reads into new databases and installs them only
// after the trailer's count and checksum match, so on any error (wrapping
// ErrSnapshotCorrupt, ErrSnapshotVersion, ErrSnapshotMismatch or r's own
// error) the store is unchanged. Meanwhile the old and the new state are both
// in memory.
//
// The FSM calls it with no Apply running; reads go on until the swap. An
// active snapshot keeps the databases it captured (nothing mutates them any
// more) and its WriteTo completes unaffected.
func (s *Store) Restore(r io.Reader) error {
	dbs, rev, err := s.readSnapshot(r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	copy(s.dbs, dbs) // same length: Databases() reads len(s.dbs) without the lock
	s.rev = rev
	s.snap = nil // its databases are no longer the store's: nothing to preserve
	// The whole state was replaced: the change feed says so (watches restart
	// their history, blocked clients and tracking caches recheck everything).
	s.emit(-1, ClassDB, "restore", nil)
	return nil
}

func (s *Store) readSnapshot(r io.Reader) ([]*db, uint64, error) {
	sr := &snapReader{r: r, buf: make([]byte, 64<<10)}
	head, err := sr.read(nil, len(snapMagic)+1)
	if err != nil {
		return nil, 0, err
	}
	if string(head[:len(snapMagic)]) != snapMagic {
		return nil, 0, fmt.Errorf("%w: not a skiff snapshot", ErrSnapshotCorrupt)
	}
	v := head[len(snapMagic)]
	if v != snapVersion && v != 1 { // version 1 is version 2 without 'T' records
		return nil, 0, fmt.Errorf("%w %d (this build reads %d)", ErrSnapshotVersion, v, snapVersion)
	}
	rev, err := sr.uvarint()
	if err != nil {
		return nil, 0, err
	}
	ndb, err := sr.uvarint()
	if err != nil {
		return nil, 0, err
	}
	if ndb != uint64(len(s.dbs)) {
		return nil, 0, fmt.Errorf("%w: %d databases, the store has %d", ErrSnapshotMismatch, ndb, len(s.dbs))
	}
	dbs := make([]*db, ndb)
	for i := range dbs {
		dbs[i] = s.newDB()
	}
	var key []byte
	for count := uint64(0); ; {
		kind, err := sr.byte()
		if err != nil {
			return nil, 0, err
		}
		switch {
		case kind == recKey:
			key, err = sr.record(dbs, rev, key)
			if err != nil {
				return nil, 0, err
			}
			count++
		case kind == recTouched && v >= 2 && count == 0:
			if err := sr.touched(dbs, rev); err != nil {
				return nil, 0, err
			}
		case kind == recEnd:
			if err := sr.trailer(count); err != nil {
				return nil, 0, err
			}
			for _, d := range dbs {
				d.expires.heapify()
			}
			return dbs, rev, nil
		default:
			return nil, 0, fmt.Errorf("%w: unknown record kind %#x", ErrSnapshotCorrupt, kind)
		}
	}
}

// heapify orders a heap whose entries were appended with heapIdx set, in O(n).
func (h expHeap) heapify() {
	for i := len(h)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

// --- writing ---

// snapWriter encodes the stream through a bufio.Writer over a writer that
// checksums and counts what reaches w.
type snapWriter struct {
	cw      crcWriter
	bw      *bufio.Writer
	scratch []byte
	err     error
}

type crcWriter struct {
	w   io.Writer
	crc uint32
	n   int64
}

func (c *crcWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.crc = crc32.Update(c.crc, castagnoli, p[:n])
	c.n += int64(n)
	return n, err
}

func newSnapWriter(w io.Writer) *snapWriter {
	sw := &snapWriter{cw: crcWriter{w: w}, scratch: make([]byte, 0, 512)}
	sw.bw = bufio.NewWriterSize(&sw.cw, 64<<10)
	return sw
}

func (sw *snapWriter) n() int64 { return sw.cw.n }

func (sw *snapWriter) write(p []byte) {
	if sw.err == nil {
		_, sw.err = sw.bw.Write(p)
	}
}

func (sw *snapWriter) header(rev uint64, ndb int) {
	b := append(sw.scratch[:0], snapMagic...)
	b = append(b, snapVersion)
	b = binary.AppendUvarint(b, rev)
	b = binary.AppendUvarint(b, uint64(ndb))
	sw.write(b)
}

func (sw *snapWriter) record(it *snapItem) {
	b := append(sw.scratch[:0], recKey)
	b = binary.AppendUvarint(b, uint64(it.db))
	b = append(b, byte(it.typ))
	b = binary.AppendVarint(b, it.expireAt)
	b = binary.AppendUvarint(b, it.rev)
	b = binary.AppendUvarint(b, uint64(len(it.key)))
	if len(it.key) <= 256 {
		b = append(b, it.key...)
	} else {
		sw.write(b)
		if sw.err == nil {
			_, sw.err = sw.bw.WriteString(it.key)
		}
		b = b[:0]
	}
	b = binary.AppendUvarint(b, uint64(len(it.payload)))
	sw.write(b)
	sw.write(it.payload)
	sw.scratch = b
}

func (sw *snapWriter) trailer(count int) (int64, error) {
	b := append(sw.scratch[:0], recEnd)
	b = binary.AppendUvarint(b, uint64(count))
	sw.write(b)
	if sw.err == nil {
		sw.err = sw.bw.Flush()
	}
	if sw.err != nil {
		return sw.n(), sw.err
	}
	// The checksum goes around the bufio.Writer: it covers everything before it.
	sum := binary.LittleEndian.AppendUint32(nil, sw.cw.crc)
	n, err := sw.cw.w.Write(sum)
	sw.cw.n += int64(n)
	return sw.cw.n, err
}

// --- reading ---

// snapReader decodes the stream from its own buffer, folding consumed bytes
// into the checksum lazily (buf[crcd:pos] is consumed but not yet summed).
type snapReader struct {
	r              io.Reader
	buf            []byte
	pos, end, crcd int
	crc            uint32
}

func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: truncated", ErrSnapshotCorrupt)
	}
	return fmt.Errorf("store: reading snapshot: %w", err)
}

// fill makes at least need bytes available (need <= len(buf)). On a short
// stream it returns the error with whatever could be read buffered.
func (sr *snapReader) fill(need int) error {
	if sr.end-sr.pos >= need {
		return nil
	}
	sr.crc = crc32.Update(sr.crc, castagnoli, sr.buf[sr.crcd:sr.pos])
	sr.end = copy(sr.buf, sr.buf[sr.pos:sr.end])
	sr.pos, sr.crcd = 0, 0
	n, err := io.ReadAtLeast(sr.r, sr.buf[sr.end:], need-sr.end)
	sr.end += n
	return err
}

// checksum returns the CRC of every byte consumed so far.
func (sr *snapReader) checksum() uint32 {
	sr.crc = crc32.Update(sr.crc, castagnoli, sr.buf[sr.crcd:sr.pos])
	sr.crcd = sr.pos
	return sr.crc
}

func (sr *snapReader) byte() (byte, error) {
	if err := sr.fill(1); err != nil {
		return 0, truncated(err)
	}
	c := sr.buf[sr.pos]
	sr.pos++
	return c, nil
}

func (sr *snapReader) uvarint() (uint64, error) {
	err := sr.fill(binary.MaxVarintLen64) // may legitimately stop short near the end
	v, n := binary.Uvarint(sr.buf[sr.pos:sr.end])
	if n <= 0 {
		if n == 0 && err != nil {
			return 0, truncated(err)
		}
		return 0, fmt.Errorf("%w: bad varint", ErrSnapshotCorrupt)
	}
	sr.pos += n
	return v, nil
}

func (sr *snapReader) varint() (int64, error) {
	u, err := sr.uvarint()
	return int64(u>>1) ^ -int64(u&1), err // zig-zag, as binary.AppendVarint
}

// read appends the next n bytes to dst[:0]. Beyond dst's capacity it grows
// dst only as data arrives, so a corrupt length costs no more memory than the
// stream holds.
func (sr *snapReader) read(dst []byte, n int) ([]byte, error) {
	dst = dst[:0]
	for len(dst) < n {
		if sr.pos == sr.end {
			if err := sr.fill(1); err != nil {
				return nil, truncated(err)
			}
		}
		k := min(n-len(dst), sr.end-sr.pos)
		if cap(dst)-len(dst) < k {
			dst = slices.Grow(dst, min(n-len(dst), max(len(dst), 1<<20)))
		}
		dst = append(dst, sr.buf[sr.pos:sr.pos+k]...)
		sr.pos += k
	}
	return dst, nil
}

func (sr *snapReader) length() (int, error) {
	n, err := sr.uvarint()
	if err != nil {
		return 0, err
	}
	if n > maxPayload {
		return 0, fmt.Errorf("%w: length %d", ErrSnapshotCorrupt, n)
	}
	return int(n), nil
}

// record decodes one key record (after its kind byte) into dbs. key is a
// scratch buffer, returned for reuse.
func (sr *snapReader) record(dbs []*db, rev uint64, key []byte) ([]byte, error) {
	dbi, err := sr.uvarint()
	if err != nil {
		return key, err
	}
	typ, err := sr.byte()
	if err != nil {
		return key, err
	}
	at, err := sr.varint()
	if err != nil {
		return key, err
	}
	erev, err := sr.uvarint()
	if err != nil {
		return key, err
	}
	if dbi >= uint64(len(dbs)) || erev > rev {
		return key, fmt.Errorf("%w: record for db %d at revision %d", ErrSnapshotCorrupt, dbi, erev)
	}
	n, err := sr.length()
	if err != nil {
		return key, err
	}
	if key, err = sr.read(key, n); err != nil {
		return key, err
	}
	if n, err = sr.length(); err != nil {
		return key, err
	}
	payload, err := sr.read(make([]byte, 0, min(n, 1<<20)), n) // exact below 1 MiB
	if err != nil {
		return key, err
	}
	v, err := valueFromPayload(Type(typ), payload)
	if err != nil {
		return key, err
	}
	d := dbs[dbi]
	if d.dict.find(key) != nil {
		return key, fmt.Errorf("%w: duplicate key %q in db %d", ErrSnapshotCorrupt, key, dbi)
	}
	e := newEntry(key)
	e.value = v
	e.expireAt = at
	e.rev = erev
	d.dict.insert(e)
	if at != 0 {
		e.heapIdx = len(d.expires)
		d.expires = append(d.expires, e) // ordered by init once all are in
	}
	return key, nil
}

// trailer checks the record count and the checksum, and that nothing follows.
func (sr *snapReader) trailer(count uint64) error {
	n, err := sr.uvarint()
	if err != nil {
		return err
	}
	if n != count {
		return fmt.Errorf("%w: %d records, trailer says %d", ErrSnapshotCorrupt, count, n)
	}
	sum := sr.checksum()
	b, err := sr.read(make([]byte, 0, 4), 4)
	if err != nil {
		return err
	}
	if got := binary.LittleEndian.Uint32(b); got != sum {
		return fmt.Errorf("%w: checksum %08x, computed %08x", ErrSnapshotCorrupt, got, sum)
	}
	switch err := sr.fill(1); {
	case err == nil:
		return fmt.Errorf("%w: data after the trailer", ErrSnapshotCorrupt)
	case errors.Is(err, io.EOF):
		return nil
	default:
		return truncated(err)
	}
}
