package simulate

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/autoscaler"
)

// hpaSpec is the upstream HorizontalPodAutoscaler on CPU with default behavior, within
// the policy's bounds, at the profile's CPU target (matchedCPUPercent fills it in).
func hpaSpec(spec *v1alpha1.ScalingPolicySpec, p Profile) *v1alpha1.ScalingPolicySpec {
	target := p.HPATargetCPUPercent
	return &v1alpha1.ScalingPolicySpec{
		TargetRef: spec.TargetRef, MinReplicas: spec.MinReplicas, MaxReplicas: spec.MaxReplicas,
		Metrics: []v1alpha1.MetricSpec{{Type: v1alpha1.MetricCPU, Target: v1alpha1.MetricTarget{AverageUtilization: &target}}},
	}
}

// runHPA replays the HorizontalPodAutoscaler: the same size arithmetic on CPU, but no
// business state. Every Ready pod takes streams, and scale-in deletes pods the way a
// workload controller picks them (not Ready first, then the newest), streams and all:
// their viewers are cut (lost) and their players retry on the pods left.
func runHPA(d Demand, w *workload, spec *v1alpha1.ScalingPolicySpec, p Profile, record int) (Result, error) {
	f := newFleet(p, w, d, func(q *pod) bool { return q.ready })
	for i := 0; i < initialPods(w, spec, p); i++ {
		f.addPod(d.Start, true)
	}
	hs := hpaSpec(spec, p)
	hist := &autoscaler.History{}
	syncEvery := p.HPASyncSeconds / p.StepSeconds
	for k := range d.Streams {
		now := f.now(k)
		f.advance(k)
		if k%syncEvery == 0 {
			f.hpaSync(now, hs, hist)
		}
		f.account(k, record)
	}
	if err := f.verify(len(d.Streams) - 1); err != nil {
		return Result{}, fmt.Errorf("hpa policy: %w", err)
	}
	return f.result(PolicyHPA), nil
}

func (f *fleet) hpaSync(now time.Time, hs *v1alpha1.ScalingPolicySpec, hist *autoscaler.History) {
	rec := autoscaler.SizeAsHPA(now, hs, f.samples(f.pods, true), hist)
	current := int32(len(f.pods))
	switch {
	case rec.Replicas > current:
		for i := current; i < rec.Replicas; i++ {
			f.addPod(now, false)
		}
	case rec.Replicas < current:
		victims := append([]*pod(nil), f.pods...)
		sort.SliceStable(victims, func(i, j int) bool {
			if victims[i].ready != victims[j].ready {
				return !victims[i].ready
			}
			return victims[i].created.After(victims[j].created)
		})
		gone := map[*pod]bool{}
		for _, v := range victims[:current-rec.Replicas] {
			gone[v] = true
		}
		// Remove first, so that retrying players only find the pods that stay.
		f.remove(gone)
		for _, v := range victims[:current-rec.Replicas] {
			f.lost += f.cut(v, true)
		}
	}
	if rec.Replicas != current {
		hist.RecordScale(now, current, rec.Replicas)
		f.scaleEvents++
	}
}

// TargetStreamsPerPod is how many streams a pod carries when the policy's most binding
// metric sits at its target, under the profile's pod model (the simulator's metric
// formulas); 0 when no metric of the policy translates to streams.
func TargetStreamsPerPod(spec *v1alpha1.ScalingPolicySpec, p Profile) float64 {
	p = p.WithDefaults()
	push := *p.PublishFraction
	perStream := map[v1alpha1.MetricType]float64{ // a metric's value per stream on a pod
		v1alpha1.MetricPullStreams:      1 - push,
		v1alpha1.MetricPushStreams:      push,
		v1alpha1.MetricBandwidth:        p.BitrateBps,
		v1alpha1.MetricPacketsPerSecond: p.BitrateBps / 8 / p.PacketBytes,
	}
	best := math.Inf(1)
	for _, m := range spec.Metrics {
		var streams float64
		switch {
		case m.Type == v1alpha1.MetricCPU && m.Target.AverageUtilization != nil:
			streams = (float64(*m.Target.AverageUtilization) - *p.CPUIdlePercent) / p.CPUPercentPerStream
		case m.Type == v1alpha1.MetricMemory && m.Target.AverageUtilization != nil:
			streams = (float64(*m.Target.AverageUtilization) - *p.MemoryIdlePercent) / p.MemoryPercentPerStream
		case perStream[m.Type] > 0 && m.Target.AverageValue != nil:
			streams = m.Target.AverageValue.AsApproximateFloat64() / perStream[m.Type]
		default:
			continue
		}
		if streams > 0 && streams < best {
			best = streams
		}
	}
	if math.IsInf(best, 1) {
		return 0
	}
	return best
}

// matchedCPUPercent is the hpa baseline's CPU target when the profile does not set one:
// the CPU a pod shows at the policy's streams per pod, so that both aim at the same
// load. Without a stream-like metric it is the upstream example's 70%.
func matchedCPUPercent(spec *v1alpha1.ScalingPolicySpec, p Profile) int32 {
	t := TargetStreamsPerPod(spec, p)
	if t <= 0 {
		return 70
	}
	return int32(max(1, min(100, math.Round(*p.CPUIdlePercent+p.CPUPercentPerStream*t))))
}
