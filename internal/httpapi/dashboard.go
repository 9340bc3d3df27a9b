package httpapi

import (
	"embed"
	"io/fs"
	"net/http"
	"path"

	"github.com/skiffdb/skiff/internal/command"
)

// The dashboard: an HTML page at GET / that polls GET /v1/dashboard once a
// second and draws it (members and roles, term and indexes, ops/s and p99
// charts over the last 10 minutes, keys per db, memory, connections, slow
// commands). The page, its script and its stylesheet are embedded in the
// binary: no CDN, no build step. They are served by this process only, so
// the page works from any node and shows that node's view.
//
// The page and its assets are HTML, not API: they are registered on the mux
// by mountDashboard (GET /{$} and GET /dashboard/{file}) and are not in the
// OpenAPI document; GET /v1/dashboard is a route of the table like the others.

//go:embed dashboard
var dashboardFiles embed.FS

// overviewer is what the dashboard needs from the API; *command.Server has
// it. Fakes without it answer 501.
type overviewer interface {
	Overview() command.Overview
}

// dashboardCSP allows the page its own script, styles and requests only.
const dashboardCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// mountDashboard registers the page and its assets on the mux.
func (h *Handler) mountDashboard() {
	h.mux.HandleFunc("GET /{$}", h.dashboardPage)
	h.mux.HandleFunc("GET /dashboard/{file}", h.dashboardAsset)
}

// dashboardPage: GET /, the dashboard's HTML.
func (h *Handler) dashboardPage(w http.ResponseWriter, r *http.Request) {
	b, err := fs.ReadFile(dashboardFiles, "dashboard/index.html")
	if err != nil {
		h.fail(w, r, err)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("Content-Security-Policy", dashboardCSP)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	_, _ = w.Write(b)
}

// dashboardAsset: GET /dashboard/{file}, the page's script and stylesheet.
func (h *Handler) dashboardAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	var ctype string
	switch path.Ext(name) {
	case ".js":
		ctype = "text/javascript; charset=utf-8"
	case ".css":
		ctype = "text/css; charset=utf-8"
	}
	b, err := fs.ReadFile(dashboardFiles, "dashboard/"+name)
	if ctype == "" || err != nil {
		writeError(w, &apiError{status: http.StatusNotFound, code: "not_found", msg: "no such dashboard file"})
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", ctype)
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(b)
}

// dashboardJSON: GET /v1/dashboard, this node's command.Overview (the page
// polls it once a second).
func (h *Handler) dashboardJSON(w http.ResponseWriter, r *http.Request) {
	if _, err := parseQuery(r); err != nil {
		h.fail(w, r, err)
		return
	}
	ov, ok := h.api.(overviewer)
	if !ok {
		h.fail(w, r, command.ErrUnimplemented)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, ov.Overview())
}
