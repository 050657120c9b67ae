package controller

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	kruisev1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/autoscaler"
	"github.com/streamscaler/streamscaler/statemachine"
)

// Reconciler keeps one CloneSet per ScalingPolicy at the size its metrics ask for,
// draining pods before they go.
type Reconciler struct {
	// Client reads policies from the cache and writes pods and policy status.
	Client client.Client
	// Reader lists pods straight from the API server, so decisions never act on a
	// state label the controller has just changed.
	Reader client.Reader
	// Target reads and resizes CloneSets.
	Target ScaleTarget
	// Sources supply per-pod samples, by type; a policy picks one with
	// spec.metricsSource.type, or gets DefaultSource.
	Sources       map[v1alpha1.MetricsSourceType]MetricsSource
	DefaultSource v1alpha1.MetricsSourceType
	// Evictors by eviction action; NoEviction is used for none or a missing entry.
	Evictors map[v1alpha1.EvictionAction]Evictor
	// Histories rebuild load history for prediction, by source type; may be empty.
	Histories map[v1alpha1.MetricsSourceType]HistorySource
	// ForecastStep is the bucket of prediction history (default 1m); ForecastRefit how
	// often models are refitted (default 1h).
	ForecastStep, ForecastRefit time.Duration
	// Clock tells the time.
	Clock Clock
	// Recorder emits events on policies and pods; may be nil.
	Recorder events.EventRecorder
	// Publisher, when set, gets each decision's figures for the external metrics API.
	Publisher Publisher

	mu       sync.Mutex
	policies map[types.NamespacedName]*policyMemory
}

// policyMemory is what the controller keeps between reconciles of one policy. Losing it
// (a restart) is safe: the history is seeded so that no scale-in follows a restart
// before a whole scale-down window has passed.
type policyMemory struct {
	history  autoscaler.History
	next     time.Time // when the next metric-driven decision is due
	failures int32     // consecutive failed reads of the metrics source
	// forecaster is the policy's load history and models while prediction is on;
	// forecastFor is the prediction block and metrics it was built for.
	forecaster  *autoscaler.LoadForecaster
	forecastFor string
}

// metricKeys are always asked for: streams and bandwidth choose victims and tell when
// a pod has drained, whatever the policy scales on.
var metricKeys = []string{string(v1alpha1.MetricPushStreams), string(v1alpha1.MetricPullStreams), string(v1alpha1.MetricBandwidth)}

func (r *Reconciler) memory(key types.NamespacedName) (*policyMemory, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.policies == nil {
		r.policies = map[types.NamespacedName]*policyMemory{}
	}
	m, ok := r.policies[key]
	if !ok {
		m = &policyMemory{}
		r.policies[key] = m
	}
	return m, ok
}

func (r *Reconciler) forget(key types.NamespacedName) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.policies, key)
}

// pod is a pod with its decoded state.
type pod struct {
	obj    *corev1.Pod
	stored storedState
}

