package main

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// hist is a lock-free, log-linear latency histogram in the spirit of
// HdrHistogram: values below 128 ns are exact; above, each power of two is
// split into 128 linear sub-buckets, so a reported value is the upper bound
// of its bucket and overstates the true value by less than 1/128 (0.78 %).
// It covers 1 ns to 2^63 ns in 7,296 counters (57 KiB); Record is one atomic
// add plus a CAS loop for the max, safe from any number of goroutines.
type hist struct {
	counts [57 * subBuckets]atomic.Uint64
	total  atomic.Uint64
	max    atomic.Int64
	sum    atomic.Int64
}

const (
	subBits    = 7
	subBuckets = 1 << subBits
)

func bucketOf(v int64) int {
	if v < subBuckets {
		if v < 0 {
			return 0
		}
		return int(v)
	}
	exp := bits.Len64(uint64(v)) - subBits - 1 // v>>exp is in [128, 256)
	return (exp+1)*subBuckets + int(uint64(v)>>exp) - subBuckets
}

// upperBound is the largest value that falls in bucket i.
func upperBound(i int) int64 {
	if i < subBuckets {
		return int64(i)
	}
	exp := i/subBuckets - 1
	mant := int64(i%subBuckets + subBuckets)
	return (mant+1)<<exp - 1
}

// Record adds one latency.
func (h *hist) Record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	h.counts[bucketOf(v)].Add(1)
	h.total.Add(1)
	h.sum.Add(v)
	for {
		m := h.max.Load()
		if v <= m || h.max.CompareAndSwap(m, v) {
			return
		}
	}
}

// Count is the number of recorded values.
func (h *hist) Count() uint64 { return h.total.Load() }

// Quantile returns the value at quantile q (0..1), within 0.78 %; the
// exact max for q >= 1.
func (h *hist) Quantile(q float64) time.Duration {
	n := h.total.Load()
	if n == 0 {
		return 0
	}
	if q >= 1 {
		return time.Duration(h.max.Load())
	}
	rank := uint64(math.Ceil(q * float64(n)))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			if ub := upperBound(i); ub < h.max.Load() {
				return time.Duration(ub)
			}
			return time.Duration(h.max.Load())
		}
	}
	return time.Duration(h.max.Load())
}

// summary is a histogram's percentiles in milliseconds, as written to JSON.
type summary struct {
	Count  uint64  `json:"count"`
	MeanMs float64 `json:"meanMs"`
	P50    float64 `json:"p50Ms"`
	P90    float64 `json:"p90Ms"`
	P99    float64 `json:"p99Ms"`
	P999   float64 `json:"p999Ms"`
	P9999  float64 `json:"p9999Ms"`
	Max    float64 `json:"maxMs"`
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

func (h *hist) Summary() *summary {
	n := h.Count()
	s := &summary{Count: n}
	if n == 0 {
		return s
	}
	s.MeanMs = ms(time.Duration(h.sum.Load() / int64(n)))
	s.P50, s.P90, s.P99 = ms(h.Quantile(.50)), ms(h.Quantile(.90)), ms(h.Quantile(.99))
	s.P999, s.P9999, s.Max = ms(h.Quantile(.999)), ms(h.Quantile(.9999)), ms(h.Quantile(1))
	return s
}
