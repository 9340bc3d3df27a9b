package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skiffdb/skiff/internal/command"
	"github.com/skiffdb/skiff/internal/engine"
	"github.com/skiffdb/skiff/internal/store"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// env is a Handler served by an httptest server.
type env struct {
	t  *testing.T
	h  *Handler
	ts *httptest.Server
	c  *http.Client
}

// newEnv serves a Handler over api (a *command.Server or a *fakeAPI).
func newEnv(t *testing.T, api keyspace, opts Options) *env {
	t.Helper()
	h := New(opts)
	h.api = api
	ts := httptest.NewServer(h)
	e := &env{t: t, h: h, ts: ts, c: ts.Client()}
	t.Cleanup(func() {
		h.Close()
		ts.Close()
	})
	return e
}

// newCommandServer returns the real keyspace API over an in-memory engine
// (no log: writes apply locally, as in internal/command's tests), with the
// store's change feed wired to it as the node does.
func newCommandServer(t testing.TB, cluster command.Cluster) *command.Server {
	t.Helper()
	eng := engine.New(store.New(store.Options{}), engine.Options{})
	s, err := command.NewServer(context.Background(), command.Options{Engine: eng, Version: "9.9.9-test", RESPAddr: "127.0.0.1:6399", Cluster: cluster})
	if err != nil {
		t.Fatal(err)
	}
	// The change feed (Watch), as the node wires it.
	eng.Store().SetListener(s.OnEvent)
	t.Cleanup(func() { eng.Store().SetListener(nil) })
	return s
}

// requireAPI skips the test while the keyspace API still answers
// ErrUnimplemented (its method bodies are being written); once it is
// implemented the test runs by itself. The probes use database 15.
func requireAPI(t *testing.T, api *command.Server, watch bool) {
	t.Helper()
	ctx := context.Background()
	probe := []byte("httpapi-probe")
	skip := func(what string, err error) {
		if errors.Is(err, command.ErrUnimplemented) {
			t.Skipf("the keyspace API's %s answers ErrUnimplemented: not implemented yet", what)
		}
	}
	_, err := api.Put(ctx, command.PutRequest{DB: 15, Key: probe, Value: probe})
	skip("Put", err)
	_, err = api.Get(ctx, command.GetRequest{DB: 15, Key: probe})
	skip("Get", err)
	_, err = api.Range(ctx, command.RangeRequest{DB: 15, Prefix: probe})
	skip("Range", err)
	_, err = api.Delete(ctx, command.DeleteRequest{DB: 15, Key: probe})
	skip("Delete", err)
	if watch {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		skip("Watch", api.Watch(cctx, command.WatchRequest{DB: 15, Key: probe}, func(command.WatchEvent) error { return nil }))
	}
}

// backends runs f against the fake API and against the real one (skipped
// while that is not implemented).
func backends(t *testing.T, watch bool, f func(t *testing.T, e *env)) {
	t.Run("fake", func(t *testing.T) {
		f(t, newEnv(t, newFakeAPI(), Options{}))
	})
	t.Run("command", func(t *testing.T) {
		api := newCommandServer(t, nil)
		requireAPI(t, api, watch)
		f(t, newEnv(t, api, Options{}))
	})
}

// answer is a read response.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) json(t *testing.T, v any) {
	t.Helper()
	if ct := a.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q, want application/json (status %d, body %s)", ct, a.status, a.body)
	}
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, a.body)
	}
}

// errorCode asserts an error answer with status and code and returns it.
func (a answer) errorCode(t *testing.T, status int, code string) errorDetail {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d (body %s)", a.status, status, a.body)
	}
	var ej errorJSON
	a.json(t, &ej)
	if ej.Error.Code != code || ej.Error.Message == "" {
		t.Fatalf("error %+v, want code %q and a message", ej.Error, code)
	}
	return ej.Error
}

