package predictor

import (
	"fmt"
	"math"
	"sync"
)

// Score is how one model family did in a Backtest, at the configured horizon.
type Score struct {
	// Model is a model name, NameAuto for the Predictor's own choice.
	Model string
	// WAPE is sum|actual-forecast| / sum|actual|.
	WAPE float64
	// MASE is the mean absolute error over the in-sample mean absolute error of the
	// one-step seasonal naive forecast (last value without a season) on the history
	// before the first forecast.
	MASE float64
	// UnderShare is the share of points where the point forecast was below the actual.
	UnderShare float64
	// Points is how many forecasts were scored.
	Points int
}

// BacktestResult is Backtest with what a report or a chart needs besides the scores.
type BacktestResult struct {
	// Season is the season used, in samples; 0 for none.
	Season int
	// Horizon is the scored lead, in samples.
	Horizon int
	// RefitEvery is how many steps each fitted model was moved along with Update.
	RefitEvery int
	// Start is the first origin: forecasts are made from y[:t] for t >= Start.
	Start int
	// Scores has one row per model family, then the NameAuto row.
	Scores []Score
	// Targets are the indexes of the scored actuals, y[t+Horizon-1] for each origin t.
	Targets []int
	// Point and Upper are the Predictor's (the auto row's) point forecast and upper
	// band for each target, made Horizon steps before it.
	Point, Upper []float64
	// Models names the model the Predictor used for each target.
	Models []string
	// UpperCoverage is the share of targets at or below the upper band.
	UpperCoverage float64
}

// Backtest measures each model family and the Predictor on y: see BacktestDetail.
func Backtest(y []float64, cfg Config, refitEvery int) ([]Score, error) {
	r, err := BacktestDetail(y, cfg, refitEvery)
	if err != nil {
		return nil, err
	}
	return r.Scores, nil
}

