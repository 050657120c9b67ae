package predictor

import (
	"math"

	"gonum.org/v1/gonum/optimize"
)

// The Nelder-Mead search for smoothing parameters is capped so that one fit costs a
// bounded number of passes over the series: searchEvaluationsPerParam per parameter
// (300 for Holt-Winters' three). On 14 days of one-minute samples a pass is tens of
// microseconds, so a fit stays within tens of milliseconds. The cap is rarely
// reached: the search usually stops when the squared error has not improved by
// searchRelTol in searchStallIterations iterations.
const (
	searchEvaluationsPerParam = 100
	searchStallIterations     = 30
	searchRelTol              = 1e-7
)

// The damping factor phi is kept in [phiMin, phiMax], the range Hyndman and
// Athanasopoulos use for damped trends (Forecasting: Principles and Practice): above
// 0.98 a damped trend can hardly be told from an undamped one, and below 0.8 the
// damping is so strong that the trend hardly counts beyond a few steps.
const (
	phiMin = 0.8
	phiMax = 0.98
)

// minimiseSSE searches the unconstrained parameters x (each model maps them into its
// own ranges) for the smallest one-step-ahead squared error sse, from x0. sse returns
// math.MaxFloat64 for a diverging filter; if every trial diverged, the result is x0,
// which every model chooses as a sane, stable filter.
func minimiseSSE(sse func(x []float64) float64, x0 []float64) ([]float64, error) {
	settings := &optimize.Settings{
		FuncEvaluations: searchEvaluationsPerParam * len(x0),
		Converger:       &optimize.FunctionConverge{Relative: searchRelTol, Iterations: searchStallIterations},
	}
	res, err := optimize.Minimize(optimize.Problem{Func: sse}, x0, settings, &optimize.NelderMead{SimplexSize: 1})
	if err != nil {
		return nil, err
	}
	if !(res.F < math.MaxFloat64) {
		return x0, nil
	}
	return res.X, nil
}

// finiteSSE turns a sum of squares that overflowed or went NaN into the largest
// float, so that the search moves away from it.
func finiteSSE(total float64) float64 {
	if math.IsNaN(total) || math.IsInf(total, 0) {
		return math.MaxFloat64
	}
	return total
}

func logistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func logit(p float64) float64 { return math.Log(p / (1 - p)) }

// toPhi maps the real line onto [phiMin, phiMax]; fromPhi is its inverse.
func toPhi(x float64) float64 { return phiMin + (phiMax-phiMin)*logistic(x) }

func fromPhi(phi float64) float64 { return logit((phi - phiMin) / (phiMax - phiMin)) }
