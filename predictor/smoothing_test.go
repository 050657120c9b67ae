package predictor

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// smoothingSeries draws n samples from the model the damped trend assumes (simple
// exponential smoothing when beta is 0), with Gaussian one-step errors of the given
// standard deviation: y = l + phi·b + e, then l += phi·b + alpha·e and
// b = phi·b + alpha·beta·e. Fitting it should give back alpha, beta and phi. It
// also returns the true level and trend after the last sample.
func smoothingSeries(n int, level, alpha, beta, phi, sigma float64, seed uint64) (y []float64, lastLevel, lastTrend float64) {
	rng := rand.New(rand.NewPCG(seed, 2))
	y = make([]float64, n)
	trend := 0.0
	for t := range y {
		e := sigma * rng.NormFloat64()
		y[t] = level + phi*trend + e
		level += phi*trend + alpha*e
		trend = phi*trend + alpha*beta*e
	}
	return y, level, trend
}

func TestSimpleExpSmoothingRecoversAlpha(t *testing.T) {
	for _, c := range []struct {
		name  string
		alpha float64
	}{
		{"a slowly wandering level", 0.1},
		{"a level that follows a third of each surprise", 0.3},
		{"a level close to the last value", 0.7},
	} {
		t.Run(c.name, func(t *testing.T) {
			y, _, _ := smoothingSeries(3000, 500, c.alpha, 0, 0, 2, 70)
			m := NewSimpleExpSmoothing().(*expSmoothing)
			if err := m.Fit(y); err != nil {
				t.Fatal(err)
			}
			t.Logf("alpha %.3f", m.alpha)
			if math.Abs(m.alpha-c.alpha) > 0.05 {
				t.Errorf("alpha = %.3f, want %.2f ± 0.05", m.alpha, c.alpha)
			}
			f := m.Forecast(4)
			for k, v := range f {
				if v != m.level {
					t.Errorf("step %d = %v, want the level %v at every step", k+1, v, m.level)
				}
			}
		})
	}
}

func TestDampedTrendRecoversParametersAndForecasts(t *testing.T) {
	// The trend is an AR(1) with coefficient phi fed by a fifth of each error.
	const alpha, beta, phi, sigma = 0.5, 0.4, 0.9, 1.0
	y, level, trend := smoothingSeries(5000, 1000, alpha, beta, phi, sigma, 71)
	m := NewDampedTrend().(*expSmoothing)
	if err := m.Fit(y); err != nil {
		t.Fatal(err)
	}
	t.Logf("alpha %.3f, beta %.3f, phi %.3f", m.alpha, m.beta, m.phi)
	for _, p := range []struct {
		name      string
		got, want float64
		tol       float64
	}{
		{"alpha", m.alpha, alpha, 0.05},
		{"beta", m.beta, beta, 0.1}, // the least well identified: the trend only sees alpha·beta of each error
		{"phi", m.phi, phi, 0.03},
	} {
		if math.Abs(p.got-p.want) > p.tol {
			t.Errorf("%s = %.3f, want %.2f ± %.2f", p.name, p.got, p.want, p.tol)
		}
	}
	// What the true state and parameters expect k steps ahead: the level plus the
	// trend times phi + phi² + ... + phi^k, in closed form. The fitted filter has
	// tracked the state from the data alone.
	got := m.Forecast(50)
	for _, k := range []int{1, 10, 50} {
		want := level + trend*phi*(1-math.Pow(phi, float64(k)))/(1-phi)
		if math.Abs(got[k-1]-want) > sigma/2 {
			t.Errorf("%d steps ahead = %.3f, the true model expects %.3f (within %.1f)", k, got[k-1], want, sigma/2)
		}
	}
}

func TestExpSmoothingForecastsAndUpdatesByHand(t *testing.T) {
	ses := &expSmoothing{alpha: 0.5, level: 10, fitted: true}
	damped := &expSmoothing{damped: true, alpha: 0.5, beta: 0.5, phi: 0.9, level: 10, trend: 2, fitted: true}
	cases := []struct {
		name   string
		m      *expSmoothing
		update []float64
		want   []float64
	}{
		{"simple: the level", ses, nil, []float64{10, 10, 10}},
		// 10 + 0.5·(20 - 10) = 15.
		{"simple: half of the error moves the level", ses, []float64{20}, []float64{15, 15}},
		// 10 + 2·0.9, 10 + 2·(0.9 + 0.81), 10 + 2·(0.9 + 0.81 + 0.729).
		{"damped: the trend fades by phi a step", damped, nil, []float64{11.8, 13.42, 14.878}},
		// The forecast for 14 was 11.8: the level becomes 11.8 + 0.5·2.2 = 12.9 and
		// the trend 0.5·(12.9 - 10) + 0.5·0.9·2 = 2.35.
		{"damped: after one update", damped, []float64{14}, []float64{12.9 + 0.9*2.35, 12.9 + 1.71*2.35}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, v := range c.update {
				c.m.Update(v)
			}
			got := c.m.Forecast(len(c.want))
			for k := range got {
				if math.Abs(got[k]-c.want[k]) > 1e-9 {
					t.Errorf("step %d = %v, want %v", k+1, got[k], c.want[k])
				}
			}
		})
	}
}

