package v1alpha1

// SampleProblem says why a pod's sample was left out as missing. Metrics sources report
// it per pod, and the controller names it in ScalingActive's message, in the
// SamplesMissing event and as the reason label of streamscaler_samples_missing_pods.
type SampleProblem string

const (
	// SampleStale: older than spec.metricsSource.maxSampleAge.
	SampleStale SampleProblem = "stale"
	// SampleUndated: no readable time, so its age cannot be shown to be within
	// maxSampleAge (annotations without streamscaler.io/metric-time).
	SampleUndated SampleProblem = "undated"
	// SampleNonNumeric: the value is not a number at all ("lots").
	SampleNonNumeric SampleProblem = "nonNumeric"
	// SampleNotFinite: NaN or infinite.
	SampleNotFinite SampleProblem = "notFinite"
	// SampleNegative: below zero, which no load is.
	SampleNegative SampleProblem = "negative"
	// SampleImplausible: above the metric's per-pod ceiling (the controller's
	// --sample-ceiling): a broken exporter, not load.
	SampleImplausible SampleProblem = "implausible"
	// SampleAmbiguous: several different values for one pod (a PromQL query that does
	// not aggregate by pod).
	SampleAmbiguous SampleProblem = "ambiguous"
	// SampleNoRequest: a utilization without the request it is a percentage of.
	SampleNoRequest SampleProblem = "noRequest"
	// SamplePartial: measured over part of the pod only (a container missing from the
	// measurement) or over a window that opened before the pod started.
	SamplePartial SampleProblem = "partial"
	// SampleUnreadable: the pod could not be read at all (its API failed or timed out,
	// or it has no IP yet).
	SampleUnreadable SampleProblem = "unreadable"
)

// SampleProblems lists every SampleProblem in the order messages name them.
func SampleProblems() []SampleProblem {
	return []SampleProblem{SampleStale, SampleUndated, SampleNonNumeric, SampleNotFinite, SampleNegative,
		SampleImplausible, SampleAmbiguous, SampleNoRequest, SamplePartial, SampleUnreadable}
}