// do sends one request; path is appended to the server URL as is (already
// percent-encoded).
func (e *env) do(method, path string, body []byte, hdr ...string) answer {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// fakeAPI is an in-memory model of the keyspace API: enough semantics to
// test the translation (strings only, revisions, conditions, ranges, a
// watch history with tokens = decimal revisions), and a record of the last
// requests.
type fakeAPI struct {
	mu      sync.Mutex
	rev     uint64
	kvs     map[string]command.KV // db + "\x00" + key
	history []command.WatchEvent
	oldest  uint64 // the oldest revision a watch can start after
	changed chan struct{}

	lastPut   command.PutRequest
	lastGet   command.GetRequest
	lastDel   command.DeleteRequest
	lastRange command.RangeRequest
	lastWatch command.WatchRequest

	err error // when set, every keyspace call fails with it

	status  command.ClusterStatus
	calls   []string
	ready   bool
	reason  string
	watchFn func(ctx context.Context, req command.WatchRequest, send func(command.WatchEvent) error) error
}

func newFakeAPI() *fakeAPI {
	return &fakeAPI{kvs: map[string]command.KV{}, changed: make(chan struct{}), ready: true}
}

func fkey(db int, key []byte) string { return strconv.Itoa(db) + "\x00" + string(key) }

func (f *fakeAPI) emitLocked(ev command.WatchEvent) {
	ev.Token = strconv.FormatUint(ev.Revision, 10)
	f.history = append(f.history, ev)
	close(f.changed)
	f.changed = make(chan struct{})
}

func (f *fakeAPI) CheckPassword(string) bool { return true }

func (f *fakeAPI) Get(ctx context.Context, req command.GetRequest) (command.KV, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastGet = req
	if f.err != nil {
		return command.KV{}, f.err
	}
	kv, ok := f.kvs[fkey(req.DB, req.Key)]
	if !ok {
		return command.KV{}, command.ErrNotFound
	}
	return kv, nil
}

func (f *fakeAPI) Put(ctx context.Context, req command.PutRequest) (command.PutResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastPut = req
	if f.err != nil {
		return command.PutResponse{}, f.err
	}
	k := fkey(req.DB, req.Key)
	cur, exists := f.kvs[k]
	if req.IfAbsent && exists || req.IfRevision != 0 && cur.Revision != req.IfRevision {
		return command.PutResponse{Revision: cur.Revision}, nil
	}
	f.rev++
	kv := command.KV{Key: bytes.Clone(req.Key), Value: bytes.Clone(req.Value), Revision: f.rev}
	if req.TTL > 0 {
		kv.ExpireAt = time.Now().Add(req.TTL).UnixMilli()
	}
	f.kvs[k] = kv
	f.emitLocked(command.WatchEvent{Type: command.EventPut, DB: req.DB, Key: kv.Key, Value: kv.Value, Revision: f.rev})
	return command.PutResponse{Written: true, Revision: f.rev}, nil
}

func (f *fakeAPI) Delete(ctx context.Context, req command.DeleteRequest) (command.DeleteResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastDel = req
	if f.err != nil {
		return command.DeleteResponse{}, f.err
	}
	k := fkey(req.DB, req.Key)
	cur, exists := f.kvs[k]
	if !exists || req.IfRevision != 0 && cur.Revision != req.IfRevision {
		return command.DeleteResponse{}, nil
	}
	delete(f.kvs, k)
	f.rev++
	f.emitLocked(command.WatchEvent{Type: command.EventDelete, DB: req.DB, Key: cur.Key, Revision: f.rev})
	return command.DeleteResponse{Deleted: true, Revision: f.rev}, nil
}

func (f *fakeAPI) Range(ctx context.Context, req command.RangeRequest) (command.RangeResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastRange = req
	if f.err != nil {
		return command.RangeResponse{}, f.err
	}
	var keys []command.KV
	for mk, kv := range f.kvs {
		if !strings.HasPrefix(mk, strconv.Itoa(req.DB)+"\x00") {
			continue
		}
		k := kv.Key
		switch {
		case req.Prefix != nil && !bytes.HasPrefix(k, req.Prefix),
			req.Start != nil && bytes.Compare(k, req.Start) < 0,
			req.End != nil && bytes.Compare(k, req.End) >= 0,
			req.After != nil && bytes.Compare(k, req.After) <= 0:
			continue
		}
		if req.KeysOnly {
			kv.Value = nil
		}
		keys = append(keys, kv)
	}
	sort.Slice(keys, func(i, j int) bool { return bytes.Compare(keys[i].Key, keys[j].Key) < 0 })
	limit := req.Limit
	if limit == 0 {
		limit = 1000
	}
	res := command.RangeResponse{Revision: f.rev}
	if len(keys) > limit {
		keys, res.More = keys[:limit], true
	}
	res.KVs = keys
	return res, nil
}

func (f *fakeAPI) Watch(ctx context.Context, req command.WatchRequest, send func(command.WatchEvent) error) error {
	f.mu.Lock()
	f.lastWatch = req
	fn := f.watchFn
	f.mu.Unlock()
	if fn != nil {
		return fn(ctx, req, send)
	}
	f.mu.Lock()
	next := f.rev + 1 // the first revision to send
	if req.FromToken != "" {
		from, err := strconv.ParseUint(req.FromToken, 10, 64)
		if err != nil {
			f.mu.Unlock()
			return errors.Join(command.ErrInvalidArgument, errors.New("bad token "+strconv.Quote(req.FromToken)))
		}
		if from < f.oldest {
			f.mu.Unlock()
			return &command.CompactedError{Oldest: strconv.FormatUint(f.oldest, 10), OldestRevision: f.oldest}
		}
		next = from + 1
	}
	f.mu.Unlock()
	match := func(ev command.WatchEvent) bool {
		if ev.DB != req.DB {
			return false
		}
		if req.IsPrefix {
			return bytes.HasPrefix(ev.Key, req.Key)
		}
		return bytes.Equal(ev.Key, req.Key)
	}
	for {
		f.mu.Lock()
		var batch []command.WatchEvent
		for _, ev := range f.history {
			if ev.Revision >= next {
				batch = append(batch, ev)
			}
		}
		next = f.rev + 1
		ch := f.changed
		f.mu.Unlock()
		for _, ev := range batch {
			if match(ev) {
				if err := send(ev); err != nil {
					return err
				}
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

func (f *fakeAPI) ClusterInfo() (command.ClusterStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.status, f.err
}

func (f *fakeAPI) call(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
	return f.err
}

func (f *fakeAPI) AddMember(id, raftAddr string) error { return f.call("add " + id + " " + raftAddr) }
func (f *fakeAPI) RemoveMember(id string) error        { return f.call("remove " + id) }
func (f *fakeAPI) TransferLeader(id string) error      { return f.call("transfer " + id) }

func (f *fakeAPI) Ready() (bool, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ready, f.reason
}

var _ keyspace = (*fakeAPI)(nil)
var _ keyspace = (*command.Server)(nil)
