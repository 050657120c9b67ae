package autoscaler

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/statemachine"
)

// kind is one metric of a type with its key and per-pod target.
type kind struct {
	metric v1alpha1.MetricSpec
	key    string
	target float64
}

// everyKind has one metric of each type.
func everyKind() []kind {
	return []kind{
		{valueMetric(v1alpha1.MetricBandwidth, "2G"), bw, 2e9},
		{valueMetric(v1alpha1.MetricPacketsPerSecond, "100k"), pps, 1e5},
		{valueMetric(v1alpha1.MetricPushStreams, "10"), push, 10},
		{valueMetric(v1alpha1.MetricPullStreams, "800"), pull, 800},
		{utilMetric(v1alpha1.MetricCPU, 70), cpu, 70},
		{utilMetric(v1alpha1.MetricMemory, 80), mem, 80},
		{v1alpha1.MetricSpec{Type: v1alpha1.MetricCustom, Name: "rtc_sessions", Target: valueMetric(v1alpha1.MetricBandwidth, "50").Target}, "custom/rtc_sessions", 50},
	}
}

func TestRecommendAnImplausibleSampleNeitherFloodsNorShrinks(t *testing.T) {
	// Ten allocated pods: p09 reports bad(target), the nine others `others` times the target.
	// The rate policy would allow 10 -> 110 at once, so only the sizing stands between
	// a broken exporter and maxReplicas.
	cases := []struct {
		name            string
		bad             func(target float64) float64
		others          float64
		want            int32
		why             Reason
		implausible     int
		missing         int
		countedAsLoadOf float64 // the bad pod's share of the total, in targets
	}{
		{"1e308 on a fleet at target holds", func(float64) float64 { return 1e308 }, 1, 10, ReasonDesiredWithinRange, 1, 1, 0},
		{"1e308 on a quiet fleet does not scale in", func(float64) float64 { return 1e308 }, 0.1, 10, ReasonMissingMetricsHeld, 1, 1, 0},
		{"1e308 on a busy fleet grows on the other pods alone", func(float64) float64 { return 1e308 }, 1.5, 14, ReasonDesiredWithinRange, 1, 1, 0},
		{"just above 100x the target is left out", func(tg float64) float64 { return math.Nextafter(ImplausibleFactor*tg, math.Inf(1)) }, 1, 10, ReasonDesiredWithinRange, 1, 1, 0},
		{"exactly 100x the target is load", func(tg float64) float64 { return ImplausibleFactor * tg }, 1, 100, ReasonTooManyReplicas, 0, 0, ImplausibleFactor},
		{"just under 100x the target is load", func(tg float64) float64 { return math.Nextafter(ImplausibleFactor*tg, 0) }, 0.1, 100, ReasonTooManyReplicas, 0, 0, ImplausibleFactor},
		{"+Inf is missing, not implausible", func(float64) float64 { return math.Inf(1) }, 1, 10, ReasonDesiredWithinRange, 0, 1, 0},
		{"NaN is missing, not implausible", func(float64) float64 { return math.NaN() }, 1, 10, ReasonDesiredWithinRange, 0, 1, 0},
		{"a negative value is missing, not implausible", func(float64) float64 { return -1 }, 1, 10, ReasonDesiredWithinRange, 0, 1, 0},
	}
	for _, k := range everyKind() {
		for _, c := range cases {
			t.Run(k.key+": "+c.name, func(t *testing.T) {
				ps := pods(10, map[string]float64{k.key: c.others * k.target})
				ps[9].Values[k.key] = c.bad(k.target)
				rec := Recommend(Input{Now: t0, Spec: spec(1, 100, k.metric), Pods: ps}, &History{})
				if rec.Replicas != c.want || rec.Reason != c.why || !rec.Active {
					t.Fatalf("got %d (%s, active=%v: %s), want %d (%s)", rec.Replicas, rec.Reason, rec.Active, rec.Message, c.want, c.why)
				}
				m := rec.Metrics[0]
				if len(m.Implausible) != c.implausible || m.Missing != c.missing {
					t.Fatalf("implausible %v missing %d, want %d and %d", m.Implausible, m.Missing, c.implausible, c.missing)
				}
				if want := (9*c.others + c.countedAsLoadOf) * k.target; math.Abs(m.Total-want) > 1e-6*want {
					t.Fatalf("total %g, want %g", m.Total, want)
				}
				if c.implausible > 0 && (m.Implausible[0].Pod != "p09" || !strings.Contains(rec.Message, "p09")) {
					t.Fatalf("the message must name the pod: %q (%v)", rec.Message, m.Implausible)
				}
			})
		}
	}
}

