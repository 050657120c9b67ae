package controller

import (
	"math"
	"strings"
	"testing"
	"time"

	kruisev1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/autoscaler"
)

func TestQuantityNeverOverflows(t *testing.T) {
	cases := []struct {
		name string
		v    float64
		want string // "" for no quantity
	}{
		{"a fraction keeps milli-units", 1.5, "1500m"},
		{"just under 1e12 keeps milli-units", 999999999999.5, "999999999999500m"},
		{"a terabit is whole units", 1e12, "1T"},
		{"the largest integer below 2^63 is exact", math.Nextafter(0x1p63, 0), "9223372036854774784"},
		{"2^63 does not wrap to a negative number", 0x1p63, "9223372036854776e3"},
		{"1e19 is written with an exponent", 1e19, "10e18"},
		{"1e308, the operator's sample, stays positive", 1e308, "100e306"},
		{"the largest float64 stays itself", math.MaxFloat64, "179769313486231570e291"},
		{"a huge negative value stays negative", -1e308, "-100e306"},
		{"+Inf has no quantity", math.Inf(1), ""},
		{"NaN has no quantity", math.NaN(), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := quantity(c.v)
			if q != nil && q.Sign() != 0 && (q.Sign() > 0) != (c.v > 0) {
				t.Fatalf("quantity(%g) = %s: the sign flipped", c.v, q)
			}
			if c.want == "" {
				if q != nil {
					t.Fatalf("quantity(%g) = %s, want none", c.v, q)
				}
				return
			}
			if q == nil {
				t.Fatalf("quantity(%g) = nil, want %s", c.v, c.want)
			}
			if got := q.String(); got != c.want {
				t.Fatalf("quantity(%g) = %s, want %s", c.v, got, c.want)
			}
			if got := q.AsApproximateFloat64(); math.Abs(got-c.v) > 1e-9*math.Abs(c.v) {
				t.Fatalf("quantity(%g) reads back as %g", c.v, got)
			}
			// What the API server stores must parse back to the same value.
			back, err := resource.ParseQuantity(q.String())
			if err != nil || back.Cmp(*q) != 0 {
				t.Fatalf("%s does not round-trip: %v, %s", q, err, back.String())
			}
		})
	}
}

func TestFillStatusWithAHugeTotal(t *testing.T) {
	policy := &v1alpha1.ScalingPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "edge", Namespace: "live", Generation: 2},
		Spec:       v1alpha1.ScalingPolicySpec{MaxReplicas: 10, Metrics: []v1alpha1.MetricSpec{{Type: v1alpha1.MetricBandwidth}}},
	}
	cs := &kruisev1alpha1.CloneSet{ObjectMeta: metav1.ObjectMeta{Name: "edge"}}
	rec := &autoscaler.Recommendation{Replicas: 4, Current: 4, Reason: autoscaler.ReasonDesiredWithinRange, Active: true,
		Metrics: []autoscaler.MetricResult{{Key: "bandwidth", Type: v1alpha1.MetricBandwidth, Total: 1e308, Target: 2e9, Desired: 4, Valid: true}}}
	st := &v1alpha1.ScalingPolicyStatus{}
	(&Reconciler{}).fillStatus(st, policy, cs, nil, rec, nil, "")
	ms := st.CurrentMetrics[0]
	if ms.Total == nil || ms.Total.Sign() <= 0 || ms.Total.AsApproximateFloat64() != 1e308 {
		t.Fatalf("total %v, want 1e308", ms.Total)
	}
	if ms.AveragePerServingPod == nil || ms.AveragePerServingPod.AsApproximateFloat64() != 2.5e307 {
		t.Fatalf("average per serving pod %v, want 2.5e307", ms.AveragePerServingPod)
	}
}

