package controller_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-logr/logr"
	kruisev1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/meta/testrestmapper"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// TestPolicyLifecycle runs one pass over a policy being deleted or refused, on a fake API
// server, and checks every pod's state, the CloneSet and the policy afterwards.
func TestPolicyLifecycle(t *testing.T) {
	now := time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)
	// The fleet: one pod in each state, and a deletable pod the CloneSet is deleting.
	fleet := map[string]string{"a": "allocated", "i": "init", "t": "tombstone", "d-named": "deletable", "d-left": "deletable"}
	for _, tc := range []struct {
		name     string
		deleting bool // the policy is being deleted
		older    bool // an older policy names the same CloneSet
		noTarget bool // the CloneSet is gone
		want     map[string]string
		patched  int    // pod patches
		gone     bool   // the policy is gone after the pass
		reason   string // ScalingActive's reason after the pass, when the policy stays
	}{
		{name: "a deleted policy returns tombstoned pods and deletable pods the CloneSet keeps to allocated, and goes",
			deleting: true, gone: true, patched: 2,
			want: map[string]string{"a": "allocated", "i": "init", "t": "allocated", "d-named": "deletable", "d-left": "allocated"}},
		{name: "a deleted policy that an older one overrides touches no pod, and goes",
			deleting: true, older: true, gone: true, want: fleet},
		{name: "a deleted policy whose CloneSet is gone only loses its finalizer",
			deleting: true, noTarget: true, gone: true},
		{name: "a policy that an older one overrides is refused and touches nothing",
			older: true, want: fleet, reason: v1alpha1.ReasonAmbiguousTarget},
	} {
		t.Run(tc.name, func(t *testing.T) {
			policy := &v1alpha1.ScalingPolicy{
				ObjectMeta: metav1.ObjectMeta{Namespace: "live", Name: "edge", CreationTimestamp: metav1.NewTime(now.Add(-time.Hour)), Finalizers: []string{v1alpha1.CleanupFinalizer}},
				Spec:       *paritySpec(),
			}
			if tc.deleting {
				policy.DeletionTimestamp = &metav1.Time{Time: now}
			}
			objs := []client.Object{policy}
			if tc.older {
				objs = append(objs, &v1alpha1.ScalingPolicy{
					ObjectMeta: metav1.ObjectMeta{Namespace: "live", Name: "edge-old", CreationTimestamp: metav1.NewTime(now.Add(-2 * time.Hour))},
					Spec:       *paritySpec(),
				})
			}
			cs := &kruisev1alpha1.CloneSet{
				ObjectMeta: metav1.ObjectMeta{Namespace: "live", Name: "edge", UID: "cloneset-uid"},
				Spec: kruisev1alpha1.CloneSetSpec{Replicas: ptr.To(int32(4)), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "edge"}},
					ScaleStrategy: kruisev1alpha1.CloneSetScaleStrategy{PodsToDelete: []string{"d-named"}}},
			}
			if !tc.noTarget {
				objs = append(objs, cs)
			}
			for name, st := range fleet {
				objs = append(objs, &corev1.Pod{
					ObjectMeta: metav1.ObjectMeta{Namespace: "live", Name: name,
						Labels:          map[string]string{"app": "edge", v1alpha1.StateLabel: st, kruisev1alpha1.CloneSetInstanceID: name},
						Annotations:     map[string]string{v1alpha1.StateSinceAnnotation: now.Add(-time.Minute).Format(time.RFC3339)},
						OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps.kruise.io/v1alpha1", Kind: "CloneSet", Name: "edge", UID: cs.UID, Controller: ptr.To(true)}}},
					Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
				})
			}
			c, r, patched := lifecycleWorld(t, now, objs)
			ctx := logf.IntoContext(context.Background(), logr.Discard())
			if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "live", Name: "edge"}}); err != nil {
				t.Fatalf("reconcile: %v", err)
			}
			if *patched != tc.patched {
				t.Errorf("%d pod patches, want %d", *patched, tc.patched)
			}
			for name, want := range tc.want {
				var p corev1.Pod
				if err := c.Get(ctx, types.NamespacedName{Namespace: "live", Name: name}, &p); err != nil {
					t.Fatal(err)
				}
				if got := p.Labels[v1alpha1.StateLabel]; got != want {
					t.Errorf("pod %s: %s, want %s", name, got, want)
				}
			}
			if !tc.noTarget {
				var got kruisev1alpha1.CloneSet
				if err := c.Get(ctx, client.ObjectKeyFromObject(cs), &got); err != nil {
					t.Fatal(err)
				}
				if *got.Spec.Replicas != 4 || len(got.Spec.ScaleStrategy.PodsToDelete) != 1 {
					t.Errorf("the CloneSet changed: replicas %d podsToDelete %v", *got.Spec.Replicas, got.Spec.ScaleStrategy.PodsToDelete)
				}
			}
			var after v1alpha1.ScalingPolicy
			err := c.Get(ctx, client.ObjectKeyFromObject(policy), &after)
			if tc.gone {
				if !apierrors.IsNotFound(err) {
					t.Fatalf("the policy should be gone: %v, finalizers %v", err, after.Finalizers)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cond := meta.FindStatusCondition(after.Status.Conditions, v1alpha1.ConditionScalingActive); cond == nil || cond.Reason != tc.reason || cond.Status != metav1.ConditionFalse {
				t.Errorf("ScalingActive %+v, want False with %s", cond, tc.reason)
			}
		})
	}
}

// lifecycleWorld is a fake API server holding objs, indexed as the manager's cache is,
// and a reconciler on it, with no metrics source: no decision may be made. CloneSet
// writes fail the test; pod patches are counted.
func lifecycleWorld(t *testing.T, now time.Time, objs []client.Object) (client.Client, *controller.Reconciler, *int) {
	t.Helper()
	patched := 0
	scheme := fakeScheme(t)
	c := fake.NewClientBuilder().WithScheme(scheme).WithRESTMapper(testrestmapper.TestOnlyStaticRESTMapper(scheme)).
		WithObjects(objs...).WithStatusSubresource(&v1alpha1.ScalingPolicy{}).
		WithIndex(&v1alpha1.ScalingPolicy{}, controller.TargetIndex, controller.TargetOf).
		WithInterceptorFuncs(interceptor.Funcs{
			Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
				if _, ok := obj.(*kruisev1alpha1.CloneSet); ok {
					t.Errorf("the CloneSet was written")
				}
				return c.Update(ctx, obj, opts...)
			},
			Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
				if _, ok := obj.(*corev1.Pod); ok {
					patched++
				}
				return c.Patch(ctx, obj, patch, opts...)
			},
		}).Build()
	return c, &controller.Reconciler{
		Client: c, Reader: c, Target: &kruise.CloneSets{Reader: c, Writer: c},
		Sources: map[v1alpha1.MetricsSourceType]controller.MetricsSource{}, DefaultSource: v1alpha1.SourceAnnotations,
		Evictors: map[v1alpha1.EvictionAction]controller.Evictor{}, Clock: &stepClock{now: now},
	}, &patched
}
