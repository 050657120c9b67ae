package v1alpha1

import (
	"time"
)

// Defaults of optional fields. Most are also +kubebuilder:default markers in
// scalingpolicy_types.go, so the API server stores them; the accessors below apply them
// too, so a policy read from the API server, from a file or built in a test behaves the
// same. TestMarkerDefaultsMatchGo checks that the generated CRD and these agree.
const (
	DefaultMinReplicas             int32 = 1
	DefaultSyncPeriod                    = 15 * time.Second
	DefaultDrainTimeout                  = 30 * time.Minute
	DefaultIdleStreams             int32 = 0
	DefaultTolerancePercent        int32 = 10
	DefaultScaleUpWindowSeconds    int32 = 0
	DefaultScaleDownWindowSeconds  int32 = 300
	DefaultSaturationPercent       int32 = 0
	DefaultSaturationGrowthPercent int32 = 100

	DefaultSelectPolicy   = SelectMax
	DefaultEvictionAction = EvictNone
	DefaultFallbackAction = FallbackHold
)

// DefaultScaleUpPolicies are the HorizontalPodAutoscaler's: double or add 4 pods every 15s, whichever is more.
func DefaultScaleUpPolicies() []RatePolicy {
	return []RatePolicy{{Type: RatePercent, Value: 100, PeriodSeconds: 15}, {Type: RatePods, Value: 4, PeriodSeconds: 15}}
}

// DefaultScaleDownPolicies are the HorizontalPodAutoscaler's: up to all pods every 15s.
func DefaultScaleDownPolicies() []RatePolicy {
	return []RatePolicy{{Type: RatePercent, Value: 100, PeriodSeconds: 15}}
}

// Direction is scale-up or scale-down.
type Direction string

const (
	// Up is scale-out.
	Up Direction = "up"
	// Down is scale-in.
	Down Direction = "down"
)

// EffectiveRules is a ScalingRules with every default filled in; not part of the API.
// +kubebuilder:object:generate=false
type EffectiveRules struct {
	Window     time.Duration
	Select     SelectPolicy
	Policies   []RatePolicy
	Tolerance  float64 // fraction, 0.1 for 10%
	Configured bool    // the spec set the rules itself
}

// Min returns minReplicas or its default.
func (s *ScalingPolicySpec) Min() int32 {
	if s.MinReplicas == nil {
		return DefaultMinReplicas
	}
	return *s.MinReplicas
}

// Period returns syncPeriod or its default.
func (s *ScalingPolicySpec) Period() time.Duration {
	if s.SyncPeriod == nil {
		return DefaultSyncPeriod
	}
	return s.SyncPeriod.Duration
}

// DrainTimeout returns tombstone.drainTimeout or its default.
func (s *ScalingPolicySpec) DrainTimeout() time.Duration {
	if s.Tombstone == nil || s.Tombstone.DrainTimeout == nil {
		return DefaultDrainTimeout
	}
	return s.Tombstone.DrainTimeout.Duration
}

// SaturationPercent returns behavior.saturation.utilizationPercent or its default; 0 is off.
func (s *ScalingPolicySpec) SaturationPercent() int32 {
	if s.Behavior == nil || s.Behavior.Saturation == nil || s.Behavior.Saturation.UtilizationPercent == nil {
		return DefaultSaturationPercent
	}
	return *s.Behavior.Saturation.UtilizationPercent
}

// SaturationGrowthPercent returns behavior.saturation.growthPercent or its default.
func (s *ScalingPolicySpec) SaturationGrowthPercent() int32 {
	if s.Behavior == nil || s.Behavior.Saturation == nil || s.Behavior.Saturation.GrowthPercent == nil {
		return DefaultSaturationGrowthPercent
	}
	return *s.Behavior.Saturation.GrowthPercent
}

// RefusedThreshold returns behavior.saturation.refusedStreamsPerSecond; 0 is off.
func (s *ScalingPolicySpec) RefusedThreshold() float64 {
	if s.Behavior == nil || s.Behavior.Saturation == nil || s.Behavior.Saturation.RefusedStreamsPerSecond == nil {
		return 0
	}
	return s.Behavior.Saturation.RefusedStreamsPerSecond.AsApproximateFloat64()
}

// IdleStreams returns tombstone.idleStreams or its default.
func (s *ScalingPolicySpec) IdleStreams() int32 {
	if s.Tombstone == nil || s.Tombstone.IdleStreams == nil {
		return DefaultIdleStreams
	}
	return *s.Tombstone.IdleStreams
}

// Eviction returns tombstone.evictionAction or its default.
func (s *ScalingPolicySpec) Eviction() EvictionAction {
	if s.Tombstone == nil || s.Tombstone.EvictionAction == "" {
		return DefaultEvictionAction
	}
	return s.Tombstone.EvictionAction
}

