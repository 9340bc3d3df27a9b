package httpapi

import (
	"context"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/skiffdb/skiff/internal/command"
	"github.com/skiffdb/skiff/internal/engine"
	"github.com/skiffdb/skiff/internal/store"
)

// dashboardServer returns the real command server over an in-memory engine
// with cluster, whose context ends with the test (the dashboard's sampler,
// started by the first Overview, ends with it).
func dashboardServer(t *testing.T, cluster command.Cluster) *command.Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	eng := engine.New(store.New(store.Options{}), engine.Options{})
	s, err := command.NewServer(ctx, command.Options{Engine: eng, Version: "9.9.9-test", RESPAddr: "127.0.0.1:6399", Cluster: cluster})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDashboard_JSON(t *testing.T) {
	api := dashboardServer(t, &fakeCluster{status: threeNodes()})
	if _, err := api.Put(context.Background(), command.PutRequest{Key: []byte("k"), Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, api, Options{})
	a := e.do("GET", "/v1/dashboard", nil)
	if a.status != http.StatusOK || a.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d, Cache-Control %q: %s", a.status, a.header.Get("Cache-Control"), a.body)
	}
	var ov command.Overview
	a.json(t, &ov)
	if ov.NodeID != "n1" || ov.Role != "leader" || ov.Term != 3 || ov.CommitIndex != 42 || ov.LastLogIndex != 43 || len(ov.Members) != 2 {
		t.Errorf("overview %+v", ov)
	}
	if len(ov.Keyspace) != 1 || ov.Keyspace[0].Keys != 1 || ov.Commands.Total == 0 {
		t.Errorf("keyspace %+v, commands %+v", ov.Keyspace, ov.Commands)
	}
	if ov.History.IntervalMs != 1000 || ov.History.TimesMs == nil || ov.Slowlog.Entries == nil || ov.Memory.HeapBytes == 0 {
		t.Errorf("history %+v, slowlog %+v, memory %+v", ov.History, ov.Slowlog, ov.Memory)
	}

	e.do("GET", "/v1/dashboard?x=1", nil).errorCode(t, http.StatusBadRequest, "invalid_argument")
	// An API without Overview (the fake): 501.
	newEnv(t, newFakeAPI(), Options{}).do("GET", "/v1/dashboard", nil).errorCode(t, http.StatusNotImplemented, codeUnimplemented)
}

func TestDashboard_PageAndAssets(t *testing.T) {
	e := newEnv(t, newFakeAPI(), Options{})
	a := e.do("GET", "/", nil)
	if a.status != http.StatusOK || a.header.Get("Content-Type") != "text/html; charset=utf-8" ||
		!strings.Contains(a.header.Get("Content-Security-Policy"), "script-src 'self'") {
		t.Fatalf("GET /: %d %q %q", a.status, a.header.Get("Content-Type"), a.header.Get("Content-Security-Policy"))
	}
	page := string(a.body)
	// Everything the page loads is served by this handler (no CDN).
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 2 {
		t.Fatalf("the page references %d assets: %q", len(refs), refs)
	}
	want := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
	for _, m := range refs {
		ref := m[1]
		if !strings.HasPrefix(ref, "/dashboard/") {
			t.Errorf("the page loads %q, which is not one of its embedded assets", ref)
			continue
		}
		a := e.do("GET", ref, nil)
		ext := ref[strings.LastIndex(ref, "."):]
		if a.status != http.StatusOK || a.header.Get("Content-Type") != want[ext] || len(a.body) == 0 {
			t.Errorf("GET %s: %d %q (%d bytes)", ref, a.status, a.header.Get("Content-Type"), len(a.body))
		}
	}
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Error("the page refers to another origin")
	}

	// Only the script and stylesheet are assets; other paths keep the
	// API's JSON errors.
	e.do("GET", "/dashboard/index.html", nil).errorCode(t, http.StatusNotFound, "not_found")
	e.do("GET", "/dashboard/nope.js", nil).errorCode(t, http.StatusNotFound, "not_found")
	e.do("GET", "/nope", nil).errorCode(t, http.StatusNotFound, "not_found")
	e.do("POST", "/", nil).errorCode(t, http.StatusMethodNotAllowed, "method_not_allowed")
}

// TestDashboard_ScriptMatchesPage: every element id the script looks up
// exists in the page, and the script calls only this server.
func TestDashboard_ScriptMatchesPage(t *testing.T) {
	page, err := fs.ReadFile(dashboardFiles, "dashboard/index.html")
	if err != nil {
		t.Fatal(err)
	}
	js, err := fs.ReadFile(dashboardFiles, "dashboard/app.js")
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(`\bid="([^"]+)"`).FindAllStringSubmatch(string(page), -1) {
		ids[m[1]] = true
	}
	used := regexp.MustCompile(`(?:\$|setText)\('([a-z0-9-]+)'`).FindAllStringSubmatch(string(js), -1)
	if len(used) < 20 {
		t.Fatalf("only %d element lookups found in app.js", len(used))
	}
	for _, m := range used {
		if !ids[m[1]] {
			t.Errorf("app.js uses #%s, which index.html lacks", m[1])
		}
	}
	for _, m := range regexp.MustCompile(`fetch\('([^']+)'`).FindAllStringSubmatch(string(js), -1) {
		if m[1] != "/v1/dashboard" {
			t.Errorf("app.js fetches %q", m[1])
		}
	}
}
