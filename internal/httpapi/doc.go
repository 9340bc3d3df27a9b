// Package httpapi is skiff's REST/JSON front door on net/http ServeMux
// patterns: the keyspace (GET/PUT/DELETE /v1/kv/{key...}, GET /v1/kv for
// ranges), Watch as Server-Sent Events (GET /v1/watch), the queue endpoints
// (designed, answering 501 until Streams exist), cluster administration
// (/v1/cluster...), liveness and readiness (/healthz, /readyz), a greeting
// (/hello/{name}) and its own OpenAPI 3 document (/v1/openapi.json, kept in
// sync with the routes by a test).
//
// It is a thin translator (DESIGN.md principle 1): every request becomes one
// call of the keyspace API in internal/command (command.Server.Get, Put,
// Delete, Range, Watch, ClusterInfo ...), which runs through the same command
// table, routing, batching and error sentinels as RESP. Semantics and
// validation of keys and values live there; this package owns only HTTP
// concerns: path and query decoding, content negotiation, body limits,
// conditional requests (ETag, If-Match, If-None-Match), SSE framing and the
// one table mapping sentinel errors to HTTP statuses (errors.go).
//
// Encoding (see also the OpenAPI document):
//   - keys are arbitrary bytes, percent-encoded in paths and query strings;
//     raw-value GET and PUT of /v1/kv/{key...} are the binary-safe primary path;
//   - in JSON a key or value appears as "key"/"value" (a string) when its
//     bytes are valid UTF-8 and as "key_base64"/"value_base64" (standard
//     base64) otherwise; ?encoding=base64 makes every key and value base64.
//
// It imports internal/command, internal/engine and internal/store (for their
// error sentinels) and no networking beyond net/http; the node owns the
// listener and the http.Server (internal/node), and may add routes (metrics,
// a dashboard) through Handler.Mux.
package httpapi
