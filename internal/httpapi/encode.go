package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/skiffdb/skiff/internal/command"
)

// writeJSON answers v as JSON with status. HTML characters are not escaped
// (keys and values read back as they are).
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only unsupported types fail; every value here is plain data.
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":{"code":"internal","message":"encoding the answer failed"}}` + "\n")
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Content-Length", strconv.Itoa(buf.Len()))
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// readBody reads the whole request body, at most h.maxBody bytes (a larger
// one is a *http.MaxBytesError: 413).
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > h.maxBody {
		return nil, &http.MaxBytesError{Limit: h.maxBody}
	}
	body := http.MaxBytesReader(w, r.Body, h.maxBody)
	if r.ContentLength > 0 {
		buf := bytes.NewBuffer(make([]byte, 0, r.ContentLength+1))
		_, err := buf.ReadFrom(body)
		return buf.Bytes(), err
	}
	return io.ReadAll(body)
}

// decodeJSON decodes one JSON object from body into v, strictly: unknown
// fields and trailing data are errors (a typo in "if_revision" must not
// turn a conditional write into an unconditional one). An empty body
// decodes as {} when emptyOK.
func decodeJSON(body []byte, v any, emptyOK bool) error {
	if len(bytes.TrimSpace(body)) == 0 {
		if emptyOK {
			return nil
		}
		return invalidf("the request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalidf("the request body is not valid JSON for this endpoint: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return invalidf("the request body has data after the JSON object")
	}
	return nil
}

// isJSON reports whether a Content-Type names JSON (application/json or
// any application/*+json).
func isJSON(contentType string) bool {
	if contentType == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}

// wantsJSON reports whether the Accept header lists application/json (with
// a non-zero q). Wildcards do not count: raw bytes are the default answer.
func wantsJSON(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for _, part := range strings.Split(v, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil || mt != "application/json" {
				continue
			}
			if q, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
					continue
				}
			}
			return true
		}
	}
	return false
}

// query is a request's parsed query string with the parameter names an
// endpoint accepts. Unknown names and repeated names are errors, for the same
// reason as unknown JSON fields.
type query struct {
	v url.Values
}

func parseQuery(r *http.Request, allowed ...string) (query, error) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return query{}, invalidf("malformed query string: %v", err)
	}
	for name, vals := range v {
		ok := false
		for _, a := range allowed {
			if name == a {
				ok = true
				break
			}
		}
		if !ok {
			if len(allowed) == 0 {
				return query{}, invalidf("unknown query parameter %q: this endpoint takes none", name)
			}
			return query{}, invalidf("unknown query parameter %q (accepted: %s)", name, strings.Join(allowed, ", "))
		}
		if len(vals) > 1 {
			return query{}, invalidf("query parameter %q given more than once", name)
		}
	}
	return query{v: v}, nil
}

// has reports whether name was given (possibly empty).
func (q query) has(name string) bool { _, ok := q.v[name]; return ok }

func (q query) str(name string) string { return q.v.Get(name) }

// bytesOrNil returns the parameter's bytes, nil when absent.
func (q query) bytesOrNil(name string) []byte {
	if !q.has(name) {
		return nil
	}
	return []byte(q.v.Get(name))
}

// bool accepts true/false/1/0 (and an empty value as true: ?keys_only).
func (q query) bool(name string) (bool, error) {
	if !q.has(name) {
		return false, nil
	}
	switch s := q.v.Get(name); s {
	case "", "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	default:
		return false, invalidf("query parameter %s must be true or false, not %q", name, s)
	}
}

// uint returns a non-negative integer parameter (0 when absent).
func (q query) uint(name string) (uint64, error) {
	if !q.has(name) {
		return 0, nil
	}
	n, err := strconv.ParseUint(q.v.Get(name), 10, 64)
	if err != nil {
		return 0, invalidf("query parameter %s must be a non-negative integer, not %q", name, q.v.Get(name))
	}
	return n, nil
}

// db returns the database index (?db=N, default 0); the API checks the range.
func (q query) db() (int, error) {
	n, err := q.uint("db")
	if err != nil {
		return 0, err
	}
	if n > 1<<20 {
		return 0, invalidf("DB index is out of range")
	}
	return int(n), nil
}

// consistency maps ?consistency= to a read level: linearizable (the
// default), or stale / serializable (this node's own state).
func (q query) consistency() (command.Consistency, error) {
	switch s := q.str("consistency"); s {
	case "", "linearizable":
		return command.Linearizable, nil
	case "stale", "serializable":
		return command.Serializable, nil
	default:
		return 0, invalidf("consistency must be linearizable, stale or serializable, not %q", s)
	}
}

// base64Only reports ?encoding=base64 (every key and value in base64);
// ?encoding=auto is the default.
func (q query) base64Only() (bool, error) {
	switch s := q.str("encoding"); s {
	case "", "auto":
		return false, nil
	case "base64":
		return true, nil
	default:
		return false, invalidf("encoding must be auto or base64, not %q", s)
	}
}

// duration returns a positive duration parameter (0 when absent).
func (q query) duration(name string) (time.Duration, error) {
	if !q.has(name) {
		return 0, nil
	}
	return parseDuration(name, q.v.Get(name))
}

// parseDuration accepts a Go duration ("10s", "1m30s", "250ms") or a whole
// number of seconds ("10"); it must be positive.
func parseDuration(name, s string) (time.Duration, error) {
	var d time.Duration
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > int64(1<<62/time.Second) {
			return 0, invalidf("%s is too large", name)
		}
		d = time.Duration(n) * time.Second
	} else {
		d, err = time.ParseDuration(s)
		if err != nil {
			return 0, invalidf("%s must be a duration such as 10s, 1m30s or 250ms (or whole seconds), not %q", name, s)
		}
	}
	if d <= 0 {
		return 0, invalidf("%s must be positive, not %q", name, s)
	}
	return d, nil
}

// jsonDuration is a duration in a JSON body: a string as for parseDuration
// or a number of seconds (fractions allowed).
type jsonDuration struct {
	d   time.Duration
	set bool
}

func (j *jsonDuration) UnmarshalJSON(b []byte) error {
	j.set = true
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		d, err := parseDuration("a duration", s)
		if err != nil {
			return err
		}
		j.d = d
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return errors.New("a duration must be a string such as \"10s\" or a number of seconds")
	}
	if f <= 0 || f > float64(1<<62/time.Second) {
		return errors.New("a duration must be positive")
	}
	j.d = time.Duration(f * float64(time.Second))
	return nil
}

// The JSON scheme for bytes: a key or value whose bytes are valid UTF-8 is
// "key"/"value", a string; otherwise (or with ?encoding=base64 always) it is
// "key_base64"/"value_base64", standard base64 with padding. Exactly one of
// each pair is present. textOrBase64 fills such a pair.
func textOrBase64(b []byte, base64Only bool) (text, b64 *string) {
	if !base64Only && utf8.Valid(b) {
		s := string(b)
		return &s, nil
	}
	s := base64.StdEncoding.EncodeToString(b)
	return nil, &s
}

// fromTextOrBase64 is the inverse for request bodies: exactly one of the
// pair must be given.
func fromTextOrBase64(field string, text, b64 *string) ([]byte, error) {
	switch {
	case text != nil && b64 != nil:
		return nil, invalidf("give %s or %s_base64, not both", field, field)
	case text != nil:
		return []byte(*text), nil
	case b64 != nil:
		b, err := base64.StdEncoding.DecodeString(*b64)
		if err != nil {
			return nil, invalidf("%s_base64 is not valid base64: %v", field, err)
		}
		return b, nil
	default:
		return nil, invalidf("the request body needs %s (a string) or %s_base64", field, field)
	}
}

// Range cursors are the page's last key, base64url without padding: opaque
// to clients, safe in a query string.
func encodeCursor(key []byte) string { return base64.RawURLEncoding.EncodeToString(key) }

func decodeCursor(s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, invalidf("cursor is not one this server returned")
	}
	return b, nil
}
