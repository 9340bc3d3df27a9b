package store

import (
	"strconv"
	"strings"
	"testing"

	"github.com/skiffdb/skiff/internal/op"
)

func TestMemoryUsage_GrowsWithEveryType(t *testing.T) {
	s := New(Options{})
	elem := func(i int) string { return strings.Repeat("e", 90) + strconv.Itoa(1000+i) }
	adds := map[string]func(i int) (op.Code, []string){
		"list": func(i int) (op.Code, []string) { return op.ListPush, []string{"list", "1", "0", elem(i)} },
		"hash": func(i int) (op.Code, []string) { return op.HSet, []string{"hash", elem(i), elem(i)} },
		"set":  func(i int) (op.Code, []string) { return op.SAdd, []string{"set", elem(i)} },
		"zset": func(i int) (op.Code, []string) {
			return op.ZAdd, []string{"zset", "0", strconv.Itoa(i), elem(i)}
		},
	}
	for key, add := range adds {
		var sizes []int64
		i := 0
		for _, upTo := range []int{1, 100, 1000} {
			for ; i < upTo; i++ {
				code, args := add(i)
				if _, err := apply(t, s, code, t0, args...); err != nil {
					t.Fatal(err)
				}
			}
			n, ok := s.MemoryUsage(0, []byte(key), t0)
			if !ok {
				t.Fatalf("%s: absent", key)
			}
			sizes = append(sizes, n)
		}
		// Each element holds at least its ~94 bytes (a hash twice).
		if sizes[0] < 94 || sizes[1] < sizes[0]+99*94 || sizes[2] < sizes[1]+900*94 || sizes[2] > 1000*94*8 {
			t.Errorf("%s at 1, 100, 1000 elements: %v", key, sizes)
		}
		// Sampling 5 uniform elements extrapolates to about the exact size.
		exact, _ := s.MemoryUsageSamples(0, []byte(key), t0, 0)
		if d := exact - sizes[2]; d < -exact/20 || d > exact/20 {
			t.Errorf("%s: sampled %d, exact %d", key, sizes[2], exact)
		}
	}
	if _, err := apply(t, s, op.Set, t0, "str", "v", "0", "0"); err != nil {
		t.Fatal(err)
	}
	small, _ := s.MemoryUsage(0, []byte("str"), t0)
	if _, err := apply(t, s, op.Set, t0, "str", strings.Repeat("v", 5000), "0", "0"); err != nil {
		t.Fatal(err)
	}
	big, _ := s.MemoryUsage(0, []byte("str"), t0)
	if small < 8 || big < small+5000 || big > small+5200 {
		t.Errorf("string: %d then %d", small, big)
	}
}

func TestMemoryUsage_AbsentExpiredAndNoAccess(t *testing.T) {
	s := New(Options{})
	if _, ok := s.MemoryUsage(0, []byte("k"), t0); ok {
		t.Error("an absent key has a memory usage")
	}
	if _, err := apply(t, s, op.Set, t0, "k", "v", "0", strconv.FormatInt(t0+1000, 10)); err != nil {
		t.Fatal(err)
	}
	withTTL, ok := s.MemoryUsage(0, []byte("k"), t0)
	if !ok {
		t.Fatal("k absent before its deadline")
	}
	if _, ok := s.MemoryUsage(0, []byte("k"), t0+1000); ok {
		t.Error("an expired key has a memory usage")
	}
	if _, ok := s.MemoryUsage(5, []byte("k"), t0); ok {
		t.Error("found in another database")
	}
	if _, ok := s.MemoryUsage(99, []byte("k"), t0); ok {
		t.Error("found in a database that does not exist")
	}
	if _, err := apply(t, s, op.Set, t0, "k2", "v", "0", "0"); err != nil {
		t.Fatal(err)
	}
	plain, _ := s.MemoryUsage(0, []byte("k2"), t0)
	if withTTL != plain+usagePtrSize {
		t.Errorf("a deadline costs %d bytes more, want %d", withTTL-plain, usagePtrSize)
	}
	// MEMORY USAGE and DEBUG OBJECT are not accesses (OBJECT IDLETIME).
	info, _ := s.Object(0, []byte("k2"), t0+60_000)
	s.MemoryUsage(0, []byte("k2"), t0+120_000)
	s.DebugObject(0, []byte("k2"), t0+120_000)
	if after, _ := s.Object(0, []byte("k2"), t0+60_000); after.IdleMs != info.IdleMs {
		t.Errorf("idle time changed from %d to %d", info.IdleMs, after.IdleMs)
	}
}

func TestDebugObject_Fields(t *testing.T) {
	s := New(Options{})
	if _, ok := s.DebugObject(0, []byte("nokey"), t0); ok {
		t.Fatal("an absent key has DEBUG OBJECT fields")
	}
	if _, err := apply(t, s, op.Set, t0, "n", "12345", "0", "0"); err != nil {
		t.Fatal(err)
	}
	if _, err := apply(t, s, op.ListPush, t0, "l", "1", "0", "a", "bb", "ccc"); err != nil {
		t.Fatal(err)
	}
	d, ok := s.DebugObject(0, []byte("n"), t0+5000)
	if !ok || d.Type != TypeString || d.Encoding != "int" || d.Serialized != 5 || d.Len != 1 || d.ElemBytes != 5 || d.IdleMs != 5000 || d.Addr == 0 {
		t.Errorf("DEBUG OBJECT n = %+v", d)
	}
	d, _ = s.DebugObject(0, []byte("l"), t0)
	if d.Type != TypeList || d.Encoding != "listpack" || d.Len != 3 || d.ElemBytes != 6 || d.Serialized < 6 {
		t.Errorf("DEBUG OBJECT l = %+v", d)
	}
}

func TestMemoryStats_PerDatabase(t *testing.T) {
	s := New(Options{})
	if got := s.MemoryStats(0); len(got) != 0 {
		t.Errorf("an empty store reports %v", got)
	}
	for i := range 50 {
		k := "k" + strconv.Itoa(i)
		at := "0"
		if i%5 == 0 {
			at = strconv.FormatInt(t0+1e6, 10)
		}
		if _, err := apply(t, s, op.Set, t0, k, strings.Repeat("v", 100), "0", at); err != nil {
			t.Fatal(err)
		}
	}
	all := s.MemoryStats(0)
	if len(all) != 1 || all[0].DB != 0 || all[0].Keys != 50 || all[0].Expires != 10 {
		t.Fatalf("MemoryStats = %+v", all)
	}
	var sum int64
	for i := range 50 {
		n, _ := s.MemoryUsage(0, []byte("k"+strconv.Itoa(i)), t0)
		sum += n
	}
	if all[0].EstimatedKeyBytes != sum {
		t.Errorf("all keys measured: %d, MEMORY USAGE summed %d", all[0].EstimatedKeyBytes, sum)
	}
	if all[0].MainOverhead <= 0 || all[0].ExpiresOverhead < 10*usagePtrSize {
		t.Errorf("overheads %+v", all[0])
	}
	sampled := s.MemoryStats(10)[0].EstimatedKeyBytes
	if d := sampled - sum; d < -sum/10 || d > sum/10 {
		t.Errorf("10 sampled keys estimate %d, exact %d", sampled, sum)
	}
}
