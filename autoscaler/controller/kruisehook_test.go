package controller_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	appspub "github.com/openkruise/kruise-api/apps/pub"
	kruisev1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

// hookedCloneSet is a CloneSet that declares streamscaler's preDelete hook, with the hook
// label in its pod template, and that replaces a pod held for a drain at once (Kruise's
// scaling-exclude-preparing-delete label), as deploy/samples recommends.
func hookedCloneSet(cs *kruisev1alpha1.CloneSet) {
	cs.Labels = map[string]string{kruisev1alpha1.CloneSetScalingExcludePreparingDeleteKey: "true"}
	labels := map[string]string{v1alpha1.DrainHookLabel: v1alpha1.DrainHookValue}
	for k, v := range cs.Spec.Template.Labels {
		labels[k] = v
	}
	cs.Spec.Template.Labels = labels // not the selector's map: the hook label must stay out of the selector
	cs.Spec.Lifecycle = &appspub.Lifecycle{PreDelete: &appspub.LifecycleHook{LabelsHandler: map[string]string{v1alpha1.DrainHookLabel: v1alpha1.DrainHookValue}}}
}

// editCloneSet is someone else changing the CloneSet (a person, another controller).
func (e *env) editCloneSet(change func(*kruisev1alpha1.CloneSet)) {
	e.t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cs := e.cs()
		change(&cs)
		return e.c.Client.Update(context.Background(), &cs)
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

func lifecycleState(p corev1.Pod) string { return p.Labels[appspub.LifecycleStateKey] }

func (e *env) hasEvent(reason, contains string) (bool, string) {
	var events corev1.EventList
	if err := e.c.Client.List(context.Background(), &events, client.InNamespace(e.ns)); err != nil {
		return false, err.Error()
	}
	var seen []string
	for _, ev := range events.Items {
		if ev.Reason == reason && strings.Contains(ev.Message, contains) {
			return true, ""
		}
		seen = append(seen, ev.Reason)
	}
	return false, fmt.Sprintf("events %v", seen)
}

// podsToDeleteByOthers: another controller names a pod with players in podsToDelete. With
// the hook, Kruise holds the pod (PreparingDelete) and creates its replacement;
// streamscaler drains it and releases it only once empty; Kruise then deletes it.
func podsToDeleteByOthers(e *env) {
	pods := e.cloneSetWith(hookedCloneSet, 10, 10, 10)
	victim := pods[0].Name
	e.policy(nil)
	e.startController(nil, nil)
	e.eventually("every pod allocated, the hook declared", func() (bool, string) {
		p := e.getPolicy()
		c := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionRemovalsDrain)
		return c != nil && c.Status == "True" && e.state(victim) == "allocated", fmt.Sprintf("%s; condition %v", states(e), c)
	})
	e.editCloneSet(func(cs *kruisev1alpha1.CloneSet) {
		cs.Spec.ScaleStrategy.PodsToDelete = append(cs.Spec.ScaleStrategy.PodsToDelete, victim)
	})
	e.eventually("the pod Kruise holds is tombstoned", func() (bool, string) {
		p, ok := e.podByName(victim)
		return ok && lifecycleState(p) == string(appspub.LifecycleStatePreparingDelete) && p.Labels[v1alpha1.StateLabel] == "tombstone", states(e)
	})
	e.eventually("Kruise creates the replacement", func() (bool, string) {
		return len(e.pods()) == 4, states(e)
	})
	for _, p := range e.pods() {
		if p.Name != victim && p.Labels[v1alpha1.StateLabel] != "allocated" {
			e.ready(p.Name)
		}
	}
	e.consistently("a held pod with players is not deleted", 3*time.Second, func() (bool, string) {
		p, ok := e.podByName(victim)
		return ok && p.Labels[v1alpha1.DrainHookLabel] == v1alpha1.DrainHookValue, states(e)
	})
	e.setStreams(victim, 0)
	e.eventually("the drained pod is released and Kruise deletes it; replicas unchanged", func() (bool, string) {
		p, there := e.podByName(victim)
		var events corev1.EventList
		_ = e.c.Client.List(context.Background(), &events, client.InNamespace(e.ns))
		var evs []string
		for _, ev := range events.Items {
			evs = append(evs, ev.InvolvedObject.Name+" "+ev.Reason+": "+ev.Message)
		}
		return !there && *e.cs().Spec.Replicas == 3 && len(e.pods()) == 3, fmt.Sprintf("%s; victim labels %v deletion %v finalizers %v phase %s owner %v; events %q; cs podsToDelete %v",
			states(e), p.Labels, p.DeletionTimestamp, p.Finalizers, p.Status.Phase, p.OwnerReferences, evs, e.cs().Spec.ScaleStrategy.PodsToDelete)
	})
	e.eventually("a HookReleased event", func() (bool, string) { return e.hasEvent("HookReleased", victim) })
}