func TestRecommendAnImplausibleSampleOnAStartingPod(t *testing.T) {
	// A starting pod's sample counts as load when it has one; an absurd one does not.
	ps := pods(4, map[string]float64{pull: 800})
	ps = append(ps, PodSample{Name: "new", State: statemachine.Init, Values: map[string]float64{pull: 1e308}, Since: t0, Created: t0})
	rec := Recommend(Input{Now: t0, Spec: spec(1, 100, valueMetric(v1alpha1.MetricPullStreams, "800")), Pods: ps}, &History{})
	if rec.Replicas != 5 || len(rec.Metrics[0].Implausible) != 1 || rec.Metrics[0].Missing != 0 {
		t.Fatalf("got %d (%s) %+v, want 5 held with one implausible sample and no missing pod", rec.Replicas, rec.Message, rec.Metrics[0])
	}
}

func TestDecideWithA1e308SampleKeepsTheFleet(t *testing.T) {
	// The operator's case, through the whole pass with the default rate policies: one
	// pod's bandwidth reads 1e308. The fleet neither runs to its limit nor shrinks.
	s := spec(2, 50, valueMetric(v1alpha1.MetricBandwidth, "2G"), valueMetric(v1alpha1.MetricPullStreams, "800"))
	s.Behavior = nil
	for _, quiet := range []bool{false, true} {
		ps := pods(8, map[string]float64{bw: 1.9e9, pull: 790})
		if quiet {
			ps = pods(8, map[string]float64{bw: 2e8, pull: 80})
		}
		ps[3].Values[bw] = 1e308
		mem := &Memory{started: true}
		for step := range 20 { // five minutes: past the default scale-down window
			now := t0.Add(time.Duration(step) * 15 * time.Second)
			o, err := Decide(Snapshot{Now: now, Spec: s, Pods: ps, Replicas: 8}, mem)
			if err != nil {
				t.Fatal(err)
			}
			rec := o.Recommendation
			if rec == nil {
				continue
			}
			if rec.Replicas != 8 || rec.Raw > 8 || o.Scale.Write {
				t.Fatalf("quiet=%v step %d: desired %d raw %d (%s: %s), scale %+v; want the 8 pods held", quiet, step, rec.Replicas, rec.Raw, rec.Reason, rec.Message, o.Scale)
			}
			mem.Commit(o)
		}
	}
}

func TestCountsFromFloatsNeverWrap(t *testing.T) {
	cases := []struct {
		name string
		x    float64
		want int32
	}{
		{"floating-point noise is forgiven", 3.0000000000004, 3},
		{"just under MaxInt32 rounds up to it", math.MaxInt32 - 0.5, math.MaxInt32},
		{"MaxInt32 + 1 saturates", math.MaxInt32 + 1, math.MaxInt32},
		{"1e308 saturates, never wraps to a negative count", 1e308, math.MaxInt32},
		{"+Inf saturates", math.Inf(1), math.MaxInt32},
		{"a negative answer is 0", -1e308, 0},
		{"NaN is 0", math.NaN(), 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ceilReplicas(c.x); got != c.want {
				t.Fatalf("ceilReplicas(%g) = %d, want %d", c.x, got, c.want)
			}
		})
	}
}

func TestRatePoliciesNeverWrap(t *testing.T) {
	// A million pods may grow by a huge rate: the allowance is beyond int32 and must
	// saturate, not wrap to a negative number that would freeze the fleet.
	cases := []struct {
		name   string
		policy v1alpha1.RatePolicy
	}{
		{"a percentage beyond int32", v1alpha1.RatePolicy{Type: v1alpha1.RatePercent, Value: 1e6, PeriodSeconds: 15}},
		{"a pod count beyond int32", v1alpha1.RatePolicy{Type: v1alpha1.RatePods, Value: math.MaxInt32, PeriodSeconds: 15}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := spec(1, 2e9, valueMetric(v1alpha1.MetricPullStreams, "100"))
			s.Behavior.ScaleUp.Policies = []v1alpha1.RatePolicy{c.policy}
			got, reason, msg := Normalize(t0, s, 1e6, 15e8, &History{})
			if got != 15e8 || reason != ReasonDesiredWithinRange {
				t.Fatalf("got %d (%s: %s), want 1500000000 within range", got, reason, msg)
			}
			s.Behavior.ScaleDown.Policies = []v1alpha1.RatePolicy{c.policy}
			got, reason, msg = Normalize(t0, s, 15e8, 2, &History{})
			if got != 2 || reason != ReasonDesiredWithinRange {
				t.Fatalf("scale-down: got %d (%s: %s), want 2 within range", got, reason, msg)
			}
		})
	}
}