// Reconcile runs one pass for a policy:
//  1. read the policy and its CloneSet; report a missing target and stop;
//  2. list the CloneSet's pods and give new ones the init state;
//  3. move Ready init pods to allocated (at once, on every pass);
//  4. when a decision is due: read metrics, end drains (evicting at the timeout), size
//     the fleet and move pods (revive, tombstone, cancel);
//  5. resize the CloneSet: replicas for the pods that stay, and exactly the deletable
//     pods named in podsToDelete, in one optimistic update;
//  6. report status and conditions.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	log := logf.FromContext(ctx).WithValues("policy", klog.KRef(req.Namespace, req.Name))
	ctx = logf.IntoContext(ctx, log)
	start := r.Clock.Now()
	defer func() {
		took := r.Clock.Now().Sub(start)
		reconcileDuration.WithLabelValues(req.Namespace, req.Name).Observe(took.Seconds())
		log.V(2).Info("Reconciled", "duration", took, "requeueAfter", res.RequeueAfter, "error", retErr)
	}()
	fail := func(stage string, err error) error {
		if err != nil {
			reconcileErrors.WithLabelValues(req.Namespace, req.Name, stage).Inc()
		}
		return err
	}

	// 1. The policy and its target.
	var policy v1alpha1.ScalingPolicy
	if err := r.Client.Get(ctx, req.NamespacedName, &policy); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.NamespacedName)
			forgetMetrics(req.Namespace, req.Name)
			if r.Publisher != nil {
				r.Publisher.Forget(req.Namespace, req.Name)
			}
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("getting policy: %w", err)
	}
	status := policy.Status.DeepCopy()
	status.ObservedGeneration = policy.Generation
	spec := &policy.Spec
	if errs := spec.Validate(); len(errs) > 0 {
		// The API server's schema should have refused it; report and wait for an edit.
		setCondition(status, policy.Generation, v1alpha1.ConditionScalingActive, false, "InvalidSpec", errs.ToAggregate().Error())
		return ctrl.Result{}, r.writeStatus(ctx, &policy, status)
	}
	mem, known := r.memory(req.NamespacedName)
	now := r.Clock.Now()

	cs, err := r.Target.Get(ctx, types.NamespacedName{Namespace: policy.Namespace, Name: spec.TargetRef.Name})
	if err != nil {
		if apierrors.IsNotFound(err) {
			setCondition(status, policy.Generation, v1alpha1.ConditionAbleToScale, false, "TargetNotFound",
				fmt.Sprintf("CloneSet %q not found in namespace %q", spec.TargetRef.Name, policy.Namespace))
			return ctrl.Result{RequeueAfter: spec.Period()}, r.writeStatus(ctx, &policy, status)
		}
		setCondition(status, policy.Generation, v1alpha1.ConditionAbleToScale, false, "FailedGetTarget", err.Error())
		return ctrl.Result{}, fail("target", errors.Join(err, r.writeStatus(ctx, &policy, status)))
	}

	// 2. Pods, each with a state.
	pods, pending, err := r.listPods(ctx, cs, now)
	if err != nil {
		return ctrl.Result{}, fail("pods", err)
	}
	act := !spec.Paused && !spec.DryRun
	if !known {
		// After a restart the stabilization history is gone: seed it with the serving
		// count, so the first scale-down window is honoured as if nothing had happened.
		mem.history.Recommendations = append(mem.history.Recommendations, autoscaler.Timed{At: now, Replicas: servingCount(pods, pending)})
	}
	for _, p := range pods {
		if p.stored.problem != "" {
			r.event(p.obj, corev1.EventTypeWarning, "InvalidState", "Reset", "state label unreadable (%s); treating the pod as allocated", p.stored.problem)
		}
		if p.stored.rewrite && act {
			if err := r.writeState(ctx, &policy, p, p.stored.state, p.stored.since, nil); err != nil {
				return ctrl.Result{}, fail("state", err)
			}
		}
	}

	// 3 and 4. Lifecycle and decision.
	due := !now.Before(mem.next)
	var values map[string]map[string]float64
	var metricsErr error
	if due {
		values, metricsErr = r.readMetrics(ctx, &policy, pods)
		if metricsErr != nil {
			_ = fail("metrics", metricsErr)
			mem.failures++
			log.Error(metricsErr, "Reading metrics", "consecutiveFailures", mem.failures)
			values = nil
		} else {
			mem.failures = 0
		}
	}
	steps, err := autoscaler.Progress(samples(pods, values), spec, now)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("advancing pod states: %w", err)
	}
	for _, s := range steps {
		if !due && s.Transition.Event != statemachine.EventReady {
			continue // drains are judged on fresh samples, at the sync period
		}
		if !act {
			continue
		}
		if err := r.applyStep(ctx, &policy, byName(pods)[s.Pod], s); err != nil {
			return ctrl.Result{}, fail("state", err)
		}
	}

	var rec *autoscaler.Recommendation
	create := int32(0)
	if due {
		current := samples(pods, values)
		if !act {
			current = projected(current, steps) // report what the decision would be
		}
		in := autoscaler.Input{Now: now, Spec: spec, Pods: current, Pending: pending, SourceFailures: mem.failures}
		if spec.Predicting() {
			r.ensureForecaster(ctx, &policy, cs, mem, now)
			if mem.forecaster != nil {
				in.Forecast = mem.forecaster.Forecast()
			}
		} else {
			mem.forecaster = nil
		}
		rc := autoscaler.Recommend(in, &mem.history)
		rec = &rc
		if mem.forecaster != nil && metricsErr == nil {
			totals := map[string]float64{}
			for _, m := range rc.Metrics {
				if m.Valid {
					totals[m.Key] = m.Total
				}
			}
			mem.forecaster.Observe(now, totals)
		}
		plan := autoscaler.PlanScale(current, pending, rc.Replicas)
		log.V(1).Info("Decided", "serving", rc.Current, "desired", rc.Replicas, "raw", rc.Raw, "reason", rc.Reason, "plan", plan)
		if act {
			if err := r.applyPlan(ctx, &policy, pods, plan, now); err != nil {
				return ctrl.Result{}, fail("state", err)
			}
			create = plan.Create
		}
		if rc.Replicas != rc.Current {
			r.event(&policy, corev1.EventTypeNormal, "Rescale", "Decide", "%d serving pods -> %d (%s): %s", rc.Current, rc.Replicas, rc.Reason, rc.Message)
		}
	}

	// 5. The CloneSet: keep every pod that is not deletable, add new ones, name the rest.
	if act {
		keep, gone := int32(0), []string(nil)
		for _, p := range pods {
			if p.stored.state == statemachine.Deletable {
				gone = append(gone, p.obj.Name)
			} else {
				keep++
			}
		}
		sort.Strings(gone)
		replicas := keep + pending + create
		if replicas != ptrValue(cs.Spec.Replicas) || !listed(cs, gone) {
			if err := r.Target.Scale(ctx, cs, replicas, gone); err != nil {
				// A conflict means someone else wrote the CloneSet: nothing of ours was
				// written, and the next pass re-reads and re-decides.
				setCondition(status, policy.Generation, v1alpha1.ConditionAbleToScale, false, "FailedUpdateTarget", err.Error())
				return ctrl.Result{}, fail("scale", errors.Join(err, r.writeStatus(ctx, &policy, status)))
			}
			r.event(&policy, corev1.EventTypeNormal, "Scaled", "Scale", "CloneSet %s: replicas %d -> %d, deleting %v", cs.Name, ptrValue(cs.Spec.Replicas), replicas, gone)
			if replicas != ptrValue(cs.Spec.Replicas) {
				status.LastScaleTime = &metav1.Time{Time: now}
			}
			cs.Spec.Replicas = &replicas
		}
	}
	if due {
		mem.next = now.Add(spec.Period())
		if rec != nil && act && rec.Replicas != rec.Current {
			mem.history.RecordScale(now, rec.Current, rec.Replicas)
		}
	}

	// 6. Status.
	r.fillStatus(status, &policy, cs, pods, rec, metricsErr)
	if mem.forecaster != nil && rec != nil {
		for i := range status.CurrentMetrics {
			fs := mem.forecaster.Status(rec.Metrics[i].Key)
			ms := &status.CurrentMetrics[i]
			ms.ForecastModel = fs.Model
			if fs.Model != "" {
				ms.Forecast = quantity(fs.Value)
			}
			if fs.ErrorPercent >= 0 {
				e := int32(math.Round(fs.ErrorPercent))
				ms.ForecastErrorPercent = &e
			}
		}
	}
	if err := r.writeStatus(ctx, &policy, status); err != nil {
		return ctrl.Result{}, fail("status", err)
	}
	counts := map[statemachine.State]int{}
	for _, p := range pods {
		counts[p.stored.state]++
	}
	recordPods(policy.Namespace, policy.Name, counts)
	fleetReplicas.WithLabelValues(policy.Namespace, policy.Name, replicasCurrent).Set(float64(ptrValue(cs.Spec.Replicas)))
	if rec != nil {
		targets := map[string]float64{}
		for _, m := range spec.Metrics {
			targets[m.Key()] = m.TargetValue()
		}
		recordDecision(policy.Namespace, policy.Name, *rec, targets)
		if r.Publisher != nil {
			r.Publisher.Publish(policy.Namespace, policy.Name, externalValues(*rec, ptrValue(cs.Spec.Replicas)), now)
		}
	}
	return ctrl.Result{RequeueAfter: max(mem.next.Sub(r.Clock.Now()), 100*time.Millisecond)}, nil
}

