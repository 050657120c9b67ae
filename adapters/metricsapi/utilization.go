package metricsapi

import (
	corev1 "k8s.io/api/core/v1"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

// These rules follow the HorizontalPodAutoscaler (kubernetes pkg/controller/podautoscaler):
// usage as metrics/client.go getPodMetrics sums it, requests as replica_calculator.go
// calculateRequests counts them, and the window check after groupPods. Where the HPA
// fails the whole metric (a pod without a request), this source leaves that one pod
// missing instead.

// utilization is the pod's use of r as a percentage of its request: the sum over
// containers of usage over the sum over containers of requests, times 100, both in
// milli-units (millicores for CPU). When the pod has no such value, the problem says why:
// no request to be a percentage of, or a measurement of part of the pod.
func utilization(pod *corev1.Pod, m *metricsv1beta1.PodMetrics, r corev1.ResourceName) (float64, v1alpha1.SampleProblem) {
	request, ok := requestMilli(pod, r)
	if !ok {
		return 0, v1alpha1.SampleNoRequest
	}
	usage, ok := usageMilli(pod, m, r)
	if !ok {
		return 0, v1alpha1.SamplePartial
	}
	return 100 * float64(usage) / float64(request), ""
}

// requestMilli is the pod's request of r in milli-units: the pod-level request when the
// pod sets one for r, else the sum over its counted containers, every one of which must
// request r. A pod that requests nothing of r (or zero) has no utilisation.
func requestMilli(pod *corev1.Pod, r corev1.ResourceName) (int64, bool) {
	if pod.Spec.Resources != nil {
		if q, ok := pod.Spec.Resources.Requests[r]; ok {
			v := q.MilliValue()
			return v, v > 0
		}
	}
	var sum int64
	all := eachCounted(pod, func(c *corev1.Container) bool {
		q, ok := c.Resources.Requests[r]
		sum += q.MilliValue()
		return ok
	})
	return sum, all && sum > 0
}

// usageMilli sums r over the containers the metrics report, each rounded up to a whole
// milli-unit as the HPA does (249000001n counts as 250m). No containers, a reported
// container without r, or a counted container left out of the report (its request would
// count and its usage would not) leave the pod without a value.
func usageMilli(pod *corev1.Pod, m *metricsv1beta1.PodMetrics, r corev1.ResourceName) (int64, bool) {
	if len(m.Containers) == 0 {
		return 0, false
	}
	var sum int64
	for i := range m.Containers {
		q, ok := m.Containers[i].Usage[r]
		if !ok {
			return 0, false
		}
		sum += q.MilliValue()
	}
	return sum, eachCounted(pod, func(c *corev1.Container) bool { return reported(m, c.Name) })
}

// eachCounted calls fn on every container whose requests count towards the pod's: its
// containers and its restartable (sidecar) init containers, which run beside them; plain
// init containers have finished before any usage is measured. It stops and returns
// false as soon as fn does.
func eachCounted(pod *corev1.Pod, fn func(*corev1.Container) bool) bool {
	for i := range pod.Spec.Containers {
		if !fn(&pod.Spec.Containers[i]) {
			return false
		}
	}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways && !fn(c) {
			return false
		}
	}
	return true
}

func reported(m *metricsv1beta1.PodMetrics, container string) bool {
	for i := range m.Containers {
		if m.Containers[i].Name == container {
			return true
		}
	}
	return false
}

// measuredInPodLife reports whether the metrics' window, [timestamp-window, timestamp],
// lies within this pod's life. metrics-server keeps serving a pod's last reading for a
// while, and PodMetrics carry a name but no UID, so a pod recreated under the same name
// would otherwise inherit its predecessor's usage. The HPA drops a CPU sample for the
// same reason when one window has not passed since the pod's last readiness change
// (groupPods). A pod that has not started, or metrics without a time, have no such window.
func measuredInPodLife(pod *corev1.Pod, m *metricsv1beta1.PodMetrics) bool {
	if pod.Status.StartTime == nil || m.Timestamp.IsZero() || m.Window.Duration < 0 {
		return false
	}
	return !m.Timestamp.Add(-m.Window.Duration).Before(pod.Status.StartTime.Time)
}
