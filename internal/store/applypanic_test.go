package store

import (
	"errors"
	"testing"

	"github.com/skiffdb/skiff/internal/op"
)

// TestApply_PanicBecomesError: an apply function that panics (a bug) gives
// the operation a PanicError instead of killing the process, releases the
// lock, and the store goes on applying.
func TestApply_PanicBecomesError(t *testing.T) {
	s := New(Options{})
	orig := applyTable[op.Append]
	applyTable[op.Append] = func(*Store, *op.Op) (any, error) { panic("boom") }
	defer func() { applyTable[op.Append] = orig }()

	v, err := s.Apply(&op.Op{Code: op.Append, Time: t0, Args: [][]byte{[]byte("k"), []byte("x")}})
	var pe *PanicError
	if v != nil || !errors.As(err, &pe) || !errors.Is(err, ErrApplyPanic) || pe.Value != "boom" || pe.Code != op.Append || len(pe.Stack) == 0 {
		t.Fatalf("Apply = %v, %v", v, err)
	}
	res := s.ApplyBatch([]op.Op{
		{Code: op.Append, Time: t0, Args: [][]byte{[]byte("k"), []byte("x")}},
		*txnSet("k", "after"),
	}, nil)
	if !errors.Is(res[0].Err, ErrApplyPanic) || res[1].Err != nil {
		t.Fatalf("ApplyBatch = %+v", res)
	}
	if got, _, _ := s.Get(0, []byte("k"), t0); string(got) != "after" {
		t.Fatalf("k = %q after the panicking op", got)
	}
}
