package autoscaler

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/statemachine"
)

// Input is everything one decision looks at.
type Input struct {
	// Now is the decision time.
	Now time.Time
	// Spec is the policy.
	Spec *v1alpha1.ScalingPolicySpec
	// Pods are the target's pods with their samples.
	Pods []PodSample
	// Pending counts pods the workload is still creating: asked for, not yet seen. They
	// count as serving, so a decision never asks twice for the same pod.
	Pending int32
	// SourceFailures counts consecutive failed reads of the metrics source, this one
	// included; 0 when the samples were read.
	SourceFailures int32
	// Forecast is, per metric key, the forecast total load to be ready for: the upper
	// band's maximum over the horizon, margin included. It can only raise the answer.
	Forecast map[string]float64
	// ForecastError is, per metric key, the recent weighted absolute percentage error of
	// the forecast at the horizon; a key without one has no track record yet.
	ForecastError map[string]float64
	// Event names the scheduled event that raised the forecast, if one did.
	Event string
}

// Recommendation is the outcome of one decision.
type Recommendation struct {
	// Replicas is the number of serving (init plus allocated) pods to have.
	Replicas int32
	// Current is the number of serving pods now.
	Current int32
	// Raw is the metrics' answer before stabilization, rate policies and bounds.
	Raw int32
	// Reason says why Replicas is what it is.
	Reason Reason
	// Message is a human sentence for events and conditions.
	Message string
	// Active is false when no metric could be computed.
	Active bool
	// Metrics are the per-metric results, in spec order.
	Metrics []MetricResult
	// Predicted is what the forecasts alone ask for (0 without forecasts).
	Predicted int32
	// Saturated says on which metric the Ready serving pods were full, when they were
	// (behavior.saturation): the fleet then grows at the fastest allowed rate.
	Saturated string
	// Fuller says how a confident forecast ran pods fuller than the target (the metric,
	// its level per pod, the forecast's error), when that made the fleet smaller than the
	// metrics ask for at the target; empty otherwise.
	Fuller string
}

// ImplausibleFactor bounds one pod's sample relative to its metric's per-pod target. A
// media pod's capacity is within a few times its target (an SRS edge sized for 800
// players tops out in the tens of thousands), so a pod reporting more than 100 times its
// target is a broken exporter, not load: the sample is left out as missing, and the
// metric may not shrink the fleet in that pass.
const ImplausibleFactor = 100