// Rules returns the rules for one direction with HorizontalPodAutoscaler defaults.
//
// Of these defaults only selectPolicy and tolerancePercent are markers, applied when
// scaleUp or scaleDown is written. The window and the rate policies differ by direction
// while one ScalingRules type serves both, so no marker can say them; they stay here.
// Defaulting scaleUp and scaleDown whole would store rules the user never wrote and turn
// Configured true for every stored policy.
func (s *ScalingPolicySpec) Rules(d Direction) EffectiveRules {
	var r *ScalingRules
	if s.Behavior != nil {
		if d == Up {
			r = s.Behavior.ScaleUp
		} else {
			r = s.Behavior.ScaleDown
		}
	}
	out := EffectiveRules{Select: DefaultSelectPolicy, Tolerance: float64(DefaultTolerancePercent) / 100}
	if d == Up {
		out.Window = time.Duration(DefaultScaleUpWindowSeconds) * time.Second
		out.Policies = DefaultScaleUpPolicies()
	} else {
		out.Window = time.Duration(DefaultScaleDownWindowSeconds) * time.Second
		out.Policies = DefaultScaleDownPolicies()
	}
	if r == nil {
		return out
	}
	out.Configured = true
	if r.StabilizationWindowSeconds != nil {
		out.Window = time.Duration(*r.StabilizationWindowSeconds) * time.Second
	}
	if r.SelectPolicy != nil {
		out.Select = *r.SelectPolicy
	}
	if len(r.Policies) > 0 {
		out.Policies = r.Policies
	}
	if r.TolerancePercent != nil {
		out.Tolerance = float64(*r.TolerancePercent) / 100
	}
	return out
}

// TargetValue returns the per-pod target of a metric as a float: averageUtilization
// (percent) for cpu and memory, averageValue otherwise; 0 when unset.
func (m MetricSpec) TargetValue() float64 {
	if m.Target.AverageUtilization != nil {
		return float64(*m.Target.AverageUtilization)
	}
	if m.Target.AverageValue != nil {
		return m.Target.AverageValue.AsApproximateFloat64()
	}
	return 0
}

// Defaults of the metrics source and fallback.
const (
	DefaultMaxSampleAge = 2 * time.Minute
	DefaultEventLead    = 15 * time.Minute
	// DefaultEventsKey is the key of prediction.eventsConfigMap read when none is named.
	DefaultEventsKey          = "events.csv"
	DefaultFailureThreshold   = int32(3)
	DefaultPrometheusPodLabel = "pod"
	DefaultSRSPort            = int32(1985)
)

// SourceType returns metricsSource.type, or def (the controller's default) when unset.
func (s *ScalingPolicySpec) SourceType(def MetricsSourceType) MetricsSourceType {
	if s.MetricsSource == nil || s.MetricsSource.Type == "" {
		return def
	}
	return s.MetricsSource.Type
}

// SampleMaxAge returns metricsSource.maxSampleAge or its default.
func (s *ScalingPolicySpec) SampleMaxAge() time.Duration {
	if s.MetricsSource == nil || s.MetricsSource.MaxSampleAge == nil {
		return DefaultMaxSampleAge
	}
	return s.MetricsSource.MaxSampleAge.Duration
}

// FailureThreshold returns fallback.failureThreshold or its default.
func (s *ScalingPolicySpec) FailureThreshold() int32 {
	if s.Fallback == nil || s.Fallback.FailureThreshold == nil {
		return DefaultFailureThreshold
	}
	return *s.Fallback.FailureThreshold
}

// FallbackReplicas returns the serving count to move to after repeated failures, and
// false for hold.
func (s *ScalingPolicySpec) FallbackReplicas() (int32, bool) {
	if s.Fallback == nil || s.Fallback.Action != FallbackFixed || s.Fallback.Replicas == nil {
		return 0, false
	}
	return *s.Fallback.Replicas, true
}

// Prediction defaults.
const (
	DefaultPredictionHorizon = 5 * time.Minute
	DefaultPredictionHistory = 7 * 24 * time.Hour
	DefaultMarginPercent     = int32(0)
)

// Predicting reports whether prediction is on.
func (s *ScalingPolicySpec) Predicting() bool { return s.Prediction != nil && s.Prediction.Enabled }

// PredictionHorizon returns prediction.horizon or its default.
func (s *ScalingPolicySpec) PredictionHorizon() time.Duration {
	if s.Prediction == nil || s.Prediction.Horizon == nil {
		return DefaultPredictionHorizon
	}
	return s.Prediction.Horizon.Duration
}

// PredictionHistory returns prediction.history or its default.
func (s *ScalingPolicySpec) PredictionHistory() time.Duration {
	if s.Prediction == nil || s.Prediction.History == nil {
		return DefaultPredictionHistory
	}
	return s.Prediction.History.Duration
}

// PredictionSeason returns the season and whether it was set (unset means detect).
func (s *ScalingPolicySpec) PredictionSeason() (time.Duration, bool) {
	if s.Prediction == nil || s.Prediction.Season == nil {
		return 0, false
	}
	return s.Prediction.Season.Duration, true
}

// EventLead returns prediction.eventLead or its default.
func (s *ScalingPolicySpec) EventLead() time.Duration {
	if s.Prediction == nil || s.Prediction.EventLead == nil {
		return DefaultEventLead
	}
	return s.Prediction.EventLead.Duration
}

// EventsKey returns the key of the ConfigMap that holds events, or its default.
func (k *ConfigMapKey) EventsKey() string {
	if k.Key == "" {
		return DefaultEventsKey
	}
	return k.Key
}

// Margin returns prediction.marginPercent as a fraction.
func (s *ScalingPolicySpec) Margin() float64 {
	if s.Prediction == nil || s.Prediction.MarginPercent == nil {
		return float64(DefaultMarginPercent) / 100
	}
	return float64(*s.Prediction.MarginPercent) / 100
}
