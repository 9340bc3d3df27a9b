package replication

import (
	"log/slog"
	"sync/atomic"

	"github.com/hashicorp/raft"

	"github.com/skiffdb/skiff/internal/op"
	"github.com/skiffdb/skiff/internal/store"
)

// fsm is the thin Raft state machine: decode each committed entry (one or
// more operations) and apply it to the store. raft calls ApplyBatch,
// Snapshot and Restore from its FSM goroutine, one at a time.
type fsm struct {
	st      *store.Store
	log     *slog.Logger
	ops     []op.Op       // reused across batches
	applied atomic.Uint64 // index of the last entry applied (for status)
	bytes   atomic.Int64  // entry bytes applied since the last snapshot began
}

var _ raft.BatchingFSM = (*fsm)(nil)

// Apply applies one log entry (raft uses ApplyBatch; this satisfies raft.FSM).
func (f *fsm) Apply(l *raft.Log) any { return f.ApplyBatch([]*raft.Log{l})[0] }

// ApplyBatch applies committed entries in order and returns one response
// per entry: a []store.Result (one per operation in the entry) for command
// entries, nil for others, or an error when an entry cannot be decoded (the
// same error on every replica: decoding is deterministic).
func (f *fsm) ApplyBatch(logs []*raft.Log) []any {
	out := make([]any, len(logs))
	f.ops = f.ops[:0]
	counts := make([]int, len(logs))
	for i, l := range logs {
		if l.Type != raft.LogCommand {
			continue
		}
		// The store keeps slices of applied operations (string values), so
		// it must own their bytes: log stores may reuse their buffers.
		data := append([]byte(nil), l.Data...)
		f.bytes.Add(int64(len(data)))
		n, err := f.decodeAll(data)
		if err != nil {
			out[i] = err
			f.log.Error("undecodable log entry", "index", l.Index, "err", err)
			continue
		}
		counts[i] = n
	}
	results := f.st.ApplyBatch(f.ops, make([]store.Result, 0, len(f.ops)))
	for i := range logs {
		if counts[i] == 0 {
			continue
		}
		out[i] = results[:counts[i]:counts[i]]
		results = results[counts[i]:]
	}
	clear(f.ops) // drop references to entry data
	if len(logs) > 0 {
		f.applied.Store(logs[len(logs)-1].Index)
	}
	return out
}

// decodeAll appends every operation in data to f.ops.
func (f *fsm) decodeAll(data []byte) (int, error) {
	start := len(f.ops)
	for len(data) > 0 {
		f.ops = append(f.ops, op.Op{})
		rest, err := op.DecodeInto(&f.ops[len(f.ops)-1], data)
		if err != nil {
			f.ops = f.ops[:start]
			return 0, err
		}
		data = rest
	}
	return len(f.ops) - start, nil
}
