package command

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/skiffdb/skiff/internal/store"
)

// The keyspace API that the gRPC and REST front doors call (DESIGN.md
// principle 1: they are thin translators onto this one command layer). Each
// call runs as a SKIFF.KV.* (or SKIFF.CLUSTER) command through the same
// table, routing (a follower forwards to the leader), read fences, error
// table and statistics as RESP (apiclient.go), so the three front doors
// share semantics, consistency and errors; concurrent calls are one
// proposal each, group-committed by raft. Watch is served from this node's
// own change feed (watch.go). Values are binary-safe; keys are arbitrary
// non-empty bytes. Everything here works on database 0 unless a request
// says otherwise. All methods are safe for concurrent use.
//
// Revisions: a key's revision is the store revision of the last operation
// that changed it (the per-key stamp WATCH compares); the store revision
// counts applied operations and is identical on every replica, so a revision
// read on one node means the same on every other.

// Consistency is a read's consistency level.
type Consistency int

const (
	// Linearizable: served by the leader after a read fence (the default);
	// a follower forwards the read.
	Linearizable Consistency = iota
	// Serializable: served from this node's own state, which may lag the
	// leader (etcd's serializable, Redis's READONLY replica reads).
	Serializable
)

// API errors. grpcapi and httpapi map each to their protocol in one table;
// errors not listed here are internal. Errors returned by the API wrap one of
// these (or a store/engine sentinel such as store.ErrWrongType,
// engine.ErrNoLeader), so errors.Is works.
var (
	// ErrNotFound: the key does not exist.
	ErrNotFound = errors.New("key not found")
	// ErrInvalidArgument: a malformed request (empty key, negative limit,
	// bad token ...). The message says what.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrCompacted: a watch's start token is older than the history the
	// node retains; the *CompactedError says the oldest point available.
	ErrCompacted = errors.New("watch history compacted")
	// ErrUnimplemented: not available yet (the Queue API until Streams).
	ErrUnimplemented = errors.New("not implemented")
	// ErrWatchOverflow: a watch fell too far behind (its client did not
	// take events as fast as they came) and was ended; the client resumes
	// from the last token it received, on this node or another. Retriable
	// (gRPC: Unavailable or ResourceExhausted).
	ErrWatchOverflow = errors.New("watch fell behind")
)

// CompactedError is returned (wrapping ErrCompacted) when a watch asks to
// start before the retained history.
type CompactedError struct {
	// Oldest is the token of the oldest point a watch can resume from.
	Oldest string
	// OldestRevision is its store revision (informational).
	OldestRevision uint64
}

func (e *CompactedError) Error() string {
	return "watch history compacted: the oldest point available is revision " + strconv.FormatUint(e.OldestRevision, 10) + " (token " + e.Oldest + ")"
}

func (e *CompactedError) Unwrap() error { return ErrCompacted }

// KV is one key with its value and revision.
type KV struct {
	Key      []byte
	Value    []byte // nil in a keys-only range
	Revision uint64 // the key's revision (last change)
	// ExpireAt is the key's deadline in unix ms (0 = none).
	ExpireAt int64
}

// GetRequest reads one key.
type GetRequest struct {
	DB          int
	Key         []byte
	Consistency Consistency
}

// PutRequest writes one string value.
type PutRequest struct {
	DB    int
	Key   []byte
	Value []byte
	// TTL, when positive, gives the key a deadline (relative to the time
	// the command is prepared, as SET PX does); zero keeps no deadline.
	TTL time.Duration
	// IfAbsent: only when the key does not exist (SET NX).
	IfAbsent bool
	// IfRevision, when non-zero, is a compare-and-set: only when the key's
	// revision equals it.
	IfRevision uint64
}

// PutResponse says whether the write happened and the key's revision after
// it (its current revision when it did not).
type PutResponse struct {
	Written  bool
	Revision uint64
}

