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
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
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
	// Reader lists pods: the manager's cached client. A pass that still reads an object
	// as it was before a write of the controller's own waits for the cache (see
	// expectations.go), so decisions never act on a state label they just changed.
	Reader client.Reader
	// Fresh reads straight from the API server, for a pass whose cache has lagged a write
	// of its own for longer than cacheWaitLimit; nil: such a pass keeps waiting.
	Fresh client.Reader
	// Target reads and resizes CloneSets.
	Target ScaleTarget
	// Sources supply per-pod samples, by type; a policy picks one with
	// spec.metricsSource.type, or gets DefaultSource.
	Sources       map[v1alpha1.MetricsSourceType]MetricsSource
	DefaultSource v1alpha1.MetricsSourceType
	// Evictors by eviction action; NoEviction is used for none or a missing entry.
	Evictors map[v1alpha1.EvictionAction]Evictor
	// ConfigMaps reads the ConfigMaps that hold policies' event schedules
	// (prediction.eventsConfigMap); nil: Fresh. Not the cache: a cache of ConfigMaps
	// would hold every ConfigMap of the cluster to read a few.
	ConfigMaps client.Reader
	// ScheduleRefresh is how often a policy's events ConfigMap is read again (default
	// DefaultScheduleRefresh).
	ScheduleRefresh time.Duration
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
	// Workers is how many policies are reconciled at once (default 1). A policy is never
	// reconciled by two workers at once; one slow policy (a slow source, an eviction)
	// holds only its own worker.
	Workers int
	// Shard is the part of the policies this controller acts on (zero: all of them). A
	// policy of another shard is not touched: no label, no write, no status.
	Shard Shard
	// EvictionSlots is how many drain-timeout evictions run at once, in the background
	// (default DefaultEvictionSlots).
	EvictionSlots int
	// StatusFiguresEvery is how often a status whose only change is in the figures of
	// currentMetrics (totals, averages, forecasts and their error) is written; 0: at
	// every pass. Pod counts, desired replicas and conditions are written when they
	// change, whatever this says. Samples change at every pass, so without it every pass
	// writes the status: one request a pass, 67 a second for 1,000 policies.
	StatusFiguresEvery time.Duration

	mu       sync.Mutex
	policies map[types.NamespacedName]*policyMemory
	// expect holds the writes the cache has not shown yet (SetupWithManager records
	// them).
	expect expectations
	// evicting runs evictions off the reconcile path (see evictions.go), and holds the
	// context and wake-up that forecast seeding uses too.
	evicting evictions
	// podsIndexed is set once Reader has the index of pods by owner (podOwnerIndex).
	podsIndexed bool
	// seedSlot bounds the forecasters seeded at once (see ensureForecaster).
	seedOnce sync.Once
	seedSlot chan struct{}
}

// policyMemory is what the controller keeps between passes of one policy: the pass's
// memory, and what the forecaster was built for (the prediction block and metrics).
type policyMemory struct {
	autoscaler.Memory
	forecastFor string
	// seeding is the forecaster being seeded in the background, if any.
	seeding *seeding
	handsOn handsOn
	// samplesMissing is the last decision's account of pods left without samples
	// (missingSamples), so that SamplesMissing is emitted when it changes, not every pass.
	samplesMissing string
	// implausible names, per metric, the pods whose samples the last decision left out as
	// implausible, so that ImplausibleSample is emitted when that set changes.
	implausible map[string]string
	// statusWritten is when this controller last wrote the policy's status.
	statusWritten time.Time
	// schedule is what was read of the policy's events ConfigMap (readSchedule).
	schedule *schedule
}

// metricKeys are always asked for: streams and bandwidth choose victims and tell when
// a pod has drained, whatever the policy scales on.
var metricKeys = []string{string(v1alpha1.MetricPushStreams), string(v1alpha1.MetricPullStreams), string(v1alpha1.MetricBandwidth)}

func (r *Reconciler) memory(key types.NamespacedName) *policyMemory {
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
	return m
}

func (r *Reconciler) forget(key types.NamespacedName) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.policies, key)
}

