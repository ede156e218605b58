package main

import (
	"testing"
	"time"
)

func TestHistogramPrecisionIsUnderOnePercent(t *testing.T) {
	for _, v := range []int64{0, 1, 127, 128, 129, 255, 256, 1000, 123456, 5_000_000, 1 << 40} {
		b := bucketOf(v)
		ub := upperBound(b)
		if ub < v || float64(ub-v) > float64(v)/128+1 {
			t.Fatalf("value %d: bucket %d upper bound %d", v, b, ub)
		}
		if b > 0 && upperBound(b-1) >= v {
			t.Fatalf("value %d also fits bucket %d", v, b-1)
		}
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h hist
	for i := 1; i <= 10000; i++ {
		h.Record(time.Duration(i) * time.Microsecond)
	}
	for q, want := range map[float64]time.Duration{0.5: 5 * time.Millisecond, 0.99: 9900 * time.Microsecond, 1: 10 * time.Millisecond} {
		got := h.Quantile(q)
		if got < want || float64(got-want) > float64(want)/100 {
			t.Fatalf("q%.2f = %v, want about %v", q, got, want)
		}
	}
}
