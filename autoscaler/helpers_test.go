package autoscaler

import (
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/statemachine"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

func valueMetric(t v1alpha1.MetricType, target string) v1alpha1.MetricSpec {
	q := resource.MustParse(target)
	return v1alpha1.MetricSpec{Type: t, Target: v1alpha1.MetricTarget{AverageValue: &q}}
}

func utilMetric(t v1alpha1.MetricType, pct int32) v1alpha1.MetricSpec {
	return v1alpha1.MetricSpec{Type: t, Target: v1alpha1.MetricTarget{AverageUtilization: &pct}}
}

// spec returns a policy with no stabilization and no rate limit, so a test sees the raw
// metric answer unless it configures behavior itself.
func spec(minR, maxR int32, metrics ...v1alpha1.MetricSpec) *v1alpha1.ScalingPolicySpec {
	free := &v1alpha1.ScalingRules{
		StabilizationWindowSeconds: ptr(int32(0)),
		Policies:                   []v1alpha1.RatePolicy{{Type: v1alpha1.RatePercent, Value: 1000, PeriodSeconds: 15}},
	}
	return &v1alpha1.ScalingPolicySpec{
		TargetRef:   v1alpha1.TargetRef{Name: "edge"},
		MinReplicas: ptr(minR), MaxReplicas: maxR, Metrics: metrics,
		Behavior: &v1alpha1.Behavior{ScaleUp: free, ScaleDown: free.DeepCopy()},
	}
}

// pods makes n allocated, ready pods named p0..p{n-1}, each with the given values.
func pods(n int, values map[string]float64) []PodSample {
	out := make([]PodSample, n)
	for i := range out {
		v := map[string]float64{}
		for k, x := range values {
			v[k] = x
		}
		out[i] = PodSample{Name: name(i), State: statemachine.Allocated, Ready: true, Since: t0, Created: t0, Values: v}
	}
	return out
}

func name(i int) string { return "p" + string(rune('0'+i/10)) + string(rune('0'+i%10)) }

func durationPtr(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }
