package controller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	kruisev1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/streamscaler/streamscaler/adapters/annotations"
	"github.com/streamscaler/streamscaler/adapters/kruise"
	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/autoscaler/controller"
	"github.com/streamscaler/streamscaler/internal/testcluster"
	"github.com/streamscaler/streamscaler/internal/testprom"
)

// These tests run the controller against a real kube-apiserver and etcd, with the real
// OpenKruise CloneSet controller creating and deleting the pods. The tests stand in for
// the kubelet (pod readiness) and for the media servers (stream counts, written as the
// annotations the annotations metrics source reads).

const waitFor = 60 * time.Second

type env struct {
	t  *testing.T
	c  *testcluster.Cluster
	ns string
	// failing, when set, is registered as the prometheus source.
	failing controller.MetricsSource
	// history, when set, rebuilds load history for the annotations source.
	history controller.HistorySource
	// metricsAddr, when set, is where the manager serves its metrics.
	metricsAddr string
	// published records what the controller publishes for the external metrics API.
	published recordingPublisher
	// lag, when set, reads pods and the CloneSet through a cache this far behind.
	lag time.Duration
	// shard is the part of the policies the controller acts on; publisher, when set,
	// records its decisions instead of published.
	shard     controller.Shard
	publisher *recordingPublisher
	// workers, when set, is how many policies the controller reconciles at once (4
	// otherwise, as the binary's default).
	workers int
}

// recordingPublisher keeps the last values published per policy.
type recordingPublisher struct {
	mu     sync.Mutex
	values map[string]map[string]float64
}

func (p *recordingPublisher) Publish(namespace, policy string, values map[string]float64, _ time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.values == nil {
		p.values = map[string]map[string]float64{}
	}
	p.values[namespace+"/"+policy] = values
}

func (p *recordingPublisher) Forget(namespace, policy string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.values, namespace+"/"+policy)
}

func (p *recordingPublisher) get(key, name string) float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.values[key][name]
}

func TestController(t *testing.T) {
	ctrl.SetLogger(logr.Discard()) // failures are told by the assertions and kruise-manager's log
	c := testcluster.ForTest(t)
	for _, tc := range []struct {
		name string
		run  func(*env)
	}{
		{"scale-out raises replicas and new pods go init then allocated", scaleOut},
		{"scale-in tombstones the least-loaded pod and deletes exactly it once drained", scaleIn},
		{"through a cache 1.5 s behind, a pass after a write waits for it: one tombstone, no conflict", laggingCache},
		{"two shards split the policies by CloneSet, and never both act on one", twoShards},
		{"load rising during a drain revives the pod and creates none", revive},
		{"drain timeout runs the evictor and records the streams it cut", drainTimeout},
		{"an eviction that hangs holds no reconcile worker: with one worker another fleet is decided meanwhile, and the outcome is taken up when it ends", slowEvictor},
		{"metric samples rewritten every 100 ms are read at the sync period, not a pass each", frequentSamples},
		{"the controller caches the pods of CloneSets, not the other pods of the cluster", podScope},
		{"a controller killed mid-drain is replaced and finishes the drain", restartMidDrain},
		{"a conflicting CloneSet update is retried, not clobbered", conflict},
		{"a paused policy changes nothing but its status", paused},
		{"a dry-run policy reports its decision and changes nothing else", dryRun},
		{"a policy whose CloneSet does not exist says so in a condition, and deleted it goes at once", missingTarget},
		{"deleting a policy mid-drain returns the draining pod to allocated and removes the finalizer", deletedMidDrain},
		{"a second policy on the same CloneSet is refused with a condition, changes nothing, and takes over when the first goes", secondPolicy},
		{"a failing metrics source holds the fleet, then the fixed fallback raises it", failingSource},
		{"prediction seeded from history, read in the background while the fleet is decided without it, scales out ahead of the load and reports its forecast", predictive},
		{"a schedule of events read from a ConfigMap scales out ahead of an event; a missing or broken one says why in a condition and keeps what was read", eventsFromConfigMap},
		{"every Grafana panel's query returns data from a real Prometheus scraping the controller", dashboards},
		{"the API server rejects invalid policies with a clear message", invalidPolicies},
		{"a pod another controller names in podsToDelete is held by the preDelete hook, drains, then goes", podsToDeleteByOthers},
		{"a scale-in by hand: the held pod drains and is taken back while the load wants it", manualScaleIn},
		{"a CloneSet without the preDelete hook is flagged in a condition and an event", noHook},
		{"a scale-in by hand then a template change: no pod with players goes before it drained, all end at the new revision", scaleInThenRollout},
		{"an in-place update waits for each pod's drain, then restarts it and it serves again", inPlaceUpdate},
		{"a pod deleted by hand or evicted by a node drain is held by the removal guard, drains, then goes", removedByHand},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &env{t: t, c: c, ns: fmt.Sprintf("t%d", time.Now().UnixNano()%1e9)}
			if err := c.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: e.ns}}); err != nil {
				t.Fatal(err)
			}
			tc.run(e)
		})
	}
}

// rampHistory is a fleet whose players grew by one a minute for three hours, to 180.
type rampHistory struct {
	mu    sync.Mutex
	asked []string
	// gate, when set, holds every answer until it is closed: a slow Prometheus.
	gate chan struct{}
}

