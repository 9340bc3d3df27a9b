package store

import (
	"testing"

	"github.com/skiffdb/skiff/internal/op"
)

// genOther generates the operations outside the data types for the
// snapshot tests: a publish changes no state.
func genOther(g *opGen, o *op.Op) {
	o.Code, o.Args = op.Publish, [][]byte{op.Itoa(int64(g.rng.IntN(2))), g.key(), g.val()}
}

func TestPublish_EmitsAndChangesNothing(t *testing.T) {
	s := New(Options{})
	var got []Event
	s.SetListener(func(ev *Event) int64 {
		e := *ev
		e.Key, e.Msg = append([]byte(nil), ev.Key...), append([]byte(nil), ev.Msg...)
		got = append(got, e)
		return 7
	})
	before := s.Digest()
	v, err := s.Apply(&op.Op{Code: op.Publish, Args: [][]byte{[]byte("1"), []byte("ch"), []byte("m")}})
	if err != nil || v.(int64) != 7 {
		t.Fatalf("publish = %v, %v; want the listener's count 7", v, err)
	}
	if len(got) != 1 || got[0].Class != ClassPublish || got[0].Name != "spublish" || string(got[0].Key) != "ch" || string(got[0].Msg) != "m" {
		t.Fatalf("events = %+v", got)
	}
	if s.Digest() != before {
		t.Fatal("publish changed the state")
	}
	if _, err := s.Apply(&op.Op{Code: op.Publish, Args: [][]byte{[]byte("0")}}); err == nil {
		t.Fatal("malformed publish accepted")
	}
}
