package grpcapi_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"

	datapb "github.com/skiffdb/skiff/gen/data"
	skiffv1 "github.com/skiffdb/skiff/gen/skiff/v1"
	"github.com/skiffdb/skiff/internal/command"
	"github.com/skiffdb/skiff/internal/grpcapi"
)

// These tests need the keyspace API (command.Server.Get, Put ...); they skip
// themselves while it returns ErrUnimplemented.

func (h *harness) put(key, value string) *skiffv1.PutResponse {
	h.t.Helper()
	r, err := h.kv.Put(ctxT(h.t), &skiffv1.PutRequest{Key: []byte(key), Value: []byte(value)})
	if err != nil {
		h.t.Fatalf("Put %q: %v", key, err)
	}
	if !r.GetWritten() || r.GetRevision() == 0 {
		h.t.Fatalf("Put %q: %v", key, r)
	}
	return r
}

func (h *harness) get(key string, c skiffv1.Consistency) *skiffv1.KeyValue {
	h.t.Helper()
	r, err := h.kv.Get(ctxT(h.t), &skiffv1.GetRequest{Key: []byte(key), Consistency: c})
	if err != nil {
		h.t.Fatalf("Get %q: %v", key, err)
	}
	return r.GetKv()
}

func TestKV_PutGetDelete(t *testing.T) {
	h := start(t, nil)
	h.requireAPI()
	ctx := ctxT(t)

	p := h.put("k", "v1")
	for _, c := range []skiffv1.Consistency{skiffv1.Consistency_CONSISTENCY_UNSPECIFIED, skiffv1.Consistency_CONSISTENCY_LINEARIZABLE, skiffv1.Consistency_CONSISTENCY_SERIALIZABLE} {
		kv := h.get("k", c)
		if string(kv.GetKey()) != "k" || string(kv.GetValue()) != "v1" || kv.GetRevision() != p.GetRevision() || kv.GetExpireTime() != nil {
			t.Errorf("Get (%v) = %v, want v1 at revision %d", c, kv, p.GetRevision())
		}
	}
	_, err := h.kv.Get(ctx, &skiffv1.GetRequest{Key: []byte("missing")})
	wantCode(t, "Get missing", err, codes.NotFound)

	// Binary-safe keys and values, and the empty value.
	bin := "\x00\xff\r\n"
	h.put(bin, bin)
	if kv := h.get(bin, 0); string(kv.GetValue()) != bin {
		t.Errorf("binary value %q", kv.GetValue())
	}
	if _, err := h.kv.Put(ctx, &skiffv1.PutRequest{Key: []byte("empty")}); err != nil {
		t.Fatal(err)
	}
	if kv := h.get("empty", 0); len(kv.GetValue()) != 0 {
		t.Errorf("empty value %q", kv.GetValue())
	}

	// Delete.
	d, err := h.kv.Delete(ctx, &skiffv1.DeleteRequest{Key: []byte("k")})
	if err != nil || !d.GetDeleted() || d.GetRevision() <= p.GetRevision() {
		t.Fatalf("Delete = %v, %v", d, err)
	}
	_, err = h.kv.Get(ctx, &skiffv1.GetRequest{Key: []byte("k")})
	wantCode(t, "Get deleted", err, codes.NotFound)
	d, err = h.kv.Delete(ctx, &skiffv1.DeleteRequest{Key: []byte("k")})
	if err != nil || d.GetDeleted() || d.GetRevision() != 0 {
		t.Errorf("Delete missing = %v, %v", d, err)
	}

	// Another database.
	if _, err := h.kv.Put(ctx, &skiffv1.PutRequest{Key: []byte("db"), Value: []byte("one"), Db: 1}); err != nil {
		t.Fatal(err)
	}
	_, err = h.kv.Get(ctx, &skiffv1.GetRequest{Key: []byte("db")})
	wantCode(t, "Get from db 0 of a key in db 1", err, codes.NotFound)
	if r, err := h.kv.Get(ctx, &skiffv1.GetRequest{Key: []byte("db"), Db: 1}); err != nil || string(r.GetKv().GetValue()) != "one" {
		t.Errorf("Get db 1 = %v, %v", r, err)
	}
	_, err = h.kv.Get(ctx, &skiffv1.GetRequest{Key: []byte("db"), Db: 1000})
	wantCode(t, "Get from db 1000", err, codes.InvalidArgument)
}