func TestExpSmoothingUpdateContinuesTheFittedFilter(t *testing.T) {
	y, _, _ := smoothingSeries(600, 300, 0.4, 0.3, 0.85, 3, 72)
	for _, newModel := range []func() Model{NewSimpleExpSmoothing, NewDampedTrend} {
		m := newModel().(*expSmoothing)
		if err := m.Fit(y[:400]); err != nil {
			t.Fatal(err)
		}
		for _, v := range y[400:] {
			m.Update(v)
		}
		// The fitted parameters run over the whole series from the same start must
		// land on the same state.
		want := &expSmoothing{damped: m.damped, alpha: m.alpha, beta: m.beta, phi: m.phi, fitted: true}
		want.level, want.trend = m.initialState(y[:400])
		for _, v := range y {
			want.level, want.trend, _ = smoothingStep(v, want.level, want.trend, want.alpha, want.beta, want.phi)
		}
		got, exp := m.Forecast(10), want.Forecast(10)
		for k := range got {
			if math.Abs(got[k]-exp[k]) > 1e-9*math.Abs(exp[k]) {
				t.Fatalf("%s: step %d after Update = %v, the filter gives %v", m.Name(), k+1, got[k], exp[k])
			}
		}
	}
}

func TestExpSmoothingRejectsWhatItCannotFit(t *testing.T) {
	for _, newModel := range []func() Model{NewSimpleExpSmoothing, NewDampedTrend} {
		for _, c := range []struct {
			name   string
			y      []float64
			target error
			msg    string
		}{
			{"one sample", []float64{3}, ErrTooFewSamples, "need at least 2 samples, have 1"},
			{"negative", []float64{3, -1, 4}, ErrBadValue, "y[1] = -1 is negative"},
		} {
			m := newModel()
			t.Run(m.Name()+": "+c.name, func(t *testing.T) {
				err := m.Fit(c.y)
				if !errors.Is(err, c.target) || !strings.Contains(err.Error(), c.msg) {
					t.Fatalf("error %v; want %v naming %q", err, c.target, c.msg)
				}
			})
		}
	}
}

// levelShifts is noise around a level that jumps to a new value every 200 samples,
// with no trend and no season: the last value carries all of the noise, a smoothed
// level only a part of it.
func levelShifts(n int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 3))
	y := make([]float64, n)
	level := 100.0
	for t := range y {
		if t%200 == 0 {
			level = 70 + 60*rng.Float64()
		}
		y[t] = max(0, level+15*rng.NormFloat64())
	}
	return y
}

func TestBacktestPicksSimpleExpSmoothingOnNoisyLevelShifts(t *testing.T) {
	y := levelShifts(1500, 73)
	for _, h := range []int{1, 3} {
		cfg := Config{Season: -1, Horizon: h}
		p, err := Fit(y, cfg)
		if err != nil {
			t.Fatal(err)
		}
		// On Gaussian noise the smoother on log(1+y) is about as good as on y, and the
		// mean of the two may edge out both.
		ses, logSES := NameSimpleExpSmoothing, NameLogScale(NameSimpleExpSmoothing)
		if m := p.Model(); m != ses && m != logSES && m != NameMeanOf(ses, logSES) && m != NameMeanOf(logSES, ses) {
			t.Errorf("horizon %d: Fit chose %s, want simple exponential smoothing on y, on log(1+y), or their mean", h, m)
		}
		wape := backtestWAPE(t, y, cfg)
		if !(wape[NameSimpleExpSmoothing] < 0.8*wape[NameLastValue]) {
			t.Errorf("horizon %d: simple exponential smoothing WAPE %.2f%% is not well below the last value's %.2f%%",
				h, 100*wape[NameSimpleExpSmoothing], 100*wape[NameLastValue])
		}
	}
}
