package controller

import (
	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/autoscaler"
	"github.com/streamscaler/streamscaler/statemachine"
)

// Self-metrics, served on the manager's metrics endpoint. Names follow
// streamscaler_<subsystem>_<name>_<unit>; every series of a policy carries its
// namespace and policy labels, and goes when the policy goes.
var (
	podTransitions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "streamscaler_pod_transitions_total",
		Help: "Pod business-state transitions, by from, to and event (the reason).",
	}, []string{"namespace", "policy", "from", "to", "event"})
	podsByState = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "streamscaler_pod_state_pods",
		Help: "Pods of the target per business state.",
	}, []string{"namespace", "policy", "state"})
	stateDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "streamscaler_pod_state_duration_seconds",
		Help:    "Time pods spent in a state, observed when they leave it (tombstone: the drain time).",
		Buckets: prometheus.ExponentialBuckets(1, 2, 18), // 1s to about 36h
	}, []string{"namespace", "policy", "state"})
	fleetReplicas = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "streamscaler_fleet_replicas",
		Help: "Replica counts: current (the CloneSet's spec.replicas), desired (serving pods decided), recommended (the metrics' raw answer), predicted (what forecasts alone ask for).",
	}, []string{"namespace", "policy", "kind"})
	metricValue = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "streamscaler_metric_value",
		Help: "Total load of a metric over the target's pods (valid samples only).",
	}, []string{"namespace", "policy", "metric"})
	metricTarget = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "streamscaler_metric_target_per_pod",
		Help: "Per-pod target of a metric.",
	}, []string{"namespace", "policy", "metric"})
	metricImplausible = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "streamscaler_metric_implausible_pods",
		Help: "Pods whose sample of a metric was above 100 times its per-pod target in the last decision: a broken exporter; the sample was left out as missing.",
	}, []string{"namespace", "policy", "metric"})
	samplesMissing = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "streamscaler_samples_missing_pods",
		Help: "Pods the metrics source left without some sample in the last decision, by reason (stale, undated, nonNumeric, notFinite, negative, implausible, ambiguous, noRequest, partial, unreadable); a pod counts under each of its reasons.",
	}, []string{"namespace", "policy", "reason"})
	metricForecast = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "streamscaler_metric_forecast",
		Help: "Forecast total load of a metric the fleet is readied for (upper band over the horizon).",
	}, []string{"namespace", "policy", "metric"})
	evictedStreams = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "streamscaler_eviction_streams_total",
		Help: "Streams cut at drain timeouts, by eviction action.",
	}, []string{"namespace", "policy", "action"})
	evictionsRunning = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "streamscaler_evictions_running",
		Help: "Drain-timeout evictions running in the background now (at most --max-concurrent-evictions).",
	})
	decisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "streamscaler_decision_total",
		Help: "Scaling decisions by reason (DesiredWithinRange, ScaleUpLimit, FailedGetMetrics, ...).",
	}, []string{"namespace", "policy", "reason"})
	reconcileDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "streamscaler_reconcile_duration_seconds",
		Help:    "Duration of one reconcile pass.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
	}, []string{"namespace", "policy"})
	reconcileErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "streamscaler_reconcile_errors_total",
		Help: "Failed reconcile stages: target, pods, metrics, evict, state, scale, status, finalizer, release.",
	}, []string{"namespace", "policy", "stage"})
	cacheWaits = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "streamscaler_cache_behind_total",
		Help: "Passes that found the informer cache behind a write of the controller's own, by what they did: wait (ran again 100 ms later) or direct (read from the API server after 5 s).",
	}, []string{"namespace", "policy", "action"})
	writeConflicts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "streamscaler_write_conflicts_total",
		Help: "Writes refused because another writer changed the object first, by stage; the pass is retried at once.",
	}, []string{"namespace", "policy", "stage"})
)

func init() {
	ctrlmetrics.Registry.MustRegister(podTransitions, podsByState, stateDuration, fleetReplicas, metricValue,
		metricTarget, metricImplausible, samplesMissing, metricForecast, evictedStreams, evictionsRunning, decisions, reconcileDuration, reconcileErrors, writeConflicts, cacheWaits)
}

// Replica kinds of streamscaler_fleet_replicas.
const (
	replicasCurrent     = "current"
	replicasDesired     = "desired"
	replicasRecommended = "recommended"
	replicasPredicted   = "predicted"
)

// countFailure counts an error of a stage of a policy's pass and returns it; a write
// conflict is counted apart, since it is expected and retried, not a failure.
func countFailure(key types.NamespacedName, stage string, err error) error {
	switch {
	case err == nil:
	case apierrors.IsConflict(err):
		writeConflicts.WithLabelValues(key.Namespace, key.Name, stage).Inc()
	default:
		reconcileErrors.WithLabelValues(key.Namespace, key.Name, stage).Inc()
	}
	return err
}

func recordTransition(ns, policy string, t statemachine.Transition) {
	podTransitions.WithLabelValues(ns, policy, string(t.From), string(t.To), string(t.Event)).Inc()
	stateDuration.WithLabelValues(ns, policy, string(t.From)).Observe(t.InState.Seconds())
}

func recordPods(ns, policy string, counts map[statemachine.State]int) {
	for _, st := range statemachine.States() {
		podsByState.WithLabelValues(ns, policy, string(st)).Set(float64(counts[st]))
	}
}

func recordDecision(ns, policy string, rec autoscaler.Recommendation, targets map[string]float64) {
	decisions.WithLabelValues(ns, policy, string(rec.Reason)).Inc()
	fleetReplicas.WithLabelValues(ns, policy, replicasDesired).Set(float64(rec.Replicas))
	fleetReplicas.WithLabelValues(ns, policy, replicasRecommended).Set(float64(rec.Raw))
	fleetReplicas.WithLabelValues(ns, policy, replicasPredicted).Set(float64(rec.Predicted))
	for _, m := range rec.Metrics {
		metricTarget.WithLabelValues(ns, policy, m.Key).Set(targets[m.Key])
		metricImplausible.WithLabelValues(ns, policy, m.Key).Set(float64(len(m.Implausible)))
		if m.Valid {
			metricValue.WithLabelValues(ns, policy, m.Key).Set(m.Total)
		}
		if m.Forecast > 0 {
			metricForecast.WithLabelValues(ns, policy, m.Key).Set(m.Forecast)
		}
	}
}

// recordMissingSamples sets, for every reason, how many pods the source left without
// some sample for it.
func recordMissingSamples(ns, policy string, counts map[v1alpha1.SampleProblem]int) {
	for _, p := range v1alpha1.SampleProblems() {
		samplesMissing.WithLabelValues(ns, policy, string(p)).Set(float64(counts[p]))
	}
}

// forgetMetrics drops every series of a deleted policy.
func forgetMetrics(ns, policy string) {
	l := prometheus.Labels{"namespace": ns, "policy": policy}
	for _, v := range []interface{ DeletePartialMatch(prometheus.Labels) int }{
		podTransitions, podsByState, stateDuration, fleetReplicas, metricValue, metricTarget, metricImplausible, samplesMissing, metricForecast,
		evictedStreams, decisions, reconcileDuration, reconcileErrors, writeConflicts,
	} {
		v.DeletePartialMatch(l)
	}
}
