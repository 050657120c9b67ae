package autoscaler

import (
	"math"
	"time"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/statemachine"
)

// PodSample is what the decision knows of one pod.
type PodSample struct {
	// Name identifies the pod.
	Name string
	// State is the pod's business state.
	State statemachine.State
	// Since is when the pod entered State.
	Since time.Time
	// Ready is the pod's Kubernetes readiness.
	Ready bool
	// Created orders pods by age (newest init pods are cancelled first).
	Created time.Time
	// Values holds the latest sample per metric key (v1alpha1.MetricSpec.Key). A key that
	// is absent, NaN, infinite or negative counts as missing, and so does one above
	// ImplausibleFactor times the metric's per-pod target.
	Values map[string]float64
	// Leaving is set when the workload itself is removing the pod (someone else's scale-in,
	// a recreate update): the workload no longer counts it in its replicas, so the pass
	// neither counts it as serving nor keeps it nor names it for deletion.
	Leaving bool
	// Held is set when the workload waits on streamscaler to delete the pod (a Leaving pod
	// that the CloneSet's preDelete lifecycle hook holds) or to update it in place (an
	// Updating pod that the inPlaceUpdate hook holds): the pass drains it now and releases
	// it once deletable (Outcome.Release).
	Held bool
	// Updating is set when the workload is about to restart the pod's containers at a new
	// revision, or is restarting them (an in-place update): the pod stays in the
	// workload's replicas and counts toward the fleet's size, but takes no new viewers
	// until Updated.
	Updating bool
	// Updated is set once the workload has restarted the pod's containers in place: a
	// drained (deletable) pod is renewed, back to init, and serves again once Ready.
	Updated bool
	// Measured is when the pod's readings were taken, for a source that can lag the pods
	// (a scraped store); zero means a live read. A tombstoned pod is judged drained only on
	// a reading taken after it was tombstoned: an older one may predate its last players.
	Measured time.Time
}

// Value returns a metric's sample and whether it is valid.
func (p PodSample) Value(key string) (float64, bool) {
	v, ok := p.Values[key]
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return 0, false
	}
	return v, true
}

// Streams returns push plus pull streams on the pod. It is known when at least one of the
// two has a valid sample and neither has an invalid one.
func (p PodSample) Streams() (float64, bool) {
	var total float64
	known := false
	for _, k := range []string{string(v1alpha1.MetricPushStreams), string(v1alpha1.MetricPullStreams)} {
		if _, present := p.Values[k]; !present {
			continue
		}
		v, ok := p.Value(k)
		if !ok {
			return 0, false
		}
		total += v
		known = true
	}
	return total, known
}

// serving reports whether the pod counts toward the serving fleet (it takes, or will
// take, new streams). A pod the workload updates in place counts while it drains and
// restarts: it comes back, and the workload's maxUnavailable bounds how many are away
// (replacing each would create a pod per update and drain one after it).
func (p PodSample) serving() bool {
	return !p.Leaving && (p.Updating || p.State == statemachine.Init || p.State == statemachine.Allocated)
}

// takesViewers reports whether the pod takes new viewers now: allocated, Ready, and
// neither being removed nor updated by the workload.
func (p PodSample) takesViewers() bool {
	return p.State == statemachine.Allocated && p.Ready && !p.Leaving && !p.Updating
}

// PodValue is one pod's sample of one metric.
type PodValue struct {
	Pod   string
	Value float64
}

// Reason explains a recommendation; it becomes a condition reason and an event.
type Reason string

const (
	// ReasonDesiredWithinRange: the metrics' answer was applied as is.
	ReasonDesiredWithinRange Reason = "DesiredWithinRange"
	// ReasonScaleUpLimit: a scale-up rate policy held the fleet back.
	ReasonScaleUpLimit Reason = "ScaleUpLimit"
	// ReasonScaleDownLimit: a scale-down rate policy held the fleet back.
	ReasonScaleDownLimit Reason = "ScaleDownLimit"
	// ReasonTooFewReplicas: raised to minReplicas.
	ReasonTooFewReplicas Reason = "TooFewReplicas"
	// ReasonTooManyReplicas: capped at maxReplicas.
	ReasonTooManyReplicas Reason = "TooManyReplicas"
	// ReasonScaleDownStabilized: the scale-down window kept a higher recent recommendation.
	ReasonScaleDownStabilized Reason = "ScaleDownStabilized"
	// ReasonScaleUpStabilized: the scale-up window kept a lower recent recommendation.
	ReasonScaleUpStabilized Reason = "ScaleUpStabilized"
	// ReasonScaleUpDisabled: selectPolicy Disabled forbids scale-up.
	ReasonScaleUpDisabled Reason = "ScaleUpDisabled"
	// ReasonScaleDownDisabled: selectPolicy Disabled forbids scale-down.
	ReasonScaleDownDisabled Reason = "ScaleDownDisabled"
	// ReasonMissingMetricsHeld: a metric could not be computed, or a pod's sample of it was
	// implausible, so the fleet may grow but not shrink.
	ReasonMissingMetricsHeld Reason = "MissingMetricsHeld"
	// ReasonFailedGetMetrics: no metric could be computed; the fleet is held.
	ReasonFailedGetMetrics Reason = "FailedGetMetrics"
	// ReasonFallback: the metrics source kept failing and the fixed fallback raised the fleet.
	ReasonFallback Reason = "Fallback"
)

// Limiting reports whether the reason means the fleet was held back from what the metrics asked.
func (r Reason) Limiting() bool {
	switch r {
	case ReasonDesiredWithinRange, ReasonFailedGetMetrics, ReasonFallback:
		return false
	}
	return true
}

// MetricResult is one metric's share of a recommendation.
type MetricResult struct {
	// Key is the metric key (type, or custom/<name>).
	Key string
	// Type is the metric type.
	Type v1alpha1.MetricType
	// Total is the sum of valid samples over init, allocated and tombstoned pods.
	Total float64
	// Target is the per-pod target.
	Target float64
	// Missing counts allocated or tombstoned pods without a valid sample.
	Missing int
	// Implausible are the pods whose sample was above ImplausibleFactor times the
	// per-pod target: left out of Total, and counted in Missing unless the pod is starting.
	Implausible []PodValue
	// Desired is the serving pod count this metric alone asks for.
	Desired int32
	// Valid is false when the metric could not be computed at all.
	Valid bool
	// Forecast is the forecast total load used, and ForecastDesired what it asks for;
	// both 0 without a forecast.
	Forecast        float64
	ForecastDesired int32
}
