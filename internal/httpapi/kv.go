package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/skiffdb/skiff/internal/command"
)

// Headers of a key's answers. The ETag is the key's revision, quoted (a
// strong validator: a revision names exactly one value).
const (
	hdrRevision = "Skiff-Revision"  // the key's revision
	hdrExpireAt = "Skiff-Expire-At" // the key's deadline, unix ms (absent: none)
)

// kvJSON is one key in JSON answers (GET with Accept: application/json, and
// each entry of a range).
type kvJSON struct {
	Key         *string `json:"key,omitempty"`
	KeyBase64   *string `json:"key_base64,omitempty"`
	Value       *string `json:"value,omitempty"`
	ValueBase64 *string `json:"value_base64,omitempty"`
	Revision    uint64  `json:"revision"`
	ExpireAt    int64   `json:"expire_at,omitempty"`
}

func toKVJSON(kv command.KV, keysOnly, base64Only bool) kvJSON {
	j := kvJSON{Revision: kv.Revision, ExpireAt: kv.ExpireAt}
	j.Key, j.KeyBase64 = textOrBase64(kv.Key, base64Only)
	if !keysOnly {
		j.Value, j.ValueBase64 = textOrBase64(kv.Value, base64Only)
	}
	return j
}

func etag(rev uint64) string { return `"` + strconv.FormatUint(rev, 10) + `"` }

// pathKey returns the key of a /v1/kv/{key...} request (ServeHTTP has
// canonicalized the path, so this is exactly the bytes the client encoded).
func pathKey(r *http.Request) ([]byte, error) {
	k := r.PathValue("key")
	if k == "" {
		return nil, invalidf("the key is empty: use /v1/kv/{key} with a percent-encoded key, or GET /v1/kv to list keys")
	}
	return []byte(k), nil
}

