package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/skiffdb/skiff/internal/command"
	"github.com/skiffdb/skiff/internal/telemetry"
)

// DefaultMaxBodyBytes is the request body limit when Options.MaxBodyBytes is
// zero: a value up to 16 MiB (Redis allows 512 MB bulk strings, but a REST
// request of that size belongs in a stream of smaller writes).
const DefaultMaxBodyBytes int64 = 16 << 20

// Options configures a Handler.
type Options struct {
	// API is the keyspace API every request is translated onto. Required.
	API *command.Server
	// Logger receives internal errors (5xx answers other than 501/503);
	// nil discards.
	Logger *slog.Logger
	// Version is reported as info.version of the OpenAPI document.
	Version string
	// MaxBodyBytes limits request bodies; larger ones get 413 before the
	// API is called. Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Metrics receives each request's latency (metrics.go); nil = off.
	Metrics *telemetry.Metrics
}

// keyspace is the part of *command.Server the handlers call. It exists so
// translation tests can record what a request turns into; New always uses
// Options.API.
type keyspace interface {
	Get(ctx context.Context, req command.GetRequest) (command.KV, error)
	Put(ctx context.Context, req command.PutRequest) (command.PutResponse, error)
	Delete(ctx context.Context, req command.DeleteRequest) (command.DeleteResponse, error)
	Range(ctx context.Context, req command.RangeRequest) (command.RangeResponse, error)
	Watch(ctx context.Context, req command.WatchRequest, send func(command.WatchEvent) error) error
	ClusterInfo() (command.ClusterStatus, error)
	AddMember(id, raftAddr string) error
	RemoveMember(id string) error
	TransferLeader(id string) error
	Ready() (ok bool, reason string)
	CheckPassword(pass string) bool
}

// Handler serves the REST API. It is an http.Handler safe for concurrent
// use; the node mounts it as the whole handler of its HTTP server.
type Handler struct {
	api     keyspace
	log     *slog.Logger
	maxBody int64
	mux     *http.ServeMux
	routes  []route
	openapi []byte // the served document, info.version filled in

	// watchGrace is how long a watch may take to fail at its start (a
	// compacted or invalid token) and still be answered with a plain HTTP
	// error instead of an SSE error event.
	watchGrace time.Duration

	// ctx ends with Close: open watch streams end with it.
	ctx    context.Context
	cancel context.CancelFunc
}

// route is one registered (method, pattern) pair; routes lists them for the
// OpenAPI sync test.
type route struct {
	method string
	path   string // ServeMux pattern path, e.g. /v1/kv/{key...}
	h      http.HandlerFunc
}

