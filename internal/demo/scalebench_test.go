package demo

import (
	"testing"

	dto "github.com/prometheus/client_model/go"
	"k8s.io/utils/ptr"
)

func hist(count uint64, buckets map[float64]uint64) *dto.Histogram {
	h := &dto.Histogram{SampleCount: ptr.To(count)}
	for _, b := range []float64{0.01, 0.1, 1, 10} {
		h.Bucket = append(h.Bucket, &dto.Bucket{UpperBound: ptr.To(b), CumulativeCount: ptr.To(buckets[b])})
	}
	return h
}

// TestQuantile: the p99 of what a histogram observed between two readings is the bound of
// the first bucket holding 99% of the new observations; past the last bucket, the last
// bound (which it is at least).
func TestQuantile(t *testing.T) {
	before := hist(100, map[float64]uint64{0.01: 100, 0.1: 100, 1: 100, 10: 100})
	after := hist(300, map[float64]uint64{0.01: 150, 0.1: 297, 1: 299, 10: 300})
	// 200 new: 50 under 10 ms, 197 under 100 ms, 199 under 1 s: the 198th is under 1 s.
	if got := quantile(0.99, before, after); got != 1 {
		t.Errorf("p99 %v, want 1", got)
	}
	if got := quantile(0.5, before, after); got != 0.1 {
		t.Errorf("p50 %v, want 0.1", got)
	}
	slow := hist(200, map[float64]uint64{0.01: 100, 0.1: 100, 1: 100, 10: 100})
	if got := quantile(0.99, before, slow); got != 10 {
		t.Errorf("p99 beyond the last bucket %v, want 10", got)
	}
	if got := quantile(0.99, before, before); got != 0 {
		t.Errorf("no new observation: %v, want 0", got)
	}
}