func TestKV_ConditionalWrites(t *testing.T) {
	h := start(t, nil)
	h.requireAPI()
	ctx := ctxT(t)
	p := h.put("k", "v1")

	// if_absent on an existing key: not written, the current revision.
	r, err := h.kv.Put(ctx, &skiffv1.PutRequest{Key: []byte("k"), Value: []byte("v2"), IfAbsent: true})
	if err != nil || r.GetWritten() || r.GetRevision() != p.GetRevision() {
		t.Errorf("Put if_absent on existing = %v, %v", r, err)
	}
	r, err = h.kv.Put(ctx, &skiffv1.PutRequest{Key: []byte("new"), Value: []byte("x"), IfAbsent: true})
	if err != nil || !r.GetWritten() {
		t.Errorf("Put if_absent on missing = %v, %v", r, err)
	}
	// if_revision: compare-and-set.
	r, err = h.kv.Put(ctx, &skiffv1.PutRequest{Key: []byte("k"), Value: []byte("v2"), IfRevision: p.GetRevision() + 1000})
	if err != nil || r.GetWritten() || r.GetRevision() != p.GetRevision() {
		t.Errorf("Put with a stale revision = %v, %v", r, err)
	}
	r, err = h.kv.Put(ctx, &skiffv1.PutRequest{Key: []byte("k"), Value: []byte("v2"), IfRevision: p.GetRevision()})
	if err != nil || !r.GetWritten() || r.GetRevision() <= p.GetRevision() {
		t.Fatalf("Put with the current revision = %v, %v", r, err)
	}
	if kv := h.get("k", 0); string(kv.GetValue()) != "v2" || kv.GetRevision() != r.GetRevision() {
		t.Errorf("after CAS: %v", kv)
	}
	d, err := h.kv.Delete(ctx, &skiffv1.DeleteRequest{Key: []byte("k"), IfRevision: p.GetRevision()})
	if err != nil || d.GetDeleted() {
		t.Errorf("Delete with a stale revision = %v, %v", d, err)
	}
	d, err = h.kv.Delete(ctx, &skiffv1.DeleteRequest{Key: []byte("k"), IfRevision: r.GetRevision()})
	if err != nil || !d.GetDeleted() {
		t.Errorf("Delete with the current revision = %v, %v", d, err)
	}
}