// manualScaleIn: a person lowers replicas while the load still wants every pod. Kruise
// holds the pod it picked; streamscaler drains it, raises replicas back on the load, and
// Kruise takes the pod back: no pod is deleted, none is created, and an event says what
// happened.
func manualScaleIn(e *env) {
	before := uids(e.cloneSetWith(hookedCloneSet, 10, 10, 10))
	e.policy(nil)
	e.startController(nil, nil)
	e.eventually("every pod allocated", func() (bool, string) {
		for _, p := range e.pods() {
			if p.Labels[v1alpha1.StateLabel] != "allocated" {
				return false, states(e)
			}
		}
		return true, ""
	})
	e.editCloneSet(func(cs *kruisev1alpha1.CloneSet) { cs.Spec.Replicas = ptrTo(int32(2)) })
	e.eventually("replicas back to 3 and every pod serving again", func() (bool, string) {
		for _, p := range e.pods() {
			if p.Labels[v1alpha1.StateLabel] != "allocated" || lifecycleState(p) == string(appspub.LifecycleStatePreparingDelete) {
				return false, states(e)
			}
		}
		return *e.cs().Spec.Replicas == 3, states(e)
	})
	if now := uids(e.pods()); fmt.Sprint(now) != fmt.Sprint(before) {
		e.t.Errorf("pods changed: before %v, now %v", before, now)
	}
	e.eventually("a ReplicasChangedElsewhere event", func() (bool, string) {
		return e.hasEvent("ReplicasChangedElsewhere", "from 3 to 2")
	})
}

// noHook: a CloneSet without the hook is scaled as before, and the policy says, in a
// condition and an event, that removals by anyone else cut viewers.
func noHook(e *env) {
	e.cloneSet(10, 10)
	e.policy(nil)
	e.startController(nil, nil)
	e.eventually("RemovalsDrain is False with the reason", func() (bool, string) {
		p := e.getPolicy()
		c := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionRemovalsDrain)
		return c != nil && c.Status == "False" && c.Reason == "NoPreDeleteHook", fmt.Sprintf("%v", c)
	})
	e.eventually("a NoPreDeleteHook warning", func() (bool, string) { return e.hasEvent("NoPreDeleteHook", "preDelete") })
}

func ptrTo[T any](v T) *T { return &v }