// DeleteRequest removes one key.
type DeleteRequest struct {
	DB         int
	Key        []byte
	IfRevision uint64 // non-zero: only when the key's revision equals it
}

// DeleteResponse says whether a key was removed.
type DeleteResponse struct {
	Deleted bool
	// Revision is the store revision of the deletion (0 when nothing was
	// deleted).
	Revision uint64
}

// RangeRequest lists keys in byte order: those with Prefix, or in [Start,
// End) (End nil = no upper bound); after After (exclusive: the pagination
// cursor, the last key of the previous page), at most Limit (0 = a default
// of 1000, capped at 10000).
type RangeRequest struct {
	DB          int
	Prefix      []byte
	Start, End  []byte
	After       []byte
	Limit       int
	KeysOnly    bool
	Consistency Consistency
}

// RangeResponse is one page; More says whether keys remain after the last
// one (pass its key as the next After).
type RangeResponse struct {
	KVs      []KV
	More     bool
	Revision uint64 // the store revision the page was read at
}

// CompareTarget is what a transaction compares.
type CompareTarget int

const (
	CompareValue    CompareTarget = iota // the value, bytewise
	CompareRevision                      // the key's revision (0 = absent)
	CompareExists                        // existence: Exists says which
)

// CompareOp is a comparison operator.
type CompareOp int

const (
	OpEqual CompareOp = iota
	OpNotEqual
	OpLess
	OpGreater
)

// Compare is one condition of a transaction.
type Compare struct {
	Key      []byte
	Target   CompareTarget
	Op       CompareOp // for CompareExists only OpEqual/OpNotEqual
	Value    []byte    // CompareValue
	Revision uint64    // CompareRevision
	Exists   bool      // CompareExists
}

// TxnOp is a put or delete inside a transaction.
type TxnOp struct {
	Delete bool
	Key    []byte
	Value  []byte
	TTL    time.Duration
}

// TxnRequest: if every Compare holds, Then is applied, else Else; both are
// applied atomically through one log entry, on database DB.
type TxnRequest struct {
	DB       int
	Compares []Compare
	Then     []TxnOp
	Else     []TxnOp
}

// TxnResponse says which branch ran and the store revision of the
// transaction.
type TxnResponse struct {
	Succeeded bool
	Revision  uint64
}

// EventType is a watch event's type.
type EventType int

const (
	EventPut EventType = iota
	EventDelete
	EventExpire
	// EventProgress carries only a token: everything up to it has been
	// sent (an idle watcher knows it is current).
	EventProgress
)

// WatchEvent is one change seen by a watch (watch.go describes how the
// change feed's events map to these).
type WatchEvent struct {
	Type EventType
	// DB is the key's database; -1 for FLUSHALL's DELETE.
	DB int
	// Key is nil for a DELETE that replaced a whole database (FLUSHDB,
	// FLUSHALL, SWAPDB) and for EventProgress.
	Key []byte
	// Value is the key's string value after an EventPut (non-nil, possibly
	// empty); nil when the key holds another type.
	Value []byte
	// Revision is the key's new revision (the store revision of the
	// change); for EventProgress the revision the token stands after.
	Revision uint64
	// Token resumes a watch just after this event, on any node.
	Token string
}

// WatchRequest starts a watch on one key, or on every key with Prefix (an
// empty Prefix with IsPrefix watches everything). With FromToken the watch
// replays the retained history after that point first, then follows live
// changes; without it, it starts at the current revision and first sends an
// EventProgress naming that point.
type WatchRequest struct {
	DB        int
	Key       []byte
	IsPrefix  bool
	FromToken string
	// ProgressInterval, when positive, sends EventProgress this often while
	// nothing else is sent (default 10 s; negative disables).
	ProgressInterval time.Duration
}

