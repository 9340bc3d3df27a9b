package command

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/skiffdb/skiff/internal/engine"
	"github.com/skiffdb/skiff/internal/store"
)

// Watch (Server.Watch, api.go): etcd-style change streams over the change
// feed, with resumable tokens.
//
// History. Every node keeps a ring of recent key events, fed by OnEvent on
// the apply goroutine (bounded by count and by the bytes of keys and
// values, WatchOptions). Feed events become watch events: a change that
// leaves the key in place is PUT (carrying the value for a string key),
// "del", "rename_from" and "move_from" are DELETE, "expired" is EXPIRE;
// "new" (always followed by the creating command's own event), published
// messages and served pops are not key events, and the "expire" that
// follows a "set" of the same key in one operation (SET EX, a put with a
// TTL) adds nothing to the PUT. FLUSHDB, FLUSHALL and SWAPDB are one
// DELETE with no key: "the database's content was replaced" (DB -1 for
// every database), after which a watcher must re-read what it caches.
// One operation may report a key twice (a pop that empties a list: PUT,
// then DELETE); the last event of a key within a revision is its state.
//
// Positions and tokens. An event is identified by its store revision (equal
// on every replica) and its index among the watch events of that revision
// (MSET and transactions change several keys in one revision); every
// replica derives the same events in the same order from the same log, so
// positions mean the same on every node. A token names the point just
// after an event ("resume here"), or after a whole revision (progress,
// CurrentToken): base64url of version 1, the Raft group (0; there is one
// today), the revision and the index, varints. A watch from a token
// replays the retained events after it, then follows live ones; the live
// registration and the end of the replay happen under one lock, so nothing
// is missed or sent twice. A token before the oldest retained event is
// ErrCompacted (*CompactedError names the oldest token); one beyond what
// this node has applied waits until it has (a resume on a lagging replica).
//
// A node's history starts when it starts (at the revision of the snapshot
// it restored, then the log it replays): older tokens are compacted there.
// A snapshot installed by the leader into a running follower that fell far
// behind skips changes: a ClassDB event named "restore" (DB -1, the
// restored revision) starts the history afresh and ends the node's live
// watchers with *CompactedError. store.Restore does not emit it yet: until
// it does, a watch on such a follower misses what the snapshot skipped.
//
// Slow watchers never hold up apply: each live watcher has a bounded queue;
// when it overflows the watch ends with ErrWatchOverflow after sending what
// was queued, and the client resumes from its last token (the history
// still holds what it missed).

// Defaults of WatchOptions.
const (
	DefaultWatchHistoryEvents = 100_000
	DefaultWatchHistoryBytes  = 64 << 20
	DefaultWatchQueueEvents   = 4096
	defaultProgressInterval   = 10 * time.Second
)

const (
	watchScanBatch = 4096 // history entries a replay scans per lock hold
	histOverhead   = 64   // bytes counted per history event besides its key and value
	allEvents      = math.MaxUint32
	tokenVersion   = 1
)

// WatchOptions bound the watch history and live watchers; zero fields take
// the defaults.
type WatchOptions struct {
	HistoryEvents int   // events retained (default 100,000)
	HistoryBytes  int64 // bytes of keys and values retained (default 64 MiB)
	QueueEvents   int   // a live watcher's undelivered events before it is ended (default 4096)
}

func (o WatchOptions) withDefaults() WatchOptions {
	if o.HistoryEvents <= 0 {
		o.HistoryEvents = DefaultWatchHistoryEvents
	}
	if o.HistoryBytes <= 0 {
		o.HistoryBytes = DefaultWatchHistoryBytes
	}
	if o.QueueEvents <= 0 {
		o.QueueEvents = DefaultWatchQueueEvents
	}
	return o
}

// SetWatchOptions changes the watch limits; a smaller history drops its
// oldest events at once. Safe at any time.
func (s *Server) SetWatchOptions(o WatchOptions) {
	h := &s.api.watch
	h.mu.Lock()
	defer h.mu.Unlock()
	h.mu.opts = o.withDefaults()
	m := &h.mu
	for m.n > 0 && (m.n > m.opts.HistoryEvents || m.bytes > m.opts.HistoryBytes) {
		h.evict()
	}
	if len(m.ring) > m.opts.HistoryEvents {
		h.resize(m.opts.HistoryEvents)
	}
}

// wpos is a point in the event sequence: before the n-th watch event of
// revision rev (n = allEvents: after all of them).
type wpos struct {
	rev uint64
	n   uint32
}

func (p wpos) less(q wpos) bool { return p.rev < q.rev || p.rev == q.rev && p.n < q.n }

// histEvent is one watch event in the history.
type histEvent struct {
	rev   uint64
	idx   uint32
	db    int32
	typ   uint8  // an EventType
	whole bool   // a whole database was replaced; key is nil
	key   []byte // immutable (the hub's arena)
	val   []byte // a string's value (the store's, immutable)
}

func (e *histEvent) pos() wpos   { return wpos{e.rev, e.idx} }
func (e *histEvent) after() wpos { return wpos{e.rev, e.idx + 1} }
func (e *histEvent) size() int64 { return int64(len(e.key)+len(e.val)) + histOverhead }

// watchHub is a node's watch history and its live watchers.
type watchHub struct {
	mu struct {
		sync.Mutex
		opts    WatchOptions
		started bool
		ring    []histEvent // circular: n events from head
		head, n int
		bytes   int64
		base    wpos // the oldest point retained: every event after it is in ring
		evicted bool // base moved because events were dropped
		next    wpos // the point after the newest event
		arena   []byte
		keys    map[string][]*watcher // live single-key watchers
		prefix  []*watcher            // live prefix watchers
	}
}

// watcher is one live watch.
type watcher struct {
	db       int
	key      []byte
	isPrefix bool
	sig      chan struct{} // cap 1: events queued or overflow
	// Guarded by the hub's mu.
	q, spare []histEvent
	overflow bool
	gone     error // the history restarted under it (a snapshot restore)
}

func (w *watcher) matches(e *histEvent) bool {
	switch {
	case int(e.db) != w.db && e.db != -1:
		return false
	case e.whole:
		return true
	case w.isPrefix:
		return bytes.HasPrefix(e.key, w.key)
	}
	return bytes.Equal(e.key, w.key)
}

// watchType classifies a feed event; ok is false when it is no key event.
func watchType(ev *store.Event) (t EventType, ok bool) {
	switch ev.Class {
	case store.ClassNew, store.ClassPublish, store.ClassServed:
		return 0, false
	case store.ClassDB, store.ClassEvicted:
		return EventDelete, true
	case store.ClassExpired:
		return EventExpire, true
	}
	switch ev.Name {
	case "del", "rename_from", "move_from":
		return EventDelete, true
	}
	return EventPut, true
}

