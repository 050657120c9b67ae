package controller

import (
	"context"
	"fmt"

	appspub "github.com/openkruise/kruise-api/apps/pub"
	kruisev1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/statemachine"
)

// How a CloneSet (OpenKruise v1.8, pkg/controller/cloneset/sync) removes pods, as far as
// streamscaler needs it:
//   - a pod is planned for deletion when it is named in scaleStrategy.podsToDelete or has
//     the apps.kruise.io/specified-delete label (a recreate update sets it), or when the
//     CloneSet already put it in the PreparingDelete lifecycle state; such pods are
//     outside its replicas: it creates their replacements, at once for a PreparingDelete
//     pod only with the label apps.kruise.io/cloneset-scaling-exclude-preparing-delete
//     (otherwise once the pod is gone);
//   - a pod to delete that a spec.lifecycle.preDelete handler hooks (one of its labels,
//     with the same value, or one of its finalizers) is not deleted but labelled
//     lifecycle.apps.kruise.io/state=PreparingDelete, and deleted once no longer hooked;
//   - when replicas rise again while pods are PreparingDelete (and markPodNotReady is
//     off), the CloneSet takes back those not named for deletion: PreparingNormal, then
//     Normal.
//
// And how it updates a pod in place (InPlaceIfPossible, InPlaceOnly), pkg/controller/
// cloneset/sync/cloneset_update.go:
//   - a Normal pod that a spec.lifecycle.inPlaceUpdate handler hooks is labelled
//     PreparingUpdate (counted as unavailable, so maxUnavailable bounds how many wait at
//     once) and left alone while hooked;
//   - unhooked, its containers are restarted at the new revision (Updating); once the
//     kubelet reports them, the pod is Updated, and back to Normal once hooked again (a
//     CloneSet without the hook moves it to Normal at once);
//   - an Updated pod that a later revision reaches goes back to PreparingUpdate with the
//     hook's labels put back by the CloneSet itself.

// leavingPod reports whether the CloneSet is removing the pod: named in podsToDelete,
// labelled specified-delete, or PreparingDelete. (An old-revision pod of a rollout that
// the CloneSet has not marked yet still counts, as it does for the CloneSet; the rollout's
// surge of new pods shows as pods beyond replicas: a negative pending count.)
func leavingPod(cs *kruisev1alpha1.CloneSet, pod *corev1.Pod) bool {
	if _, ok := pod.Labels[kruisev1alpha1.SpecifiedDeleteKey]; ok {
		return true
	}
	if pod.Labels[appspub.LifecycleStateKey] == string(appspub.LifecycleStatePreparingDelete) {
		return true
	}
	for _, n := range cs.Spec.ScaleStrategy.PodsToDelete {
		if n == pod.Name {
			return true
		}
	}
	return false
}

// heldPod reports whether the CloneSet waits on streamscaler's hook to delete the pod
// (preDelete: drainHook's declared) or to update it in place (inPlace: inPlaceHook).
func heldPod(preDelete, inPlace bool, pod *corev1.Pod) bool {
	if !hooked(pod) {
		return false
	}
	switch appspub.LifecycleStateType(pod.Labels[appspub.LifecycleStateKey]) {
	case appspub.LifecycleStatePreparingDelete:
		return preDelete
	case appspub.LifecycleStatePreparingUpdate:
		return inPlace
	}
	return false
}

// inPlaceStage reports where the CloneSet is in an in-place update of the pod: about to
// restart its containers or restarting them (updating), or done and waiting for the hook
// to be put back (updated).
func inPlaceStage(pod *corev1.Pod) (updating, updated bool) {
	switch appspub.LifecycleStateType(pod.Labels[appspub.LifecycleStateKey]) {
	case appspub.LifecycleStatePreparingUpdate, appspub.LifecycleStateUpdating:
		return true, false
	case appspub.LifecycleStateUpdated:
		return false, true
	}
	return false, false
}

// inPlaceHook reports whether the CloneSet's in-place updates wait for streamscaler's
// hook (spec.lifecycle.inPlaceUpdate with the same label as preDelete).
func inPlaceHook(cs *kruisev1alpha1.CloneSet) bool {
	lc := cs.Spec.Lifecycle
	return lc != nil && lc.InPlaceUpdate != nil && lc.InPlaceUpdate.LabelsHandler[v1alpha1.DrainHookLabel] == v1alpha1.DrainHookValue
}

