package command

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/skiffdb/skiff/internal/engine"
	"github.com/skiffdb/skiff/internal/op"
	"github.com/skiffdb/skiff/internal/store"
)

// watchSrv is a server over a log-less engine whose store feeds the
// server's change-feed listener, as a node wires it.
func watchSrv(t *testing.T) *Server {
	t.Helper()
	eng := engine.New(store.New(store.Options{}), engine.Options{})
	s, err := NewServer(context.Background(), Options{Engine: eng})
	if err != nil {
		t.Fatal(err)
	}
	eng.Store().SetListener(s.OnEvent)
	return s
}

// watchRun is a Watch running on its own goroutine.
type watchRun struct {
	ch     chan WatchEvent
	done   chan error
	cancel context.CancelFunc
}

func startWatch(t *testing.T, s *Server, req WatchRequest) *watchRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	wr := &watchRun{ch: make(chan WatchEvent, 1<<16), done: make(chan error, 1), cancel: cancel}
	go func() {
		wr.done <- s.Watch(ctx, req, func(ev WatchEvent) error {
			wr.ch <- ev
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-wr.done
	})
	return wr
}

// next returns the next event, progress notifications included.
func (wr *watchRun) nextAny(t *testing.T) WatchEvent {
	t.Helper()
	select {
	case ev := <-wr.ch:
		return ev
	case err := <-wr.done:
		wr.done <- err
		t.Fatalf("watch ended: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event within 10s")
	}
	return WatchEvent{}
}

// next returns the next event that is not a progress notification.
func (wr *watchRun) next(t *testing.T) WatchEvent {
	t.Helper()
	for {
		if ev := wr.nextAny(t); ev.Type != EventProgress {
			return ev
		}
	}
}

func (wr *watchRun) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case ev := <-wr.ch:
			if ev.Type != EventProgress {
				t.Fatalf("unexpected event %s", fmtEvent(ev))
			}
		case <-deadline:
			return
		}
	}
}

func fmtEvent(ev WatchEvent) string {
	t := [...]string{"PUT", "DELETE", "EXPIRE", "PROGRESS"}[ev.Type]
	v := ""
	if ev.Value != nil {
		v = "=" + string(ev.Value)
	}
	return fmt.Sprintf("%s %d:%s%s", t, ev.DB, ev.Key, v)
}

func put(t *testing.T, s *Server, key, val string) uint64 {
	t.Helper()
	r, err := s.Put(context.Background(), PutRequest{Key: []byte(key), Value: []byte(val)})
	if err != nil || !r.Written {
		t.Fatalf("Put %s: %+v %v", key, r, err)
	}
	return r.Revision
}

// TestWatch_ReplayThenLiveNoGapsNoDuplicates: a watch from a point in the
// past replays the history, then follows writes that continue meanwhile;
// every acknowledged write is seen once, in revision order.
func TestWatch_ReplayThenLiveNoGapsNoDuplicates(t *testing.T) {
	s := watchSrv(t)
	start := s.CurrentToken()
	var mu sync.Mutex
	var acked []uint64
	write := func(i int) {
		rev := put(t, s, "k"+strconv.Itoa(i%7), strconv.Itoa(i))
		mu.Lock()
		acked = append(acked, rev)
		mu.Unlock()
	}
	for i := range 300 {
		write(i)
	}
	wr := startWatch(t, s, WatchRequest{IsPrefix: true, FromToken: start})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 300; i < 600; i++ {
			write(i)
		}
	}()
	var last uint64
	for i := range 600 {
		ev := wr.next(t)
		if ev.Type != EventPut || ev.Revision <= last || string(ev.Value) != strconv.Itoa(i) {
			t.Fatalf("event %d: %s rev %d after %d", i, fmtEvent(ev), ev.Revision, last)
		}
		last = ev.Revision
	}
	wg.Wait()
	mu.Lock()
	if acked[len(acked)-1] != last {
		t.Fatalf("last event rev %d, last ack %d", last, acked[len(acked)-1])
	}
	mu.Unlock()
	wr.quiet(t, 50*time.Millisecond)
}

