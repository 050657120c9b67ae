package simulate

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/statemachine"
)

// TestMatchedHPATarget: the hpa baseline aims at the same streams per pod as the policy,
// whichever of the policy's metrics binds first.
func TestMatchedHPATarget(t *testing.T) {
	q := func(s string) *resource.Quantity { v := resource.MustParse(s); return &v }
	spec := edgeSpec(0)
	spec.Metrics = []v1alpha1.MetricSpec{
		{Type: v1alpha1.MetricPullStreams, Target: v1alpha1.MetricTarget{AverageValue: q("80")}},
		{Type: v1alpha1.MetricBandwidth, Target: v1alpha1.MetricTarget{AverageValue: q("220M")}}, // 88 streams at 2.5 Mbit/s
		{Type: v1alpha1.MetricCPU, Target: v1alpha1.MetricTarget{AverageUtilization: ptr(int32(80))}},
	}
	if got := TargetStreamsPerPod(spec, Profile{}); got != 80 {
		t.Errorf("streams per pod %g, want 80 (pull streams bind first)", got)
	}
	if got := matchedCPUPercent(spec, Profile{}.WithDefaults()); got != 77 {
		t.Errorf("matched CPU target %d%%, want 77 (5%% idle + 0.9%% x 80 streams)", got)
	}
	// With the bandwidth bound lower, it binds.
	spec.Metrics[1].Target.AverageValue = q("150M")
	if got := TargetStreamsPerPod(spec, Profile{}); got != 60 {
		t.Errorf("streams per pod %g, want 60 (150M at 2.5M a stream)", got)
	}
	// A policy on custom metrics only has no stream target: hpa keeps 70%.
	spec.Metrics = []v1alpha1.MetricSpec{{Type: v1alpha1.MetricCustom, Target: v1alpha1.MetricTarget{AverageValue: q("5")}}}
	if got := matchedCPUPercent(spec, Profile{}.WithDefaults()); got != 70 {
		t.Errorf("matched CPU target without a stream metric %d%%, want 70", got)
	}
	rep, err := Run(evening(t), edgeSpec(0), Profile{PeakStreams: 1500})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Profile.HPATargetCPUPercent != 77 || rep.TargetStreamsPerPod != 80 {
		t.Errorf("report: hpa target %d%%, streams per pod %g; want 77 and 80", rep.Profile.HPATargetCPUPercent, rep.TargetStreamsPerPod)
	}
	r := byPolicy(t, rep)
	at, full := r[PolicyOracleAtTarget], r[PolicyOracle]
	if at.PodHours <= full.PodHours || at.TargetRatio != 1 || full.OracleRatio != 1 {
		t.Errorf("oracle at target %+v against oracle %+v: want more pod-hours, ratio 1 to itself", at, full)
	}
}

// TestCapacityCountsFromTheStepAPodTakesStreams: a Ready pod allocated after the step's
// streams arrived (as a pass later in the step would) is not capacity in that step, and
// the streams it could not take make the step overloaded; from the next step it counts.
func TestCapacityCountsFromTheStepAPodTakesStreams(t *testing.T) {
	d := evening(t)
	w := arrivals(d, Defaults())
	f := newFleet(Defaults(), &w, d, func(q *pod) bool { return q.ready && q.m.State() == statemachine.Allocated })
	p := f.addPod(d.Start, true) // Ready, still init
	f.settle(0)
	f.arrive(0)
	if _, err := p.m.Fire(statemachine.EventReady, statemachine.Input{Now: d.Start, Ready: true}); err != nil {
		t.Fatal(err)
	}
	f.account(0, 1)
	if f.series.Capacity[0] != 0 || f.overloadSecs == 0 || f.rejected == 0 {
		t.Fatalf("step 0: capacity %g, overload %gs, rejected %d: want no capacity, an overloaded step and rejections", f.series.Capacity[0], f.overloadSecs, f.rejected)
	}
	f.settle(1)
	f.arrive(1)
	f.account(1, 1)
	if f.series.Capacity[1] != float64(Defaults().PodCapacityStreams) {
		t.Fatalf("step 1: capacity %g once allocated, want %d", f.series.Capacity[1], Defaults().PodCapacityStreams)
	}
}
