package store

import (
	"sync"

	"github.com/skiffdb/skiff/internal/op"
)

// Transactions (op.Txn): MULTI/EXEC as one operation, applied atomically.
//
// WATCH is optimistic: a watched key's revision (entry.rev, the store
// revision of the operation that last changed it; 0 while it is absent or
// expired) is recorded when it is watched and compared when the transaction
// is applied. Every apply function stamps e.rev on each change, so a key
// changed in between (or expired, deleted, flushed, swapped away) has
// another revision and the transaction applies nothing.
//
// Read steps run on the node that proposed the transaction, through a hook
// it registered under the transaction's id: apply calls it at the step's
// position with a view of the state at that point. Other replicas skip read
// steps; they change nothing.

// TxnResult is the reply value of an op.Txn.
type TxnResult struct {
	// Aborted: a WATCH condition failed and nothing was applied.
	Aborted bool
	// Results has one entry per step: the operation's reply value and error;
	// the zero Result for a read step.
	Results []Result
}

// TxnHook runs read step step of a transaction while it is applied: on the
// apply goroutine, with the store's write lock held. It must read only
// through view, a Store that shares this store's data and takes no lock
// apply holds, and must not keep view or anything it returned after
// returning. It must not block.
type TxnHook func(step int, view *Store)

type txnHooks struct {
	mu sync.Mutex
	m  map[string]*txnReg
}

type txnReg struct {
	mu   sync.Mutex
	fn   TxnHook
	done bool
}

// RegisterTxnHook registers fn as the read hook of the transaction named id
// (op.Txn's Args[0]) until the returned function is called. After that
// function returns, fn is not running and will never run: the caller may
// reuse what fn writes to. Called by the engine on the proposing node, on any
// goroutine; ids must be unique among registered hooks.
func (s *Store) RegisterTxnHook(id []byte, fn TxnHook) (unregister func()) {
	r := &txnReg{fn: fn}
	key := string(id)
	h := &s.txnHooks
	h.mu.Lock()
	if h.m == nil {
		h.m = make(map[string]*txnReg)
	}
	h.m[key] = r
	h.mu.Unlock()
	return func() {
		h.mu.Lock()
		if h.m[key] == r {
			delete(h.m, key)
		}
		h.mu.Unlock()
		r.mu.Lock()
		r.done = true
		r.mu.Unlock()
	}
}

func (s *Store) txnHook(id []byte) *txnReg {
	if len(id) == 0 {
		return nil
	}
	h := &s.txnHooks
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.m[string(id)]
}

func (r *txnReg) run(step int, view *Store) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.done {
		r.fn(step, view)
	}
}

// view returns a Store sharing s's databases for reads during apply: its
// lock is its own, so reads through it neither wait for nor deadlock with the
// write lock apply holds. Valid while apply runs on the calling goroutine.
func (s *Store) view() *Store {
	return &Store{dbs: s.dbs, seed: s.seed, rev: s.rev, now: s.now}
}

func applyTxn(s *Store, o *op.Op) (any, error) {
	t, err := op.ParseTxn(o)
	if err != nil {
		return nil, ErrMalformedOp
	}
	// Every step is decoded before anything is applied: a malformed
	// transaction changes nothing. Each step gets its own Args (results may
	// alias them).
	ops := make([]op.Op, len(t.Steps))
	reads := false
	for i, b := range t.Steps {
		if len(b) == 0 {
			reads = true
			continue
		}
		rest, err := op.DecodeInto(&ops[i], b)
		if err != nil || len(rest) != 0 || ops[i].Code == op.Txn {
			return nil, ErrMalformedOp
		}
	}
	for _, c := range t.Conds {
		if c.DB >= len(s.dbs) {
			return nil, ErrMalformedOp
		}
	}
	for _, c := range t.Conds {
		if !s.watchHolds(s.dbs[c.DB], c.Key, c.Rev, o.Time) {
			return TxnResult{Aborted: true}, nil
		}
	}
	var hook *txnReg
	if reads {
		hook = s.txnHook(t.ID)
	}
	var view *Store // shares s.dbs' backing array: it follows FLUSHALL and SWAPDB steps
	res := make([]Result, len(t.Steps))
	for i := range t.Steps {
		if len(t.Steps[i]) == 0 {
			if hook != nil {
				if view == nil {
					view = s.view()
				}
				hook.run(i, view)
			}
			continue
		}
		v, err := s.applyLocked(&ops[i])
		res[i] = Result{Value: v, Err: err}
	}
	return TxnResult{Results: res}, nil
}

// revAt returns key's revision at time now: 0 when it is absent or past its
// deadline. It changes nothing (not even the access time).
func (s *Store) revAt(d *db, key []byte, now int64) uint64 {
	e := d.dict.find(key)
	if e == nil || (e.expireAt != 0 && e.expireAt <= now) {
		return 0
	}
	return e.rev
}

// Revisions appends to dst the revision of each key of database dbi at time
// now as WATCH records them: for a key that is absent or expired, the store
// revision flagged with RevAbsent (touched.go).
func (s *Store) Revisions(dbi int, keys [][]byte, now int64, dst []uint64) []uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if dbi < 0 || dbi >= len(s.dbs) {
		for range keys {
			dst = append(dst, 0)
		}
		return dst
	}
	d := s.dbs[dbi]
	for _, k := range keys {
		r := s.revAt(d, k, now)
		if r == 0 {
			r = s.rev | RevAbsent
		}
		dst = append(dst, r)
	}
	return dst
}

// NewScratch returns an empty store with as many databases as s. EXEC uses
// one, filled by CopyKeys, to prepare a transaction's writes against the
// state its own earlier writes leave (SPOP after SADD, a blocking pop after a
// push): the operations prepared there are replicated; the scratch store
// itself never is.
func (s *Store) NewScratch() *Store { return New(Options{Databases: len(s.dbs)}) }

// CopyKeys makes dst hold, for every database, what s holds under each of
// keys now: a copy of the value, deadline and revision, or nothing. dst must
// be private to the caller (a scratch store); s is only read.
func (s *Store) CopyKeys(dst *Store, keys [][]byte) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	dst.mu.Lock()
	defer dst.mu.Unlock()
	for i, d := range s.dbs {
		if i >= len(dst.dbs) {
			break
		}
		dd := dst.dbs[i]
		for _, k := range keys {
			dst.deleteEntry(dd, k)
			e := d.dict.find(k)
			if e == nil {
				continue
			}
			ne := dst.put(dd, nil, k, cloneValue(e.value), e.expireAt)
			ne.rev = e.rev
		}
	}
}

// ReadTxn runs a transaction without writes: under the read lock (nothing
// is applied meanwhile) it checks conds at time now and, if every revision
// matches, calls fn with a view of the store. It returns false, without
// calling fn, when a condition failed. fn must read only through view.
func (s *Store) ReadTxn(conds []op.TxnCond, now int64, fn func(view *Store)) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, c := range conds {
		if c.DB < 0 || c.DB >= len(s.dbs) || !s.watchHolds(s.dbs[c.DB], c.Key, c.Rev, now) {
			return false
		}
	}
	fn(s.view())
	return true
}
