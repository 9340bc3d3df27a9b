package store

import (
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/skiffdb/skiff/internal/op"
)

// ErrApplyPanic is wrapped by a PanicError: an operation made apply panic.
var ErrApplyPanic = errors.New("store: an operation panicked in apply")

// PanicError is the error an operation returns when its apply function
// panicked: a bug in skiff. Apply recovers it rather than letting the
// process die, because a committed log entry is applied on every replica and
// again after every restart: one poison entry would otherwise take the whole
// cluster down for good. Every replica runs the same code on the same state,
// so each panics at the same point and they stay identical; the client gets
// an error, and the replication layer logs the stack.
type PanicError struct {
	Code  op.Code
	Value any    // what was passed to panic
	Stack []byte // the panicking goroutine's stack
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("store: operation %v panicked in apply: %v", e.Code, e.Value)
}

func (e *PanicError) Unwrap() error { return ErrApplyPanic }

// recoverApply turns a panic of o's apply into a PanicError in *err (used
// deferred by applyLocked, so the write lock is still released by Apply).
func recoverApply(o *op.Op, v *any, err *error) {
	if r := recover(); r != nil {
		*v, *err = nil, &PanicError{Code: o.Code, Value: r, Stack: debug.Stack()}
	}
}
