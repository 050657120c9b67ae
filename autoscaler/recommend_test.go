package autoscaler

import (
	"math"
	"testing"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/statemachine"
)

const (
	bw   = string(v1alpha1.MetricBandwidth)
	pps  = string(v1alpha1.MetricPacketsPerSecond)
	push = string(v1alpha1.MetricPushStreams)
	pull = string(v1alpha1.MetricPullStreams)
	cpu  = string(v1alpha1.MetricCPU)
	mem  = string(v1alpha1.MetricMemory)
)

func TestRecommendScalesOutOnEachMetric(t *testing.T) {
	custom := v1alpha1.MetricSpec{Type: v1alpha1.MetricCustom, Name: "rtc_sessions", Target: valueMetric(v1alpha1.MetricBandwidth, "50").Target}
	cases := []struct {
		name   string
		metric v1alpha1.MetricSpec
		key    string
		perPod float64
		want   int32
	}{
		{"bandwidth at 1.5x target asks for 1.5x pods", valueMetric(v1alpha1.MetricBandwidth, "800M"), bw, 1.2e9, 6},
		{"packets per second at 2x target doubles", valueMetric(v1alpha1.MetricPacketsPerSecond, "100k"), pps, 200e3, 8},
		{"push streams rounds up", valueMetric(v1alpha1.MetricPushStreams, "10"), push, 12, 5},
		{"pull streams at 1.25x", valueMetric(v1alpha1.MetricPullStreams, "800"), pull, 1000, 5},
		{"cpu utilization 90% of a 60% target", utilMetric(v1alpha1.MetricCPU, 60), cpu, 90, 6},
		{"memory utilization 100% of a 50% target", utilMetric(v1alpha1.MetricMemory, 50), mem, 100, 8},
		{"named custom metric", custom, "custom/rtc_sessions", 75, 6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := spec(1, 100, c.metric)
			rec := Recommend(Input{Now: t0, Spec: s, Pods: pods(4, map[string]float64{c.key: c.perPod})}, &History{})
			if rec.Replicas != c.want || rec.Reason != ReasonDesiredWithinRange || !rec.Active {
				t.Fatalf("got %d (%s, active=%v), want %d", rec.Replicas, rec.Reason, rec.Active, c.want)
			}
		})
	}
}

func TestRecommendTakesTheMaxOverMetrics(t *testing.T) {
	s := spec(1, 100, valueMetric(v1alpha1.MetricBandwidth, "100"), valueMetric(v1alpha1.MetricPullStreams, "10"), utilMetric(v1alpha1.MetricCPU, 50))
	// bandwidth asks 4*150/100=6, pull 4*30/10=12, cpu 4*40/50=3.2->4 (held by tolerance? no: 0.8 is outside 10%).
	rec := Recommend(Input{Now: t0, Spec: s, Pods: pods(4, map[string]float64{bw: 150, pull: 30, cpu: 40})}, &History{})
	if rec.Replicas != 12 || rec.Raw != 12 {
		t.Fatalf("got %d raw %d, want 12 from pull streams", rec.Replicas, rec.Raw)
	}
	got := map[string]int32{}
	for _, m := range rec.Metrics {
		got[m.Key] = m.Desired
	}
	if got[bw] != 6 || got[pull] != 12 || got[cpu] != 4 {
		t.Fatalf("per-metric answers %v, want bandwidth 6, pullStreams 12, cpu 4", got)
	}
}

func TestRecommendLoadOnTombstonedPodsCounts(t *testing.T) {
	s := spec(1, 100, valueMetric(v1alpha1.MetricPullStreams, "100"))
	ps := pods(5, map[string]float64{pull: 80})
	ps[3].State, ps[4].State = statemachine.Tombstone, statemachine.Tombstone
	// 400 streams over 3 serving pods: their viewers come back on allocated pods, so 4 are needed.
	rec := Recommend(Input{Now: t0, Spec: s, Pods: ps}, &History{})
	if rec.Current != 3 || rec.Replicas != 4 {
		t.Fatalf("current %d replicas %d, want 3 and 4", rec.Current, rec.Replicas)
	}
}

func TestRecommendTolerance(t *testing.T) {
	cases := []struct {
		name    string
		perPod  float64
		tolUp   int32
		tolDown int32
		want    int32
	}{
		{"8% over target is within the default 10%", 108, 10, 10, 10},
		{"12% over target scales out", 112, 10, 10, 12},
		{"9% under target holds", 91, 10, 10, 10},
		{"20% under target scales in", 80, 10, 10, 8},
		{"a wide scale-down tolerance holds a 20% dip", 80, 10, 25, 10},
		{"zero tolerance reacts to 5%", 105, 0, 0, 11},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := spec(1, 100, valueMetric(v1alpha1.MetricPullStreams, "100"))
			s.Behavior.ScaleUp.TolerancePercent = ptr(c.tolUp)
			s.Behavior.ScaleDown.TolerancePercent = ptr(c.tolDown)
			rec := Recommend(Input{Now: t0, Spec: s, Pods: pods(10, map[string]float64{pull: c.perPod})}, &History{})
			if rec.Replicas != c.want {
				t.Fatalf("got %d, want %d", rec.Replicas, c.want)
			}
		})
	}
}

