package predictor

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"gonum.org/v1/gonum/stat"
)

// Defaults for the zero values of Config.
const (
	DefaultQuantile  = 0.9
	DefaultBacktests = 4
)

// Config for fitting. Steps are samples of the series' own step.
type Config struct {
	// Season is the season length in samples; 0 = detect from the data (candidates:
	// 1 day and 1 week in samples, given Step), -1 (or 1) = none.
	Season int
	// Step is the spacing of the samples; only used for the season candidates, so a
	// zero Step with Season 0 means no season.
	Step time.Duration
	// Horizon is the forecast horizon in samples (>= 1).
	Horizon int
	// Quantile of the backtest residuals that makes the upper band, in (0, 1);
	// default 0.9.
	Quantile float64
	// Backtests is the number of rolling-origin folds for model choice; default 4.
	Backtests int
}

// withDefaults fills the zero values and rejects the rest of what is out of range.
func (c Config) withDefaults() (Config, error) {
	if c.Horizon < 1 {
		return c, fmt.Errorf("%w: Horizon %d: must be at least 1 sample", ErrBadConfig, c.Horizon)
	}
	if c.Season < -1 {
		return c, fmt.Errorf("%w: Season %d: want a length in samples, 0 to detect or -1 for none", ErrBadConfig, c.Season)
	}
	if c.Step < 0 {
		return c, fmt.Errorf("%w: Step %s: must not be negative", ErrBadConfig, c.Step)
	}
	if c.Quantile == 0 {
		c.Quantile = DefaultQuantile
	}
	if !(c.Quantile > 0 && c.Quantile < 1) {
		return c, fmt.Errorf("%w: Quantile %v: must be between 0 and 1", ErrBadConfig, c.Quantile)
	}
	if c.Backtests == 0 {
		c.Backtests = DefaultBacktests
	}
	if c.Backtests < 0 {
		return c, fmt.Errorf("%w: Backtests %d: must be at least 1", ErrBadConfig, c.Backtests)
	}
	return c, nil
}

// Forecast is what a Predictor expects over its horizon.
type Forecast struct {
	// Model is the name of the model that made it.
	Model string
	// Point holds Horizon values, for 1 to Horizon steps after the last observation.
	Point []float64
	// Upper is Point plus the residual quantile band (per step ahead); never below Point.
	Upper []float64
}

// Predictor is a model chosen by a rolling-origin backtest on recent history, fitted
// once, then moved along with Update and asked for forecasts at each decision. It is
// not safe for concurrent use.
type Predictor struct {
	cfg    Config
	season int
	model  stepModel
	// band is the upper band's width at each step ahead: the Quantile of the chosen
	// model's backtest residuals (actual minus forecast) at that lead, at least 0.
	band []float64
	// scratch holds forecasts for UpperMax, which must not allocate.
	scratch []float64
}

// candidate is one model family that Fit may choose.
type candidate struct {
	name     string
	newModel func() stepModel
}

// Fit chooses and fits a model for y, equally spaced, finite and >= 0.
//
//  1. The season is cfg.Season, or detected among one day and one week (DetectSeason).
//  2. The candidates are last value, simple exponential smoothing on y and on
//     log(1+y), and the damped trend; seasonal naive when there is a season; additive
//     Holt-Winters when there are two seasons of history before the backtest, and
//     multiplicative Holt-Winters when also y > 0 everywhere it is fitted; otherwise a
//     linear trend. (The damped Holt-Winters variants are scored by BacktestDetail
//     only.)
//  3. Each candidate is fitted at each of cfg.Backtests fold origins spread over the
//     most recent part of y, and rolled forward with Update through its fold; the
//     candidate with the lowest mean absolute error at cfg.Horizon steps ahead wins,
//     the simplest on a tie (within tieTolerance). That part is up to three spans (a
//     span is one season, or 48 samples without one, and at least 8 horizons), leaving
//     two spans before it to train on; with less history, a third of y. The mean of
//     the two best candidates' forecasts is scored on the same folds and wins if it
//     beats both by more than the tolerance.
//  4. The winner is refitted on the most recent history (trainWindow) and its
//     backtest residuals at each lead give the upper band.
//
// Fits never see more than trainWindow samples (four seasons, at least 2000), which
// bounds the cost of a fit on long histories.
func Fit(y []float64, cfg Config) (*Predictor, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := checkSeries(y); err != nil {
		return nil, err
	}
	n := len(y)
	if need := minFitSamples(cfg); n < need {
		return nil, tooFew("fitting a predictor", need, n)
	}
	season := resolveSeason(y, cfg, func(m int) bool { return 2*m <= n })
	return fitSeason(y, cfg, season)
}

// minFitSamples: a third of the series is the backtest, and it must score at least
// one point per fold at the horizon.
func minFitSamples(cfg Config) int { return 3 * (cfg.Backtests + cfg.Horizon - 1) }

