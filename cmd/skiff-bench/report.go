package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
)

// reporter prints results in the format chosen by -json / -q (default: a
// redis-benchmark-like block per test).
type reporter struct {
	cfg *config
	w   io.Writer
}

func newReporter(cfg *config, w io.Writer) *reporter { return &reporter{cfg: cfg, w: w} }

// latencySummary holds the latency figures of a test in milliseconds.
type latencySummary struct {
	Avg  float64 `json:"avg"`
	Min  float64 `json:"min"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99.9"`
	Max  float64 `json:"max"`
}

// jsonResult is the -json line of one test. Field names are a stable
// interface for scripts; add fields, do not rename them.
type jsonResult struct {
	Mode        string         `json:"mode"`
	Test        string         `json:"test"`
	Title       string         `json:"title"`
	Requests    uint64         `json:"requests"`
	Errors      uint64         `json:"errors"`
	Seconds     float64        `json:"seconds"`
	RPS         float64        `json:"rps"`
	LatencyMs   latencySummary `json:"latency_ms"`
	Connections int            `json:"connections"`
	Pipeline    int            `json:"pipeline"`
	DataSize    int            `json:"data_size"`
	Keyspace    int64          `json:"keyspace"`
	StoppedBy   string         `json:"stopped_by"` // "count" or "duration"
}

func usToMs(us float64) float64 { return math.Round(us) / 1000 }

func summarize(r result) latencySummary {
	h := r.hist
	return latencySummary{
		Avg:  math.Round(h.mean()) / 1000,
		Min:  usToMs(float64(h.minUs())),
		P50:  usToMs(float64(h.percentile(50))),
		P90:  usToMs(float64(h.percentile(90))),
		P99:  usToMs(float64(h.percentile(99))),
		P999: usToMs(float64(h.percentile(99.9))),
		Max:  usToMs(float64(h.max)),
	}
}

func rps(r result) float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.requests) / r.elapsed.Seconds()
}

func (p *reporter) report(r result) error {
	lat := summarize(r)
	stopped := "count"
	if r.byTimeout {
		stopped = "duration"
	}
	switch {
	case p.cfg.jsonOut:
		return json.NewEncoder(p.w).Encode(jsonResult{
			Mode:        p.cfg.mode,
			Test:        r.test.name,
			Title:       r.test.title,
			Requests:    r.requests,
			Errors:      r.errors,
			Seconds:     math.Round(r.elapsed.Seconds()*1e6) / 1e6,
			RPS:         math.Round(rps(r)*100) / 100,
			LatencyMs:   lat,
			Connections: p.cfg.conns,
			Pipeline:    p.cfg.pipeline,
			DataSize:    p.cfg.dataSize,
			Keyspace:    p.cfg.keyspace,
			StoppedBy:   stopped,
		})
	case p.cfg.quiet:
		_, err := fmt.Fprintf(p.w, "%s: %.2f requests per second, %d requests, %d errors, p50=%.3f p90=%.3f p99=%.3f p99.9=%.3f max=%.3f msec%s\n",
			r.test.title, rps(r), r.requests, r.errors, lat.P50, lat.P90, lat.P99, lat.P999, lat.Max, stoppedNote(r))
		return err
	default:
		var b strings.Builder
		fmt.Fprintf(&b, "====== %s ======\n", r.test.title)
		fmt.Fprintf(&b, "  %d requests completed in %.2f seconds, %d errors%s\n", r.requests, r.elapsed.Seconds(), r.errors, stoppedNote(r))
		fmt.Fprintf(&b, "  %d parallel clients, pipeline %d, %d bytes payload, keyspace %d\n",
			p.cfg.conns, p.cfg.pipeline, p.cfg.dataSize, p.cfg.keyspace)
		fmt.Fprintf(&b, "  throughput summary: %.2f requests per second\n", rps(r))
		fmt.Fprintf(&b, "  latency summary (msec):\n")
		fmt.Fprintf(&b, "  %9s %9s %9s %9s %9s %9s %9s\n", "avg", "min", "p50", "p90", "p99", "p99.9", "max")
		fmt.Fprintf(&b, "  %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f\n\n",
			lat.Avg, lat.Min, lat.P50, lat.P90, lat.P99, lat.P999, lat.Max)
		_, err := io.WriteString(p.w, b.String())
		return err
	}
}

func stoppedNote(r result) string {
	if r.byTimeout {
		return " (stopped by -duration)"
	}
	return ""
}