// manages reports whether the controller keeps memory for a policy: it does from its
// first pass as the CloneSet's manager until it is deleted or refused.
func (r *Reconciler) manages(key types.NamespacedName) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.policies[key]
	return ok
}

// pod is a pod with its decoded state.
type pod struct {
	obj    *corev1.Pod
	stored storedState
	// leaving: the CloneSet is removing the pod (leavingPod); held: it waits on
	// streamscaler's preDelete or inPlaceUpdate hook to remove or update it (heldPod).
	leaving, held bool
	// updating: the CloneSet is about to restart, or restarting, the pod's containers in
	// place; updated: it has (inPlaceStage).
	updating, updated bool
}

// pass is what one Reconcile read, for the steps after it.
type pass struct {
	now        time.Time
	policy     *v1alpha1.ScalingPolicy
	spec       *v1alpha1.ScalingPolicySpec   // what the decision reads: the policy's spec, with the events of its ConfigMap (readSchedule)
	status     *v1alpha1.ScalingPolicyStatus // the status to write, changed as the pass goes
	cs         *kruisev1alpha1.CloneSet
	pods       []*pod // live pods of the CloneSet, by name
	pending    int32  // pods the CloneSet is still to create; negative: its surge (listPods)
	mem        *policyMemory
	values     map[string]map[string]float64       // samples, read when a decision is due
	measured   map[string]time.Time                // when each pod's samples were taken, from a MeasuredSource
	missing    map[string][]v1alpha1.SampleProblem // why the source left pods without samples
	metricsErr error
}

// fail counts an error of a stage of the pass (countFailure) and returns it.
func (p *pass) fail(stage string, err error) error {
	return countFailure(types.NamespacedName{Namespace: p.policy.Namespace, Name: p.policy.Name}, stage, err)
}

// snapshot is the pass's view for the decision core.
func (p *pass) snapshot() autoscaler.Snapshot {
	return autoscaler.Snapshot{
		Now: p.now, Spec: p.spec, Pods: samples(p.pods, p.values, p.measured), Pending: p.pending,
		Replicas: ptrValue(p.cs.Spec.Replicas), PodsToDelete: p.cs.Spec.ScaleStrategy.PodsToDelete, SourceErr: p.metricsErr,
	}
}

// Reconcile runs one pass for a policy: read, decide, apply, report.
//  1. Read the policy. A deleted one is finalized instead (finalize); one whose CloneSet
//     an older policy manages is refused (refuse); the one that manages it holds the
//     cleanup finalizer. Then read its CloneSet and the CloneSet's pods (new pods get the
//     init state) and, when a decision is due, their metrics.
//  2. Decide with autoscaler.Decide, the pass the simulator replays: the moves, the
//     recommendation and the CloneSet's size.
//  3. Apply: move pods in the pass's order (evicting at a drain timeout first), then
//     resize the CloneSet in one optimistic update: replicas for the pods that stay and
//     the new ones, exactly the deletable pods named in podsToDelete.
//  4. Report status, conditions, events and self-metrics.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, retErr error) {
	log := logf.FromContext(ctx).WithValues("policy", klog.KRef(req.Namespace, req.Name))
	ctx = logf.IntoContext(ctx, log)
	start := r.Clock.Now()
	defer func() {
		took := r.Clock.Now().Sub(start)
		if r.manages(req.NamespacedName) { // a policy gone or refused keeps no series
			reconcileDuration.WithLabelValues(req.Namespace, req.Name).Observe(took.Seconds())
		}
		log.V(2).Info("Reconciled", "duration", took, "requeueAfter", res.RequeueAfter, "error", retErr)
	}()
	defer func() {
		// Another writer (kruise-manager, a sidecar, the other replica during a
		// failover) changed the object first: expected, and the next pass decides
		// again from the fresh object.
		if retErr != nil && apierrors.IsConflict(retErr) {
			log.V(1).Info("Write conflict: deciding again", "error", retErr.Error())
			res, retErr = ctrl.Result{Requeue: true}, nil
		}
	}()
	p, res, err := r.read(ctx, req.NamespacedName)
	if p == nil {
		return res, err
	}
	o, err := autoscaler.Decide(p.snapshot(), &p.mem.Memory)
	if err != nil {
		return ctrl.Result{}, p.fail("decide", err)
	}
	err = r.apply(ctx, p, o)
	// What was written stands even when a later write failed: remembered, so that a pod
	// this pass made deletable and released is not reported as removed elsewhere.
	p.mem.handsOn.remember(ptrValue(p.cs.Spec.Replicas), p.pods)
	if err != nil {
		return ctrl.Result{}, err
	}
	p.mem.Commit(o)
	return r.report(ctx, p, o)
}