// resolveSeason applies Config.Season: a given length, none, or detection among the
// candidates that fit says are usable.
func resolveSeason(y []float64, cfg Config, fits func(m int) bool) int {
	switch {
	case cfg.Season >= 2:
		return cfg.Season
	case cfg.Season != 0:
		return 0
	}
	var cands []int
	for _, m := range SeasonCandidates(cfg.Step) {
		if fits(m) {
			cands = append(cands, m)
		}
	}
	return DetectSeason(y, cands)
}

// fitSeason is Fit once the season (0 for none) is known and the input checked.
func fitSeason(y []float64, cfg Config, season int) (*Predictor, error) {
	n, h := len(y), cfg.Horizon
	base := backtestSpan(season, cfg)
	span := max(min(3*base, n-2*base), min(base, n/3))
	if span < cfg.Backtests+h-1 {
		return nil, tooFew("fitting a predictor", minFitSamples(cfg), n)
	}
	origins := make([]int, cfg.Backtests)
	for k := range origins {
		origins[k] = n - span + k*span/cfg.Backtests
	}
	window := trainWindow(season)
	cands := candidates(y[max(0, origins[0]-window):], origins[0], season, cfg)

	var all []scored
	for _, c := range cands {
		resi, err := rollFolds(c.newModel, y, origins, h, window)
		if err != nil {
			continue // a model that cannot fit this history is no candidate
		}
		all = append(all, scored{c, meanAbs(resi[h-1]), resi})
	}
	best, bestResi, ok := choose(all, h)
	if !ok {
		return nil, fmt.Errorf("fitting a predictor: no model could be fitted on %d samples", n)
	}

	m := best.newModel()
	if err := m.Fit(y[max(0, n-window):]); err != nil {
		return nil, fmt.Errorf("fitting %s: %w", best.name, err)
	}
	band := make([]float64, h)
	for k, r := range bestResi {
		slices.Sort(r)
		band[k] = max(0, stat.Quantile(cfg.Quantile, stat.Empirical, r, nil))
	}
	return &Predictor{cfg: cfg, season: season, model: m, band: band, scratch: make([]float64, h)}, nil
}

// scored is a candidate with its backtest: the mean absolute error at the horizon and
// the residuals at each lead.
type scored struct {
	c    candidate
	mae  float64
	resi [][]float64
}

// choose picks among backtested candidates (listed simplest first): the lowest error,
// the simplest among those within tieTolerance of it, or the mean of the two best when
// its error is lower still, by more than the tolerance. A candidate whose error is not a
// finite number never wins. ok is false when none is left.
func choose(all []scored, h int) (best candidate, resi [][]float64, ok bool) {
	all = slices.DeleteFunc(slices.Clone(all), func(s scored) bool { return math.IsNaN(s.mae) || math.IsInf(s.mae, 0) })
	if len(all) == 0 {
		return candidate{}, nil, false
	}
	// Errors within the tolerance of the lowest are ties: a smoother whose fitted alpha
	// is all but 1 forecasts the last value and may beat it only in the last bits.
	lowest := slices.MinFunc(all, func(a, b scored) int { return cmp.Compare(a.mae, b.mae) }).mae
	first := slices.IndexFunc(all, func(s scored) bool { return tied(s.mae, lowest) })
	a := all[first]
	if len(all) < 2 {
		return a.c, a.resi, true
	}
	rest := slices.Delete(slices.Clone(all), first, first+1)
	b := slices.MinFunc(rest, func(x, y scored) int { return cmp.Compare(x.mae, y.mae) }) // the first of equals
	// The mean of the two best forecasts: its residuals are the mean of theirs (same
	// folds, same targets), so it costs no extra backtest.
	mean := make([][]float64, h)
	for k := range mean {
		mean[k] = make([]float64, len(a.resi[k]))
		for i := range mean[k] {
			mean[k][i] = (a.resi[k][i] + b.resi[k][i]) / 2
		}
	}
	if m := meanAbs(mean[h-1]); m < a.mae && !tied(m, a.mae) {
		return candidate{NameMeanOf(a.c.name, b.c.name), func() stepModel { return newMeanOf(a.c.newModel(), b.c.newModel()) }}, mean, true
	}
	return a.c, a.resi, true
}

// tieTolerance is how close two backtest errors are to count as equal, relative to the
// larger: far below any difference a forecast could act on, far above rounding.
const tieTolerance = 1e-9

func tied(x, y float64) bool { return math.Abs(x-y) <= tieTolerance*max(math.Abs(x), math.Abs(y)) }

// backtestSpan is the unit of Fit's backtest: a whole season, so that every phase is
// scored, or 48 samples without one; at least 8 horizons, and one scored point per
// fold. More than one span makes the choice steadier on noisy series.
func backtestSpan(season int, cfg Config) int {
	span := 48
	if season >= 2 {
		span = season
	}
	return max(span, 8*cfg.Horizon, cfg.Backtests+cfg.Horizon-1)
}

// trainWindow bounds the history a model is fitted on: four seasons, at least 2000
// samples. Holt-Winters adapts its state anyway; older data only slows the fit.
func trainWindow(season int) int { return max(4*season, 2000) }

