package httpapi

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skiffdb/skiff/internal/command"
	"github.com/skiffdb/skiff/internal/engine"
	"github.com/skiffdb/skiff/internal/resp"
	"github.com/skiffdb/skiff/internal/store"
)

// pct percent-encodes every byte of s except ASCII letters and digits (an
// encoder independent of the handler's).
func pct(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func kvPath(key string) string { return "/v1/kv/" + pct(key) }

// bytesOf returns a JSON key/value pair's bytes.
func bytesOf(t *testing.T, text, b64 *string) []byte {
	t.Helper()
	switch {
	case text != nil && b64 != nil:
		t.Fatalf("both text %q and base64 %q", *text, *b64)
	case text != nil:
		return []byte(*text)
	case b64 != nil:
		b, err := base64.StdEncoding.DecodeString(*b64)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	t.Fatal("neither text nor base64")
	return nil
}

func allBytes() string {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return string(b)
}

// binaryKeys are keys that must round-trip exactly through paths, query
// strings and JSON.
var binaryKeys = []string{
	allBytes(),
	"plain",
	"a/b",
	"a//b",
	"/leading",
	"trailing/",
	"a/../b",
	"a/./b",
	".",
	"..",
	"%",
	"100%25",
	" spaced key ",
	"ünïcødé 👋",
	"?#&=+;,",
	"\x00",
	"\xff\xfe\x80",
	"user.42",
	"user:42@x",
	"a!$&'()*+,;=:@b",
}

func TestKV_PutGetRaw(t *testing.T) {
	backends(t, false, func(t *testing.T, e *env) {
		val := []byte(allBytes())
		a := e.do("PUT", kvPath("k1"), val, "Content-Type", "application/octet-stream")
		if a.status != 200 {
			t.Fatalf("PUT: %d %s", a.status, a.body)
		}
		var wr writeResultJSON
		a.json(t, &wr)
		if wr.Revision == 0 || a.header.Get("ETag") != etag(wr.Revision) || a.header.Get(hdrRevision) != strconv.FormatUint(wr.Revision, 10) {
			t.Fatalf("PUT answer %+v, headers %v", wr, a.header)
		}

		g := e.do("GET", kvPath("k1"), nil)
		if g.status != 200 || !bytes.Equal(g.body, val) {
			t.Fatalf("GET: %d %q", g.status, g.body)
		}
		if ct := g.header.Get("Content-Type"); ct != "application/octet-stream" {
			t.Errorf("Content-Type %q", ct)
		}
		if g.header.Get("ETag") != etag(wr.Revision) || g.header.Get(hdrRevision) != strconv.FormatUint(wr.Revision, 10) {
			t.Errorf("GET headers %v, want revision %d", g.header, wr.Revision)
		}
		if g.header.Get(hdrExpireAt) != "" {
			t.Errorf("a key without TTL has %s %q", hdrExpireAt, g.header.Get(hdrExpireAt))
		}

		// JSON form: binary value as value_base64; text value as value.
		var kv kvJSON
		e.do("GET", kvPath("k1"), nil, "Accept", "application/json").json(t, &kv)
		if kv.Value != nil || kv.ValueBase64 == nil || !bytes.Equal(bytesOf(t, kv.Value, kv.ValueBase64), val) || kv.Revision != wr.Revision {
			t.Fatalf("JSON GET %+v", kv)
		}
		if kv.Key == nil || *kv.Key != "k1" {
			t.Fatalf("JSON key %+v", kv)
		}
		e.do("PUT", kvPath("k2"), []byte("héllo <&>"))
		kv = kvJSON{}
		a = e.do("GET", kvPath("k2"), nil, "Accept", "text/html, application/json;q=0.9")
		a.json(t, &kv)
		if kv.Value == nil || *kv.Value != "héllo <&>" || kv.ValueBase64 != nil {
			t.Fatalf("JSON GET of text %+v", kv)
		}
		if !bytes.Contains(a.body, []byte("<&>")) {
			t.Errorf("HTML characters escaped: %s", a.body)
		}
		kv = kvJSON{}
		e.do("GET", kvPath("k2")+"?encoding=base64", nil, "Accept", "application/json").json(t, &kv)
		if kv.Key != nil || kv.Value != nil || string(bytesOf(t, kv.Key, kv.KeyBase64)) != "k2" || string(bytesOf(t, kv.Value, kv.ValueBase64)) != "héllo <&>" {
			t.Fatalf("encoding=base64: %+v", kv)
		}
		// q=0 refuses JSON: raw.
		if a := e.do("GET", kvPath("k2"), nil, "Accept", "application/json;q=0"); a.header.Get("Content-Type") != "application/octet-stream" {
			t.Errorf("Accept application/json;q=0 answered %q", a.header.Get("Content-Type"))
		}

		// Empty value; HEAD.
		e.do("PUT", kvPath("empty"), nil)
		if g := e.do("GET", kvPath("empty"), nil); g.status != 200 || len(g.body) != 0 {
			t.Fatalf("empty value: %d %q", g.status, g.body)
		}
		if h := e.do("HEAD", kvPath("k1"), nil); h.status != 200 || h.header.Get("ETag") == "" || len(h.body) != 0 {
			t.Fatalf("HEAD: %d %v", h.status, h.header)
		}

		// Conditional GET.
		if g := e.do("GET", kvPath("k1"), nil, "If-None-Match", etag(wr.Revision)); g.status != http.StatusNotModified {
			t.Errorf("If-None-Match current: %d", g.status)
		}
		if g := e.do("GET", kvPath("k1"), nil, "If-None-Match", `"999999"`); g.status != 200 {
			t.Errorf("If-None-Match stale: %d", g.status)
		}

		// Missing key.
		e.do("GET", kvPath("nope"), nil).errorCode(t, 404, codeNotFound)
		e.do("GET", "/v1/kv/", nil).errorCode(t, 400, codeInvalidArgument)
	})
}

func TestKV_BinaryKeysRoundTrip(t *testing.T) {
	backends(t, false, func(t *testing.T, e *env) {
		for i, k := range binaryKeys {
			val := fmt.Sprintf("v%d\x00\xff", i)
			if a := e.do("PUT", kvPath(k), []byte(val)); a.status != 200 {
				t.Fatalf("PUT %q: %d %s", k, a.status, a.body)
			}
			// Read back through the handler's own encoding and url.PathEscape's.
			for _, p := range []string{kvPath(k), "/v1/kv/" + url.PathEscape(k), "/v1/kv/" + kvEscapeForTest(k)} {
				if g := e.do("GET", p, nil); g.status != 200 || string(g.body) != val {
					t.Errorf("GET %s (key %q): %d %q, want %q", p, k, g.status, g.body, val)
				}
			}
		}
		// A literal '/' (and even "//") in the path is part of the key.
		e.do("PUT", "/v1/kv/dir//sub/key", []byte("lit"))
		if g := e.do("GET", kvPath("dir//sub/key"), nil); string(g.body) != "lit" {
			t.Errorf("literal slashes: %d %q", g.status, g.body)
		}

		// A range lists exactly these keys, decoded.
		var rj rangeJSON
		e.do("GET", "/v1/kv?limit=10000", nil).json(t, &rj)
		got := map[string]string{}
		for _, kv := range rj.KVs {
			got[string(bytesOf(t, kv.Key, kv.KeyBase64))] = string(bytesOf(t, kv.Value, kv.ValueBase64))
		}
		for i, k := range binaryKeys {
			if v, ok := got[k]; !ok || v != fmt.Sprintf("v%d\x00\xff", i) {
				t.Errorf("range: key %q -> %q (present %v)", k, v, ok)
			}
		}
		// Prefix queries carry bytes too.
		rj = rangeJSON{}
		e.do("GET", "/v1/kv?prefix="+url.QueryEscape("\xff\xfe"), nil).json(t, &rj)
		if len(rj.KVs) != 1 || string(bytesOf(t, rj.KVs[0].Key, rj.KVs[0].KeyBase64)) != "\xff\xfe\x80" {
			t.Errorf("binary prefix: %+v", rj.KVs)
		}
		// Delete through the path too.
		for _, k := range binaryKeys {
			if a := e.do("DELETE", kvPath(k), nil); a.status != 200 {
				t.Errorf("DELETE %q: %d %s", k, a.status, a.body)
			}
		}
	})
}

// kvEscapeForTest escapes like a browser's encodeURIComponent: '/' as %2F,
// but the marks -_.!~*'() as they are (so the keys "." and
// ".." arrive as literal dot segments, which the handler must not clean).
func kvEscapeForTest(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func TestKV_PutJSONBody(t *testing.T) {
	backends(t, false, func(t *testing.T, e *env) {
		ct := []string{"Content-Type", "application/json"}
		if a := e.do("PUT", kvPath("j1"), []byte(`{"value":"text ✓","ttl":"1h"}`), ct...); a.status != 200 {
			t.Fatalf("PUT JSON: %d %s", a.status, a.body)
		}
		g := e.do("GET", kvPath("j1"), nil)
		if string(g.body) != "text ✓" {
			t.Fatalf("GET: %q", g.body)
		}
		exp, err := strconv.ParseInt(g.header.Get(hdrExpireAt), 10, 64)
		if now := time.Now().UnixMilli(); err != nil || exp < now+3500_000 || exp > now+3700_000 {
			t.Errorf("%s %q, want about an hour from now", hdrExpireAt, g.header.Get(hdrExpireAt))
		}
		bin := []byte{0, 1, 2, 0xff}
		body := `{"value_base64":"` + base64.StdEncoding.EncodeToString(bin) + `","ttl":30}`
		if a := e.do("PUT", kvPath("j2"), []byte(body), "Content-Type", "application/json; charset=utf-8"); a.status != 200 {
			t.Fatalf("PUT JSON base64: %d %s", a.status, a.body)
		}
		if g := e.do("GET", kvPath("j2"), nil); !bytes.Equal(g.body, bin) || g.header.Get(hdrExpireAt) == "" {
			t.Fatalf("GET: %q %v", g.body, g.header)
		}
		// A JSON-looking raw body is a raw value.
		e.do("PUT", kvPath("j3"), []byte(`{"value":"x"}`), "Content-Type", "application/octet-stream")
		if g := e.do("GET", kvPath("j3"), nil); string(g.body) != `{"value":"x"}` {
			t.Fatalf("raw JSON-looking value: %q", g.body)
		}
		// The query's ttl works with raw bodies.
		e.do("PUT", kvPath("j4")+"?ttl=90s", []byte("x"))
		if g := e.do("GET", kvPath("j4"), nil); g.header.Get(hdrExpireAt) == "" {
			t.Fatal("?ttl=90s left no deadline")
		}

		for _, bad := range []string{
			`{"value":"a","value_base64":"YQ=="}`,
			`{}`,
			``,
			`{"value":"a","tll":"1s"}`,
			`{"value_base64":"!!!"}`,
			`{"value":"a","ttl":"soon"}`,
			`{"value":"a","ttl":-1}`,
			`{"value":"a"} trailing`,
			`[1]`,
		} {
			e.do("PUT", kvPath("bad"), []byte(bad), ct...).errorCode(t, 400, codeInvalidArgument)
		}
		e.do("PUT", kvPath("bad")+"?ttl=1s", []byte(`{"value":"a","ttl":"1s"}`), ct...).errorCode(t, 400, codeInvalidArgument)
		e.do("GET", kvPath("bad"), nil).errorCode(t, 404, codeNotFound)
	})
}

func TestKV_Conditions(t *testing.T) {
	backends(t, false, func(t *testing.T, e *env) {
		var w1 writeResultJSON
		e.do("PUT", kvPath("c")+"?if_absent=true", []byte("1")).json(t, &w1)
		// Exists now: 412 with the current revision.
		d := e.do("PUT", kvPath("c")+"?if_absent=true", []byte("2")).errorCode(t, 412, codePreconditionFailed)
		if d.Revision == nil || *d.Revision != w1.Revision {
			t.Fatalf("412 revision %v, want %d", d.Revision, w1.Revision)
		}
		e.do("PUT", kvPath("c"), []byte("2"), "If-None-Match", "*").errorCode(t, 412, codePreconditionFailed)

		// Compare-and-set by query and by If-Match.
		a := e.do("PUT", kvPath("c")+"?if_revision="+strconv.FormatUint(w1.Revision+1000, 10), []byte("x"))
		d = a.errorCode(t, 412, codePreconditionFailed)
		if d.Revision == nil || *d.Revision != w1.Revision || a.header.Get("ETag") != etag(w1.Revision) {
			t.Fatalf("CAS failure %+v %v", d, a.header)
		}
		var w2 writeResultJSON
		e.do("PUT", kvPath("c")+"?if_revision="+strconv.FormatUint(w1.Revision, 10), []byte("3")).json(t, &w2)
		if w2.Revision <= w1.Revision {
			t.Fatalf("revision did not grow: %d -> %d", w1.Revision, w2.Revision)
		}
		e.do("PUT", kvPath("c"), []byte("4"), "If-Match", etag(w1.Revision)).errorCode(t, 412, codePreconditionFailed)
		var w3 writeResultJSON
		e.do("PUT", kvPath("c"), []byte("4"), "If-Match", etag(w2.Revision)).json(t, &w3)
		if g := e.do("GET", kvPath("c"), nil); string(g.body) != "4" || g.header.Get("ETag") != etag(w3.Revision) {
			t.Fatalf("after CAS: %q %v", g.body, g.header)
		}
		// CAS on an absent key fails with revision 0.
		d = e.do("PUT", kvPath("absent")+"?if_revision=5", []byte("x")).errorCode(t, 412, codePreconditionFailed)
		if d.Revision == nil || *d.Revision != 0 {
			t.Fatalf("CAS on absent key: revision %v", d.Revision)
		}

		// Conflicting or malformed conditions.
		for _, c := range []struct {
			path string
			hdr  []string
		}{
			{kvPath("c") + "?if_absent=true&if_revision=1", nil},
			{kvPath("c") + "?if_revision=0", nil},
			{kvPath("c") + "?if_revision=-1", nil},
			{kvPath("c") + "?if_revision=1", []string{"If-Match", `"2"`}},
			{kvPath("c"), []string{"If-Match", "*"}},
			{kvPath("c"), []string{"If-Match", "7"}},
			{kvPath("c"), []string{"If-None-Match", `"3"`}},
			{kvPath("c") + "?if_absent=maybe", nil},
			{kvPath("c") + "?if_absent=false", []string{"If-None-Match", "*"}},
		} {
			e.do("PUT", c.path, []byte("z"), c.hdr...).errorCode(t, 400, codeInvalidArgument)
		}

		// DELETE: conditional, then for real, then missing.
		d = e.do("DELETE", kvPath("c")+"?if_revision="+strconv.FormatUint(w1.Revision, 10), nil).errorCode(t, 412, codePreconditionFailed)
		if d.Revision == nil || *d.Revision != w3.Revision {
			t.Fatalf("DELETE 412 revision %v, want %d", d.Revision, w3.Revision)
		}
		var dr writeResultJSON
		e.do("DELETE", kvPath("c"), nil, "If-Match", etag(w3.Revision)).json(t, &dr)
		if dr.Revision <= w3.Revision {
			t.Fatalf("delete revision %d", dr.Revision)
		}
		e.do("DELETE", kvPath("c"), nil).errorCode(t, 404, codeNotFound)
		d = e.do("DELETE", kvPath("c")+"?if_revision=3", nil).errorCode(t, 412, codePreconditionFailed)
		if d.Revision == nil || *d.Revision != 0 {
			t.Fatalf("conditional DELETE of an absent key: %+v", d)
		}
		e.do("GET", kvPath("c"), nil).errorCode(t, 404, codeNotFound)
	})
}

func TestKV_Range(t *testing.T) {
	backends(t, false, func(t *testing.T, e *env) {
		var want []string
		for i := 0; i < 25; i++ {
			k := fmt.Sprintf("r/%02d", i)
			want = append(want, k)
			e.do("PUT", kvPath(k), []byte("v"+k))
		}
		e.do("PUT", kvPath("other"), []byte("x"))

		// Page through the prefix.
		var got []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("too many pages")
			}
			p := "/v1/kv?prefix=r%2F&limit=10"
			if cursor != "" {
				p += "&cursor=" + url.QueryEscape(cursor)
			}
			var rj rangeJSON
			e.do("GET", p, nil).json(t, &rj)
			if rj.Revision == 0 {
				t.Errorf("page without revision: %+v", rj)
			}
			for _, kv := range rj.KVs {
				k := string(bytesOf(t, kv.Key, kv.KeyBase64))
				if v := string(bytesOf(t, kv.Value, kv.ValueBase64)); v != "v"+k || kv.Revision == 0 {
					t.Errorf("key %q: value %q revision %d", k, v, kv.Revision)
				}
				got = append(got, k)
			}
			if !rj.More {
				if rj.NextCursor != "" {
					t.Errorf("last page has a cursor")
				}
				break
			}
			if len(rj.KVs) != 10 || rj.NextCursor == "" {
				t.Fatalf("full page: %d keys, cursor %q", len(rj.KVs), rj.NextCursor)
			}
			cursor = rj.NextCursor
		}
		if !sort.StringsAreSorted(got) || strings.Join(got, ",") != strings.Join(want, ",") {
			t.Fatalf("paged keys %q, want %q", got, want)
		}

		// [start, end), keys only, stale.
		var rj rangeJSON
		e.do("GET", "/v1/kv?start=r%2F05&end=r%2F08&keys_only=true&consistency=stale", nil).json(t, &rj)
		if len(rj.KVs) != 3 {
			t.Fatalf("start/end: %+v", rj)
		}
		for i, kv := range rj.KVs {
			if kv.Value != nil || kv.ValueBase64 != nil || *kv.Key != fmt.Sprintf("r/%02d", i+5) {
				t.Errorf("keys_only entry %+v", kv)
			}
		}
		// base64 everywhere.
		rj = rangeJSON{}
		e.do("GET", "/v1/kv?prefix=other&encoding=base64", nil).json(t, &rj)
		if len(rj.KVs) != 1 || rj.KVs[0].Key != nil || rj.KVs[0].KeyBase64 == nil || *rj.KVs[0].KeyBase64 != base64.StdEncoding.EncodeToString([]byte("other")) {
			t.Fatalf("encoding=base64: %+v", rj.KVs)
		}
		// Nothing: an empty array, not null.
		a := e.do("GET", "/v1/kv?prefix=zzz", nil)
		if !bytes.Contains(a.body, []byte(`"kvs":[]`)) {
			t.Errorf("empty range: %s", a.body)
		}

		for _, bad := range []string{
			"/v1/kv?prefix=a&start=b",
			"/v1/kv?limit=10001",
			"/v1/kv?limit=-1",
			"/v1/kv?cursor=%%%",
			"/v1/kv?cursor=***",
			"/v1/kv?keys_only=perhaps",
			"/v1/kv?consistency=eventual",
			"/v1/kv?encoding=hex",
			"/v1/kv?prefx=a",
			"/v1/kv?prefix=a&prefix=b",
		} {
			e.do("GET", bad, nil).errorCode(t, 400, codeInvalidArgument)
		}
	})
}

// TestKV_Translation checks what requests turn into (fake API only).
func TestKV_Translation(t *testing.T) {
	f := newFakeAPI()
	e := newEnv(t, f, Options{})

	e.do("PUT", kvPath("k")+"?ttl=10s&db=3", []byte("v"))
	if p := f.lastPut; p.DB != 3 || p.TTL != 10*time.Second || string(p.Key) != "k" || string(p.Value) != "v" || p.IfAbsent || p.IfRevision != 0 {
		t.Errorf("PUT -> %+v", p)
	}
	e.do("PUT", kvPath("k")+"?ttl=5&db=3", []byte("v"), "If-Match", `"1"`)
	if p := f.lastPut; p.TTL != 5*time.Second || p.IfRevision != 1 {
		t.Errorf("PUT ttl=5 If-Match -> %+v", p)
	}
	e.do("PUT", kvPath("k2")+"?ttl=250ms", []byte("v"), "If-None-Match", "*")
	if p := f.lastPut; p.TTL != 250*time.Millisecond || !p.IfAbsent {
		t.Errorf("PUT If-None-Match -> %+v", p)
	}
	e.do("PUT", kvPath("k3"), []byte(`{"value":"v","ttl":1.5}`), "Content-Type", "application/json")
	if p := f.lastPut; p.TTL != 1500*time.Millisecond || string(p.Value) != "v" {
		t.Errorf("PUT JSON ttl 1.5 -> %+v", p)
	}

	e.do("GET", kvPath("k")+"?consistency=stale&db=3", nil)
	if g := f.lastGet; g.Consistency != command.Serializable || g.DB != 3 || string(g.Key) != "k" {
		t.Errorf("GET stale -> %+v", g)
	}
	e.do("GET", kvPath("k")+"?consistency=serializable", nil)
	if g := f.lastGet; g.Consistency != command.Serializable || g.DB != 0 {
		t.Errorf("GET serializable -> %+v", g)
	}
	e.do("GET", kvPath("k"), nil)
	if g := f.lastGet; g.Consistency != command.Linearizable {
		t.Errorf("GET default -> %+v", g)
	}

	e.do("DELETE", kvPath("k")+"?db=3&if_revision=9", nil)
	if d := f.lastDel; d.DB != 3 || d.IfRevision != 9 || string(d.Key) != "k" {
		t.Errorf("DELETE -> %+v", d)
	}

	e.do("GET", "/v1/kv?prefix=p&limit=100&keys_only&db=2&cursor="+encodeCursor([]byte("p\xff")), nil)
	if r := f.lastRange; string(r.Prefix) != "p" || r.Start != nil || r.End != nil || r.Limit != 100 || !r.KeysOnly || r.DB != 2 || string(r.After) != "p\xff" || r.Consistency != command.Linearizable {
		t.Errorf("range -> %+v", r)
	}
	e.do("GET", "/v1/kv?start=a&end=", nil)
	if r := f.lastRange; r.Prefix != nil || string(r.Start) != "a" || r.End == nil || len(r.End) != 0 {
		t.Errorf("range start/end -> %+v", r)
	}
	e.do("GET", "/v1/kv", nil)
	if r := f.lastRange; r.Prefix != nil || r.Start != nil || r.End != nil || r.Limit != 0 {
		t.Errorf("range of everything -> %+v", r)
	}

	for _, bad := range []string{"?ttl=0", "?ttl=-1s", "?ttl=soon", "?db=x", "?db=99999999", "?nope=1", "?ttl=1s&ttl=2s", "?%zz"} {
		e.do("PUT", kvPath("k")+bad, []byte("v")).errorCode(t, 400, codeInvalidArgument)
	}
}

func TestKV_BodyLimit(t *testing.T) {
	for _, name := range []string{"fake", "command"} {
		t.Run(name, func(t *testing.T) {
			var api keyspace = newFakeAPI()
			if name == "command" {
				api = newCommandServer(t, nil) // the limit applies before the API is called
			}
			e := newEnv(t, api, Options{MaxBodyBytes: 1024})
			e.do("PUT", kvPath("big"), bytes.Repeat([]byte("x"), 1025)).errorCode(t, 413, codeTooLarge)

			// Without a Content-Length (chunked), the limit still holds.
			req, _ := http.NewRequest("PUT", e.ts.URL+kvPath("big"), struct{ *bytes.Reader }{bytes.NewReader(bytes.Repeat([]byte("x"), 5000))})
			req.ContentLength = -1
			resp, err := e.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 413 {
				t.Fatalf("chunked over the limit: %d", resp.StatusCode)
			}
			if name == "fake" {
				if a := e.do("PUT", kvPath("ok"), bytes.Repeat([]byte("x"), 1024)); a.status != 200 {
					t.Fatalf("at the limit: %d %s", a.status, a.body)
				}
			}
			e.do("POST", "/v1/cluster/members", bytes.Repeat([]byte(" "), 2000)).errorCode(t, 413, codeTooLarge)
		})
	}
	if New(Options{}).maxBody != DefaultMaxBodyBytes {
		t.Error("default body limit not applied")
	}
}

func TestKV_WrongTypeAndErrors(t *testing.T) {
	f := newFakeAPI()
	e := newEnv(t, f, Options{})
	f.err = fmt.Errorf("get: %w", store.ErrWrongType)
	e.do("GET", kvPath("list"), nil).errorCode(t, 409, codeWrongType)
	f.err = engine.ErrNoLeader
	a := e.do("PUT", kvPath("k"), []byte("v"))
	a.errorCode(t, 503, codeUnavailable)
	if a.header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	f.err = command.ErrUnimplemented
	e.do("GET", "/v1/kv", nil).errorCode(t, 501, codeUnimplemented)
}

// TestKV_WrongTypeCommand: a key holding a list, written over RESP, is 409
// for a REST GET.
func TestKV_WrongTypeCommand(t *testing.T) {
	api := newCommandServer(t, nil)
	requireAPI(t, api, false)
	cl := api.NewClient("127.0.0.1:1", "127.0.0.1:6399")
	defer api.RemoveClient(cl)
	var out bytes.Buffer
	w := resp.NewWriter(&out)
	api.Exec(cl, [][]byte{[]byte("RPUSH"), []byte("list"), []byte("a")}, w)
	if err := w.Flush(); err != nil || out.String() != ":1\r\n" {
		t.Fatalf("RPUSH: %q %v", out.String(), err)
	}
	e := newEnv(t, api, Options{})
	e.do("GET", kvPath("list"), nil).errorCode(t, 409, codeWrongType)
}

// TestEscapeKey: the canonical form is one segment that decodes to the key,
// and typical keys need no rewriting.
func TestEscapeKey(t *testing.T) {
	for _, k := range append(binaryKeys, "") {
		esc := escapeKey(k)
		if strings.ContainsAny(esc, "/?#") || esc == "." || esc == ".." {
			t.Errorf("escapeKey(%q) = %q", k, esc)
		}
		if back, err := url.PathUnescape(esc); err != nil || back != k {
			t.Errorf("escapeKey(%q) = %q decodes to %q (%v)", k, esc, back, err)
		}
	}
	for _, k := range []string{"user:42", "key:000123", "a.b-c_d~e", "x@y+z=1"} {
		if esc := escapeKey(k); esc != k {
			t.Errorf("escapeKey(%q) = %q, want it unchanged", k, esc)
		}
	}
}

// BenchmarkKV measures the handler's own cost (no network) over the real
// API: PUT and GET of a small value.
func BenchmarkKV(b *testing.B) {
	h := New(Options{API: newCommandServer(b, nil)})
	defer h.Close()
	val := bytes.Repeat([]byte("x"), 64)
	b.Run("put", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			req := httptestRequest("PUT", "/v1/kv/key:"+strconv.Itoa(i%1000), val)
			rec := newDiscardWriter()
			h.ServeHTTP(rec, req)
			if rec.code != 200 {
				b.Fatalf("PUT: %d", rec.code)
			}
		}
	})
	b.Run("get", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			req := httptestRequest("GET", "/v1/kv/key:"+strconv.Itoa(i%1000), nil)
			rec := newDiscardWriter()
			h.ServeHTTP(rec, req)
			if rec.code != 200 {
				b.Fatalf("GET: %d", rec.code)
			}
		}
	})
}

func httptestRequest(method, target string, body []byte) *http.Request {
	return httptest.NewRequest(method, target, bytes.NewReader(body))
}

// discardWriter is a ResponseWriter that keeps only the status.
type discardWriter struct {
	hdr  http.Header
	code int
}

func newDiscardWriter() *discardWriter { return &discardWriter{hdr: http.Header{}, code: 200} }

func (w *discardWriter) Header() http.Header         { return w.hdr }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