// read is step 1. A nil pass means there is nothing to decide (the policy is gone, being
// deleted, refused or has no target); the result and error are then Reconcile's. The API
// server checked the spec against the CRD's schema and CEL rules, which say everything a
// policy must meet.
func (r *Reconciler) read(ctx context.Context, key types.NamespacedName) (*pass, ctrl.Result, error) {
	var policy v1alpha1.ScalingPolicy
	if err := r.Client.Get(ctx, key, &policy); err != nil {
		if apierrors.IsNotFound(err) {
			r.forgetPolicy(key)
			return nil, ctrl.Result{}, nil
		}
		return nil, ctrl.Result{}, fmt.Errorf("getting policy: %w", err)
	}
	if !r.Shard.Owns(policy.Namespace, policy.Spec.TargetRef.Name) {
		// Another shard's (its CloneSet may have moved here from another target): forget
		// what this one kept of it.
		if r.manages(key) {
			r.forgetPolicy(key)
		}
		return nil, ctrl.Result{}, nil
	}
	if !policy.DeletionTimestamp.IsZero() {
		res, err := r.finalize(ctx, &policy)
		return nil, res, err
	}
	owner, err := r.claimant(ctx, &policy)
	if err != nil {
		return nil, ctrl.Result{}, err
	}
	if owner != nil {
		res, err := r.refuse(ctx, &policy, owner)
		return nil, res, err
	}
	if err := r.holdFinalizer(ctx, &policy); err != nil {
		return nil, ctrl.Result{}, countFailure(key, "finalizer", err)
	}
	p := &pass{now: r.Clock.Now(), policy: &policy, spec: &policy.Spec, status: policy.Status.DeepCopy(), mem: r.memory(key)}
	p.status.ObservedGeneration = policy.Generation
	if c := meta.FindStatusCondition(p.status.Conditions, v1alpha1.ConditionScalingActive); c != nil && c.Reason == v1alpha1.ReasonAmbiguousTarget {
		// It manages the CloneSet now (the older policy went): this pass says how it scales.
		meta.RemoveStatusCondition(&p.status.Conditions, v1alpha1.ConditionScalingActive)
	}
	cs, err := r.Target.Get(ctx, types.NamespacedName{Namespace: policy.Namespace, Name: policy.Spec.TargetRef.Name})
	if err != nil {
		res, err := r.targetUnreadable(ctx, p, err)
		return nil, res, err
	}
	p.cs = cs
	if p.pods, p.pending, err = r.listPods(ctx, true, cs, p.now); err != nil {
		return nil, ctrl.Result{}, p.fail("pods", err)
	}
	if wait, err := r.caughtUp(ctx, p); err != nil || wait {
		return nil, ctrl.Result{RequeueAfter: cacheRetry}, err
	}
	r.noticeHandsOn(p)
	if err := r.repairStates(ctx, p); err != nil {
		return nil, ctrl.Result{}, p.fail("state", err)
	}
	if err := r.checkDrainHook(ctx, p); err != nil {
		return nil, ctrl.Result{}, p.fail("state", err)
	}
	if p.mem.Due(p.now) {
		r.readMetrics(ctx, p)
		r.readSchedule(ctx, p)
	}
	return p, ctrl.Result{}, nil
}

// cacheRetry is how soon a pass that found the cache behind a write of its own runs again.
const cacheRetry = 100 * time.Millisecond

