package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/skiffdb/skiff/internal/command"
)

// Watch as Server-Sent Events (text/event-stream). Each change is one event:
//
//	id: <token>
//	event: put | delete | expire | progress
//	data: {"type":"put","key":"k","value":"v","revision":7,"token":"<token>"}
//
// The id is the watch's resume token, so a browser's EventSource that loses
// the connection reconnects with Last-Event-ID and continues exactly after
// the last event it saw. Progress events (every progress_interval while
// idle, 10 s by default) carry only a token: they advance Last-Event-ID and
// keep proxies from closing an idle stream.
//
// A watch that cannot start (a token older than the retained history, a
// malformed token) is answered with a plain JSON error: 410 compacted (with
// oldest_token) or 400. An error after the stream started is sent as a
// final "event: error" (data: the error object) before the stream ends.

// sseEventNames are the event: names of the API's event types.
var sseEventNames = map[command.EventType]string{
	command.EventPut:      "put",
	command.EventDelete:   "delete",
	command.EventExpire:   "expire",
	command.EventProgress: "progress",
}

// eventJSON is an event's data.
type eventJSON struct {
	Type        string  `json:"type"`
	DB          int     `json:"db,omitempty"`
	Key         *string `json:"key,omitempty"`
	KeyBase64   *string `json:"key_base64,omitempty"`
	Value       *string `json:"value,omitempty"`
	ValueBase64 *string `json:"value_base64,omitempty"`
	Revision    uint64  `json:"revision,omitempty"`
	Token       string  `json:"token"`
}

// watch: GET /v1/watch?key=k | prefix=p (neither: every key), from=<token>
// (or the Last-Event-ID header, which wins), progress_interval, db,
// encoding.
func (h *Handler) watch(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r, "key", "prefix", "from", "progress_interval", "db", "encoding")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var req command.WatchRequest
	var b64 bool
	switch {
	case q.has("key") && q.has("prefix"):
		err = invalidf("give key or prefix, not both")
	case q.has("key"):
		req.Key = q.bytesOrNil("key")
		if len(req.Key) == 0 {
			err = invalidf("key is empty (to watch every key give neither key nor prefix)")
		}
	default:
		req.Key, req.IsPrefix = q.bytesOrNil("prefix"), true
	}
	if err == nil {
		req.DB, err = q.db()
	}
	if err == nil {
		req.ProgressInterval, err = q.duration("progress_interval")
	}
	if err == nil {
		b64, err = q.base64Only()
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	req.FromToken = q.str("from")
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		req.FromToken = id
	}

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(h.ctx, cancel) // Close ends the stream
	defer stop()

	s := &sseStream{w: w, rc: http.NewResponseController(w), b64: b64}
	// Headers go out with the first event, or after the grace period if
	// nothing happens: until then a failing start can still be an HTTP error.
	t := time.AfterFunc(h.watchGrace, s.start)
	err = h.api.Watch(ctx, req, s.send)
	t.Stop()

	s.mu.Lock()
	defer s.mu.Unlock()
	s.done = true
	switch {
	case !s.started:
		if err == nil || ctx.Err() != nil && r.Context().Err() != nil {
			return // the client left before anything was sent
		}
		if ctx.Err() != nil {
			err = context.Canceled // Close: shutting down
		}
		h.fail(w, r, err)
	case err != nil && s.werr == nil && ctx.Err() == nil:
		e := toAPIError(err)
		if e.status == http.StatusInternalServerError {
			h.log.Error("watch failed", "err", err)
		}
		s.writeFrame("", "error", errorBody(e))
	}
}

// sseStream writes one watch's events. The watch goroutine (send) and the
// grace timer (start) share it under mu; after done nothing writes.
type sseStream struct {
	rc  *http.ResponseController
	b64 bool

	mu      sync.Mutex
	w       http.ResponseWriter
	started bool
	done    bool
	werr    error // the first write error: the client is gone
	buf     bytes.Buffer
}

// start sends the headers (once).
func (s *sseStream) start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.done {
		s.startLocked()
	}
}

func (s *sseStream) startLocked() {
	if s.started {
		return
	}
	s.started = true
	// A stream outlives any http.Server WriteTimeout: lift the deadline
	// (ErrNotSupported on writers without one is fine).
	_ = s.rc.SetWriteDeadline(time.Time{})
	hdr := s.w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	s.w.WriteHeader(http.StatusOK)
	// A comment opens the stream; retry asks EventSource to reconnect
	// after 1 s.
	if _, err := s.w.Write([]byte(": skiff watch\nretry: 1000\n\n")); err != nil {
		s.werr = err
		return
	}
	s.werr = s.rc.Flush()
}

// send is the Watch callback: one event, flushed. Its error (the client is
// gone) ends the watch.
func (s *sseStream) send(ev command.WatchEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return context.Canceled
	}
	s.startLocked()
	if s.werr != nil {
		return s.werr
	}
	name, ok := sseEventNames[ev.Type]
	if !ok {
		name = "unknown"
	}
	data := eventJSON{Type: name, DB: ev.DB, Revision: ev.Revision, Token: ev.Token}
	if ev.Type != command.EventProgress {
		data.Key, data.KeyBase64 = textOrBase64(ev.Key, s.b64)
		if ev.Type == command.EventPut {
			data.Value, data.ValueBase64 = textOrBase64(ev.Value, s.b64)
		}
	}
	s.writeFrame(ev.Token, name, data)
	return s.werr
}

// writeFrame writes one event (id omitted when empty or not representable)
// and flushes. The caller holds mu.
func (s *sseStream) writeFrame(id, event string, data any) {
	if s.werr != nil {
		return
	}
	b := &s.buf
	b.Reset()
	if id != "" && !strings.ContainsAny(id, "\r\n\x00") {
		b.WriteString("id: ")
		b.WriteString(id)
		b.WriteByte('\n')
	}
	b.WriteString("event: ")
	b.WriteString(event)
	b.WriteString("\ndata: ")
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(data); err != nil { // ends with '\n', no other newline
		s.werr = err
		return
	}
	b.WriteByte('\n')
	if _, err := s.w.Write(b.Bytes()); err != nil {
		s.werr = err
		return
	}
	s.werr = s.rc.Flush()
}
