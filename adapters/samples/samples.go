package samples

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
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

// ceilings are the most one pod can report of each metric: far above what any single
// media pod can do, so a sample above one is a broken exporter (a unit slip, a counter
// reset read as a rate, garbage parsed as a number), not load.
var ceilings = map[v1alpha1.MetricType]float64{
	// 1 Tbit/s (in plus out): above a 400 Gbit/s NIC's 800 both ways, 100x an SRS pod's
	// ~10 Gbit/s.
	v1alpha1.MetricBandwidth: 1e12,
	// 1 G packets/s: 100x what a kernel network stack moves for a whole host, and above a
	// 100 Gbit/s NIC's line rate in minimum-size frames both ways (~300 M/s).
	v1alpha1.MetricPacketsPerSecond: 1e9,
	// 10 M streams: about 10x Linux's default per-process descriptor limit (fs.nr_open,
	// 1048576), and 10 M players at 100 kbit/s is already the bandwidth ceiling.
	v1alpha1.MetricPushStreams: 1e7,
	v1alpha1.MetricPullStreams: 1e7,
	// 1,000,000 %: 10,000 times the pod's request (or, from SRS, 10,000 cores).
	v1alpha1.MetricCPU:    1e6,
	v1alpha1.MetricMemory: 1e6,
}

// Ceiling returns the most one pod can plausibly report of a metric key, and false for a
// key without one: a custom metric's unit is unknown, so only the decision core's bound
// relative to the per-pod target applies to it.
func Ceiling(key string) (float64, bool) {
	if strings.HasPrefix(key, string(v1alpha1.MetricCustom)+"/") {
		return 0, false
	}
	c, ok := ceilings[v1alpha1.MetricType(key)]
	return c, ok
}

// Dropped counts what Collect left out and why, for logs and self-metrics.
type Dropped struct {
	Stale, NotFinite, Negative, Implausible, UnknownPod int
	// FirstImplausible is the first sample left out as implausible, to name in the log.
	FirstImplausible Sample
}

// Total is the number of samples left out.
func (d Dropped) Total() int {
	return d.Stale + d.NotFinite + d.Negative + d.Implausible + d.UnknownPod
}

// KeysAndValues are the counts as logr key-value pairs.
func (d Dropped) KeysAndValues() []any {
	return []any{"stale", d.Stale, "notFinite", d.NotFinite, "negative", d.Negative, "implausible", d.Implausible, "unknownPod", d.UnknownPod}
}

// LogImplausible reports implausible samples at the default level: unlike a late or
// absent sample, one means an exporter is broken, and someone has to fix it.
func (d Dropped) LogImplausible(log logr.Logger) {
	if d.Implausible == 0 {
		return
	}
	s := d.FirstImplausible
	ceiling, _ := Ceiling(s.Key)
	log.Info("Implausible samples left out as missing: an exporter is broken",
		"implausible", d.Implausible, "pod", s.Pod, "metric", s.Key, "value", g(s.Value), "perPodCeiling", g(ceiling))
}

// g writes a number short (1e+308), whatever the logger does with floats.
func g(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

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
		case implausible(s):
			if d.Implausible == 0 {
				d.FirstImplausible = s
			}
			d.Implausible++
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

// implausible reports whether a sample is above its metric's per-pod ceiling.
func implausible(s Sample) bool {
	c, ok := Ceiling(s.Key)
	return ok && s.Value > c
}
