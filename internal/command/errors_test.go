package command

import (
	"errors"
	"fmt"
	"testing"

	"github.com/skiffdb/skiff/internal/engine"
	"github.com/skiffdb/skiff/internal/op"
	"github.com/skiffdb/skiff/internal/store"
)

// TestErrorTable_EverySentinelMapped: every sentinel error of the layers
// below has a Redis reply, and wrapping keeps the mapping.
func TestErrorTable_EverySentinelMapped(t *testing.T) {
	sentinels := []error{
		store.ErrWrongType, store.ErrNotInteger, store.ErrNotFloat, store.ErrOverflow,
		store.ErrNaN, store.ErrNoSuchKey, store.ErrTooLong, store.ErrBadDB, store.ErrMalformedOp,
		store.ErrHashNotInteger, store.ErrHashNotFloat, store.ErrIndexOutOfRange,
		op.ErrVersion, op.ErrTruncated, op.ErrCode, engine.ErrClosed,
		engine.ErrLogClosed, engine.ErrNotLeader, engine.ErrNoLeader, engine.ErrOutcomeUnknown, engine.ErrTimeout, engine.ErrForward,
	}
	for _, s := range sentinels {
		mapped := false
		for _, m := range errorTable {
			if m.err == s {
				mapped = true
			}
		}
		if !mapped {
			t.Errorf("%v is not in errorTable", s)
		}
		wrapped := fmt.Errorf("context: %w", s)
		if got := ReplyText(wrapped); got == "ERR "+wrapped.Error() {
			t.Errorf("wrapped %v fell through to the generic reply %q", s, got)
		}
	}
}

func TestReplyText(t *testing.T) {
	cases := []struct {
		err  error
		want string
	}{
		{store.ErrWrongType, "WRONGTYPE Operation against a key holding the wrong kind of value"},
		{fmt.Errorf("x: %w", store.ErrNotInteger), "ERR value is not an integer or out of range"},
		{ErrSyntax, "ERR syntax error"},
		{replyError("NOPROTO unsupported protocol version"), "NOPROTO unsupported protocol version"},
		{errors.New("something broke"), "ERR something broke"},
	}
	for _, c := range cases {
		if got := ReplyText(c.err); got != c.want {
			t.Errorf("ReplyText(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

func TestUnknownCommandText(t *testing.T) {
	long := make([]byte, 300)
	for i := range long {
		long[i] = 'x'
	}
	cases := []struct {
		args [][]byte
		want string
	}{
		{[][]byte{[]byte("foo")}, "ERR unknown command 'foo', with args beginning with: "},
		{[][]byte{[]byte("foo"), []byte("a"), []byte("b")}, "ERR unknown command 'foo', with args beginning with: 'a' 'b' "},
		{[][]byte{[]byte("fo\r\no")}, "ERR unknown command 'fo  o', with args beginning with: "},
		{[][]byte{long}, "ERR unknown command '" + string(long[:128]) + "', with args beginning with: "},
		{[][]byte{[]byte("f"), long, []byte("b")}, "ERR unknown command 'f', with args beginning with: '" + string(long[:128]) + "' "},
	}
	for _, c := range cases {
		if got := unknownCommand(c.args); got != c.want {
			t.Errorf("unknownCommand(%q) =\n %q\nwant\n %q", c.args, got, c.want)
		}
	}
}
