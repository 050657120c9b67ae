package metricsapi

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

func measured(at time.Time, window time.Duration, containers ...metricsv1beta1.ContainerMetrics) *metricsv1beta1.PodMetrics {
	return &metricsv1beta1.PodMetrics{
		ObjectMeta: metav1.ObjectMeta{Name: "srs-edge-a"},
		Timestamp:  metav1.Time{Time: at}, Window: metav1.Duration{Duration: window},
		Containers: containers,
	}
}

func usage(name, cpu string) metricsv1beta1.ContainerMetrics {
	return metricsv1beta1.ContainerMetrics{Name: name, Usage: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}}
}

func TestMeasuredInPodLife(t *testing.T) {
	started := now.Add(-time.Minute)
	cases := []struct {
		story   string
		startAt *metav1.Time
		m       *metricsv1beta1.PodMetrics
		want    bool
	}{
		{"a window opening as the pod starts is the pod's own", &metav1.Time{Time: started}, measured(started.Add(15*time.Second), 15*time.Second), true},
		{"a window opening a millisecond early is not", &metav1.Time{Time: started}, measured(started.Add(15*time.Second), 15*time.Second+time.Millisecond), false},
		{"a pod the kubelet has not started has no window yet", nil, measured(now, 15*time.Second), false},
		{"metrics without a time cannot be placed", &metav1.Time{Time: started}, measured(time.Time{}, 0), false},
		{"a negative window is nonsense", &metav1.Time{Time: started}, measured(now, -time.Second), false},
	}
	for _, c := range cases {
		t.Run(c.story, func(t *testing.T) {
			pod := &corev1.Pod{Status: corev1.PodStatus{StartTime: c.startAt}}
			if got := measuredInPodLife(pod, c.m); got != c.want {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestUtilizationEdges(t *testing.T) {
	pod := func(cpu string) *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{requests("srs", cpu, "")}}}
	}
	cases := []struct {
		story string
		pod   *corev1.Pod
		m     *metricsv1beta1.PodMetrics
		want  float64
		// problem is why there is no value; "" when there is one.
		problem v1alpha1.SampleProblem
	}{
		{"usage above the request is above 100%", pod("250m"), measured(now, time.Second, usage("srs", "500m")), 200, ""},
		{"a zero request has no utilisation rather than an infinite one", pod("0"), measured(now, time.Second, usage("srs", "10m")), 0, v1alpha1.SampleNoRequest},
		{"metrics naming no container have no usage", pod("250m"), measured(now, time.Second), 0, v1alpha1.SamplePartial},
		{"a container metrics-server saw that the pod no longer has still counts, as in the HPA", pod("250m"),
			measured(now, time.Second, usage("srs", "100m"), usage("old", "150m")), 100, ""},
	}
	for _, c := range cases {
		t.Run(c.story, func(t *testing.T) {
			got, problem := utilization(c.pod, c.m, corev1.ResourceCPU)
			if problem != c.problem || got != c.want {
				t.Fatalf("got %v, %q; want %v, %q", got, problem, c.want, c.problem)
			}
		})
	}
}
