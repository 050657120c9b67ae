package predictor

import (
	"errors"
	"fmt"
	"math"
)

// Model names, as reported by Model.Name and in Forecast.Model and Score.Model.
const (
	NameHoltWintersAdditive             = "holt-winters-additive"
	NameHoltWintersMultiplicative       = "holt-winters-multiplicative"
	NameHoltWintersAdditiveDamped       = "holt-winters-additive-damped"
	NameHoltWintersMultiplicativeDamped = "holt-winters-multiplicative-damped"
	NameDampedTrend                     = "damped-trend"
	NameSimpleExpSmoothing              = "simple-exp-smoothing"
	NameLinearTrend                     = "linear-trend"
	NameSeasonalNaive                   = "seasonal-naive"
	NameLastValue                       = "last-value"
	// NameAuto is the Score row of the Predictor's own choice in Backtest.
	NameAuto = "auto"
)

// Sentinels wrapped by every error of this package, for errors.Is.
var (
	// ErrTooFewSamples: the series is too short for the model or the configuration.
	ErrTooFewSamples = errors.New("too few samples")
	// ErrBadValue: a value is NaN, infinite or negative (or zero for a multiplicative model).
	ErrBadValue = errors.New("bad value")
	// ErrBadConfig: a Config field or a model parameter is out of range.
	ErrBadConfig = errors.New("bad config")
)

// Model is one forecasting method on an equally spaced series.
type Model interface {
	Name() string
	// Fit estimates parameters on y (equally spaced, finite, >= 0).
	Fit(y []float64) error
	// Forecast returns h point forecasts after the last fitted (or updated) observation.
	Forecast(h int) []float64
	// Update adds one new observation in O(1) without refitting (for per-decision use).
	Update(y float64)
}

// stepModel is what the models of this package add to Model so that backtests can
// forecast without allocating.
type stepModel interface {
	Model
	// forecastInto writes len(dst) forecasts after the last observation into dst.
	forecastInto(dst []float64)
}

// forecastSlice is Forecast(h) on top of forecastInto.
func forecastSlice(m stepModel, h int) []float64 {
	if h < 1 {
		return nil
	}
	out := make([]float64, h)
	m.forecastInto(out)
	return out
}

// checkSeries rejects values a load series cannot have, naming the first bad index.
func checkSeries(y []float64) error {
	for i, v := range y {
		switch {
		case math.IsNaN(v):
			return fmt.Errorf("%w: y[%d] is NaN", ErrBadValue, i)
		case math.IsInf(v, 0):
			return fmt.Errorf("%w: y[%d] is %v", ErrBadValue, i, v)
		case v < 0:
			return fmt.Errorf("%w: y[%d] = %v is negative", ErrBadValue, i, v)
		}
	}
	return nil
}

func tooFew(what string, need, have int) error {
	return fmt.Errorf("%w: %s: need at least %d samples, have %d", ErrTooFewSamples, what, need, have)
}

// nonNegative clamps a forecast: load is never below zero, whatever a trend says.
func nonNegative(v float64) float64 {
	if v > 0 {
		return v
	}
	return 0
}
