package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"github.com/skiffdb/skiff/internal/op"
	"github.com/skiffdb/skiff/internal/store"
)

// ProposeTxn replicates o, an op.Txn (see op.TxnBuilder), as one log entry
// and returns its result once it is applied on this node. hook, when not
// nil, runs the transaction's read steps on this node while the entry is
// applied (see store.TxnHook); the transaction gets a random id naming it
// here, and every other replica skips its read steps. When ProposeTxn
// returns, hook is not running and never runs again, whatever the error.
//
// Errors are Propose's: ErrNotLeader means the entry was not proposed;
// ErrOutcomeUnknown and context errors after proposing leave it unknown
// whether the transaction was applied. Called from any goroutine.
func (e *Engine) ProposeTxn(ctx context.Context, o *op.Op, hook store.TxnHook) (store.TxnResult, error) {
	if hook != nil {
		// 128 random bits: unique among the transactions in flight on every
		// node, so a replica never runs a hook for another node's entry.
		id := binary.LittleEndian.AppendUint64(nil, rand.Uint64())
		id = binary.LittleEndian.AppendUint64(id, rand.Uint64())
		op.SetTxnID(o, id)
		defer e.st.RegisterTxnHook(id, hook)()
	}
	v, err := e.Propose(ctx, o)
	if err != nil {
		return store.TxnResult{}, err
	}
	r, ok := v.(store.TxnResult)
	if !ok {
		return store.TxnResult{}, fmt.Errorf("engine: unexpected transaction result %T", v)
	}
	return r, nil
}