func TestRecommendMissingSamplesNeverScaleIn(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	cases := []struct {
		name  string
		bad   map[string]float64 // values of the two bad pods; nil means the key is absent
		other float64            // per-pod value of the 8 good pods
		want  int32
		why   Reason
	}{
		// 8 pods at 10 = 80; the 2 blind pods count as 100 each: ceil(280/100) = 3, not ceil(80/100) = 1.
		{"a quiet fleet still scales in, counting the blind pods at target", nil, 10, 3, ReasonDesiredWithinRange},
		// 8 pods at 90 = 720 would ask for 8; with the blind pods at target it is 920, within tolerance of 10.
		{"absent samples hold a fleet that would otherwise shrink", nil, 90, 10, ReasonDesiredWithinRange},
		{"NaN samples are missing, not zero", map[string]float64{pull: nan}, 90, 10, ReasonDesiredWithinRange},
		{"negative samples are missing", map[string]float64{pull: -5}, 90, 10, ReasonDesiredWithinRange},
		{"infinite samples are missing", map[string]float64{pull: inf}, 90, 10, ReasonDesiredWithinRange},
		{"missing pods count as zero when scaling out", map[string]float64{pull: nan}, 150, 12, ReasonDesiredWithinRange},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := spec(1, 100, valueMetric(v1alpha1.MetricPullStreams, "100"))
			ps := pods(10, map[string]float64{pull: c.other})
			for _, i := range []int{8, 9} {
				ps[i].Values = map[string]float64{}
				for k, v := range c.bad {
					ps[i].Values[k] = v
				}
			}
			rec := Recommend(Input{Now: t0, Spec: s, Pods: ps}, &History{})
			if rec.Replicas != c.want || rec.Reason != c.why {
				t.Fatalf("got %d (%s), want %d (%s)", rec.Replicas, rec.Reason, c.want, c.why)
			}
			if rec.Metrics[0].Missing != 2 {
				t.Fatalf("missing = %d, want 2", rec.Metrics[0].Missing)
			}
		})
	}
}

func TestRecommendWithNoValidSampleHolds(t *testing.T) {
	s := spec(1, 100, valueMetric(v1alpha1.MetricPullStreams, "100"))
	rec := Recommend(Input{Now: t0, Spec: s, Pods: pods(6, map[string]float64{pull: math.NaN()})}, &History{})
	if rec.Active || rec.Replicas != 6 || rec.Reason != ReasonFailedGetMetrics {
		t.Fatalf("got %d (%s, active=%v), want 6 held with FailedGetMetrics", rec.Replicas, rec.Reason, rec.Active)
	}
	conds := Conditions(rec, 3)
	if conds[0].Type != v1alpha1.ConditionScalingActive || conds[0].Status != "False" || conds[0].Reason != string(ReasonFailedGetMetrics) {
		t.Fatalf("ScalingActive condition = %+v", conds[0])
	}
}

func TestRecommendAnInvalidMetricBlocksScaleInButNotScaleOut(t *testing.T) {
	s := spec(1, 100, valueMetric(v1alpha1.MetricPullStreams, "100"), valueMetric(v1alpha1.MetricBandwidth, "1G"))
	quiet := pods(10, map[string]float64{pull: 10, bw: math.NaN()})
	rec := Recommend(Input{Now: t0, Spec: s, Pods: quiet}, &History{})
	if rec.Replicas != 10 || rec.Reason != ReasonMissingMetricsHeld {
		t.Fatalf("quiet fleet with blind bandwidth: got %d (%s), want 10 held", rec.Replicas, rec.Reason)
	}
	busy := pods(10, map[string]float64{pull: 150, bw: math.NaN()})
	rec = Recommend(Input{Now: t0, Spec: s, Pods: busy}, &History{})
	if rec.Replicas != 15 {
		t.Fatalf("busy fleet with blind bandwidth: got %d, want 15", rec.Replicas)
	}
}

func TestRecommendStartingPodsWithoutSamplesAreNotMissing(t *testing.T) {
	s := spec(1, 100, valueMetric(v1alpha1.MetricPullStreams, "100"))
	ps := pods(4, map[string]float64{pull: 100})
	ps = append(ps, PodSample{Name: "new", State: statemachine.Init, Since: t0, Created: t0})
	rec := Recommend(Input{Now: t0, Spec: s, Pods: ps}, &History{})
	if rec.Metrics[0].Missing != 0 || rec.Current != 5 {
		t.Fatalf("missing %d current %d, want 0 and 5", rec.Metrics[0].Missing, rec.Current)
	}
}

func TestRecommendEmptyFleetRisesToMin(t *testing.T) {
	s := spec(3, 10, valueMetric(v1alpha1.MetricPullStreams, "100"))
	rec := Recommend(Input{Now: t0, Spec: s}, &History{})
	if rec.Replicas != 3 || rec.Reason != ReasonTooFewReplicas {
		t.Fatalf("got %d (%s), want 3 TooFewReplicas", rec.Replicas, rec.Reason)
	}
}