// caughtUp checks that the cache shows the controller's own last writes to the CloneSet
// and its pods. If not, the pass waits (wait true) for up to cacheWaitLimit, and after that
// reads the CloneSet and its pods from the API server (Fresh) instead.
func (r *Reconciler) caughtUp(ctx context.Context, p *pass) (wait bool, err error) {
	objs := []client.Object{p.cs}
	for _, q := range p.pods {
		objs = append(objs, q.obj)
	}
	name, since := r.expect.behind(p.now, objs...)
	if name == "" {
		return false, nil
	}
	log := logf.FromContext(ctx)
	if since < cacheWaitLimit || r.Fresh == nil {
		cacheWaits.WithLabelValues(p.policy.Namespace, p.policy.Name, "wait").Inc()
		log.V(2).Info("The cache is behind a write of ours: deciding once it caught up", "object", name, "since", since)
		return true, nil
	}
	cacheWaits.WithLabelValues(p.policy.Namespace, p.policy.Name, "direct").Inc()
	log.V(1).Info("The cache lags a write of ours: this pass reads from the API server", "object", name, "since", since)
	var cs kruisev1alpha1.CloneSet
	if err := r.Fresh.Get(ctx, client.ObjectKeyFromObject(p.cs), &cs); err != nil {
		return false, p.fail("target", err)
	}
	p.cs = &cs
	if p.pods, p.pending, err = r.listPods(ctx, false, &cs, p.now); err != nil {
		return false, p.fail("pods", err)
	}
	return false, nil
}

// targetUnreadable reports a CloneSet that is missing or could not be read.
func (r *Reconciler) targetUnreadable(ctx context.Context, p *pass, err error) (ctrl.Result, error) {
	spec, gen := &p.policy.Spec, p.policy.Generation
	if apierrors.IsNotFound(err) {
		setCondition(p.status, gen, v1alpha1.ConditionAbleToScale, false, "TargetNotFound",
			fmt.Sprintf("CloneSet %q not found in namespace %q", spec.TargetRef.Name, p.policy.Namespace))
		return ctrl.Result{RequeueAfter: spec.Period()}, r.writeStatus(ctx, p.policy, p.status)
	}
	setCondition(p.status, gen, v1alpha1.ConditionAbleToScale, false, "FailedGetTarget", err.Error())
	return ctrl.Result{}, p.fail("target", errors.Join(err, r.writeStatus(ctx, p.policy, p.status)))
}