// readMetrics asks the policy's source for every metric it scales on, plus streams and
// bandwidth.
func (r *Reconciler) readMetrics(ctx context.Context, policy *v1alpha1.ScalingPolicy, pods []*pod) (map[string]map[string]float64, error) {
	typ := policy.Spec.SourceType(r.DefaultSource)
	src := r.Sources[typ]
	if src == nil {
		return nil, fmt.Errorf("metrics source %q is not configured in this controller", typ)
	}
	values, err := src.Samples(ctx, policy, podObjects(pods), append(metricKeysFor(&policy.Spec), metricKeys...))
	if err != nil {
		return nil, fmt.Errorf("reading %s metrics: %w", typ, err)
	}
	return values, nil
}

// listPods returns the CloneSet's live pods (owned by it, not terminating), sorted by
// name, and how many pods the CloneSet is still to create.
func (r *Reconciler) listPods(ctx context.Context, cs *kruisev1alpha1.CloneSet, now time.Time) ([]*pod, int32, error) {
	sel, err := metav1.LabelSelectorAsSelector(cs.Spec.Selector)
	if err != nil || sel.Empty() {
		return nil, 0, fmt.Errorf("CloneSet %s/%s has an unusable selector: %v", cs.Namespace, cs.Name, err)
	}
	var list corev1.PodList
	if err := r.Reader.List(ctx, &list, client.InNamespace(cs.Namespace), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return nil, 0, fmt.Errorf("listing pods of CloneSet %s/%s: %w", cs.Namespace, cs.Name, err)
	}
	deleting := map[string]bool{}
	for _, n := range cs.Spec.ScaleStrategy.PodsToDelete {
		deleting[n] = true
	}
	var out []*pod
	inFlight := int32(0)
	for i := range list.Items {
		p := &list.Items[i]
		if p.DeletionTimestamp != nil || !ownedBy(p, cs) {
			continue
		}
		if deleting[p.Name] {
			inFlight++
		}
		out = append(out, &pod{obj: p, stored: readState(p, now)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].obj.Name < out[j].obj.Name })
	pending := max(0, ptrValue(cs.Spec.Replicas)-(int32(len(out))-inFlight))
	return out, pending, nil
}

