package autoscaler

import (
	"math"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

// TestEventLoad: a scheduled event raises the forecast from its lead until its end, by its
// own lift or by the course past events took, read a horizon ahead.
func TestEventLoad(t *testing.T) {
	day := 24 * time.Hour
	start := func(d int) time.Time { return t0.Add(time.Duration(d)*day + 10*time.Hour) }
	event := func(name string, d int, lift *int32) v1alpha1.ScheduledEvent {
		return v1alpha1.ScheduledEvent{Name: name, Start: metav1.NewTime(start(d)), Duration: metav1.Duration{Duration: 2 * time.Hour}, LiftPercent: lift}
	}
	spec := spec(1, 100, valueMetric(v1alpha1.MetricPullStreams, "100"))
	spec.Prediction = &v1alpha1.PredictionSpec{
		Enabled: true, Horizon: &metav1.Duration{Duration: 5 * time.Minute},
		Events: []v1alpha1.ScheduledEvent{event("day 0", 0, nil), event("day 1", 1, nil), event("day 2", 2, nil), event("day 2 late", 2, ptr(int32(250)))},
	}
	spec.Prediction.Events[3].Start = metav1.NewTime(start(2).Add(6 * time.Hour))
	// The load: 100, rising to 200 over the 15 min before each past event, 300 during it.
	load := func(at time.Time) float64 {
		for d := range 2 {
			s := start(d)
			switch {
			case !at.Before(s.Add(-15*time.Minute)) && at.Before(s):
				return 200 - 100*float64(s.Sub(at))/float64(15*time.Minute)
			case !at.Before(s) && at.Before(s.Add(2*time.Hour)):
				return 300
			}
		}
		return 100
	}
	f, err := NewLoadForecaster(spec, time.Minute, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	observed := t0
	at := func(now time.Time) EventLoad {
		for ; !observed.After(now); observed = observed.Add(time.Minute) {
			f.Observe(observed, map[string]float64{"pullStreams": load(observed)})
		}
		return f.EventLoad(now, spec)
	}
	cases := []struct {
		name  string
		now   time.Time
		want  float64 // 0: nothing
		event string
	}{
		{"before the first event's lead nothing is known", start(0).Add(-16 * time.Minute), 0, ""},
		{"the first event has no past to learn from", start(0), 0, ""},
		{"between events nothing", start(1).Add(-16 * time.Minute), 0, ""},
		// At the lead the ramp 5 min ahead: (100 + 100*5/15)/100 of the load before.
		{"the lead opens: the ramp a horizon ahead", start(1).Add(-15 * time.Minute), 100 + 100*5.0/15, "day 1"},
		{"at the start: the event's level", start(1), 300, "day 1"},
		{"after the end nothing", start(1).Add(2 * time.Hour), 0, ""},
		{"two past events: the median course", start(2).Add(-5 * time.Minute), 300, "day 2"},
		{"an event's own lift, from the load before its window", start(2).Add(6*time.Hour - 15*time.Minute), 250, "day 2 late"},
	}
	for _, c := range cases {
		got := at(c.now)
		v, ok := got.Load["pullStreams"]
		if c.want == 0 {
			if ok {
				t.Errorf("%s: got %v (%q), want nothing", c.name, v, got.Event)
			}
			continue
		}
		if math.Abs(v-c.want) > 1e-6 || got.Event != c.event {
			t.Errorf("%s: got %v (%q), want %v (%q)", c.name, v, got.Event, c.want, c.event)
		}
	}

	// The decision pass sizes the fleet for it ahead of the load, and says why: the pods
	// carry the load before the window (100 streams on 2 pods), the event asks for 300.
	now := start(2).Add(6*time.Hour - 10*time.Minute)
	at(now)
	mem := &Memory{Forecaster: f, started: true}
	o, err := Decide(Snapshot{Now: now, Spec: spec, Pods: pods(2, map[string]float64{pull: 50}), Replicas: 2}, mem)
	if err != nil {
		t.Fatal(err)
	}
	if rec := o.Recommendation; rec == nil || rec.Replicas != 3 || !strings.Contains(rec.Message, `scheduled event "day 2 late"`) {
		t.Errorf("recommendation %+v: want 3 pods for the event, named in the message", rec)
	}
}

// TestLearnedEventLoadStaysWithinHistory: a past event that opened on a quiet baseline (1
// stream, then 300) teaches a lift of 300x; read from the next event's baseline of 100 it
// would ask for 30,000 streams and send the fleet to its maximum. The learned load stops at
// the most load the history holds; an explicit liftPercent is taken as written.
func TestLearnedEventLoadStaysWithinHistory(t *testing.T) {
	day := 24 * time.Hour
	start := func(d int) time.Time { return t0.Add(time.Duration(d)*day + 10*time.Hour) }
	spec := spec(1, 1000, valueMetric(v1alpha1.MetricPullStreams, "100"))
	spec.Prediction = &v1alpha1.PredictionSpec{
		Enabled: true, Horizon: &metav1.Duration{Duration: 5 * time.Minute},
		Events: []v1alpha1.ScheduledEvent{
			{Name: "night", Start: metav1.NewTime(start(0)), Duration: metav1.Duration{Duration: time.Hour}},
			{Name: "day", Start: metav1.NewTime(start(1)), Duration: metav1.Duration{Duration: time.Hour}},
			{Name: "day, lift given", Start: metav1.NewTime(start(1).Add(3 * time.Hour)), Duration: metav1.Duration{Duration: time.Hour}, LiftPercent: ptr(int32(400))},
		},
	}
	load := func(at time.Time) float64 {
		switch {
		case at.Before(start(0).Add(time.Hour)) && !at.Before(start(0)):
			return 300
		case at.Before(start(0).Add(time.Hour)):
			return 1
		}
		return 100
	}
	f, err := NewLoadForecaster(spec, time.Minute, 3*day)
	if err != nil {
		t.Fatal(err)
	}
	for at := t0; !at.After(start(1).Add(3 * time.Hour)); at = at.Add(time.Minute) {
		f.Observe(at, map[string]float64{"pullStreams": load(at)})
		if at.Equal(start(1)) {
			if got := f.EventLoad(at, spec).Load["pullStreams"]; got != 300 {
				t.Errorf("learned from a quiet baseline: %v streams, want 300 (the most the history holds)", got)
			}
		}
	}
	if got := f.EventLoad(start(1).Add(3*time.Hour), spec).Load["pullStreams"]; got != 400 {
		t.Errorf("liftPercent 400 on a load of 100: %v, want 400 as written", got)
	}
}
