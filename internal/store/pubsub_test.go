package store

import (
	"testing"

	"github.com/skiffdb/skiff/internal/op"
)

// genOther generates the operations outside the data types for the
// snapshot tests: a publish changes no state.
func genOther(g *opGen, o *op.Op) {
	if g.rng.IntN(2) == 0 {
		o.Code, o.Args = op.Publish, [][]byte{op.Itoa(int64(g.rng.IntN(2))), g.key(), g.val()}
		return
	}
	// A served blocking pop: a list pop or move as the inner operation.
	end := op.Itoa(int64(g.rng.IntN(2)))
	if g.rng.IntN(2) == 0 {
		o.Code, o.Args = op.Serve, [][]byte{[]byte("tok"), op.Itoa(int64(op.ListMPop)), end, []byte("1"), g.key(), g.key()}
	} else {
		o.Code, o.Args = op.Serve, [][]byte{[]byte("tok"), op.Itoa(int64(op.ListMove)), g.key(), g.key(), end, end}
	}
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

func TestServe_AppliesInnerAndDeliversToken(t *testing.T) {
	s := New(Options{})
	var served []Event
	s.SetListener(func(ev *Event) int64 {
		if ev.Class == ClassServed {
			e := *ev
			e.Key = append([]byte(nil), ev.Key...)
			served = append(served, e)
		}
		return 0
	})
	push := op.Op{Code: op.ListPush, Args: [][]byte{[]byte("q"), []byte("1"), []byte("0"), []byte("a"), []byte("b")}}
	if _, err := s.Apply(&push); err != nil {
		t.Fatal(err)
	}
	serve := op.Op{Code: op.Serve, Args: [][]byte{[]byte("n1:7"), op.Itoa(int64(op.ListMPop)), []byte("0"), []byte("1"), []byte("empty"), []byte("q")}}
	v, err := s.Apply(&serve)
	if err != nil {
		t.Fatal(err)
	}
	got := v.([][]byte)
	if len(got) != 2 || string(got[0]) != "q" || string(got[1]) != "a" {
		t.Fatalf("served %q, want [q a]", got)
	}
	if len(served) != 1 || string(served[0].Key) != "n1:7" || served[0].Value == nil {
		t.Fatalf("served events = %+v", served)
	}
	for _, bad := range [][][]byte{
		{[]byte("t")},
		{[]byte("t"), []byte("x")},
		{[]byte("t"), op.Itoa(int64(op.Serve))},
		{[]byte("t"), []byte("999")},
	} {
		if _, err := s.Apply(&op.Op{Code: op.Serve, Args: bad}); err == nil {
			t.Errorf("malformed serve %q accepted", bad)
		}
	}
}
