package store

import (
	"errors"
	"strconv"
	"testing"

	"github.com/skiffdb/skiff/internal/op"
)

// An offset near MaxInt64 made offset+length overflow and the apply panic
// (slice bounds); it must be "too long" with a value, and a no-op without.
func TestSetRange_OffsetOverflow(t *testing.T) {
	s := New(Options{})
	for _, key := range []string{"missing", "k"} {
		if key == "k" {
			if _, err := apply(t, s, op.Set, t0, "k", "abc", "0", "0"); err != nil {
				t.Fatal(err)
			}
		}
		for _, off := range []int64{1<<63 - 1, 1<<63 - 2, MaxStringLen, MaxStringLen - 1} {
			if _, err := apply(t, s, op.SetRange, t0, key, strconv.FormatInt(off, 10), "xy"); !errors.Is(err, ErrTooLong) {
				t.Errorf("SETRANGE %s %d xy: err %v, want ErrTooLong", key, off, err)
			}
			if _, err := apply(t, s, op.SetRange, t0, key, strconv.FormatInt(off, 10), ""); err != nil {
				t.Errorf("SETRANGE %s %d \"\": %v", key, off, err)
			}
		}
	}
	if v, _ := get(s, "k", t0); v != "abc" {
		t.Fatalf("k = %q after failed SETRANGEs", v)
	}
}

// OBJECT ENCODING of a string follows how it was written, as in Redis.
func TestStringEncoding_History(t *testing.T) {
	s := New(Options{})
	enc := func(key string) string {
		t.Helper()
		info, ok := s.Object(0, []byte(key), t0)
		if !ok {
			t.Fatalf("%s: missing", key)
		}
		return info.Encoding
	}
	steps := []struct {
		code op.Code
		args []string
		key  string
		want string
	}{
		{op.Set, []string{"a", "12", "0", "0"}, "a", "int"},
		{op.Append, []string{"a", ""}, "a", "raw"}, // APPEND to an existing key: raw
		{op.Copy, []string{"a", "b", "0", "0"}, "b", "raw"},
		{op.IncrBy, []string{"a", "1"}, "a", "int"},
		{op.Append, []string{"c", "5"}, "c", "int"}, // APPEND creating the key: by content
		{op.SetRange, []string{"d", "0", "5"}, "d", "raw"},
		{op.IncrByFloat, []string{"e", "3"}, "e", "embstr"}, // never int
		{op.Set, []string{"e", "3", "0", "0"}, "e", "int"},
		{op.Set, []string{"f", string(make([]byte, 45)), "0", "0"}, "f", "raw"},
	}
	for _, st := range steps {
		if _, err := apply(t, s, st.code, t0, st.args...); err != nil {
			t.Fatalf("%v %q: %v", st.code, st.args, err)
		}
		if got := enc(st.key); got != st.want {
			t.Errorf("after %v %q: %s is %q, want %q", st.code, st.args, st.key, got, st.want)
		}
	}
}
