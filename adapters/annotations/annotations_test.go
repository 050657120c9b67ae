package annotations

import (
	"context"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/streamscaler/streamscaler/adapters/samples"
	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

func podWith(name string, ann map[string]string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: ann}}
}

func TestSamples(t *testing.T) {
	now := time.Date(2026, 5, 1, 20, 0, 0, 0, time.UTC)
	fresh, stale := now.Add(-30*time.Second).Format(time.RFC3339), now.Add(-5*time.Minute).Format(time.RFC3339)
	pods := []*corev1.Pod{
		podWith("good", map[string]string{Prefix + "pullStreams": " 42 ", Prefix + "bandwidth": "1.05e8", TimeAnnotation: fresh}),
		podWith("garbage", map[string]string{Prefix + "pullStreams": "lots", Prefix + "bandwidth": "NaN", Prefix + "pushStreams": "-1", TimeAnnotation: fresh}),
		podWith("infinite", map[string]string{Prefix + "pullStreams": "+Inf", TimeAnnotation: fresh}),
		podWith("absurd", map[string]string{Prefix + "pullStreams": "1e308", Prefix + "bandwidth": "2e12", TimeAnnotation: fresh}),
		podWith("stale", map[string]string{Prefix + "pullStreams": "7", TimeAnnotation: stale}),
		podWith("undated", map[string]string{Prefix + "pullStreams": "7"}),
	}
	s := &Source{Now: func() time.Time { return now }}
	policy := &v1alpha1.ScalingPolicy{Spec: v1alpha1.ScalingPolicySpec{MetricsSource: &v1alpha1.MetricsSourceSpec{MaxSampleAge: &metav1.Duration{Duration: time.Minute}}}}
	got, missing, err := s.Samples(context.Background(), policy, pods, []string{"pullStreams", "bandwidth", "pushStreams"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]float64{
		"good":     {"pullStreams": 42, "bandwidth": 1.05e8},
		"garbage":  {},
		"infinite": {},
		"absurd":   {},
		"stale":    {},
		"undated":  {},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v (stale and undated samples are missing)", got, want)
	}
	wantMissing := map[string][]v1alpha1.SampleProblem{
		"garbage":  {v1alpha1.SampleNonNumeric, v1alpha1.SampleNotFinite, v1alpha1.SampleNegative},
		"infinite": {v1alpha1.SampleNotFinite},
		"absurd":   {v1alpha1.SampleImplausible},
		"stale":    {v1alpha1.SampleStale},
		"undated":  {v1alpha1.SampleUndated},
	}
	if !reflect.DeepEqual(missing, wantMissing) {
		t.Fatalf("missing %v, want %v", missing, wantMissing)
	}
	all, missing, _ := (&Source{}).Samples(context.Background(), policy, pods[4:], []string{"pullStreams"})
	if all["stale"]["pullStreams"] != 7 || all["undated"]["pullStreams"] != 7 || len(missing) != 0 {
		t.Fatalf("without a clock every sample counts: %v, missing %v", all, missing)
	}
	def, _, _ := s.Samples(context.Background(), &v1alpha1.ScalingPolicy{}, pods[4:5], []string{"pullStreams"})
	if len(def["stale"]) != 0 {
		t.Fatalf("a 5-minute-old sample is stale under the default 2m bound: %v", def)
	}
}

func TestSamplesHonourConfiguredCeilings(t *testing.T) {
	pods := []*corev1.Pod{podWith("edge", map[string]string{Prefix + "pullStreams": "300000", Prefix + "bandwidth": "9e11"})}
	ceilings, err := samples.ParseCeilings("pullStreams=2e5")
	if err != nil {
		t.Fatal(err)
	}
	got, missing, err := (&Source{Ceilings: ceilings}).Samples(context.Background(), nil, pods, []string{"pullStreams", "bandwidth"})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]map[string]float64{"edge": {"bandwidth": 9e11}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if want := map[string][]v1alpha1.SampleProblem{"edge": {v1alpha1.SampleImplausible}}; !reflect.DeepEqual(missing, want) {
		t.Fatalf("missing %v, want %v", missing, want)
	}
}