// kvGet: GET /v1/kv/{key...}. The raw value (application/octet-stream) with
// ETag, Skiff-Revision and Skiff-Expire-At; JSON when Accept lists
// application/json. If-None-Match with the current ETag answers 304.
func (h *Handler) kvGet(w http.ResponseWriter, r *http.Request) {
	q, key, ok := h.keyQuery(w, r, "consistency", "db", "encoding")
	if !ok {
		return
	}
	req := command.GetRequest{Key: key}
	b64, err := q.base64Only()
	if err == nil {
		req.DB, err = q.db()
	}
	if err == nil {
		req.Consistency, err = q.consistency()
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	kv, err := h.api.Get(r.Context(), req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	tag := etag(kv.Revision)
	hdr := w.Header()
	hdr.Set("ETag", tag)
	hdr.Set(hdrRevision, strconv.FormatUint(kv.Revision, 10))
	if kv.ExpireAt > 0 {
		hdr.Set(hdrExpireAt, strconv.FormatInt(kv.ExpireAt, 10))
	}
	hdr.Set("Cache-Control", "no-cache")
	hdr.Add("Vary", "Accept")
	if etagListMatches(r.Header.Get("If-None-Match"), tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, toKVJSON(kv, false, b64))
		return
	}
	hdr.Set("Content-Type", "application/octet-stream")
	hdr.Set("Content-Length", strconv.Itoa(len(kv.Value)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(kv.Value)
}

// putJSON is the JSON form of a PUT body (Content-Type: application/json).
type putJSON struct {
	Value       *string      `json:"value"`
	ValueBase64 *string      `json:"value_base64"`
	TTL         jsonDuration `json:"ttl"`
}

// writeResultJSON is the answer of a successful PUT or DELETE.
type writeResultJSON struct {
	Revision uint64 `json:"revision"`
}

// kvPut: PUT /v1/kv/{key...}. The body is the raw value, or with
// Content-Type: application/json {"value"|"value_base64", "ttl"}.
// Conditions: ?if_revision=N or If-Match: "N" (compare-and-set),
// ?if_absent=true or If-None-Match: * (create only); when one fails the
// answer is 412 with the key's current revision.
func (h *Handler) kvPut(w http.ResponseWriter, r *http.Request) {
	q, key, ok := h.keyQuery(w, r, "ttl", "if_revision", "if_absent", "db")
	if !ok {
		return
	}
	var err error
	req := command.PutRequest{Key: key}
	if req.DB, err = q.db(); err == nil {
		req.TTL, err = q.duration("ttl")
	}
	if err == nil {
		req.IfRevision, err = ifRevision(q, r)
	}
	if err == nil {
		req.IfAbsent, err = ifAbsent(q, r)
	}
	if err == nil && req.IfAbsent && req.IfRevision != 0 {
		err = invalidf("if_absent and if_revision (If-Match) exclude each other")
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	body, err := h.readBody(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if isJSON(r.Header.Get("Content-Type")) {
		var pj putJSON
		if err := decodeJSON(body, &pj, false); err != nil {
			h.fail(w, r, err)
			return
		}
		if req.Value, err = fromTextOrBase64("value", pj.Value, pj.ValueBase64); err != nil {
			h.fail(w, r, err)
			return
		}
		if pj.TTL.set {
			if q.has("ttl") {
				h.fail(w, r, invalidf("ttl is given both in the query and in the body"))
				return
			}
			req.TTL = pj.TTL.d
		}
	} else {
		req.Value = body
	}
	res, err := h.api.Put(r.Context(), req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !res.Written {
		rev := res.Revision
		w.Header().Set("ETag", etag(rev))
		msg := "the key exists (if_absent)"
		if req.IfRevision != 0 {
			msg = "the key's revision is " + strconv.FormatUint(rev, 10) + ", not " + strconv.FormatUint(req.IfRevision, 10) + " (if_revision)"
		}
		writeError(w, &apiError{status: http.StatusPreconditionFailed, code: codePreconditionFailed, msg: msg, revision: &rev})
		return
	}
	w.Header().Set("ETag", etag(res.Revision))
	w.Header().Set(hdrRevision, strconv.FormatUint(res.Revision, 10))
	writeJSON(w, http.StatusOK, writeResultJSON{Revision: res.Revision})
}

// kvDelete: DELETE /v1/kv/{key...}, optionally ?if_revision=N or If-Match.
// 404 when there is no such key; 412 (with the current revision, 0 when
// absent) when the condition fails.
func (h *Handler) kvDelete(w http.ResponseWriter, r *http.Request) {
	q, key, ok := h.keyQuery(w, r, "if_revision", "db")
	if !ok {
		return
	}
	var err error
	req := command.DeleteRequest{Key: key}
	if req.DB, err = q.db(); err == nil {
		req.IfRevision, err = ifRevision(q, r)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	res, err := h.api.Delete(r.Context(), req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if !res.Deleted {
		if req.IfRevision == 0 {
			h.fail(w, r, command.ErrNotFound)
			return
		}
		// The answer names the current revision: read it (best effort).
		e := &apiError{status: http.StatusPreconditionFailed, code: codePreconditionFailed,
			msg: "the key's revision is not " + strconv.FormatUint(req.IfRevision, 10) + " (if_revision)"}
		kv, gerr := h.api.Get(r.Context(), command.GetRequest{DB: req.DB, Key: key})
		switch {
		case gerr == nil:
			e.revision = &kv.Revision
			e.msg = "the key's revision is " + strconv.FormatUint(kv.Revision, 10) + ", not " + strconv.FormatUint(req.IfRevision, 10) + " (if_revision)"
			w.Header().Set("ETag", etag(kv.Revision))
		case errors.Is(gerr, command.ErrNotFound):
			zero := uint64(0)
			e.revision = &zero
			e.msg = "the key does not exist (if_revision " + strconv.FormatUint(req.IfRevision, 10) + ")"
		}
		writeError(w, e)
		return
	}
	w.Header().Set(hdrRevision, strconv.FormatUint(res.Revision, 10))
	writeJSON(w, http.StatusOK, writeResultJSON{Revision: res.Revision})
}

// ifRevision reads the compare-and-set revision from ?if_revision or
// If-Match (a single ETag as this server sends, "N"); both must agree.
func ifRevision(q query, r *http.Request) (uint64, error) {
	rev, err := q.uint("if_revision")
	if err != nil {
		return 0, err
	}
	if q.has("if_revision") && rev == 0 {
		return 0, invalidf("if_revision must be positive (to create a key only when absent use if_absent=true)")
	}
	im := strings.TrimSpace(r.Header.Get("If-Match"))
	if im == "" {
		return rev, nil
	}
	if im == "*" {
		return 0, invalidf("If-Match: * is not supported; use If-Match with the key's ETag or if_revision")
	}
	s := strings.TrimPrefix(im, "W/")
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return 0, invalidf("If-Match must be one ETag as this server sends it (\"<revision>\"), not %q", im)
	}
	hrev, perr := strconv.ParseUint(s[1:len(s)-1], 10, 64)
	if perr != nil || hrev == 0 {
		return 0, invalidf("If-Match must be one ETag as this server sends it (\"<revision>\"), not %q", im)
	}
	if rev != 0 && rev != hrev {
		return 0, invalidf("if_revision %d and If-Match %s disagree", rev, im)
	}
	return hrev, nil
}

// ifAbsent reads ?if_absent or If-None-Match: * (the only If-None-Match a
// write accepts).
func ifAbsent(q query, r *http.Request) (bool, error) {
	v, err := q.bool("if_absent")
	if err != nil {
		return false, err
	}
	switch inm := strings.TrimSpace(r.Header.Get("If-None-Match")); inm {
	case "":
		return v, nil
	case "*":
		if q.has("if_absent") && !v {
			return false, invalidf("if_absent=false and If-None-Match: * disagree")
		}
		return true, nil
	default:
		return false, invalidf("a PUT accepts only If-None-Match: * (create only), not %q", inm)
	}
}

// etagListMatches reports whether an If-None-Match list names tag (weak
// comparison, as RFC 9110 asks for If-None-Match).
func etagListMatches(list, tag string) bool {
	if list == "" {
		return false
	}
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == tag {
			return true
		}
	}
	return false
}

// rangeJSON is the answer of GET /v1/kv.
type rangeJSON struct {
	KVs        []kvJSON `json:"kvs"`
	More       bool     `json:"more"`
	NextCursor string   `json:"next_cursor,omitempty"`
	Revision   uint64   `json:"revision"`
}

// maxRangeLimit is the largest page (the API's cap); limit 0 asks for the
// API's default page of 1000.
const maxRangeLimit = 10000

// kvRange: GET /v1/kv?prefix=p | start=a&end=b, limit, cursor, keys_only,
// consistency, db, encoding. Keys in byte order; next_cursor (when more)
// continues after this page.
func (h *Handler) kvRange(w http.ResponseWriter, r *http.Request) {
	q, err := parseQuery(r, "prefix", "start", "end", "cursor", "limit", "keys_only", "consistency", "db", "encoding")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	req := command.RangeRequest{Prefix: q.bytesOrNil("prefix"), Start: q.bytesOrNil("start"), End: q.bytesOrNil("end")}
	if q.has("prefix") && (q.has("start") || q.has("end")) {
		h.fail(w, r, invalidf("give prefix, or start and end, not both"))
		return
	}
	var b64 bool
	limit, err := q.uint("limit")
	if err == nil && limit > maxRangeLimit {
		err = invalidf("limit must be at most %d", maxRangeLimit)
	}
	req.Limit = int(limit)
	if err == nil && q.has("cursor") {
		req.After, err = decodeCursor(q.str("cursor"))
	}
	if err == nil {
		req.KeysOnly, err = q.bool("keys_only")
	}
	if err == nil {
		req.DB, err = q.db()
	}
	if err == nil {
		req.Consistency, err = q.consistency()
	}
	if err == nil {
		b64, err = q.base64Only()
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	res, err := h.api.Range(r.Context(), req)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := rangeJSON{KVs: make([]kvJSON, 0, len(res.KVs)), More: res.More, Revision: res.Revision}
	for _, kv := range res.KVs {
		out.KVs = append(out.KVs, toKVJSON(kv, req.KeysOnly, b64))
	}
	if res.More && len(res.KVs) > 0 {
		out.NextCursor = encodeCursor(res.KVs[len(res.KVs)-1].Key)
	}
	writeJSON(w, http.StatusOK, out)
}

// keyQuery parses the query string (allowing only names) and the key in
// the path of a /v1/kv/{key...} request; on failure it has answered.
func (h *Handler) keyQuery(w http.ResponseWriter, r *http.Request, names ...string) (query, []byte, bool) {
	q, err := parseQuery(r, names...)
	if err == nil {
		var key []byte
		if key, err = pathKey(r); err == nil {
			return q, key, true
		}
	}
	h.fail(w, r, err)
	return query{}, nil, false
}
