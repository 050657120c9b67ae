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
	for _, m := range []*holtWinters{
		NewHoltWinters(24, false).(*holtWinters),
		NewHoltWinters(24, true).(*holtWinters),
		NewDampedHoltWinters(24, false).(*holtWinters),
		NewDampedHoltWinters(24, true).(*holtWinters),
	} {
		if err := m.Fit(y[:20*24]); err != nil {
			t.Fatal(err)
		}
		for _, v := range y[20*24:] {
			m.Update(v)
		}
		// The same parameters run over the whole series from the same initial state,
		// without any refit, must land on the same state.
		want := &holtWinters{season: 24, multiplicative: m.multiplicative, damped: m.damped,
			alpha: m.alpha, beta: m.beta, gamma: m.gamma, phi: m.phi}
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
	for _, m := range []*holtWinters{NewHoltWinters(24, false).(*holtWinters), NewDampedHoltWinters(24, false).(*holtWinters)} {
		if err := m.Fit(y); err != nil {
			t.Fatal(err)
		}
		for name, p := range map[string]float64{"alpha": m.alpha, "beta": m.beta, "gamma": m.gamma} {
			if !(p >= 0 && p <= 1) {
				t.Errorf("%s: %s = %v", m.Name(), name, p)
			}
		}
		if m.damped && !(m.phi >= phiMin && m.phi <= phiMax) || !m.damped && m.phi != 1 {
			t.Errorf("%s: phi = %v", m.Name(), m.phi)
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

func TestDampedHoltWintersLevelsOffWithTheTrend(t *testing.T) {
	// A daily cycle of ±20 on a level that rises by 10·0.97^t an hour, towards about
	// 423: after four days it still climbs by about half a unit an hour, 3% less
	// each hour. The undamped model runs on along its trend; the damped one bends.
	const period, fitted, ahead = 24, 4 * 24, 3 * 24
	y := make([]float64, fitted+ahead)
	level, step := 100.0, 10.0
	for t := range y {
		step *= 0.97
		level += step
		y[t] = level + 20*math.Sin(2*math.Pi*float64(t)/period)
	}
	score := map[bool]float64{}
	for _, damped := range []bool{false, true} {
		m := NewHoltWinters(period, false)
		if damped {
			m = NewDampedHoltWinters(period, false)
		}
		if err := m.Fit(y[:fitted]); err != nil {
			t.Fatal(err)
		}
		score[damped] = wape(y[fitted:], m.Forecast(ahead))
		t.Logf("%s: WAPE %.2f%% phi %.3f", m.Name(), 100*score[damped], m.(*holtWinters).phi)
	}
	if !(score[true] < score[false]/2) {
		t.Errorf("damped WAPE %.2f%% is not below half the undamped %.2f%%", 100*score[true], 100*score[false])
	}
}

func TestDampedHoltWintersForecastsByHand(t *testing.T) {
	// A level of 10, a trend of 2 damped by 0.9, and a season of two phases, +1 then -1.
	m := &holtWinters{season: 2, damped: true, alpha: 0.5, beta: 0.5, gamma: 0.5, phi: 0.9, fitted: true,
		state: hwState{level: 10, trend: 2, seasonal: []float64{1, -1}}}
	// 10 + 2·0.9 + 1, 10 + 2·(0.9 + 0.81) - 1, 10 + 2·(0.9 + 0.81 + 0.729) + 1.
	want := []float64{12.8, 12.42, 15.878}
	got := m.Forecast(3)
	for k := range want {
		if math.Abs(got[k]-want[k]) > 1e-9 {
			t.Errorf("step %d = %v, want %v", k+1, got[k], want[k])
		}
	}
	// The forecast for 14 was 12.8: the level becomes 0.5·(14 - 1) + 0.5·11.8 = 12.4,
	// the trend 0.5·(12.4 - 10) + 0.5·0.9·2 = 2.1, phase 0's index
	// 0.5·(14 - 12.4) + 0.5·1 = 1.3; next comes phase 1.
	m.Update(14)
	want = []float64{12.4 + 0.9*2.1 - 1, 12.4 + 1.71*2.1 + 1.3}
	got = m.Forecast(2)
	for k := range want {
		if math.Abs(got[k]-want[k]) > 1e-9 {
			t.Errorf("after one update, step %d = %v, want %v", k+1, got[k], want[k])
		}
	}
}
