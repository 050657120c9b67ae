package autoscaler

import (
	"testing"
	"time"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

func TestNormalizeStabilization(t *testing.T) {
	s := spec(1, 100, valueMetric(v1alpha1.MetricPullStreams, "100"))
	s.Behavior.ScaleDown.StabilizationWindowSeconds = ptr(int32(300))
	s.Behavior.ScaleUp.StabilizationWindowSeconds = ptr(int32(60))
	h := &History{}
	steps := []struct {
		name   string
		after  time.Duration
		raw    int32
		cur    int32
		want   int32
		reason Reason
	}{
		{"a first answer is taken as is", 0, 10, 10, 10, ReasonDesiredWithinRange},
		{"a dip inside the scale-down window is held at the recent high", 60 * time.Second, 6, 10, 10, ReasonScaleDownStabilized},
		{"a spike inside the scale-up window is held at the recent low", 90 * time.Second, 14, 10, 10, ReasonScaleUpStabilized},
		{"the spike, seen for a whole window, goes through", 151 * time.Second, 14, 10, 14, ReasonDesiredWithinRange},
		{"the scale-down waits until the highs leave the window", 300 * time.Second, 6, 14, 14, ReasonScaleDownStabilized},
		{"once they have left, the fleet shrinks to the highest recent answer", 452 * time.Second, 6, 14, 6, ReasonDesiredWithinRange},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			got, reason, _ := Normalize(t0.Add(st.after), s, st.cur, st.raw, h)
			if got != st.want || reason != st.reason {
				t.Fatalf("got %d (%s), want %d (%s)", got, reason, st.want, st.reason)
			}
		})
	}
}

func TestNormalizeRatePolicies(t *testing.T) {
	cases := []struct {
		name   string
		dir    v1alpha1.Direction
		rules  v1alpha1.ScalingRules
		events []ScaleEvent
		cur    int32
		raw    int32
		want   int32
		reason Reason
	}{
		{"default scale-up: 4 pods or 100% per 15s, the larger", v1alpha1.Up, v1alpha1.ScalingRules{}, nil, 2, 20, 6, ReasonScaleUpLimit},
		{"default scale-up from a big fleet doubles it", v1alpha1.Up, v1alpha1.ScalingRules{}, nil, 10, 50, 20, ReasonScaleUpLimit},
		{"selectPolicy Min takes the smaller step", v1alpha1.Up, v1alpha1.ScalingRules{SelectPolicy: ptr(v1alpha1.SelectMin), Policies: v1alpha1.DefaultScaleUpPolicies()}, nil, 10, 50, 14, ReasonScaleUpLimit},
		{"pods added earlier in the period count against the limit", v1alpha1.Up,
			v1alpha1.ScalingRules{Policies: []v1alpha1.RatePolicy{{Type: v1alpha1.RatePods, Value: 3, PeriodSeconds: 60}}},
			[]ScaleEvent{{At: t0.Add(-30 * time.Second), Delta: 2}}, 10, 20, 11, ReasonScaleUpLimit},
		{"events older than the period do not count", v1alpha1.Up,
			v1alpha1.ScalingRules{Policies: []v1alpha1.RatePolicy{{Type: v1alpha1.RatePods, Value: 3, PeriodSeconds: 60}}},
			[]ScaleEvent{{At: t0.Add(-61 * time.Second), Delta: 2}}, 10, 20, 13, ReasonScaleUpLimit},
		{"scale-up disabled holds", v1alpha1.Up, v1alpha1.ScalingRules{SelectPolicy: ptr(v1alpha1.SelectDisabled)}, nil, 5, 9, 5, ReasonScaleUpDisabled},
		{"scale-down by at most 2 pods a minute", v1alpha1.Down,
			v1alpha1.ScalingRules{StabilizationWindowSeconds: ptr(int32(0)), Policies: []v1alpha1.RatePolicy{{Type: v1alpha1.RatePods, Value: 2, PeriodSeconds: 60}}},
			nil, 10, 3, 8, ReasonScaleDownLimit},
		{"scale-down by at most 10 percent", v1alpha1.Down,
			v1alpha1.ScalingRules{StabilizationWindowSeconds: ptr(int32(0)), Policies: []v1alpha1.RatePolicy{{Type: v1alpha1.RatePercent, Value: 10, PeriodSeconds: 60}}},
			nil, 20, 3, 18, ReasonScaleDownLimit},
		{"pods removed earlier in the period count against the scale-down limit", v1alpha1.Down,
			v1alpha1.ScalingRules{StabilizationWindowSeconds: ptr(int32(0)), Policies: []v1alpha1.RatePolicy{{Type: v1alpha1.RatePods, Value: 2, PeriodSeconds: 60}}},
			[]ScaleEvent{{At: t0.Add(-10 * time.Second), Delta: -2}}, 10, 3, 10, ReasonScaleDownLimit},
		{"scale-down disabled holds", v1alpha1.Down,
			v1alpha1.ScalingRules{StabilizationWindowSeconds: ptr(int32(0)), SelectPolicy: ptr(v1alpha1.SelectDisabled)}, nil, 10, 3, 10, ReasonScaleDownDisabled},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := spec(1, 100, valueMetric(v1alpha1.MetricPullStreams, "100"))
			r := c.rules
			if c.dir == v1alpha1.Up {
				s.Behavior.ScaleUp = &r
			} else {
				s.Behavior.ScaleDown = &r
			}
			h := &History{Events: c.events}
			got, reason, msg := Normalize(t0, s, c.cur, c.raw, h)
			if got != c.want || reason != c.reason {
				t.Fatalf("got %d (%s: %s), want %d (%s)", got, reason, msg, c.want, c.reason)
			}
		})
	}
}

func TestNormalizeBounds(t *testing.T) {
	cases := []struct {
		name      string
		cur, raw  int32
		want      int32
		reason    Reason
		limitedOK bool
	}{
		{"above max is capped", 5, 40, 20, ReasonTooManyReplicas, true},
		{"below min is raised", 5, 1, 3, ReasonTooFewReplicas, true},
		{"a fleet already above max is brought down to it", 25, 25, 20, ReasonTooManyReplicas, true},
		{"a fleet below min is raised even when the metrics agree with it", 1, 1, 3, ReasonTooFewReplicas, true},
		{"within range is left alone", 5, 7, 7, ReasonDesiredWithinRange, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := spec(3, 20, valueMetric(v1alpha1.MetricPullStreams, "100"))
			got, reason, _ := Normalize(t0, s, c.cur, c.raw, &History{})
			if got != c.want || reason != c.reason || reason.Limiting() != c.limitedOK {
				t.Fatalf("got %d (%s), want %d (%s)", got, reason, c.want, c.reason)
			}
		})
	}
}

func TestHistoryIsTrimmed(t *testing.T) {
	s := spec(1, 100, valueMetric(v1alpha1.MetricPullStreams, "100"))
	h := &History{}
	for i := 0; i < 1000; i++ {
		now := t0.Add(time.Duration(i) * 15 * time.Second)
		Normalize(now, s, 10, 10, h)
		h.RecordScale(now, 10, 11)
	}
	// The spec keeps 15s periods and 0s windows: nothing older than 15s survives.
	if len(h.Recommendations) > 2 || len(h.Events) > 2 {
		t.Fatalf("history grew to %d recommendations and %d events", len(h.Recommendations), len(h.Events))
	}
}
