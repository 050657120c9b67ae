package autoscaler

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/statemachine"
)

func pod(name string, st statemachine.State, streams, bandwidth float64) PodSample {
	v := map[string]float64{pull: streams, bw: bandwidth}
	if math.IsNaN(streams) {
		delete(v, pull)
		v[push] = math.NaN()
	}
	return PodSample{Name: name, State: st, Ready: st != statemachine.Init, Since: t0, Created: t0, Values: v}
}

func TestPlanScale(t *testing.T) {
	const (
		I = statemachine.Init
		A = statemachine.Allocated
		T = statemachine.Tombstone
		D = statemachine.Deletable
	)
	nan := math.NaN()
	newer := func(p PodSample, d time.Duration) PodSample { p.Created = p.Created.Add(d); return p }
	cases := []struct {
		name    string
		pods    []PodSample
		desired int32
		want    Plan
	}{
		{"scale-in tombstones the pods with the fewest streams",
			[]PodSample{pod("a", A, 30, 1), pod("b", A, 5, 9), pod("c", A, 12, 1), pod("d", A, 40, 1)}, 2,
			Plan{Tombstone: []string{"b", "c"}}},
		{"equal streams: least bandwidth goes first",
			[]PodSample{pod("a", A, 10, 300), pod("b", A, 10, 100), pod("c", A, 10, 200)}, 2,
			Plan{Tombstone: []string{"b"}}},
		{"a pod whose streams are unknown is chosen last",
			[]PodSample{pod("blind", A, nan, 0), pod("busy", A, 90, 9)}, 1,
			Plan{Tombstone: []string{"busy"}}},
		{"scale-out revives tombstoned pods, most streams first, before creating any",
			[]PodSample{pod("a", A, 50, 1), pod("t1", T, 3, 1), pod("t2", T, 20, 1), pod("t3", T, 9, 1)}, 3,
			Plan{Revive: []string{"t2", "t3"}}},
		{"scale-out beyond the tombstoned pods creates the rest",
			[]PodSample{pod("a", A, 50, 1), pod("t1", T, 3, 1)}, 4,
			Plan{Revive: []string{"t1"}, Create: 2}},
		{"deletable pods are never revived",
			[]PodSample{pod("a", A, 50, 1), pod("gone", D, 0, 0)}, 2,
			Plan{Create: 1}},
		{"scale-in cancels starting pods first, newest first",
			[]PodSample{pod("a", A, 1, 1), newer(pod("i1", I, 0, 0), time.Second), newer(pod("i2", I, 0, 0), 2*time.Second)}, 2,
			Plan{Cancel: []string{"i2"}}},
		{"scale-in past the starting pods tombstones allocated ones",
			[]PodSample{pod("a", A, 1, 1), pod("b", A, 7, 1), pod("i1", I, 0, 0)}, 1,
			Plan{Cancel: []string{"i1"}, Tombstone: []string{"a"}}},
		{"at the desired size nothing changes, tombstoned pods keep draining",
			[]PodSample{pod("a", A, 1, 1), pod("t", T, 7, 1)}, 1,
			Plan{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := PlanScale(c.pods, 0, c.desired)
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestPlanScaleCountsPendingPods(t *testing.T) {
	ps := []PodSample{pod("a", statemachine.Allocated, 50, 1)}
	if got := PlanScale(ps, 2, 3); !reflect.DeepEqual(got, Plan{}) {
		t.Fatalf("two pods already asked for make three: got %+v", got)
	}
	if got := PlanScale(ps, 2, 5); got.Create != 2 {
		t.Fatalf("5 wanted, 3 serving or pending: create 2, got %+v", got)
	}
	// Asked-for pods have no name and are not Ready: Ready pods are not drained in their
	// favour; with 3 allocated, 2 pending and 2 desired, only one allocated pod goes.
	three := append(ps, pod("b", statemachine.Allocated, 1, 1), pod("c", statemachine.Allocated, 9, 1))
	if got := PlanScale(three, 2, 2); !reflect.DeepEqual(got, Plan{Tombstone: []string{"b"}}) {
		t.Fatalf("got %+v", got)
	}
}

func TestProgress(t *testing.T) {
	s := spec(1, 10, valueMetric(v1alpha1.MetricPullStreams, "100"))
	s.Tombstone = &v1alpha1.TombstoneSpec{IdleStreams: ptr(int32(1))}
	s.Tombstone.DrainTimeout = durationPtr(10 * time.Minute)
	now := t0.Add(5 * time.Minute)
	notReady := pod("starting", statemachine.Init, 0, 0)
	ready := pod("ready", statemachine.Init, 0, 0)
	ready.Ready = true
	drained := pod("drained", statemachine.Tombstone, 1, 1)
	draining := pod("draining", statemachine.Tombstone, 4, 1)
	blind := pod("blind", statemachine.Tombstone, math.NaN(), 1)
	late := pod("late", statemachine.Tombstone, 4, 1)
	late.Since = now.Add(-10 * time.Minute)
	// A lagging source: idle readings taken before the tombstone (players may have joined
	// after them) drain nothing, one taken after drains; the timeout applies either way.
	stale := pod("stale", statemachine.Tombstone, 0, 0)
	stale.Measured = stale.Since
	scraped := pod("scraped", statemachine.Tombstone, 0, 0)
	scraped.Measured = scraped.Since.Add(time.Second)
	staleLate := pod("staleLate", statemachine.Tombstone, 0, 0)
	staleLate.Since, staleLate.Measured = late.Since, late.Since.Add(-time.Second)
	steps, err := Progress([]PodSample{notReady, ready, drained, draining, blind, late, stale, scraped, staleLate, pod("busy", statemachine.Allocated, 50, 1)}, s, now)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Move{}
	for _, st := range steps {
		got[st.Pod] = st
	}
	want := map[string]statemachine.Event{"ready": statemachine.EventReady, "drained": statemachine.EventDrained, "late": statemachine.EventDrainTimeout,
		"scraped": statemachine.EventDrained, "staleLate": statemachine.EventDrainTimeout}
	if len(got) != len(want) {
		t.Fatalf("steps %+v, want exactly %v", steps, want)
	}
	for name, ev := range want {
		if got[name].Transition.Event != ev {
			t.Errorf("%s: got %q, want %q", name, got[name].Transition.Event, ev)
		}
	}
	if !got["late"].Evict || got["late"].Streams != 4 || got["drained"].Evict {
		t.Errorf("only the timed-out pod is evicted, with its 4 streams: %+v", got)
	}
	if got["late"].Transition.InState != 10*time.Minute || got["late"].Transition.To != statemachine.Deletable {
		t.Errorf("late transition = %+v", got["late"].Transition)
	}
}

func TestProgressRejectsACorruptStoredState(t *testing.T) {
	s := spec(1, 10, valueMetric(v1alpha1.MetricPullStreams, "100"))
	p := pod("weird", statemachine.Tombstone, 0, 0)
	p.Since = time.Time{}
	if _, err := Progress([]PodSample{p}, s, t0); err == nil {
		t.Fatal("a tombstoned pod with no entry time must be an error, not a silent drain")
	}
}
