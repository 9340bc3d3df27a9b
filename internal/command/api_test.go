package command_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/redis/go-redis/v9"

	"github.com/skiffdb/skiff/internal/command"
	"github.com/skiffdb/skiff/internal/node"
	"github.com/skiffdb/skiff/internal/node/nodetest"
	"github.com/skiffdb/skiff/internal/store"
)

// apiServer returns the command server a node wires (the one its gRPC and
// REST front doors call). node.Node does not export it yet: read the
// field, in tests only.
func apiServer(t testing.TB, n *node.Node) *command.Server {
	t.Helper()
	if a, ok := any(n).(interface{ Command() *command.Server }); ok {
		return a.Command()
	}
	f := reflect.ValueOf(n).Elem().FieldByName("exec")
	if !f.IsValid() || f.Type() != reflect.TypeOf((*command.Server)(nil)) {
		t.Fatal("node.Node has no exec *command.Server field: update apiServer")
	}
	return (*command.Server)(unsafe.Pointer(f.Pointer()))
}

func startAPI(t testing.TB) (*command.Server, *redis.Client) {
	n := nodetest.Start(t, nil)
	rc := redis.NewClient(&redis.Options{Addr: n.Addr})
	t.Cleanup(func() { rc.Close() })
	return apiServer(t, n.Node), rc
}

var bg = context.Background()

