package httpapi

import (
	"strings"
	"testing"

	"github.com/skiffdb/skiff/internal/telemetry"
)

// Each route is observed under its resource's family, except the watch
// stream; requests no route matches are not observed.
func TestMetrics_RouteFamilies(t *testing.T) {
	m := telemetry.NewMetrics()
	e := newEnv(t, newFakeAPI(), Options{API: newCommandServer(t, nil), Metrics: m})
	e.do("PUT", "/v1/kv/a", []byte("1"))
	e.do("GET", "/v1/kv/a", nil)
	e.do("GET", "/healthz", nil)
	e.do("GET", "/nope", nil)

	var b strings.Builder
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	for _, f := range fams {
		if f.GetName() != "skiff_command_duration_seconds" {
			continue
		}
		for _, mt := range f.GetMetric() {
			l := map[string]string{}
			for _, lp := range mt.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			if l["front_door"] != "rest" {
				t.Errorf("front door %q", l["front_door"])
			}
			counts[l["family"]] = mt.GetHistogram().GetSampleCount()
			b.WriteString(l["family"] + " ")
		}
	}
	for fam, want := range map[string]uint64{"kv": 2, "health": 1, "cluster": 0, "queue": 0, "meta": 0} {
		if got, ok := counts[fam]; !ok || got != want {
			t.Errorf("family %s: %d samples (present %v), want %d", fam, got, ok, want)
		}
	}
	if _, ok := counts["watch"]; ok {
		t.Errorf("the watch stream is observed (families: %s)", b.String())
	}
	for _, rt := range []struct{ path, fam string }{
		{"/v1/kv/{key...}", "kv"}, {"/v1/kv", "kv"}, {"/v1/watch", ""}, {"/v1/cluster/members/{id}", "cluster"},
		{"/v1/queues/{queue}/ack", "queue"}, {"/readyz", "health"}, {"/v1/openapi.json", "meta"}, {"/hello/{name}", "meta"},
	} {
		if got := restFamily(rt.path); got != rt.fam {
			t.Errorf("restFamily(%s) = %q, want %q", rt.path, got, rt.fam)
		}
	}
}
