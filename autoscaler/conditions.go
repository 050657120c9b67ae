package autoscaler

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

// Conditions turns a recommendation into the ScalingActive and ScalingLimited conditions
// of the policy status. LastTransitionTime is left for the caller (meta.SetStatusCondition).
func Conditions(rec Recommendation, generation int64) []metav1.Condition {
	active := metav1.Condition{
		Type: v1alpha1.ConditionScalingActive, Status: metav1.ConditionTrue, ObservedGeneration: generation,
		Reason: "ValidMetricFound", Message: "the replica count is computed from the metrics",
	}
	if !rec.Active {
		active.Status, active.Reason, active.Message = metav1.ConditionFalse, string(rec.Reason), rec.Message
	}
	limited := metav1.Condition{
		Type: v1alpha1.ConditionScalingLimited, Status: metav1.ConditionFalse, ObservedGeneration: generation,
		Reason: string(rec.Reason), Message: rec.Message,
	}
	if rec.Reason.Limiting() {
		limited.Status = metav1.ConditionTrue
	}
	return []metav1.Condition{active, limited}
}
