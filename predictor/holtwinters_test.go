package predictor

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestHoltWintersRecoversSeasonAndTrend(t *testing.T) {
	// 28 days of hourly samples: a daily sine of ±20 on a rising level, noise σ = 1.
	y := synthetic{n: 28 * 24, period: 24, base: 100, slope: 0.05, amp: 20, noise: 1, seed: 1}.series()
	truth := synthetic{n: 28 * 24, period: 24, base: 100, slope: 0.05, amp: 20}.series()
	const fitDays, ahead = 25, 72
	cases := []struct {
		name           string
		multiplicative bool
	}{
		{"additive model", false},
		{"multiplicative model on additive data", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := NewHoltWinters(24, c.multiplicative)
			if err := m.Fit(y[:fitDays*24]); err != nil {
				t.Fatal(err)
			}
			got := m.Forecast(ahead)
			if len(got) != ahead {
				t.Fatalf("Forecast(%d) has %d values", ahead, len(got))
			}
			if w := wape(truth[fitDays*24:fitDays*24+ahead], got); w >= 0.03 {
				t.Errorf("WAPE over the next 3 days = %.2f%%, want < 3%%", 100*w)
			}
		})
	}
}

func TestMultiplicativeBeatsAdditiveWhenAmplitudeGrowsWithLevel(t *testing.T) {
	// The level grows tenfold over 20 days and the daily swing is ±60 % of it.
	s := synthetic{n: 20 * 24, period: 24, base: 50, slope: 1, ratio: 0.6, noise: 1, seed: 2}
	y, truth := s.series(), s
	truth.noise = 0
	want := truth.series()[18*24:]
	score := map[bool]float64{}
	for _, mult := range []bool{false, true} {
		m := NewHoltWinters(24, mult)
		if err := m.Fit(y[:18*24]); err != nil {
			t.Fatal(err)
		}
		score[mult] = wape(want, m.Forecast(len(want)))
	}
	if !(score[true] < score[false]) {
		t.Errorf("multiplicative WAPE %.2f%% is not below additive %.2f%%", 100*score[true], 100*score[false])
	}
}

func TestHoltWintersUpdateContinuesTheFittedFilter(t *testing.T) {
	y := synthetic{n: 30 * 24, period: 24, base: 200, slope: 0.2, amp: 40, ratio: 0.2, noise: 5, seed: 3}.series()
	for _, mult := range []bool{false, true} {
		m := NewHoltWinters(24, mult).(*holtWinters)
		if err := m.Fit(y[:20*24]); err != nil {
			t.Fatal(err)
		}
		for _, v := range y[20*24:] {
			m.Update(v)
		}
		// The same parameters run over the whole series from the same initial state,
		// without any refit, must land on the same state.
		want := &holtWinters{season: 24, multiplicative: mult, alpha: m.alpha, beta: m.beta, gamma: m.gamma}
		want.filter(y, m.initialState(y[:20*24]))
		got, exp := m.Forecast(48), want.Forecast(48)
		for k := range got {
			if math.Abs(got[k]-exp[k]) > 1e-9*math.Abs(exp[k]) {
				t.Fatalf("%s: step %d after Update = %v, the filter gives %v", m.Name(), k+1, got[k], exp[k])
			}
		}
	}
}

func TestHoltWintersParametersStayInsideTheUnitInterval(t *testing.T) {
	y := synthetic{n: 10 * 24, period: 24, base: 100, amp: 30, noise: 3, seed: 4}.series()
	m := NewHoltWinters(24, false).(*holtWinters)
	if err := m.Fit(y); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]float64{"alpha": m.alpha, "beta": m.beta, "gamma": m.gamma} {
		if !(p >= 0 && p <= 1) {
			t.Errorf("%s = %v", name, p)
		}
	}
}

func TestHoltWintersRejectsWhatItCannotFit(t *testing.T) {
	ok := synthetic{n: 72, period: 24, base: 10, amp: 5, seed: 5}.series()
	withZero := append([]float64(nil), ok...)
	withZero[30] = 0
	withNaN := append([]float64(nil), ok...)
	withNaN[7] = math.NaN()
	cases := []struct {
		name   string
		model  Model
		y      []float64
		target error
		msg    string
	}{
		{"season below 2", NewHoltWinters(1, false), ok, ErrBadConfig, "season of at least 2"},
		{"less than two seasons", NewHoltWinters(24, false), ok[:47], ErrTooFewSamples, "need at least 48 samples, have 47"},
		{"zero for multiplicative", NewHoltWinters(24, true), withZero, ErrBadValue, "y[30] = 0"},
		{"NaN", NewHoltWinters(24, false), withNaN, ErrBadValue, "y[7] is NaN"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.model.Fit(c.y)
			if !errors.Is(err, c.target) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %v; want %v naming %q", err, c.target, c.msg)
			}
		})
	}
}
