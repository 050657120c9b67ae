package autoscaler

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/statemachine"
)

// saturatedSpec scales on pull streams at 80 a pod, doubling at most every 15 s, with the
// saturation rule at the given percent of target.
func saturatedSpec(percent int32) *v1alpha1.ScalingPolicySpec {
	s := spec(1, 200, valueMetric(v1alpha1.MetricPullStreams, "80"))
	s.Behavior = &v1alpha1.Behavior{
		ScaleUp:    &v1alpha1.ScalingRules{Policies: []v1alpha1.RatePolicy{{Type: v1alpha1.RatePercent, Value: 100, PeriodSeconds: 15}, {Type: v1alpha1.RatePods, Value: 4, PeriodSeconds: 15}}},
		Saturation: &v1alpha1.SaturationRule{UtilizationPercent: ptr(percent)},
	}
	return s
}

func TestRecommendSaturation(t *testing.T) {
	full := map[string]float64{pull: 100} // a pod at its capacity of 100: 125% of target
	t.Run("full pods grow at the fastest allowed rate, not by what they report", func(t *testing.T) {
		rec := Recommend(Input{Now: t0, Spec: saturatedSpec(120), Pods: pods(10, full)}, &History{})
		if rec.Replicas != 20 || rec.Raw != 20 || !strings.Contains(rec.Saturated, "pullStreams at 125%") || !strings.Contains(rec.Message, "saturated") {
			t.Fatalf("got %d raw %d saturated %q message %q; want 20 (doubled, where the samples say 13)", rec.Replicas, rec.Raw, rec.Saturated, rec.Message)
		}
	})
	t.Run("pods still starting are not doubled again", func(t *testing.T) {
		ps := append(pods(10, full), pods(10, nil)...)
		for i := 10; i < 20; i++ {
			ps[i].Name, ps[i].State, ps[i].Ready = name(i), statemachine.Init, false
		}
		rec := Recommend(Input{Now: t0, Spec: saturatedSpec(120), Pods: ps}, &History{})
		if rec.Current != 20 || rec.Replicas != 20 {
			t.Fatalf("current %d, got %d: want 20 kept (10 Ready pods doubled), not 40", rec.Current, rec.Replicas)
		}
	})
	t.Run("below the threshold the samples size the fleet", func(t *testing.T) {
		rec := Recommend(Input{Now: t0, Spec: saturatedSpec(120), Pods: pods(10, map[string]float64{pull: 95})}, &History{})
		if rec.Replicas != 12 || rec.Saturated != "" {
			t.Fatalf("got %d saturated %q; want 12 from 950 streams", rec.Replicas, rec.Saturated)
		}
	})
	t.Run("refusals saturate below the utilization threshold, and with it off", func(t *testing.T) {
		refusing := func(percent int32, perPod float64) *Recommendation {
			s := saturatedSpec(percent)
			q := resource.MustParse("0.5")
			s.Behavior.Saturation.RefusedStreamsPerSecond = &q
			ps := pods(10, map[string]float64{pull: 85}) // 106% of target, below 120%
			for i := range ps[:4] {                      // four pods refuse; the others have no reading
				ps[i].Values[v1alpha1.KeyRefusedStreams] = perPod
			}
			rec := Recommend(Input{Now: t0, Spec: s, Pods: ps}, &History{})
			return &rec
		}
		for _, percent := range []int32{120, 0} {
			if rec := refusing(percent, 0.25); rec.Replicas != 20 || !strings.Contains(rec.Saturated, "1 new streams/s refused by 4 Ready serving pods") {
				t.Errorf("utilizationPercent %d, 1 refusal/s: got %d saturated %q; want 20 (doubled, where 850 streams ask for 10 within the tolerance)", percent, rec.Replicas, rec.Saturated)
			}
		}
		if rec := refusing(120, 0.1); rec.Saturated != "" || rec.Replicas != 10 {
			t.Errorf("0.4 refusals/s under a threshold of 0.5: got %d saturated %q; want 10 (850 streams, within the tolerance)", rec.Replicas, rec.Saturated)
		}
	})
	t.Run("refusals from pods with room to spare do not grow the fleet", func(t *testing.T) {
		s := saturatedSpec(0)
		q := resource.MustParse("0.5")
		s.Behavior.Saturation.RefusedStreamsPerSecond = &q
		ps := pods(10, map[string]float64{pull: 60, v1alpha1.KeyRefusedStreams: 50}) // 75% of target
		if rec := Recommend(Input{Now: t0, Spec: s, Pods: ps}, &History{}); rec.Saturated != "" || rec.Replicas != 8 {
			t.Errorf("got %d saturated %q; want 8 from the samples: a broken refusal reading must not run the fleet to its maximum", rec.Replicas, rec.Saturated)
		}
	})
	t.Run("off by default", func(t *testing.T) {
		s := saturatedSpec(120)
		s.Behavior.Saturation = nil
		if rec := Recommend(Input{Now: t0, Spec: s, Pods: pods(10, full)}, &History{}); rec.Replicas != 13 || rec.Saturated != "" {
			t.Fatalf("got %d saturated %q; want 13 from the samples", rec.Replicas, rec.Saturated)
		}
	})
	t.Run("an implausible sample is not saturation", func(t *testing.T) {
		ps := pods(10, map[string]float64{pull: 70})
		ps[0].Values = map[string]float64{pull: 1e308}
		if rec := Recommend(Input{Now: t0, Spec: saturatedSpec(120), Pods: ps}, &History{}); rec.Saturated != "" || rec.Replicas > 10 {
			t.Fatalf("got %d saturated %q; want no growth", rec.Replicas, rec.Saturated)
		}
	})
	t.Run("a small fleet grows by growthPercent, not by the Pods policy's 10", func(t *testing.T) {
		s := saturatedSpec(120)
		s.Behavior.ScaleUp.Policies[1].Value = 10 // 2 pods may become 12 in one period
		for _, c := range []struct {
			growth *int32
			want   int32
		}{{nil, 4}, {ptr(int32(300)), 8}, {ptr(int32(1000)), 12}} {
			s.Behavior.Saturation.GrowthPercent = c.growth
			if rec := Recommend(Input{Now: t0, Spec: s, Pods: pods(2, full)}, &History{}); rec.Replicas != c.want {
				t.Errorf("growthPercent %v: got %d, want %d", c.growth, rec.Replicas, c.want)
			}
		}
	})
	t.Run("a Ready pod without a sample is not saturation", func(t *testing.T) {
		ps := pods(10, full)
		ps[9].Values = nil // a new pod a lagging source has not scraped yet
		if rec := Recommend(Input{Now: t0, Spec: saturatedSpec(120), Pods: ps}, &History{}); rec.Saturated != "" || rec.Replicas > 13 {
			t.Fatalf("got %d saturated %q; want the samples' answer, no faster", rec.Replicas, rec.Saturated)
		}
	})
	t.Run("the fastest rate follows selectPolicy", func(t *testing.T) {
		s := saturatedSpec(120)
		if got := fastestUp(s, 2); got != 6 {
			t.Errorf("from 2 pods: %d, want 6 (4 pods beat 100%%)", got)
		}
		s.Behavior.ScaleUp.SelectPolicy = ptr(v1alpha1.SelectMin)
		if got := fastestUp(s, 2); got != 4 {
			t.Errorf("from 2 pods with Min: %d, want 4", got)
		}
	})
}
