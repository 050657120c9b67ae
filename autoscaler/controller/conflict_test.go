package controller_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-logr/logr"
	kruisev1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta/testrestmapper"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/streamscaler/streamscaler/adapters/kruise"
	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/autoscaler/controller"
)

// TestWriteConflictIsRetriedNotFailed: a pod patch refused with a conflict (another writer
// changed the pod first) ends the pass without an error and asks for another pass at once;
// any other refusal is still an error.
func TestWriteConflictIsRetriedNotFailed(t *testing.T) {
	conflict := apierrors.NewConflict(schema.GroupResource{Resource: "pods"}, "edge-0", errors.New("the object has been modified"))
	forbidden := apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "edge-0", errors.New("no"))
	for _, tc := range []struct {
		name    string
		refusal error
		wantErr bool
	}{{"conflict", conflict, false}, {"forbidden", forbidden, true}} {
		t.Run(tc.name, func(t *testing.T) {
			r, req := conflictWorld(t, tc.refusal)
			var logged []string
			ctx := logf.IntoContext(context.Background(), logr.New(&recordSink{lines: &logged}))
			res, err := r.Reconcile(ctx, req)
			if tc.wantErr {
				if !apierrors.IsForbidden(err) {
					t.Fatalf("reconcile returned %v, want the forbidden error", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("reconcile returned %v: a conflict is not an error", err)
			}
			if !res.Requeue && res.RequeueAfter == 0 {
				t.Errorf("result %+v: want another pass", res)
			}
			if len(logged) == 0 {
				t.Errorf("the conflict was not logged at all")
			}
		})
	}
}

func conflictWorld(t *testing.T, refusal error) (*controller.Reconciler, ctrl.Request) {
	t.Helper()
	scheme := fakeScheme(t)
	spec := paritySpec()
	cs := &kruisev1alpha1.CloneSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "live", Name: "edge", UID: "cloneset-uid"},
		Spec:       kruisev1alpha1.CloneSetSpec{Replicas: ptr.To(int32(2)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "edge"}}},
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "live", Name: "edge-0", Labels: map[string]string{"app": "edge", kruisev1alpha1.CloneSetInstanceID: "0"},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps.kruise.io/v1alpha1", Kind: "CloneSet", Name: "edge", UID: cs.UID, Controller: ptr.To(true)}}}}
	c := fake.NewClientBuilder().WithScheme(scheme).WithRESTMapper(testrestmapper.TestOnlyStaticRESTMapper(scheme)).
		WithObjects(cs, pod, &v1alpha1.ScalingPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "live", Name: "edge"}, Spec: *spec}).
		WithStatusSubresource(&v1alpha1.ScalingPolicy{}).WithIndex(&v1alpha1.ScalingPolicy{}, controller.TargetIndex, controller.TargetOf).
		WithInterceptorFuncs(interceptor.Funcs{Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			if _, ok := obj.(*corev1.Pod); ok {
				return refusal
			}
			return c.Patch(ctx, obj, patch, opts...) // the policy's finalizer
		}}).Build()
	r := &controller.Reconciler{
		Client: c, Reader: c, Target: &kruise.CloneSets{Reader: c, Writer: c},
		Sources: map[v1alpha1.MetricsSourceType]controller.MetricsSource{v1alpha1.SourceAnnotations: &replaySource{}}, DefaultSource: v1alpha1.SourceAnnotations,
		Evictors: map[v1alpha1.EvictionAction]controller.Evictor{v1alpha1.EvictNone: controller.NoEviction{}}, Clock: &stepClock{now: time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)},
	}
	return r, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "live", Name: "edge"}}
}

// recordSink keeps every line logged, at any level.
type recordSink struct{ lines *[]string }

func (s *recordSink) Init(logr.RuntimeInfo)               {}
func (s *recordSink) Enabled(int) bool                    { return true }
func (s *recordSink) Info(_ int, msg string, _ ...any)    { *s.lines = append(*s.lines, msg) }
func (s *recordSink) Error(_ error, msg string, _ ...any) { *s.lines = append(*s.lines, "ERROR "+msg) }
func (s *recordSink) WithValues(...any) logr.LogSink      { return s }
func (s *recordSink) WithName(string) logr.LogSink        { return s }
