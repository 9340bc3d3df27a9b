package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/skiffdb/skiff/internal/telemetry"
)

// instrument wraps each route's handler so its latency is observed in
// skiff_command_duration_seconds{front_door="rest", family=<resource>}
// (kv, cluster, queue, health, meta). The histogram is resolved per route
// here, once, so a request costs two clock reads and one observation. The
// time is the handler's: from routing to its return (the body written),
// after authorization and path canonicalization (ServeHTTP). Not observed:
// the watch stream (its duration is how long the client stays), requests no
// route matches and unauthorized ones, and routes added later through Mux
// (/metrics, the dashboard). A nil m leaves routes as they are.
func instrument(routes []route, m *telemetry.Metrics) []route {
	if m == nil {
		return routes
	}
	for i := range routes {
		fam := restFamily(routes[i].path)
		if fam == "" {
			continue
		}
		obs := m.CommandDuration(telemetry.FrontDoorREST, fam)
		next := routes[i].h
		routes[i].h = func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			next(w, r)
			obs.ObserveDuration(time.Since(start))
		}
	}
	return routes
}

// restFamily names a route's family by its resource; "" = not observed.
func restFamily(path string) string {
	p := strings.TrimPrefix(path, "/v1")
	switch {
	case p == "/watch":
		return ""
	case strings.HasPrefix(p, "/kv"):
		return "kv"
	case strings.HasPrefix(p, "/cluster"):
		return "cluster"
	case strings.HasPrefix(p, "/queues"):
		return "queue"
	case p == "/healthz" || p == "/readyz":
		return "health"
	}
	return "meta" // the OpenAPI document, the greeting, the dashboard data
}