// runMixed applies a mix of commands whose events exercise every mapping
// (several events per revision, SET EX, expiry, rename, flush, other
// types) and ends with a marker key.
func runMixed(t *testing.T, s *Server) {
	t.Helper()
	sc := srvDial(t, s, "127.0.0.1:5001")
	for _, cmd := range [][]string{
		{"MSET", "a", "1", "b", "2", "c", "3"},
		{"SET", "a", "x", "PX", "100000"},
		{"SKIFF.KV.PUT", "t", "v", "PX", "1"},
		{"HSET", "h", "f", "v"},
		{"RPUSH", "l", "x"},
		{"LPOP", "l"},
		{"RENAME", "b", "b2"},
		{"EXPIRE", "c", "1000"},
		{"expire t"},
		{"SKIFF.KV.TXN", "0", "2", "PUT", "d", "4", "0", "DEL", "a"},
		{"DEL", "c", "missing", "h"},
		{"FLUSHDB"},
		{"SET", "e", "5"},
		{"SELECT", "1"},
		{"SET", "other-db", "1"},
		{"SELECT", "0"},
	} {
		if cmd[0] == "expire t" {
			time.Sleep(5 * time.Millisecond) // t's deadline passes: expire it through the log
			if _, err := s.eng.Propose(context.Background(), &op.Op{Code: op.Expired, Args: [][]byte{[]byte("t")}}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got := sc.exec(cmd...); len(got) > 0 && got[0] == '-' {
			t.Fatalf("%q: %s", cmd, got)
		}
	}
	put(t, s, "zz-end", "marker")
}

func collectUntilMarker(t *testing.T, wr *watchRun) []WatchEvent {
	t.Helper()
	var out []WatchEvent
	for {
		ev := wr.next(t)
		out = append(out, ev)
		if string(ev.Key) == "zz-end" {
			return out
		}
	}
}

// TestWatch_EventMapping pins how the change feed becomes watch events.
func TestWatch_EventMapping(t *testing.T) {
	s := watchSrv(t)
	wr := startWatch(t, s, WatchRequest{IsPrefix: true})
	if ev := wr.nextAny(t); ev.Type != EventProgress || ev.Token == "" {
		t.Fatalf("first event %s, want the starting point's progress", fmtEvent(ev))
	}
	runMixed(t, s)
	var got []string
	for _, ev := range collectUntilMarker(t, wr) {
		got = append(got, fmtEvent(ev))
	}
	want := []string{
		"PUT 0:a=1", "PUT 0:b=2", "PUT 0:c=3",
		"PUT 0:a=x", // SET EX: one event
		"PUT 0:t=v",
		"PUT 0:h", "PUT 0:l", // other types: no value
		"PUT 0:l", "DELETE 0:l", // a pop that empties the list
		"DELETE 0:b", "PUT 0:b2=2",
		"PUT 0:c=3", // EXPIRE changes the key's revision
		"EXPIRE 0:t",
		"PUT 0:d=4", "DELETE 0:a", // one transaction
		"DELETE 0:c", "DELETE 0:h",
		"DELETE 0:", // FLUSHDB
		"PUT 0:e=5",
		"PUT 0:zz-end=marker",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("events:\n got %q\nwant %q", got, want)
	}
}

// TestWatch_ResumeFromEveryToken: a watch resumed from any event's token
// yields exactly the events after it that it matches, for every filter.
func TestWatch_ResumeFromEveryToken(t *testing.T) {
	s := watchSrv(t)
	start := s.CurrentToken()
	runMixed(t, s)
	all := collectUntilMarker(t, startWatch(t, s, WatchRequest{IsPrefix: true, FromToken: start}))
	if len(all) < 15 {
		t.Fatalf("only %d events", len(all))
	}
	for _, req := range []WatchRequest{{IsPrefix: true}, {IsPrefix: true, Key: []byte("b")}, {Key: []byte("c")}} {
		w := &watcher{key: req.Key, isPrefix: req.IsPrefix}
		for i := -1; i < len(all); i++ {
			req.FromToken, req.ProgressInterval = start, -1
			if i >= 0 {
				req.FromToken = all[i].Token
			}
			var want []string
			for _, ev := range all[i+1:] {
				e := histEvent{db: int32(ev.DB), key: ev.Key, whole: ev.Key == nil}
				if w.matches(&e) {
					want = append(want, fmtEvent(ev)+" "+ev.Token)
				}
			}
			wr := startWatch(t, s, req)
			var got []string
			for range want {
				ev := wr.next(t)
				got = append(got, fmtEvent(ev)+" "+ev.Token)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("%q from event %d:\n got %v\nwant %v", req.Key, i, got, want)
			}
			wr.quiet(t, 5*time.Millisecond)
		}
	}
}

func TestWatch_CompactedHistory(t *testing.T) {
	s := watchSrv(t)
	s.SetWatchOptions(WatchOptions{HistoryEvents: 10})
	start := s.CurrentToken()
	for i := range 30 {
		put(t, s, "k", strconv.Itoa(i))
	}
	err := s.Watch(context.Background(), WatchRequest{Key: []byte("k"), FromToken: start}, func(WatchEvent) error { return nil })
	var ce *CompactedError
	if !errors.As(err, &ce) || !errors.Is(err, ErrCompacted) {
		t.Fatalf("watch from a compacted token: %v", err)
	}
	wr := startWatch(t, s, WatchRequest{Key: []byte("k"), FromToken: ce.Oldest})
	for i := 20; i < 30; i++ {
		if ev := wr.next(t); string(ev.Value) != strconv.Itoa(i) {
			t.Fatalf("from the oldest token: %s, want value %d", fmtEvent(ev), i)
		}
	}
	// The byte bound compacts too.
	s.SetWatchOptions(WatchOptions{HistoryEvents: 10, HistoryBytes: 3 * (histOverhead + 2)})
	err = s.Watch(context.Background(), WatchRequest{Key: []byte("k"), FromToken: ce.Oldest}, func(WatchEvent) error { return nil })
	if !errors.Is(err, ErrCompacted) {
		t.Fatalf("after shrinking the history by bytes: %v", err)
	}
}

func TestWatch_KeyAndPrefixFilters(t *testing.T) {
	s := watchSrv(t)
	key := startWatch(t, s, WatchRequest{Key: []byte("a/1")})
	pre := startWatch(t, s, WatchRequest{Key: []byte("a/"), IsPrefix: true})
	db1 := startWatch(t, s, WatchRequest{DB: 1, IsPrefix: true})
	waitLive(t, s, 3) // a watch without a token starts when it goes live
	for _, k := range []string{"a/1", "b/1", "a/2", "a", "a/1"} {
		put(t, s, k, "v")
	}
	if _, err := s.Put(context.Background(), PutRequest{DB: 1, Key: []byte("a/1"), Value: []byte("db1")}); err != nil {
		t.Fatal(err)
	}
	sc := srvDial(t, s, "127.0.0.1:5001")
	sc.exec("FLUSHALL")
	put(t, s, "zz-end", "v")
	check := func(wr *watchRun, want ...string) {
		t.Helper()
		for _, w := range want {
			if got := fmtEvent(wr.next(t)); got != w {
				t.Fatalf("got %s, want %s", got, w)
			}
		}
		wr.quiet(t, 20*time.Millisecond)
	}
	check(key, "PUT 0:a/1=v", "PUT 0:a/1=v", "DELETE -1:")
	check(pre, "PUT 0:a/1=v", "PUT 0:a/2=v", "PUT 0:a/1=v", "DELETE -1:")
	check(db1, "PUT 1:a/1=db1", "DELETE -1:")
}

func TestWatch_BadRequests(t *testing.T) {
	s := watchSrv(t)
	put(t, s, "k", "v")
	good := s.CurrentToken()
	for _, req := range []WatchRequest{
		{Key: nil},
		{DB: 16, Key: []byte("k")},
		{DB: -1, IsPrefix: true},
		{Key: []byte("k"), FromToken: "!!"},
		{Key: []byte("k"), FromToken: good + "A"},
		{Key: []byte("k"), FromToken: good[:len(good)-1]},
		{Key: []byte("k"), FromToken: "Ag"},                        // version 2
		{Key: []byte("k"), FromToken: encodeToken(wpos{5, 1})[:3]}, // truncated
		{Key: []byte("k"), FromToken: "AQEBAQ"},                    // group 1
	} {
		err := s.Watch(context.Background(), req, func(WatchEvent) error { return nil })
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%+v: %v, want ErrInvalidArgument", req, err)
		}
	}
	for _, p := range []wpos{{0, 0}, {1, 7}, {1 << 40, allEvents}} {
		if got, err := decodeToken(encodeToken(p)); err != nil || got != p {
			t.Errorf("token round trip %v: %v %v", p, got, err)
		}
	}
}

// TestWatch_OverflowEndsWatch: a watcher that does not keep up is ended
// with ErrWatchOverflow and resumes from its last token without a gap.
func TestWatch_OverflowEndsWatch(t *testing.T) {
	s := watchSrv(t)
	s.SetWatchOptions(WatchOptions{QueueEvents: 8})
	release := make(chan struct{})
	var got []WatchEvent
	done := make(chan error, 1)
	go func() {
		done <- s.Watch(context.Background(), WatchRequest{Key: []byte("k")}, func(ev WatchEvent) error {
			if ev.Type == EventProgress {
				return nil
			}
			<-release // a client that does not read
			got = append(got, ev)
			return nil
		})
	}()
	waitLive(t, s, 1)
	for i := range 50 {
		put(t, s, "k", strconv.Itoa(i)) // apply never waits for the watcher
	}
	close(release)
	err := <-done
	if !errors.Is(err, ErrWatchOverflow) {
		t.Fatalf("slow watcher: %v, want ErrWatchOverflow", err)
	}
	// What it had taken before blocking, then a full queue.
	if len(got) == 0 || len(got) > 16 {
		t.Fatalf("slow watcher got %d events before its end", len(got))
	}
	for i, ev := range got {
		if string(ev.Value) != strconv.Itoa(i) {
			t.Fatalf("slow watcher's event %d: %s", i, fmtEvent(ev))
		}
	}
	wr := startWatch(t, s, WatchRequest{Key: []byte("k"), FromToken: got[len(got)-1].Token})
	for i := len(got); i < 50; i++ {
		if ev := wr.next(t); string(ev.Value) != strconv.Itoa(i) {
			t.Fatalf("resumed: %s, want %d", fmtEvent(ev), i)
		}
	}
}

// waitLive waits until n watchers are live.
func waitLive(t *testing.T, s *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h := &s.api.watch
		h.mu.Lock()
		live := len(h.mu.prefix)
		for _, ws := range h.mu.keys {
			live += len(ws)
		}
		h.mu.Unlock()
		if live == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d live watchers, want %d", live, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestWatch_ProgressNotifications(t *testing.T) {
	s := watchSrv(t)
	wr := startWatch(t, s, WatchRequest{IsPrefix: true, Key: []byte("w"), ProgressInterval: 20 * time.Millisecond})
	first := wr.nextAny(t)
	if first.Type != EventProgress {
		t.Fatalf("first: %s", fmtEvent(first))
	}
	put(t, s, "other", "v") // not watched: progress moves past it
	rev := put(t, s, "other", "v")
	var p WatchEvent
	for p.Revision < rev {
		if p = wr.nextAny(t); p.Type != EventProgress {
			t.Fatalf("idle watcher got %s", fmtEvent(p))
		}
	}
	if p.Token != s.CurrentToken() {
		t.Fatalf("progress token %q, current %q", p.Token, s.CurrentToken())
	}
	put(t, s, "w1", "v")
	if ev := wr.next(t); string(ev.Key) != "w1" {
		t.Fatalf("got %s", fmtEvent(ev))
	}
	// Resuming from a progress token sees only what came after it.
	wr2 := startWatch(t, s, WatchRequest{IsPrefix: true, FromToken: p.Token, ProgressInterval: -1})
	if ev := wr2.next(t); string(ev.Key) != "w1" {
		t.Fatalf("from progress token: %s", fmtEvent(ev))
	}
	select {
	case ev := <-wr2.ch:
		t.Fatalf("progress disabled, got %s", fmtEvent(ev))
	case <-time.After(50 * time.Millisecond):
	}
	// The watch ends when send fails, and leaves no live watcher behind.
	boom := errors.New("client gone")
	err := s.Watch(context.Background(), WatchRequest{Key: []byte("x")}, func(WatchEvent) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("send error: %v", err)
	}
	waitLive(t, s, 2)
}

// TestWatch_FutureTokenWaits: a token this node has not applied yet (a
// resume on a lagging replica) waits until it has.
func TestWatch_FutureTokenWaits(t *testing.T) {
	s := watchSrv(t)
	rev := put(t, s, "k", "0")
	future := encodeToken(wpos{rev + 2, allEvents})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := s.Watch(ctx, WatchRequest{Key: []byte("k"), FromToken: future}, func(WatchEvent) error { return nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("future token: %v", err)
	}
	wr := startWatch(t, s, WatchRequest{Key: []byte("k"), FromToken: future})
	put(t, s, "k", "1")
	put(t, s, "k", "2")
	put(t, s, "k", "3")
	if ev := wr.next(t); string(ev.Value) != "3" {
		t.Fatalf("after the future token: %s", fmtEvent(ev))
	}
}

// TestWatch_RestoreRestartsHistory: a snapshot restore (a "restore"
// ClassDB event) skips changes, so live watchers end with ErrCompacted,
// older tokens are compacted, and watching goes on from the restored point.
func TestWatch_RestoreRestartsHistory(t *testing.T) {
	s := watchSrv(t)
	old := s.CurrentToken()
	live := startWatch(t, s, WatchRequest{IsPrefix: true})
	waitLive(t, s, 1)
	put(t, s, "a", "1")
	if ev := live.next(t); string(ev.Key) != "a" {
		t.Fatalf("before the restore: %s", fmtEvent(ev))
	}
	rev := s.eng.Store().CurrentRevision()
	s.OnEvent(&store.Event{DB: -1, Class: store.ClassDB, Name: "restore", Rev: rev})
	select {
	case err := <-live.done:
		live.done <- err
		if !errors.Is(err, ErrCompacted) {
			t.Fatalf("live watcher after a restore: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("live watcher not ended by the restore")
	}
	err := s.Watch(context.Background(), WatchRequest{IsPrefix: true, FromToken: old}, func(WatchEvent) error { return nil })
	if !errors.Is(err, ErrCompacted) {
		t.Fatalf("token from before the restore: %v", err)
	}
	wr := startWatch(t, s, WatchRequest{IsPrefix: true, FromToken: s.CurrentToken()})
	put(t, s, "b", "2")
	if ev := wr.next(t); string(ev.Key) != "b" {
		t.Fatalf("after the restore: %s", fmtEvent(ev))
	}
}