// scaleInThenRollout: with players on every pod of a hooked CloneSet that surges on
// rollouts, someone lowers replicas by hand and then changes the pod template. No pod with
// players is deleted before it drained; the fleet ends with every pod at the new revision.
func scaleInThenRollout(e *env) {
	surge, unavailable := intstr.FromInt32(1), intstr.FromInt32(0)
	old := e.cloneSetWith(func(cs *kruisev1alpha1.CloneSet) {
		hookedCloneSet(cs)
		cs.Spec.UpdateStrategy = kruisev1alpha1.CloneSetUpdateStrategy{Type: kruisev1alpha1.RecreateCloneSetUpdateStrategyType, MaxSurge: &surge, MaxUnavailable: &unavailable}
	}, 10, 10, 10)
	e.policy(nil)
	e.startController(nil, nil)
	e.eventually("every pod allocated", func() (bool, string) { return allAllocated(e.pods()), states(e) })
	e.editCloneSet(func(cs *kruisev1alpha1.CloneSet) { cs.Spec.Replicas = ptrTo(int32(2)) })
	e.eventually("replicas back to 3 on the load, every pod serving", func() (bool, string) {
		return *e.cs().Spec.Replicas == 3 && len(e.pods()) == 3 && allAllocated(e.pods()), states(e)
	})
	oldRevision := e.cs().Status.UpdateRevision
	e.editCloneSet(func(cs *kruisev1alpha1.CloneSet) {
		if cs.Spec.Template.Annotations == nil {
			cs.Spec.Template.Annotations = map[string]string{}
		}
		cs.Spec.Template.Annotations["example.com/release"] = "2"
	})
	oldNames := map[string]bool{}
	for _, p := range old {
		oldNames[p.Name] = true
	}
	// Old pods keep their players until the test lets them go; new pods are made Ready as
	// the kubelet would. None of the old pods may go while it has players.
	deadline := time.Now().Add(2 * waitFor)
	drained := map[string]bool{} // old pods whose players the test let go
	for {
		pods := e.pods()
		present := map[string]bool{}
		for _, p := range pods {
			present[p.Name] = true
			if !oldNames[p.Name] && p.Labels[v1alpha1.StateLabel] == "init" {
				e.ready(p.Name)
			}
			if oldNames[p.Name] && !drained[p.Name] && lifecycleState(p) == string(appspub.LifecycleStatePreparingDelete) && p.Labels[v1alpha1.StateLabel] == "tombstone" {
				e.setStreams(p.Name, 0) // held and draining: its players leave, it may go now
				drained[p.Name] = true
			}
		}
		for name := range oldNames {
			if !present[name] && !drained[name] {
				e.t.Fatalf("old pod %s was deleted before it drained; %s", name, states(e))
			}
		}
		cs := e.cs()
		// Until Kruise has seen the new template, its status still describes the old one.
		rolledOut := cs.Status.ObservedGeneration == cs.Generation && cs.Status.UpdateRevision != oldRevision &&
			cs.Status.UpdateRevision == cs.Status.CurrentRevision && cs.Status.UpdatedReplicas == 3
		if rolledOut && len(pods) == 3 && allAllocated(pods) {
			for _, p := range pods {
				if oldNames[p.Name] {
					e.t.Fatalf("old pod %s is still there at the end; %s", p.Name, states(e))
				}
			}
			return
		}
		if time.Now().After(deadline) {
			var events corev1.EventList
			_ = e.c.Client.List(context.Background(), &events, client.InNamespace(e.ns))
			var evs []string
			for _, ev := range events.Items {
				if ev.InvolvedObject.Kind == "ScalingPolicy" {
					evs = append(evs, ev.Reason+": "+ev.Message)
				}
			}
			e.t.Fatalf("the rollout did not finish: replicas %d updated %d, %s; policy events %q", *cs.Spec.Replicas, cs.Status.UpdatedReplicas, states(e), evs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func allAllocated(pods []corev1.Pod) bool {
	for _, p := range pods {
		if p.Labels[v1alpha1.StateLabel] != "allocated" {
			return false
		}
	}
	return true
}

// inPlaceUpdate: a CloneSet that updates pods in place, with streamscaler's hook on
// preDelete and inPlaceUpdate. An image change restarts no pod while it has players: each
// pod the CloneSet picks is held (PreparingUpdate), tombstoned and kept until its players
// have left (moved by the test to another pod, as viewers reconnect); released, it is
// restarted at the new image, renewed (deletable -> init) and serves again. Every pod ends
// at the new image with the same UID, allocated, the hook back on.
func inPlaceUpdate(e *env) {
	unavailable := intstr.FromInt32(1)
	old := e.cloneSetWith(func(cs *kruisev1alpha1.CloneSet) {
		hookedCloneSet(cs)
		cs.Spec.Lifecycle.InPlaceUpdate = &appspub.LifecycleHook{LabelsHandler: map[string]string{v1alpha1.DrainHookLabel: v1alpha1.DrainHookValue}}
		cs.Spec.UpdateStrategy = kruisev1alpha1.CloneSetUpdateStrategy{Type: kruisev1alpha1.InPlaceIfPossibleCloneSetUpdateStrategyType, MaxUnavailable: &unavailable}
	}, 10, 10, 10)
	e.policy(nil)
	e.startController(nil, nil)
	e.eventually("every pod allocated, both hooks declared", func() (bool, string) {
		c := meta.FindStatusCondition(e.getPolicy().Status.Conditions, v1alpha1.ConditionRemovalsDrain)
		return allAllocated(e.pods()) && c != nil && c.Reason == "PreDeleteHook" && strings.Contains(c.Message, "inPlaceUpdate"), fmt.Sprintf("%s; %v", states(e), c)
	})
	const newImage = "registry.invalid/ossrs/srs:6"
	e.editCloneSet(func(cs *kruisev1alpha1.CloneSet) { cs.Spec.Template.Spec.Containers[0].Image = newImage })
	streams := map[string]int{}
	uid := map[string]string{}
	restarted := map[string]bool{} // pods seen at the new image
	for _, p := range old {
		streams[p.Name], uid[p.Name] = 10, string(p.UID)
	}
	held := map[string]bool{} // pods seen held with players: the test then moves their players
	deadline := time.Now().Add(2 * waitFor)
	for {
		pods := e.pods()
		done := len(pods) == 3
		for _, p := range pods {
			image := p.Spec.Containers[0].Image
			if image == newImage && !restarted[p.Name] {
				if streams[p.Name] > 0 {
					e.t.Fatalf("pod %s was restarted at the new image with %d players on it; %s", p.Name, streams[p.Name], states(e))
				}
				restarted[p.Name] = true
			}
			if len(p.Status.ContainerStatuses) > 0 && p.Status.ContainerStatuses[0].Image != image {
				e.ready(p.Name) // the kubelet restarted the container at the new image
			}
			if lifecycleState(p) == string(appspub.LifecycleStatePreparingUpdate) && p.Labels[v1alpha1.StateLabel] == "tombstone" && streams[p.Name] > 0 && !held[p.Name] {
				held[p.Name] = true
				e.consistently("a held pod with players keeps its image", 2*time.Second, func() (bool, string) {
					q, _ := e.podByName(p.Name)
					return q.Spec.Containers[0].Image != newImage && hooked(q), states(e)
				})
				// Its viewers reconnect to another serving pod.
				for _, q := range pods {
					if q.Name != p.Name && q.Labels[v1alpha1.StateLabel] == "allocated" && lifecycleState(q) == string(appspub.LifecycleStateNormal) {
						streams[q.Name] += streams[p.Name]
						e.setStreams(q.Name, streams[q.Name])
						break
					}
				}
				streams[p.Name] = 0
				e.setStreams(p.Name, 0)
			}
			done = done && image == newImage && uid[p.Name] == string(p.UID) && p.Labels[v1alpha1.StateLabel] == "allocated" &&
				lifecycleState(p) == string(appspub.LifecycleStateNormal) && hooked(p)
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("the in-place update did not finish: %s; held %v", states(e), held)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(held) == 0 {
		e.t.Errorf("no pod was held for its players: the hook was never used")
	}
	if *e.cs().Spec.Replicas != 3 {
		e.t.Errorf("replicas %d, want 3: an in-place update needs no replacement pod", *e.cs().Spec.Replicas)
	}
	e.eventually("a renew event", func() (bool, string) { return e.hasEvent("renew", "updated in place") })
}

func hooked(p corev1.Pod) bool { return p.Labels[v1alpha1.DrainHookLabel] == v1alpha1.DrainHookValue }