// Get reads one key (SKIFF.KV.GET); ErrNotFound when absent,
// store.ErrWrongType when it holds something other than a string.
// Linearizable reads are served by the leader after a read fence (a
// follower forwards them); Serializable ones from this node's state.
func (s *Server) Get(ctx context.Context, req GetRequest) (KV, error) {
	if err := s.checkRequest(req.DB, true, req.Key, req.Consistency); err != nil {
		return KV{}, err
	}
	ac := s.getAPIClient()
	defer s.putAPIClient(ac)
	ac.start(cmdNameKVGet)
	ac.arg(req.Key)
	d, err := s.run(ctx, ac, req.DB, req.Consistency == Serializable)
	if err != nil {
		return KV{}, err
	}
	n := d.array()
	if n < 0 {
		return KV{}, ErrNotFound
	}
	v, _ := d.bulk()
	kv := KV{Key: req.Key, Value: bytes.Clone(v), Revision: uint64(d.int()), ExpireAt: d.int()}
	if n != 3 || d.bad {
		return KV{}, errBadLeaderReply
	}
	return kv, nil
}

// Put writes one key (SKIFF.KV.PUT): a string value replacing whatever the
// key held, as SET does, unless IfAbsent or IfRevision prevent it (then
// Written is false and Revision is the key's current one, 0 when absent).
func (s *Server) Put(ctx context.Context, req PutRequest) (PutResponse, error) {
	if err := s.checkRequest(req.DB, true, req.Key, Linearizable); err != nil {
		return PutResponse{}, err
	}
	switch {
	case req.TTL < 0:
		return PutResponse{}, fmt.Errorf("%w: negative TTL", ErrInvalidArgument)
	case len(req.Value) > store.MaxStringLen:
		return PutResponse{}, fmt.Errorf("%w: value longer than %d bytes", ErrInvalidArgument, store.MaxStringLen)
	}
	ac := s.getAPIClient()
	defer s.putAPIClient(ac)
	ac.start(cmdNameKVPut)
	ac.arg(req.Key, req.Value)
	if req.TTL > 0 {
		ac.word("PX")
		ac.int(ttlMillis(int64(req.TTL)))
	}
	if req.IfAbsent {
		ac.word("NX")
	}
	if req.IfRevision != 0 {
		ac.word("IFREV")
		ac.uint(req.IfRevision)
	}
	d, err := s.run(ctx, ac, req.DB, false)
	if err != nil {
		return PutResponse{}, err
	}
	done, rev, err := d.kvResult()
	return PutResponse{Written: done, Revision: rev}, err
}

// kvResult decodes [done, revision].
func (d *replyDec) kvResult() (bool, uint64, error) {
	n := d.array()
	done, rev := d.int(), d.int()
	if n != 2 || d.bad {
		return false, 0, errBadLeaderReply
	}
	return done == 1, uint64(rev), nil
}

// Delete removes one key, whatever its type (SKIFF.KV.DEL); with
// IfRevision only when the key's revision equals it. Deleting an absent
// key is not an error (Deleted is false).
func (s *Server) Delete(ctx context.Context, req DeleteRequest) (DeleteResponse, error) {
	if err := s.checkRequest(req.DB, true, req.Key, Linearizable); err != nil {
		return DeleteResponse{}, err
	}
	ac := s.getAPIClient()
	defer s.putAPIClient(ac)
	ac.start(cmdNameKVDel)
	ac.arg(req.Key)
	if req.IfRevision != 0 {
		ac.word("IFREV")
		ac.uint(req.IfRevision)
	}
	d, err := s.run(ctx, ac, req.DB, false)
	if err != nil {
		return DeleteResponse{}, err
	}
	done, rev, err := d.kvResult()
	return DeleteResponse{Deleted: done, Revision: rev}, err
}

