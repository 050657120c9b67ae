package v1alpha1

import (
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Validate checks a spec with the same rules the CRD gives the API server (kept in step by
// tests that run both), plus those a schema cannot express, such as a positive quantity.
// Every error carries its field path.
func (s *ScalingPolicySpec) Validate() field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("spec")
	if s.TargetRef.Name == "" {
		errs = append(errs, field.Required(p.Child("targetRef", "name"), "the CloneSet to scale"))
	}
	if s.TargetRef.Kind != "" && s.TargetRef.Kind != "CloneSet" {
		errs = append(errs, field.NotSupported(p.Child("targetRef", "kind"), s.TargetRef.Kind, []string{"CloneSet"}))
	}
	if s.TargetRef.APIVersion != "" && s.TargetRef.APIVersion != "apps.kruise.io/v1alpha1" {
		errs = append(errs, field.NotSupported(p.Child("targetRef", "apiVersion"), s.TargetRef.APIVersion, []string{"apps.kruise.io/v1alpha1"}))
	}
	if s.MinReplicas != nil && *s.MinReplicas < 1 {
		errs = append(errs, field.Invalid(p.Child("minReplicas"), *s.MinReplicas, "must be at least 1"))
	}
	if s.MaxReplicas < 1 {
		errs = append(errs, field.Invalid(p.Child("maxReplicas"), s.MaxReplicas, "must be at least 1"))
	}
	if s.Min() > s.MaxReplicas {
		errs = append(errs, field.Invalid(p.Child("minReplicas"), s.Min(), fmt.Sprintf("must not exceed maxReplicas (%d)", s.MaxReplicas)))
	}
	errs = append(errs, validateMetrics(s.Metrics, p.Child("metrics"))...)
	if s.Behavior != nil {
		errs = append(errs, validateRules(s.Behavior.ScaleUp, p.Child("behavior", "scaleUp"))...)
		errs = append(errs, validateRules(s.Behavior.ScaleDown, p.Child("behavior", "scaleDown"))...)
	}
	if t := s.Tombstone; t != nil {
		tp := p.Child("tombstone")
		if t.DrainTimeout != nil && (t.DrainTimeout.Duration < 0 || t.DrainTimeout.Duration > 24*time.Hour) {
			errs = append(errs, field.Invalid(tp.Child("drainTimeout"), t.DrainTimeout.Duration.String(), "must be between 0s and 24h"))
		}
		if t.IdleStreams != nil && *t.IdleStreams < 0 {
			errs = append(errs, field.Invalid(tp.Child("idleStreams"), *t.IdleStreams, "must not be negative"))
		}
		switch t.EvictionAction {
		case "", EvictNone, EvictSRSKick, EvictHTTPHook:
		default:
			errs = append(errs, field.NotSupported(tp.Child("evictionAction"), t.EvictionAction, []string{string(EvictNone), string(EvictSRSKick), string(EvictHTTPHook)}))
		}
	}
	if ms := s.MetricsSource; ms != nil {
		mp := p.Child("metricsSource")
		switch ms.Type {
		case "", SourcePrometheus, SourceSRS, SourceMetricsAPI, SourceAnnotations:
		default:
			errs = append(errs, field.NotSupported(mp.Child("type"), ms.Type, []string{string(SourcePrometheus), string(SourceSRS), string(SourceMetricsAPI), string(SourceAnnotations)}))
		}
		if ms.MaxSampleAge != nil && (ms.MaxSampleAge.Duration < time.Second || ms.MaxSampleAge.Duration > time.Hour) {
			errs = append(errs, field.Invalid(mp.Child("maxSampleAge"), ms.MaxSampleAge.Duration.String(), "must be between 1s and 1h"))
		}
		if pr := ms.Prometheus; pr != nil && pr.Address != "" && !strings.HasPrefix(pr.Address, "http://") && !strings.HasPrefix(pr.Address, "https://") {
			errs = append(errs, field.Invalid(mp.Child("prometheus", "address"), pr.Address, "must start with http:// or https://"))
		}
		if sr := ms.SRS; sr != nil && sr.Port != 0 && (sr.Port < 1 || sr.Port > 65535) {
			errs = append(errs, field.Invalid(mp.Child("srs", "port"), sr.Port, "must be between 1 and 65535"))
		}
	}
	if fb := s.Fallback; fb != nil {
		fp := p.Child("fallback")
		if fb.FailureThreshold != nil && (*fb.FailureThreshold < 1 || *fb.FailureThreshold > 100) {
			errs = append(errs, field.Invalid(fp.Child("failureThreshold"), *fb.FailureThreshold, "must be between 1 and 100"))
		}
		switch fb.Action {
		case "", FallbackHold:
		case FallbackFixed:
			if fb.Replicas == nil {
				errs = append(errs, field.Required(fp.Child("replicas"), "fallback action fixed needs replicas"))
			}
		default:
			errs = append(errs, field.NotSupported(fp.Child("action"), fb.Action, []string{string(FallbackHold), string(FallbackFixed)}))
		}
		if fb.Replicas != nil && *fb.Replicas < 1 {
			errs = append(errs, field.Invalid(fp.Child("replicas"), *fb.Replicas, "must be at least 1"))
		}
	}
	if pr := s.Prediction; pr != nil {
		pp := p.Child("prediction")
		inRange := func(name string, d *metav1.Duration, lo, hi time.Duration, text string) {
			if d != nil && (d.Duration < lo || d.Duration > hi) {
				errs = append(errs, field.Invalid(pp.Child(name), d.Duration.String(), text))
			}
		}
		inRange("horizon", pr.Horizon, time.Minute, 2*time.Hour, "must be between 1m and 2h")
		inRange("history", pr.History, time.Hour, 28*24*time.Hour, "must be between 1h and 28d")
		inRange("season", pr.Season, 0, 14*24*time.Hour, "must be between 0s and 14d")
		if m := pr.MarginPercent; m != nil && (*m < 0 || *m > 200) {
			errs = append(errs, field.Invalid(pp.Child("marginPercent"), *m, "must be between 0 and 200"))
		}
	}
	if s.SyncPeriod != nil && (s.SyncPeriod.Duration < time.Second || s.SyncPeriod.Duration > 10*time.Minute) {
		errs = append(errs, field.Invalid(p.Child("syncPeriod"), s.SyncPeriod.Duration.String(), "must be between 1s and 10m"))
	}
	return errs
}

func validateMetrics(ms []MetricSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(ms) == 0 {
		errs = append(errs, field.Required(p, "at least one metric"))
	}
	if len(ms) > 10 {
		errs = append(errs, field.TooMany(p, len(ms), 10))
	}
	seen := map[string]int{}
	valid := map[MetricType]bool{}
	for _, t := range MetricTypes() {
		valid[t] = true
	}
	for i, m := range ms {
		mp := p.Index(i)
		if !valid[m.Type] {
			names := make([]string, 0, len(valid))
			for _, t := range MetricTypes() {
				names = append(names, string(t))
			}
			errs = append(errs, field.NotSupported(mp.Child("type"), m.Type, names))
			continue
		}
		if m.Type == MetricCustom && m.Name == "" {
			errs = append(errs, field.Required(mp.Child("name"), "custom metrics need a name"))
		}
		if m.Type != MetricCustom && m.Name != "" {
			errs = append(errs, field.Forbidden(mp.Child("name"), "only custom metrics have a name"))
		}
		if j, dup := seen[m.Key()]; dup {
			errs = append(errs, field.Duplicate(mp, fmt.Sprintf("%s already at metrics[%d]", m.Key(), j)))
		}
		seen[m.Key()] = i
		tp := mp.Child("target")
		hasValue, hasUtil := m.Target.AverageValue != nil, m.Target.AverageUtilization != nil
		switch {
		case hasValue == hasUtil:
			errs = append(errs, field.Invalid(tp, "", "set exactly one of averageValue and averageUtilization"))
		case m.Type.IsUtilization() && !hasUtil:
			errs = append(errs, field.Required(tp.Child("averageUtilization"), fmt.Sprintf("%s takes a utilization percentage", m.Type)))
		case !m.Type.IsUtilization() && !hasValue:
			errs = append(errs, field.Required(tp.Child("averageValue"), fmt.Sprintf("%s takes a per-pod value", m.Type)))
		case hasUtil && (*m.Target.AverageUtilization < 1 || *m.Target.AverageUtilization > 1000):
			errs = append(errs, field.Invalid(tp.Child("averageUtilization"), *m.Target.AverageUtilization, "must be between 1 and 1000"))
		case hasValue && m.Target.AverageValue.Sign() <= 0:
			errs = append(errs, field.Invalid(tp.Child("averageValue"), m.Target.AverageValue.String(), "must be greater than zero"))
		}
	}
	return errs
}

func validateRules(r *ScalingRules, p *field.Path) field.ErrorList {
	if r == nil {
		return nil
	}
	var errs field.ErrorList
	if w := r.StabilizationWindowSeconds; w != nil && (*w < 0 || *w > 3600) {
		errs = append(errs, field.Invalid(p.Child("stabilizationWindowSeconds"), *w, "must be between 0 and 3600"))
	}
	if s := r.SelectPolicy; s != nil && *s != SelectMax && *s != SelectMin && *s != SelectDisabled {
		errs = append(errs, field.NotSupported(p.Child("selectPolicy"), *s, []string{string(SelectMax), string(SelectMin), string(SelectDisabled)}))
	}
	if t := r.TolerancePercent; t != nil && (*t < 0 || *t > 100) {
		errs = append(errs, field.Invalid(p.Child("tolerancePercent"), *t, "must be between 0 and 100"))
	}
	if len(r.Policies) > 10 {
		errs = append(errs, field.TooMany(p.Child("policies"), len(r.Policies), 10))
	}
	for i, rp := range r.Policies {
		pp := p.Child("policies").Index(i)
		if rp.Type != RatePods && rp.Type != RatePercent {
			errs = append(errs, field.NotSupported(pp.Child("type"), rp.Type, []string{string(RatePods), string(RatePercent)}))
		}
		if rp.Value < 1 {
			errs = append(errs, field.Invalid(pp.Child("value"), rp.Value, "must be greater than zero"))
		}
		if rp.PeriodSeconds < 1 || rp.PeriodSeconds > 1800 {
			errs = append(errs, field.Invalid(pp.Child("periodSeconds"), rp.PeriodSeconds, "must be between 1 and 1800"))
		}
	}
	return errs
}