func (h *rampHistory) History(ctx context.Context, _ *v1alpha1.ScalingPolicy, key, pods string, _ time.Time, span, step time.Duration) ([]float64, error) {
	h.mu.Lock()
	h.asked = append(h.asked, key+" "+pods)
	h.mu.Unlock()
	if h.gate != nil {
		select {
		case <-h.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	out := make([]float64, 180)
	for i := range out {
		out[i] = float64(i + 1)
	}
	return out, nil
}

// flatHistory is a fleet that always had the same load.
type flatHistory float64

func (h flatHistory) History(_ context.Context, _ *v1alpha1.ScalingPolicy, _, _ string, _ time.Time, _, _ time.Duration) ([]float64, error) {
	out := make([]float64, 120)
	for i := range out {
		out[i] = float64(h)
	}
	return out, nil
}

// brokenSource is a metrics backend that is down.
type brokenSource struct{}

func (brokenSource) Samples(context.Context, *v1alpha1.ScalingPolicy, []*corev1.Pod, []string) (map[string]map[string]float64, map[string][]v1alpha1.SampleProblem, error) {
	return nil, nil, fmt.Errorf("connection refused")
}

// recordingEvictor remembers what it was asked to evict.
type recordingEvictor struct {
	mu    sync.Mutex
	calls map[string]int
}

func (r *recordingEvictor) Evict(_ context.Context, _ *v1alpha1.ScalingPolicy, p *corev1.Pod, left int) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls == nil {
		r.calls = map[string]int{}
	}
	r.calls[p.Name] += left
	return left, nil
}

func (r *recordingEvictor) get(name string) (int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, ok := r.calls[name]
	return n, ok
}

// conflictingTarget makes one competing write to the CloneSet just before the
// controller's first update, as another operator or a GitOps tool would.
type conflictingTarget struct {
	controller.ScaleTarget
	c         client.Client
	mu        sync.Mutex
	done      bool
	conflicts int
}

func (f *conflictingTarget) Scale(ctx context.Context, cs *kruisev1alpha1.CloneSet, replicas int32, names []string) error {
	f.mu.Lock()
	if !f.done {
		f.done = true
		var cur kruisev1alpha1.CloneSet
		if err := f.c.Get(ctx, client.ObjectKeyFromObject(cs), &cur); err != nil {
			f.mu.Unlock()
			return err
		}
		if cur.Labels == nil {
			cur.Labels = map[string]string{}
		}
		cur.Labels["team"] = "live-ops"
		if err := f.c.Update(ctx, &cur); err != nil {
			f.mu.Unlock()
			return err
		}
	}
	f.mu.Unlock()
	err := f.ScaleTarget.Scale(ctx, cs, replicas, names)
	if apierrors.IsConflict(err) {
		f.mu.Lock()
		f.conflicts++
		f.mu.Unlock()
	}
	return err
}

// startController runs a controller manager until the returned stop is called.
func (e *env) startController(evictor controller.Evictor, wrap func(controller.ScaleTarget) controller.ScaleTarget) (stop func()) {
	e.t.Helper()
	bind := "0"
	if e.metricsAddr != "" {
		bind = e.metricsAddr
	}
	mgr, err := ctrl.NewManager(e.c.Config, ctrl.Options{
		Scheme:                 e.c.Scheme,
		Metrics:                metricsserver.Options{BindAddress: bind},
		HealthProbeBindAddress: "0",
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
		Cache:                  controller.CacheOptions(), // as the binary caches
	})
	if err != nil {
		e.t.Fatal(err)
	}
	var reader client.Reader = mgr.GetClient()
	if e.lag > 0 {
		reader = &laggingReader{inner: reader, lag: e.lag}
	}
	var target controller.ScaleTarget = &kruise.CloneSets{Reader: reader, Writer: mgr.GetClient()}
	if wrap != nil {
		target = wrap(target)
	}
	if evictor == nil {
		evictor = controller.NoEviction{}
	}
	sources := map[v1alpha1.MetricsSourceType]controller.MetricsSource{v1alpha1.SourceAnnotations: &annotations.Source{}}
	if e.failing != nil {
		sources[v1alpha1.SourcePrometheus] = e.failing
	}
	r := &controller.Reconciler{
		Client: mgr.GetClient(), Reader: reader, Fresh: mgr.GetAPIReader(), Target: target, // as the binary reads
		Sources:       sources,
		Histories:     map[v1alpha1.MetricsSourceType]controller.HistorySource{},
		DefaultSource: v1alpha1.SourceAnnotations,
		Evictors:      map[v1alpha1.EvictionAction]controller.Evictor{v1alpha1.EvictNone: evictor},
		Clock:         clock.RealClock{}, Recorder: mgr.GetEventRecorder("streamscaler-test"),
		Publisher: &e.published, Workers: 4, // as the binary runs: races show under -race
		Shard: e.shard, ScheduleRefresh: time.Second, // event schedules read every second, not minute
	}
	if e.workers > 0 {
		r.Workers = e.workers
	}
	if e.publisher != nil {
		r.Publisher = e.publisher
	}
	if e.history != nil {
		r.Histories[v1alpha1.SourceAnnotations] = e.history
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := r.SetupWithManager(ctx, mgr); err != nil {
		e.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				e.t.Errorf("controller stopped with %v", err)
			}
		})
	}
	e.t.Cleanup(stop)
	return stop
}

// cloneSet creates a CloneSet of n pods and marks them Ready, each with its streams.
func (e *env) cloneSet(streams ...int) []corev1.Pod {
	e.t.Helper()
	return e.cloneSetWith(nil, streams...)
}

// cloneSetWith is cloneSet with the CloneSet changed by mutate before it is created.
func (e *env) cloneSetWith(mutate func(*kruisev1alpha1.CloneSet), streams ...int) []corev1.Pod {
	e.t.Helper()
	ctx := context.Background()
	labels := map[string]string{"app": "srs-edge"}
	cs := &kruisev1alpha1.CloneSet{
		ObjectMeta: metav1.ObjectMeta{Name: "srs-edge", Namespace: e.ns},
		Spec: kruisev1alpha1.CloneSetSpec{
			Replicas: ptr.To(int32(len(streams))),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "srs", Image: "registry.invalid/ossrs/srs:5"}}},
			},
		},
	}
	if mutate != nil {
		mutate(cs)
	}
	if err := e.c.Client.Create(ctx, cs); err != nil {
		e.t.Fatal(err)
	}
	var pods []corev1.Pod
	e.eventually("the CloneSet's pods exist", func() (bool, string) {
		pods = e.pods()
		return len(pods) == len(streams), fmt.Sprintf("%d pods", len(pods))
	})
	for i := range pods {
		e.setStreams(pods[i].Name, streams[i])
		e.ready(pods[i].Name)
	}
	return e.pods()
}

func (e *env) ready(name string) {
	e.t.Helper()
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: name}}
	if err := e.c.SetPodReady(context.Background(), p); err != nil {
		e.t.Fatal(err)
	}
}