// linearWindow is the linear trend's window: long enough to average out noise,
// short enough to follow a ramp, four horizons and at least 8 samples.
func linearWindow(cfg Config) int { return max(8, 4*cfg.Horizon) }

// candidates lists the model families worth backtesting, simplest first. recent is
// the part of y any fit will see and train the history before the first fold.
func candidates(recent []float64, train, season int, cfg Config) []candidate {
	names := []string{NameLastValue}
	if season >= 2 && train >= season {
		names = append(names, NameSeasonalNaive)
	}
	names = append(names, NameSimpleExpSmoothing, NameDampedTrend, NameLogScale(NameSimpleExpSmoothing))
	if twoSeasons := season >= 2 && train >= 2*season; !twoSeasons {
		return families(season, cfg, append(names, NameLinearTrend)...)
	}
	// The damped Holt-Winters variants are scored by BacktestDetail but not chosen from:
	// they made a fit about 2.5 times as costly for at most 0.06 points of WAPE on the
	// bundled traces.
	names = append(names, NameHoltWintersAdditive)
	if allPositive(recent) {
		names = append(names, NameHoltWintersMultiplicative)
	}
	return families(season, cfg, names...)
}

// families makes the named model families, in the order given, for a season (in
// samples) and a config; Fit's candidates and BacktestDetail's rows both come from it.
func families(season int, cfg Config, names ...string) []candidate {
	out := make([]candidate, len(names))
	for i, name := range names {
		out[i] = candidate{name, family(name, season, cfg)}
	}
	return out
}

// family is the constructor of one named model family. An unknown name is a bug in
// this package, not an input error.
func family(name string, season int, cfg Config) func() stepModel {
	switch name {
	case NameLastValue:
		return func() stepModel { return NewSeasonalNaive(0).(stepModel) }
	case NameSeasonalNaive:
		return func() stepModel { return NewSeasonalNaive(season).(stepModel) }
	case NameSimpleExpSmoothing:
		return func() stepModel { return NewSimpleExpSmoothing().(stepModel) }
	case NameLogScale(NameSimpleExpSmoothing):
		return func() stepModel { return newLogScale(NewSimpleExpSmoothing().(stepModel)) }
	case NameDampedTrend:
		return func() stepModel { return NewDampedTrend().(stepModel) }
	case NameLinearTrend:
		w := linearWindow(cfg)
		return func() stepModel { return NewLinearTrend(w).(stepModel) }
	case NameHoltWintersAdditive:
		return func() stepModel { return NewHoltWinters(season, false).(stepModel) }
	case NameHoltWintersMultiplicative:
		return func() stepModel { return NewHoltWinters(season, true).(stepModel) }
	case NameHoltWintersAdditiveDamped:
		return func() stepModel { return NewDampedHoltWinters(season, false).(stepModel) }
	case NameHoltWintersMultiplicativeDamped:
		return func() stepModel { return NewDampedHoltWinters(season, true).(stepModel) }
	}
	panic("predictor: no model family named " + name)
}

// rollFolds fits a fresh model at each origin on up to window samples before it,
// then forecasts from every origin up to the next one (the last fold runs to the end
// of y), updating with each actual in between. It returns the residuals (actual
// minus forecast) at each lead 1..h, for targets inside y.
func rollFolds(newModel func() stepModel, y []float64, origins []int, h, window int) ([][]float64, error) {
	resi := make([][]float64, h)
	f := make([]float64, h)
	for k, o := range origins {
		end := len(y)
		if k+1 < len(origins) {
			end = origins[k+1]
		}
		m := newModel()
		if err := m.Fit(y[max(0, o-window):o]); err != nil {
			return nil, err
		}
		for t := o; t < end; t++ {
			m.forecastInto(f)
			for j := 0; j < h && t+j < len(y); j++ {
				resi[j] = append(resi[j], y[t+j]-f[j])
			}
			m.Update(y[t])
		}
	}
	return resi, nil
}

// Update adds the next observation to the chosen model, in O(1).
func (p *Predictor) Update(y float64) { p.model.Update(y) }

// Forecast returns the Horizon steps after the last observation.
func (p *Predictor) Forecast() Forecast {
	point := p.model.Forecast(p.cfg.Horizon)
	upper := make([]float64, len(point))
	for k, v := range point {
		upper[k] = v + p.band[k]
	}
	return Forecast{Model: p.model.Name(), Point: point, Upper: upper}
}

// UpperMax is the largest value of the upper band over the horizon: what the
// autoscaler sizes on. It does not allocate.
func (p *Predictor) UpperMax() float64 {
	p.model.forecastInto(p.scratch)
	top := 0.0
	for k, v := range p.scratch {
		top = max(top, v+p.band[k])
	}
	return top
}

// Model is the name of the chosen model.
func (p *Predictor) Model() string { return p.model.Name() }

// Season is the season the predictor used, in samples; 0 for none.
func (p *Predictor) Season() int { return p.season }

func allPositive(y []float64) bool {
	for _, v := range y {
		if !(v > 0) {
			return false
		}
	}
	return true
}

func meanAbs(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += math.Abs(v)
	}
	return s / float64(len(x))
}
