package controller

import (
	"context"

	kruisev1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

// The controller's permissions; `make generate` turns them into deploy/rbac/role.yaml.
// Pods are patched (state label and annotations), never deleted: only the CloneSet
// controller deletes pods, and only those named in podsToDelete. Policies are patched
// only to add and remove the cleanup finalizer.
// +kubebuilder:rbac:groups=streamscaler.io,resources=scalingpolicies,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=streamscaler.io,resources=scalingpolicies/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=apps.kruise.io,resources=clonesets,verbs=get;list;watch;update
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch

// targetIndex indexes ScalingPolicies by the CloneSet they name.
const targetIndex = "spec.targetRef.name"

// targetOf is the index function of targetIndex.
func targetOf(o client.Object) []string {
	return []string{o.(*v1alpha1.ScalingPolicy).Spec.TargetRef.Name}
}

// SetupWithManager registers the reconciler: it runs on policy changes, on changes of
// the named CloneSets and of their pods, and every syncPeriod. A policy created, deleted
// or given a new spec also brings back every policy naming the same CloneSet (before and
// after the change), so that a refused one takes over as soon as the older one is gone.
func (r *Reconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager) error {
	if err := mgr.GetFieldIndexer().IndexField(ctx, &v1alpha1.ScalingPolicy{}, targetIndex, targetOf); err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("scalingpolicy").
		WithOptions(crcontroller.Options{MaxConcurrentReconciles: max(1, r.Workers)}).
		For(&v1alpha1.ScalingPolicy{}).
		Watches(&v1alpha1.ScalingPolicy{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			return r.policiesFor(ctx, o.GetNamespace(), o.(*v1alpha1.ScalingPolicy).Spec.TargetRef.Name)
		}), builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&kruisev1alpha1.CloneSet{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			return r.policiesFor(ctx, o.GetNamespace(), o.GetName())
		})).
		Watches(&corev1.Pod{}, handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []reconcile.Request {
			ref := metav1.GetControllerOf(o)
			if ref == nil || ref.Kind != "CloneSet" {
				return nil
			}
			return r.policiesFor(ctx, o.GetNamespace(), ref.Name)
		})).
		Complete(r)
}

func (r *Reconciler) policiesFor(ctx context.Context, namespace, cloneSet string) []reconcile.Request {
	list, err := r.siblings(ctx, namespace, cloneSet)
	if err != nil {
		return nil
	}
	out := make([]reconcile.Request, 0, len(list))
	for _, p := range list {
		out = append(out, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: p.Namespace, Name: p.Name}})
	}
	return out
}