func ownedBy(p *corev1.Pod, cs *kruisev1alpha1.CloneSet) bool {
	ref := metav1.GetControllerOf(p)
	return ref != nil && ref.UID == cs.UID
}

// applyStep carries out one lifecycle step: evict first when the drain timed out, and
// record the new state only when that worked.
func (r *Reconciler) applyStep(ctx context.Context, policy *v1alpha1.ScalingPolicy, p *pod, s autoscaler.Step) error {
	log := logf.FromContext(ctx).WithValues("pod", klog.KObj(p.obj))
	if s.Evict {
		ev := r.Evictors[policy.Spec.Eviction()]
		if ev == nil {
			r.event(policy, corev1.EventTypeWarning, "EvictorUnavailable", "Evict", "evictionAction %s is not available in this controller; pod %s is removed with its streams as with none", policy.Spec.Eviction(), p.obj.Name)
			ev = NoEviction{}
		}
		cut, err := ev.Evict(ctx, policy, p.obj, int(math.Round(s.Streams)))
		if err != nil {
			r.event(p.obj, corev1.EventTypeWarning, "EvictionFailed", "Evict", "evicting at the drain timeout: %v", err)
			log.Error(err, "Evicting at the drain timeout; the pod stays in tombstone and is retried")
			return nil
		}
		r.event(p.obj, corev1.EventTypeNormal, "Evicted", "Evict", "drain timeout %s: %d streams evicted (%s)", policy.Spec.DrainTimeout(), cut, policy.Spec.Eviction())
		evictedStreams.WithLabelValues(policy.Namespace, policy.Name, string(policy.Spec.Eviction())).Add(float64(cut))
		recordTransition(policy.Namespace, policy.Name, s.Transition)
		log.V(1).Info("Pod state", "event", s.Transition.Event, "from", s.Transition.From, "to", s.Transition.To, "inState", s.Transition.InState, "evicted", cut)
		return r.writeState(ctx, policy, p, s.Transition.To, s.Transition.At, map[string]string{v1alpha1.EvictedStreamsAnnotation: fmt.Sprint(cut)})
	}
	log.V(1).Info("Pod state", "event", s.Transition.Event, "from", s.Transition.From, "to", s.Transition.To, "inState", s.Transition.InState)
	if err := r.writeState(ctx, policy, p, s.Transition.To, s.Transition.At, nil); err != nil {
		return err
	}
	recordTransition(policy.Namespace, policy.Name, s.Transition)
	return nil
}

