package autoscaler

import (
	"time"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/statemachine"
)

// SizeAsHPA sizes a fleet the way the upstream HorizontalPodAutoscaler does, for the
// simulator's baseline: with no business state, every Ready pod serves and a pod that is
// not Ready is starting, its samples ignored. The states in pods are not read.
func SizeAsHPA(now time.Time, spec *v1alpha1.ScalingPolicySpec, pods []PodSample, hist *History) Recommendation {
	view := make([]PodSample, len(pods))
	for i, p := range pods {
		p.State = statemachine.Init
		if p.Ready {
			p.State = statemachine.Allocated
		} else {
			p.Values = nil
		}
		view[i] = p
	}
	return Recommend(Input{Now: now, Spec: spec, Pods: view}, hist)
}
