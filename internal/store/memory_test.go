package store

import (
	"strconv"
	"strings"
	"testing"

	"github.com/skiffdb/skiff/internal/op"
)

// MemoryBytes is an estimate: it must grow with the data, within a factor
// of what the values and keys hold, for every type.
func TestMemoryBytes_Estimate(t *testing.T) {
	s := New(Options{})
	empty := s.MemoryBytes()
	if empty < 0 || empty > 64<<10 {
		t.Fatalf("empty store: %d bytes", empty)
	}
	const n = 5000
	val := strings.Repeat("v", 200)
	for i := 0; i < n; i++ {
		if _, err := apply(t, s, op.Set, t0, "key:"+strconv.Itoa(i), val, "0", "0"); err != nil {
			t.Fatal(err)
		}
	}
	strs := s.MemoryBytes() - empty
	payload := int64(n * (200 + 9))
	if strs < payload || strs > 4*payload {
		t.Errorf("%d strings of 200 bytes: estimate %d, payload %d", n, strs, payload)
	}

	// Collections in another database: a list, a hash, a set and a sorted
	// set of 1000 elements of ~50 bytes each.
	elem := func(i int) string { return strings.Repeat("e", 44) + strconv.Itoa(100000+i) }
	before := s.MemoryBytes()
	for i := 0; i < 1000; i++ {
		e := elem(i)
		for _, o := range []struct {
			code op.Code
			args []string
		}{
			{op.ListPush, []string{"l", "1", "0", e}},
			{op.HSet, []string{"h", e, e}},
			{op.SAdd, []string{"s", e}},
			{op.ZAdd, []string{"z", "0", strconv.Itoa(i), e}},
		} {
			if _, err := applyDB(t, s, 1, o.code, o.args...); err != nil {
				t.Fatal(err)
			}
		}
	}
	colls := s.MemoryBytes() - before
	elems := int64(5 * 1000 * 50) // the hash holds two strings per element
	if colls < elems || colls > 8*elems {
		t.Errorf("collections: estimate %d, element bytes %d", colls, elems)
	}
}

func applyDB(t *testing.T, s *Store, db int, code op.Code, args ...string) (any, error) {
	t.Helper()
	o := op.Op{Code: code, DB: db, Time: t0}
	for _, a := range args {
		o.Args = append(o.Args, []byte(a))
	}
	dec, _, err := op.Decode(op.Encode(&o))
	if err != nil {
		t.Fatal(err)
	}
	return s.Apply(&dec)
}
