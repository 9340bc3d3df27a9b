package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/skiffdb/skiff/internal/command"
	"github.com/skiffdb/skiff/internal/engine"
)

// sseFrame is one parsed Server-Sent Event.
type sseFrame struct {
	id, event, data string
	hasID           bool
}

// sseConn is an open watch stream read like an EventSource does.
type sseConn struct {
	t      *testing.T
	resp   *http.Response
	r      *bufio.Reader
	cancel context.CancelFunc
}

// openWatch starts GET path with headers and checks it is a stream.
func (e *env) openWatch(path string, hdr ...string) *sseConn {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	req, err := http.NewRequestWithContext(ctx, "GET", e.ts.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.c.Do(req)
	if err != nil {
		cancel()
		e.t.Fatal(err)
	}
	c := &sseConn{t: e.t, resp: resp, r: bufio.NewReader(resp.Body), cancel: cancel}
	e.t.Cleanup(c.close)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		b, _ := io.ReadAll(resp.Body)
		e.t.Fatalf("watch %s: %d %q %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	return c
}

func (c *sseConn) close() {
	c.cancel()
	c.resp.Body.Close()
}

// next returns the next event (skipping comment- and retry-only blocks);
// io.EOF when the stream ended.
func (c *sseConn) next() (sseFrame, error) {
	for {
		var f sseFrame
		any := false
		for {
			line, err := c.r.ReadString('\n')
			if err != nil {
				return f, io.EOF
			}
			line = strings.TrimSuffix(line, "\n")
			if line == "" {
				break
			}
			if strings.HasPrefix(line, ":") {
				continue
			}
			name, val, _ := strings.Cut(line, ":")
			val = strings.TrimPrefix(val, " ")
			switch name {
			case "id":
				f.id, f.hasID, any = val, true, true
			case "event":
				f.event, any = val, true
			case "data":
				if f.data != "" {
					f.data += "\n"
				}
				f.data, any = f.data+val, true
			case "retry":
			default:
				c.t.Errorf("unknown SSE field %q", line)
			}
		}
		if any {
			return f, nil
		}
	}
}

// mustNext returns the next event and its data decoded; skip progress
// events unless wanted.
func (c *sseConn) mustNext(progress bool) (sseFrame, eventJSON) {
	c.t.Helper()
	for {
		f, err := c.next()
		if err != nil {
			c.t.Fatalf("stream ended: %v", err)
		}
		var ev eventJSON
		if f.event != "error" {
			if err := json.Unmarshal([]byte(f.data), &ev); err != nil {
				c.t.Fatalf("event data %q: %v", f.data, err)
			}
			if ev.Type != f.event || ev.Token != f.id || !f.hasID {
				c.t.Fatalf("frame id %q event %q, data %+v", f.id, f.event, ev)
			}
		}
		if f.event == "progress" && !progress {
			continue
		}
		return f, ev
	}
}

func TestWatch_SSEFramingAndResume(t *testing.T) {
	backends(t, true, func(t *testing.T, e *env) {
		w := e.openWatch("/v1/watch?prefix=w%2F")
		if cc := w.resp.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("Cache-Control %q", cc)
		}
		e.do("PUT", kvPath("w/a"), []byte("1"))
		e.do("PUT", kvPath("other"), []byte("x")) // not watched
		e.do("PUT", kvPath("w/\xff"), []byte{0, 0xff})
		e.do("DELETE", kvPath("w/a"), nil)

		f1, ev1 := w.mustNext(false)
		if f1.event != "put" || ev1.Key == nil || *ev1.Key != "w/a" || ev1.Value == nil || *ev1.Value != "1" || ev1.Revision == 0 {
			t.Fatalf("first event %+v %+v", f1, ev1)
		}
		f2, ev2 := w.mustNext(false)
		if f2.event != "put" || ev2.Key != nil || string(bytesOf(t, ev2.Key, ev2.KeyBase64)) != "w/\xff" ||
			string(bytesOf(t, ev2.Value, ev2.ValueBase64)) != "\x00\xff" || ev2.Revision <= ev1.Revision {
			t.Fatalf("second event %+v %+v", f2, ev2)
		}
		f3, ev3 := w.mustNext(false)
		if f3.event != "delete" || *ev3.Key != "w/a" || ev3.Value != nil || ev3.ValueBase64 != nil || ev3.Revision <= ev2.Revision {
			t.Fatalf("third event %+v %+v", f3, ev3)
		}
		w.close()

		// An EventSource reconnects with Last-Event-ID: the events after it
		// are replayed, without gaps or duplicates.
		e.do("PUT", kvPath("w/b"), []byte("2"))
		r := e.openWatch("/v1/watch?prefix=w%2F", "Last-Event-ID", f1.id)
		for _, want := range []string{f2.id, f3.id} {
			if f, _ := r.mustNext(false); f.id != want {
				t.Fatalf("resumed event id %q, want %q", f.id, want)
			}
		}
		if f, ev := r.mustNext(false); f.event != "put" || *ev.Key != "w/b" {
			t.Fatalf("event after the resume point: %+v %+v", f, ev)
		}
		r.close()

		// ?from= works the same; Last-Event-ID wins over it.
		r = e.openWatch("/v1/watch?prefix=w%2F&from="+f2.id, "Last-Event-ID", f1.id)
		if f, _ := r.mustNext(false); f.id != f2.id {
			t.Fatalf("Last-Event-ID did not win over from: got %q", f.id)
		}
		r.close()
		r = e.openWatch("/v1/watch?prefix=w%2F&from=" + f2.id)
		if f, _ := r.mustNext(false); f.id != f3.id {
			t.Fatalf("from: got %q, want %q", f.id, f3.id)
		}
		r.close()

		// One key.
		k := e.openWatch("/v1/watch?key=" + pct("w/\xff") + "&encoding=base64")
		e.do("PUT", kvPath("w/b"), []byte("3"))
		e.do("PUT", kvPath("w/\xff"), []byte("4"))
		if f, ev := k.mustNext(false); f.event != "put" || ev.Key != nil || string(bytesOf(t, ev.Key, ev.KeyBase64)) != "w/\xff" || ev.Value != nil {
			t.Fatalf("key watch %+v %+v", f, ev)
		}
	})
}

func TestWatch_Progress(t *testing.T) {
	backends(t, true, func(t *testing.T, e *env) {
		if _, ok := e.h.api.(*fakeAPI); ok {
			f := e.h.api.(*fakeAPI)
			f.watchFn = func(ctx context.Context, req command.WatchRequest, send func(command.WatchEvent) error) error {
				if req.ProgressInterval != 100*time.Millisecond {
					t.Errorf("progress interval %v", req.ProgressInterval)
				}
				if err := send(command.WatchEvent{Type: command.EventProgress, Token: "17"}); err != nil {
					return err
				}
				<-ctx.Done()
				return ctx.Err()
			}
		}
		w := e.openWatch("/v1/watch?progress_interval=100ms")
		f, ev := w.mustNext(true)
		if f.event != "progress" || ev.Key != nil || ev.Token == "" || f.id != ev.Token {
			t.Fatalf("progress event %+v %+v", f, ev)
		}
	})
}

func TestWatch_StartErrors(t *testing.T) {
	f := newFakeAPI()
	e := newEnv(t, f, Options{})
	f.mu.Lock()
	f.oldest = 10
	f.mu.Unlock()
	d := e.do("GET", "/v1/watch?from=3", nil).errorCode(t, 410, codeCompacted)
	if d.OldestToken != "10" || d.OldestRevision != 10 {
		t.Fatalf("compacted answer %+v", d)
	}
	e.do("GET", "/v1/watch", nil, "Last-Event-ID", "3").errorCode(t, 410, codeCompacted)
	e.do("GET", "/v1/watch?from=bogus", nil).errorCode(t, 400, codeInvalidArgument)

	for _, bad := range []string{
		"/v1/watch?key=a&prefix=b",
		"/v1/watch?key=",
		"/v1/watch?progress_interval=0",
		"/v1/watch?progress_interval=often",
		"/v1/watch?encoding=hex",
		"/v1/watch?db=x",
		"/v1/watch?keys=a",
	} {
		e.do("GET", bad, nil).errorCode(t, 400, codeInvalidArgument)
	}

	// Translation.
	f.watchFn = func(ctx context.Context, req command.WatchRequest, send func(command.WatchEvent) error) error {
		return command.ErrUnimplemented
	}
	e.do("GET", "/v1/watch?key=k&db=2&from=5", nil).errorCode(t, 501, codeUnimplemented)
	if w := f.lastWatch; string(w.Key) != "k" || w.IsPrefix || w.DB != 2 || w.FromToken != "5" {
		t.Errorf("key watch -> %+v", w)
	}
	e.do("GET", "/v1/watch", nil)
	if w := f.lastWatch; len(w.Key) != 0 || !w.IsPrefix || w.FromToken != "" {
		t.Errorf("watch everything -> %+v", w)
	}
	e.do("GET", "/v1/watch?prefix=p%00", nil)
	if w := f.lastWatch; string(w.Key) != "p\x00" || !w.IsPrefix {
		t.Errorf("prefix watch -> %+v", w)
	}
}

func TestWatch_ErrorAfterStart(t *testing.T) {
	f := newFakeAPI()
	e := newEnv(t, f, Options{})
	f.watchFn = func(ctx context.Context, req command.WatchRequest, send func(command.WatchEvent) error) error {
		if err := send(command.WatchEvent{Type: command.EventPut, Key: []byte("k"), Value: []byte("v"), Revision: 4, Token: "4"}); err != nil {
			return err
		}
		return engine.ErrNoLeader
	}
	w := e.openWatch("/v1/watch")
	if fr, ev := w.mustNext(false); fr.event != "put" || fr.id != "4" || ev.Revision != 4 {
		t.Fatalf("event %+v %+v", fr, ev)
	}
	fr, err := w.next()
	if err != nil || fr.event != "error" || fr.hasID {
		t.Fatalf("error frame %+v %v", fr, err)
	}
	var ej errorJSON
	if err := json.Unmarshal([]byte(fr.data), &ej); err != nil || ej.Error.Code != codeUnavailable {
		t.Fatalf("error data %q: %v", fr.data, err)
	}
	if _, err := w.next(); !errors.Is(err, io.EOF) {
		t.Fatalf("stream did not end after the error: %v", err)
	}
}

// TestWatch_HeadersWithoutEvents: an idle watch still opens (the client's
// EventSource fires open) after the grace period.
func TestWatch_HeadersWithoutEvents(t *testing.T) {
	f := newFakeAPI()
	e := newEnv(t, f, Options{})
	w := e.openWatch("/v1/watch?prefix=none")
	// Then an event arrives on the open stream.
	e.do("PUT", kvPath("none1"), []byte("x"))
	if fr, ev := w.mustNext(false); fr.event != "put" || *ev.Key != "none1" {
		t.Fatalf("event %+v %+v", fr, ev)
	}
}

// TestWatch_CloseEndsStreams: Handler.Close (server shutdown) ends open
// streams, and new watches are refused with 503.
func TestWatch_CloseEndsStreams(t *testing.T) {
	f := newFakeAPI()
	e := newEnv(t, f, Options{})
	w := e.openWatch("/v1/watch")
	done := make(chan error, 1)
	go func() {
		_, err := w.next()
		done <- err
	}()
	e.h.Close()
	select {
	case err := <-done:
		if !errors.Is(err, io.EOF) {
			t.Fatalf("after Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("stream still open after Close")
	}
	e.do("GET", "/v1/watch", nil).errorCode(t, 503, codeUnavailable)
	// Other requests still work.
	if a := e.do("GET", "/healthz", nil); a.status != 200 {
		t.Fatalf("healthz after Close: %d", a.status)
	}
}

// TestWatch_ClientGone: a client that disconnects ends the watch (its send
// fails or its context ends) and the handler returns.
func TestWatch_ClientGone(t *testing.T) {
	f := newFakeAPI()
	ended := make(chan error, 1)
	f.watchFn = func(ctx context.Context, req command.WatchRequest, send func(command.WatchEvent) error) error {
		var err error
		for i := 0; err == nil; i++ {
			select {
			case <-ctx.Done():
				err = ctx.Err()
			case <-time.After(5 * time.Millisecond):
				err = send(command.WatchEvent{Type: command.EventProgress, Token: "1"})
			}
		}
		ended <- err
		return err
	}
	e := newEnv(t, f, Options{})
	w := e.openWatch("/v1/watch")
	w.mustNext(true)
	w.close()
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the watch did not end after the client left")
	}
}

// TestWatch_BadToken: a token this server never issued is 400 before any
// stream starts.
func TestWatch_BadToken(t *testing.T) {
	backends(t, true, func(t *testing.T, e *env) {
		e.do("GET", "/v1/watch?from=not-a-token", nil).errorCode(t, 400, codeInvalidArgument)
		e.do("GET", "/v1/watch", nil, "Last-Event-ID", "not-a-token").errorCode(t, 400, codeInvalidArgument)
	})
}

// TestWatch_Compacted: resuming before the retained history is 410 with the
// oldest token, from which a watch resumes.
func TestWatch_Compacted(t *testing.T) {
	backends(t, true, func(t *testing.T, e *env) {
		w := e.openWatch("/v1/watch?prefix=c")
		e.do("PUT", kvPath("c0"), []byte("0"))
		first, _ := w.mustNext(false)
		w.close()
		for i := 1; i <= 20; i++ {
			e.do("PUT", kvPath(fmt.Sprintf("c%d", i)), []byte("x"))
		}
		switch api := e.h.api.(type) {
		case *fakeAPI:
			api.mu.Lock()
			api.oldest = api.rev - 3
			api.mu.Unlock()
		case *command.Server:
			api.SetWatchOptions(command.WatchOptions{HistoryEvents: 3})
		}
		d := e.do("GET", "/v1/watch?prefix=c", nil, "Last-Event-ID", first.id).errorCode(t, 410, codeCompacted)
		if d.OldestToken == "" || d.OldestRevision == 0 {
			t.Fatalf("compacted answer without the oldest point: %+v", d)
		}
		r := e.openWatch("/v1/watch?prefix=c&from=" + url.QueryEscape(d.OldestToken))
		if f, ev := r.mustNext(false); f.event != "put" || ev.Revision <= d.OldestRevision {
			t.Fatalf("resumed from the oldest token: %+v %+v", f, ev)
		}
	})
}

// TestWatch_OutlivesWriteTimeout: a server's WriteTimeout does not cut a
// watch stream.
func TestWatch_OutlivesWriteTimeout(t *testing.T) {
	f := newFakeAPI()
	h := New(Options{})
	h.api = f
	ts := httptest.NewUnstartedServer(h)
	ts.Config.WriteTimeout = 200 * time.Millisecond
	ts.Start()
	t.Cleanup(func() {
		h.Close()
		ts.Close()
	})
	e := &env{t: t, h: h, ts: ts, c: ts.Client()}
	w := e.openWatch("/v1/watch")
	time.Sleep(400 * time.Millisecond)
	e.do("PUT", kvPath("late"), []byte("x"))
	if fr, ev := w.mustNext(false); fr.event != "put" || *ev.Key != "late" {
		t.Fatalf("event %+v %+v", fr, ev)
	}
}