// setStreams is the media server reporting its player count.
func (e *env) setStreams(name string, n int) {
	e.t.Helper()
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:"%d",%q:"%d"}}}`, annotations.Prefix+string(v1alpha1.MetricPullStreams), n, annotations.Prefix+string(v1alpha1.MetricBandwidth), n*2500000)
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: name}}
	if err := e.c.Client.Patch(context.Background(), p, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
		e.t.Fatal(err)
	}
}

// pods lists the CloneSet's pods that are not being deleted, by name.
func (e *env) pods() []corev1.Pod {
	e.t.Helper()
	var list corev1.PodList
	if err := e.c.Client.List(context.Background(), &list, client.InNamespace(e.ns)); err != nil {
		e.t.Fatal(err)
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (e *env) podByName(name string) (corev1.Pod, bool) {
	for _, p := range e.pods() {
		if p.Name == name {
			return p, true
		}
	}
	return corev1.Pod{}, false
}

func (e *env) state(name string) string {
	p, ok := e.podByName(name)
	if !ok {
		return "(gone)"
	}
	return p.Labels[v1alpha1.StateLabel]
}

func (e *env) cs() kruisev1alpha1.CloneSet {
	e.t.Helper()
	var cs kruisev1alpha1.CloneSet
	if err := e.c.Client.Get(context.Background(), types.NamespacedName{Namespace: e.ns, Name: "srs-edge"}, &cs); err != nil {
		e.t.Fatal(err)
	}
	return cs
}

func (e *env) policy(mutate func(*v1alpha1.ScalingPolicySpec)) *v1alpha1.ScalingPolicy {
	e.t.Helper()
	return e.namedPolicy("edge", mutate)
}

func (e *env) namedPolicy(name string, mutate func(*v1alpha1.ScalingPolicySpec)) *v1alpha1.ScalingPolicy {
	e.t.Helper()
	target := resource.MustParse("10")
	p := &v1alpha1.ScalingPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.ns},
		Spec: v1alpha1.ScalingPolicySpec{
			TargetRef: v1alpha1.TargetRef{Name: "srs-edge"}, MinReplicas: ptr.To(int32(1)), MaxReplicas: 10,
			Metrics:    []v1alpha1.MetricSpec{{Type: v1alpha1.MetricPullStreams, Target: v1alpha1.MetricTarget{AverageValue: &target}}},
			SyncPeriod: &metav1.Duration{Duration: time.Second},
			Behavior: &v1alpha1.Behavior{ScaleDown: &v1alpha1.ScalingRules{
				StabilizationWindowSeconds: ptr.To(int32(0)),
				Policies:                   []v1alpha1.RatePolicy{{Type: v1alpha1.RatePods, Value: 1, PeriodSeconds: 1}},
			}},
		},
	}
	if mutate != nil {
		mutate(&p.Spec)
	}
	if err := e.c.Client.Create(context.Background(), p); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) getPolicy() v1alpha1.ScalingPolicy {
	e.t.Helper()
	p, ok := e.getNamedPolicy("edge")
	if !ok {
		e.t.Fatal("policy edge is gone")
	}
	return p
}

// getNamedPolicy reads a policy; false when it is gone.
func (e *env) getNamedPolicy(name string) (v1alpha1.ScalingPolicy, bool) {
	e.t.Helper()
	var p v1alpha1.ScalingPolicy
	err := e.c.Client.Get(context.Background(), types.NamespacedName{Namespace: e.ns, Name: name}, &p)
	if apierrors.IsNotFound(err) {
		return p, false
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return p, true
}

func (e *env) deletePolicy(name string) {
	e.t.Helper()
	p := &v1alpha1.ScalingPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: name}}
	if err := e.c.Client.Delete(context.Background(), p); err != nil {
		e.t.Fatal(err)
	}
}

// event waits up to waitFor for an event with this reason on this object and returns its
// message. The recorder writes events from its own goroutine, so an event can reach the
// API server after the change it reports is already visible (a CI run once read the
// list right after a deleted policy was gone and found no Released event yet).
func (e *env) event(reason, object string) (string, bool) {
	e.t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		var events corev1.EventList
		if err := e.c.Client.List(context.Background(), &events, client.InNamespace(e.ns)); err != nil {
			e.t.Fatal(err)
		}
		for _, ev := range events.Items {
			if ev.Reason == reason && ev.InvolvedObject.Name == object {
				return ev.Message, true
			}
		}
		if time.Now().After(deadline) {
			return "", false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (e *env) eventually(what string, cond func() (bool, string)) {
	e.t.Helper()
	deadline := time.Now().Add(waitFor)
	last := ""
	for time.Now().Before(deadline) {
		ok, msg := cond()
		if ok {
			return
		}
		last = msg
		time.Sleep(100 * time.Millisecond)
	}
	e.t.Fatalf("waited %s for %s; last: %s", waitFor, what, last)
}

// consistently checks cond for a while: used to show that something does NOT happen.
func (e *env) consistently(what string, d time.Duration, cond func() (bool, string)) {
	e.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if ok, msg := cond(); !ok {
			e.t.Fatalf("%s stopped holding: %s", what, msg)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// metric sums the samples of a self-metric family whose labels include want (a
// histogram counts its observations).
func (e *env) metric(family string, want map[string]string) float64 {
	e.t.Helper()
	fams, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	total := 0.0
	for _, f := range fams {
		if f.GetName() != family {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if have[k] != v {
					continue next
				}
			}
			switch {
			case m.GetCounter() != nil:
				total += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				total += m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				total += float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return total
}

func uids(pods []corev1.Pod) map[string]types.UID {
	m := map[string]types.UID{}
	for _, p := range pods {
		m[p.Name] = p.UID
	}
	return m
}

func states(e *env) string {
	var b strings.Builder
	for _, p := range e.pods() {
		fmt.Fprintf(&b, "%s=%s", p.Name, p.Labels[v1alpha1.StateLabel])
		if lc := p.Labels["lifecycle.apps.kruise.io/state"]; lc != "" {
			fmt.Fprintf(&b, "/%s", lc)
		}
		b.WriteString(" ")
	}
	return b.String()
}

func scaleOut(e *env) {
	first := e.cloneSet(25)[0].Name
	e.policy(nil)
	e.startController(nil, nil)
	e.eventually("replicas raised to ceil(25/10)=3", func() (bool, string) {
		cs := e.cs()
		return *cs.Spec.Replicas == 3, fmt.Sprintf("replicas %d", *cs.Spec.Replicas)
	})
	e.eventually("kruise creates the 2 new pods and the controller marks them init", func() (bool, string) {
		n := 0
		for _, p := range e.pods() {
			if p.Name != first && p.Labels[v1alpha1.StateLabel] == "init" {
				n++
			}
		}
		return n == 2, states(e)
	})
	for _, p := range e.pods() {
		if p.Name != first {
			e.setStreams(p.Name, 0)
			e.ready(p.Name)
		}
	}
	e.eventually("ready pods become allocated", func() (bool, string) {
		for _, p := range e.pods() {
			if p.Labels[v1alpha1.StateLabel] != "allocated" {
				return false, states(e)
			}
		}
		return len(e.pods()) == 3, states(e)
	})
	e.eventually("status reports the decision", func() (bool, string) {
		st := e.getPolicy().Status
		return st.DesiredReplicas == 3 && st.Pods.Allocated == 3 && st.CurrentReplicas == 3, fmt.Sprintf("%+v", st)
	})
	e.eventually("the decision is published for the external metrics API", func() (bool, string) {
		k := e.ns + "/edge"
		rec, total := e.published.get(k, "streamscaler_recommended_replicas"), e.published.get(k, "streamscaler_metric_total_pullStreams")
		return rec == 3 && total == 25, fmt.Sprintf("recommended %v, pullStreams total %v", rec, total)
	})
}

// drainOne sets up 4 pods with 12, 3, 9 and 1 streams (25 in all, asking for 3 pods)
// and waits until the one with 1 stream is tombstoned.
func drainOne(e *env, mutate func(*v1alpha1.ScalingPolicySpec), evictor controller.Evictor) (pods []corev1.Pod, victim string, stop func()) {
	pods = e.cloneSet(12, 3, 9, 1)
	victim = pods[3].Name
	e.policy(mutate)
	stop = e.startController(evictor, nil)
	e.eventually("the pod with the fewest streams is tombstoned", func() (bool, string) {
		return e.state(victim) == "tombstone", states(e)
	})
	return pods, victim, stop
}

func scaleIn(e *env) {
	before, victim, _ := drainOne(e, nil, nil)
	for _, p := range before {
		if p.Name != victim && e.state(p.Name) != "allocated" {
			e.t.Fatalf("only %s should drain: %s", victim, states(e))
		}
	}
	e.consistently("a pod with a stream left is not deleted", 3*time.Second, func() (bool, string) {
		cs := e.cs()
		_, there := e.podByName(victim)
		return there && *cs.Spec.Replicas == 4 && len(cs.Spec.ScaleStrategy.PodsToDelete) == 0, fmt.Sprintf("replicas %d podsToDelete %v", *cs.Spec.Replicas, cs.Spec.ScaleStrategy.PodsToDelete)
	})
	e.setStreams(victim, 0)
	e.eventually("the drained pod is deleted by kruise", func() (bool, string) {
		_, there := e.podByName(victim)
		return !there && *e.cs().Spec.Replicas == 3, states(e)
	})
	after := uids(e.pods())
	if len(after) != 3 {
		e.t.Fatalf("want the 3 other pods, have %v", after)
	}
	for _, p := range before {
		if p.Name != victim && after[p.Name] != p.UID {
			e.t.Fatalf("pod %s changed or went: before %s, now %v", p.Name, p.UID, after)
		}
	}
	e.consistently("no pod is created or deleted after the scale-in", 3*time.Second, func() (bool, string) {
		now := uids(e.pods())
		return len(now) == 3 && fmt.Sprint(now) == fmt.Sprint(after), fmt.Sprint(now)
	})
	// Self-metrics saw the whole life of the drained pod.
	mine := map[string]string{"namespace": e.ns, "policy": "edge"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{"namespace": e.ns, "policy": "edge"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, c := range []struct {
		family string
		labels map[string]string
		want   float64
	}{
		{"streamscaler_pod_transitions_total", with("from", "allocated", "to", "tombstone", "event", "scaleIn"), 1},
		{"streamscaler_pod_transitions_total", with("from", "tombstone", "to", "deletable", "event", "drained"), 1},
		{"streamscaler_pod_state_duration_seconds", with("state", "tombstone"), 1},
		{"streamscaler_pod_state_pods", with("state", "allocated"), 3},
		{"streamscaler_fleet_replicas", with("kind", "current"), 3},
	} {
		e.eventually(c.family+fmt.Sprint(c.labels), func() (bool, string) {
			got := e.metric(c.family, c.labels)
			return got == c.want, fmt.Sprintf("%v", got)
		})
	}
	if e.metric("streamscaler_decision_total", mine) == 0 || e.metric("streamscaler_reconcile_duration_seconds", mine) == 0 {
		e.t.Error("decisions and reconcile durations should be counted")
	}
}

func revive(e *env) {
	before, victim, _ := drainOne(e, nil, nil)
	// 30+3+9 on the allocated pods and 1 on the draining one: 43 streams ask for 5 pods.
	// Keep the rise to 4 pods (35 streams) so the draining pod alone covers it.
	e.setStreams(before[0].Name, 22)
	e.eventually("the tombstoned pod is revived", func() (bool, string) {
		return e.state(victim) == "allocated", states(e)
	})
	e.consistently("no new pod while a revived one covers the rise", 3*time.Second, func() (bool, string) {
		now := uids(e.pods())
		return len(now) == 4 && *e.cs().Spec.Replicas == 4 && fmt.Sprint(now) == fmt.Sprint(uids(before)), fmt.Sprint(now)
	})
}

// blockingEvictor holds every eviction until the test ends (or the controller stops),
// as an SRS server kicking thousands of players 100 ms apart would.
type blockingEvictor struct {
	once    sync.Once
	started chan struct{}
	release chan struct{}
}

func (b *blockingEvictor) Evict(ctx context.Context, _ *v1alpha1.ScalingPolicy, _ *corev1.Pod, left int) (int, error) {
	b.once.Do(func() { close(b.started) })
	select {
	case <-b.release:
	case <-ctx.Done():
	}
	return left, nil
}

func slowEvictor(e *env) {
	ev := &blockingEvictor{started: make(chan struct{}), release: make(chan struct{})}
	released := false
	defer func() {
		if !released {
			close(ev.release)
		}
	}()
	// One reconcile worker: an eviction inside the pass would hold it, and with it every
	// other policy.
	e.workers = 1
	_, victim, _ := drainOne(e, func(s *v1alpha1.ScalingPolicySpec) {
		s.Tombstone = &v1alpha1.TombstoneSpec{DrainTimeout: &metav1.Duration{Duration: 2 * time.Second}}
	}, ev)
	e.setStreams(victim, 2) // two viewers who never leave: the drain times out
	select {
	case <-ev.started:
	case <-time.After(time.Minute):
		e.t.Fatalf("the drain timeout's eviction did not start: %s", states(e))
	}
	// A second fleet, in another namespace, while the first policy's eviction hangs.
	other := &env{t: e.t, c: e.c, ns: e.ns + "b"}
	if err := e.c.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: other.ns}}); err != nil {
		e.t.Fatal(err)
	}
	pods := other.cloneSet(12, 3, 9, 1)
	other.policy(nil)
	began := time.Now()
	other.eventually("the other fleet's least-loaded pod is tombstoned while the eviction hangs", func() (bool, string) {
		return other.state(pods[3].Name) == "tombstone", states(other)
	})
	e.t.Logf("the other policy decided %s after its policy was created, with the first policy's eviction held", time.Since(began).Round(10*time.Millisecond))
	if e.state(victim) != "tombstone" {
		e.t.Fatalf("the pod left tombstone while its eviction runs: %s", states(e))
	}
	// The eviction ends: the next pass takes its outcome, and the pod goes deletable
	// with the streams it cut recorded.
	close(ev.release)
	released = true
	e.eventually("the evicted pod goes once its eviction ended", func() (bool, string) {
		p, there := e.podByName(victim)
		if there && p.Annotations[v1alpha1.EvictedStreamsAnnotation] != "" && p.Annotations[v1alpha1.EvictedStreamsAnnotation] != "2" {
			return false, "evicted " + p.Annotations[v1alpha1.EvictedStreamsAnnotation] + ", want 2"
		}
		return !there || (e.state(victim) == "deletable" && p.Annotations[v1alpha1.EvictedStreamsAnnotation] == "2"), states(e)
	})
}

func frequentSamples(e *env) {
	pods := e.cloneSet(10, 10, 10)
	e.policy(nil) // syncPeriod 1s
	e.startController(nil, nil)
	mine := map[string]string{"namespace": e.ns, "policy": "edge"}
	e.eventually("the first passes", func() (bool, string) {
		n := e.metric("streamscaler_reconcile_duration_seconds", mine)
		return n >= 2, fmt.Sprintf("%v passes", n)
	})
	// A sidecar on each pod rewrites its samples every 100 ms for 5 s: 150 writes, which
	// keep the fleet at 3 pods (21 to 27 players at 10 a pod).
	before := e.metric("streamscaler_reconcile_duration_seconds", mine)
	writes := 0
	for i := range 50 {
		for _, p := range pods {
			e.setStreams(p.Name, 7+i%3)
			writes++
		}
		time.Sleep(100 * time.Millisecond)
	}
	passes := e.metric("streamscaler_reconcile_duration_seconds", mine) - before
	e.t.Logf("%d sample writes, %v passes", writes, passes)
	if passes > 15 {
		e.t.Errorf("%d sample writes made %v passes: samples should be read at the 1s sync period, not trigger passes", writes, passes)
	}
	if passes < 2 {
		e.t.Errorf("%v passes while samples changed: the sync period should still run passes", passes)
	}
}

func drainTimeout(e *env) {
	ev := &recordingEvictor{}
	_, victim, _ := drainOne(e, func(s *v1alpha1.ScalingPolicySpec) {
		s.Tombstone = &v1alpha1.TombstoneSpec{DrainTimeout: &metav1.Duration{Duration: 3 * time.Second}}
	}, ev)
	e.setStreams(victim, 2) // two viewers who never leave
	e.eventually("the evictor is called with what is left and the pod goes", func() (bool, string) {
		n, called := ev.get(victim)
		_, there := e.podByName(victim)
		return called && n == 2 && !there, fmt.Sprintf("evicted %d (called %v), pod there %v", n, called, there)
	})
	if got := e.metric("streamscaler_eviction_streams_total", map[string]string{"namespace": e.ns, "action": "none"}); got != 2 {
		e.t.Errorf("streamscaler_eviction_streams_total = %v, want 2", got)
	}
	var events corev1.EventList
	e.eventually("an Evicted event records the count", func() (bool, string) {
		if err := e.c.Client.List(context.Background(), &events, client.InNamespace(e.ns)); err != nil {
			return false, err.Error()
		}
		for _, ev := range events.Items {
			if ev.Reason == "Evicted" && strings.Contains(ev.Message, "2 streams evicted") {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d events", len(events.Items))
	})
}

func restartMidDrain(e *env) {
	before, victim, stop := drainOne(e, nil, nil)
	stop() // the controller dies with the pod still draining
	e.setStreams(victim, 0)
	time.Sleep(2 * time.Second)
	if _, there := e.podByName(victim); !there || *e.cs().Spec.Replicas != 4 {
		e.t.Fatalf("with no controller nothing should move: %s replicas %d", states(e), *e.cs().Spec.Replicas)
	}
	e.startController(nil, nil)
	e.eventually("the new controller finishes the drain", func() (bool, string) {
		_, there := e.podByName(victim)
		return !there && *e.cs().Spec.Replicas == 3, states(e)
	})
	e.consistently("nothing else is deleted", 3*time.Second, func() (bool, string) {
		now := uids(e.pods())
		for _, p := range before {
			if p.Name != victim && now[p.Name] != p.UID {
				return false, fmt.Sprint(now)
			}
		}
		return len(now) == 3, fmt.Sprint(now)
	})
}

func conflict(e *env) {
	e.cloneSet(25)
	e.policy(nil)
	var ct *conflictingTarget
	e.startController(nil, func(t controller.ScaleTarget) controller.ScaleTarget {
		ct = &conflictingTarget{ScaleTarget: t, c: e.c.Client}
		return ct
	})
	e.eventually("the controller's scale-out lands after the conflict", func() (bool, string) {
		cs := e.cs()
		return *cs.Spec.Replicas == 3, fmt.Sprintf("replicas %d labels %v", *cs.Spec.Replicas, cs.Labels)
	})
	if cs := e.cs(); cs.Labels["team"] != "live-ops" {
		e.t.Fatalf("the other writer's label was clobbered: %v", cs.Labels)
	}
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if ct.conflicts == 0 {
		e.t.Fatal("the competing write should have made the first update conflict")
	}
}

func unchanged(e *env, before []corev1.Pod, what string) {
	e.consistently(what, 4*time.Second, func() (bool, string) {
		now := e.pods()
		for _, p := range now {
			if _, ok := p.Labels[v1alpha1.StateLabel]; ok {
				return false, "a pod was labelled: " + states(e)
			}
		}
		return len(now) == len(before) && *e.cs().Spec.Replicas == int32(len(before)), fmt.Sprintf("%d pods, replicas %d", len(now), *e.cs().Spec.Replicas)
	})
}

func paused(e *env) {
	before := e.cloneSet(25)
	e.policy(func(s *v1alpha1.ScalingPolicySpec) { s.Paused = true })
	e.startController(nil, nil)
	e.eventually("status says paused", func() (bool, string) {
		c := meta.FindStatusCondition(e.getPolicy().Status.Conditions, v1alpha1.ConditionAbleToScale)
		return c != nil && c.Reason == "Paused" && c.Status == metav1.ConditionFalse, fmt.Sprintf("%+v", c)
	})
	unchanged(e, before, "a paused policy leaves pods and CloneSet alone")
}

func dryRun(e *env) {
	before := e.cloneSet(25)
	e.policy(func(s *v1alpha1.ScalingPolicySpec) { s.DryRun = true })
	e.startController(nil, nil)
	e.eventually("status reports what would be done", func() (bool, string) {
		st := e.getPolicy().Status
		return st.DesiredReplicas == 3 && len(st.CurrentMetrics) == 1, fmt.Sprintf("%+v", st)
	})
	unchanged(e, before, "a dry-run policy leaves pods and CloneSet alone")
}

func missingTarget(e *env) {
	e.policy(nil)
	e.startController(nil, nil)
	e.eventually("AbleToScale is False with TargetNotFound", func() (bool, string) {
		c := meta.FindStatusCondition(e.getPolicy().Status.Conditions, v1alpha1.ConditionAbleToScale)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == "TargetNotFound" && strings.Contains(c.Message, `"srs-edge" not found`), fmt.Sprintf("%+v", c)
	})
	if f := e.getPolicy().Finalizers; !slices.Contains(f, v1alpha1.CleanupFinalizer) {
		e.t.Fatalf("finalizers %v: want %s from the first pass", f, v1alpha1.CleanupFinalizer)
	}
	e.deletePolicy("edge")
	e.eventually("the policy is deleted: with no CloneSet there is nothing to release", func() (bool, string) {
		p, there := e.getNamedPolicy("edge")
		return !there, fmt.Sprintf("finalizers %v", p.Finalizers)
	})
	if msg, ok := e.event("Released", "edge"); !ok || !strings.Contains(msg, "CloneSet srs-edge is gone") {
		e.t.Errorf("Released event %q (found %v): want it to say the CloneSet is gone", msg, ok)
	}
}

func deletedMidDrain(e *env) {
	before, victim, _ := drainOne(e, nil, nil)
	e.eventually("the policy holds the cleanup finalizer", func() (bool, string) {
		f := e.getPolicy().Finalizers
		return slices.Contains(f, v1alpha1.CleanupFinalizer), fmt.Sprint(f)
	})
	mine := map[string]string{"namespace": e.ns, "policy": "edge"}
	e.eventually("the self-metrics count the draining pod", func() (bool, string) {
		n := e.metric("streamscaler_pod_state_pods", map[string]string{"namespace": e.ns, "policy": "edge", "state": "tombstone"})
		return n == 1, fmt.Sprint(n)
	})
	e.deletePolicy("edge")
	e.eventually("the draining pod serves again and the policy goes", func() (bool, string) {
		p, there := e.getNamedPolicy("edge")
		return !there && e.state(victim) == "allocated", fmt.Sprintf("policy there %v (finalizers %v); %s", there, p.Finalizers, states(e))
	})
	if msg, ok := e.event("Released", "edge"); !ok || !strings.Contains(msg, victim+" (tombstone)") || !strings.Contains(msg, "3 other pods keep their state") {
		e.t.Errorf("Released event on the policy %q (found %v): want it to name %s and the 3 pods kept", msg, ok, victim)
	}
	if msg, ok := e.event("Released", victim); !ok || msg != "tombstone -> allocated: ScalingPolicy edge was deleted" {
		e.t.Errorf("Released event on the pod %q (found %v)", msg, ok)
	}
	e.consistently("every pod serves, none is deleted and the CloneSet is untouched", 3*time.Second, func() (bool, string) {
		cs := e.cs()
		for _, p := range e.pods() {
			if p.Labels[v1alpha1.StateLabel] != "allocated" {
				return false, states(e)
			}
		}
		now := uids(e.pods())
		return fmt.Sprint(now) == fmt.Sprint(uids(before)) && *cs.Spec.Replicas == 4 && len(cs.Spec.ScaleStrategy.PodsToDelete) == 0,
			fmt.Sprintf("pods %v replicas %d podsToDelete %v", now, *cs.Spec.Replicas, cs.Spec.ScaleStrategy.PodsToDelete)
	})
	for _, family := range []string{"streamscaler_pod_state_pods", "streamscaler_fleet_replicas", "streamscaler_decision_total", "streamscaler_reconcile_duration_seconds"} {
		if n := e.metric(family, mine); n != 0 {
			e.t.Errorf("%s still has series of the deleted policy (sum %v)", family, n)
		}
	}
}

func secondPolicy(e *env) {
	e.cloneSet(25)
	e.policy(nil) // 10 streams a pod: 3 pods
	e.startController(nil, nil)
	e.eventually("the first policy scales the CloneSet to 3", func() (bool, string) {
		return *e.cs().Spec.Replicas == 3, fmt.Sprintf("replicas %d", *e.cs().Spec.Replicas)
	})
	five := resource.MustParse("5")
	e.namedPolicy("edge-b", func(s *v1alpha1.ScalingPolicySpec) { s.Metrics[0].Target.AverageValue = &five }) // alone: 5 pods
	refused := func() (bool, string) {
		p, _ := e.getNamedPolicy("edge-b")
		c := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionScalingActive)
		return c != nil && c.Status == metav1.ConditionFalse && c.Reason == "AmbiguousTarget" && strings.Contains(c.Message, "ScalingPolicy edge,"), fmt.Sprintf("%+v", c)
	}
	e.eventually("the second policy is refused with AmbiguousTarget naming the first", refused)
	if msg, ok := e.event("AmbiguousTarget", "edge-b"); !ok || !strings.Contains(msg, "CloneSet srs-edge is also named by ScalingPolicy edge") {
		e.t.Errorf("AmbiguousTarget event %q (found %v)", msg, ok)
	}
	e.consistently("the second policy changes nothing: 3 replicas, no pod of its own, no finalizer", 4*time.Second, func() (bool, string) {
		if ok, msg := refused(); !ok {
			return false, msg
		}
		for _, p := range e.pods() {
			if p.Annotations[v1alpha1.PolicyAnnotation] == "edge-b" {
				return false, "the second policy wrote on pod " + p.Name + ": " + states(e)
			}
		}
		b, _ := e.getNamedPolicy("edge-b")
		cs := e.cs()
		return *cs.Spec.Replicas == 3 && len(b.Finalizers) == 0 && b.Status.DesiredReplicas == 0,
			fmt.Sprintf("replicas %d, edge-b finalizers %v desired %d", *cs.Spec.Replicas, b.Finalizers, b.Status.DesiredReplicas)
	})
	if st := e.getPolicy().Status; st.DesiredReplicas != 3 || !meta.IsStatusConditionTrue(st.Conditions, v1alpha1.ConditionScalingActive) {
		e.t.Errorf("the first policy should keep working: %+v", st)
	}
	e.deletePolicy("edge")
	e.eventually("the second takes over once the first is gone: 25 streams at 5 a pod ask for 5", func() (bool, string) {
		p, _ := e.getNamedPolicy("edge-b")
		c := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionScalingActive)
		return *e.cs().Spec.Replicas == 5 && c != nil && c.Reason != "AmbiguousTarget" && slices.Contains(p.Finalizers, v1alpha1.CleanupFinalizer),
			fmt.Sprintf("replicas %d, ScalingActive %+v, finalizers %v", *e.cs().Spec.Replicas, c, p.Finalizers)
	})
}

func invalidPolicies(e *env) {
	cases := []struct {
		name   string
		mutate func(*v1alpha1.ScalingPolicySpec)
		field  string // the path the server names
		msg    string // and its words (how the bad value is shown differs between server versions)
	}{
		{"min above max", func(s *v1alpha1.ScalingPolicySpec) { s.MinReplicas = ptr.To(int32(20)) }, "spec.minReplicas", "must not exceed maxReplicas (10)"},
		{"duplicate metric", func(s *v1alpha1.ScalingPolicySpec) { s.Metrics = append(s.Metrics, s.Metrics[0]) }, "spec.metrics", "pullStreams appears more than once"},
		{"zero target", func(s *v1alpha1.ScalingPolicySpec) {
			q := resource.MustParse("0")
			s.Metrics[0].Target.AverageValue = &q
		}, "spec.metrics[0].target.averageValue", "must be greater than zero"},
		{"cpu without utilization", func(s *v1alpha1.ScalingPolicySpec) { s.Metrics[0].Type = v1alpha1.MetricCPU }, "spec.metrics[0].target", "cpu takes target.averageUtilization"},
		{"sync period of a millisecond", func(s *v1alpha1.ScalingPolicySpec) { s.SyncPeriod = &metav1.Duration{Duration: time.Millisecond} }, "spec.syncPeriod", "must be a duration between 1s and 10m"},
		{"events ConfigMap key with a slash", func(s *v1alpha1.ScalingPolicySpec) {
			s.Prediction = &v1alpha1.PredictionSpec{Enabled: true, EventsConfigMap: &v1alpha1.ConfigMapKey{Name: "fixtures", Key: "cup/final.csv"}}
		}, "spec.prediction.eventsConfigMap.key", "should match '^[-._a-zA-Z0-9]+$'"},
	}
	for _, c := range cases {
		q := resource.MustParse("10")
		p := &v1alpha1.ScalingPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: "bad", Namespace: e.ns},
			Spec: v1alpha1.ScalingPolicySpec{TargetRef: v1alpha1.TargetRef{Name: "x"}, MaxReplicas: 10,
				Metrics: []v1alpha1.MetricSpec{{Type: v1alpha1.MetricPullStreams, Target: v1alpha1.MetricTarget{AverageValue: &q}}}},
		}
		c.mutate(&p.Spec)
		err := e.c.Client.Create(context.Background(), p)
		if err == nil || !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), c.field+": Invalid value") || !strings.Contains(err.Error(), c.msg) {
			e.t.Errorf("%s: got %v, want Invalid at %s with %q", c.name, err, c.field, c.msg)
			_ = e.c.Client.Delete(context.Background(), p)
		}
	}
}

func failingSource(e *env) {
	e.failing = brokenSource{}
	e.cloneSet(1, 1) // the annotations say nearly idle: a working source would shrink the fleet
	e.policy(func(s *v1alpha1.ScalingPolicySpec) {
		s.MetricsSource = &v1alpha1.MetricsSourceSpec{Type: v1alpha1.SourcePrometheus}
		s.Fallback = &v1alpha1.FallbackSpec{FailureThreshold: ptr.To(int32(3)), Action: v1alpha1.FallbackFixed, Replicas: ptr.To(int32(3))}
	})
	e.startController(nil, nil)
	e.eventually("ScalingActive is False with the source's error", func() (bool, string) {
		c := meta.FindStatusCondition(e.getPolicy().Status.Conditions, v1alpha1.ConditionScalingActive)
		return c != nil && c.Status == metav1.ConditionFalse && strings.Contains(c.Message, "connection refused"), fmt.Sprintf("%+v", c)
	})
	e.eventually("after 3 failures the fixed fallback raises the fleet to 3", func() (bool, string) {
		return *e.cs().Spec.Replicas == 3, fmt.Sprintf("replicas %d", *e.cs().Spec.Replicas)
	})
	e.consistently("blind, the fleet never shrinks and no pod drains", 3*time.Second, func() (bool, string) {
		for _, p := range e.pods() {
			if st := p.Labels[v1alpha1.StateLabel]; st == "tombstone" || st == "deletable" {
				return false, states(e)
			}
		}
		return *e.cs().Spec.Replicas == 3, fmt.Sprintf("replicas %d", *e.cs().Spec.Replicas)
	})
}

func predictive(e *env) {
	h := &rampHistory{gate: make(chan struct{})}
	e.history = h
	e.workers = 1      // a read of history inside the pass would hold the only worker
	e.cloneSet(10, 10) // 20 players now: the metrics alone ask for 2 pods
	e.policy(func(s *v1alpha1.ScalingPolicySpec) {
		s.MaxReplicas = 40
		s.Prediction = &v1alpha1.PredictionSpec{Enabled: true, Horizon: &metav1.Duration{Duration: 5 * time.Minute}, MarginPercent: ptr.To(int32(0))}
	})
	e.startController(nil, nil)
	// History is slow to answer: meanwhile the policy is decided, without a forecast.
	decided := map[string]string{"namespace": e.ns, "policy": "edge"}
	e.eventually("decisions go on while the history is read", func() (bool, string) {
		st := e.getPolicy().Status
		n := e.metric("streamscaler_decision_total", decided)
		return n >= 2 && len(st.CurrentMetrics) == 1 && st.CurrentMetrics[0].Forecast == nil && *e.cs().Spec.Replicas == 2,
			fmt.Sprintf("%v decisions, replicas %d, %+v", n, *e.cs().Spec.Replicas, st.CurrentMetrics)
	})
	close(h.gate)
	// The rising history says about 185 players within 5 minutes: 19 pods of 10.
	e.eventually("the fleet grows ahead of the forecast load", func() (bool, string) {
		return *e.cs().Spec.Replicas >= 15, fmt.Sprintf("replicas %d", *e.cs().Spec.Replicas)
	})
	e.eventually("status shows the forecast and its model", func() (bool, string) {
		st := e.getPolicy().Status
		if len(st.CurrentMetrics) != 1 {
			return false, fmt.Sprintf("%+v", st)
		}
		m := st.CurrentMetrics[0]
		// The live load (20) now pulls the forecast down as buckets close; it stays well
		// above what is observed while the seeded rise dominates.
		return m.Forecast != nil && m.Forecast.AsApproximateFloat64() > 40 && m.ForecastModel != "", fmt.Sprintf("%+v", m)
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	// Asked once: the forecaster is kept between decisions, not rebuilt each time.
	if len(h.asked) != 1 || !strings.HasPrefix(h.asked[0], "pullStreams srs-edge-") {
		e.t.Fatalf("history asked as %v, want once, for pullStreams of the CloneSet's pods", h.asked)
	}
}

func dashboards(e *env) {
	testprom.Require(e.t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		e.t.Fatal(err)
	}
	e.metricsAddr = ln.Addr().String()
	ln.Close()
	e.history = flatHistory(25)

	// A scale-in with a drain that times out, then a scale-out, with one conflicting
	// CloneSet write on the way and a forecast: every series the dashboards use.
	pods := e.cloneSet(12, 3, 9, 1)
	victim := pods[3].Name
	e.policy(func(s *v1alpha1.ScalingPolicySpec) {
		s.Tombstone = &v1alpha1.TombstoneSpec{DrainTimeout: &metav1.Duration{Duration: 3 * time.Second}}
		s.Prediction = &v1alpha1.PredictionSpec{Enabled: true, MarginPercent: ptr.To(int32(0))}
	})
	e.startController(nil, func(t controller.ScaleTarget) controller.ScaleTarget {
		return &conflictingTarget{ScaleTarget: t, c: e.c.Client}
	})
	promURL := testprom.Start(e.t, []testprom.Target{{Job: "streamscaler", Addr: e.metricsAddr, Labels: map[string]string{}}})
	e.eventually("the drained pod is evicted and deleted", func() (bool, string) {
		_, there := e.podByName(victim)
		return !there, states(e)
	})
	e.setStreams(pods[0].Name, 60)
	e.eventually("the fleet grows for 72 streams", func() (bool, string) {
		return *e.cs().Spec.Replicas > 3, fmt.Sprintf("replicas %d", *e.cs().Spec.Replicas)
	})
	e.eventually("the new pods exist", func() (bool, string) { return len(e.pods()) > 3, states(e) })
	for _, p := range e.pods() {
		if p.Labels[v1alpha1.StateLabel] == "init" {
			e.setStreams(p.Name, 0)
			e.ready(p.Name)
		}
	}
	e.eventually("new pods become allocated", func() (bool, string) {
		return e.metric("streamscaler_pod_transitions_total", map[string]string{"namespace": e.ns, "event": "ready"}) > 0, states(e)
	})
	time.Sleep(3 * time.Second) // a few more scrapes

	files, err := filepath.Glob("../../deploy/grafana/*.json")
	if err != nil || len(files) != 3 {
		e.t.Fatalf("want the 3 dashboards, found %v (%v)", files, err)
	}
	vars := strings.NewReplacer("$namespace", e.ns, "$policy", "edge", "$__rate_interval", "1m")
	queries := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			e.t.Fatal(err)
		}
		var d struct {
			Panels []struct {
				Title   string
				Targets []struct{ Expr string }
			}
		}
		if err := json.Unmarshal(data, &d); err != nil {
			e.t.Fatalf("%s: %v", f, err)
		}
		for _, p := range d.Panels {
			for _, tg := range p.Targets {
				queries++
				q := vars.Replace(tg.Expr)
				e.eventually(fmt.Sprintf("%s %q: %s returns data", filepath.Base(f), p.Title, q), func() (bool, string) {
					n, err := promQuery(promURL, q)
					if err != nil {
						return false, err.Error()
					}
					return n > 0, "an empty result"
				})
			}
		}
	}
	if queries < 15 {
		e.t.Fatalf("only %d queries in the dashboards", queries)
	}
}

// promQuery runs an instant query and returns how many series it gave.
func promQuery(base, q string) (int, error) {
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string
		Error  string
		Data   struct{ Result []json.RawMessage }
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&r); err != nil {
		return 0, err
	}
	if r.Status != "success" {
		return 0, fmt.Errorf("%s: %s", r.Status, r.Error)
	}
	return len(r.Data.Result), nil
}
