package command

import (
	"context"
	"errors"
	"time"
)

// The keyspace API that the gRPC and REST front doors call (DESIGN.md
// principle 1: they are thin translators onto this one command layer). Each
// call runs as a command through the same table, routing (a follower forwards
// to the leader), batching and error table as RESP, so the three front doors
// share semantics, consistency and errors. Values are binary-safe; keys are
// arbitrary bytes. Everything here works on database 0 unless a request says
// otherwise.
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
	return "watch history compacted: the oldest point available is revision " + uitoa(e.OldestRevision) + " (token " + e.Oldest + ")"
}

func (e *CompactedError) Unwrap() error { return ErrCompacted }

func uitoa(n uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

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

// WatchEvent is one change seen by a watch.
type WatchEvent struct {
	Type     EventType
	DB       int
	Key      []byte
	Value    []byte // EventPut of a string value
	Revision uint64 // the key's new revision (the store revision of the change)
	// Token resumes a watch just after this event.
	Token string
}

// WatchRequest starts a watch on one key, or on every key with Prefix (an
// empty Prefix with IsPrefix watches everything). With FromToken the watch
// replays the retained history after that point first, then follows live
// changes; without it, it starts at the current revision.
type WatchRequest struct {
	DB        int
	Key       []byte
	IsPrefix  bool
	FromToken string
	// ProgressInterval, when positive, sends EventProgress this often while
	// nothing else is sent (default 10 s; negative disables).
	ProgressInterval time.Duration
}

// Get reads one key; ErrNotFound when absent, store.ErrWrongType when it
// holds something other than a string.
func (s *Server) Get(ctx context.Context, req GetRequest) (KV, error) {
	return KV{}, ErrUnimplemented
}

// Put writes one key.
func (s *Server) Put(ctx context.Context, req PutRequest) (PutResponse, error) {
	return PutResponse{}, ErrUnimplemented
}

// Delete removes one key.
func (s *Server) Delete(ctx context.Context, req DeleteRequest) (DeleteResponse, error) {
	return DeleteResponse{}, ErrUnimplemented
}

// Range lists keys (see RangeRequest).
func (s *Server) Range(ctx context.Context, req RangeRequest) (RangeResponse, error) {
	return RangeResponse{}, ErrUnimplemented
}

// Txn runs a compare-then-else transaction atomically.
func (s *Server) Txn(ctx context.Context, req TxnRequest) (TxnResponse, error) {
	return TxnResponse{}, ErrUnimplemented
}

// Watch streams events to send until ctx ends or send returns an error;
// it returns that error, ctx's, or ErrCompacted/ErrInvalidArgument at the
// start. Events are delivered in revision order without gaps or
// duplicates; watches on any node of a cluster see the same events with the
// same tokens.
func (s *Server) Watch(ctx context.Context, req WatchRequest, send func(WatchEvent) error) error {
	return ErrUnimplemented
}

// ClusterInfo is the cluster's state as this node sees it (nil Cluster in
// unit tests: an error).
func (s *Server) ClusterInfo() (ClusterStatus, error) {
	if s.cluster == nil {
		return ClusterStatus{}, ErrUnimplemented
	}
	return s.cluster.Status(), nil
}

// AddMember, RemoveMember and TransferLeader change the cluster (on the
// leader; elsewhere engine.ErrNotLeader).
func (s *Server) AddMember(id, raftAddr string) error {
	if s.cluster == nil {
		return ErrUnimplemented
	}
	return s.cluster.AddVoter(id, raftAddr)
}

func (s *Server) RemoveMember(id string) error {
	if s.cluster == nil {
		return ErrUnimplemented
	}
	return s.cluster.RemoveServer(id)
}

func (s *Server) TransferLeader(id string) error {
	if s.cluster == nil {
		return ErrUnimplemented
	}
	return s.cluster.TransferLeadership(id)
}

// Ready reports whether this node can serve: a leader is known and this node
// has applied the log up to the commit index it knows. reason says why not.
func (s *Server) Ready() (ok bool, reason string) {
	if s.cluster == nil {
		return true, ""
	}
	st := s.cluster.Status()
	if st.LeaderID == "" {
		return false, "no leader elected"
	}
	if st.Applied < st.CommitIndex {
		return false, "applying the log: applied " + uitoa(st.Applied) + " of " + uitoa(st.CommitIndex)
	}
	return true, ""
}