// onEvent records a feed event and hands it to the live watchers it
// matches. It runs on the apply goroutine under the store's write lock and
// never blocks (the hub's lock is held only briefly by anyone).
func (h *watchHub) onEvent(ev *store.Event) {
	typ, ok := watchType(ev)
	if !ok {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	m := &h.mu
	if !m.started {
		h.start(ev.Rev - 1) // the listener is installed between operations
	}
	whole := ev.Class == store.ClassDB
	if whole && ev.Name == "restore" {
		h.restart(ev.Rev)
		return
	}
	if ev.Name == "expire" && !whole && m.n > 0 {
		if last := h.at(m.n - 1); last.rev == ev.Rev && last.typ == uint8(EventPut) && !last.whole && int(last.db) == ev.DB && bytes.Equal(last.key, ev.Key) {
			return // SET EX: one PUT
		}
	}
	var idx uint32
	if m.next.rev == ev.Rev && m.next.n != allEvents {
		idx = m.next.n
	}
	e := histEvent{rev: ev.Rev, idx: idx, typ: uint8(typ), db: int32(ev.DB), whole: whole}
	if !whole {
		e.key = h.keep(ev.Key)
		if typ == EventPut {
			e.val = ev.StrValue
		}
	}
	h.push(e)
	m.next = e.after()
	if !whole {
		for _, w := range m.keys[string(e.key)] {
			h.enqueue(w, &e)
		}
	} else {
		for _, ws := range m.keys {
			for _, w := range ws {
				h.enqueue(w, &e)
			}
		}
	}
	for _, w := range m.prefix {
		h.enqueue(w, &e)
	}
}

func (h *watchHub) enqueue(w *watcher, e *histEvent) {
	if w.overflow || !w.matches(e) {
		return
	}
	if len(w.q) >= h.mu.opts.QueueEvents {
		w.overflow = true
	} else {
		w.q = append(w.q, *e)
	}
	select {
	case w.sig <- struct{}{}:
	default:
	}
}

// start begins the history after revision rev (mu held).
func (h *watchHub) start(rev uint64) {
	m := &h.mu
	m.started = true
	m.opts = m.opts.withDefaults()
	m.base = wpos{rev, allEvents}
	m.next = m.base
	m.keys = make(map[string][]*watcher)
}

// restart drops the history after a snapshot restore to revision rev: the
// changes it skipped were never seen here. Live watchers end.
func (h *watchHub) restart(rev uint64) {
	m := &h.mu
	clear(m.ring)
	m.head, m.n, m.bytes, m.arena = 0, 0, 0, nil
	m.base, m.next, m.evicted = wpos{rev, allEvents}, wpos{rev, allEvents}, true
	gone := &CompactedError{Oldest: encodeToken(m.base), OldestRevision: rev}
	end := func(w *watcher) {
		w.gone = gone
		select {
		case w.sig <- struct{}{}:
		default:
		}
	}
	for _, ws := range m.keys {
		for _, w := range ws {
			end(w)
		}
	}
	for _, w := range m.prefix {
		end(w)
	}
	clear(m.keys)
	m.prefix = nil
}

// at returns the i-th retained event, oldest first (mu held).
func (h *watchHub) at(i int) *histEvent {
	m := &h.mu
	return &m.ring[(m.head+i)%len(m.ring)]
}

// keep copies a key into the hub's arena (one allocation per 64 KiB).
func (h *watchHub) keep(k []byte) []byte {
	m := &h.mu
	if cap(m.arena)-len(m.arena) < len(k) {
		m.arena = make([]byte, 0, max(64<<10, len(k)))
	}
	m.arena = append(m.arena, k...)
	return m.arena[len(m.arena)-len(k) : len(m.arena) : len(m.arena)]
}

func (h *watchHub) push(e histEvent) {
	m := &h.mu
	if m.n == len(m.ring) {
		if len(m.ring) < m.opts.HistoryEvents {
			h.resize(min(max(64, 2*len(m.ring)), m.opts.HistoryEvents))
		} else {
			h.evict()
		}
	}
	m.ring[(m.head+m.n)%len(m.ring)] = e
	m.n++
	m.bytes += e.size()
	for m.n > 1 && m.bytes > m.opts.HistoryBytes {
		h.evict()
	}
}

// evict drops the oldest event.
func (h *watchHub) evict() {
	m := &h.mu
	e := &m.ring[m.head]
	m.base, m.evicted = e.after(), true
	m.bytes -= e.size()
	*e = histEvent{}
	m.head = (m.head + 1) % len(m.ring)
	m.n--
}

func (h *watchHub) resize(n int) {
	m := &h.mu
	ring := make([]histEvent, n)
	for i := 0; i < m.n; i++ {
		ring[i] = *h.at(i)
	}
	m.ring, m.head = ring, 0
}

// search returns the index of the first retained event at or after p.
func (h *watchHub) search(p wpos) int {
	return sort.Search(h.mu.n, func(i int) bool { return !h.at(i).pos().less(p) })
}

// catchUp is one step of a watch's replay: it appends to buf the retained
// events after *cur that w matches (scanning at most watchScanBatch
// events) and advances *cur past what it scanned. When the scan reaches the
// newest event it registers w as live, under the same lock, and returns
// live: every later event reaches w's queue. fresh: *cur is set to the
// newest point first (a watch without a token). initRev starts a history
// that has seen no event yet.
func (h *watchHub) catchUp(w *watcher, cur *wpos, buf []histEvent, initRev uint64, fresh bool) ([]histEvent, bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := &h.mu
	if !m.started {
		h.start(initRev)
	}
	if fresh {
		*cur = m.next
	}
	if cur.less(m.base) {
		return buf, false, &CompactedError{Oldest: encodeToken(m.base), OldestRevision: m.base.rev}
	}
	i := h.search(*cur)
	for end := min(m.n, i+watchScanBatch); i < end; i++ {
		e := h.at(i)
		if w.matches(e) {
			buf = append(buf, *e)
		}
		*cur = e.after()
	}
	if i < m.n {
		return buf, false, nil
	}
	if w.isPrefix {
		m.prefix = append(m.prefix, w)
	} else {
		m.keys[string(w.key)] = append(m.keys[string(w.key)], w)
	}
	return buf, true, nil
}

// remove unregisters w (a no-op when it never went live).
func (h *watchHub) remove(w *watcher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := &h.mu
	drop := func(ws []*watcher) []*watcher {
		for i, x := range ws {
			if x == w {
				return append(ws[:i:i], ws[i+1:]...)
			}
		}
		return ws
	}
	if w.isPrefix {
		m.prefix = drop(m.prefix)
		return
	}
	k := string(w.key)
	if ws := drop(m.keys[k]); len(ws) > 0 {
		m.keys[k] = ws
	} else {
		delete(m.keys, k)
	}
}

// take returns w's queued events (w keeps the other of its two buffers),
// whether its queue overflowed, and why it was ended otherwise.
func (h *watchHub) take(w *watcher) ([]histEvent, bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	q := w.q
	w.q, w.spare = w.spare[:0], q
	return q, w.overflow, w.gone
}

func (h *watchHub) pending(w *watcher) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(w.q) > 0 || w.overflow || w.gone != nil
}

