package simulate

import (
	"testing"
	"time"
)

func TestDispatchPrefers(t *testing.T) {
	for _, c := range []struct {
		d    Dispatch
		a, b int
		want bool
	}{
		{DispatchSpread, 3, 7, true},
		{DispatchSpread, 7, 3, false},
		{DispatchSpread, 5, 5, false},
		{DispatchPacked, 7, 3, true},
		{DispatchPacked, 3, 7, false},
		{DispatchPacked, 5, 5, false},
	} {
		if got := c.d.Prefers(c.a, c.b); got != c.want {
			t.Errorf("%s: Prefers(%d, %d) = %v, want %v", c.d, c.a, c.b, got, c.want)
		}
	}
	for d, want := range map[Dispatch]bool{DispatchSpread: true, DispatchPacked: true, "": false, "random": false, "Packed": false} {
		if got := d.Valid(); got != want {
			t.Errorf("Dispatch(%q).Valid() = %v, want %v", d, got, want)
		}
	}
}

// TestPlaceFollowsTheDispatch: spread puts a new stream on the least-loaded pod, packed on
// the fullest one below capacity; neither goes to a full pod or one that may not take it.
func TestPlaceFollowsTheDispatch(t *testing.T) {
	for _, c := range []struct {
		d    Dispatch
		want string
	}{{DispatchSpread, "media-00002"}, {DispatchPacked, "media-00004"}} {
		p := Defaults()
		p.Dispatch = c.d
		d := evening(t)
		w := arrivals(d, p)
		f := newFleet(p, &w, d, func(q *pod) bool { return q.name != "media-00001" })
		loads := []int{0, 10, 50, 99, 100} // media-00001 takes no streams; media-00005 is full
		id := 0
		for _, n := range loads {
			q := f.addPod(d.Start, true)
			q.streams = n
		}
		if !f.place(id, nil) {
			t.Fatalf("%s: no pod took the stream", c.d)
		}
		got := f.all[f.owner[id]]
		if got.name != c.want {
			t.Errorf("%s: stream placed on %s (%d streams), want %s", c.d, got.name, got.streams-1, c.want)
		}
	}
}

// TestPackedDispatchEvictsFewer: on the same arrivals and sessions, a packed dispatcher
// leaves the pods a scale-in drains emptier than a spread one, so fewer players are still
// on them at the drain timeout; the controller's decisions are the same code either way.
func TestPackedDispatchEvictsFewer(t *testing.T) {
	run := func(d Dispatch) Result {
		rep, err := Run(evening(t), edgeSpec(10*time.Minute), Profile{SessionMeanSeconds: 600, Dispatch: d})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Profile.Dispatch != d {
			t.Fatalf("report's profile dispatches %q, want %q", rep.Profile.Dispatch, d)
		}
		return byPolicy(t, rep)[PolicyReactive]
	}
	spread, packed := run(DispatchSpread), run(DispatchPacked)
	t.Logf("reactive, spread: %d evicted, %.1f pod-hours; packed: %d evicted, %.1f pod-hours", spread.EvictedStreams, spread.PodHours, packed.EvictedStreams, packed.PodHours)
	if spread.EvictedStreams == 0 {
		t.Fatalf("spread evicted nothing: the drain timeout is too long for the test to show anything")
	}
	if 4*packed.EvictedStreams > 3*spread.EvictedStreams {
		t.Errorf("packed evicted %d streams, want at most three quarters of spread's %d", packed.EvictedStreams, spread.EvictedStreams)
	}
	if packed.PodHours > 1.01*spread.PodHours {
		t.Errorf("packed paid %.1f pod-hours, more than 1%% above spread's %.1f", packed.PodHours, spread.PodHours)
	}
	if packed.LostStreams != 0 || spread.LostStreams != 0 {
		t.Errorf("lost streams: spread %d, packed %d, want none", spread.LostStreams, packed.LostStreams)
	}
}