// Recommend sizes the serving fleet. The per-metric answer is ceil(total load / per-pod
// target), where the load of tombstoned pods counts too: their viewers leave and come back
// on allocated pods. Missing samples follow the HorizontalPodAutoscaler's conservative
// rules, so they can slow a change but never cause a scale-in; an implausible sample
// (above ImplausibleFactor times the target) is missing and also holds scale-in. hist
// carries stabilization and rate history between calls; Recommend records this call's raw
// answer in it.
func Recommend(in Input, hist *History) Recommendation {
	current := in.Pending
	for _, p := range in.Pods {
		if p.serving() {
			current++
		}
	}
	rec := Recommendation{Current: current, Active: true}
	if in.SourceFailures > 0 {
		return fallback(in, current, hist)
	}
	raw, anyValid, anyInvalid, implausible := int32(0), false, false, false
	for _, m := range in.Spec.Metrics {
		r := metricDesired(m, in.Pods, current, in.Spec)
		rec.Metrics = append(rec.Metrics, r)
		implausible = implausible || len(r.Implausible) > 0
		if !r.Valid {
			anyInvalid = true
			continue
		}
		anyValid = true
		raw = max(raw, r.Desired)
	}
	switch {
	case !anyValid:
		rec.Active = false
		rec.Raw = current
		rec.Replicas = clamp(current, in.Spec.Min(), in.Spec.MaxReplicas)
		rec.Reason = ReasonFailedGetMetrics
		rec.Message = "no metric could be computed; holding the serving fleet"
		if rec.Replicas != current {
			rec.Message = fmt.Sprintf("no metric could be computed; moving %d serving pods into bounds [%d, %d]", current, in.Spec.Min(), in.Spec.MaxReplicas)
		}
		rec.Message += implausibleNote(rec.Metrics)
		return rec
	case (anyInvalid || implausible) && raw < current:
		// An invalid metric may be the one that is hot, and so may the pod whose exporter
		// is broken: allow growth, never shrink.
		rec.Raw = current
		replicas, reason, msg := Normalize(in.Now, in.Spec, current, current, hist)
		if reason == ReasonDesiredWithinRange {
			reason, msg = ReasonMissingMetricsHeld, "a metric could not be computed; scale-in held"
			if !anyInvalid {
				msg = "a pod's sample was implausible; scale-in held"
			}
		}
		rec.Replicas, rec.Reason, rec.Message = replicas, reason, msg+implausibleNote(rec.Metrics)
		return rec
	}
	// Full pods refuse what is above their capacity and report only what they carry, so
	// their metrics under-state demand: grow at the fastest allowed rate from the Ready
	// serving pods, by at most growthPercent of them, until they are no longer full.
	if base, note := saturated(in.Spec, in.Pods, rec.Metrics); base > 0 {
		growth := ceilReplicas(float64(base) * float64(100+in.Spec.SaturationGrowthPercent()) / 100)
		if fast := min(fastestUp(in.Spec, base), growth); fast > raw {
			raw, rec.Saturated = fast, note
		}
	}
	// A forecast scales out ahead of the load. It is the upper band over the horizon, so
	// it is held against what a pod can carry (the saturation level when set, else the
	// target): a narrow band keeps little spare, a wide one more. Without a record of its
	// error it never takes the fleet below the metrics' answer at the target; with one
	// (forecastSized) the load now may run pods fuller. Only a forecast beyond the
	// scale-up tolerance moves the fleet, so that it does not resize it at every bucket.
	predicted := int32(0)
	fill := 1.0
	if sat := float64(in.Spec.SaturationPercent()) / 100; sat > 1 {
		fill = sat
	}
	for i := range rec.Metrics {
		m := &rec.Metrics[i]
		f, ok := usableForecast(in, m.Key)
		if !ok || !m.Valid {
			continue
		}
		m.Forecast, m.ForecastDesired = f, ceilReplicas(f/(m.Target*fill))
		predicted = max(predicted, m.ForecastDesired)
	}
	rec.Predicted = predicted
	if sized, now, note, ok := forecastSized(in, rec.Metrics, fill); ok {
		// A confident forecast runs pods fuller: its upper band already keeps the spare
		// for what may come within a start-up, so the load now needs less spare than the
		// target keeps. The forecast alone still never takes the fleet below the load now
		// at that level, and only moves it beyond the tolerances; the load now scales out
		// as soon as it needs more pods.
		up, down := in.Spec.Rules(v1alpha1.Up).Tolerance, in.Spec.Rules(v1alpha1.Down).Tolerance
		if (sized > current && float64(sized) <= float64(current)*(1+up) && now <= current) ||
			(sized < current && float64(sized) >= float64(current)*(1-down)) {
			sized = current
		}
		if rec.Saturated == "" {
			if sized < raw {
				rec.Fuller = fmt.Sprintf("%s; %d serving pods where the target asks for %d", note, sized, raw)
			}
			raw = sized
		} else {
			raw = max(raw, sized)
		}
	} else if predicted > raw {
		if float64(predicted) > float64(current)*(1+in.Spec.Rules(v1alpha1.Up).Tolerance) {
			raw = predicted
		} else {
			// Within the tolerance the forecast moves nothing up, but it keeps the pods it
			// asked for: without this hold, the fleet it grew would shrink back to the
			// metrics' answer and grow again at the next bucket.
			raw = max(raw, min(predicted, current))
		}
	}
	rec.Raw = raw
	rec.Replicas, rec.Reason, rec.Message = Normalize(in.Now, in.Spec, current, raw, hist)
	if predicted > 0 && raw == predicted && rec.Replicas > current {
		why := "forecast"
		if in.Event != "" {
			why = fmt.Sprintf("forecast (scheduled event %q)", in.Event)
		}
		rec.Message = fmt.Sprintf("%s asks for %d serving pods ahead of the load; %s", why, predicted, rec.Message)
	} else if rec.Saturated != "" && rec.Replicas > current {
		rec.Message = fmt.Sprintf("serving pods saturated (%s): growing at the fastest allowed rate, to %d; %s", rec.Saturated, raw, rec.Message)
	} else if rec.Fuller != "" {
		rec.Message = fmt.Sprintf("pods run fuller on a confident forecast (%s); %s", rec.Fuller, rec.Message)
	}
	rec.Message += implausibleNote(rec.Metrics)
	return rec
}

// implausibleNote names, for the message, the first implausible sample of each metric.
func implausibleNote(metrics []MetricResult) string {
	var b strings.Builder
	for _, m := range metrics {
		if len(m.Implausible) == 0 {
			continue
		}
		first := m.Implausible[0]
		fmt.Fprintf(&b, "; %s: pod %s reported %g, above %d times the per-pod target %g, and is left out as missing", m.Key, first.Pod, first.Value, ImplausibleFactor, m.Target)
		if n := len(m.Implausible); n > 1 {
			fmt.Fprintf(&b, " (%d pods)", n)
		}
	}
	return b.String()
}

