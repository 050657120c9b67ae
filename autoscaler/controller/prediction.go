package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	kruisev1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	"k8s.io/apimachinery/pkg/types"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/autoscaler"
)

// seedSlots is how many forecasters are seeded from history at once.
const seedSlots = 4

// seeding is a forecaster being seeded from history in the background.
type seeding struct {
	key  string
	done chan struct{}
	f    *autoscaler.LoadForecaster
}

// ensureForecaster builds the policy's forecaster when prediction is turned on or its
// settings change, and seeds it from the metrics source's history when it has one, so a
// restart does not lose what was learned. Seeding reads up to 10,000 buckets per metric
// from the source, so it runs in the background, at most seedSlots at once: until it
// ends the policy is decided without a forecast (reactive, which never scales in on a
// forecast's account), and the first pass after it ends takes the seeded forecaster.
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
	if s := mem.seeding; s != nil && s.key == key {
		select {
		case <-s.done:
			mem.Forecaster, mem.forecastFor, mem.seeding = s.f, key, nil
		default:
		}
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
	hs := r.Histories[policy.Spec.SourceType(r.DefaultSource)]
	if hs == nil {
		mem.Forecaster, mem.forecastFor, mem.seeding = f, key, nil
		return
	}
	// New settings: the old forecaster answered for other ones, so none is used until
	// the new one is seeded.
	mem.Forecaster, mem.forecastFor = nil, ""
	r.seedOnce.Do(func() { r.seedSlot = make(chan struct{}, seedSlots) })
	select {
	case r.seedSlot <- struct{}{}:
	default:
		log.V(1).Info("Seeding the forecast waits for a slot", "slots", seedSlots)
		mem.seeding = nil
		return
	}
	s := &seeding{key: key, done: make(chan struct{}), f: f}
	mem.seeding = s
	span := policy.Spec.PredictionHistory()
	if limit := 10000 * step; span > limit {
		span = limit
	}
	target, pods := policy.DeepCopy(), regexp.QuoteMeta(cs.Name)+"-[a-z0-9]+"
	name := types.NamespacedName{Namespace: policy.Namespace, Name: policy.Name}
	bg := r.evicting.context()
	go func() {
		defer func() {
			<-r.seedSlot
			close(s.done)
			r.evicting.wakeUp(name)
		}()
		for _, k := range metricKeysFor(&target.Spec) {
			values, err := hs.History(logf.IntoContext(bg, log), target, k, pods, now, span, step)
			if err != nil {
				log.Info("No history to seed the forecast from; it learns from now on", "metric", k, "error", err.Error())
				continue
			}
			f.Seed(k, now, values)
			log.V(1).Info("Seeded the forecast from history", "metric", k, "points", len(values), "model", f.Status(k).Model)
		}
	}()
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