func TestKV_TTL(t *testing.T) {
	h := start(t, nil)
	h.requireAPI()
	ctx := ctxT(t)
	before := time.Now()
	if _, err := h.kv.Put(ctx, &skiffv1.PutRequest{Key: []byte("t"), Value: []byte("v"), Ttl: durationpb.New(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	exp := h.get("t", 0).GetExpireTime()
	if exp == nil {
		t.Fatal("no expire_time")
	}
	if at := exp.AsTime(); at.Before(before.Add(59*time.Second)) || at.After(time.Now().Add(61*time.Second)) {
		t.Errorf("expire_time %v, want about a minute from %v", at, before)
	}
	if got := h.redis("PTTL", "t"); !strings.HasPrefix(got, ":") || got == ":-1\r\n" {
		t.Errorf("PTTL over RESP = %q", got)
	}
	// A short TTL runs out (the engine's expiry cycle removes the key).
	if _, err := h.kv.Put(ctx, &skiffv1.PutRequest{Key: []byte("short"), Value: []byte("v"), Ttl: durationpb.New(20 * time.Millisecond)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the key to expire", func() bool {
		_, err := h.kv.Get(ctx, &skiffv1.GetRequest{Key: []byte("short")})
		return err != nil
	})
	_, err := h.kv.Get(ctx, &skiffv1.GetRequest{Key: []byte("short")})
	wantCode(t, "Get expired", err, codes.NotFound)
}

// TestKV_SameDataAsRESP: the gRPC and RESP doors share one keyspace and one
// error table.
func TestKV_SameDataAsRESP(t *testing.T) {
	h := start(t, nil)
	h.requireAPI()
	ctx := ctxT(t)
	if got := h.redis("SET", "r", "from-resp"); got != "+OK\r\n" {
		t.Fatalf("SET = %q", got)
	}
	if kv := h.get("r", 0); string(kv.GetValue()) != "from-resp" || kv.GetRevision() == 0 {
		t.Errorf("Get of a key SET over RESP = %v", kv)
	}
	h.put("g", "from-grpc")
	if got := h.redis("GET", "g"); got != "$9\r\nfrom-grpc\r\n" {
		t.Errorf("GET of a key put over gRPC = %q", got)
	}
	if got := h.redis("LPUSH", "list", "a"); got != ":1\r\n" {
		t.Fatalf("LPUSH = %q", got)
	}
	_, err := h.kv.Get(ctx, &skiffv1.GetRequest{Key: []byte("list")})
	wantCode(t, "Get of a list", err, codes.FailedPrecondition)
	_, err = h.data.Fetch(ctx, &datapb.DataRequest{Key: "list"})
	wantCode(t, "Fetch of a list", err, codes.FailedPrecondition)
}

func TestData_Fetch(t *testing.T) {
	h := start(t, nil)
	h.requireAPI()
	ctx := ctxT(t)
	h.put("greeting", "hello, wörld")
	r, err := h.data.Fetch(ctx, &datapb.DataRequest{Key: "greeting"})
	if err != nil || r.GetValue() != "hello, wörld" {
		t.Errorf("Fetch = %v, %v", r, err)
	}
	_, err = h.data.Fetch(ctx, &datapb.DataRequest{Key: "missing"})
	wantCode(t, "Fetch missing", err, codes.NotFound)
	h.put("binary", "\xff\xfe")
	_, err = h.data.Fetch(ctx, &datapb.DataRequest{Key: "binary"})
	st := wantCode(t, "Fetch of a non-UTF-8 value", err, codes.FailedPrecondition)
	if !strings.Contains(st.Message(), "skiff.v1.KV/Get") {
		t.Errorf("message %q does not point to KV/Get", st.Message())
	}
}

func TestKV_Range(t *testing.T) {
	h := start(t, nil)
	h.requireAPI()
	ctx := ctxT(t)
	for i := 1; i <= 5; i++ {
		h.put(fmt.Sprintf("a/%d", i), fmt.Sprintf("v%d", i))
	}
	h.put("b/1", "w")
	h.put("a", "bare")

	keys := func(r *skiffv1.RangeResponse) string {
		var ks []string
		for _, kv := range r.GetKvs() {
			ks = append(ks, string(kv.GetKey()))
		}
		return strings.Join(ks, ",")
	}

	// Prefix, two per page.
	var pages []string
	req := &skiffv1.RangeRequest{Keys: &skiffv1.RangeRequest_Prefix{Prefix: []byte("a/")}, Limit: 2}
	for i := 0; ; i++ {
		if i > 5 {
			t.Fatal("pagination does not end")
		}
		r, err := h.kv.Range(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if r.GetRevision() == 0 {
			t.Errorf("page %d has no revision", i)
		}
		pages = append(pages, keys(r))
		if r.GetNextPageToken() == "" {
			break
		}
		req.PageToken = r.GetNextPageToken()
	}
	if got := strings.Join(pages, " | "); got != "a/1,a/2 | a/3,a/4 | a/5" {
		t.Errorf("prefix pages: %s", got)
	}

	// [start, end).
	r, err := h.kv.Range(ctx, &skiffv1.RangeRequest{Keys: &skiffv1.RangeRequest_Range{Range: &skiffv1.KeyRange{Start: []byte("a/2"), End: []byte("a/4")}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(r); got != "a/2,a/3" || r.GetNextPageToken() != "" {
		t.Errorf("range [a/2, a/4): %s (next %q)", got, r.GetNextPageToken())
	}
	if v := string(r.GetKvs()[0].GetValue()); v != "v2" {
		t.Errorf("value %q", v)
	}
	// Open end; keys only; serializable.
	r, err = h.kv.Range(ctx, &skiffv1.RangeRequest{Keys: &skiffv1.RangeRequest_Range{Range: &skiffv1.KeyRange{Start: []byte("a/5")}},
		KeysOnly: true, Consistency: skiffv1.Consistency_CONSISTENCY_SERIALIZABLE})
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(r); got != "a/5,b/1" {
		t.Errorf("range [a/5, ∞): %s", got)
	}
	for _, kv := range r.GetKvs() {
		if len(kv.GetValue()) != 0 || kv.GetRevision() == 0 {
			t.Errorf("keys only: %v", kv)
		}
	}
	// Everything.
	r, err = h.kv.Range(ctx, &skiffv1.RangeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(r); got != "a,a/1,a/2,a/3,a/4,a/5,b/1" {
		t.Errorf("all keys: %s", got)
	}
}

func TestKV_Txn(t *testing.T) {
	h := start(t, nil)
	h.requireAPI()
	ctx := ctxT(t)
	p := h.put("x", "1")
	h.put("y", "gone soon")

	put := func(k, v string) *skiffv1.TxnOp {
		return &skiffv1.TxnOp{Op: &skiffv1.TxnOp_Put{Put: &skiffv1.PutOp{Key: []byte(k), Value: []byte(v)}}}
	}
	del := func(k string) *skiffv1.TxnOp {
		return &skiffv1.TxnOp{Op: &skiffv1.TxnOp_Delete{Delete: &skiffv1.DeleteOp{Key: []byte(k)}}}
	}
	valueIs := func(k, v string) *skiffv1.Compare {
		return &skiffv1.Compare{Key: []byte(k), Result: skiffv1.Compare_RESULT_EQUAL, Target: &skiffv1.Compare_Value{Value: []byte(v)}}
	}

	// Compares hold: then_ops run, atomically at one revision.
	r, err := h.kv.Txn(ctx, &skiffv1.TxnRequest{
		Compares: []*skiffv1.Compare{
			valueIs("x", "1"),
			{Key: []byte("x"), Result: skiffv1.Compare_RESULT_EQUAL, Target: &skiffv1.Compare_Revision{Revision: p.GetRevision()}},
			{Key: []byte("nope"), Result: skiffv1.Compare_RESULT_EQUAL, Target: &skiffv1.Compare_Exists{Exists: false}},
			{Key: []byte("y"), Result: skiffv1.Compare_RESULT_GREATER, Target: &skiffv1.Compare_Revision{Revision: 0}},
		},
		ThenOps: []*skiffv1.TxnOp{put("x", "2"), del("y"), put("z", "new")},
		ElseOps: []*skiffv1.TxnOp{put("else", "ran")},
	})
	if err != nil || !r.GetSucceeded() || r.GetRevision() <= p.GetRevision() {
		t.Fatalf("Txn = %v, %v", r, err)
	}
	if kv := h.get("x", 0); string(kv.GetValue()) != "2" {
		t.Errorf("x = %v", kv)
	}
	if kx, kz := h.get("x", 0), h.get("z", 0); kx.GetRevision() != kz.GetRevision() {
		t.Errorf("x and z changed at different revisions: %d, %d", kx.GetRevision(), kz.GetRevision())
	}
	_, err = h.kv.Get(ctx, &skiffv1.GetRequest{Key: []byte("y")})
	wantCode(t, "y after the txn", err, codes.NotFound)

	// A compare fails: else_ops run; not an error.
	r, err = h.kv.Txn(ctx, &skiffv1.TxnRequest{
		Compares: []*skiffv1.Compare{valueIs("x", "1")},
		ThenOps:  []*skiffv1.TxnOp{put("then", "ran")},
		ElseOps:  []*skiffv1.TxnOp{put("else", "ran")},
	})
	if err != nil || r.GetSucceeded() {
		t.Fatalf("failing Txn = %v, %v", r, err)
	}
	if kv := h.get("else", 0); string(kv.GetValue()) != "ran" {
		t.Errorf("else = %v", kv)
	}
	_, err = h.kv.Get(ctx, &skiffv1.GetRequest{Key: []byte("then")})
	wantCode(t, "then after a failed compare", err, codes.NotFound)

	// Less / greater on values, bytewise.
	r, err = h.kv.Txn(ctx, &skiffv1.TxnRequest{Compares: []*skiffv1.Compare{
		{Key: []byte("x"), Result: skiffv1.Compare_RESULT_LESS, Target: &skiffv1.Compare_Value{Value: []byte("3")}},
		{Key: []byte("x"), Result: skiffv1.Compare_RESULT_GREATER, Target: &skiffv1.Compare_Value{Value: []byte("1")}},
		{Key: []byte("x"), Result: skiffv1.Compare_RESULT_NOT_EQUAL, Target: &skiffv1.Compare_Value{Value: []byte("1")}},
	}})
	if err != nil || !r.GetSucceeded() {
		t.Errorf("value ordering Txn = %v, %v", r, err)
	}
	// A compare on a list: the type error, not a silent false.
	h.redis("RPUSH", "list", "a")
	_, err = h.kv.Txn(ctx, &skiffv1.TxnRequest{Compares: []*skiffv1.Compare{valueIs("list", "a")}})
	wantCode(t, "Txn comparing a list's value", err, codes.FailedPrecondition)
}

// watcher reads a Watch stream on its own goroutine.
type watcher struct {
	t      *testing.T
	cancel context.CancelFunc
	ch     chan *skiffv1.WatchResponse
	errCh  chan error
}

func (h *harness) watch(req *skiffv1.WatchRequest) *watcher {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := h.kv.Watch(ctx, req)
	if err != nil {
		cancel()
		h.t.Fatal(err)
	}
	w := &watcher{t: h.t, cancel: cancel, ch: make(chan *skiffv1.WatchResponse, 1000), errCh: make(chan error, 1)}
	go func() {
		for {
			r, err := s.Recv()
			if err != nil {
				w.errCh <- err
				return
			}
			w.ch <- r
		}
	}()
	h.t.Cleanup(func() {
		cancel()
		<-w.errCh
	})
	return w
}

// next returns the next response with events (progress notifications are
// skipped unless progress is set).
func (w *watcher) next(progress bool) *skiffv1.WatchResponse {
	w.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case r := <-w.ch:
			if r.GetProgressNotify() && !progress {
				continue
			}
			return r
		case err := <-w.errCh:
			w.errCh <- err
			w.t.Fatalf("watch ended: %v", err)
		case <-timeout:
			w.t.Fatal("no watch response within 5s")
		}
	}
}

func (w *watcher) event() *skiffv1.Event {
	w.t.Helper()
	r := w.next(false)
	if len(r.GetEvents()) != 1 || r.GetToken() != r.GetEvents()[0].GetToken() || r.GetToken() == "" {
		w.t.Fatalf("response %v: want one event whose token is the response's", r)
	}
	return r.GetEvents()[0]
}

func wantEvent(t *testing.T, ev *skiffv1.Event, typ skiffv1.Event_Type, key, value string) {
	t.Helper()
	if ev.GetType() != typ || string(ev.GetKey()) != key || string(ev.GetValue()) != value || ev.GetRevision() == 0 {
		t.Errorf("event %v, want %v %q=%q", ev, typ, key, value)
	}
}

// sync makes sure the watcher is live and its stream is clean: it writes
// key until an event for it arrives (a watch without a start token begins
// at an unspecified moment after the call), then writes a last marker and
// discards everything up to its event (events arrive in order).
func (h *harness) sync(w *watcher, key string) {
	h.t.Helper()
	live := false
	for deadline := time.Now().Add(5 * time.Second); !live; {
		if time.Now().After(deadline) {
			h.t.Fatal("the watch never saw a write")
		}
		h.put(key, "sync")
		select {
		case r := <-w.ch:
			live = !r.GetProgressNotify()
		case <-time.After(50 * time.Millisecond):
		}
	}
	h.put(key, "sync-done")
	for {
		r := w.next(false)
		for _, ev := range r.GetEvents() {
			if string(ev.GetKey()) != key {
				h.t.Fatalf("unexpected event while syncing: %v", ev)
			}
			if string(ev.GetValue()) == "sync-done" {
				return
			}
		}
	}
}

func TestKV_Watch(t *testing.T) {
	h := start(t, nil)
	h.requireAPI()
	ctx := ctxT(t)

	w := h.watch(&skiffv1.WatchRequest{Key: []byte("w/"), Prefix: true, ProgressInterval: durationpb.New(200 * time.Millisecond)})
	h.sync(w, "w/sync")

	h.put("other", "not watched")
	p := h.put("w/a", "1")
	if _, err := h.kv.Delete(ctx, &skiffv1.DeleteRequest{Key: []byte("w/a")}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.kv.Put(ctx, &skiffv1.PutRequest{Key: []byte("w/b"), Value: []byte("2"), Ttl: durationpb.New(30 * time.Millisecond)}); err != nil {
		t.Fatal(err)
	}

	first := w.event()
	wantEvent(t, first, skiffv1.Event_TYPE_PUT, "w/a", "1")
	if first.GetRevision() != p.GetRevision() {
		t.Errorf("put event revision %d, Put returned %d", first.GetRevision(), p.GetRevision())
	}
	evs := []*skiffv1.Event{first, w.event(), w.event(), w.event()}
	wantEvent(t, evs[1], skiffv1.Event_TYPE_DELETE, "w/a", "")
	wantEvent(t, evs[2], skiffv1.Event_TYPE_PUT, "w/b", "2")
	wantEvent(t, evs[3], skiffv1.Event_TYPE_EXPIRE, "w/b", "")
	for i := 1; i < len(evs); i++ {
		if evs[i].GetRevision() <= evs[i-1].GetRevision() {
			t.Errorf("revisions not increasing: %d then %d", evs[i-1].GetRevision(), evs[i].GetRevision())
		}
	}

	// Idle: a progress notification with a token.
	r := w.next(true)
	if !r.GetProgressNotify() || r.GetToken() == "" || len(r.GetEvents()) != 0 {
		t.Errorf("want a progress notification, got %v", r)
	}

	// Resume from the first event's token: the rest is replayed, in order,
	// without the first.
	w2 := h.watch(&skiffv1.WatchRequest{Key: []byte("w/"), Prefix: true, StartToken: first.GetToken()})
	for _, want := range evs[1:] {
		got := w2.event()
		if got.GetType() != want.GetType() || !bytes.Equal(got.GetKey(), want.GetKey()) || got.GetRevision() != want.GetRevision() || got.GetToken() != want.GetToken() {
			t.Errorf("replayed %v, want %v", got, want)
		}
	}

	// One key, not a prefix.
	w3 := h.watch(&skiffv1.WatchRequest{Key: []byte("w/one")})
	h.sync(w3, "w/one")
	h.put("w/one-more", "x")
	h.put("w/one", "y")
	wantEvent(t, w3.event(), skiffv1.Event_TYPE_PUT, "w/one", "y")
}

func TestKV_WatchBadToken(t *testing.T) {
	h := start(t, nil)
	h.requireAPI()
	s, err := h.kv.Watch(ctxT(t), &skiffv1.WatchRequest{Key: []byte("k"), StartToken: "not-a-token"})
	if err == nil {
		_, err = s.Recv()
	}
	wantCode(t, "Watch from a malformed token", err, codes.InvalidArgument)
}

func TestKV_StopEndsWatch(t *testing.T) {
	h := start(t, nil)
	h.requireAPI()
	w := h.watch(&skiffv1.WatchRequest{Key: []byte("s")})
	h.sync(w, "s")
	begin := time.Now()
	h.srv.Stop()
	if d := time.Since(begin); d > time.Second {
		t.Errorf("Stop took %v with an open watch", d)
	}
	select {
	case err := <-w.errCh:
		w.errCh <- err
		wantCode(t, "watch after Stop", err, codes.Unavailable)
	case <-time.After(5 * time.Second):
		t.Fatal("the watch did not end")
	}
}

func TestKV_WatchCompacted(t *testing.T) {
	h := start(t, nil)
	h.requireAPI()
	w := h.watch(&skiffv1.WatchRequest{Key: []byte("c/"), Prefix: true})
	h.sync(w, "c/sync")
	h.put("c/1", "1")
	old := w.event().GetToken()

	// Keep only the last two events: old is now before the history.
	h.api.SetWatchOptions(command.WatchOptions{HistoryEvents: 2})
	for _, k := range []string{"c/2", "c/3", "c/4"} {
		h.put(k, "x")
		w.event()
	}
	s, err := h.kv.Watch(ctxT(t), &skiffv1.WatchRequest{Key: []byte("c/"), Prefix: true, StartToken: old})
	if err == nil {
		_, err = s.Recv()
	}
	st := wantCode(t, "Watch from a compacted token", err, codes.OutOfRange)
	var info *errdetails.ErrorInfo
	for _, d := range st.Details() {
		if i, ok := d.(*errdetails.ErrorInfo); ok {
			info = i
		}
	}
	if info == nil || info.GetReason() != grpcapi.ReasonCompacted || info.GetMetadata()["oldest_token"] == "" {
		t.Fatalf("ErrorInfo %v", info)
	}
	oldest := info.GetMetadata()["oldest_token"]
	if !strings.Contains(st.Message(), oldest) {
		t.Errorf("message %q does not name the oldest token %q", st.Message(), oldest)
	}
	// The oldest point is a valid place to resume.
	w2 := h.watch(&skiffv1.WatchRequest{Key: []byte("c/"), Prefix: true, StartToken: oldest})
	if ev := w2.event(); ev.GetType() != skiffv1.Event_TYPE_PUT || !strings.HasPrefix(string(ev.GetKey()), "c/") {
		t.Errorf("first event after the oldest token: %v", ev)
	}
}
