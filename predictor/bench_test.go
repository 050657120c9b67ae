package predictor

import (
	"testing"
	"time"
)

// fourteenDays is 14 days of one-minute samples with a daily cycle, a slow trend
// and noise: the history a controller would fit on.
func fourteenDays() []float64 {
	return synthetic{n: 14 * 1440, period: 1440, base: 2000, slope: 0.01, amp: 800, ratio: 0.1, noise: 60, seed: 60}.series()
}

// BenchmarkFit14Days1Min is one full Fit: season detection, the backtest of every
// candidate (four folds each) and the final fit, on 20160 samples.
func BenchmarkFit14Days1Min(b *testing.B) {
	y := fourteenDays()
	cfg := Config{Step: time.Minute, Horizon: 15}
	b.ReportAllocs()
	for b.Loop() {
		p, err := Fit(y, cfg)
		if err != nil {
			b.Fatal(err)
		}
		if p.Season() != 1440 {
			b.Fatalf("season %d", p.Season())
		}
	}
}

// BenchmarkHoltWintersFit14Days1Min is one Nelder-Mead fit of additive Holt-Winters
// on the whole 14 days (Fit itself fits on at most four seasons).
func BenchmarkHoltWintersFit14Days1Min(b *testing.B) {
	y := fourteenDays()
	b.ReportAllocs()
	for b.Loop() {
		if err := NewHoltWinters(1440, false).Fit(y); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateForecast is the per-decision work: one new sample, then the upper
// band's maximum over a 15-step horizon.
func BenchmarkUpdateForecast(b *testing.B) {
	y := fourteenDays()
	p, err := Fit(y, Config{Step: time.Minute, Horizon: 15})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	var sink float64
	for b.Loop() {
		p.Update(y[i])
		sink += p.UpperMax()
		if i++; i == len(y) {
			i = 0
		}
	}
	_ = sink
}
