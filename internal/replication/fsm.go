package replication

import (
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

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
	hooks   Hooks         // metrics (metrics.go)
	timing  atomic.Bool   // answer with *Applied (SetApplyTiming)
}

// Applied is the FSM's response for a command entry while apply timing is
// on (SetApplyTiming): the results with the entry's index and the time the
// FSM applied the batch of entries that held it. It lets a traced proposer
// record the apply, which runs on raft's goroutine, after the fact.
type Applied struct {
	Results    []store.Result
	Index      uint64
	Start, End time.Time // the FSM batch that applied the entry
	Entries    int       // entries in that batch
}

// SetApplyTiming makes Apply answer each command entry with an *Applied
// instead of its []store.Result (on: tracing; off: the default, which costs
// nothing). The engine sets it once at start.
func (rn *Raft) SetApplyTiming(on bool) { rn.fsm.timing.Store(on) }

var _ raft.BatchingFSM = (*fsm)(nil)

// Apply applies one log entry (raft uses ApplyBatch; this satisfies raft.FSM).
func (f *fsm) Apply(l *raft.Log) any { return f.ApplyBatch([]*raft.Log{l})[0] }

// ApplyBatch applies committed entries in order and returns one response
// per entry: a []store.Result (one per operation in the entry) for command
// entries, nil for others, or an error when an entry cannot be decoded (the
// same error on every replica: decoding is deterministic).
func (f *fsm) ApplyBatch(logs []*raft.Log) []any {
	var start time.Time
	timing := f.timing.Load()
	if timing {
		start = time.Now()
	}
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
		f.hooks.entryApplied(n)
	}
	results := f.st.ApplyBatch(f.ops, make([]store.Result, 0, len(f.ops)))
	for i := range results {
		if results[i].Err != nil {
			f.logPanic(results[i].Err)
		}
	}
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
	if timing {
		stampApplied(out, logs, start, time.Now())
	}
	return out
}

// logPanic logs an operation whose apply panicked (store.PanicError: a bug,
// recovered so that the entry does not crash every replica on every restart).
func (f *fsm) logPanic(err error) {
	var pe *store.PanicError
	if errors.As(err, &pe) {
		f.log.Error("operation panicked in apply: it failed on every replica", "op", pe.Code.String(), "panic", fmt.Sprint(pe.Value), "stack", string(pe.Stack))
	}
}

// stampApplied wraps each entry's results in an *Applied.
func stampApplied(out []any, logs []*raft.Log, start, end time.Time) {
	for i, l := range logs {
		if rs, ok := out[i].([]store.Result); ok {
			out[i] = &Applied{Results: rs, Index: l.Index, Start: start, End: end, Entries: len(logs)}
		}
	}
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
