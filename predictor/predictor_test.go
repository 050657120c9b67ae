package predictor

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFitChoosesAModelForTheSeries(t *testing.T) {
	line := make([]float64, 200)
	for i := range line {
		line[i] = 10 + 0.5*float64(i)
	}
	cases := []struct {
		name       string
		y          []float64
		cfg        Config
		wantSeason int
		wantModels []string
	}{
		{
			name:       "daily cycle in hourly data is detected and smoothed",
			y:          synthetic{n: 21 * 24, period: 24, base: 100, slope: 0.05, amp: 30, noise: 2, seed: 20}.series(),
			cfg:        Config{Step: time.Hour, Horizon: 2},
			wantSeason: 24,
			wantModels: []string{NameHoltWintersAdditive, NameHoltWintersMultiplicative},
		},
		{
			name:       "swing that grows with the level",
			y:          synthetic{n: 21 * 24, period: 24, base: 50, slope: 1, ratio: 0.6, noise: 1, seed: 21}.series(),
			cfg:        Config{Season: 24, Horizon: 1},
			wantSeason: 24,
			wantModels: []string{NameHoltWintersMultiplicative},
		},
		{
			name:       "a ramp without a season",
			y:          line,
			cfg:        Config{Season: -1, Step: time.Hour, Horizon: 3},
			wantModels: []string{NameLinearTrend},
		},
		{
			name:       "a given season with too little history for Holt-Winters",
			y:          synthetic{n: 60, period: 24, base: 100, amp: 30, seed: 22}.series(),
			cfg:        Config{Season: 24, Horizon: 1},
			wantSeason: 24,
			wantModels: []string{NameSeasonalNaive, NameLinearTrend, NameLastValue},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Fit(c.y, c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if p.Season() != c.wantSeason {
				t.Errorf("season %d, want %d", p.Season(), c.wantSeason)
			}
			if !slices.Contains(c.wantModels, p.Model()) {
				t.Errorf("chose %s, want one of %v", p.Model(), c.wantModels)
			}
			f := p.Forecast()
			if f.Model != p.Model() || len(f.Point) != c.cfg.Horizon || len(f.Upper) != c.cfg.Horizon {
				t.Fatalf("forecast %+v for a horizon of %d", f, c.cfg.Horizon)
			}
		})
	}
}

func TestUpperBandIsAtLeastThePoint(t *testing.T) {
	series := map[string][]float64{
		"noisy cycle":     synthetic{n: 14 * 24, period: 24, base: 100, amp: 40, noise: 15, seed: 30}.series(),
		"falling to zero": synthetic{n: 200, base: 100, slope: -1, noise: 3, seed: 31}.series(),
		"white noise":     synthetic{n: 300, base: 50, noise: 20, seed: 32}.series(),
	}
	for name, y := range series {
		for _, h := range []int{1, 6} {
			p, err := Fit(y, Config{Step: time.Hour, Horizon: h})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			f := p.Forecast()
			top := 0.0
			for k := range f.Point {
				if f.Upper[k] < f.Point[k] || f.Point[k] < 0 {
					t.Errorf("%s, horizon %d: step %d has point %v and upper %v", name, h, k+1, f.Point[k], f.Upper[k])
				}
				top = max(top, f.Upper[k])
			}
			if got := p.UpperMax(); got != top {
				t.Errorf("%s, horizon %d: UpperMax %v, max of Upper %v", name, h, got, top)
			}
		}
	}
}

func TestHigherQuantileWidensTheBand(t *testing.T) {
	y := synthetic{n: 14 * 24, period: 24, base: 100, amp: 40, noise: 15, seed: 33}.series()
	width := func(q float64) float64 {
		p, err := Fit(y, Config{Season: 24, Horizon: 3, Quantile: q})
		if err != nil {
			t.Fatal(err)
		}
		f := p.Forecast()
		return f.Upper[2] - f.Point[2]
	}
	if lo, hi := width(0.6), width(0.97); !(hi > lo) {
		t.Errorf("band at q0.97 (%v) is not wider than at q0.6 (%v)", hi, lo)
	}
}

func TestPredictorUpdateMovesTheForecastWithoutRefitting(t *testing.T) {
	// On a ramp the predictor picks the linear trend; each Update must move the
	// forecast one step along the same line.
	line := func(t int) float64 { return 10 + 0.5*float64(t) }
	y := make([]float64, 300)
	for i := range y {
		y[i] = line(i)
	}
	p, err := Fit(y[:200], Config{Season: -1, Horizon: 4})
	if err != nil {
		t.Fatal(err)
	}
	if p.Model() != NameLinearTrend {
		t.Fatalf("chose %s on a ramp", p.Model())
	}
	for i := 200; i < 300; i++ {
		p.Update(y[i])
	}
	f := p.Forecast()
	for k, got := range f.Point {
		if want := line(300 + k); math.Abs(got-want) > 1e-9 {
			t.Errorf("step %d = %v after updates, want %v", k+1, got, want)
		}
	}
	if got, want := p.UpperMax(), line(303); math.Abs(got-want) > 1e-9 {
		t.Errorf("UpperMax %v on an exact line, want %v (no residuals, no band)", got, want)
	}
}

func TestFitRejectsBadInput(t *testing.T) {
	ok := synthetic{n: 100, base: 10, noise: 1, seed: 40}.series()
	with := func(i int, v float64) []float64 {
		y := slices.Clone(ok)
		y[i] = v
		return y
	}
	cases := []struct {
		name   string
		y      []float64
		cfg    Config
		target error
		msg    string
	}{
		{"too short", ok[:5], Config{Horizon: 1}, ErrTooFewSamples, "need at least 12 samples, have 5"},
		{"too short for the horizon", ok[:20], Config{Horizon: 6}, ErrTooFewSamples, "need at least 27 samples, have 20"},
		{"NaN", with(7, math.NaN()), Config{Horizon: 1}, ErrBadValue, "y[7] is NaN"},
		{"infinity", with(9, math.Inf(1)), Config{Horizon: 1}, ErrBadValue, "y[9] is +Inf"},
		{"negative", with(3, -2), Config{Horizon: 1}, ErrBadValue, "y[3] = -2 is negative"},
		{"horizon 0", ok, Config{}, ErrBadConfig, "Horizon 0"},
		{"quantile 1.5", ok, Config{Horizon: 1, Quantile: 1.5}, ErrBadConfig, "Quantile 1.5"},
		{"negative backtests", ok, Config{Horizon: 1, Backtests: -1}, ErrBadConfig, "Backtests -1"},
		{"season -2", ok, Config{Horizon: 1, Season: -2}, ErrBadConfig, "Season -2"},
		{"negative step", ok, Config{Horizon: 1, Step: -time.Second}, ErrBadConfig, "Step -1s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Fit(c.y, c.cfg)
			if !errors.Is(err, c.target) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %v; want %v naming %q", err, c.target, c.msg)
			}
		})
	}
}
