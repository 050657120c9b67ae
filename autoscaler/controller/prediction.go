package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	kruisev1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/autoscaler"
)

// ensureForecaster builds the policy's forecaster when prediction is turned on or its
// settings change, and seeds it from the metrics source's history when it has one, so a
// restart does not lose what was learned.
func (r *Reconciler) ensureForecaster(ctx context.Context, policy *v1alpha1.ScalingPolicy, cs *kruisev1alpha1.CloneSet, mem *policyMemory, now time.Time) {
	log := logf.FromContext(ctx)
	// By value: pointers differ on every read. The schedule of events is read at every
	// pass and needs no new forecaster: editing it keeps what was learned.
	model := policy.Spec.Prediction.DeepCopy()
	if model != nil {
		model.Events, model.EventLead = nil, nil
	}
	settings, _ := json.Marshal(model)
	key := fmt.Sprintf("%s %v", settings, metricKeysFor(&policy.Spec))
	if mem.Forecaster != nil && mem.forecastFor == key {
		return
	}
	step, refit := r.ForecastStep, r.ForecastRefit
	if step <= 0 {
		step = time.Minute
	}
	if refit <= 0 {
		refit = time.Hour
	}
	f, err := autoscaler.NewLoadForecaster(&policy.Spec, step, refit)
	if err != nil {
		log.Error(err, "Building the forecaster")
		return
	}
	mem.Forecaster, mem.forecastFor = f, key
	hs := r.Histories[policy.Spec.SourceType(r.DefaultSource)]
	if hs == nil {
		return
	}
	span := policy.Spec.PredictionHistory()
	if limit := 10000 * step; span > limit {
		span = limit
	}
	pods := regexp.QuoteMeta(cs.Name) + "-[a-z0-9]+"
	for _, k := range metricKeysFor(&policy.Spec) {
		values, err := hs.History(ctx, policy, k, pods, now, span, step)
		if err != nil {
			log.Info("No history to seed the forecast from; it learns from now on", "metric", k, "error", err.Error())
			continue
		}
		f.Seed(k, now, values)
		log.V(1).Info("Seeded the forecast from history", "metric", k, "points", len(values), "model", f.Status(k).Model)
	}
}

// externalValues are the figures served on the external metrics API, named
// streamscaler_<what>[_<metric>], with a custom metric's "/" written as "_".
func externalValues(rec autoscaler.Recommendation, current int32) map[string]float64 {
	out := map[string]float64{
		"streamscaler_recommended_replicas": float64(rec.Replicas),
		"streamscaler_current_replicas":     float64(current),
	}
	for _, m := range rec.Metrics {
		key := strings.ReplaceAll(m.Key, "/", "_")
		if m.Valid {
			out["streamscaler_metric_total_"+key] = m.Total
		}
		if m.Forecast > 0 {
			out["streamscaler_metric_forecast_"+key] = m.Forecast
		}
	}
	return out
}