// fallback decides while the metrics source fails: hold the serving fleet, or, with a
// fixed fallback after failureThreshold failures, raise it to at least the fallback
// size. Blind, the fleet never shrinks.
func fallback(in Input, current int32, hist *History) Recommendation {
	rec := Recommendation{Current: current, Raw: current, Reason: ReasonFailedGetMetrics, Active: false}
	floor, fixed := in.Spec.FallbackReplicas()
	threshold := in.Spec.FailureThreshold()
	if fixed && in.SourceFailures >= threshold && floor > current {
		rec.Raw = floor
		replicas, reason, msg := Normalize(in.Now, in.Spec, current, floor, hist)
		rec.Replicas, rec.Message = replicas, fmt.Sprintf("metrics source failed %d times in a row: fallback to at least %d serving pods (%s: %s)", in.SourceFailures, floor, reason, msg)
		rec.Reason = ReasonFallback
		return rec
	}
	rec.Replicas = clamp(current, in.Spec.Min(), in.Spec.MaxReplicas)
	rec.Message = fmt.Sprintf("metrics source failed %d time(s) in a row; holding the serving fleet", in.SourceFailures)
	return rec
}

// metricDesired applies one metric to the pods.
func metricDesired(m v1alpha1.MetricSpec, pods []PodSample, current int32, spec *v1alpha1.ScalingPolicySpec) MetricResult {
	key := m.Key()
	r := MetricResult{Key: key, Type: m.Type, Target: m.TargetValue()}
	if !(r.Target > 0) || math.IsInf(r.Target, 1) {
		return r
	}
	limit := ImplausibleFactor * r.Target
	value := func(p PodSample) (float64, bool) {
		v, ok := p.Value(key)
		if ok && v > limit {
			r.Implausible = append(r.Implausible, PodValue{Pod: p.Name, Value: v})
			return 0, false
		}
		return v, ok
	}
	known := 0
	for _, p := range pods {
		switch p.State {
		case statemachine.Init:
			// Starting pods carry no load; a sample, if any, still counts.
			if v, ok := value(p); ok {
				r.Total += v
			}
		case statemachine.Allocated, statemachine.Tombstone:
			if v, ok := value(p); ok {
				r.Total += v
				known++
			} else {
				r.Missing++
			}
		}
	}
	if (known == 0 && r.Missing > 0) || math.IsInf(r.Total, 1) {
		return r
	}
	r.Valid = true
	desired := ceilReplicas(r.Total / r.Target)
	if desired < current && r.Missing > 0 {
		// Scaling in: assume every pod we cannot see is exactly at target.
		desired = ceilReplicas((r.Total + float64(r.Missing)*r.Target) / r.Target)
		if desired >= current {
			desired = current
		}
	}
	if current > 0 && desired != current {
		ratio := r.Total / (r.Target * float64(current))
		if desired < current && r.Missing > 0 {
			ratio = (r.Total + float64(r.Missing)*r.Target) / (r.Target * float64(current))
		}
		tol := spec.Rules(v1alpha1.Down).Tolerance
		if ratio > 1 {
			tol = spec.Rules(v1alpha1.Up).Tolerance
		}
		if math.Abs(ratio-1) <= tol {
			desired = current
		}
	}
	r.Desired = desired
	return r
}

// ceilReplicas rounds up, forgiving floating-point noise such as 3.0000000000004. A
// negative answer is 0; one beyond int32 is MaxInt32, which maxReplicas then caps.
func ceilReplicas(x float64) int32 {
	return max(0, saturateInt32(math.Ceil(x-1e-9)))
}

// saturateInt32 truncates x toward zero into int32, saturating at the type's bounds. Go
// leaves converting an out-of-range float to an integer to the platform (amd64 gives
// MinInt32 for +1e308), so every float count goes through here. NaN, which the callers
// rule out, is 0.
func saturateInt32(x float64) int32 {
	switch {
	case math.IsNaN(x):
		return 0
	case x >= math.MaxInt32:
		return math.MaxInt32
	case x <= math.MinInt32:
		return math.MinInt32
	}
	return int32(x)
}

func clamp(v, lo, hi int32) int32 {
	return max(lo, min(v, hi))
}

