package autoscaler

import (
	"fmt"
	"math"
	"time"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

// History is what stabilization and rate policies remember between decisions. It is kept
// by the caller (the controller per policy, the simulator per run) and is small: entries
// older than the longest window or period are dropped.
type History struct {
	// Recommendations are raw answers with their times, oldest first.
	Recommendations []Timed
	// Events are changes of the serving pod count, oldest first.
	Events []ScaleEvent
}

// Timed is a raw recommendation at a time.
type Timed struct {
	At       time.Time
	Replicas int32
}

// ScaleEvent is a change of the serving pod count: positive for scale-out.
type ScaleEvent struct {
	At    time.Time
	Delta int32
}

// RecordScale notes that the serving fleet went from one size to another.
func (h *History) RecordScale(at time.Time, from, to int32) {
	if from != to {
		h.Events = append(h.Events, ScaleEvent{At: at, Delta: to - from})
	}
}

// changeInPeriod sums additions and removals after now-period.
func (h *History) changeInPeriod(now time.Time, period time.Duration) (added, removed int32) {
	cutoff := now.Add(-period)
	for _, e := range h.Events {
		if !e.At.After(cutoff) {
			continue
		}
		if e.Delta > 0 {
			added += e.Delta
		} else {
			removed -= e.Delta
		}
	}
	return added, removed
}

// trim drops entries no window or period can still see.
func (h *History) trim(now time.Time, keep time.Duration) {
	cutoff := now.Add(-keep)
	i := 0
	for i < len(h.Recommendations) && !h.Recommendations[i].At.After(cutoff) {
		i++
	}
	h.Recommendations = h.Recommendations[i:]
	j := 0
	for j < len(h.Events) && !h.Events[j].At.After(cutoff) {
		j++
	}
	h.Events = h.Events[j:]
}

// Normalize turns the metrics' raw answer into the serving pod count to have, with the
// HorizontalPodAutoscaler's behavior semantics: stabilization windows, then rate policies,
// then minReplicas and maxReplicas. It records raw in hist.
func Normalize(now time.Time, spec *v1alpha1.ScalingPolicySpec, current, raw int32, hist *History) (int32, Reason, string) {
	up, down := spec.Rules(v1alpha1.Up), spec.Rules(v1alpha1.Down)

	// 1. Stabilize: scale up to the lowest recent answer, down to the highest.
	upRec, downRec := raw, raw
	for _, r := range hist.Recommendations {
		if r.At.After(now.Add(-up.Window)) {
			upRec = min(upRec, r.Replicas)
		}
		if r.At.After(now.Add(-down.Window)) {
			downRec = max(downRec, r.Replicas)
		}
	}
	hist.Recommendations = append(hist.Recommendations, Timed{At: now, Replicas: raw})
	hist.trim(now, maxKeep(up, down))

	desired, reason, msg := current, ReasonDesiredWithinRange, "the recommended size is within range"
	if desired < upRec {
		desired = upRec
	}
	if desired > downRec {
		desired = downRec
	}
	if desired != raw {
		if raw < current {
			reason, msg = ReasonScaleDownStabilized, fmt.Sprintf("recent recommendations were higher than %d (scale-down window %s)", raw, down.Window)
		} else if raw > current {
			reason, msg = ReasonScaleUpStabilized, fmt.Sprintf("recent recommendations were lower than %d (scale-up window %s)", raw, up.Window)
		}
	}

	lo, hi := spec.Min(), spec.MaxReplicas
	// 2. Rate policies, with the bounds folded in as HPA does.
	switch {
	case desired > current:
		limit := scaleUpLimit(now, current, up, hist)
		if up.Select == v1alpha1.SelectDisabled {
			limit = current
		}
		limit = max(limit, current)
		allowed, why := hi, ReasonTooManyReplicas
		if limit < hi {
			allowed, why = limit, ReasonScaleUpLimit
			if up.Select == v1alpha1.SelectDisabled {
				why = ReasonScaleUpDisabled
			}
		}
		if desired > allowed {
			desired, reason, msg = allowed, why, fmt.Sprintf("the desired size %d is above what is allowed now (%d)", desired, allowed)
		}
	case desired < current:
		limit := scaleDownLimit(now, current, down, hist)
		if down.Select == v1alpha1.SelectDisabled {
			limit = current
		}
		limit = min(limit, current)
		allowed, why := lo, ReasonTooFewReplicas
		if limit > lo {
			allowed, why = limit, ReasonScaleDownLimit
			if down.Select == v1alpha1.SelectDisabled {
				why = ReasonScaleDownDisabled
			}
		}
		if desired < allowed {
			desired, reason, msg = allowed, why, fmt.Sprintf("the desired size %d is below what is allowed now (%d)", desired, allowed)
		}
	}
	// 3. Bounds always hold, also when the fleet is outside them already.
	if desired > hi {
		desired, reason, msg = hi, ReasonTooManyReplicas, fmt.Sprintf("capped at maxReplicas %d", hi)
	}
	if desired < lo {
		desired, reason, msg = lo, ReasonTooFewReplicas, fmt.Sprintf("raised to minReplicas %d", lo)
	}
	return desired, reason, msg
}

func maxKeep(up, down v1alpha1.EffectiveRules) time.Duration {
	keep := max(up.Window, down.Window)
	for _, p := range append(append([]v1alpha1.RatePolicy{}, up.Policies...), down.Policies...) {
		keep = max(keep, time.Duration(p.PeriodSeconds)*time.Second)
	}
	return keep
}

// scaleUpLimit is the largest serving count the policies allow now.
func scaleUpLimit(now time.Time, current int32, r v1alpha1.EffectiveRules, hist *History) int32 {
	pick, result := func(a, b int32) int32 { return max(a, b) }, int32(math.MinInt32)
	if r.Select == v1alpha1.SelectMin {
		pick, result = func(a, b int32) int32 { return min(a, b) }, int32(math.MaxInt32)
	}
	for _, p := range r.Policies {
		added, removed := hist.changeInPeriod(now, time.Duration(p.PeriodSeconds)*time.Second)
		start := current - added + removed
		proposed := saturateInt32(math.Ceil(float64(start) * (1 + float64(p.Value)/100)))
		if p.Type == v1alpha1.RatePods {
			proposed = saturateInt32(float64(start) + float64(p.Value))
		}
		result = pick(result, proposed)
	}
	return result
}

// scaleDownLimit is the smallest serving count the policies allow now.
func scaleDownLimit(now time.Time, current int32, r v1alpha1.EffectiveRules, hist *History) int32 {
	pick, result := func(a, b int32) int32 { return min(a, b) }, int32(math.MaxInt32)
	if r.Select == v1alpha1.SelectMin {
		pick, result = func(a, b int32) int32 { return max(a, b) }, int32(math.MinInt32)
	}
	for _, p := range r.Policies {
		added, removed := hist.changeInPeriod(now, time.Duration(p.PeriodSeconds)*time.Second)
		start := current - added + removed
		proposed := saturateInt32(float64(start) * (1 - float64(p.Value)/100))
		if p.Type == v1alpha1.RatePods {
			proposed = saturateInt32(float64(start) - float64(p.Value))
		}
		result = pick(result, proposed)
	}
	return result
}