// Range lists string keys (SKIFF.KV.RANGE; see RangeRequest). Keys holding
// other types are skipped. Prefix cannot be combined with Start or End; an
// empty End or After means none. Each page is one consistent read (at
// Revision); pages are not a snapshot: keys may change between them.
func (s *Server) Range(ctx context.Context, req RangeRequest) (RangeResponse, error) {
	if err := s.checkRequest(req.DB, false, nil, req.Consistency); err != nil {
		return RangeResponse{}, err
	}
	if req.Limit < 0 {
		return RangeResponse{}, fmt.Errorf("%w: negative limit", ErrInvalidArgument)
	}
	ac := s.getAPIClient()
	defer s.putAPIClient(ac)
	ac.start(cmdNameKVRange)
	for _, o := range [...]struct {
		word string
		v    []byte
	}{{"PREFIX", req.Prefix}, {"START", req.Start}, {"END", req.End}, {"AFTER", req.After}} {
		if len(o.v) > 0 {
			ac.word(o.word)
			ac.arg(o.v)
		}
	}
	if req.Limit > 0 {
		ac.word("LIMIT")
		ac.int(int64(min(req.Limit, kvRangeMax)))
	}
	if req.KeysOnly {
		ac.word("KEYSONLY")
	}
	d, err := s.run(ctx, ac, req.DB, req.Consistency == Serializable)
	if err != nil {
		return RangeResponse{}, err
	}
	var out RangeResponse
	n := d.array()
	out.Revision, out.More = uint64(d.int()), d.int() == 1
	m := d.array()
	if n != 3 || d.bad {
		return RangeResponse{}, errBadLeaderReply
	}
	// Every key and value is copied into one array: the reply's size bounds
	// them.
	arena := make([]byte, 0, len(d.b))
	keep := func(b []byte) []byte {
		arena = append(arena, b...)
		return arena[len(arena)-len(b) : len(arena) : len(arena)]
	}
	out.KVs = make([]KV, 0, m)
	for range m {
		if d.array() != 4 {
			return RangeResponse{}, errBadLeaderReply
		}
		k, _ := d.bulk()
		v, null := d.bulk()
		kv := KV{Key: keep(k), Revision: uint64(d.int()), ExpireAt: d.int()}
		if !null {
			kv.Value = keep(v)
		}
		out.KVs = append(out.KVs, kv)
	}
	if d.bad {
		return RangeResponse{}, errBadLeaderReply
	}
	return out, nil
}

// Txn runs a compare-then-else transaction atomically (SKIFF.KV.TXN, one
// log entry, one revision for every change it makes). A value compare of
// an absent key is false whatever the operator; of a key holding another
// type it is store.ErrWrongType and nothing is applied. Steps of a branch
// are applied in order (a key named twice ends as its last step leaves it).
func (s *Server) Txn(ctx context.Context, req TxnRequest) (TxnResponse, error) {
	if err := s.checkRequest(req.DB, false, nil, Linearizable); err != nil {
		return TxnResponse{}, err
	}
	ac := s.getAPIClient()
	defer s.putAPIClient(ac)
	ac.start(cmdNameKVTxn)
	ac.int(int64(len(req.Compares)))
	for i := range req.Compares {
		cm := &req.Compares[i]
		ac.arg(cm.Key)
		switch cm.Target {
		case CompareValue:
			ac.word("VALUE")
		case CompareRevision:
			ac.word("REV")
		case CompareExists:
			ac.word("EXISTS")
		default:
			return TxnResponse{}, fmt.Errorf("%w: compare target %d", ErrInvalidArgument, cm.Target)
		}
		if cm.Op < OpEqual || cm.Op > OpGreater {
			return TxnResponse{}, fmt.Errorf("%w: compare operator %d", ErrInvalidArgument, cm.Op)
		}
		ac.word([...]string{OpEqual: "=", OpNotEqual: "!=", OpLess: "<", OpGreater: ">"}[cm.Op])
		switch cm.Target {
		case CompareValue:
			ac.arg(cm.Value)
		case CompareRevision:
			ac.uint(cm.Revision)
		default:
			ac.int(b2i(cm.Exists))
		}
	}
	ac.int(int64(len(req.Then)))
	for _, ops := range [2][]TxnOp{req.Then, req.Else} {
		for i := range ops {
			t := &ops[i]
			if t.Delete {
				ac.word("DEL")
				ac.arg(t.Key)
				continue
			}
			if t.TTL < 0 {
				return TxnResponse{}, fmt.Errorf("%w: negative TTL", ErrInvalidArgument)
			}
			ac.word("PUT")
			ac.arg(t.Key, t.Value)
			ac.int(ttlMillis(int64(t.TTL)))
		}
	}
	d, err := s.run(ctx, ac, req.DB, false)
	if err != nil {
		return TxnResponse{}, err
	}
	ok, rev, err := d.kvResult()
	return TxnResponse{Succeeded: ok, Revision: rev}, err
}

