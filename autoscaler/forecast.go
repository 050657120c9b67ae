package autoscaler

import (
	"fmt"
	"math"
	"time"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/predictor"
)

// LoadForecaster keeps, per metric, a bounded history of the fleet's total load in
// fixed buckets and a cached forecasting model: refitted on a schedule, updated in O(1)
// as each bucket closes, so a decision only reads a forecast. It is pure: time is
// passed in. The controller keeps one per policy; the simulator one per run.
type LoadForecaster struct {
	step, horizon, history, refitEvery time.Duration
	season                             int // samples; 0 detect, -1 none
	margin                             float64
	series                             map[string]*loadHistory
}

type loadHistory struct {
	values   []float64 // closed buckets, oldest first, at most history/step
	end      time.Time // end of the last closed bucket
	sum      float64   // the open bucket
	count    int
	model    *predictor.Predictor
	fitted   time.Time
	fitErr   error
	pending  map[int64]float64 // bucket index -> point forecast made a horizon before
	absErr   float64           // decayed sums for the forecast error
	absAct   float64
	lastPred float64
	// curve is the learned course of past scheduled events (eventCurve), for the history
	// ending at curveFor.end.
	curve    []float64
	curveFor struct {
		end    time.Time
		events int
		lead   time.Duration
	}
}

// NewLoadForecaster configures history from the policy's prediction block; step is the
// bucket size and refitEvery how often models are refitted.
func NewLoadForecaster(spec *v1alpha1.ScalingPolicySpec, step, refitEvery time.Duration) (*LoadForecaster, error) {
	if step <= 0 || refitEvery < step {
		return nil, fmt.Errorf("forecaster: step %s must be positive and refit period %s at least a step", step, refitEvery)
	}
	f := &LoadForecaster{
		step: step, horizon: spec.PredictionHorizon(), history: spec.PredictionHistory(), refitEvery: refitEvery,
		margin: spec.Margin(), series: map[string]*loadHistory{},
	}
	if s, set := spec.PredictionSeason(); set {
		f.season = -1
		if s > 0 {
			f.season = int(s / step)
		}
	}
	return f, nil
}

func (f *LoadForecaster) horizonSteps() int {
	return max(1, int(math.Ceil(float64(f.horizon)/float64(f.step))))
}

func (f *LoadForecaster) config() predictor.Config {
	return predictor.Config{Season: f.season, Step: f.step, Horizon: f.horizonSteps()}
}

// Observe adds one reading of each metric's total load at now. Readings are averaged
// per bucket; a bucket closes when a reading falls past its end, and buckets with no
// reading repeat the last value.
func (f *LoadForecaster) Observe(now time.Time, totals map[string]float64) {
	for key, v := range totals {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			continue
		}
		h := f.series[key]
		if h == nil {
			h = &loadHistory{end: now.Truncate(f.step).Add(f.step), pending: map[int64]float64{}}
			f.series[key] = h
		}
		for !now.Before(h.end) {
			f.close(key, h)
		}
		h.sum += v
		h.count++
	}
}

// close ends the open bucket of one metric.
func (f *LoadForecaster) close(key string, h *loadHistory) {
	var v float64
	switch {
	case h.count > 0:
		v = h.sum / float64(h.count)
	case len(h.values) > 0:
		v = h.values[len(h.values)-1]
	default:
		h.end = h.end.Add(f.step)
		return
	}
	idx := h.end.UnixNano() / int64(f.step)
	if p, ok := h.pending[idx]; ok {
		const decay = 0.99 // about the last hundred buckets
		h.absErr = h.absErr*decay + math.Abs(v-p)
		h.absAct = h.absAct*decay + math.Abs(v)
		delete(h.pending, idx)
	}
	h.values = append(h.values, v)
	if limit := int(f.history / f.step); len(h.values) > limit {
		h.values = append(h.values[:0], h.values[len(h.values)-limit:]...)
	}
	h.sum, h.count = 0, 0
	h.end = h.end.Add(f.step)
	if h.model != nil {
		h.model.Update(v)
	}
	if h.model == nil && h.fitErr == nil || h.end.Sub(h.fitted) >= f.refitEvery {
		h.fitted = h.end
		h.model, h.fitErr = predictor.Fit(h.values, f.config())
		if h.fitErr != nil {
			h.model = nil
		}
	}
	if h.model != nil {
		fc := h.model.Forecast()
		if n := len(fc.Point); n > 0 {
			h.pending[idx+int64(n)] = fc.Point[n-1]
		}
		for k := range h.pending {
			if k < idx-int64(f.horizonSteps())-1 {
				delete(h.pending, k)
			}
		}
	}
}

// Forecast returns, per metric with a fitted model, the load to be ready for: the upper
// band's maximum over the horizon plus the margin.
func (f *LoadForecaster) Forecast() map[string]float64 {
	out := map[string]float64{}
	for key, h := range f.series {
		if h.model == nil {
			continue
		}
		v := h.model.UpperMax() * (1 + f.margin)
		if !math.IsNaN(v) && !math.IsInf(v, 0) && v >= 0 {
			out[key] = v
			h.lastPred = v
		}
	}
	return out
}

// ForecastStatus is what the policy status shows of one metric's forecast.
type ForecastStatus struct {
	// Model is the chosen model, or "" while there is too little history.
	Model string
	// Value is the last forecast returned (margin included).
	Value float64
	// ErrorPercent is the recent weighted absolute percentage error of the point
	// forecasts at the horizon; -1 while there is nothing to compare yet.
	ErrorPercent float64
	// Problem says why there is no model, if there is none.
	Problem string
}

// Status reports one metric's forecast.
func (f *LoadForecaster) Status(key string) ForecastStatus {
	h := f.series[key]
	if h == nil {
		return ForecastStatus{ErrorPercent: -1, Problem: "no history yet"}
	}
	st := ForecastStatus{Value: h.lastPred, ErrorPercent: -1}
	if h.model != nil {
		st.Model = h.model.Model()
	} else if h.fitErr != nil {
		st.Problem = h.fitErr.Error()
	}
	if h.absAct > 0 {
		st.ErrorPercent = 100 * h.absErr / h.absAct
	}
	return st
}

// Seed replaces a metric's history with values that end at end (for example from a
// Prometheus range query after a restart) and fits at once.
func (f *LoadForecaster) Seed(key string, end time.Time, values []float64) {
	h := &loadHistory{end: end.Truncate(f.step).Add(f.step), pending: map[int64]float64{}}
	for _, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			v = 0
			if len(h.values) > 0 {
				v = h.values[len(h.values)-1]
			}
		}
		h.values = append(h.values, v)
	}
	if limit := int(f.history / f.step); len(h.values) > limit {
		h.values = h.values[len(h.values)-limit:]
	}
	h.fitted = h.end
	h.model, h.fitErr = predictor.Fit(h.values, f.config())
	if h.fitErr != nil {
		h.model = nil
	}
	f.series[key] = h
}