func TestMissingSamplesGoWhereMissingDataHoldsTheFleet(t *testing.T) {
	policy := &v1alpha1.ScalingPolicy{ObjectMeta: metav1.ObjectMeta{Name: "edge", Namespace: "live", Generation: 1},
		Spec: v1alpha1.ScalingPolicySpec{MaxReplicas: 10, Metrics: []v1alpha1.MetricSpec{{Type: v1alpha1.MetricPullStreams}}}}
	cs := &kruisev1alpha1.CloneSet{ObjectMeta: metav1.ObjectMeta{Name: "edge"}}
	counts, note := missingSamples(map[string][]v1alpha1.SampleProblem{
		"edge-0": {v1alpha1.SampleStale}, "edge-1": {v1alpha1.SampleStale, v1alpha1.SampleImplausible}, "edge-2": {v1alpha1.SampleUnreadable}, "edge-3": nil,
	})
	if want := "samples missing for 3 pods: 2 stale, 1 implausible, 1 unreadable"; note != want || counts[v1alpha1.SampleStale] != 2 {
		t.Fatalf("note %q (counts %v), want %q", note, counts, want)
	}
	for _, c := range []struct {
		reason  autoscaler.Reason
		limited bool // whether ScalingLimited carries the note too
	}{{autoscaler.ReasonMissingMetricsHeld, true}, {autoscaler.ReasonScaleDownStabilized, false}} {
		t.Run(string(c.reason), func(t *testing.T) {
			rec := &autoscaler.Recommendation{Replicas: 4, Current: 4, Reason: c.reason, Message: "held", Active: true}
			st := &v1alpha1.ScalingPolicyStatus{}
			(&Reconciler{}).fillStatus(st, policy, cs, nil, rec, nil, note)
			active := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionScalingActive)
			limited := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionScalingLimited)
			if !strings.HasSuffix(active.Message, "; "+note) {
				t.Errorf("ScalingActive says %q", active.Message)
			}
			if strings.Contains(limited.Message, note) != c.limited {
				t.Errorf("ScalingLimited (%s) says %q", limited.Reason, limited.Message)
			}
		})
	}
	if _, note := missingSamples(map[string][]v1alpha1.SampleProblem{"edge-0": nil}); note != "" {
		t.Fatalf("no problem, yet %q", note)
	}
}

func TestStatusFiguresAreWrittenAtTheirIntervalAndTheRestAtOnce(t *testing.T) {
	t0 := metav1.Now().Time
	q := func(v int64) *resource.Quantity { return resource.NewQuantity(v, resource.DecimalSI) }
	desired := func(n int32) *int32 { return &n }
	stored := v1alpha1.ScalingPolicyStatus{
		CurrentReplicas: 10, DesiredReplicas: 10, Pods: v1alpha1.PodStateCounts{Allocated: 10},
		CurrentMetrics: []v1alpha1.MetricStatus{{Type: v1alpha1.MetricPullStreams, Total: q(800), AveragePerServingPod: q(80), DesiredReplicas: desired(10), Forecast: q(850), ForecastModel: "damped-trend"}},
	}
	figures := *stored.DeepCopy()
	figures.CurrentMetrics[0].Total, figures.CurrentMetrics[0].AveragePerServingPod, figures.CurrentMetrics[0].Forecast = q(810), q(81), q(860)
	pods := *figures.DeepCopy()
	pods.Pods = v1alpha1.PodStateCounts{Allocated: 9, Tombstone: 1}
	perMetric := *figures.DeepCopy()
	perMetric.CurrentMetrics[0].DesiredReplicas = desired(11)
	model := *figures.DeepCopy()
	model.CurrentMetrics[0].ForecastModel = "simple-exp-smoothing"
	cond := *figures.DeepCopy()
	meta.SetStatusCondition(&cond.Conditions, metav1.Condition{Type: v1alpha1.ConditionScalingLimited, Status: metav1.ConditionTrue, Reason: "TooManyReplicas"})

	for _, c := range []struct {
		name  string
		cur   v1alpha1.ScalingPolicyStatus
		since time.Duration
		every time.Duration
		want  bool
	}{
		{"figures alone wait for the interval", figures, 15 * time.Second, time.Minute, false},
		{"figures alone are written once the interval has passed", figures, time.Minute, time.Minute, true},
		{"an interval of 0 writes the figures at every pass", figures, time.Second, 0, true},
		{"pod counts are written at once", pods, time.Second, time.Minute, true},
		{"a metric's desired replicas are written at once", perMetric, time.Second, time.Minute, true},
		{"a new forecast model is written at once", model, time.Second, time.Minute, true},
		{"a condition is written at once", cond, time.Second, time.Minute, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := statusWriteDue(&stored, &c.cur, t0, t0.Add(c.since), c.every); got != c.want {
				t.Errorf("write due %v, want %v", got, c.want)
			}
		})
	}
	// The figures of the status the pass filled are not changed by the check.
	if figures.CurrentMetrics[0].Total.Cmp(*q(810)) != 0 {
		t.Errorf("the check changed the pass's figures: total %s", figures.CurrentMetrics[0].Total)
	}
}
