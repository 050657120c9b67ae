package samples

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

// Ceilings are the most one pod can plausibly report, by metric type: a sample above its
// metric's ceiling is a broken exporter (a unit slip, a counter reset read as a rate,
// garbage parsed as a number), not load. A nil Ceilings means the defaults.
type Ceilings map[v1alpha1.MetricType]float64

// defaults are far above what any single media pod can do.
var defaults = Ceilings{
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

// DefaultCeilings returns a copy of the default ceilings.
func DefaultCeilings() Ceilings {
	out := make(Ceilings, len(defaults))
	for k, v := range defaults {
		out[k] = v
	}
	return out
}

// Of returns the most one pod can plausibly report of a metric key, and false for a key
// without a ceiling: a custom metric's unit is unknown, so only the decision core's bound
// relative to the per-pod target applies to it.
func (c Ceilings) Of(key string) (float64, bool) {
	if c == nil {
		c = defaults
	}
	v, ok := c[v1alpha1.MetricType(key)]
	return v, ok
}

// String writes the ceilings as ParseCeilings reads them, in v1alpha1.MetricTypes order.
func (c Ceilings) String() string {
	if c == nil {
		c = defaults
	}
	var parts []string
	for _, t := range v1alpha1.MetricTypes() {
		if v, ok := c[t]; ok {
			parts = append(parts, string(t)+"="+g(v))
		}
	}
	return strings.Join(parts, ",")
}

// ParseCeilings reads comma-separated metric=value pairs, such as
// "bandwidth=4e11,pullStreams=2e5", over the defaults: a metric not named keeps its
// default. Empty means the defaults. Each value must be a positive finite number, and
// each metric one with a fixed unit, named once.
func ParseCeilings(s string) (Ceilings, error) {
	out := DefaultCeilings()
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	seen := map[v1alpha1.MetricType]bool{}
	for _, entry := range strings.Split(s, ",") {
		name, text, ok := strings.Cut(strings.TrimSpace(entry), "=")
		name, text = strings.TrimSpace(name), strings.TrimSpace(text)
		typ := v1alpha1.MetricType(name)
		switch _, known := defaults[typ]; {
		case !ok || name == "":
			return nil, fmt.Errorf("ceiling %q: want metric=value, such as bandwidth=1e12", entry)
		case typ == v1alpha1.MetricCustom || strings.HasPrefix(name, string(v1alpha1.MetricCustom)+"/"):
			return nil, fmt.Errorf("ceiling %q: a custom metric's unit is unknown, so it has no ceiling (the decision core's bound of 100 times the per-pod target applies)", entry)
		case !known:
			return nil, fmt.Errorf("ceiling %q: unknown metric %q; want one of %s", entry, name, ceilingNames())
		case seen[typ]:
			return nil, fmt.Errorf("ceiling %q: %s is named twice", entry, name)
		}
		v, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
			return nil, fmt.Errorf("ceiling %q: %q is not a positive finite number", entry, text)
		}
		seen[typ] = true
		out[typ] = v
	}
	return out, nil
}

// ceilingNames lists the metrics that have a ceiling, for errors.
func ceilingNames() string {
	var names []string
	for _, t := range v1alpha1.MetricTypes() {
		if _, ok := defaults[t]; ok {
			names = append(names, string(t))
		}
	}
	return strings.Join(names, ", ")
}
