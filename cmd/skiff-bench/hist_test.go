package main

import (
	"testing"
	"time"
)

func TestHistogram_Buckets(t *testing.T) {
	tests := []struct {
		us     uint64
		bucket int
		high   uint64 // highest value of that bucket
	}{
		{0, 0, 0},
		{1, 1, 1},
		{999, 999, 999},
		{1023, 1023, 1023},
		// [1024, 2048): 128 buckets of 8 µs.
		{1024, 1024, 1031},
		{1031, 1024, 1031},
		{1032, 1025, 1039},
		{1500, 1024 + 59, 1503},
		{2047, 1024 + 127, 2047},
		// [2048, 4096): buckets of 16 µs.
		{2048, 1024 + 128, 2063},
		{2063, 1024 + 128, 2063},
		{2064, 1024 + 129, 2079},
		// 1 s and 60 s: width 2^(e-7), under 0.8 %.
		{1_000_000, 1024 + 9*128 + 116, 1_003_519},
		{60_000_000, 1024 + 15*128 + 100, 60_030_975},
		// The last bucket, and values past the range fall into it.
		{histMaxUs, histBuckets - 1, histMaxUs},
		{histMaxUs + 1, histBuckets - 1, histMaxUs},
		{1 << 40, histBuckets - 1, histMaxUs},
	}
	for _, tt := range tests {
		got := bucketOf(tt.us)
		if got != tt.bucket {
			t.Errorf("bucketOf(%d) = %d, want %d", tt.us, got, tt.bucket)
			continue
		}
		if h := bucketHigh(got); h != tt.high {
			t.Errorf("bucketHigh(%d) = %d, want %d", got, h, tt.high)
		}
	}
}

// Every bucket's range starts right after the previous one ends, and the
// relative width stays under 1 %.
func TestHistogram_BucketsContiguous(t *testing.T) {
	prevHigh := bucketHigh(0)
	for i := 1; i < histBuckets; i++ {
		low := prevHigh + 1
		high := bucketHigh(i)
		if bucketOf(low) != i || bucketOf(high) != i {
			t.Fatalf("bucket %d: range [%d, %d] maps to %d..%d", i, low, high, bucketOf(low), bucketOf(high))
		}
		if low >= histLinear && float64(high-low+1)/float64(low) > 0.01 {
			t.Fatalf("bucket %d: [%d, %d] wider than 1%%", i, low, high)
		}
		prevHigh = high
	}
	if prevHigh != histMaxUs {
		t.Fatalf("last bucket ends at %d, want %d", prevHigh, histMaxUs)
	}
}

func TestHistogram_Percentiles(t *testing.T) {
	seq := func(from, to uint64) []uint64 {
		var v []uint64
		for i := from; i <= to; i++ {
			v = append(v, i)
		}
		return v
	}
	tests := []struct {
		name   string
		values []uint64 // µs
		p      []float64
		want   []uint64
	}{
		{"empty", nil, []float64{50, 100}, []uint64{0, 0}},
		{"one", []uint64{42}, []float64{0.1, 50, 99.9, 100}, []uint64{42, 42, 42, 42}},
		{"1..100", seq(1, 100), []float64{1, 50, 90, 99, 99.9, 100}, []uint64{1, 50, 90, 99, 100, 100}},
		{"1..1000", seq(1, 1000), []float64{50, 90, 99, 99.9, 100}, []uint64{500, 900, 990, 999, 1000}},
		// Past 1024 µs the answer is the top of the bucket, capped at max.
		{"log region", []uint64{1500, 2000}, []float64{50, 100}, []uint64{1503, 2000}},
		{"top capped by max", []uint64{1024, 1025}, []float64{50, 100}, []uint64{1025, 1025}},
		{"outlier", append(seq(1, 999), 5_000_000), []float64{50, 99.9, 100}, []uint64{500, 999, 5_000_000}},
		{"beyond range", []uint64{10, 1 << 40}, []float64{50, 100}, []uint64{10, 1 << 40}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHistogram()
			for _, v := range tt.values {
				h.recordUs(v)
			}
			for i, p := range tt.p {
				if got := h.percentile(p); got != tt.want[i] {
					t.Errorf("p%v = %d, want %d", p, got, tt.want[i])
				}
			}
		})
	}
}

func TestHistogram_MeanMinMax(t *testing.T) {
	h := newHistogram()
	if h.mean() != 0 || h.minUs() != 0 || h.max != 0 {
		t.Fatalf("empty: mean %v min %d max %d", h.mean(), h.minUs(), h.max)
	}
	h.record(1500 * time.Nanosecond) // truncated to 1 µs
	h.record(-time.Second)           // counts as 0
	h.record(8 * time.Microsecond)
	if h.count != 3 || h.minUs() != 0 || h.max != 8 || h.mean() != 3 {
		t.Fatalf("count %d min %d max %d mean %v, want 3 0 8 3", h.count, h.minUs(), h.max, h.mean())
	}
}

func TestHistogram_Merge(t *testing.T) {
	a, b, all := newHistogram(), newHistogram(), newHistogram()
	for v := uint64(1); v <= 2000; v++ {
		if v%3 == 0 {
			a.recordUs(v * 7)
		} else {
			b.recordUs(v * 7)
		}
		all.recordUs(v * 7)
	}
	m := newHistogram()
	m.merge(a)
	m.merge(newHistogram()) // empty: no effect on min
	m.merge(b)
	if *m != *all {
		t.Fatalf("merged histogram differs: count %d/%d min %d/%d max %d/%d",
			m.count, all.count, m.min, all.min, m.max, all.max)
	}
	for _, p := range []float64{50, 90, 99, 99.9, 100} {
		if m.percentile(p) != all.percentile(p) {
			t.Errorf("p%v: merged %d, direct %d", p, m.percentile(p), all.percentile(p))
		}
	}
}

func BenchmarkHistogram_Record(b *testing.B) {
	h := newHistogram()
	d := 137 * time.Microsecond
	for b.Loop() {
		h.record(d)
		d = (d*7 + 13*time.Microsecond) % (5 * time.Millisecond)
	}
}
