package controller

import (
	"context"
	"fmt"
	"strings"

	kruisev1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/statemachine"
)

// A policy's own lifecycle. One policy manages a CloneSet: the oldest of those naming it.
// While it does, it holds a finalizer; deleted, it gives the pods it was draining back to
// serving before it lets the API server remove it.

// siblings lists, from the cache, the policies in a namespace that name a CloneSet.
func (r *Reconciler) siblings(ctx context.Context, namespace, cloneSet string) ([]v1alpha1.ScalingPolicy, error) {
	var list v1alpha1.ScalingPolicyList
	if err := r.Client.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{targetIndex: cloneSet}); err != nil {
		return nil, fmt.Errorf("listing policies naming CloneSet %s/%s: %w", namespace, cloneSet, err)
	}
	return list.Items, nil
}

// claimant returns the policy that manages the CloneSet p names when that is not p: the
// oldest policy naming it (creationTimestamp, then name). Like the HPA with a target two
// autoscalers claim, the others refuse rather than fight. A policy being deleted still
// claims its CloneSet until its finalizer is gone.
func (r *Reconciler) claimant(ctx context.Context, p *v1alpha1.ScalingPolicy) (*v1alpha1.ScalingPolicy, error) {
	all, err := r.siblings(ctx, p.Namespace, p.Spec.TargetRef.Name)
	if err != nil {
		return nil, err
	}
	var first *v1alpha1.ScalingPolicy
	for i := range all {
		s := &all[i]
		if s.Name != p.Name && older(s, p) && (first == nil || older(s, first)) {
			first = s
		}
	}
	return first, nil
}

func older(a, b *v1alpha1.ScalingPolicy) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}

// refuse reports a policy whose CloneSet an older policy manages, and changes nothing
// else: no pod, no CloneSet, no finalizer. Whatever it kept from managing the CloneSet
// before (its targetRef changed) is dropped. It is not requeued: a change of any policy
// naming the CloneSet, the winner's deletion included, brings it back (SetupWithManager).
func (r *Reconciler) refuse(ctx context.Context, policy, owner *v1alpha1.ScalingPolicy) (ctrl.Result, error) {
	r.forgetPolicy(client.ObjectKeyFromObject(policy))
	st := policy.Status.DeepCopy()
	st.ObservedGeneration = policy.Generation
	msg := fmt.Sprintf("CloneSet %s is also named by ScalingPolicy %s, which is older and manages it; this policy changes nothing while %s names it",
		policy.Spec.TargetRef.Name, owner.Name, owner.Name)
	if c := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionScalingActive); c == nil || c.Reason != v1alpha1.ReasonAmbiguousTarget || c.Message != msg {
		r.event(policy, corev1.EventTypeWarning, v1alpha1.ReasonAmbiguousTarget, "Refuse", "%s", msg)
		logf.FromContext(ctx).Info("Refusing a CloneSet another policy manages", "cloneSet", policy.Spec.TargetRef.Name, "managedBy", owner.Name)
	}
	setCondition(st, policy.Generation, v1alpha1.ConditionScalingActive, false, v1alpha1.ReasonAmbiguousTarget, msg)
	return ctrl.Result{}, r.writeStatus(ctx, policy, st)
}

// holdFinalizer adds the cleanup finalizer to a policy the controller manages. The
// policy is updated in place with what the server stored.
func (r *Reconciler) holdFinalizer(ctx context.Context, policy *v1alpha1.ScalingPolicy) error {
	if controllerutil.ContainsFinalizer(policy, v1alpha1.CleanupFinalizer) {
		return nil
	}
	base := policy.DeepCopy()
	controllerutil.AddFinalizer(policy, v1alpha1.CleanupFinalizer)
	if err := r.Client.Patch(ctx, policy, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("adding finalizer %s: %w", v1alpha1.CleanupFinalizer, err)
	}
	return nil
}

