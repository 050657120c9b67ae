package controller

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/streamscaler/streamscaler/adapters/annotations"
	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

// TestPodChanged: only changes a decision reads trigger a pass; metric samples do not.
func TestPodChanged(t *testing.T) {
	base := func() *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "srs-edge-0", ResourceVersion: "1",
				Labels:      map[string]string{v1alpha1.StateLabel: "allocated", "app": "srs-edge"},
				Annotations: map[string]string{v1alpha1.StateSinceAnnotation: "2026-11-30T08:00:00Z", annotations.Prefix + "pullStreams": "12", annotations.TimeAnnotation: "2026-11-30T08:00:00Z"}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "127.1.0.5", Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
		}
	}
	for _, c := range []struct {
		name   string
		change func(*corev1.Pod)
		want   bool
	}{
		{"a new metric sample and its time", func(p *corev1.Pod) {
			p.Annotations[annotations.Prefix+"pullStreams"] = "40"
			p.Annotations[annotations.TimeAnnotation] = "2026-11-30T08:00:15Z"
			p.ResourceVersion = "2"
		}, false},
		{"a new metric key", func(p *corev1.Pod) { p.Annotations[annotations.Prefix+"bandwidth"] = "1e8" }, false},
		{"a condition's heartbeat", func(p *corev1.Pod) { p.Status.Conditions[0].LastProbeTime = metav1.NewTime(time.Now()) }, false},
		{"readiness", func(p *corev1.Pod) { p.Status.Conditions[0].Status = corev1.ConditionFalse }, true},
		{"the state label", func(p *corev1.Pod) { p.Labels[v1alpha1.StateLabel] = "tombstone" }, true},
		{"Kruise's lifecycle state", func(p *corev1.Pod) { p.Labels["lifecycle.apps.kruise.io/state"] = "PreparingDelete" }, true},
		{"the state's time", func(p *corev1.Pod) { p.Annotations[v1alpha1.StateSinceAnnotation] = "2026-11-30T08:01:00Z" }, true},
		{"Kruise's in-place update state", func(p *corev1.Pod) { p.Annotations["apps.kruise.io/inplace-update-state"] = "{}" }, true},
		{"deletion", func(p *corev1.Pod) { now := metav1.Now(); p.DeletionTimestamp = &now }, true},
		{"the pod's IP", func(p *corev1.Pod) { p.Status.PodIP = "127.1.0.6" }, true},
		{"the phase", func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }, true},
	} {
		old, cur := base(), base()
		c.change(cur)
		if got := podChanged(old, cur); got != c.want {
			t.Errorf("%s: podChanged %v, want %v", c.name, got, c.want)
		}
	}
}

// TestPolicyChanged: the controller's own status writes do not trigger a pass.
func TestPolicyChanged(t *testing.T) {
	base := func() *v1alpha1.ScalingPolicy {
		return &v1alpha1.ScalingPolicy{ObjectMeta: metav1.ObjectMeta{Name: "edge", Generation: 3, ResourceVersion: "10", Finalizers: []string{v1alpha1.CleanupFinalizer}}}
	}
	for _, c := range []struct {
		name   string
		change func(*v1alpha1.ScalingPolicy)
		want   bool
	}{
		{"a status write", func(p *v1alpha1.ScalingPolicy) { p.ResourceVersion = "11"; p.Status.DesiredReplicas = 4 }, false},
		{"a spec change", func(p *v1alpha1.ScalingPolicy) { p.Generation = 4 }, true},
		{"deletion", func(p *v1alpha1.ScalingPolicy) { now := metav1.Now(); p.DeletionTimestamp = &now }, true},
		{"the finalizer removed", func(p *v1alpha1.ScalingPolicy) { p.Finalizers = nil }, true},
	} {
		old, cur := base(), base()
		c.change(cur)
		if got := policyChanged(old, cur); got != c.want {
			t.Errorf("%s: policyChanged %v, want %v", c.name, got, c.want)
		}
	}
}
