package samples

import (
	"math"
	"time"
)

// Sample is one raw reading of one metric of one pod.
type Sample struct {
	// Pod is the pod's name.
	Pod string
	// Key is the metric key (bandwidth, pullStreams, cpu, custom/<name>, ...).
	Key string
	// Value is the reading in the metric's unit.
	Value float64
	// Time is when the value was measured; the zero time means "now" (a live read).
	Time time.Time
}

// Dropped counts what Collect left out and why, for logs and self-metrics.
type Dropped struct {
	Stale, NotFinite, Negative, UnknownPod int
}

// Total is the number of samples left out.
func (d Dropped) Total() int { return d.Stale + d.NotFinite + d.Negative + d.UnknownPod }

// Collect keeps the valid samples of known pods, newest first when a pod reports a key
// twice. maxAge <= 0 keeps samples of any age. Pods without any valid sample are still
// in the result with an empty map, so callers can tell "asked and got nothing" apart.
func Collect(raw []Sample, pods []string, now time.Time, maxAge time.Duration) (map[string]map[string]float64, Dropped) {
	out := make(map[string]map[string]float64, len(pods))
	for _, p := range pods {
		out[p] = map[string]float64{}
	}
	newest := map[[2]string]time.Time{}
	var d Dropped
	for _, s := range raw {
		values, known := out[s.Pod]
		switch {
		case !known:
			d.UnknownPod++
			continue
		case math.IsNaN(s.Value) || math.IsInf(s.Value, 0):
			d.NotFinite++
			continue
		case s.Value < 0:
			d.Negative++
			continue
		}
		at := s.Time
		if at.IsZero() {
			at = now
		}
		if maxAge > 0 && now.Sub(at) > maxAge {
			d.Stale++
			continue
		}
		k := [2]string{s.Pod, s.Key}
		if prev, seen := newest[k]; seen && !at.After(prev) {
			continue
		}
		newest[k] = at
		values[s.Key] = s.Value
	}
	return out, d
}
