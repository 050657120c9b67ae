package controller

import (
	"context"
	"strings"

	kruisev1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

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

// CacheOptions are the manager's cache settings the controller is built for: objects
// are kept without their managedFields, which no decision reads (less memory, cheaper
// merge patches), and the pod watch asks the API server only for the pods of CloneSets
// (PodScope), so that the rest of a shared cluster's pods, and their updates, never
// reach the controller.
func CacheOptions() cache.Options {
	return cache.Options{
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject:         map[client.Object]cache.ByObject{&corev1.Pod{}: {Label: PodScope()}},
	}
}

// PodScope selects the pods the controller can act on: those Kruise made for a
// CloneSet, each of which carries the CloneSet instance-id label from its creation.
// The pod watch and the direct reads use it alike, so both see the same fleet.
func PodScope() labels.Selector {
	req, err := labels.NewRequirement(kruisev1alpha1.CloneSetInstanceID, selection.Exists, nil)
	if err != nil {
		panic(err) // a constant key: cannot happen
	}
	return labels.NewSelector().Add(*req)
}

// podOwnerIndex indexes pods by the UID of the CloneSet that controls them.
const podOwnerIndex = "metadata.ownerReferences.cloneSet"

// cloneSetOf is the index function of podOwnerIndex.
func cloneSetOf(o client.Object) []string {
	if ref := metav1.GetControllerOf(o); ref != nil && ref.Kind == "CloneSet" {
		return []string{string(ref.UID)}
	}
	return nil
}

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
	if err := mgr.GetFieldIndexer().IndexField(ctx, &corev1.Pod{}, podOwnerIndex, cloneSetOf); err != nil {
		return err
	}
	r.podsIndexed = true
	// Every write goes through the expectations, so that a pass reading the cache knows
	// whether it shows them.
	if _, ok := r.Client.(*expectingClient); !ok {
		r.Client = &expectingClient{Client: r.Client, exp: &r.expect, now: r.Clock.Now}
	}
	// Evictions run in the background, bounded by the manager's life; one that ends
	// brings its policy back at once rather than at the next sync period.
	wake := make(chan event.TypedGenericEvent[*v1alpha1.ScalingPolicy], 64)
	r.evicting.ctx, r.evicting.slots, r.evicting.now = ctx, r.EvictionSlots, r.Clock.Now
	r.evicting.wake = func(k types.NamespacedName) {
		select {
		case wake <- event.TypedGenericEvent[*v1alpha1.ScalingPolicy]{Object: &v1alpha1.ScalingPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: k.Namespace, Name: k.Name}}}:
		case <-ctx.Done():
		}
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("scalingpolicy").
		WithOptions(crcontroller.Options{MaxConcurrentReconciles: max(1, r.Workers)}).
		// The controller's own status writes do not trigger a pass: with samples that
		// change, each status write would call for the next pass at once.
		For(&v1alpha1.ScalingPolicy{}, builder.WithPredicates(predicate.Funcs{UpdateFunc: func(ev event.UpdateEvent) bool {
			return policyChanged(ev.ObjectOld, ev.ObjectNew)
		}})).
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
		}), builder.WithPredicates(predicate.Funcs{UpdateFunc: func(ev event.UpdateEvent) bool {
			old, okOld := ev.ObjectOld.(*corev1.Pod)
			cur, okNew := ev.ObjectNew.(*corev1.Pod)
			return !okOld || !okNew || podChanged(old, cur)
		}})).
		WatchesRawSource(source.Channel(wake, &handler.TypedEnqueueRequestForObject[*v1alpha1.ScalingPolicy]{})).
		Complete(r)
}

// policyChanged lets a policy update through when its spec (generation), deletion or
// finalizers changed: not for a status write.
func policyChanged(old, cur client.Object) bool {
	return old.GetGeneration() != cur.GetGeneration() || (old.GetDeletionTimestamp() == nil) != (cur.GetDeletionTimestamp() == nil) ||
		!equality.Semantic.DeepEqual(old.GetFinalizers(), cur.GetFinalizers())
}

// podChanged lets a pod update through only when it changes something a decision reads:
// labels (the state, Kruise's lifecycle state and delete mark, the hook), annotations
// other than metric samples (the state's time, Kruise's in-place update state), deletion,
// phase, conditions (readiness), the pod's IP (the SRS source and evictor use it) or its
// owner. Metric samples a sidecar writes are read at the sync period rather than each
// triggering a pass of its own.
func podChanged(old, cur *corev1.Pod) bool {
	return !equality.Semantic.DeepEqual(decisionView(old), decisionView(cur))
}

// podView is what podChanged compares; its fields are exported for equality.Semantic.
type podView struct {
	Labels, Annotations map[string]string
	Deleting            bool
	Phase               corev1.PodPhase
	Conditions          map[corev1.PodConditionType]corev1.ConditionStatus
	IP                  string
	Owners              []metav1.OwnerReference
}

func decisionView(p *corev1.Pod) podView {
	v := podView{Labels: p.Labels, Deleting: p.DeletionTimestamp != nil, Phase: p.Status.Phase, IP: p.Status.PodIP, Owners: p.OwnerReferences,
		Annotations: map[string]string{}, Conditions: map[corev1.PodConditionType]corev1.ConditionStatus{}}
	for k, x := range p.Annotations {
		if k != v1alpha1.MetricTimeAnnotation && !strings.HasPrefix(k, v1alpha1.MetricAnnotationPrefix) {
			v.Annotations[k] = x
		}
	}
	for _, c := range p.Status.Conditions {
		v.Conditions[c.Type] = c.Status
	}
	return v
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