func TestAPI_PutGetDelete(t *testing.T) {
	s, rc := startAPI(t)
	if _, err := s.Get(bg, command.GetRequest{Key: []byte("k")}); !errors.Is(err, command.ErrNotFound) {
		t.Fatalf("Get of a missing key: %v", err)
	}
	p, err := s.Put(bg, command.PutRequest{Key: []byte("k"), Value: []byte("v1")})
	if err != nil || !p.Written || p.Revision == 0 {
		t.Fatalf("Put = %+v %v", p, err)
	}
	for _, c := range []command.Consistency{command.Linearizable, command.Serializable} {
		kv, err := s.Get(bg, command.GetRequest{Key: []byte("k"), Consistency: c})
		if err != nil || string(kv.Value) != "v1" || kv.Revision != p.Revision || kv.ExpireAt != 0 || string(kv.Key) != "k" {
			t.Fatalf("Get (consistency %d) = %+v %v", c, kv, err)
		}
	}
	// The same key over RESP, both ways.
	if v, err := rc.Get(bg, "k").Result(); err != nil || v != "v1" {
		t.Fatalf("GET over RESP = %q %v", v, err)
	}
	if err := rc.Set(bg, "r", "from-resp", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if kv, err := s.Get(bg, command.GetRequest{Key: []byte("r")}); err != nil || string(kv.Value) != "from-resp" {
		t.Fatalf("Get of a RESP write = %+v %v", kv, err)
	}
	if v, err := rc.Do(bg, "SKIFF.KV.GET", "k").Slice(); err != nil || fmt.Sprint(v) != fmt.Sprintf("[v1 %d 0]", p.Revision) {
		t.Fatalf("SKIFF.KV.GET over RESP = %v %v", v, err)
	}

	// If-absent and compare-and-set.
	if r, err := s.Put(bg, command.PutRequest{Key: []byte("k"), Value: []byte("no"), IfAbsent: true}); err != nil || r.Written || r.Revision != p.Revision {
		t.Fatalf("if-absent Put over an existing key = %+v %v", r, err)
	}
	if r, err := s.Put(bg, command.PutRequest{Key: []byte("new"), Value: []byte("yes"), IfAbsent: true}); err != nil || !r.Written {
		t.Fatalf("if-absent Put of a new key = %+v %v", r, err)
	}
	if r, err := s.Put(bg, command.PutRequest{Key: []byte("k"), Value: []byte("no"), IfRevision: p.Revision + 100}); err != nil || r.Written || r.Revision != p.Revision {
		t.Fatalf("CAS mismatch = %+v %v", r, err)
	}
	p2, err := s.Put(bg, command.PutRequest{Key: []byte("k"), Value: []byte("v2"), IfRevision: p.Revision})
	if err != nil || !p2.Written || p2.Revision <= p.Revision {
		t.Fatalf("CAS match = %+v %v", p2, err)
	}
	if r, err := s.Put(bg, command.PutRequest{Key: []byte("absent"), Value: []byte("x"), IfRevision: 1}); err != nil || r.Written || r.Revision != 0 {
		t.Fatalf("CAS on an absent key = %+v %v", r, err)
	}

	// Deletes.
	if d, err := s.Delete(bg, command.DeleteRequest{Key: []byte("k"), IfRevision: p.Revision}); err != nil || d.Deleted || d.Revision != 0 {
		t.Fatalf("Delete with a stale revision = %+v %v", d, err)
	}
	d, err := s.Delete(bg, command.DeleteRequest{Key: []byte("k"), IfRevision: p2.Revision})
	if err != nil || !d.Deleted || d.Revision <= p2.Revision {
		t.Fatalf("Delete = %+v %v", d, err)
	}
	if d, err := s.Delete(bg, command.DeleteRequest{Key: []byte("k")}); err != nil || d.Deleted {
		t.Fatalf("Delete of a missing key = %+v %v", d, err)
	}
	if n, _ := rc.Exists(bg, "k").Result(); n != 0 {
		t.Fatal("deleted key still visible over RESP")
	}
	// Binary-safe keys and values, other databases.
	bin := []byte{0, '\r', '\n', 0xff}
	if _, err := s.Put(bg, command.PutRequest{DB: 3, Key: bin, Value: bin}); err != nil {
		t.Fatal(err)
	}
	if kv, err := s.Get(bg, command.GetRequest{DB: 3, Key: bin}); err != nil || string(kv.Value) != string(bin) {
		t.Fatalf("binary Get = %+v %v", kv, err)
	}
	if _, err := s.Get(bg, command.GetRequest{Key: bin}); !errors.Is(err, command.ErrNotFound) {
		t.Fatalf("db 3's key seen in db 0: %v", err)
	}
	// An empty value is a value.
	if _, err := s.Put(bg, command.PutRequest{Key: []byte("empty")}); err != nil {
		t.Fatal(err)
	}
	if kv, err := s.Get(bg, command.GetRequest{Key: []byte("empty")}); err != nil || kv.Value == nil || len(kv.Value) != 0 {
		t.Fatalf("empty value = %+v %v", kv, err)
	}
}

func TestAPI_ErrorsMapToSentinels(t *testing.T) {
	s, rc := startAPI(t)
	if err := rc.RPush(bg, "list", "x").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(bg, command.GetRequest{Key: []byte("list")}); !errors.Is(err, store.ErrWrongType) {
		t.Fatalf("Get of a list: %v", err)
	}
	_, err := s.Txn(bg, command.TxnRequest{Compares: []command.Compare{{Key: []byte("list"), Target: command.CompareValue, Value: []byte("x")}}})
	if !errors.Is(err, store.ErrWrongType) {
		t.Fatalf("value compare of a list: %v", err)
	}
	// A put replaces another type, as SET does; a delete removes any.
	if r, err := s.Put(bg, command.PutRequest{Key: []byte("list"), Value: []byte("s")}); err != nil || !r.Written {
		t.Fatalf("Put over a list = %+v %v", r, err)
	}
	invalid := []func() error{
		func() error { _, err := s.Get(bg, command.GetRequest{}); return err },
		func() error { _, err := s.Get(bg, command.GetRequest{DB: 16, Key: []byte("k")}); return err },
		func() error { _, err := s.Get(bg, command.GetRequest{Key: []byte("k"), Consistency: 7}); return err },
		func() error { _, err := s.Put(bg, command.PutRequest{Key: []byte("k"), TTL: -time.Second}); return err },
		func() error {
			_, err := s.Put(bg, command.PutRequest{Key: []byte("k"), IfAbsent: true, IfRevision: 3})
			return err
		},
		func() error { _, err := s.Delete(bg, command.DeleteRequest{DB: -1, Key: []byte("k")}); return err },
		func() error { _, err := s.Range(bg, command.RangeRequest{Limit: -1}); return err },
		func() error {
			_, err := s.Range(bg, command.RangeRequest{Prefix: []byte("a"), Start: []byte("b")})
			return err
		},
		func() error {
			_, err := s.Txn(bg, command.TxnRequest{Compares: []command.Compare{{Key: []byte("k"), Target: command.CompareExists, Op: command.OpLess}}})
			return err
		},
		func() error {
			_, err := s.Txn(bg, command.TxnRequest{Compares: []command.Compare{{Key: []byte("k"), Target: 9}}})
			return err
		},
		func() error { _, err := s.Txn(bg, command.TxnRequest{Then: []command.TxnOp{{Key: nil}}}); return err },
		func() error { return s.AddMember("n9", "not-an-address") },
	}
	for i, f := range invalid {
		if err := f(); !errors.Is(err, command.ErrInvalidArgument) {
			t.Errorf("case %d: %v, want ErrInvalidArgument", i, err)
		}
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if _, err := s.Put(ctx, command.PutRequest{Key: []byte("k")}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a cancelled context: %v", err)
	}
}

func TestAPI_TTLExpiry(t *testing.T) {
	s, _ := startAPI(t)
	before := time.Now().UnixMilli()
	if _, err := s.Put(bg, command.PutRequest{Key: []byte("t"), Value: []byte("v"), TTL: time.Second}); err != nil {
		t.Fatal(err)
	}
	kv, err := s.Get(bg, command.GetRequest{Key: []byte("t")})
	if err != nil || kv.ExpireAt < before+1000 || kv.ExpireAt > time.Now().UnixMilli()+1000 {
		t.Fatalf("Get with a TTL = %+v %v (before %d)", kv, err, before)
	}
	time.Sleep(time.Until(time.UnixMilli(kv.ExpireAt)) + 10*time.Millisecond)
	if _, err := s.Get(bg, command.GetRequest{Key: []byte("t")}); !errors.Is(err, command.ErrNotFound) {
		t.Fatalf("Get after the TTL: %v", err)
	}
	// A sub-millisecond TTL still expires (rounded up, never "no deadline").
	if _, err := s.Put(bg, command.PutRequest{Key: []byte("u"), Value: []byte("v"), TTL: time.Microsecond}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	if _, err := s.Get(bg, command.GetRequest{Key: []byte("u")}); !errors.Is(err, command.ErrNotFound) {
		t.Fatalf("Get after a 1µs TTL: %v", err)
	}
}

func TestAPI_RangePages(t *testing.T) {
	s, rc := startAPI(t)
	for i := range 50 {
		if _, err := s.Put(bg, command.PutRequest{Key: []byte(fmt.Sprintf("p/%03d", i)), Value: []byte(strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Put(bg, command.PutRequest{Key: []byte(fmt.Sprintf("q/%03d", i)), Value: []byte("q")}); err != nil {
			t.Fatal(err)
		}
	}
	rc.HSet(bg, "p/hash", "f", "v") // another type: not listed
	pages := func(req command.RangeRequest) (keys []string, n int) {
		t.Helper()
		for {
			r, err := s.Range(bg, req)
			if err != nil {
				t.Fatal(err)
			}
			if r.Revision == 0 || (r.More && len(r.KVs) != req.Limit) {
				t.Fatalf("page %+v: %d keys, more %v, revision %d", req, len(r.KVs), r.More, r.Revision)
			}
			for _, kv := range r.KVs {
				keys = append(keys, string(kv.Key))
				if req.KeysOnly != (kv.Value == nil) || kv.Revision == 0 {
					t.Fatalf("%+v", kv)
				}
			}
			n++
			if !r.More {
				return keys, n
			}
			req.After = r.KVs[len(r.KVs)-1].Key
		}
	}
	want := func(prefix string, from, to int) []string {
		var out []string
		for i := from; i < to; i++ {
			out = append(out, fmt.Sprintf("%s/%03d", prefix, i))
		}
		return out
	}
	keys, n := pages(command.RangeRequest{Prefix: []byte("p/"), Limit: 7})
	if fmt.Sprint(keys) != fmt.Sprint(want("p", 0, 50)) || n != 8 {
		t.Fatalf("prefix pages (%d): %v", n, keys)
	}
	keys, _ = pages(command.RangeRequest{Start: []byte("p/045"), End: []byte("q/003"), Limit: 3, KeysOnly: true, Consistency: command.Serializable})
	if fmt.Sprint(keys) != fmt.Sprint(append(want("p", 45, 50), want("q", 0, 3)...)) {
		t.Fatalf("[start, end) pages: %v", keys)
	}
	r, err := s.Range(bg, command.RangeRequest{})
	if err != nil || len(r.KVs) != 100 || r.More {
		t.Fatalf("whole range: %d keys, more %v, %v", len(r.KVs), r.More, err)
	}
	if string(r.KVs[0].Value) != "0" || string(r.KVs[99].Value) != "q" {
		t.Fatalf("values: %q %q", r.KVs[0].Value, r.KVs[99].Value)
	}
}

func TestAPI_TxnBranchesAtomically(t *testing.T) {
	s, rc := startAPI(t)
	p, _ := s.Put(bg, command.PutRequest{Key: []byte("a"), Value: []byte("1")})
	s.Put(bg, command.PutRequest{Key: []byte("gone"), Value: []byte("x")})
	txn := command.TxnRequest{
		Compares: []command.Compare{
			{Key: []byte("a"), Target: command.CompareRevision, Revision: p.Revision},
			{Key: []byte("a"), Target: command.CompareValue, Op: command.OpLess, Value: []byte("2")},
			{Key: []byte("b"), Target: command.CompareExists, Exists: false},
		},
		Then: []command.TxnOp{{Key: []byte("a"), Value: []byte("then")}, {Key: []byte("b"), Value: []byte("b"), TTL: time.Hour}, {Delete: true, Key: []byte("gone")}},
		Else: []command.TxnOp{{Key: []byte("a"), Value: []byte("else")}},
	}
	r, err := s.Txn(bg, txn)
	if err != nil || !r.Succeeded {
		t.Fatalf("Txn = %+v %v", r, err)
	}
	a, _ := s.Get(bg, command.GetRequest{Key: []byte("a")})
	b, _ := s.Get(bg, command.GetRequest{Key: []byte("b")})
	if string(a.Value) != "then" || a.Revision != r.Revision || b.Revision != r.Revision || b.ExpireAt == 0 {
		t.Fatalf("then branch: a %+v b %+v txn rev %d", a, b, r.Revision)
	}
	if n, _ := rc.Exists(bg, "gone").Result(); n != 0 {
		t.Fatal("the delete of the then branch was not applied")
	}
	// The same request again: the compares fail, the else branch runs.
	r2, err := s.Txn(bg, txn)
	if err != nil || r2.Succeeded || r2.Revision <= r.Revision {
		t.Fatalf("second Txn = %+v %v", r2, err)
	}
	if a, _ := s.Get(bg, command.GetRequest{Key: []byte("a")}); string(a.Value) != "else" {
		t.Fatalf("else branch: a = %q", a.Value)
	}
	if b2, _ := s.Get(bg, command.GetRequest{Key: []byte("b")}); b2.Revision != r.Revision {
		t.Fatal("the else branch touched b")
	}
	// An empty transaction is fine.
	if r, err := s.Txn(bg, command.TxnRequest{}); err != nil || !r.Succeeded {
		t.Fatalf("empty Txn = %+v %v", r, err)
	}
}

// TestAPI_WatchOnNode: a watch sees API and RESP writes with the
// revisions the writes returned; CurrentToken moves with the state.
func TestAPI_WatchOnNode(t *testing.T) {
	s, rc := startAPI(t)
	tok := s.CurrentToken()
	p, _ := s.Put(bg, command.PutRequest{Key: []byte("w/a"), Value: []byte("1")})
	rc.Set(bg, "w/b", "2", 0)
	rc.Set(bg, "x", "not watched", 0)
	d, _ := s.Delete(bg, command.DeleteRequest{Key: []byte("w/a")})
	if s.CurrentToken() == tok {
		t.Fatal("CurrentToken did not move")
	}
	ctx, cancel := context.WithTimeout(bg, 10*time.Second)
	defer cancel()
	var got []string
	stop := errors.New("enough")
	err := s.Watch(ctx, command.WatchRequest{Key: []byte("w/"), IsPrefix: true, FromToken: tok}, func(ev command.WatchEvent) error {
		got = append(got, fmt.Sprintf("%d %s %d", ev.Type, ev.Key, ev.Revision))
		if len(got) == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatal(err)
	}
	if want := []string{fmt.Sprintf("0 w/a %d", p.Revision), fmt.Sprintf("0 w/b %d", p.Revision+1), fmt.Sprintf("1 w/a %d", d.Revision)}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("watch: %q, want %q", got, want)
	}
}

// The API's Put and Get on a one-node cluster (fsync always), 50
// concurrent callers as the benchmark target counts them: the whole path
// through the command layer, the log and the store. -cpuprofile shows where
// the time goes beyond the fsync.
func BenchmarkAPIPut(b *testing.B) {
	s, _ := startAPI(b)
	var seq atomic.Int64
	val := make([]byte, 256)
	b.SetParallelism(max(1, 50/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		key := make([]byte, 0, 32)
		for pb.Next() {
			key = strconv.AppendInt(append(key[:0], "key:"...), seq.Add(1)%100000, 10)
			if _, err := s.Put(bg, command.PutRequest{Key: key, Value: val}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkAPIGet(b *testing.B) {
	for _, c := range []struct {
		name string
		c    command.Consistency
	}{{"linearizable", command.Linearizable}, {"serializable", command.Serializable}} {
		b.Run(c.name, func(b *testing.B) {
			s, _ := startAPI(b)
			if _, err := s.Put(bg, command.PutRequest{Key: []byte("key"), Value: make([]byte, 256)}); err != nil {
				b.Fatal(err)
			}
			b.SetParallelism(max(1, 50/runtime.GOMAXPROCS(0)))
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.Get(bg, command.GetRequest{Key: []byte("key"), Consistency: c.c}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkRESPSet is BenchmarkAPIPut's load over RESP (go-redis, one
// connection per caller, no pipelining), for comparison.
func BenchmarkRESPSet(b *testing.B) {
	n := nodetest.Start(b, nil)
	rc := redis.NewClient(&redis.Options{Addr: n.Addr, PoolSize: 64})
	defer rc.Close()
	var seq atomic.Int64
	val := make([]byte, 256)
	b.SetParallelism(max(1, 50/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := rc.Set(bg, "key:"+strconv.FormatInt(seq.Add(1)%100000, 10), val, 0).Err(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
