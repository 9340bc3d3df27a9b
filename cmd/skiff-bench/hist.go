package main

import (
	"math"
	"math/bits"
	"time"
)

// Histogram layout. Values are whole microseconds (as redis-benchmark and
// HdrHistogram record them).
//
//   - [0, 1024) µs: one bucket per microsecond (exact).
//   - [1024 µs, 2^26 µs ≈ 67 s): each power of two [2^e, 2^(e+1)) is cut into
//     128 equal sub-buckets, so a bucket is at most 1/128 (< 0.8 %) of the
//     values it holds.
//   - larger values are counted in the last bucket; max stays exact.
const (
	histLinear  = 1024 // buckets of the linear region, and its first value past it
	histSubBits = 7    // log2 of the sub-buckets per power of two
	histSub     = 1 << histSubBits
	histMinExp  = 10 // bits.Len64(histLinear) - 1
	histMaxExp  = 25 // last power of two tracked: [2^25, 2^26) µs
	histBuckets = histLinear + (histMaxExp-histMinExp+1)*histSub
	histMaxUs   = 1<<(histMaxExp+1) - 1 // largest value with its own bucket
)

// histogram is a log-bucketed latency histogram in the spirit of
// HdrHistogram, with a fixed range (1 µs .. ~67 s) and precision (1 µs below
// 1.024 ms, then < 0.8 % relative).
//
// It is not safe for concurrent use: each load worker owns one and records
// into it without locks; the driver merges them with merge after the
// workers have stopped.
type histogram struct {
	count  uint64
	sum    uint64 // µs, for the mean
	min    uint64 // µs, exact; valid when count > 0
	max    uint64 // µs, exact
	counts [histBuckets]uint64
}

func newHistogram() *histogram { return &histogram{min: math.MaxUint64} }

// bucketOf returns the bucket index of a value in µs.
func bucketOf(us uint64) int {
	if us < histLinear {
		return int(us)
	}
	if us > histMaxUs {
		return histBuckets - 1
	}
	e := bits.Len64(us) - 1 // histMinExp..histMaxExp
	sub := int(us>>(e-histSubBits)) - histSub
	return histLinear + (e-histMinExp)*histSub + sub
}

// bucketHigh returns the largest µs value that falls in bucket i (HDR's
// "highest equivalent value").
func bucketHigh(i int) uint64 {
	if i < histLinear {
		return uint64(i)
	}
	i -= histLinear
	e := i/histSub + histMinExp
	sub := uint64(i%histSub + histSub)
	shift := e - histSubBits
	return (sub+1)<<shift - 1
}

// record adds one latency. Durations are truncated to whole microseconds;
// negative ones count as 0.
func (h *histogram) record(d time.Duration) {
	us := uint64(0)
	if d > 0 {
		us = uint64(d / time.Microsecond)
	}
	h.recordUs(us)
}

func (h *histogram) recordUs(us uint64) {
	h.counts[bucketOf(us)]++
	h.count++
	h.sum += us
	if us < h.min {
		h.min = us
	}
	if us > h.max {
		h.max = us
	}
}

// merge adds o's values into h. o is left unchanged.
func (h *histogram) merge(o *histogram) {
	if o.count == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.count += o.count
	h.sum += o.sum
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// percentile returns the value at percentile p (0 < p <= 100) in µs, by
// nearest rank: the highest value of the bucket holding the ceil(p/100*count)
// -th smallest value, never more than the exact max (and the max itself when
// that bucket is the overflow one). It returns 0 on an empty histogram.
func (h *histogram) percentile(p float64) uint64 {
	if h.count == 0 {
		return 0
	}
	// The small epsilon keeps 99.9% of 1000 at rank 999 despite 0.999*1000
	// not being exact in binary floating point.
	rank := uint64(math.Ceil(p/100*float64(h.count) - 1e-9))
	rank = min(max(rank, 1), h.count)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			if i == histBuckets-1 && h.max > histMaxUs {
				return h.max // past the tracked range: the one exact figure
			}
			return min(bucketHigh(i), h.max)
		}
	}
	return h.max
}

// mean returns the exact mean of the recorded (truncated) values in µs.
func (h *histogram) mean() float64 {
	if h.count == 0 {
		return 0
	}
	return float64(h.sum) / float64(h.count)
}

// minUs returns the smallest recorded value, 0 when empty.
func (h *histogram) minUs() uint64 {
	if h.count == 0 {
		return 0
	}
	return h.min
}
