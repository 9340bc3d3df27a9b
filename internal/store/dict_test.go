package store

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"testing"
)

func TestDict_InsertFindRemove(t *testing.T) {
	d := newDict(maphash.MakeSeed())
	const n = 5000
	for i := 0; i < n; i++ {
		d.insert(&entry{key: fmt.Sprint("k", i), heapIdx: -1})
	}
	if d.len() != n {
		t.Fatalf("len = %d, want %d", d.len(), n)
	}
	for i := 0; i < n; i++ {
		if d.find([]byte(fmt.Sprint("k", i))) == nil {
			t.Fatalf("k%d missing", i)
		}
	}
	for i := 0; i < n; i += 2 {
		if d.remove([]byte(fmt.Sprint("k", i))) == nil {
			t.Fatalf("remove k%d: not found", i)
		}
	}
	for i := 0; i < n; i++ {
		got := d.find([]byte(fmt.Sprint("k", i))) != nil
		if got != (i%2 == 1) {
			t.Fatalf("k%d present=%v after removing evens", i, got)
		}
	}
	if d.remove([]byte("nope")) != nil {
		t.Fatal("removed a missing key")
	}
}

// TestDict_ScanReturnsEveryStableKeyAcrossResizes checks SCAN's guarantee:
// keys present for the whole iteration are returned at least once, even
// when the table grows and shrinks between cursor calls.
func TestDict_ScanReturnsEveryStableKeyAcrossResizes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 20; round++ {
		d := newDict(maphash.MakeSeed())
		stable := map[string]bool{}
		for i := 0; i < 300; i++ {
			k := fmt.Sprint("stable", i)
			stable[k] = false
			d.insert(&entry{key: k, heapIdx: -1})
		}
		churn := 0
		var cursor uint64
		for steps := 0; ; steps++ {
			cursor = d.scan(cursor, func(e *entry) {
				if _, ok := stable[e.key]; ok {
					stable[e.key] = true
				}
			})
			if cursor == 0 {
				break
			}
			if steps > 1<<20 {
				t.Fatal("scan did not terminate")
			}
			// Grow or shrink the table between calls.
			if rng.IntN(2) == 0 {
				for j := 0; j < rng.IntN(200); j++ {
					d.insert(&entry{key: fmt.Sprint("churn", churn), heapIdx: -1})
					churn++
				}
			} else {
				for j := 0; j < rng.IntN(200) && churn > 0; j++ {
					churn--
					d.remove([]byte(fmt.Sprint("churn", churn)))
				}
			}
		}
		for k, seen := range stable {
			if !seen {
				t.Fatalf("round %d: stable key %s never returned", round, k)
			}
		}
	}
}

func TestDict_RandomReturnsMembers(t *testing.T) {
	d := newDict(maphash.MakeSeed())
	if d.random(rand.Uint64) != nil {
		t.Fatal("random on empty dict returned an entry")
	}
	for i := 0; i < 100; i++ {
		d.insert(&entry{key: fmt.Sprint(i), heapIdx: -1})
	}
	seen := map[string]bool{}
	for i := 0; i < 5000; i++ {
		e := d.random(rand.Uint64)
		if e == nil || d.find([]byte(e.key)) != e {
			t.Fatalf("random returned %v", e)
		}
		seen[e.key] = true
	}
	if len(seen) < 90 {
		t.Fatalf("random covered only %d of 100 keys", len(seen))
	}
}

func BenchmarkDictFind(b *testing.B) {
	d := newDict(maphash.MakeSeed())
	keys := make([][]byte, 100000)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("key:%012d", i))
		d.insert(&entry{key: string(keys[i]), heapIdx: -1})
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if d.find(keys[i%len(keys)]) == nil {
			b.Fatal("missing")
		}
	}
}