// repairStates writes the init state on new pods and a readable state on pods whose
// label or time could not be read.
func (r *Reconciler) repairStates(ctx context.Context, p *pass) error {
	act := !p.policy.Spec.Paused && !p.policy.Spec.DryRun
	for _, q := range p.pods {
		if q.stored.problem != "" {
			r.event(q.obj, corev1.EventTypeWarning, "InvalidState", "Reset", "state label unreadable (%s); treating the pod as allocated", q.stored.problem)
		}
		if q.stored.rewrite && act {
			if err := r.writeState(ctx, p.policy, q, q.stored.state, q.stored.since, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// apply is step 3: the pass's moves in order, then the CloneSet. A drain-timeout move
// whose eviction failed is not made, and its pod is kept.
func (r *Reconciler) apply(ctx context.Context, p *pass, o autoscaler.Outcome) error {
	named := byName(p.pods)
	failed, revived := map[string]bool{}, map[string]bool{}
	for _, mv := range o.Moves {
		done, err := r.move(ctx, p.policy, named[mv.Pod], mv)
		if err != nil {
			return p.fail("state", err)
		}
		if !done {
			failed[mv.Pod] = true
		}
		if done && mv.Transition.To != statemachine.Tombstone && mv.Transition.To != statemachine.Deletable {
			revived[mv.Pod] = true
		}
	}
	for _, n := range o.Release {
		if failed[n] {
			continue
		}
		if err := r.release(ctx, p.policy, named[n]); err != nil {
			return p.fail("state", err)
		}
	}
	// An eviction whose pod left tombstone (revived, or gone) stops, and is not taken
	// up again.
	tombstoned := map[types.UID]bool{}
	for _, q := range p.pods {
		if q.stored.state == statemachine.Tombstone && !revived[q.obj.Name] {
			tombstoned[q.obj.UID] = true
		}
	}
	r.evicting.forget(types.NamespacedName{Namespace: p.policy.Namespace, Name: p.policy.Name}, func(uid types.UID) bool { return tombstoned[uid] })
	return r.scale(ctx, p, o.Resize(failed))
}

// scale writes the CloneSet when the pass changed it: one update, guarded by the
// resourceVersion read in step 1, lowers or raises replicas and names the pods to delete.
func (r *Reconciler) scale(ctx context.Context, p *pass, s autoscaler.Scale) error {
	if !s.Write {
		return nil
	}
	cs, was := p.cs, ptrValue(p.cs.Spec.Replicas)
	if err := r.Target.Scale(ctx, cs, s.Replicas, s.PodsToDelete); err != nil {
		// A conflict means someone else wrote the CloneSet: nothing of ours was written,
		// and the next pass re-reads and re-decides (the memory was not committed).
		setCondition(p.status, p.policy.Generation, v1alpha1.ConditionAbleToScale, false, "FailedUpdateTarget", err.Error())
		return p.fail("scale", errors.Join(err, r.writeStatus(ctx, p.policy, p.status)))
	}
	// The CloneSet as read is the version the cache may still show.
	r.expect.wrote(cs.UID, cs.ResourceVersion, r.Clock.Now())
	r.event(p.policy, corev1.EventTypeNormal, "Scaled", "Scale", "CloneSet %s: replicas %d -> %d, deleting %v", cs.Name, was, s.Replicas, s.PodsToDelete)
	if s.Replicas != was {
		p.status.LastScaleTime = &metav1.Time{Time: p.now}
	}
	replicas := s.Replicas
	cs.Spec.Replicas = &replicas
	return nil
}

// readMetrics asks the policy's source for every metric it scales on, plus streams and
// bandwidth, and brings the forecaster up to date with the prediction settings. A failed
// read is kept for the decision, which holds the fleet (or falls back) on it.
func (r *Reconciler) readMetrics(ctx context.Context, p *pass) {
	spec := &p.policy.Spec
	if spec.Predicting() {
		r.ensureForecaster(ctx, p.policy, p.cs, p.mem, p.now)
	}
	typ := spec.SourceType(r.DefaultSource)
	src := r.Sources[typ]
	if src == nil {
		p.metricsErr = fmt.Errorf("metrics source %q is not configured in this controller", typ)
	} else {
		var (
			values  map[string]map[string]float64
			missing map[string][]v1alpha1.SampleProblem
			err     error
		)
		keys := append(metricKeysFor(spec), metricKeys...)
		if spec.RefusedThreshold() > 0 {
			keys = append(keys, v1alpha1.KeyRefusedStreams)
		}
		if ms, ok := src.(MeasuredSource); ok {
			values, missing, p.measured, err = ms.MeasuredSamples(ctx, p.policy, podObjects(p.pods), keys)
		} else {
			values, missing, err = src.Samples(ctx, p.policy, podObjects(p.pods), keys)
		}
		p.missing = missing // said even when every pod failed
		if err == nil {
			p.values = values
			return
		}
		p.metricsErr = fmt.Errorf("reading %s metrics: %w", typ, err)
	}
	_ = p.fail("metrics", p.metricsErr)
	logf.FromContext(ctx).Error(p.metricsErr, "Reading metrics", "consecutiveFailures", p.mem.Failures+1)
}

// listPods returns the CloneSet's live pods (owned by it, not terminating), read from
// the cache (fromCache) or the API server, sorted by name, and how many pods the CloneSet is still to create (see below for negative).
func (r *Reconciler) listPods(ctx context.Context, fromCache bool, cs *kruisev1alpha1.CloneSet, now time.Time) ([]*pod, int32, error) {
	reader := r.Fresh
	if fromCache {
		reader = r.Reader
	}
	sel, err := metav1.LabelSelectorAsSelector(cs.Spec.Selector)
	if err != nil || sel.Empty() {
		return nil, 0, fmt.Errorf("CloneSet %s/%s has an unusable selector: %v", cs.Namespace, cs.Name, err)
	}
	// Only pods Kruise made (PodScope), as the cache holds: a read from the API server
	// sees the same fleet as one from the cache.
	if reqs, _ := PodScope().Requirements(); len(reqs) > 0 {
		sel = sel.Add(reqs...)
	}
	var list corev1.PodList
	// From the cache, through the index of pods by owner: a label selector is matched
	// against every pod of the namespace, which makes a pass cost as much as all the
	// fleets of its namespace (39% of the controller's CPU with 100 fleets of 40 pods in
	// one namespace). The API server has no such index.
	// The cache's own objects are read without a copy: the pass only reads them, and
	// copies a pod before it writes one (writeState, setHook, evict).
	opts := []client.ListOption{client.InNamespace(cs.Namespace), client.MatchingLabelsSelector{Selector: sel}}
	if fromCache && r.podsIndexed {
		opts = []client.ListOption{client.InNamespace(cs.Namespace), client.MatchingFields{podOwnerIndex: string(cs.UID)}, client.UnsafeDisableDeepCopy}
	}
	if err := reader.List(ctx, &list, opts...); err != nil {
		return nil, 0, fmt.Errorf("listing pods of CloneSet %s/%s: %w", cs.Namespace, cs.Name, err)
	}
	preDelete, _ := drainHook(cs)
	inPlace := inPlaceHook(cs)
	var out []*pod
	inFlight := int32(0)
	for i := range list.Items {
		p := &list.Items[i]
		if p.DeletionTimestamp != nil || !ownedBy(p, cs) || !sel.Matches(labels.Set(p.Labels)) {
			continue
		}
		q := &pod{obj: p, stored: readState(p, now), leaving: leavingPod(cs, p), held: heldPod(preDelete, inPlace, p)}
		q.updating, q.updated = inPlaceStage(p)
		if q.leaving {
			inFlight++ // the CloneSet no longer counts it in its replicas
		}
		out = append(out, q)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].obj.Name < out[j].obj.Name })
	// Negative when the CloneSet runs pods beyond its replicas that it removes itself: a
	// rollout's surge, or a scale-in by someone else still in progress. Counting them
	// would raise replicas by the surge at every pass.
	pending := ptrValue(cs.Spec.Replicas) - (int32(len(out)) - inFlight)
	return out, pending, nil
}

func ownedBy(p *corev1.Pod, cs *kruisev1alpha1.CloneSet) bool {
	ref := metav1.GetControllerOf(p)
	return ref != nil && ref.UID == cs.UID
}

// move carries out one move of the pass: at a drain timeout it evicts what is left
// first, and reports false, changing nothing, while the eviction runs or when it failed
// (the pod stays in tombstone and the eviction is retried).
func (r *Reconciler) move(ctx context.Context, policy *v1alpha1.ScalingPolicy, p *pod, mv autoscaler.Move) (bool, error) {
	log := logf.FromContext(ctx).WithValues("pod", klog.KObj(p.obj))
	t := mv.Transition
	var extra map[string]string
	if mv.Evict {
		cut, done := r.evict(ctx, policy, p, mv)
		if !done {
			return false, nil
		}
		extra = map[string]string{v1alpha1.EvictedStreamsAnnotation: fmt.Sprint(cut)}
	}
	if err := r.writeState(ctx, policy, p, t.To, t.At, extra); err != nil {
		return false, err
	}
	recordTransition(policy.Namespace, policy.Name, t)
	log.V(1).Info("Pod state", "event", t.Event, "from", t.From, "to", t.To, "inState", t.InState)
	switch {
	case mv.Held && t.To != statemachine.Deletable && p.updating:
		r.event(p.obj, corev1.EventTypeNormal, "DrainingForCloneSet", "Drain", "the CloneSet updates this pod in place (PreparingUpdate): %s -> %s; released once drained", t.From, t.To)
	case mv.Held && t.To != statemachine.Deletable:
		r.event(p.obj, corev1.EventTypeNormal, "DrainingForCloneSet", "Drain", "the CloneSet is deleting this pod (PreparingDelete): %s -> %s; released once drained", t.From, t.To)
	case t.Event == statemachine.EventRenew:
		r.event(p.obj, corev1.EventTypeNormal, string(t.Event), "Renew", "updated in place by the CloneSet: %s -> %s; it serves again once Ready", t.From, t.To)
	case t.Event == statemachine.EventRevive, t.Event == statemachine.EventCancel, t.Event == statemachine.EventScaleIn:
		r.event(p.obj, corev1.EventTypeNormal, string(t.Event), "Scale", "%s -> %s", t.From, t.To)
	}
	return true, nil
}

// evict ends what is left on a pod at its drain timeout with the policy's evictor and
// reports how many streams it cut, and whether it is done. An evictor that does no I/O
// (NoEviction) answers at once; any other runs in the background (evictions.go), so
// that kicking thousands of players one by one holds no reconcile worker: the pass that
// starts it, and those while it runs, report it not done, and the first pass after it
// ended takes its outcome. Streams are counted as they are cut, a failed attempt's too.
func (r *Reconciler) evict(ctx context.Context, policy *v1alpha1.ScalingPolicy, p *pod, mv autoscaler.Move) (int, bool) {
	action := policy.Spec.Eviction()
	ev := r.Evictors[action]
	if ev == nil {
		r.event(policy, corev1.EventTypeWarning, "EvictorUnavailable", "Evict", "evictionAction %s is not available in this controller; pod %s is removed with its streams as with none", action, p.obj.Name)
		ev = NoEviction{}
	}
	left := int(math.Round(mv.Streams))
	if _, instant := ev.(NoEviction); instant {
		cut, _ := ev.Evict(ctx, policy, p.obj, left)
		r.evicted(policy, p.obj, cut, nil)
		return cut, true
	}
	key := types.NamespacedName{Namespace: policy.Namespace, Name: policy.Name}
	target, obj := policy.DeepCopy(), p.obj.DeepCopy()
	log := logf.FromContext(ctx).WithValues("pod", klog.KObj(p.obj))
	status, cut, err := r.evicting.poll(p.obj.UID, key, p.stored.since, r.Clock.Now(), policy.Spec.Period(), func(bg context.Context) (int, error) {
		evictionsRunning.Inc()
		defer evictionsRunning.Dec()
		n, err := ev.Evict(logf.IntoContext(bg, log), target, obj, left)
		r.evicted(target, obj, n, err)
		return n, err
	})
	switch status {
	case evictDone:
		return cut, true
	case evictFailed:
		countFailure(key, "evict", err)
		r.event(p.obj, corev1.EventTypeWarning, "EvictionFailed", "Evict", "evicting at the drain timeout: %v (%d streams cut so far)", err, cut)
		log.Error(err, "Evicting at the drain timeout; the pod stays in tombstone and is retried", "cutSoFar", cut)
	default:
		log.V(1).Info("Evicting at the drain timeout in the background", "running", r.evicting.inFlight())
	}
	return cut, false
}

// evicted counts the streams an eviction attempt cut.
func (r *Reconciler) evicted(policy *v1alpha1.ScalingPolicy, p *corev1.Pod, cut int, err error) {
	if cut > 0 || err == nil {
		r.event(p, corev1.EventTypeNormal, "Evicted", "Evict", "drain timeout %s: %d streams evicted (%s)", policy.Spec.DrainTimeout(), cut, policy.Spec.Eviction())
	}
	evictedStreams.WithLabelValues(policy.Namespace, policy.Name, string(policy.Spec.Eviction())).Add(float64(cut))
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
func samples(pods []*pod, values map[string]map[string]float64, measured map[string]time.Time) []autoscaler.PodSample {
	out := make([]autoscaler.PodSample, 0, len(pods))
	for _, p := range pods {
		v := map[string]float64{}
		for k, x := range values[p.obj.Name] {
			v[k] = x
		}
		out = append(out, autoscaler.PodSample{
			Name: p.obj.Name, State: p.stored.state, Since: p.stored.since, Ready: PodReady(p.obj),
			Created: p.obj.CreationTimestamp.Time, Values: v, Leaving: p.leaving, Held: p.held,
			Updating: p.updating, Updated: p.updated, Measured: measured[p.obj.Name],
		})
	}
	return out
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

func ptrValue(p *int32) int32 {
	if p == nil {
		return 1 // the CloneSet default
	}
	return *p
}