// finalize lets a deleted policy go. If it managed its CloneSet, the pods it was draining
// serve again (release); then its memory and self-metric series are dropped and its
// finalizer removed. A policy that never managed the CloneSet (an older one does), or
// whose CloneSet is gone, only loses its finalizer.
func (r *Reconciler) finalize(ctx context.Context, policy *v1alpha1.ScalingPolicy) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(policy, v1alpha1.CleanupFinalizer) {
		return ctrl.Result{}, nil // not ours to hold: the API server removes it
	}
	key := client.ObjectKeyFromObject(policy)
	name := policy.Spec.TargetRef.Name
	owner, err := r.claimant(ctx, policy)
	if err != nil {
		return ctrl.Result{}, countFailure(key, "release", err)
	}
	if owner != nil {
		r.event(policy, corev1.EventTypeNormal, "Released", "Release", "policy deleted: CloneSet %s is managed by ScalingPolicy %s; its pods are left to it", name, owner.Name)
	} else {
		cs, err := r.Target.Get(ctx, types.NamespacedName{Namespace: policy.Namespace, Name: name})
		switch {
		case apierrors.IsNotFound(err):
			r.event(policy, corev1.EventTypeNormal, "Released", "Release", "policy deleted: CloneSet %s is gone, no pod to release", name)
		case err != nil:
			return ctrl.Result{}, countFailure(key, "release", err)
		default:
			if err := r.releaseFleet(ctx, policy, cs); err != nil {
				return ctrl.Result{}, countFailure(key, "release", err)
			}
		}
	}
	r.forgetPolicy(key)
	base := policy.DeepCopy()
	controllerutil.RemoveFinalizer(policy, v1alpha1.CleanupFinalizer)
	if err := r.Client.Patch(ctx, policy, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, fmt.Errorf("removing finalizer %s: %w", v1alpha1.CleanupFinalizer, err)
	}
	logf.FromContext(ctx).Info("Released the CloneSet of a deleted policy", "cloneSet", name)
	return ctrl.Result{}, nil
}

// releaseFleet gives a deleted policy's CloneSet back to serving. Tombstoned pods, and
// deletable pods the CloneSet is not deleting yet (healthy, empty pods), go back to
// allocated; the CloneSet's replicas already count them. Init and allocated pods keep
// their state, so a later policy, or none, finds the serving pods labelled allocated.
// Pods the CloneSet is deleting are left to it.
func (r *Reconciler) releaseFleet(ctx context.Context, policy *v1alpha1.ScalingPolicy, cs *kruisev1alpha1.CloneSet) error {
	now := r.Clock.Now()
	pods, _, err := r.listPods(ctx, true, cs, now)
	if err != nil {
		return err
	}
	var released []string
	for _, q := range pods {
		from := q.stored.state
		if q.leaving || (from != statemachine.Tombstone && from != statemachine.Deletable) {
			continue // the CloneSet is deleting it (named, held, or replaced): no new viewers for it
		}
		if err := r.writeState(ctx, policy, q, statemachine.Allocated, now, nil); err != nil {
			return err
		}
		r.event(q.obj, corev1.EventTypeNormal, "Released", "Release", "%s -> allocated: ScalingPolicy %s was deleted", from, policy.Name)
		released = append(released, fmt.Sprintf("%s (%s)", q.obj.Name, from))
	}
	// With no policy left, nothing would release the preDelete hook: take it off every
	// pod, so that the CloneSet deletes the pods it holds and later ones at once.
	for _, q := range pods {
		if hooked(q.obj) {
			if err := r.setHook(ctx, q, false); err != nil {
				return err
			}
		}
	}
	if len(released) == 0 {
		r.event(policy, corev1.EventTypeNormal, "Released", "Release", "policy deleted: no pod of CloneSet %s was draining; its %d pods keep their state", cs.Name, len(pods))
		return nil
	}
	r.event(policy, corev1.EventTypeNormal, "Released", "Release", "policy deleted: pods of CloneSet %s back to allocated: %s; its %d other pods keep their state",
		cs.Name, strings.Join(released, ", "), len(pods)-len(released))
	return nil
}

// forgetPolicy drops what the controller keeps for a policy that is gone or no longer
// manages its CloneSet: its memory, its self-metric series and its external metrics.
func (r *Reconciler) forgetPolicy(key types.NamespacedName) {
	r.forget(key)
	r.evicting.forget(key, func(types.UID) bool { return false })
	forgetMetrics(key.Namespace, key.Name)
	if r.Publisher != nil {
		r.Publisher.Forget(key.Namespace, key.Name)
	}
}
