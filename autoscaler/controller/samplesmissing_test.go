package controller_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/meta/testrestmapper"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/streamscaler/streamscaler/adapters/kruise"
	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/autoscaler"
	"github.com/streamscaler/streamscaler/autoscaler/controller"
	"github.com/streamscaler/streamscaler/statemachine"
)

// TestSamplesMissingSaysWhy: when the source leaves pods without samples, the policy's
// ScalingActive condition and a SamplesMissing event say how many pods and why, once per
// change rather than once per pass, and the fleet is never shrunk for it.
func TestSamplesMissingSaysWhy(t *testing.T) {
	stale, implausible, notFinite := v1alpha1.SampleStale, v1alpha1.SampleImplausible, v1alpha1.SampleNotFinite
	const pods = 8
	names := make([]string, pods)
	for i := range names {
		names[i] = "edge-" + string(rune('a'+i))
	}
	everyPod := func(p v1alpha1.SampleProblem) map[string][]v1alpha1.SampleProblem {
		out := map[string][]v1alpha1.SampleProblem{}
		for _, n := range names {
			out[n] = []v1alpha1.SampleProblem{p}
		}
		return out
	}
	type pass struct {
		missing map[string][]v1alpha1.SampleProblem
		// active is ScalingActive's status and what its message must say (or, with
		// absent set, must not).
		active  bool
		says    string
		absent  bool
		event   string // the SamplesMissing event this pass emits; "" for none
		reasons map[v1alpha1.SampleProblem]float64
	}
	for _, tc := range []struct {
		story  string
		passes []pass
	}{
		{"a few pods stale or implausible: scaling goes on, and the condition and one event per change say why", []pass{
			{missing: map[string][]v1alpha1.SampleProblem{"edge-b": {stale}, "edge-c": {stale}, "edge-d": {implausible}},
				active: true, says: "samples missing for 3 pods: 2 stale, 1 implausible", event: "samples missing for 3 pods: 2 stale, 1 implausible",
				reasons: map[v1alpha1.SampleProblem]float64{stale: 2, implausible: 1, notFinite: 0}},
			{missing: map[string][]v1alpha1.SampleProblem{"edge-b": {stale}, "edge-c": {stale}, "edge-d": {implausible}},
				active: true, says: "samples missing for 3 pods: 2 stale, 1 implausible"},
			{missing: map[string][]v1alpha1.SampleProblem{"edge-b": {stale, notFinite}},
				active: true, says: "samples missing for 1 pod: 1 stale, 1 notFinite", event: "samples missing for 1 pod: 1 stale, 1 notFinite",
				reasons: map[v1alpha1.SampleProblem]float64{stale: 1, implausible: 0, notFinite: 1}},
			{active: true, says: "samples missing", absent: true,
				reasons: map[v1alpha1.SampleProblem]float64{stale: 0, implausible: 0, notFinite: 0}},
			{missing: map[string][]v1alpha1.SampleProblem{"edge-b": {stale, notFinite}},
				active: true, says: "samples missing for 1 pod: 1 stale, 1 notFinite", event: "samples missing for 1 pod: 1 stale, 1 notFinite"},
		}},
		{"every pod stale: the fleet is held, and ScalingActive says why no metric could be computed", []pass{
			{missing: everyPod(stale), active: false,
				says: "no metric could be computed; holding the serving fleet; samples missing for 8 pods: 8 stale", event: "samples missing for 8 pods: 8 stale",
				reasons: map[v1alpha1.SampleProblem]float64{stale: 8, implausible: 0}},
		}},
	} {
		t.Run(tc.story, func(t *testing.T) {
			now := time.Date(2026, 7, 1, 20, 0, 0, 0, time.UTC)
			snap := autoscaler.Snapshot{Now: now, Replicas: pods}
			for _, n := range names {
				snap.Pods = append(snap.Pods, autoscaler.PodSample{Name: n, State: statemachine.Allocated, Ready: true,
					Since: now.Add(-time.Hour), Created: now.Add(-time.Hour), Values: map[string]float64{string(v1alpha1.MetricPullStreams): 19}})
			}
			rec := &writes{}
			scheme := fakeScheme(t)
			cl := parityWorld(fake.NewClientBuilder().WithScheme(scheme).WithRESTMapper(testrestmapper.TestOnlyStaticRESTMapper(scheme)), paritySpec(), snap, rec, 0)
			recorder := events.NewFakeRecorder(100)
			src := &replaySource{}
			clock := &stepClock{now: now}
			r := &controller.Reconciler{
				Client: cl, Reader: cl, Target: &kruise.CloneSets{Reader: cl, Writer: cl}, Recorder: recorder,
				Sources: map[v1alpha1.MetricsSourceType]controller.MetricsSource{v1alpha1.SourceAnnotations: src}, DefaultSource: v1alpha1.SourceAnnotations,
				Evictors: map[v1alpha1.EvictionAction]controller.Evictor{v1alpha1.EvictNone: controller.NoEviction{}}, Clock: clock,
			}
			ctx := logf.IntoContext(context.Background(), logr.Discard())
			key := types.NamespacedName{Namespace: "live", Name: "edge"}
			for i, ps := range tc.passes {
				// The source's values leave out exactly the pods it says are missing.
				src.values, src.missing, src.asked = map[string]map[string]float64{}, ps.missing, false
				for _, n := range names {
					src.values[n] = map[string]float64{}
					if len(ps.missing[n]) == 0 {
						src.values[n][string(v1alpha1.MetricPullStreams)] = 19
					}
				}
				if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: key}); err != nil {
					t.Fatalf("pass %d: %v", i, err)
				}
				if !src.asked {
					t.Fatalf("pass %d: no decision was due", i)
				}
				var policy v1alpha1.ScalingPolicy
				if err := cl.Get(ctx, key, &policy); err != nil {
					t.Fatal(err)
				}
				active := meta.FindStatusCondition(policy.Status.Conditions, v1alpha1.ConditionScalingActive)
				if active == nil || meta.IsStatusConditionTrue(policy.Status.Conditions, v1alpha1.ConditionScalingActive) != ps.active {
					t.Fatalf("pass %d: ScalingActive %+v, want status %v", i, active, ps.active)
				}
				if strings.Contains(active.Message, ps.says) == ps.absent {
					t.Fatalf("pass %d: ScalingActive's message %q, want it to say %q (or not, when absent: %v)", i, active.Message, ps.says, ps.absent)
				}
				var emitted []string
				for len(recorder.Events) > 0 {
					if e := <-recorder.Events; strings.HasPrefix(e, "Warning SamplesMissing ") {
						emitted = append(emitted, strings.TrimPrefix(e, "Warning SamplesMissing "))
					}
				}
				switch {
				case ps.event == "" && len(emitted) > 0:
					t.Fatalf("pass %d: events %q, want none: the account did not change", i, emitted)
				case ps.event != "" && (len(emitted) != 1 || emitted[0] != ps.event):
					t.Fatalf("pass %d: events %q, want one %q", i, emitted, ps.event)
				}
				for reason, want := range ps.reasons {
					if got := missingPodsGauge(t, reason); got != want {
						t.Fatalf("pass %d: streamscaler_samples_missing_pods{reason=%q} = %g, want %g", i, reason, got, want)
					}
				}
				clock.now = clock.now.Add(time.Minute) // the next decision is due
			}
			// The valid pods sit just under target, and a missing one counts at target
			// when scaling in: nothing to change, least of all to shrink.
			if len(rec.scales) != 0 || len(rec.moves) != 0 {
				t.Fatalf("the CloneSet was written %v and pods moved %v: missing samples must never shrink the fleet", rec.scales, rec.moves)
			}
		})
	}
}

// missingPodsGauge reads the live/edge series of streamscaler_samples_missing_pods for a reason.
func missingPodsGauge(t *testing.T, reason v1alpha1.SampleProblem) float64 {
	t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "streamscaler_samples_missing_pods" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["namespace"] == "live" && labels["policy"] == "edge" && labels["reason"] == string(reason) {
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no streamscaler_samples_missing_pods series for reason %s", reason)
	return 0
}
