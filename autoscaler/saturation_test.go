package autoscaler

import (
	"math"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

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

// A confident forecast runs pods fuller: with the saturation level at 120% of an
// 80-stream target, a forecast with a 0% recent error holds the load now at 88 streams a
// pod (halfway), an error of ConfidentErrorPercent or more keeps the target.
func TestRecommendConfidentForecastRunsPodsFuller(t *testing.T) {
	s := saturatedSpec(120)
	run := func(perPod, forecast, errPercent float64, mutate func(*Input)) Recommendation {
		in := Input{Now: t0, Spec: s, Pods: pods(10, map[string]float64{pull: perPod}),
			Forecast: map[string]float64{pull: forecast}, ForecastError: map[string]float64{pull: errPercent}}
		if mutate != nil {
			mutate(&in)
		}
		return Recommend(in, &History{})
	}
	cases := []struct {
		name                  string
		perPod, forecast, err float64
		mutate                func(*Input)
		want                  int32
	}{
		{"confident: 900 streams on 88-stream pods need 11, not 12 at the target", 90, 950, 0, nil, 11},
		{"an error at the confidence bound keeps the target", 90, 950, ConfidentErrorPercent, nil, 12},
		{"an error of 15% runs pods at 82 streams: 11", 90, 950, 15, nil, 11},
		{"confident: 700 streams shrink the fleet to 8 (88 a pod), not 9", 70, 720, 0, nil, 8},
		{"the forecast's band keeps spare: 1,000 streams forecast at 96 a pod hold 10 within the tolerance", 70, 1000, 0, nil, 10},
		{"a forecast far below the load never takes the fleet below the load at 88 a pod", 70, 100, 0, nil, 8},
		{"the forecast's rise beyond the tolerance scales out at 96 a pod", 70, 1440, 0, nil, 15},
		{"without an error record yet the target holds", 70, 720, -1, nil, 9},
		{"a forecast raised by a scheduled event keeps the target", 70, 720, 0, func(in *Input) { in.Event = "final" }, 9},
		{"a missing sample keeps the target and its rule (the pod counted at target): 9", 70, 720, 0, func(in *Input) { delete(in.Pods[0].Values, pull) }, 9},
		{"no error for the metric: the target holds", 70, 720, 0, func(in *Input) { in.ForecastError = nil }, 9},
		{"a NaN forecast with a record is no forecast: the target holds", 70, math.NaN(), 0, nil, 9},
		{"an infinite forecast is no forecast either", 70, math.Inf(1), 0, nil, 9},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := run(c.perPod, c.forecast, c.err, c.mutate)
			if rec.Replicas != c.want {
				t.Fatalf("got %d (raw %d, %s: %s), want %d", rec.Replicas, rec.Raw, rec.Reason, rec.Message, c.want)
			}
		})
	}
	t.Run("the decision says when pods run fuller, and only then", func(t *testing.T) {
		rec := run(70, 720, 0, nil)
		want := pull + " held at 88 per pod against a target of 80, forecast error 0%; 8 serving pods where the target asks for 9"
		if rec.Fuller != want || !strings.HasPrefix(rec.Message, "pods run fuller on a confident forecast ("+want+"); ") {
			t.Errorf("fuller %q, message %q; want %q in front of the message", rec.Fuller, rec.Message, want)
		}
		for _, other := range []Recommendation{
			run(70, 720, ConfidentErrorPercent, nil), // the target holds
			run(70, 1000, 0, nil),                    // the band keeps the 10 pods there are
			run(70, 720, -1, nil),                    // no record yet
		} {
			if other.Fuller != "" || strings.Contains(other.Message, "fuller") {
				t.Errorf("%d pods: fuller %q, message %q; want neither to say pods run fuller", other.Replicas, other.Fuller, other.Message)
			}
		}
	})
	t.Run("saturated pods still grow at the fastest rate", func(t *testing.T) {
		rec := run(100, 1000, 0, nil)
		if rec.Replicas != 20 || rec.Saturated == "" {
			t.Fatalf("got %d saturated %q; want 20 (doubled)", rec.Replicas, rec.Saturated)
		}
	})
}

// TestDecideRunsPodsFullerOnATrackRecord: the pass hands Recommend the forecaster's own
// error. A flat load of 700 streams on 10 pods, forecast without error for an hour, lets
// the pass hold them at 88 a pod (8 pods); the same forecaster before its first scored
// forecast keeps the target (9 pods).
func TestDecideRunsPodsFullerOnATrackRecord(t *testing.T) {
	s := saturatedSpec(120)
	s.Prediction = &v1alpha1.PredictionSpec{Enabled: true, Horizon: &metav1.Duration{Duration: 5 * time.Minute}}
	for _, c := range []struct {
		name    string
		minutes int
		want    int32
	}{{"no scored forecast yet", 0, 9}, {"an hour of exact forecasts", 60, 8}} {
		t.Run(c.name, func(t *testing.T) {
			f, err := NewLoadForecaster(s, time.Minute, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			history := make([]float64, 3*24*60)
			for i := range history {
				history[i] = 700
			}
			f.Seed(pull, t0, history)
			now := t0
			for range c.minutes {
				now = now.Add(time.Minute)
				f.Observe(now, map[string]float64{pull: 700})
			}
			if e := f.Status(pull).ErrorPercent; (c.minutes == 0) != (e < 0) {
				t.Fatalf("forecast error %v after %d minutes", e, c.minutes)
			}
			o, err := Decide(Snapshot{Now: now, Spec: s, Pods: pods(10, map[string]float64{pull: 70}), Replicas: 10}, &Memory{Forecaster: f, started: true})
			if err != nil {
				t.Fatal(err)
			}
			if rec := o.Recommendation; rec == nil || rec.Replicas != c.want {
				t.Fatalf("recommendation %+v, want %d serving pods", rec, c.want)
			}
		})
	}
}
