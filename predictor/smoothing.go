package predictor

import (
	"fmt"

	"gonum.org/v1/gonum/stat"
)

// smoothingInitSamples is how many samples the initial state is read off: the first
// ten, the heuristic of Hyndman, Koehler, Ord and Snyder (Forecasting with
// Exponential Smoothing, 2008) for series without a season.
const smoothingInitSamples = 10

// smoothingStart is where the search starts, in (alpha, beta, phi): a level that
// adapts within a few steps, a slow trend that fades over a few tens of steps.
var smoothingStart = [3]float64{0.3, 0.02, 0.9}

// expSmoothing is exponential smoothing without a season, in error-correction form:
// simple exponential smoothing (a level only: every forecast is the level) or
// Holt's linear trend damped by phi (Gardner and McKenzie, 1985): the forecast h
// steps ahead is l + (phi + phi² + ... + phi^h)·b, which levels off at
// l + b·phi/(1-phi) instead of following the trend for ever.
type expSmoothing struct {
	damped bool
	// alpha smooths the level, beta the trend; phi damps the trend. beta and phi are
	// unused without a trend.
	alpha, beta, phi float64
	level, trend     float64
	fitted           bool
}

// NewSimpleExpSmoothing returns an unfitted simple exponential smoothing model: the
// forecast is a level that moves by alpha times each one-step error. Fit estimates
// alpha in (0, 1) by minimising the one-step-ahead squared error with Nelder-Mead,
// from a level read off the first ten samples. It suits a series that wanders or
// shifts without a trend or a season, where the last value carries too much noise.
func NewSimpleExpSmoothing() Model { return &expSmoothing{} }

// NewDampedTrend returns an unfitted damped-trend model (Holt's linear trend with a
// damping factor phi). Fit estimates alpha and beta in (0, 1) and phi in [0.8, 0.98]
// like NewSimpleExpSmoothing, from the least-squares line through the first ten
// samples.
func NewDampedTrend() Model { return &expSmoothing{damped: true} }

func (m *expSmoothing) Name() string {
	if m.damped {
		return NameDampedTrend
	}
	return NameSimpleExpSmoothing
}

func (m *expSmoothing) minSamples() int { return 2 }

func (m *expSmoothing) Fit(y []float64) error {
	if err := checkSeries(y); err != nil {
		return err
	}
	if len(y) < m.minSamples() {
		return tooFew(m.Name(), m.minSamples(), len(y))
	}
	level, trend := m.initialState(y)
	sse := func(x []float64) float64 {
		a, b, phi := m.params(x)
		l, t := level, trend
		total := 0.0
		for _, v := range y {
			var e float64
			l, t, e = smoothingStep(v, l, t, a, b, phi)
			total += e * e
		}
		return finiteSSE(total)
	}
	x0 := []float64{logit(smoothingStart[0])}
	if m.damped {
		x0 = append(x0, logit(smoothingStart[1]), fromPhi(smoothingStart[2]))
	}
	x, err := minimiseSSE(sse, x0)
	if err != nil {
		return fmt.Errorf("fitting %s: %w", m.Name(), err)
	}
	m.alpha, m.beta, m.phi = m.params(x)
	m.level, m.trend = level, trend
	for _, v := range y {
		m.level, m.trend, _ = smoothingStep(v, m.level, m.trend, m.alpha, m.beta, m.phi)
	}
	m.fitted = true
	return nil
}

// params maps the search's unconstrained x onto alpha and beta in (0, 1) and phi in
// [phiMin, phiMax]. Without a trend, beta and phi are 0, which keeps the trend at 0.
func (m *expSmoothing) params(x []float64) (alpha, beta, phi float64) {
	if !m.damped {
		return logistic(x[0]), 0, 0
	}
	return logistic(x[0]), logistic(x[1]), toPhi(x[2])
}

// initialState is the state before y[0]. With a trend it is the least-squares line
// through the first samples, carried back to time -1; without one, their mean.
func (m *expSmoothing) initialState(y []float64) (level, trend float64) {
	first := y[:min(len(y), smoothingInitSamples)]
	if !m.damped {
		return mean(first), 0
	}
	x := make([]float64, len(first))
	for i := range x {
		x[i] = float64(i)
	}
	origin, slope := stat.LinearRegression(x, first, nil, false)
	return origin - slope, slope
}

// smoothingStep takes one observation y and returns the next level and trend and
// the one-step-ahead error (y minus the forecast made before seeing it).
func smoothingStep(y, level, trend, alpha, beta, phi float64) (nextLevel, nextTrend, err float64) {
	forecast := level + phi*trend
	nextLevel = alpha*y + (1-alpha)*forecast
	nextTrend = beta*(nextLevel-level) + (1-beta)*phi*trend
	return nextLevel, nextTrend, y - forecast
}

func (m *expSmoothing) Forecast(h int) []float64 { return forecastSlice(m, h) }

func (m *expSmoothing) forecastInto(dst []float64) {
	m.mustBeFitted()
	// steps is phi + phi² + ... + phi^(k+1): the trend steps k+1 steps ahead adds.
	steps, pow := 0.0, 1.0
	for k := range dst {
		pow *= m.phi
		steps += pow
		dst[k] = nonNegative(m.level + steps*m.trend)
	}
}

func (m *expSmoothing) Update(y float64) {
	m.mustBeFitted()
	m.level, m.trend, _ = smoothingStep(y, m.level, m.trend, m.alpha, m.beta, m.phi)
}

func (m *expSmoothing) mustBeFitted() {
	if !m.fitted {
		panic("predictor: " + m.Name() + " used before a successful Fit")
	}
}
