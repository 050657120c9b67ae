package autoscaler

import (
	"errors"
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/statemachine"
)

// moveList is a pass's moves as "pod:event", in order.
func moveList(o Outcome) []string {
	var out []string
	for _, m := range o.Moves {
		out = append(out, m.Pod+":"+string(m.Transition.Event))
	}
	return out
}

func streamSpec() *v1alpha1.ScalingPolicySpec {
	s := spec(1, 10, valueMetric(v1alpha1.MetricPullStreams, "10"))
	s.Tombstone = &v1alpha1.TombstoneSpec{DrainTimeout: durationPtr(10 * time.Minute)}
	return s
}

func TestDecide(t *testing.T) {
	const (
		I = statemachine.Init
		A = statemachine.Allocated
		T = statemachine.Tombstone
		D = statemachine.Deletable
	)
	started := func() *Memory { return &Memory{started: true} }
	notReady := func(p PodSample) PodSample { p.Ready = false; return p }
	ready := func(p PodSample) PodSample { p.Ready = true; return p }
	since := func(p PodSample, d time.Duration) PodSample { p.Since = t0.Add(-d); return p }
	t.Run("a pass that is not due only allocates Ready pods", func(t *testing.T) {
		mem := started()
		mem.Next = t0.Add(time.Second)
		ps := []PodSample{pod("a", A, 5, 1), ready(pod("ready", I, 0, 0)), notReady(pod("starting", I, 0, 0)), pod("drained", T, 0, 0)}
		o, err := Decide(Snapshot{Now: t0, Spec: streamSpec(), Pods: ps, Replicas: 4}, mem)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := moveList(o), []string{"ready:ready"}; !reflect.DeepEqual(got, want) {
			t.Errorf("moves %v, want %v", got, want)
		}
		if o.Recommendation != nil || o.Scale.Write {
			t.Errorf("not due, yet recommendation %v and scale %+v", o.Recommendation, o.Scale)
		}
	})
	t.Run("drained pods go in the same write that lowers replicas, after lifecycle and plan moves in order", func(t *testing.T) {
		// 5 streams want one serving pod: the starting pod is cancelled and b, the
		// emptier allocated pod, drains; drained is done and late has timed out.
		ps := []PodSample{pod("a", A, 5, 1), pod("b", A, 0, 1), pod("i", I, 0, 0), pod("drained", T, 0, 0), since(pod("late", T, 2, 0), 11*time.Minute)}
		ps[2].Ready = false
		o, err := Decide(Snapshot{Now: t0, Spec: streamSpec(), Pods: ps, Replicas: 5}, started())
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"drained:drained", "late:drainTimeout", "i:cancel", "b:scaleIn"}
		if got := moveList(o); !reflect.DeepEqual(got, want) {
			t.Errorf("moves %v, want %v", got, want)
		}
		if !o.Moves[1].Evict || o.Moves[1].Streams != 2 {
			t.Errorf("drain timeout move %+v: want an eviction of 2 streams", o.Moves[1])
		}
		// a stays, b drains; drained, late and i go.
		if want := (Scale{Replicas: 2, PodsToDelete: []string{"drained", "i", "late"}, Write: true}); !reflect.DeepEqual(o.Scale, want) {
			t.Errorf("scale %+v, want %+v", o.Scale, want)
		}
		// An eviction that failed keeps its pod, and only it.
		if got, want := o.Resize(map[string]bool{"late": true}), (Scale{Replicas: 3, PodsToDelete: []string{"drained", "i"}, Write: true}); !reflect.DeepEqual(got, want) {
			t.Errorf("resize without late %+v, want %+v", got, want)
		}
		if o.Current[D] != 3 || o.Current[T] != 1 || o.Current[A] != 1 {
			t.Errorf("states after the pass %v", o.Current)
		}
	})
	t.Run("scale-out revives before creating and counts pending pods", func(t *testing.T) {
		ps := []PodSample{pod("a", A, 30, 1), pod("t", T, 9, 1)}
		o, err := Decide(Snapshot{Now: t0, Spec: streamSpec(), Pods: ps, Pending: 1, Replicas: 3}, started())
		if err != nil {
			t.Fatal(err)
		}
		// 39 streams want 4 pods: a, pending, t revived, one new.
		if got, want := moveList(o), []string{"t:revive"}; !reflect.DeepEqual(got, want) {
			t.Errorf("moves %v, want %v", got, want)
		}
		if want := (Scale{Replicas: 4, Write: true}); !reflect.DeepEqual(o.Scale, want) {
			t.Errorf("scale %+v, want %+v", o.Scale, want)
		}
	})
	t.Run("a workload that already says it is not written", func(t *testing.T) {
		ps := []PodSample{pod("a", A, 8, 1), pod("gone", D, 0, 0)}
		o, err := Decide(Snapshot{Now: t0, Spec: streamSpec(), Pods: ps, Replicas: 1, PodsToDelete: []string{"gone", "older"}}, started())
		if err != nil {
			t.Fatal(err)
		}
		if o.Scale.Write {
			t.Errorf("scale %+v written again", o.Scale)
		}
	})
	t.Run("dry run moves nothing and reports the decision on the states it would make", func(t *testing.T) {
		s := streamSpec()
		s.DryRun = true
		ps := []PodSample{pod("a", A, 5, 1), pod("b", A, 1, 1), pod("drained", T, 0, 0)}
		o, err := Decide(Snapshot{Now: t0, Spec: s, Pods: ps, Replicas: 3}, started())
		if err != nil {
			t.Fatal(err)
		}
		if len(o.Moves) != 0 || o.Scale.Write || o.Act {
			t.Errorf("dry run acted: moves %v, scale %+v", moveList(o), o.Scale)
		}
		if o.Recommendation == nil || o.Recommendation.Replicas != 1 || !reflect.DeepEqual(o.Plan.Tombstone, []string{"b"}) {
			t.Errorf("recommendation %+v plan %+v: want 1 serving pod and b tombstoned", o.Recommendation, o.Plan)
		}
		if o.Current[T] != 1 || o.Current[A] != 2 {
			t.Errorf("dry run reports states %v, want the stored ones", o.Current)
		}
	})
	t.Run("a fresh memory holds the fleet for a scale-down window, as after a restart", func(t *testing.T) {
		s := streamSpec()
		s.Behavior = nil // the default scale-down window, 300s
		ps := []PodSample{pod("a", A, 1, 1), pod("b", A, 1, 1), pod("c", A, 1, 1)}
		mem := &Memory{}
		for _, at := range []time.Duration{0, 15 * time.Second, 299 * time.Second} {
			o, err := Decide(Snapshot{Now: t0.Add(at), Spec: s, Pods: ps, Replicas: 3}, mem)
			if err != nil {
				t.Fatal(err)
			}
			if len(o.Moves) != 0 {
				t.Fatalf("at +%s moves %v within the window after a restart", at, moveList(o))
			}
			mem.Commit(o)
		}
		o, err := Decide(Snapshot{Now: t0.Add(315 * time.Second), Spec: s, Pods: ps, Replicas: 3}, mem)
		if err != nil {
			t.Fatal(err)
		}
		if got := moveList(o); len(got) != 2 {
			t.Errorf("after the window moves %v, want two tombstones", got)
		}
	})
	t.Run("the window after a restart runs from the first pass with metrics, not the first pass", func(t *testing.T) {
		s := streamSpec()
		s.Behavior = nil // the default scale-down window, 300s
		ps := []PodSample{pod("a", A, 1, 1), pod("b", A, 1, 1), pod("c", A, 1, 1)}
		mem := &Memory{}
		// The source fails for longer than the window (a Prometheus that has not
		// scraped the pods yet): the failures hold, and start no window.
		for _, at := range []time.Duration{0, 200 * time.Second, 400 * time.Second} {
			o, err := Decide(Snapshot{Now: t0.Add(at), Spec: s, Pods: ps, Replicas: 3, SourceErr: errors.New("no samples")}, mem)
			if err != nil {
				t.Fatal(err)
			}
			if len(o.Moves) != 0 {
				t.Fatalf("at +%s moves %v on a failing source", at, moveList(o))
			}
			mem.Commit(o)
		}
		// Then the source answers without samples of the pods (scraped before they were
		// up): no metric can be computed, and that starts no window either.
		blank := []PodSample{pod("a", A, 1, 1), pod("b", A, 1, 1), pod("c", A, 1, 1)}
		for i := range blank {
			blank[i].Values = map[string]float64{}
		}
		o, err := Decide(Snapshot{Now: t0.Add(420 * time.Second), Spec: s, Pods: blank, Replicas: 3}, mem)
		if err != nil {
			t.Fatal(err)
		}
		if len(o.Moves) != 0 || o.Recommendation == nil || o.Recommendation.Active {
			t.Fatalf("moves %v, recommendation %+v (due %v): want an inactive hold without samples", moveList(o), o.Recommendation, o.Due)
		}
		mem.Commit(o)
		// The first read says the pods are nearly idle: the window starts now.
		o, err = Decide(Snapshot{Now: t0.Add(720 * time.Second), Spec: s, Pods: ps, Replicas: 3}, mem)
		if err != nil {
			t.Fatal(err)
		}
		if len(o.Moves) != 0 {
			t.Fatalf("moves %v at the first metrics read after a restart", moveList(o))
		}
		mem.Commit(o)
		o, err = Decide(Snapshot{Now: t0.Add(1035 * time.Second), Spec: s, Pods: ps, Replicas: 3}, mem)
		if err != nil {
			t.Fatal(err)
		}
		if got := moveList(o); len(got) != 2 {
			t.Errorf("a window after the first read moves %v, want two tombstones", got)
		}
	})
	t.Run("a failing source holds, counts failures and is due again until committed", func(t *testing.T) {
		ps := []PodSample{pod("a", A, 0, 0), pod("b", A, 0, 0)}
		mem := started()
		for i := int32(1); i <= 2; i++ {
			o, err := Decide(Snapshot{Now: t0, Spec: streamSpec(), Pods: ps, Replicas: 2, SourceErr: errors.New("down")}, mem)
			if err != nil {
				t.Fatal(err)
			}
			if mem.Failures != i || o.Recommendation.Replicas != 2 || len(o.Moves) != 0 {
				t.Fatalf("failure %d: counted %d, replicas %d, moves %v", i, mem.Failures, o.Recommendation.Replicas, moveList(o))
			}
			if !mem.Due(t0) {
				t.Fatal("an uncommitted pass must leave the next one due")
			}
		}
		o, _ := Decide(Snapshot{Now: t0, Spec: streamSpec(), Pods: ps, Replicas: 2}, mem)
		mem.Commit(o)
		if mem.Failures != 0 || mem.Due(t0.Add(time.Second)) || !mem.Next.Equal(t0.Add(15*time.Second)) {
			t.Errorf("after a good read: failures %d, next %s", mem.Failures, mem.Next)
		}
	})
	t.Run("prediction off drops the forecaster", func(t *testing.T) {
		s := streamSpec()
		s.Prediction = &v1alpha1.PredictionSpec{Enabled: true, Horizon: &metav1.Duration{Duration: time.Minute}}
		lf, err := NewLoadForecaster(s, time.Minute, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		mem := &Memory{Forecaster: lf, started: true}
		if _, err := Decide(Snapshot{Now: t0, Spec: s, Pods: []PodSample{pod("a", A, 5, 1)}, Replicas: 1}, mem); err != nil || mem.Forecaster == nil {
			t.Fatalf("predicting: err %v, forecaster %v", err, mem.Forecaster)
		}
		if _, err := Decide(Snapshot{Now: t0, Spec: streamSpec(), Pods: []PodSample{pod("a", A, 5, 1)}, Replicas: 1}, mem); err != nil || mem.Forecaster != nil {
			t.Errorf("prediction off: err %v, forecaster still kept", err)
		}
	})
}

