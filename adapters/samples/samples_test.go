package samples

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

// problems is a shorthand for a pod's reasons.
func problems(ps ...v1alpha1.SampleProblem) []v1alpha1.SampleProblem { return ps }

func TestCollect(t *testing.T) {
	now := time.Date(2026, 7, 1, 20, 0, 0, 0, time.UTC)
	raw := []Sample{
		{Pod: "a", Key: "pullStreams", Value: 40, Time: now.Add(-10 * time.Second)},
		{Pod: "a", Key: "pullStreams", Value: 41, Time: now.Add(-5 * time.Second)},  // newer wins
		{Pod: "a", Key: "pullStreams", Value: 39, Time: now.Add(-20 * time.Second)}, // older loses
		{Pod: "a", Key: "pullStreams", Value: 9, Time: now.Add(-3 * time.Minute)},   // stale, but a fresh one was kept
		{Pod: "a", Key: "bandwidth", Value: 1e8},                                    // live read
		{Pod: "b", Key: "pullStreams", Value: 12, Time: now.Add(-3 * time.Minute)},  // stale
		{Pod: "b", Key: "cpu", Value: math.NaN()},
		{Pod: "b", Key: "memory", Value: math.Inf(1)},
		{Pod: "b", Key: "bandwidth", Value: -1},
		{Pod: "b", Key: "packetsPerSecond", Value: 1e308},
		{Pod: "c", Key: "pullStreams", Problem: v1alpha1.SampleNonNumeric},
		{Pod: "d", Problem: v1alpha1.SampleUnreadable},
		{Pod: "zombie", Key: "pullStreams", Value: 5},
	}
	got, d := Collect(raw, []string{"a", "b", "c", "d", "e"}, now, 2*time.Minute, nil)
	want := map[string]map[string]float64{"a": {"pullStreams": 41, "bandwidth": 1e8}, "b": {}, "c": {}, "d": {}, "e": {}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	wantCounts := map[v1alpha1.SampleProblem]int{v1alpha1.SampleStale: 2, v1alpha1.SampleNotFinite: 2, v1alpha1.SampleNegative: 1,
		v1alpha1.SampleImplausible: 1, v1alpha1.SampleNonNumeric: 1, v1alpha1.SampleUnreadable: 1}
	if !reflect.DeepEqual(d.Samples, wantCounts) || d.UnknownPod != 1 || d.Total() != 9 || d.FirstImplausible != raw[9] || d.FirstCeiling != 1e9 {
		t.Fatalf("dropped %+v", d)
	}
	// a kept its fresh pullStreams, so its stale one made nothing missing; e was asked
	// and got nothing, which is absent, not a problem.
	wantPods := map[string][]v1alpha1.SampleProblem{
		"b": problems(v1alpha1.SampleStale, v1alpha1.SampleNotFinite, v1alpha1.SampleNegative, v1alpha1.SampleImplausible),
		"c": problems(v1alpha1.SampleNonNumeric),
		"d": problems(v1alpha1.SampleUnreadable),
	}
	if !reflect.DeepEqual(d.Pods, wantPods) {
		t.Fatalf("pods missing %v, want %v", d.Pods, wantPods)
	}
	all, _ := Collect(raw[5:6], []string{"b"}, now, 0, nil)
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
		want  v1alpha1.SampleProblem // "" when kept
	}{
		{"1e308 is implausible", func(float64) float64 { return 1e308 }, false, v1alpha1.SampleImplausible},
		{"the largest float64 is implausible", func(float64) float64 { return math.MaxFloat64 }, false, v1alpha1.SampleImplausible},
		{"just above the ceiling is implausible", up, false, v1alpha1.SampleImplausible},
		{"the ceiling itself is kept", func(c float64) float64 { return c }, true, ""},
		{"just under the ceiling is kept", down, true, ""},
		{"+Inf is not finite", func(float64) float64 { return math.Inf(1) }, false, v1alpha1.SampleNotFinite},
		{"NaN is not finite", func(float64) float64 { return math.NaN() }, false, v1alpha1.SampleNotFinite},
		{"a negative value is negative", func(float64) float64 { return -1 }, false, v1alpha1.SampleNegative},
		{"-1e308 is negative, not implausible", func(float64) float64 { return -1e308 }, false, v1alpha1.SampleNegative},
		{"zero is kept", func(float64) float64 { return 0 }, true, ""},
	}
	for _, k := range kinds {
		if c, ok := DefaultCeilings().Of(k.key); !ok || c != k.ceiling {
			t.Fatalf("DefaultCeilings().Of(%s) = %g, %v; want %g", k.key, c, ok, k.ceiling)
		}
		for _, c := range cases {
			t.Run(k.key+": "+c.name, func(t *testing.T) {
				s := Sample{Pod: "edge-0", Key: k.key, Value: c.value(k.ceiling)}
				got, d := Collect([]Sample{s}, []string{"edge-0"}, time.Time{}, 0, nil)
				v, kept := got["edge-0"][k.key]
				if kept != c.keep || (kept && v != s.Value) {
					t.Fatalf("kept %v (%g), want %v", kept, v, c.keep)
				}
				want, wantPods := map[v1alpha1.SampleProblem]int{}, map[string][]v1alpha1.SampleProblem{}
				if c.want != "" {
					want[c.want], wantPods["edge-0"] = 1, problems(c.want)
				}
				if !reflect.DeepEqual(d.Samples, want) || !reflect.DeepEqual(d.Pods, wantPods) {
					t.Fatalf("dropped %v for pods %v, want %v", d.Samples, d.Pods, want)
				}
			})
		}
	}
}

