package autoscaler

import (
	"math"
	"slices"
	"time"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

// EventLoad is what a scheduled event asks the fleet to be ready for.
type EventLoad struct {
	// Load is, per metric, the load to be ready for a horizon ahead.
	Load map[string]float64
	// Event names the event in effect ("" when none is).
	Event string
}

// EventLoad returns, per metric, the load a scheduled event asks for at now: for an event
// whose window (eventLead before its start until its end) holds now, the load just before
// the window times the event's lift over the forecast horizon. The lift is the event's
// liftPercent; without one, the course past events took (their load over the load just
// before their window, step by step, the median over events), read from now to a horizon
// ahead, so the fleet follows the ramp of a typical event rather than jump to its peak.
// A learned load is at most the most load the history holds (an event's liftPercent is
// taken as written). A metric without history from before the window, or without a past
// event to learn from when the event names no lift, gets nothing. Overlapping events take
// the larger load.
func (f *LoadForecaster) EventLoad(now time.Time, spec *v1alpha1.ScalingPolicySpec) EventLoad {
	out := EventLoad{Load: map[string]float64{}}
	if spec.Prediction == nil || len(spec.Prediction.Events) == 0 {
		return out
	}
	lead := spec.EventLead()
	horizon := f.horizonSteps()
	for key, h := range f.series {
		for _, e := range spec.Prediction.Events {
			open := e.Start.Add(-lead)
			end := e.Start.Add(e.Duration.Duration)
			if now.Before(open) || !now.Before(end) {
				continue
			}
			base, ok := h.at(open.Add(-f.step), f.step)
			if !ok || !(base > 0) {
				continue
			}
			k := int(now.Sub(open) / f.step)
			lift, ceiling := 0.0, math.Inf(1)
			if e.LiftPercent != nil {
				lift = float64(*e.LiftPercent) / 100
			} else {
				curve := f.eventCurve(h, spec.Prediction.Events, lead, now)
				for i := k; i <= k+horizon && i < len(curve); i++ {
					lift = max(lift, curve[i])
				}
				// A learned lift is a ratio, and a past event that opened on a quiet
				// baseline (a stream or two at night) teaches a huge one: it never asks
				// for more than the most load the history holds.
				ceiling = slices.Max(h.values)
			}
			if v := min(base*lift, ceiling); v > out.Load[key] && !math.IsInf(v, 0) {
				out.Load[key], out.Event = v, e.Name
			}
		}
	}
	return out
}

// eventCurve is the typical course of a past event, step by step from the opening of its
// window: per step, the median over the past events in the history of their load over the
// load just before their window.
// It is kept until the next bucket closes, so a pass reads it rather than relearn it.
func (f *LoadForecaster) eventCurve(h *loadHistory, events []v1alpha1.ScheduledEvent, lead time.Duration, now time.Time) []float64 {
	if h.curveFor.end.Equal(h.end) && h.curveFor.events == len(events) && h.curveFor.lead == lead {
		return h.curve
	}
	h.curve = learnCurve(h, events, lead, now, f.step)
	h.curveFor.end, h.curveFor.events, h.curveFor.lead = h.end, len(events), lead
	return h.curve
}

func learnCurve(h *loadHistory, events []v1alpha1.ScheduledEvent, lead time.Duration, now time.Time, step time.Duration) []float64 {
	var courses [][]float64
	for _, e := range events {
		open := e.Start.Add(-lead)
		end := e.Start.Add(e.Duration.Duration)
		if end.After(now) || end.After(h.end.Add(-step)) {
			continue // not over, or not all in the history
		}
		base, ok := h.at(open.Add(-step), step)
		if !ok || !(base > 0) {
			continue
		}
		var c []float64
		for t := open; t.Before(end); t = t.Add(step) {
			v, ok := h.at(t, step)
			if !ok {
				break
			}
			c = append(c, v/base)
		}
		if len(c) > 0 {
			courses = append(courses, c)
		}
	}
	var curve []float64
	for i := 0; ; i++ {
		var at []float64
		for _, c := range courses {
			if i < len(c) {
				at = append(at, c[i])
			}
		}
		if len(at) == 0 {
			return curve
		}
		slices.Sort(at)
		m := at[len(at)/2]
		if len(at)%2 == 0 {
			m = (at[len(at)/2-1] + at[len(at)/2]) / 2
		}
		curve = append(curve, m)
	}
}

// at returns the closed bucket that holds t.
func (h *loadHistory) at(t time.Time, step time.Duration) (float64, bool) {
	// values[i] covers [first + i*step, first + (i+1)*step); the last ends where the open
	// bucket begins.
	first := h.end.Add(-time.Duration(len(h.values)+1) * step)
	if t.Before(first) {
		return 0, false
	}
	i := int(t.Sub(first) / step)
	if i >= len(h.values) {
		return 0, false
	}
	return h.values[i], true
}
