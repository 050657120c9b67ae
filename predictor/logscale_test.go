package predictor

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// bursts draws n samples of a bursty count: a level that wanders slowly, log-normal
// noise around it, and now and then a storm that multiplies it tenfold and fades
// within an hour of 5-minute steps, the shape of the tweet volumes in testdata.
func bursts(n int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 9))
	y := make([]float64, n)
	logLevel, storm := math.Log(40), 0.0
	for t := range y {
		logLevel += 0.02 * rng.NormFloat64()
		if rng.Float64() < 1.0/300 {
			storm = math.Log(10)
		}
		storm *= 0.85
		y[t] = math.Round(math.Exp(logLevel + storm + 0.5*rng.NormFloat64()))
	}
	return y
}

func TestLogScaleIsTheModelOnLogOnePlusY(t *testing.T) {
	y := bursts(600, 3)
	y[10], y[200] = 0, 0 // a count of zero stays finite on log(1+y)
	logs := make([]float64, len(y))
	for i, v := range y {
		logs[i] = math.Log1p(v)
	}
	m := newLogScale(NewSimpleExpSmoothing().(stepModel))
	inner := NewSimpleExpSmoothing()
	if err := m.Fit(y); err != nil {
		t.Fatal(err)
	}
	if err := inner.Fit(logs); err != nil {
		t.Fatal(err)
	}
	if m.Name() != "log(simple-exp-smoothing)" {
		t.Errorf("name %q", m.Name())
	}
	for step, next := range []float64{0, 35, 400} {
		got, onLogs := m.Forecast(3), inner.Forecast(3)
		for k := range got {
			if want := math.Expm1(onLogs[k]); math.Abs(got[k]-want) > 1e-9*want {
				t.Errorf("after %d updates, lead %d: forecast %v, want exp(%v)-1 = %v", step, k+1, got[k], onLogs[k], want)
			}
		}
		m.Update(next)
		inner.Update(math.Log1p(next))
	}
}

func TestLogScaleRejectsNegativeValues(t *testing.T) {
	y := bursts(100, 4)
	y[42] = -1 // log(1+y) would be -Inf
	err := newLogScale(NewSimpleExpSmoothing().(stepModel)).Fit(y)
	// The message names the value as given, not what log(1+y) made of it (-Inf).
	if !errors.Is(err, ErrBadValue) || !strings.Contains(err.Error(), "y[42] = -1 is negative") {
		t.Errorf("error %v, want ErrBadValue saying y[42] = -1 is negative", err)
	}
}

// On bursts the smoother on log(1+y) is not thrown by each storm and forecasts the
// median, so it beats the same smoother on y and the last value, and Fit chooses it.
func TestFitChoosesLogScaleOnBursts(t *testing.T) {
	logSES := NameLogScale(NameSimpleExpSmoothing)
	for _, seed := range []uint64{1, 2, 3} {
		y := bursts(2000, seed)
		cfg := Config{Season: -1, Horizon: 3}
		p, err := Fit(y, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(p.Model(), logSES) {
			t.Errorf("seed %d: Fit chose %s, want %s or a mean with it", seed, p.Model(), logSES)
		}
		wape := backtestWAPE(t, y, cfg)
		if !(wape[logSES] < 0.95*wape[NameSimpleExpSmoothing] && wape[logSES] < 0.95*wape[NameLastValue]) {
			t.Errorf("seed %d: WAPE on log(1+y) %.2f%%, on y %.2f%%, last value %.2f%%: want the first at least 5%% below both",
				seed, 100*wape[logSES], 100*wape[NameSimpleExpSmoothing], 100*wape[NameLastValue])
		}
		t.Logf("seed %d: %s, WAPE auto %.2f%%, log %.2f%%, y %.2f%%, last %.2f%%", seed, p.Model(), 100*wape[NameAuto], 100*wape[logSES], 100*wape[NameSimpleExpSmoothing], 100*wape[NameLastValue])
		if !(wape[NameAuto] < wape[NameLastValue]) {
			t.Errorf("seed %d: auto WAPE %.2f%% is not below the last value's %.2f%%", seed, 100*wape[NameAuto], 100*wape[NameLastValue])
		}
	}
}