// saturated reports whether the Ready serving pods are full: together they refuse at
// least behavior.saturation.refusedStreamsPerSecond new streams, or on some valid metric
// their mean sample is at least behavior.saturation.utilizationPercent of its per-pod
// target. It returns how many Ready serving pods there are (the base to grow from) and
// what was seen, or 0 when not saturated or the rule is off. The utilization test needs
// a valid, plausible sample from every Ready serving pod: missing data never makes the
// fleet grow faster.
func saturated(spec *v1alpha1.ScalingPolicySpec, pods []PodSample, metrics []MetricResult) (int32, string) {
	threshold := float64(spec.SaturationPercent()) / 100
	refusedAt := spec.RefusedThreshold()
	if threshold <= 0 && !(refusedAt > 0) {
		return 0, ""
	}
	var ready []PodSample
	for _, p := range pods {
		if p.takesViewers() {
			ready = append(ready, p)
		}
	}
	// The mean use of each valid metric over the Ready pods: at the utilization level the
	// pods are full (every one needs a sample: a pod without one, a new pod a lagging
	// source has not scraped yet, may be taking the load the others report).
	use := 0.0
	for _, m := range metrics {
		if !m.Valid || !(m.Target > 0) {
			continue
		}
		sum, n := 0.0, 0
		for _, p := range ready {
			if v, ok := p.Value(m.Key); ok && v <= ImplausibleFactor*m.Target {
				sum, n = sum+v, n+1
			}
		}
		if n == 0 {
			continue
		}
		u := sum / (float64(n) * m.Target)
		if threshold > 0 && n == len(ready) && u >= threshold {
			return int32(len(ready)), fmt.Sprintf("%s at %.0f%% of its target on %d Ready serving pods", m.Key, 100*u, n)
		}
		use = max(use, u)
	}
	// Refusals are demand the pods turned away, whichever pods report them; a pod without
	// the reading refuses nothing. They count only while the pods carry at least their
	// target on some metric: pods that refuse with room to spare point at a broken
	// reading or dispatcher, and growing would not stop it (the fleet would run to its
	// maximum).
	if refusedAt > 0 && use >= 1 {
		refused, n := 0.0, 0
		for _, p := range ready {
			if v, ok := p.Value(v1alpha1.KeyRefusedStreams); ok {
				refused, n = refused+v, n+1
			}
		}
		if refused >= refusedAt {
			return int32(len(ready)), fmt.Sprintf("%s: %.3g new streams/s refused by %d Ready serving pods", v1alpha1.KeyRefusedStreams, refused, n)
		}
	}
	return 0, ""
}

// fastestUp is the most serving pods behavior.scaleUp's rate policies allow in one
// period from base pods.
func fastestUp(spec *v1alpha1.ScalingPolicySpec, base int32) int32 {
	r := spec.Rules(v1alpha1.Up)
	if r.Select == v1alpha1.SelectDisabled || len(r.Policies) == 0 {
		return base
	}
	// The rate policies' own arithmetic, with no scale event in any period yet.
	return scaleUpLimit(time.Time{}, base, r, &History{})
}

// forecastSized is the fleet a confident forecast asks for (see Recommend): per metric
// the larger of the forecast's answer and the load now held at a level between the
// target and the saturation level, graded by the forecast's recent error. now is the
// latter alone. ok is false, and the caller keeps the metrics' answer at the target, when
// saturation is off, a scheduled event raised the forecast, or some valid metric has no
// usable forecast (none, NaN, infinite or negative), no error record yet, or a missing or
// implausible sample.
func forecastSized(in Input, metrics []MetricResult, fill float64) (sized, now int32, note string, ok bool) {
	if fill <= 1 || in.Event != "" {
		return 0, 0, "", false
	}
	for _, m := range metrics {
		if !m.Valid {
			continue
		}
		_, forecast := usableForecast(in, m.Key)
		e, known := in.ForecastError[m.Key]
		if !forecast || !known || e < 0 || math.IsNaN(e) || m.Missing > 0 || len(m.Implausible) > 0 {
			return 0, 0, "", false
		}
		confidence := max(0, 1-e/ConfidentErrorPercent)
		level := 1 + (fill-1)*confidence/2
		if n := ceilReplicas(m.Total / (m.Target * level)); n > now || note == "" {
			now = max(now, n)
			note = fmt.Sprintf("%s held at %.3g per pod against a target of %.3g, forecast error %.3g%%", m.Key, m.Target*level, m.Target, e)
		}
		sized = max(sized, m.ForecastDesired, now)
	}
	return sized, now, note, sized > 0
}

// usableForecast is the forecast for key when there is one a fleet can be sized by: not
// NaN, infinite or negative.
func usableForecast(in Input, key string) (float64, bool) {
	f, ok := in.Forecast[key]
	return f, ok && !math.IsNaN(f) && !math.IsInf(f, 0) && f >= 0
}

// ConfidentErrorPercent is the forecast error (recent weighted absolute percentage error
// at the horizon) at and above which a forecast earns no fuller pods; at 0% the load now
// is held halfway between the target and the saturation level.
const ConfidentErrorPercent = 20