// updatesInPlace reports whether the CloneSet's update strategy restarts pods in place.
func updatesInPlace(cs *kruisev1alpha1.CloneSet) bool {
	t := cs.Spec.UpdateStrategy.Type
	return t == kruisev1alpha1.InPlaceIfPossibleCloneSetUpdateStrategyType || t == kruisev1alpha1.InPlaceOnlyCloneSetUpdateStrategyType
}

// drainHook says whether the CloneSet declares streamscaler's preDelete hook, and if not,
// what is missing. Pods of a CloneSet that declares it but whose template lacks the label
// are labelled by the controller (hooked tells which need it), so the template is advised,
// not required.
func drainHook(cs *kruisev1alpha1.CloneSet) (declared bool, why string) {
	lc := cs.Spec.Lifecycle
	if lc == nil || lc.PreDelete == nil || lc.PreDelete.LabelsHandler[v1alpha1.DrainHookLabel] != v1alpha1.DrainHookValue {
		return false, fmt.Sprintf("CloneSet %s declares no spec.lifecycle.preDelete.labelsHandler {%s: %q}: a scale-in by anyone else, a recreate update "+
			"or a pod named in podsToDelete by another controller deletes pods with their viewers at once", cs.Name, v1alpha1.DrainHookLabel, v1alpha1.DrainHookValue)
	}
	if sel := cs.Spec.Selector; sel != nil {
		_, inLabels := sel.MatchLabels[v1alpha1.DrainHookLabel]
		inExpr := false
		for _, req := range sel.MatchExpressions {
			inExpr = inExpr || req.Key == v1alpha1.DrainHookLabel
		}
		if inLabels || inExpr {
			return false, fmt.Sprintf("CloneSet %s's selector uses %s: releasing the hook would orphan the pod; keep the label out of the selector", cs.Name, v1alpha1.DrainHookLabel)
		}
	}
	if cs.Labels[kruisev1alpha1.CloneSetScalingExcludePreparingDeleteKey] != "true" {
		return true, fmt.Sprintf("CloneSet %s lacks the label %s=true: the CloneSet replaces a pod it holds for a drain only once the pod is gone, so the fleet is a pod short while it drains", cs.Name, kruisev1alpha1.CloneSetScalingExcludePreparingDeleteKey)
	}
	if updatesInPlace(cs) && !inPlaceHook(cs) {
		return true, fmt.Sprintf("CloneSet %s updates pods in place (%s) without spec.lifecycle.inPlaceUpdate.labelsHandler {%s: %q}: an update restarts a pod's containers with its viewers on it",
			cs.Name, cs.Spec.UpdateStrategy.Type, v1alpha1.DrainHookLabel, v1alpha1.DrainHookValue)
	}
	if lc.PreDelete.MarkPodNotReady {
		return true, fmt.Sprintf("CloneSet %s's preDelete hook sets markPodNotReady: the CloneSet then never takes back a pod it is deleting, so a draining pod is not revived when load rises", cs.Name)
	}
	return true, ""
}

// hooked reports whether the pod carries streamscaler's hook label.
func hooked(pod *corev1.Pod) bool {
	return pod.Labels[v1alpha1.DrainHookLabel] == v1alpha1.DrainHookValue
}

// checkDrainHook reports in the RemovalsDrain condition whether the CloneSet's removals
// wait for drains (a Warning event when they stop doing so), and, when the hook is
// declared, puts the hook label on pods that lack it (created before the template had it).
func (r *Reconciler) checkDrainHook(ctx context.Context, p *pass) error {
	declared, why := drainHook(p.cs)
	gen := p.policy.Generation
	was := meta.FindStatusCondition(p.status.Conditions, v1alpha1.ConditionRemovalsDrain)
	switch {
	case !declared:
		setCondition(p.status, gen, v1alpha1.ConditionRemovalsDrain, false, "NoPreDeleteHook", why)
		if was == nil || was.Status != metav1.ConditionFalse {
			r.event(p.policy, corev1.EventTypeWarning, "NoPreDeleteHook", "Check", "%s", why)
		}
		return nil
	case why != "":
		setCondition(p.status, gen, v1alpha1.ConditionRemovalsDrain, true, "PreDeleteHookCaveat", why)
	case inPlaceHook(p.cs):
		setCondition(p.status, gen, v1alpha1.ConditionRemovalsDrain, true, "PreDeleteHook",
			fmt.Sprintf("every pod the CloneSet removes, whoever asks, or updates in place drains first (preDelete and inPlaceUpdate hooks %s)", v1alpha1.DrainHookLabel))
	default:
		setCondition(p.status, gen, v1alpha1.ConditionRemovalsDrain, true, "PreDeleteHook",
			fmt.Sprintf("every pod the CloneSet removes, whoever asks, drains first (preDelete hook %s)", v1alpha1.DrainHookLabel))
	}
	if p.policy.Spec.Paused || p.policy.Spec.DryRun {
		return nil
	}
	for _, q := range p.pods {
		// Not on a pod being removed, nor on one released for an in-place update (until it
		// is renewed: the hook back on an updated pod lets the CloneSet finish the update).
		if q.leaving || hooked(q.obj) || q.updating || q.stored.state == statemachine.Deletable {
			continue
		}
		if err := r.setHook(ctx, q, true); err != nil {
			return err
		}
	}
	return nil
}