func TestRecommendCountsPendingPodsAsServing(t *testing.T) {
	s := spec(1, 100, valueMetric(v1alpha1.MetricPullStreams, "100"))
	rec := Recommend(Input{Now: t0, Spec: s, Pods: pods(4, map[string]float64{pull: 150}), Pending: 2}, &History{})
	if rec.Current != 6 || rec.Replicas != 6 {
		t.Fatalf("4 pods at 150 need 6, 2 are on their way: current %d replicas %d", rec.Current, rec.Replicas)
	}
}

func TestRecommendWhileTheSourceFails(t *testing.T) {
	withFallback := func(action v1alpha1.FallbackAction, replicas int32) *v1alpha1.ScalingPolicySpec {
		s := spec(1, 100, valueMetric(v1alpha1.MetricPullStreams, "100"))
		s.Fallback = &v1alpha1.FallbackSpec{FailureThreshold: ptr(int32(3)), Action: action, Replicas: ptr(replicas)}
		return s
	}
	cases := []struct {
		name     string
		spec     *v1alpha1.ScalingPolicySpec
		failures int32
		want     int32
		reason   Reason
	}{
		{"a first failure holds, even where samples would say shrink", withFallback(v1alpha1.FallbackFixed, 12), 1, 6, ReasonFailedGetMetrics},
		{"hold keeps holding after the threshold", withFallback(v1alpha1.FallbackHold, 12), 5, 6, ReasonFailedGetMetrics},
		{"fixed raises the fleet once the threshold is reached", withFallback(v1alpha1.FallbackFixed, 12), 3, 12, ReasonFallback},
		{"fixed never shrinks a larger fleet", withFallback(v1alpha1.FallbackFixed, 4), 9, 6, ReasonFailedGetMetrics},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The stale samples on the pods say 10 streams each: ignored while the source fails.
			rec := Recommend(Input{Now: t0, Spec: c.spec, Pods: pods(6, map[string]float64{pull: 10}), SourceFailures: c.failures}, &History{})
			if rec.Replicas != c.want || rec.Reason != c.reason || rec.Active {
				t.Fatalf("got %d (%s, active %v): %s", rec.Replicas, rec.Reason, rec.Active, rec.Message)
			}
		})
	}
}

func TestRecommendWithAForecast(t *testing.T) {
	s := spec(1, 100, valueMetric(v1alpha1.MetricPullStreams, "100"), valueMetric(v1alpha1.MetricBandwidth, "1G"))
	cases := []struct {
		name     string
		perPod   float64
		forecast map[string]float64
		want     int32
	}{
		{"a rise in the forecast scales out before the load arrives", 100, map[string]float64{pull: 1450}, 15},
		{"the largest forecast over metrics wins", 100, map[string]float64{pull: 1200, bw: 1.7e10}, 17},
		{"a forecast below the load never scales in", 100, map[string]float64{pull: 300}, 10},
		{"a low forecast cannot shrink an idle fleet below what the load asks", 40, map[string]float64{pull: 100}, 4},
		{"a forecast on a metric the policy does not use is ignored", 100, map[string]float64{"cpu": 1e6}, 10},
		{"a NaN forecast is ignored", 100, map[string]float64{pull: math.NaN()}, 10},
		{"a forecast within the scale-up tolerance does not move the fleet", 100, map[string]float64{pull: 1100}, 10},
		{"a forecast within the tolerance keeps the pods it asked for", 60, map[string]float64{pull: 1050}, 10},
		{"a forecast below the fleet holds only what it asks for", 30, map[string]float64{pull: 750}, 8},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := Recommend(Input{Now: t0, Spec: s, Pods: pods(10, map[string]float64{pull: c.perPod, bw: c.perPod * 1e7}), Forecast: c.forecast}, &History{})
			if rec.Replicas != c.want {
				t.Fatalf("got %d (%s: %s), want %d", rec.Replicas, rec.Reason, rec.Message, c.want)
			}
		})
	}
	// With a saturation level, the forecast's upper band is held against it: pods at 80
	// streams full at 120%, 96 streams.
	sat := spec(1, 100, valueMetric(v1alpha1.MetricPullStreams, "80"))
	sat.Behavior.Saturation = &v1alpha1.SaturationRule{UtilizationPercent: ptr(int32(120))}
	for _, c := range []struct {
		forecast float64
		want     int32
	}{{1440, 15}, {1050, 10}} { // 1440/96 = 15 (not 18 at the target); 1050/96 = 11, within tolerance of 10
		rec := Recommend(Input{Now: t0, Spec: sat, Pods: pods(10, map[string]float64{pull: 78}), Forecast: map[string]float64{pull: c.forecast}}, &History{})
		if rec.Replicas != c.want {
			t.Errorf("forecast %g with saturation at 120%%: got %d (%s), want %d", c.forecast, rec.Replicas, rec.Message, c.want)
		}
	}
}
