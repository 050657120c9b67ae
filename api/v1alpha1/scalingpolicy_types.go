package v1alpha1

import (
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MetricType names a per-pod signal the autoscaler can scale on.
// +kubebuilder:validation:Enum=bandwidth;packetsPerSecond;pushStreams;pullStreams;cpu;memory;custom
// +kubebuilder:validation:MaxLength=16
type MetricType string

const (
	// MetricBandwidth is the pod's media bandwidth in bits per second (in plus out).
	MetricBandwidth MetricType = "bandwidth"
	// MetricPacketsPerSecond is the pod's media packet rate (RTC servers).
	MetricPacketsPerSecond MetricType = "packetsPerSecond"
	// MetricPushStreams is the number of publishing clients (push streams) on the pod.
	MetricPushStreams MetricType = "pushStreams"
	// MetricPullStreams is the number of playing clients (pull streams) on the pod.
	MetricPullStreams MetricType = "pullStreams"
	// MetricCPU is CPU use as a percentage of the pod's CPU request.
	MetricCPU MetricType = "cpu"
	// MetricMemory is memory use as a percentage of the pod's memory request.
	MetricMemory MetricType = "memory"
	// MetricCustom is a named metric supplied by the metrics source.
	MetricCustom MetricType = "custom"
)

// KeyRefusedStreams is the metric key of the new streams a pod refused, per second
// (behavior.saturation.refusedStreamsPerSecond). It is not a metric to scale on: no source
// has a built-in reading of it, so the policy gives one (a Prometheus query of the
// server's or load balancer's refusals, or an annotation).
const KeyRefusedStreams = "refusedStreams"

// MetricTypes lists every metric type in a stable order.
func MetricTypes() []MetricType {
	return []MetricType{MetricBandwidth, MetricPacketsPerSecond, MetricPushStreams, MetricPullStreams, MetricCPU, MetricMemory, MetricCustom}
}

// IsUtilization reports whether the metric is a percentage of the pod's request.
func (t MetricType) IsUtilization() bool { return t == MetricCPU || t == MetricMemory }

// TargetRef names the workload to scale.
type TargetRef struct {
	// apiVersion of the target; only apps.kruise.io/v1alpha1 is supported.
	// +kubebuilder:default="apps.kruise.io/v1alpha1"
	// +kubebuilder:validation:Enum="apps.kruise.io/v1alpha1"
	// +optional
	APIVersion string `json:"apiVersion,omitempty"`
	// kind of the target; only CloneSet is supported.
	// +kubebuilder:default=CloneSet
	// +kubebuilder:validation:Enum=CloneSet
	// +optional
	Kind string `json:"kind,omitempty"`
	// name of the CloneSet, in the policy's namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`
	Name string `json:"name"`
}

// MetricTarget is the per-pod level the autoscaler aims at. Exactly one field is set:
// averageUtilization for cpu and memory, averageValue for every other type.
// +kubebuilder:validation:XValidation:rule="has(self.averageValue) != has(self.averageUtilization)",message="set exactly one of averageValue and averageUtilization"
// +kubebuilder:validation:XValidation:rule="!has(self.averageValue) || quantity(string(self.averageValue)).isGreaterThan(quantity('0'))",message="must be greater than zero",fieldPath=".averageValue"
type MetricTarget struct {
	// averageValue is the per-pod target in the metric's unit (bits/s, packets/s, streams, ...).
	// It must be greater than zero.
	// +optional
	AverageValue *resource.Quantity `json:"averageValue,omitempty"`
	// averageUtilization is the per-pod target as a percentage of the pod's request (cpu, memory).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	// +optional
	AverageUtilization *int32 `json:"averageUtilization,omitempty"`
}

// MetricSpec is one signal and its per-pod target.
// +kubebuilder:validation:XValidation:rule="!has(self.type) || self.type != 'custom' || has(self.name)",message="a custom metric needs a name",fieldPath=".name",reason="FieldValueRequired"
// +kubebuilder:validation:XValidation:rule="!has(self.type) || self.type == 'custom' || !has(self.name)",message="only custom metrics have a name",fieldPath=".name",reason="FieldValueForbidden"
// +kubebuilder:validation:XValidation:rule="!has(self.type) || !(self.type in ['bandwidth', 'packetsPerSecond', 'pushStreams', 'pullStreams', 'cpu', 'memory', 'custom']) || !has(self.target) || has(self.target.averageValue) == has(self.target.averageUtilization) || (self.type == 'cpu' || self.type == 'memory') == has(self.target.averageUtilization)",messageExpression="self.type == 'cpu' || self.type == 'memory' ? self.type + ' takes target.averageUtilization, a percentage of the request' : self.type + ' takes target.averageValue, a per-pod value'",message="cpu and memory take target.averageUtilization; other types take target.averageValue",fieldPath=".target"
type MetricSpec struct {
	// type of the metric.
	Type MetricType `json:"type"`
	// name of a custom metric, as the metrics source knows it.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-zA-Z_:][a-zA-Z0-9_:.-]*$`
	// +optional
	Name string `json:"name,omitempty"`
	// target is the per-pod level to aim at.
	Target MetricTarget `json:"target"`
}

// Key identifies the metric within a policy: its type, or custom/<name>.
func (m MetricSpec) Key() string {
	if m.Type == MetricCustom {
		return string(MetricCustom) + "/" + m.Name
	}
	return string(m.Type)
}

// SelectPolicy says which rate policy wins when several apply.
// +kubebuilder:validation:Enum=Max;Min;Disabled
type SelectPolicy string

const (
	// SelectMax allows the largest change.
	SelectMax SelectPolicy = "Max"
	// SelectMin allows the smallest change.
	SelectMin SelectPolicy = "Min"
	// SelectDisabled forbids scaling in this direction.
	SelectDisabled SelectPolicy = "Disabled"
)

// RatePolicyType is the unit of a rate policy.
// +kubebuilder:validation:Enum=Pods;Percent
type RatePolicyType string

const (
	// RatePods limits the change to a number of pods per period.
	RatePods RatePolicyType = "Pods"
	// RatePercent limits the change to a percentage of the replicas at the period's start.
	RatePercent RatePolicyType = "Percent"
)

// RatePolicy limits how fast the fleet changes, as in the HorizontalPodAutoscaler.
type RatePolicy struct {
	// type is Pods or Percent.
	Type RatePolicyType `json:"type"`
	// value is the number of pods or the percentage allowed per period; greater than zero.
	// +kubebuilder:validation:Minimum=1
	Value int32 `json:"value"`
	// periodSeconds is the window the limit applies to.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1800
	PeriodSeconds int32 `json:"periodSeconds"`
}

// ScalingRules configure one direction of scaling, with HorizontalPodAutoscaler semantics.
type ScalingRules struct {
	// stabilizationWindowSeconds: scale up to the lowest, or down to the highest,
	// recommendation seen in this window. Defaults: 0 up, 300 down.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=3600
	// +optional
	StabilizationWindowSeconds *int32 `json:"stabilizationWindowSeconds,omitempty"`
	// selectPolicy picks among policies: Max (default), Min or Disabled.
	// +kubebuilder:default=Max
	// +optional
	SelectPolicy *SelectPolicy `json:"selectPolicy,omitempty"`
	// policies limit the rate of change. Defaults: up, 100% or 4 pods per 15s (Max);
	// down, 100% per 15s.
	// +kubebuilder:validation:MaxItems=10
	// +listType=atomic
	// +optional
	Policies []RatePolicy `json:"policies,omitempty"`
	// tolerancePercent: no scaling while the load-to-target ratio is within this many
	// percent of 1. Default 10.
	// +kubebuilder:default=10
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=100
	// +optional
	TolerancePercent *int32 `json:"tolerancePercent,omitempty"`
}

// Behavior configures scale-up and scale-down separately.
type Behavior struct {
	// scaleUp rules.
	// +optional
	ScaleUp *ScalingRules `json:"scaleUp,omitempty"`
	// scaleDown rules. Scale-down only tombstones pods; they are removed once drained.
	// +optional
	ScaleDown *ScalingRules `json:"scaleDown,omitempty"`
	// saturation says when the serving pods are full, so that their metrics no longer
	// show the demand (a full pod refuses what is above its capacity and reports only
	// what it carries). While saturated, the fleet grows at the fastest rate scaleUp
	// allows, counted from the Ready serving pods (so pods still starting are not
	// doubled again), until the pods are no longer full; like Knative's panic mode.
	// +optional
	Saturation *SaturationRule `json:"saturation,omitempty"`
}

// SaturationRule is when the serving fleet counts as full.
type SaturationRule struct {
	// utilizationPercent: the Ready serving pods are saturated when, on any metric, their
	// mean sample is at least this share of the metric's per-pod target. Set it between
	// the target plus its tolerance and the pods' real capacity (at 80 streams a pod and a
	// capacity of 100, 120 means 96 streams a pod on average): streamscaler does not know
	// the capacity, so the rule is off (0) unless set, and the fleet then grows as the
	// HorizontalPodAutoscaler would.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=1000
	// +kubebuilder:default=0
	// +optional
	UtilizationPercent *int32 `json:"utilizationPercent,omitempty"`
	// growthPercent bounds one saturated decision: the fleet grows by at most this share
	// of its Ready serving pods (100 doubles it), and never faster than scaleUp's rate
	// policies allow. A Pods policy meant for small fleets (add 10) would otherwise add
	// several times a small fleet on every burst. Default 100.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	// +kubebuilder:default=100
	// +optional
	GrowthPercent *int32 `json:"growthPercent,omitempty"`
	// refusedStreamsPerSecond: the Ready serving pods are also saturated when together
	// they refuse at least this many new streams per second, read as the refusedStreams
	// metric key, which the metrics source must provide (for Prometheus, a query in
	// metricsSource.prometheus.queries.refusedStreams). Refusals measure the demand above
	// capacity where utilizationPercent has to assume where capacity is. They count only
	// while the Ready pods carry at least their target on some metric: pods that refuse
	// with room to spare point at a broken reading, and growing would not stop it. Unset
	// is off.
	// +kubebuilder:validation:XValidation:rule="quantity(string(self)).isGreaterThan(quantity('0'))",message="must be greater than zero"
	// +optional
	RefusedStreamsPerSecond *resource.Quantity `json:"refusedStreamsPerSecond,omitempty"`
}

// EvictionAction is what is done, at the drain timeout, to streams still on a tombstoned pod.
// +kubebuilder:validation:Enum=none;srsKick;httpHook
type EvictionAction string

const (
	// EvictNone cuts nothing itself: the pod is deleted and its server's own graceful stop ends the streams.
	EvictNone EvictionAction = "none"
	// EvictSRSKick kicks each remaining client through the SRS HTTP API so that players reconnect elsewhere.
	EvictSRSKick EvictionAction = "srsKick"
	// EvictHTTPHook asks an HTTP hook on the pod to move its streams.
	EvictHTTPHook EvictionAction = "httpHook"
)

// TombstoneSpec configures draining of pods chosen for scale-in.
type TombstoneSpec struct {
	// drainTimeout is how long a tombstoned pod may wait for its streams to end before
	// what is left is evicted. Default 30m; between 0s and 24h.
	// +kubebuilder:default="30m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule=`self.matches('^[-+]?(0|(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$') && duration(self) >= duration('0s') && duration(self) <= duration('24h')`,message="must be a duration between 0s and 24h, such as 30m or 1h30m"
	// +optional
	DrainTimeout *metav1.Duration `json:"drainTimeout,omitempty"`
	// idleStreams: a tombstoned pod with at most this many streams (push plus pull)
	// counts as drained. Default 0.
	// +kubebuilder:default=0
	// +kubebuilder:validation:Minimum=0
	// +optional
	IdleStreams *int32 `json:"idleStreams,omitempty"`
	// evictionAction at the drain timeout: none, srsKick or httpHook. Default none.
	// +kubebuilder:default=none
	// +optional
	EvictionAction EvictionAction `json:"evictionAction,omitempty"`
}

// MetricsSourceType names where per-pod samples come from.
// +kubebuilder:validation:Enum=prometheus;srs;metricsAPI;annotations
type MetricsSourceType string

const (
	// SourcePrometheus queries a Prometheus-compatible API (Prometheus, Thanos, Mimir, VictoriaMetrics).
	SourcePrometheus MetricsSourceType = "prometheus"
	// SourceSRS reads each pod's SRS HTTP API.
	SourceSRS MetricsSourceType = "srs"
	// SourceMetricsAPI reads metrics.k8s.io (CPU and memory only).
	SourceMetricsAPI MetricsSourceType = "metricsAPI"
	// SourceAnnotations reads streamscaler.io/metric.<key> pod annotations.
	SourceAnnotations MetricsSourceType = "annotations"
)

// SecretKeyRef names a key of a Secret in the policy's namespace.
type SecretKeyRef struct {
	// name of the Secret.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
	// key in the Secret's data.
	// +kubebuilder:validation:MinLength=1
	Key string `json:"key"`
}

// PrometheusSource configures the Prometheus source for one policy.
type PrometheusSource struct {
	// address of the query API, such as http://prometheus.monitoring:9090; default: the
	// controller's --prometheus-address.
	// +kubebuilder:validation:Pattern=`^https?://`
	// +optional
	Address string `json:"address,omitempty"`
	// podLabel is the series label that names the pod. Default "pod" (applied when the
	// prometheus block is written; without it the source uses the same default).
	// +kubebuilder:default=pod
	// +optional
	PodLabel string `json:"podLabel,omitempty"`
	// queries override the built-in PromQL per metric key (bandwidth, pullStreams, cpu,
	// custom/<name>, ...). In a query, $namespace and $pods are replaced by the policy's
	// namespace and a regular expression matching the target's pod names.
	// +optional
	Queries map[string]string `json:"queries,omitempty"`
	// bearerTokenSecretRef holds a bearer token for the query API.
	// +optional
	BearerTokenSecretRef *SecretKeyRef `json:"bearerTokenSecretRef,omitempty"`
}

// SRSSource configures the SRS HTTP API source.
type SRSSource struct {
	// port of the SRS HTTP API on each pod. Default 1985 (applied when the srs block is
	// written; without it the source uses the same default).
	// +kubebuilder:default=1985
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	// +optional
	Port int32 `json:"port,omitempty"`
}

// MetricsSourceSpec says where this policy's samples come from.
type MetricsSourceSpec struct {
	// type of the source; default: the controller's --metrics-source.
	// +optional
	Type MetricsSourceType `json:"type,omitempty"`
	// prometheus settings, for type prometheus.
	// +optional
	Prometheus *PrometheusSource `json:"prometheus,omitempty"`
	// srs settings, for type srs.
	// +optional
	SRS *SRSSource `json:"srs,omitempty"`
	// maxSampleAge: older samples count as missing. Default 2m.
	// +kubebuilder:default="2m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule=`self.matches('^[-+]?(0|(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$') && duration(self) >= duration('1s') && duration(self) <= duration('1h')`,message="must be a duration between 1s and 1h, such as 90s or 2m"
	// +optional
	MaxSampleAge *metav1.Duration `json:"maxSampleAge,omitempty"`
}

// FallbackAction is what happens after a metrics source keeps failing.
// +kubebuilder:validation:Enum=hold;fixed
type FallbackAction string

const (
	// FallbackHold keeps the serving fleet as it is.
	FallbackHold FallbackAction = "hold"
	// FallbackFixed raises the serving fleet to at least fallback.replicas; blind, it never shrinks it.
	FallbackFixed FallbackAction = "fixed"
)

// FallbackSpec says what to do when the metrics source fails.
// +kubebuilder:validation:XValidation:rule="!has(self.action) || self.action != 'fixed' || has(self.replicas)",message="action fixed needs replicas",fieldPath=".replicas",reason="FieldValueRequired"
type FallbackSpec struct {
	// failureThreshold is the number of consecutive failed reads before the fallback applies. Default 3.
	// +kubebuilder:default=3
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	FailureThreshold *int32 `json:"failureThreshold,omitempty"`
	// action: hold (default) or fixed.
	// +kubebuilder:default=hold
	// +optional
	Action FallbackAction `json:"action,omitempty"`
	// replicas for action fixed: the least serving pods while the source fails.
	// +kubebuilder:validation:Minimum=1
	// +optional
	Replicas *int32 `json:"replicas,omitempty"`
}

// PredictionSpec turns on forecast-driven scale-out.
type PredictionSpec struct {
	// enabled: scale out ahead of forecast load. With behavior.saturation set, a forecast
	// with a good recent record (error under 20%) also runs pods fuller: the load now is
	// held up to halfway between the target and the saturation level, the forecast's
	// upper band against the saturation level. A forecast alone never takes the fleet
	// below the load now at that level.
	// +optional
	Enabled bool `json:"enabled,omitempty"`
	// horizon: how far ahead to be ready; default 5m, about the time a new pod takes
	// to become allocated. Between 1m and 2h.
	// +kubebuilder:default="5m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule=`self.matches('^[-+]?(0|(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$') && duration(self) >= duration('1m') && duration(self) <= duration('2h')`,message="must be a duration between 1m and 2h, such as 5m or 15m"
	// +optional
	Horizon *metav1.Duration `json:"horizon,omitempty"`
	// history: how much load history each metric keeps for fitting; default 7 days, between 1h and 28d.
	// +kubebuilder:default="168h"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule=`self.matches('^[-+]?(0|(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$') && duration(self) >= duration('1h') && duration(self) <= duration('672h')`,message="must be a duration between 1h and 672h (28 days), such as 168h"
	// +optional
	History *metav1.Duration `json:"history,omitempty"`
	// season: the load's period, such as 24h; unset detects it (1 day or 1 week); 0s means none.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule=`self.matches('^[-+]?(0|(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$') && duration(self) >= duration('0s') && duration(self) <= duration('336h')`,message="must be a duration between 0s and 336h (14 days), such as 24h"
	// +optional
	Season *metav1.Duration `json:"season,omitempty"`
	// marginPercent is added on top of the forecast's upper band (itself the 90th percentile of
	// recent forecast errors above the point forecast); default 0.
	// +kubebuilder:default=0
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=200
	// +optional
	MarginPercent *int32 `json:"marginPercent,omitempty"`
	// events are known times of large audiences (a match, a show, a launch). From
	// eventLead before each start until its end the forecast is at least the load before the
	// event times its lift: liftPercent when given, else the lift past events had at the
	// same point of their course (learned from the load history), a horizon ahead. An event
	// with neither changes nothing until one has been seen.
	// +kubebuilder:validation:MaxItems=1000
	// +listType=atomic
	// +optional
	Events []ScheduledEvent `json:"events,omitempty"`
	// eventsConfigMap names a ConfigMap in the policy's namespace whose key holds more
	// events, for a schedule kept apart from the policy (a fixture list or programme
	// guide that another team or system writes). The key holds CSV with a header row
	// naming start (RFC 3339), duration (such as 2h) and name, and optionally
	// liftPercent, in any order: the file `streamscaler simulate --events` reads. Its
	// events are checked as events' are (at most 1000) and join them. The
	// controller reads it again at most once a minute; the EventsLoaded condition says
	// what it read, or why it could not, in which case the events it last read stay in
	// force.
	// +optional
	EventsConfigMap *ConfigMapKey `json:"eventsConfigMap,omitempty"`
	// eventLead is how long before an event's start the fleet gets ready for it (viewers
	// arrive before kickoff); default 15m, between 1m and 2h.
	// +kubebuilder:default="15m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule=`self.matches('^[-+]?(0|(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$') && duration(self) >= duration('1m') && duration(self) <= duration('2h')`,message="must be a duration between 1m and 2h, such as 15m"
	// +optional
	EventLead *metav1.Duration `json:"eventLead,omitempty"`
}

// ConfigMapKey names a key of a ConfigMap in the policy's namespace.
type ConfigMapKey struct {
	// name of the ConfigMap.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`
	// key of its data that holds the events; default events.csv.
	// +kubebuilder:default="events.csv"
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	// +optional
	Key string `json:"key,omitempty"`
}

// ScheduledEvent is one known event: when it starts, how long it lasts and, optionally,
// how much it lifts the load.
type ScheduledEvent struct {
	// name says what it is, for status and logs.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	Name string `json:"name"`
	// start is when it begins (RFC 3339, such as 1998-07-12T19:00:00Z).
	Start metav1.Time `json:"start"`
	// duration is how long it lasts, between 1m and 24h.
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule=`self.matches('^[-+]?(0|(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$') && duration(self) >= duration('1m') && duration(self) <= duration('24h')`,message="must be a duration between 1m and 24h, such as 2h"
	Duration metav1.Duration `json:"duration"`
	// liftPercent is the expected peak load as a percentage of the load before the event
	// (300: three times it). Unset: learned from past events.
	// +kubebuilder:validation:Minimum=100
	// +kubebuilder:validation:Maximum=100000
	// +optional
	LiftPercent *int32 `json:"liftPercent,omitempty"`
}

// ScalingPolicySpec says which CloneSet to scale and how.
// +kubebuilder:validation:XValidation:rule="!has(self.minReplicas) || !has(self.maxReplicas) || self.maxReplicas < 1 || self.minReplicas <= self.maxReplicas",messageExpression="'must not exceed maxReplicas (%d)'.format([self.maxReplicas])",message="must not exceed maxReplicas",fieldPath=".minReplicas"
// +kubebuilder:validation:XValidation:rule="!has(self.metrics) || self.metrics.all(m, !has(m.type) || m.type == 'custom' && !has(m.name) || self.metrics.exists_one(n, has(n.type) && n.type == m.type && (m.type != 'custom' || has(n.name) && n.name == m.name)))",messageExpression="'%s appears more than once; each metric may appear only once (custom metrics once per name)'.format([self.metrics.filter(m, has(m.type) && (m.type != 'custom' || has(m.name)) && self.metrics.filter(n, has(n.type) && n.type == m.type && (m.type != 'custom' || has(n.name) && n.name == m.name)).size() > 1).map(m, m.type == 'custom' ? 'custom/%s'.format([m.name]) : m.type)[0]])",message="each metric may appear only once (custom metrics once per name)",fieldPath=".metrics"
type ScalingPolicySpec struct {
	// targetRef names the CloneSet to scale.
	TargetRef TargetRef `json:"targetRef"`
	// minReplicas is the fewest serving pods. Default 1.
	// +kubebuilder:default=1
	// +kubebuilder:validation:Minimum=1
	// +optional
	MinReplicas *int32 `json:"minReplicas,omitempty"`
	// maxReplicas is the most serving pods.
	// +kubebuilder:validation:Minimum=1
	MaxReplicas int32 `json:"maxReplicas"`
	// metrics to scale on; the fleet is sized for the most demanding one.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=10
	// +listType=atomic
	Metrics []MetricSpec `json:"metrics"`
	// behavior limits how fast the fleet grows and shrinks.
	// +optional
	Behavior *Behavior `json:"behavior,omitempty"`
	// tombstone configures draining before removal. Defaults to {}, so that the drain
	// defaults in force are stored.
	// +kubebuilder:default={}
	// +optional
	Tombstone *TombstoneSpec `json:"tombstone,omitempty"`
	// prediction scales out ahead of forecast load. Not defaulted: without the block
	// forecasting is off; once it is written, its defaults are stored.
	// +optional
	Prediction *PredictionSpec `json:"prediction,omitempty"`
	// metricsSource says where samples come from. Defaults to {}, so that maxSampleAge is
	// stored; an unset type means the controller's --metrics-source.
	// +kubebuilder:default={}
	// +optional
	MetricsSource *MetricsSourceSpec `json:"metricsSource,omitempty"`
	// fallback applies after the metrics source failed failureThreshold times in a row.
	// Defaults to {}, so that the threshold and action in force are stored.
	// +kubebuilder:default={}
	// +optional
	Fallback *FallbackSpec `json:"fallback,omitempty"`
	// syncPeriod is how often the policy is evaluated. Default 15s; between 1s and 10m.
	// +kubebuilder:default="15s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule=`self.matches('^[-+]?(0|(([0-9]+([.][0-9]*)?|[.][0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$') && duration(self) >= duration('1s') && duration(self) <= duration('10m')`,message="must be a duration between 1s and 10m, such as 15s or 1m"
	// +optional
	SyncPeriod *metav1.Duration `json:"syncPeriod,omitempty"`
	// paused stops all changes to pods and the CloneSet; status is still reported.
	// +optional
	Paused bool `json:"paused,omitempty"`
	// dryRun computes and reports decisions in status without acting on them.
	// +optional
	DryRun bool `json:"dryRun,omitempty"`
}

// PodStateCounts counts pods per business state.
type PodStateCounts struct {
	// init pods are starting and take no streams.
	Init int32 `json:"init"`
	// allocated pods take new streams.
	Allocated int32 `json:"allocated"`
	// tombstone pods take no new streams and are draining.
	Tombstone int32 `json:"tombstone"`
	// deletable pods are drained and waiting for removal.
	Deletable int32 `json:"deletable"`
}

// MetricStatus is the last observed value of one metric.
type MetricStatus struct {
	// type of the metric.
	Type MetricType `json:"type"`
	// name of a custom metric.
	// +optional
	Name string `json:"name,omitempty"`
	// total over all pods with a valid sample.
	// +optional
	Total *resource.Quantity `json:"total,omitempty"`
	// averagePerServingPod is total divided by init plus allocated pods.
	// +optional
	AveragePerServingPod *resource.Quantity `json:"averagePerServingPod,omitempty"`
	// desiredReplicas is what this metric alone asks for.
	// +optional
	DesiredReplicas *int32 `json:"desiredReplicas,omitempty"`
	// missingPods counts pods without a valid sample.
	// +optional
	MissingPods int32 `json:"missingPods,omitempty"`
	// forecast is the forecast total load the fleet is readied for (upper band, margin included).
	// +optional
	Forecast *resource.Quantity `json:"forecast,omitempty"`
	// forecastModel is the model the forecast came from.
	// +optional
	ForecastModel string `json:"forecastModel,omitempty"`
	// forecastErrorPercent is the recent error of the forecast: weighted absolute percentage error of the point forecasts against what was then observed.
	// +optional
	ForecastErrorPercent *int32 `json:"forecastErrorPercent,omitempty"`
}

// Condition types of a ScalingPolicy.
const (
	// ConditionAbleToScale is False when the target cannot be read or updated.
	ConditionAbleToScale = "AbleToScale"
	// ConditionScalingActive is False when no metric can be computed, or when an older
	// policy names the same CloneSet (reason AmbiguousTarget).
	ConditionScalingActive = "ScalingActive"
	// ConditionScalingLimited is True when bounds or rate policies held the fleet back.
	ConditionScalingLimited = "ScalingLimited"
	// ConditionRemovalsDrain is True when the CloneSet declares streamscaler's preDelete
	// hook (DrainHookLabel), so that every removal of a pod, whoever asks for it, waits
	// for the pod's drain; False when a removal by anyone else cuts viewers at once.
	ConditionRemovalsDrain = "RemovalsDrain"
	// ConditionEventsLoaded is set only for a policy with prediction.eventsConfigMap:
	// True when the ConfigMap's schedule was read and is valid, False when it cannot be
	// read or is not valid (the message names what is wrong, and the events last read
	// stay in force).
	ConditionEventsLoaded = "EventsLoaded"
)

// ReasonAmbiguousTarget is ScalingActive's reason on a policy that names a CloneSet an
// older policy in its namespace already manages: it changes nothing while that one is there.
const ReasonAmbiguousTarget = "AmbiguousTarget"

// ScalingPolicyStatus is what the controller last saw and decided.
type ScalingPolicyStatus struct {
	// observedGeneration is the spec generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// currentReplicas is the CloneSet's replica count.
	// +optional
	CurrentReplicas int32 `json:"currentReplicas,omitempty"`
	// desiredReplicas is the serving pod count the last decision asked for.
	// +optional
	DesiredReplicas int32 `json:"desiredReplicas,omitempty"`
	// pods counts pods per business state.
	// +optional
	Pods PodStateCounts `json:"pods,omitempty"`
	// lastScaleTime is when the serving pod count last changed.
	// +optional
	LastScaleTime *metav1.Time `json:"lastScaleTime,omitempty"`
	// currentMetrics are the last observed values.
	// +listType=atomic
	// +optional
	CurrentMetrics []MetricStatus `json:"currentMetrics,omitempty"`
	// conditions: AbleToScale, ScalingActive, ScalingLimited.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// ScalingPolicy scales an OpenKruise CloneSet of media servers without cutting live streams.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=sp;spol,categories=streamscaler
// +kubebuilder:printcolumn:name="Target",type=string,JSONPath=`.spec.targetRef.name`
// +kubebuilder:printcolumn:name="Min",type=integer,JSONPath=`.spec.minReplicas`
// +kubebuilder:printcolumn:name="Max",type=integer,JSONPath=`.spec.maxReplicas`
// +kubebuilder:printcolumn:name="Current",type=integer,JSONPath=`.status.currentReplicas`
// +kubebuilder:printcolumn:name="Desired",type=integer,JSONPath=`.status.desiredReplicas`
// +kubebuilder:printcolumn:name="Allocated",type=integer,JSONPath=`.status.pods.allocated`
// +kubebuilder:printcolumn:name="Tombstone",type=integer,JSONPath=`.status.pods.tombstone`
// +kubebuilder:printcolumn:name="Active",type=string,JSONPath=`.status.conditions[?(@.type=="ScalingActive")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ScalingPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the desired behaviour.
	Spec ScalingPolicySpec `json:"spec"`
	// status is the observed state.
	// +optional
	Status ScalingPolicyStatus `json:"status,omitempty"`
}

// ScalingPolicyList is a list of ScalingPolicies.
// +kubebuilder:object:root=true
type ScalingPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	// items are the policies.
	Items []ScalingPolicy `json:"items"`
}