// applyPlan moves pods as the plan says, each through the state machine.
func (r *Reconciler) applyPlan(ctx context.Context, policy *v1alpha1.ScalingPolicy, pods []*pod, plan autoscaler.Plan, now time.Time) error {
	named := byName(pods)
	moves := []struct {
		names []string
		event statemachine.Event
	}{{plan.Revive, statemachine.EventRevive}, {plan.Cancel, statemachine.EventCancel}, {plan.Tombstone, statemachine.EventScaleIn}}
	for _, mv := range moves {
		for _, n := range mv.names {
			p := named[n]
			m, err := statemachine.Restore(p.stored.state, p.stored.since)
			if err != nil {
				return fmt.Errorf("pod %s: %w", n, err)
			}
			t, err := m.Fire(mv.event, statemachine.Input{Now: now})
			if err != nil {
				return fmt.Errorf("pod %s: %w", n, err)
			}
			if err := r.writeState(ctx, policy, p, t.To, t.At, nil); err != nil {
				return err
			}
			recordTransition(policy.Namespace, policy.Name, t)
			r.event(p.obj, corev1.EventTypeNormal, string(mv.event), "Scale", "%s -> %s", t.From, t.To)
		}
	}
	return nil
}

// writeState stores a state on the pod with an optimistic-lock patch: if the pod changed
// since it was read, nothing is written and the pass is retried.
func (r *Reconciler) writeState(ctx context.Context, policy *v1alpha1.ScalingPolicy, p *pod, st statemachine.State, since time.Time, extra map[string]string) error {
	base := p.obj
	updated := p.obj.DeepCopy()
	if updated.Labels == nil {
		updated.Labels = map[string]string{}
	}
	if updated.Annotations == nil {
		updated.Annotations = map[string]string{}
	}
	updated.Labels[v1alpha1.StateLabel] = string(st)
	updated.Annotations[v1alpha1.StateSinceAnnotation] = since.UTC().Format(time.RFC3339)
	updated.Annotations[v1alpha1.PolicyAnnotation] = policy.Name
	for k, v := range extra {
		updated.Annotations[k] = v
	}
	if err := r.Client.Patch(ctx, updated, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("writing state %s on pod %s: %w", st, p.obj.Name, err)
	}
	p.obj = updated
	p.stored = storedState{state: st, since: since.UTC().Truncate(time.Second)}
	return nil
}

func (r *Reconciler) event(obj runtime.Object, typ, reason, action, note string, args ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(obj, nil, typ, reason, action, note, args...)
	}
}

// samples turns pods and metric values into the decision core's view.
func samples(pods []*pod, values map[string]map[string]float64) []autoscaler.PodSample {
	out := make([]autoscaler.PodSample, 0, len(pods))
	for _, p := range pods {
		v := map[string]float64{}
		for k, x := range values[p.obj.Name] {
			v[k] = x
		}
		out = append(out, autoscaler.PodSample{
			Name: p.obj.Name, State: p.stored.state, Since: p.stored.since, Ready: isReady(p.obj),
			Created: p.obj.CreationTimestamp.Time, Values: v,
		})
	}
	return out
}

// projected applies lifecycle steps to samples without writing them (dry run).
func projected(s []autoscaler.PodSample, steps []autoscaler.Step) []autoscaler.PodSample {
	to := map[string]autoscaler.Step{}
	for _, st := range steps {
		to[st.Pod] = st
	}
	for i := range s {
		if st, ok := to[s[i].Name]; ok {
			s[i].State, s[i].Since = st.Transition.To, st.Transition.At
		}
	}
	return s
}

func servingCount(pods []*pod, pending int32) int32 {
	n := pending
	for _, p := range pods {
		if p.stored.state == statemachine.Init || p.stored.state == statemachine.Allocated {
			n++
		}
	}
	return n
}

func metricKeysFor(spec *v1alpha1.ScalingPolicySpec) []string {
	keys := make([]string, 0, len(spec.Metrics))
	for _, m := range spec.Metrics {
		keys = append(keys, m.Key())
	}
	return keys
}

func podObjects(pods []*pod) []*corev1.Pod {
	out := make([]*corev1.Pod, len(pods))
	for i, p := range pods {
		out[i] = p.obj
	}
	return out
}

func byName(pods []*pod) map[string]*pod {
	m := make(map[string]*pod, len(pods))
	for _, p := range pods {
		m[p.obj.Name] = p
	}
	return m
}

// listed reports whether every name is already in the CloneSet's podsToDelete.
func listed(cs *kruisev1alpha1.CloneSet, names []string) bool {
	have := map[string]bool{}
	for _, n := range cs.Spec.ScaleStrategy.PodsToDelete {
		have[n] = true
	}
	for _, n := range names {
		if !have[n] {
			return false
		}
	}
	return true
}

func ptrValue(p *int32) int32 {
	if p == nil {
		return 1 // the CloneSet default
	}
	return *p
}
