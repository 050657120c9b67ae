package predictor

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestBacktestScoresTheValueAtTheHorizon(t *testing.T) {
	// On y = t the last value is always exactly h behind at lead h, and the linear
	// trend is exact, so every score can be worked out by hand.
	y := make([]float64, 400)
	for i := range y {
		y[i] = float64(i)
	}
	const h = 3
	r, err := BacktestDetail(y, Config{Season: -1, Horizon: h}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if r.Season != 0 || r.Start != 3*48 || r.RefitEvery != 10 {
		t.Fatalf("season %d, start %d, refit every %d", r.Season, r.Start, r.RefitEvery)
	}
	points := len(y) - h + 1 - r.Start
	sumActual := 0.0
	for t := r.Start + h - 1; t < len(y); t++ {
		sumActual += y[t]
	}
	// MASE is scaled by the one-step naive error on the history, which is 1. On a
	// line, simple exponential smoothing fits alpha = 1 (any smoothing only lags
	// more) and so is the last value. The damped trend lags a little: its trend
	// fades by at least 2% a step. On log(1+y) simple exponential smoothing fits alpha
	// just below 1 too, so it lags the last value by a hair.
	lastValue := Score{WAPE: h * float64(points) / sumActual, MASE: h, UnderShare: 1, Points: points}
	want := map[string]Score{
		NameLinearTrend:        {WAPE: 0, MASE: 0, UnderShare: 0, Points: points},
		NameSimpleExpSmoothing: lastValue,
		NameLastValue:          lastValue,
		NameAuto:               {WAPE: 0, MASE: 0, UnderShare: 0, Points: points},
	}
	if len(r.Scores) != len(want)+2 {
		t.Fatalf("rows %+v, want %d", r.Scores, len(want)+2)
	}
	for _, s := range r.Scores {
		if s.Model == NameDampedTrend {
			if !(s.WAPE > 0 && s.WAPE < lastValue.WAPE/10) || s.Points != points {
				t.Errorf("%s scored %+v, want a WAPE above 0 and well below the last value's %v", s.Model, s, lastValue.WAPE)
			}
			continue
		}
		if s.Model == NameLogScale(NameSimpleExpSmoothing) {
			if !(s.WAPE >= lastValue.WAPE && s.WAPE < 1.1*lastValue.WAPE) || s.Points != points {
				t.Errorf("%s scored %+v, want a WAPE at most 10%% above the last value's %v", s.Model, s, lastValue.WAPE)
			}
			continue
		}
		w, ok := want[s.Model]
		if !ok {
			t.Errorf("unexpected row %+v", s)
			continue
		}
		if math.Abs(s.WAPE-w.WAPE) > 1e-9 || math.Abs(s.MASE-w.MASE) > 1e-9 || s.UnderShare != w.UnderShare || s.Points != w.Points {
			t.Errorf("%s scored %+v, want %+v", s.Model, s, w)
		}
	}
	if r.Targets[0] != r.Start+h-1 || r.Targets[len(r.Targets)-1] != len(y)-1 {
		t.Errorf("targets run from %d to %d", r.Targets[0], r.Targets[len(r.Targets)-1])
	}
}

func TestBacktestOnASeasonalSeries(t *testing.T) {
	y := synthetic{n: 21 * 24, period: 24, base: 200, slope: 0.1, amp: 60, noise: 4, seed: 50}.series()
	r, err := BacktestDetail(y, Config{Step: time.Hour, Horizon: 2}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Season != 24 || r.RefitEvery != 24 || r.Start != 72 {
		t.Fatalf("season %d, refit every %d, start %d", r.Season, r.RefitEvery, r.Start)
	}
	rows := map[string]Score{}
	for _, s := range r.Scores {
		if math.IsNaN(s.WAPE) || math.IsInf(s.WAPE, 0) || s.Points != len(y)-2+1-72 {
			t.Errorf("row %+v", s)
		}
		rows[s.Model] = s
	}
	for _, m := range []string{
		NameHoltWintersAdditive, NameHoltWintersAdditiveDamped, NameHoltWintersMultiplicative, NameHoltWintersMultiplicativeDamped,
		NameDampedTrend, NameLinearTrend, NameSimpleExpSmoothing, NameLogScale(NameSimpleExpSmoothing), NameSeasonalNaive, NameLastValue, NameAuto,
	} {
		if _, ok := rows[m]; !ok {
			t.Errorf("no %s row in %+v", m, r.Scores)
		}
	}
	if auto, naive := rows[NameAuto].WAPE, rows[NameSeasonalNaive].WAPE; !(auto < naive) {
		t.Errorf("auto WAPE %.2f%% is not below seasonal naive %.2f%%", 100*auto, 100*naive)
	}
	if r.UpperCoverage < 0.75 {
		t.Errorf("the q0.9 upper band covered only %.0f%% of actuals", 100*r.UpperCoverage)
	}
	for i := range r.Point {
		if r.Upper[i] < r.Point[i] {
			t.Fatalf("target %d: upper %v below point %v", r.Targets[i], r.Upper[i], r.Point[i])
		}
	}
}

func TestBacktestNeedsThreeSpans(t *testing.T) {
	_, err := Backtest(make([]float64, 72), Config{Season: 24, Horizon: 1}, 0)
	if !errors.Is(err, ErrTooFewSamples) || !strings.Contains(err.Error(), "need at least 73 samples, have 72") {
		t.Fatalf("error %v, want ErrTooFewSamples naming 73 and 72", err)
	}
}