// Watch streams events to send until ctx ends, send fails or the watch
// must end (see the top of watch.go for what is sent). It returns send's
// error, ctx's, ErrInvalidArgument (bad request or token) or
// *CompactedError at the start, ErrWatchOverflow when the watcher fell
// behind, engine.ErrClosed when the node shuts down. Without FromToken it
// first sends EventProgress with the token of its starting point, so a
// client can resume even before any event. send is called on the calling
// goroutine, one event at a time; the events' Key and Value must not be
// modified.
func (s *Server) Watch(ctx context.Context, req WatchRequest, send func(WatchEvent) error) error {
	st := s.eng.Store()
	switch {
	case req.DB < 0 || req.DB >= st.Databases():
		return fmt.Errorf("%w: database %d out of range", ErrInvalidArgument, req.DB)
	case !req.IsPrefix && len(req.Key) == 0:
		return fmt.Errorf("%w: empty key (IsPrefix with an empty prefix watches every key)", ErrInvalidArgument)
	}
	every := req.ProgressInterval
	if every == 0 {
		every = defaultProgressInterval
	}
	fresh := req.FromToken == ""
	var cur wpos
	if !fresh {
		var err error
		if cur, err = decodeToken(req.FromToken); err != nil {
			return err
		}
		if err := s.waitApplied(ctx, cur.rev); err != nil {
			return err
		}
	}
	h := &s.api.watch
	w := &watcher{db: req.DB, key: bytes.Clone(req.Key), isPrefix: req.IsPrefix, sig: make(chan struct{}, 1)}
	defer h.remove(w)
	initRev := st.CurrentRevision()
	var buf []histEvent
	for {
		var live bool
		var err error
		buf, live, err = h.catchUp(w, &cur, buf[:0], initRev, fresh)
		if err != nil {
			return err
		}
		if fresh {
			fresh = false
			if err := send(WatchEvent{Type: EventProgress, DB: req.DB, Revision: cur.rev, Token: encodeToken(cur)}); err != nil {
				return err
			}
		}
		for i := range buf {
			if err := send(watchEvent(&buf[i])); err != nil {
				return err
			}
		}
		if live {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.ctx.Done():
			return engine.ErrClosed
		default:
		}
	}
	return s.follow(ctx, w, req.DB, every, send)
}