// BacktestDetail rolls through y: at each origin t from Start on, each model, fitted
// on history before t (at most trainWindow samples), forecasts cfg.Horizon steps
// ahead and is scored on the value at the Horizon-th step, y[t+Horizon-1]. Models
// are refitted every refitEvery origins (0 or less: once per backtest span, one
// season when there is one) and moved along with Update in between, as a
// controller would. The rows are the families Fit chooses among (with a season,
// Holt-Winters additive and, when y > 0 everywhere, multiplicative, each also
// damped; the damped trend; linear trend; simple exponential smoothing, on y and on
// log(1+y); seasonal naive with a season; last value), then NameAuto: a Predictor
// refitted by Fit at the same origins.
//
// With cfg.Season 0 the season is detected once on the whole series, as an operator
// would set it; parameters and the model choice only ever see the past. Start is
// three backtest spans (three seasons with one), so that the first Fit already
// has two seasons to fit Holt-Winters on and one to choose with.
func BacktestDetail(y []float64, cfg Config, refitEvery int) (*BacktestResult, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := checkSeries(y); err != nil {
		return nil, err
	}
	n, h := len(y), cfg.Horizon
	season := resolveSeason(y, cfg, func(m int) bool { return 3*backtestSpan(m, cfg)+h <= n })
	span := backtestSpan(season, cfg)
	start := 3 * span
	if n < start+h {
		what := fmt.Sprintf("backtesting at a horizon of %d without a season", h)
		if season > 0 {
			what = fmt.Sprintf("backtesting at a horizon of %d with a season of %d", h, season)
		}
		return nil, tooFew(what, start+h, n)
	}
	if refitEvery <= 0 {
		refitEvery = span
	}
	// Fit inside the auto row must keep this season, not detect one per window.
	autoCfg := cfg
	autoCfg.Season = season
	if season == 0 {
		autoCfg.Season = -1
	}
	window := trainWindow(season)

	names := []string{}
	if season >= 2 {
		names = append(names, NameHoltWintersAdditive, NameHoltWintersAdditiveDamped)
		if allPositive(y) {
			names = append(names, NameHoltWintersMultiplicative, NameHoltWintersMultiplicativeDamped)
		}
	}
	names = append(names, NameDampedTrend, NameLinearTrend, NameSimpleExpSmoothing, NameLogScale(NameSimpleExpSmoothing))
	if season >= 2 {
		names = append(names, NameSeasonalNaive)
	}
	rows := families(season, cfg, append(names, NameLastValue)...)

	origins := n - h + 1 - start
	res := &BacktestResult{
		Season: season, Horizon: h, RefitEvery: refitEvery, Start: start,
		Scores:  make([]Score, len(rows)+1),
		Targets: make([]int, origins),
		Point:   make([]float64, origins), Upper: make([]float64, origins), Models: make([]string, origins),
	}
	scale := naiveScale(y[:start], season)

	// The rows are independent; each runs on its own goroutine.
	errs := make([]error, len(rows)+1)
	var wg sync.WaitGroup
	for i, fam := range rows {
		wg.Go(func() {
			point := make([]float64, origins)
			var m stepModel
			f := make([]float64, h)
			for j := range origins {
				t := start + j
				if j%refitEvery == 0 {
					m = fam.newModel()
					if err := m.Fit(y[max(0, t-window):t]); err != nil {
						errs[i] = fmt.Errorf("backtesting %s at %d: %w", fam.name, t, err)
						return
					}
				}
				m.forecastInto(f)
				point[j] = f[h-1]
				m.Update(y[t])
			}
			res.Scores[i] = score(fam.name, y[start+h-1:], point, scale)
		})
	}
	wg.Go(func() {
		var p *Predictor
		for i := range origins {
			t := start + i
			if i%refitEvery == 0 {
				var err error
				if p, err = fitSeason(y[max(0, t-window):t], autoCfg, season); err != nil {
					errs[len(rows)] = fmt.Errorf("backtesting %s at %d: %w", NameAuto, t, err)
					return
				}
			}
			p.model.forecastInto(p.scratch)
			res.Targets[i] = t + h - 1
			res.Point[i] = p.scratch[h-1]
			res.Upper[i] = p.scratch[h-1] + p.band[h-1]
			res.Models[i] = p.Model()
			p.Update(y[t])
		}
		res.Scores[len(rows)] = score(NameAuto, y[start+h-1:], res.Point, scale)
		covered := 0
		for i, u := range res.Upper {
			if y[res.Targets[i]] <= u {
				covered++
			}
		}
		res.UpperCoverage = float64(covered) / float64(origins)
	})
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return res, nil
}

// score compares forecasts with the actuals they were made for.
func score(name string, actual, forecast []float64, scale float64) Score {
	var absErr, absActual float64
	under := 0
	for i, f := range forecast {
		a := actual[i]
		absErr += math.Abs(a - f)
		absActual += math.Abs(a)
		if f < a {
			under++
		}
	}
	k := float64(len(forecast))
	return Score{
		Model:      name,
		WAPE:       ratio(absErr, absActual),
		MASE:       ratio(absErr/k, scale),
		UnderShare: float64(under) / k,
		Points:     len(forecast),
	}
}

// naiveScale is MASE's denominator: the mean absolute change over one season (one
// step without a season) in the history.
func naiveScale(hist []float64, season int) float64 {
	lag := max(season, 1)
	if len(hist) <= lag {
		return 0
	}
	s := 0.0
	for t := lag; t < len(hist); t++ {
		s += math.Abs(hist[t] - hist[t-lag])
	}
	return s / float64(len(hist)-lag)
}

// ratio is a/b, with 0/0 = 0 (a perfect forecast of nothing) and a/0 = +Inf.
func ratio(a, b float64) float64 {
	switch {
	case b > 0:
		return a / b
	case a == 0:
		return 0
	default:
		return math.Inf(1)
	}
}
