package testcluster

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// statusBackoff retries status writes that race kruise-manager's own pod updates.
var statusBackoff = wait.Backoff{Steps: 10, Duration: 20 * time.Millisecond, Factor: 2, Jitter: 0.1}

// SetPodReady stands in for a kubelet: it marks pod Running with every container started
// and ready, and the conditions PodScheduled, Initialized, ContainersReady, Ready and each
// of the pod's readiness gates (Kruise's InPlaceUpdateReady, KruisePodReady) True. The pod
// stays unbound: Kruise counts a pod ready by its phase and conditions only. The first
// attempt writes over pod as given (a stale copy conflicts and the retry reads the pod
// first). On success pod holds the updated object.
func (c *Cluster) SetPodReady(ctx context.Context, pod *corev1.Pod) error {
	key := client.ObjectKeyFromObject(pod)
	// The pod as given, once: a stale copy is a conflict, and the retry reads.
	given := pod.ResourceVersion != ""
	err := retry.RetryOnConflict(statusBackoff, func() error {
		cur := &corev1.Pod{}
		if given {
			pod.DeepCopyInto(cur)
			given = false
		} else if err := c.Client.Get(ctx, key, cur); err != nil {
			return err
		}
		markReady(cur, metav1.Now())
		if err := c.Client.Status().Update(ctx, cur); err != nil {
			return err
		}
		*pod = *cur
		return nil
	})
	if err != nil {
		return fmt.Errorf("setting pod %s ready: %w", key, err)
	}
	return nil
}

// markReady sets the status a kubelet reports for a pod whose containers all run and pass
// their probes.
func markReady(pod *corev1.Pod, now metav1.Time) {
	pod.Status.Phase = corev1.PodRunning
	if pod.Status.StartTime == nil {
		pod.Status.StartTime = &now
	}
	conditions := []corev1.PodConditionType{corev1.PodScheduled, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady}
	for _, gate := range pod.Spec.ReadinessGates {
		conditions = append(conditions, gate.ConditionType)
	}
	for _, t := range conditions {
		setConditionTrue(&pod.Status, t, now)
	}
	statuses := make([]corev1.ContainerStatus, 0, len(pod.Spec.Containers))
	for _, ctr := range pod.Spec.Containers {
		statuses = append(statuses, corev1.ContainerStatus{
			Name:    ctr.Name,
			Image:   ctr.Image,
			Ready:   true,
			Started: ptr.To(true),
			State:   corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		})
	}
	pod.Status.ContainerStatuses = statuses
}

// setConditionTrue sets condition t True, keeping its transition time if it already was.
func setConditionTrue(status *corev1.PodStatus, t corev1.PodConditionType, now metav1.Time) {
	for i := range status.Conditions {
		cond := &status.Conditions[i]
		if cond.Type != t {
			continue
		}
		if cond.Status != corev1.ConditionTrue {
			cond.Status, cond.LastTransitionTime = corev1.ConditionTrue, now
		}
		cond.Reason, cond.Message = "", ""
		cond.LastProbeTime = metav1.Time{}
		return
	}
	status.Conditions = append(status.Conditions, corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: now})
}