// New returns a Handler over opts.API with every route registered.
func New(opts Options) *Handler {
	h := &Handler{
		api:        opts.API,
		log:        opts.Logger,
		maxBody:    opts.MaxBodyBytes,
		mux:        http.NewServeMux(),
		watchGrace: 50 * time.Millisecond,
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBodyBytes
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.openapi = openAPIDocument(opts.Version)
	h.routes = []route{
		{"GET", "/hello/{name}", h.hello},
		{"GET", "/healthz", h.healthz},
		{"GET", "/readyz", h.readyz},
		{"GET", "/v1/openapi.json", h.openAPI},
		{"GET", "/v1/dashboard", h.dashboardJSON},

		{"GET", "/v1/kv", h.kvRange},
		{"GET", "/v1/kv/{key...}", h.kvGet},
		{"PUT", "/v1/kv/{key...}", h.kvPut},
		{"DELETE", "/v1/kv/{key...}", h.kvDelete},
		{"GET", "/v1/watch", h.watch},

		{"POST", "/v1/queues/{queue}/messages", h.queueSend},
		{"POST", "/v1/queues/{queue}/receive", h.queueReceive},
		{"POST", "/v1/queues/{queue}/ack", h.queueAck},

		{"GET", "/v1/cluster", h.clusterGet},
		{"POST", "/v1/cluster/members", h.clusterAddMember},
		{"DELETE", "/v1/cluster/members/{id}", h.clusterRemoveMember},
		{"POST", "/v1/cluster/leader", h.clusterTransferLeader},
		{"GET", "/v1/backup", h.backup},
		{"POST", "/v1/restore", h.restore},
	}
	h.routes = instrument(h.routes, opts.Metrics)
	for _, rt := range h.routes {
		h.mux.HandleFunc(rt.method+" "+rt.path, rt.h)
	}
	h.mountDashboard() // the dashboard page and its assets (dashboard.go): HTML, not in the OpenAPI document
	return h
}

// Mux returns the ServeMux the routes are registered on, so the node can add
// more (/metrics, a dashboard) with its own patterns. Routes added there are
// served by ServeHTTP like the built-in ones (unknown paths and methods get
// this package's JSON errors) but are not in the OpenAPI document.
func (h *Handler) Mux() *http.ServeMux { return h.mux }

// Close ends every open watch stream (their clients see the stream end and
// an EventSource reconnects, elsewhere or later). The node calls it when the
// HTTP server shuts down (http.Server.RegisterOnShutdown): Shutdown does not
// cancel the contexts of running handlers. Requests after Close still work;
// new watches end immediately.
func (h *Handler) Close() { h.cancel() }

const kvPrefix = "/v1/kv/"

// ServeHTTP routes r through the mux. Two things happen first:
//
//   - A /v1/kv/ path is canonicalized so that any key survives routing:
//     ServeMux would clean "//", "/./" and "/../" out of a path (and redirect),
//     changing the key. The key is taken from the path exactly as sent
//     (percent-decoded once) and the request is routed with the key fully
//     percent-encoded, so "a//b", "a/../b" and "%2F" keys mean themselves.
//   - Requests no route matches get JSON errors (404 not_found, 405
//     method_not_allowed with Allow) instead of ServeMux's plain text.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.authorized(r) {
		// Basic first: a browser (the dashboard) then asks for the password.
		w.Header().Add("WWW-Authenticate", `Basic realm="skiff"`)
		w.Header().Add("WWW-Authenticate", `Bearer realm="skiff"`)
		writeJSON(w, http.StatusUnauthorized, errorBody(&apiError{status: http.StatusUnauthorized, code: "unauthenticated",
			msg: "NOAUTH: send 'Authorization: Bearer <requirepass>' (or HTTP basic auth with the password)"}))
		return
	}
	if ep := r.URL.EscapedPath(); strings.HasPrefix(ep, kvPrefix) {
		key, err := url.PathUnescape(ep[len(kvPrefix):])
		if err != nil {
			writeError(w, invalidf("the key in the path is not valid percent-encoding: %v", err))
			return
		}
		if canon := kvPrefix + escapeKey(key); canon != ep {
			r2 := new(http.Request)
			*r2 = *r
			u := *r.URL
			u.Path, u.RawPath = kvPrefix+key, canon
			r2.URL = &u
			r = r2
		}
	}
	if _, pattern := h.mux.Handler(r); pattern == "" {
		h.mux.ServeHTTP(&routeErrorWriter{ResponseWriter: w}, r)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// escapeKey percent-encodes every byte of key that may not appear as is in
// a path segment (RFC 3986 pchar: unreserved, sub-delims, ':' and '@' stay),
// and the dots of a key that is exactly "." or "..", so the result is one
// path segment that ServeMux neither splits nor cleans. Typical keys
// ("user:42", "a.b") come out unchanged, so their requests are not copied.
func escapeKey(key string) string {
	const hex = "0123456789ABCDEF"
	if key == "." || key == ".." {
		return strings.Repeat("%2E", len(key))
	}
	n := 0
	for i := 0; i < len(key); i++ {
		if !plainByte(key[i]) {
			n++
		}
	}
	if n == 0 {
		return key
	}
	b := make([]byte, 0, len(key)+2*n)
	for i := 0; i < len(key); i++ {
		c := key[i]
		if plainByte(c) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hex[c>>4], hex[c&15])
	}
	return string(b)
}

func plainByte(c byte) bool {
	if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
		return true
	}
	switch c {
	case '-', '_', '.', '~', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '@':
		return true
	}
	return false
}

// routeErrorWriter turns ServeMux's plain-text 404 and 405 answers (for
// requests no pattern matches) into JSON errors. Only used when no pattern
// matched, so handlers' own answers never pass through it.
type routeErrorWriter struct {
	http.ResponseWriter
	replaced bool
}

func (w *routeErrorWriter) WriteHeader(code int) {
	switch code {
	case http.StatusNotFound:
		w.replaced = true
		writeError(w.ResponseWriter, &apiError{status: code, code: "not_found", msg: "no such endpoint; see /v1/openapi.json"})
	case http.StatusMethodNotAllowed:
		w.replaced = true
		allow := w.Header().Get("Allow")
		writeError(w.ResponseWriter, &apiError{status: code, code: "method_not_allowed", msg: "method not allowed; allowed: " + allow})
	default:
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *routeErrorWriter) Write(b []byte) (int, error) {
	if w.replaced {
		return len(b), nil // ServeMux's text body: the JSON one is written
	}
	return w.ResponseWriter.Write(b)
}

func (w *routeErrorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// authorized checks the password when requirepass is set: "Authorization:
// Bearer <password>" or HTTP basic auth (any user, the password). The
// liveness and readiness probes and the greeting stay open.
func (h *Handler) authorized(r *http.Request) bool {
	switch p := r.URL.Path; {
	case p == "/healthz", p == "/readyz", strings.HasPrefix(p, "/hello/"):
		return true
	}
	pass, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		_, pass, _ = r.BasicAuth()
	}
	return h.api.CheckPassword(pass)
}