// TestDecideWorkloadRemovals: pods the workload removes on its own (someone else's
// scale-in, a recreate update) are not counted, kept or named; those it holds for
// streamscaler (the preDelete hook) drain at once and are released once deletable.
func TestDecideWorkloadRemovals(t *testing.T) {
	const (
		I = statemachine.Init
		A = statemachine.Allocated
		T = statemachine.Tombstone
		D = statemachine.Deletable
	)
	held := func(p PodSample) PodSample { p.Leaving, p.Held = true, true; return p }
	leaving := func(p PodSample) PodSample { p.Leaving = true; return p }
	t.Run("held pods drain even when no decision is due, and are released once drained", func(t *testing.T) {
		mem := &Memory{started: true, Next: t0.Add(time.Second)}
		ps := []PodSample{pod("a", A, 5, 1), held(pod("full", A, 8, 1)), held(pod("starting", I, 0, 0)), held(pod("gone", D, 0, 0))}
		ps[2].Ready = false
		// Someone lowered replicas from 4 to 1: the workload holds the three others.
		o, err := Decide(Snapshot{Now: t0, Spec: streamSpec(), Pods: ps, Replicas: 1}, mem)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := moveList(o), []string{"full:scaleIn", "starting:cancel"}; !reflect.DeepEqual(got, want) {
			t.Errorf("moves %v, want %v", got, want)
		}
		if !o.Moves[0].Held {
			t.Errorf("move %+v is not marked held", o.Moves[0])
		}
		if want := []string{"gone", "starting"}; !reflect.DeepEqual(o.Release, want) {
			t.Errorf("release %v, want %v", o.Release, want)
		}
		// Only a is the workload's to count: held pods are not in replicas or podsToDelete.
		if o.Scale.Write || o.Scale.Replicas != 1 || len(o.Scale.PodsToDelete) != 0 {
			t.Errorf("scale %+v: want replicas 1 (a alone), nothing named, no write", o.Scale)
		}
	})
	t.Run("a held pod drains like any other when due", func(t *testing.T) {
		ps := []PodSample{pod("a", A, 5, 1), held(pod("draining", T, 0, 0))}
		o, err := Decide(Snapshot{Now: t0, Spec: streamSpec(), Pods: ps, Replicas: 1}, &Memory{started: true})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := moveList(o), []string{"draining:drained"}; !reflect.DeepEqual(got, want) {
			t.Errorf("moves %v, want %v", got, want)
		}
		if want := []string{"draining"}; !reflect.DeepEqual(o.Release, want) {
			t.Errorf("release %v, want %v", o.Release, want)
		}
		if o.Scale.Write {
			t.Errorf("scale %+v: a held pod's release needs no CloneSet write", o.Scale)
		}
	})
	t.Run("pods the workload replaces (specified-delete) are not counted, so their replacements are not cancelled", func(t *testing.T) {
		// 40 streams at 10 a pod want 4 serving: 4 pods serve, 2 of them are being
		// replaced (the workload creates 2 more: pending). Nothing must be tombstoned or
		// cancelled, and replicas stay 4.
		ps := []PodSample{pod("a", A, 10, 1), pod("b", A, 10, 1), leaving(pod("old1", A, 10, 1)), leaving(pod("old2", A, 10, 1))}
		o, err := Decide(Snapshot{Now: t0, Spec: streamSpec(), Pods: ps, Replicas: 4, Pending: 2}, &Memory{started: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(o.Moves) != 0 {
			t.Errorf("moves %v, want none", moveList(o))
		}
		if o.Recommendation.Current != 4 || o.Recommendation.Replicas != 4 {
			t.Errorf("recommendation current %d replicas %d, want 4 and 4", o.Recommendation.Current, o.Recommendation.Replicas)
		}
		if o.Scale.Write || o.Scale.Replicas != 4 {
			t.Errorf("scale %+v, want replicas 4 unchanged", o.Scale)
		}
	})
	t.Run("a rollout's surge (pods beyond replicas, pending negative) is neither kept nor scaled in", func(t *testing.T) {
		// replicas 4 and 40 streams want 4; the workload runs a fifth pod while it rolls out.
		ps := []PodSample{pod("a", A, 10, 1), pod("b", A, 10, 1), pod("c", A, 10, 1), pod("d", A, 10, 1), pod("new", A, 0, 0)}
		o, err := Decide(Snapshot{Now: t0, Spec: streamSpec(), Pods: ps, Replicas: 4, Pending: -1}, &Memory{started: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(o.Moves) != 0 || o.Scale.Write || o.Scale.Replicas != 4 {
			t.Errorf("moves %v scale %+v: want none and replicas 4 unchanged", moveList(o), o.Scale)
		}
	})
}

// TestDecideInPlaceUpdate: a pod the workload will update in place (Kruise's
// PreparingUpdate, held by the inPlaceUpdate hook) drains first and stays in the
// replicas; released, it is neither deleted nor counted as serving while it restarts;
// once updated it is renewed (deletable -> init) and serves again when Ready.
func TestDecideInPlaceUpdate(t *testing.T) {
	const (
		A = statemachine.Allocated
		T = statemachine.Tombstone
		D = statemachine.Deletable
	)
	preparing := func(p PodSample) PodSample { p.Updating, p.Held = true, true; return p }
	restarting := func(p PodSample) PodSample { p.Updating = true; return p }
	updated := func(p PodSample) PodSample { p.Updated = true; return p }
	notDue := func() *Memory { return &Memory{started: true, Next: t0.Add(time.Second)} }
	t.Run("a held pod with players is tombstoned at once and kept in the replicas", func(t *testing.T) {
		ps := []PodSample{pod("a", A, 10, 1), pod("b", A, 10, 1), preparing(pod("c", A, 10, 1))}
		o, err := Decide(Snapshot{Now: t0, Spec: streamSpec(), Pods: ps, Replicas: 3}, notDue())
		if err != nil {
			t.Fatal(err)
		}
		if got, want := moveList(o), []string{"c:scaleIn"}; !reflect.DeepEqual(got, want) {
			t.Errorf("moves %v, want %v", got, want)
		}
		if len(o.Release) != 0 || o.Scale.Write || o.Scale.Replicas != 3 {
			t.Errorf("release %v scale %+v: want nothing released and replicas 3 unchanged", o.Release, o.Scale)
		}
	})
	t.Run("while it drains it counts toward the fleet, is never revived and gets no replacement", func(t *testing.T) {
		// 30 streams at 10 a pod want 3 serving; c drains for the update and comes back.
		ps := []PodSample{pod("a", A, 10, 1), pod("b", A, 10, 1), preparing(pod("c", T, 10, 1))}
		o, err := Decide(Snapshot{Now: t0, Spec: streamSpec(), Pods: ps, Replicas: 3}, &Memory{started: true})
		if err != nil {
			t.Fatal(err)
		}
		if o.Recommendation.Current != 3 || len(o.Plan.Revive) != 0 || o.Plan.Create != 0 {
			t.Errorf("current %d plan %+v: want 3 serving, c not revived, nothing created", o.Recommendation.Current, o.Plan)
		}
		if o.Scale.Write || o.Scale.Replicas != 3 {
			t.Errorf("scale %+v: want replicas 3 unchanged", o.Scale)
		}
	})
	t.Run("when the load falls during an update, serving pods drain, not the updating one", func(t *testing.T) {
		// 10 streams want one pod: a and b are the serving pods; c is the workload's.
		ps := []PodSample{pod("a", A, 10, 1), pod("b", A, 0, 0), preparing(pod("c", T, 0, 0))}
		o, err := Decide(Snapshot{Now: t0, Spec: streamSpec(), Pods: ps, Replicas: 3}, &Memory{started: true})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(o.Plan.Tombstone, []string{"b"}) || !reflect.DeepEqual(o.Release, []string{"c"}) {
			t.Errorf("plan %+v release %v: want b tombstoned and c released", o.Plan, o.Release)
		}
	})
	t.Run("drained, it is released and still kept", func(t *testing.T) {
		ps := []PodSample{pod("a", A, 10, 1), pod("b", A, 10, 1), preparing(pod("c", T, 0, 0))}
		o, err := Decide(Snapshot{Now: t0, Spec: streamSpec(), Pods: ps, Replicas: 3}, &Memory{started: true})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := moveList(o), []string{"c:drained"}; !reflect.DeepEqual(got[:1], want) {
			t.Errorf("moves %v, want %v first", got, want)
		}
		if !reflect.DeepEqual(o.Release, []string{"c"}) || len(o.Scale.PodsToDelete) != 0 || o.Scale.Replicas < 3 {
			t.Errorf("release %v scale %+v: want c released, not named, replicas at least 3", o.Release, o.Scale)
		}
	})
	t.Run("restarting, a deletable pod is neither named nor renewed", func(t *testing.T) {
		ps := []PodSample{pod("a", A, 5, 1), pod("b", A, 5, 1), restarting(pod("c", D, 0, 0))}
		o, err := Decide(Snapshot{Now: t0, Spec: streamSpec(), Pods: ps, Replicas: 3}, notDue())
		if err != nil {
			t.Fatal(err)
		}
		if len(o.Moves) != 0 || len(o.Release) != 0 || o.Scale.Write || o.Scale.Replicas != 3 {
			t.Errorf("moves %v release %v scale %+v: want nothing and replicas 3", moveList(o), o.Release, o.Scale)
		}
	})
	t.Run("updated, a deletable pod is renewed to init even when no decision is due", func(t *testing.T) {
		ps := []PodSample{pod("a", A, 5, 1), pod("b", A, 5, 1), updated(pod("c", D, 0, 0))}
		o, err := Decide(Snapshot{Now: t0, Spec: streamSpec(), Pods: ps, Replicas: 3}, notDue())
		if err != nil {
			t.Fatal(err)
		}
		if got, want := moveList(o), []string{"c:renew"}; !reflect.DeepEqual(got, want) {
			t.Errorf("moves %v, want %v", got, want)
		}
		if o.Scale.Write || o.Scale.Replicas != 3 || o.Current[statemachine.Init] != 1 {
			t.Errorf("scale %+v current %v: want c kept as init, replicas 3", o.Scale, o.Current)
		}
	})
	t.Run("a deletable pod that was not updated is named for deletion as before", func(t *testing.T) {
		ps := []PodSample{pod("a", A, 5, 1), pod("b", A, 5, 1), pod("c", D, 0, 0)}
		o, err := Decide(Snapshot{Now: t0, Spec: streamSpec(), Pods: ps, Replicas: 3}, notDue())
		if err != nil {
			t.Fatal(err)
		}
		if len(o.Moves) != 0 || !reflect.DeepEqual(o.Scale.PodsToDelete, []string{"c"}) || o.Scale.Replicas != 2 {
			t.Errorf("moves %v scale %+v: want c named, replicas 2", moveList(o), o.Scale)
		}
	})
}