// release lets the CloneSet delete, or update in place, a drained pod it was holding for
// streamscaler.
func (r *Reconciler) release(ctx context.Context, policy *v1alpha1.ScalingPolicy, q *pod) error {
	updating := q.updating
	if err := r.setHook(ctx, q, false); err != nil {
		return err
	}
	if updating {
		logf.FromContext(ctx).V(1).Info("Released the inPlaceUpdate hook", "pod", klog.KObj(q.obj))
		r.event(q.obj, corev1.EventTypeNormal, "HookReleased", "Release", "drained (%s): inPlaceUpdate hook released, the CloneSet restarts the pod at its new revision", q.stored.state)
		r.event(policy, corev1.EventTypeNormal, "HookReleased", "Release", "pod %s drained; the CloneSet updates it in place", q.obj.Name)
		return nil
	}
	logf.FromContext(ctx).V(1).Info("Released the preDelete hook", "pod", klog.KObj(q.obj))
	r.event(q.obj, corev1.EventTypeNormal, "HookReleased", "Release", "drained (%s): preDelete hook released, the CloneSet deletes the pod", q.stored.state)
	r.event(policy, corev1.EventTypeNormal, "HookReleased", "Release", "pod %s drained; the CloneSet deletes it", q.obj.Name)
	return nil
}

// setHook adds or removes the hook label with an optimistic-lock patch.
func (r *Reconciler) setHook(ctx context.Context, q *pod, on bool) error {
	updated := q.obj.DeepCopy()
	if on {
		if updated.Labels == nil {
			updated.Labels = map[string]string{}
		}
		updated.Labels[v1alpha1.DrainHookLabel] = v1alpha1.DrainHookValue
	} else {
		delete(updated.Labels, v1alpha1.DrainHookLabel)
	}
	if err := r.Client.Patch(ctx, updated, client.MergeFromWithOptions(q.obj, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("setting the preDelete hook label on pod %s to %v: %w", q.obj.Name, on, err)
	}
	q.obj = updated
	return nil
}

// handsOn is what a policy's last pass left: the CloneSet's replicas and each pod's
// state, so that the next pass can tell changes made by someone else.
type handsOn struct {
	known    bool
	replicas int32
	states   map[string]statemachine.State
}

// noticeHandsOn tells, in events, what changed since the last pass that streamscaler did
// not do: the CloneSet's replicas, and pods that went while not deletable (cut viewers,
// unless the CloneSet held them for a drain).
func (r *Reconciler) noticeHandsOn(p *pass) {
	h := &p.mem.handsOn
	now := ptrValue(p.cs.Spec.Replicas)
	if h.known && now != h.replicas {
		r.event(p.policy, corev1.EventTypeNormal, "ReplicasChangedElsewhere", "Observe",
			"CloneSet %s: replicas changed from %d to %d by someone else; the next decision sizes the fleet on its load again", p.cs.Name, h.replicas, now)
	}
	present := make(map[string]bool, len(p.pods))
	for _, q := range p.pods {
		present[q.obj.Name] = true
	}
	for name, st := range h.states {
		if !present[name] && st != statemachine.Deletable {
			r.event(p.policy, corev1.EventTypeWarning, "PodRemovedElsewhere", "Observe",
				"pod %s was removed by someone else while %s, without a drain: any viewers on it were cut", name, st)
		}
	}
	h.known, h.replicas = true, now
}

// rememberHandsOn records what this pass leaves, for the next pass's noticeHandsOn.
func (h *handsOn) remember(replicas int32, pods []*pod) {
	h.known, h.replicas = true, replicas
	h.states = make(map[string]statemachine.State, len(pods))
	for _, q := range pods {
		h.states[q.obj.Name] = q.stored.state
	}
}