// follow sends a live watcher's events as they arrive, and progress
// notifications while it is idle.
func (s *Server) follow(ctx context.Context, w *watcher, db int, every time.Duration, send func(WatchEvent) error) error {
	h, st := &s.api.watch, s.eng.Store()
	var tick <-chan time.Time
	var timer *time.Timer
	if every > 0 {
		timer = time.NewTimer(every)
		defer timer.Stop()
		tick = timer.C
	}
	for {
		select {
		case <-w.sig:
			q, over, gone := h.take(w)
			for i := range q {
				if err := send(watchEvent(&q[i])); err != nil {
					return err
				}
			}
			if gone != nil {
				return gone
			}
			if over {
				tok := ""
				if len(q) > 0 {
					tok = " " + encodeToken(q[len(q)-1].after())
				}
				return fmt.Errorf("%w: resume from the last token received%s", ErrWatchOverflow, tok)
			}
			if timer != nil && len(q) > 0 {
				timer.Reset(every)
			}
		case <-tick:
			// Every event up to rev was queued before CurrentRevision
			// returned (apply queues under the store's lock): with nothing
			// queued, everything up to rev has been sent.
			rev := st.CurrentRevision()
			if !h.pending(w) {
				p := wpos{rev, allEvents}
				if err := send(WatchEvent{Type: EventProgress, DB: db, Revision: rev, Token: encodeToken(p)}); err != nil {
					return err
				}
			}
			timer.Reset(every)
		case <-ctx.Done():
			return ctx.Err()
		case <-s.ctx.Done():
			return engine.ErrClosed
		}
	}
}

// waitApplied returns when this node has applied revision rev.
func (s *Server) waitApplied(ctx context.Context, rev uint64) error {
	st := s.eng.Store()
	if st.CurrentRevision() >= rev {
		return nil
	}
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.ctx.Done():
			return engine.ErrClosed
		case <-t.C:
		}
		if st.CurrentRevision() >= rev {
			return nil
		}
	}
}

func watchEvent(e *histEvent) WatchEvent {
	return WatchEvent{Type: EventType(e.typ), DB: int(e.db), Key: e.key, Value: e.val, Revision: e.rev, Token: encodeToken(e.after())}
}

// CurrentToken returns the token of this node's applied state: a watch
// from it sees every change applied after it. Callers use it for progress
// and as an ETag.
func (s *Server) CurrentToken() string {
	return encodeToken(wpos{s.eng.Store().CurrentRevision(), allEvents})
}

// encodeToken: base64url(version, group, rev, n), varints.
func encodeToken(p wpos) string {
	var b [1 + binary.MaxVarintLen64*3]byte
	b[0] = tokenVersion
	n := 1
	n += binary.PutUvarint(b[n:], 0) // the Raft group
	n += binary.PutUvarint(b[n:], p.rev)
	n += binary.PutUvarint(b[n:], uint64(p.n))
	return base64.RawURLEncoding.EncodeToString(b[:n])
}

// decodeToken parses a token strictly: exactly what encodeToken writes.
func decodeToken(tok string) (wpos, error) {
	bad := func(why string) (wpos, error) {
		return wpos{}, fmt.Errorf("%w: bad watch token (%s)", ErrInvalidArgument, why)
	}
	if len(tok) > 64 {
		return bad("too long")
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	if err != nil || len(b) == 0 {
		return bad("not base64url")
	}
	if b[0] != tokenVersion {
		return bad("unknown version")
	}
	var v [3]uint64
	rest := b[1:]
	for i := range v {
		x, n := binary.Uvarint(rest)
		if n <= 0 {
			return bad("truncated")
		}
		v[i], rest = x, rest[n:]
	}
	switch {
	case len(rest) != 0:
		return bad("trailing bytes")
	case v[0] != 0:
		return bad("unknown group")
	case v[2] > allEvents:
		return bad("index out of range")
	}
	p := wpos{v[1], uint32(v[2])}
	if encodeToken(p) != tok {
		return bad("not canonical")
	}
	return p, nil
}