func TestConfiguredCeilingsReplaceTheDefaults(t *testing.T) {
	c, err := ParseCeilings("pullStreams=2e5")
	if err != nil {
		t.Fatal(err)
	}
	raw := []Sample{{Pod: "a", Key: "pullStreams", Value: 200001}, {Pod: "b", Key: "pullStreams", Value: 200000}, {Pod: "c", Key: "bandwidth", Value: 9e11}}
	got, d := Collect(raw, []string{"a", "b", "c"}, time.Time{}, 0, c)
	want := map[string]map[string]float64{"a": {}, "b": {"pullStreams": 200000}, "c": {"bandwidth": 9e11}}
	if !reflect.DeepEqual(got, want) || d.FirstCeiling != 2e5 {
		t.Fatalf("got %v (first ceiling %g), want %v: pullStreams bounded at 2e5, bandwidth still at its default 1e12", got, d.FirstCeiling, want)
	}
}

func TestParseCeilings(t *testing.T) {
	good := []struct {
		name, in string
		want     map[v1alpha1.MetricType]float64 // changes from the defaults
	}{
		{"empty is the defaults", "", nil},
		{"blank is the defaults", "  ", nil},
		{"one metric", "bandwidth=4e11", map[v1alpha1.MetricType]float64{"bandwidth": 4e11}},
		{"several, with spaces and plain numbers", " pullStreams = 200000 , cpu=5000,memory=1e4", map[v1alpha1.MetricType]float64{"pullStreams": 2e5, "cpu": 5000, "memory": 1e4}},
		{"every metric", "bandwidth=1,packetsPerSecond=2,pushStreams=3,pullStreams=4,cpu=5,memory=6",
			map[v1alpha1.MetricType]float64{"bandwidth": 1, "packetsPerSecond": 2, "pushStreams": 3, "pullStreams": 4, "cpu": 5, "memory": 6}},
	}
	for _, tc := range good {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCeilings(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			want := DefaultCeilings()
			for k, v := range tc.want {
				want[k] = v
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %v, want %v", got, want)
			}
			if back, err := ParseCeilings(got.String()); err != nil || !reflect.DeepEqual(back, got) {
				t.Fatalf("String %q does not read back: %v, %v", got.String(), back, err)
			}
		})
	}
	bad := []struct {
		name, in string
		says     []string
	}{
		{"an unknown metric", "bandwidth=1e12,viewers=5", []string{`"viewers=5"`, `unknown metric "viewers"`, "bandwidth, packetsPerSecond, pushStreams, pullStreams, cpu, memory"}},
		{"a custom metric", "custom/rtc_sessions=1e6", []string{`"custom/rtc_sessions=1e6"`, "custom metric's unit is unknown"}},
		{"the custom type", "custom=1", []string{`"custom=1"`, "custom metric's unit is unknown"}},
		{"a metric's case matters", "Bandwidth=1e12", []string{`unknown metric "Bandwidth"`}},
		{"no value", "cpu", []string{`"cpu"`, "want metric=value"}},
		{"no name", "=5", []string{`"=5"`, "want metric=value"}},
		{"an empty entry", "cpu=5,,memory=6", []string{`ceiling ""`, "want metric=value"}},
		{"not a number", "pullStreams=lots", []string{`"pullStreams=lots"`, `"lots" is not a positive finite number`}},
		{"a unit suffix", "bandwidth=10G", []string{`"bandwidth=10G"`, "not a positive finite number"}},
		{"zero", "cpu=0", []string{`"cpu=0"`, "not a positive finite number"}},
		{"negative", "cpu=-1", []string{"not a positive finite number"}},
		{"infinite", "cpu=+Inf", []string{"not a positive finite number"}},
		{"NaN", "cpu=NaN", []string{"not a positive finite number"}},
		{"beyond float64", "cpu=1e400", []string{"not a positive finite number"}},
		{"a metric twice", "cpu=5,cpu=6", []string{`"cpu=6"`, "cpu is named twice"}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCeilings(tc.in)
			if err == nil {
				t.Fatalf("accepted as %v", got)
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %s", err, s)
				}
			}
		})
	}
}

func TestCustomMetricsHaveNoCeiling(t *testing.T) {
	// The unit of a custom metric is unknown: only the decision core's bound relative to
	// the per-pod target applies.
	if c, ok := DefaultCeilings().Of("custom/rtc_sessions"); ok {
		t.Fatalf("custom metric ceiling %g", c)
	}
	got, d := Collect([]Sample{{Pod: "a", Key: "custom/rtc_sessions", Value: 1e300}}, []string{"a"}, time.Time{}, 0, nil)
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
	}, []string{"edge-3", "edge-4"}, time.Time{}, 0, nil)
	d.LogImplausible(log)
	for _, want := range []string{`"implausible"=2`, `"pod"="edge-3"`, `"metric"="bandwidth"`, `"value"="1e+308"`, `"perPodCeiling"="1e+12"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log %q lacks %s", buf.String(), want)
		}
	}
	buf.Reset()
	Dropped{Samples: map[v1alpha1.SampleProblem]int{v1alpha1.SampleStale: 3}}.LogImplausible(log)
	if buf.Len() != 0 {
		t.Fatalf("nothing implausible, yet logged %q", buf.String())
	}
}
