package controller

import (
	"context"
	"time"

	kruisev1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

// MetricsSource returns the latest valid samples per pod name and metric key. A pod or
// key left out is missing; the decision core never scales in on missing data. missing
// says, for each pod that had a sample left out (rather than none reported), why: the
// condition, event and self-metric that tell the operator. It may come with an error
// too, when every pod failed.
type MetricsSource interface {
	Samples(ctx context.Context, policy *v1alpha1.ScalingPolicy, pods []*corev1.Pod, keys []string) (values map[string]map[string]float64, missing map[string][]v1alpha1.SampleProblem, err error)
}

// MeasuredSource is a MetricsSource whose readings can be older than the pods (a scraped
// store such as Prometheus): it also says when each pod's readings were taken, so that a
// tombstoned pod is not judged drained on a reading from before its last players joined.
// A source that reads the pods live need not implement it.
type MeasuredSource interface {
	MetricsSource
	MeasuredSamples(ctx context.Context, policy *v1alpha1.ScalingPolicy, pods []*corev1.Pod, keys []string) (values map[string]map[string]float64, missing map[string][]v1alpha1.SampleProblem, measured map[string]time.Time, err error)
}

// ScaleTarget reads and resizes the CloneSet.
type ScaleTarget interface {
	// Get returns the CloneSet; a missing one matches apierrors.IsNotFound.
	Get(ctx context.Context, key types.NamespacedName) (*kruisev1alpha1.CloneSet, error)
	// Scale sets replicas and names podsToDelete in one update guarded by the
	// CloneSet's resourceVersion; a concurrent change fails it with a conflict.
	Scale(ctx context.Context, cs *kruisev1alpha1.CloneSet, replicas int32, podsToDelete []string) error
}

// Evictor ends what is left on a tombstoned pod at its drain timeout, as gently as the
// server allows, and returns how many streams it cut.
type Evictor interface {
	Evict(ctx context.Context, policy *v1alpha1.ScalingPolicy, pod *corev1.Pod, streamsLeft int) (int, error)
}

// Clock tells the time (k8s.io/utils/clock.RealClock in production).
type Clock interface{ Now() time.Time }

// NoEviction is the evictor for evictionAction none: it cuts nothing itself, and the
// streams left end when the pod is deleted, so they are counted as cut.
type NoEviction struct{}

// Evict returns streamsLeft.
func (NoEviction) Evict(_ context.Context, _ *v1alpha1.ScalingPolicy, _ *corev1.Pod, streamsLeft int) (int, error) {
	return streamsLeft, nil
}

// HistorySource rebuilds a metric's load history after a restart: the fleet's total at
// every step of [end-span, end), for the pods whose names match podsRegex.
type HistorySource interface {
	History(ctx context.Context, policy *v1alpha1.ScalingPolicy, key, podsRegex string, end time.Time, span, step time.Duration) ([]float64, error)
}

// Publisher receives each policy's latest figures for the external metrics API.
type Publisher interface {
	Publish(namespace, policy string, values map[string]float64, at time.Time)
	Forget(namespace, policy string)
}
