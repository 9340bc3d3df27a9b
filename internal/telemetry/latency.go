package telemetry

import (
	"math"
	"math/bits"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Request latencies (skiff_command_duration_seconds) are observed on every
// command, so they use a histogram leaner than client_golang's: fixed
// exponential buckets found with one division and a bit count, two atomic
// adds per observation (its bucket and the sum), nothing else. A scrape
// turns them into Prometheus histograms.

// Bucket upper bounds: latencyBase * 2^i for i < latencyBuckets (25µs,
// 50µs, 100µs ... 13.1s), then +Inf.
const (
	latencyBase    = 25 * time.Microsecond
	latencyBuckets = 20
)

// LatencyHistogram is one front door's and family's latency histogram.
// Observe and ObserveDuration are safe for concurrent use and never block.
type LatencyHistogram struct {
	counts [latencyBuckets + 1]atomic.Uint64 // the last is +Inf
	sumNs  atomic.Int64
}

// ObserveDuration records one request that took d.
func (h *LatencyHistogram) ObserveDuration(d time.Duration) {
	i := 0
	if d > latencyBase {
		i = min(bits.Len64(uint64((d-1)/latencyBase)), latencyBuckets)
	}
	h.counts[i].Add(1)
	h.sumNs.Add(int64(d))
}

// Observe records one request that took seconds (prometheus.Observer).
func (h *LatencyHistogram) Observe(seconds float64) {
	h.ObserveDuration(time.Duration(seconds * float64(time.Second)))
}

// snapshot returns the cumulative bucket counts by upper bound in seconds,
// the count and the sum in seconds. Observations racing with it may be in
// the sum and not yet in a bucket, or the other way round.
func (h *LatencyHistogram) snapshot() (map[float64]uint64, uint64, float64) {
	buckets := make(map[float64]uint64, latencyBuckets)
	var cum uint64
	for i := 0; i < latencyBuckets; i++ {
		cum += h.counts[i].Load()
		buckets[latencyBound(i)] = cum
	}
	cum += h.counts[latencyBuckets].Load()
	return buckets, cum, float64(h.sumNs.Load()) / float64(time.Second)
}

// latencyBound is bucket i's upper bound in seconds.
func latencyBound(i int) float64 { return latencyBase.Seconds() * math.Ldexp(1, i) }

// latencyVec holds the histograms by (front door, family) and exports them.
type latencyVec struct {
	desc *prometheus.Desc
	mu   struct {
		sync.Mutex
		h map[[2]string]*LatencyHistogram
	}
}

func newLatencyVec() *latencyVec {
	v := &latencyVec{desc: prometheus.NewDesc("skiff_command_duration_seconds",
		"Time to execute a request, by front door (resp, grpc, rest) and command family (RESP: the command's group; gRPC: the service; REST: the resource). Blocking commands and streams (Watch) are not observed.",
		[]string{"front_door", "family"}, nil)}
	v.mu.h = make(map[[2]string]*LatencyHistogram)
	return v
}

// get returns the histogram of (frontDoor, family), creating it.
func (v *latencyVec) get(frontDoor, family string) *LatencyHistogram {
	v.mu.Lock()
	defer v.mu.Unlock()
	k := [2]string{frontDoor, family}
	h := v.mu.h[k]
	if h == nil {
		h = new(LatencyHistogram)
		v.mu.h[k] = h
	}
	return h
}

func (v *latencyVec) Describe(ch chan<- *prometheus.Desc) { ch <- v.desc }

func (v *latencyVec) Collect(ch chan<- prometheus.Metric) {
	v.mu.Lock()
	keys := make([][2]string, 0, len(v.mu.h))
	hs := make(map[[2]string]*LatencyHistogram, len(v.mu.h))
	for k, h := range v.mu.h {
		keys = append(keys, k)
		hs[k] = h
	}
	v.mu.Unlock()
	sort.Slice(keys, func(i, j int) bool {
		return keys[i][0] < keys[j][0] || keys[i][0] == keys[j][0] && keys[i][1] < keys[j][1]
	})
	for _, k := range keys {
		buckets, count, sum := hs[k].snapshot()
		ch <- prometheus.MustNewConstHistogram(v.desc, count, sum, buckets, k[0], k[1])
	}
}