// checkRequest validates what every request carries; needKey: the request
// names one key, which must not be empty.
func (s *Server) checkRequest(db int, needKey bool, key []byte, c Consistency) error {
	switch {
	case db < 0 || db >= s.eng.Store().Databases():
		return fmt.Errorf("%w: database %d out of range", ErrInvalidArgument, db)
	case needKey && len(key) == 0:
		return fmt.Errorf("%w: empty key", ErrInvalidArgument)
	case c != Linearizable && c != Serializable:
		return fmt.Errorf("%w: consistency %d", ErrInvalidArgument, c)
	}
	return nil
}

// ClusterInfo is the cluster's state as this node sees it (nil Cluster in
// unit tests: an error).
func (s *Server) ClusterInfo() (ClusterStatus, error) {
	if s.cluster == nil {
		return ClusterStatus{}, ErrUnimplemented
	}
	return s.cluster.Status(), nil
}

// AddMember, RemoveMember and TransferLeader change the cluster through
// SKIFF.CLUSTER ADD/REMOVE/TRANSFER, so a follower forwards them to the
// leader. TransferLeader with an empty id lets raft choose an up-to-date
// voter.
func (s *Server) AddMember(id, raftAddr string) error {
	return s.clusterChange("add", id, raftAddr)
}

func (s *Server) RemoveMember(id string) error { return s.clusterChange("remove", id) }

func (s *Server) TransferLeader(id string) error {
	if id == "" {
		return s.clusterChange("transfer")
	}
	return s.clusterChange("transfer", id)
}

func (s *Server) clusterChange(sub string, args ...string) error {
	if s.cluster == nil {
		return ErrUnimplemented
	}
	for _, a := range args {
		if a == "" {
			return fmt.Errorf("%w: empty member id or address", ErrInvalidArgument)
		}
	}
	ac := s.getAPIClient()
	defer s.putAPIClient(ac)
	ac.start(clusterCmd)
	ac.word(sub)
	for _, a := range args {
		ac.word(a)
	}
	d, err := s.run(context.Background(), ac, 0, false)
	if err != nil {
		return err
	}
	return d.ok()
}

// readyLag is how many committed entries a node may have left to apply and
// still be ready. Under a steady write load a follower is always a few
// batches behind its commit index; requiring zero would make /readyz and gRPC
// health flap with every write (a load balancer would drop the node), while a
// node replaying a long log after a restart is not ready until it is close.
const readyLag = 1000

// Ready reports whether this node can serve: a leader is known and this node
// has applied the log to within readyLag entries of the commit index it
// knows. reason says why not.
func (s *Server) Ready() (ok bool, reason string) {
	if s.cluster == nil {
		return true, ""
	}
	st := s.cluster.Status()
	if st.LeaderID == "" {
		return false, "no leader elected"
	}
	if st.LogApplied+readyLag < st.CommitIndex {
		return false, "applying the log: applied " + strconv.FormatUint(st.LogApplied, 10) + " of " + strconv.FormatUint(st.CommitIndex, 10)
	}
	return true, ""
}

// CheckPassword reports whether pass is the password clients must send
// (requirepass); true when none is set. gRPC and REST call it for every
// request, as RESP requires AUTH.
func (s *Server) CheckPassword(pass string) bool {
	want := s.params.Get("requirepass")
	return want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(pass)) == 1
}
