package v1alpha1

// Keys streamscaler writes on the pods of a scaled CloneSet. The state label is the
// contract with dispatchers: a Service or load balancer that selects
// StateLabel=allocated sends new streams only to pods that may take them.
const (
	// StateLabel holds the pod's business state: init, allocated, tombstone or deletable.
	StateLabel = "streamscaler.io/state"
	// StateSinceAnnotation holds when the pod entered its state (RFC 3339).
	StateSinceAnnotation = "streamscaler.io/state-since"
	// EvictedStreamsAnnotation holds how many streams were evicted at the drain timeout.
	EvictedStreamsAnnotation = "streamscaler.io/evicted-streams"
	// MetricAnnotationPrefix starts a pod annotation holding one metric sample (the
	// annotations source); the metric key follows. MetricTimeAnnotation is when the
	// samples were taken (RFC 3339). The controller reads them at the sync period: writing
	// them does not trigger a pass.
	MetricAnnotationPrefix = "streamscaler.io/metric."
	MetricTimeAnnotation   = "streamscaler.io/metric-time"
	// PolicyAnnotation names the ScalingPolicy that manages the pod's state.
	PolicyAnnotation = "streamscaler.io/policy"
	// DrainHookLabel, set to DrainHookValue, is streamscaler's OpenKruise preDelete hook:
	// a CloneSet whose spec.lifecycle.preDelete.labelsHandler names it (and whose pod
	// template carries it) does not delete a pod that has it but marks the pod
	// PreparingDelete and waits; streamscaler drains the pod and then removes the label.
	DrainHookLabel = "streamscaler.io/drain-before-delete"
	// DrainHookValue is the value of DrainHookLabel that holds a pod.
	DrainHookValue = "true"
)

// LeaderLabel, set to "true", marks the pod of the controller replica that leads: the
// replica that decides, and so the one whose external metrics API has figures. The
// external metrics API's Service selects it; every replica is Ready (the removal guard
// is served by all of them), so a Deployment of the controller rolls like any other.
const LeaderLabel = "streamscaler.io/leader"

// CleanupFinalizer is held by every ScalingPolicy the controller manages. It keeps a
// deleted policy until the pods it was draining serve again, so that none stays out of
// a Service that selects allocated pods.
const CleanupFinalizer = "streamscaler.io/cleanup"
