package samples

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
)

func TestCollect(t *testing.T) {
	now := time.Date(2026, 7, 1, 20, 0, 0, 0, time.UTC)
	raw := []Sample{
		{Pod: "a", Key: "pullStreams", Value: 40, Time: now.Add(-10 * time.Second)},
		{Pod: "a", Key: "pullStreams", Value: 41, Time: now.Add(-5 * time.Second)},  // newer wins
		{Pod: "a", Key: "pullStreams", Value: 39, Time: now.Add(-20 * time.Second)}, // older loses
		{Pod: "a", Key: "bandwidth", Value: 1e8},                                    // live read
		{Pod: "b", Key: "pullStreams", Value: 12, Time: now.Add(-3 * time.Minute)},  // stale
		{Pod: "b", Key: "cpu", Value: math.NaN()},
		{Pod: "b", Key: "memory", Value: math.Inf(1)},
		{Pod: "b", Key: "bandwidth", Value: -1},
		{Pod: "b", Key: "packetsPerSecond", Value: 1e308},
		{Pod: "zombie", Key: "pullStreams", Value: 5},
	}
	got, d := Collect(raw, []string{"a", "b", "c"}, now, 2*time.Minute)
	want := map[string]map[string]float64{"a": {"pullStreams": 41, "bandwidth": 1e8}, "b": {}, "c": {}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if d != (Dropped{Stale: 1, NotFinite: 2, Negative: 1, Implausible: 1, UnknownPod: 1, FirstImplausible: raw[8]}) || d.Total() != 6 {
		t.Fatalf("dropped %+v", d)
	}
	all, _ := Collect(raw[4:5], []string{"b"}, now, 0)
	if all["b"]["pullStreams"] != 12 {
		t.Fatalf("without a bound every age counts: %v", all)
	}
}

func TestCollectBoundsEveryMetricKind(t *testing.T) {
	up, down := func(c float64) float64 { return math.Nextafter(c, math.Inf(1)) }, func(c float64) float64 { return math.Nextafter(c, 0) }
	kinds := []struct {
		key     string
		ceiling float64
	}{
		{"bandwidth", 1e12},
		{"packetsPerSecond", 1e9},
		{"pushStreams", 1e7},
		{"pullStreams", 1e7},
		{"cpu", 1e6},
		{"memory", 1e6},
	}
	cases := []struct {
		name  string
		value func(ceiling float64) float64
		keep  bool
		want  Dropped // counts only
	}{
		{"1e308 is implausible", func(float64) float64 { return 1e308 }, false, Dropped{Implausible: 1}},
		{"the largest float64 is implausible", func(float64) float64 { return math.MaxFloat64 }, false, Dropped{Implausible: 1}},
		{"just above the ceiling is implausible", up, false, Dropped{Implausible: 1}},
		{"the ceiling itself is kept", func(c float64) float64 { return c }, true, Dropped{}},
		{"just under the ceiling is kept", down, true, Dropped{}},
		{"+Inf is not finite", func(float64) float64 { return math.Inf(1) }, false, Dropped{NotFinite: 1}},
		{"NaN is not finite", func(float64) float64 { return math.NaN() }, false, Dropped{NotFinite: 1}},
		{"a negative value is negative", func(float64) float64 { return -1 }, false, Dropped{Negative: 1}},
		{"-1e308 is negative, not implausible", func(float64) float64 { return -1e308 }, false, Dropped{Negative: 1}},
		{"zero is kept", func(float64) float64 { return 0 }, true, Dropped{}},
	}
	for _, k := range kinds {
		if c, ok := Ceiling(k.key); !ok || c != k.ceiling {
			t.Fatalf("Ceiling(%s) = %g, %v; want %g", k.key, c, ok, k.ceiling)
		}
		for _, c := range cases {
			t.Run(k.key+": "+c.name, func(t *testing.T) {
				s := Sample{Pod: "edge-0", Key: k.key, Value: c.value(k.ceiling)}
				got, d := Collect([]Sample{s}, []string{"edge-0"}, time.Time{}, 0)
				v, kept := got["edge-0"][k.key]
				if kept != c.keep || (kept && v != s.Value) {
					t.Fatalf("kept %v (%g), want %v", kept, v, c.keep)
				}
				d.FirstImplausible = Sample{}
				if d != c.want {
					t.Fatalf("dropped %+v, want %+v", d, c.want)
				}
			})
		}
	}
}

func TestCustomMetricsHaveNoCeiling(t *testing.T) {
	// The unit of a custom metric is unknown: only the decision core's bound relative to
	// the per-pod target applies.
	if c, ok := Ceiling("custom/rtc_sessions"); ok {
		t.Fatalf("custom metric ceiling %g", c)
	}
	got, d := Collect([]Sample{{Pod: "a", Key: "custom/rtc_sessions", Value: 1e300}}, []string{"a"}, time.Time{}, 0)
	if got["a"]["custom/rtc_sessions"] != 1e300 || d.Total() != 0 {
		t.Fatalf("got %v, dropped %+v", got, d)
	}
}

func TestLogImplausibleNamesTheSample(t *testing.T) {
	var buf bytes.Buffer
	log := funcr.New(func(prefix, args string) { buf.WriteString(args + "\n") }, funcr.Options{})
	_, d := Collect([]Sample{
		{Pod: "edge-3", Key: "bandwidth", Value: 1e308},
		{Pod: "edge-4", Key: "pullStreams", Value: 2e7},
	}, []string{"edge-3", "edge-4"}, time.Time{}, 0)
	d.LogImplausible(log)
	for _, want := range []string{`"implausible"=2`, `"pod"="edge-3"`, `"metric"="bandwidth"`, `"value"="1e+308"`, `"perPodCeiling"="1e+12"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log %q lacks %s", buf.String(), want)
		}
	}
	buf.Reset()
	Dropped{Stale: 3}.LogImplausible(log)
	if buf.Len() != 0 {
		t.Fatalf("nothing implausible, yet logged %q", buf.String())
	}
}
