package predictor

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestDetectSeason(t *testing.T) {
	hourly := []int{24, 168}
	weekly := synthetic{n: 6 * 168, period: 24, base: 100, amp: 30, noise: 5, seed: 7}.series()
	for i := range weekly {
		if day := i / 24 % 7; day >= 5 {
			weekly[i] *= 0.4 // quiet weekends
		}
	}
	cases := []struct {
		name       string
		y          []float64
		candidates []int
		want       int
	}{
		{"daily cycle in hourly data", synthetic{n: 14 * 24, period: 24, base: 100, amp: 30, noise: 10, seed: 8}.series(), hourly, 24},
		{"daily cycle on a steep trend", synthetic{n: 14 * 24, period: 24, base: 100, slope: 2, amp: 30, noise: 10, seed: 9}.series(), hourly, 24},
		{"weekday and weekend cycle", weekly, hourly, 168},
		{"white noise", synthetic{n: 14 * 24, base: 100, noise: 10, seed: 10}.series(), hourly, 0},
		{"a trend is not a season", synthetic{n: 14 * 24, base: 100, slope: 1, noise: 2, seed: 11}.series(), hourly, 0},
		{"a weak cycle under noise", synthetic{n: 14 * 24, period: 24, base: 100, amp: 3, noise: 10, seed: 12}.series(), hourly, 0},
		{"less than two seasons of a candidate", synthetic{n: 40, period: 24, base: 100, amp: 30, seed: 13}.series(), hourly, 0},
		{"constant", slices.Repeat([]float64{5}, 100), hourly, 0},
		{"no candidates", synthetic{n: 14 * 24, period: 24, base: 100, amp: 30, seed: 14}.series(), nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := DetectSeason(c.y, c.candidates); got != c.want {
				t.Errorf("DetectSeason = %d, want %d", got, c.want)
			}
		})
	}
}

func TestDetectSeasonIgnoresNoiseAcrossSeeds(t *testing.T) {
	// White noise must not pass for a season, whatever the draw.
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 2))
		y := make([]float64, 10*24)
		for i := range y {
			y[i] = math.Abs(100 + 20*rng.NormFloat64())
		}
		if got := DetectSeason(y, []int{24, 168}); got != 0 {
			t.Errorf("seed %d: white noise has season %d", seed, got)
		}
	}
}

func TestSeasonCandidates(t *testing.T) {
	cases := []struct {
		step time.Duration
		want []int
	}{
		{time.Minute, []int{1440, 10080}},
		{5 * time.Minute, []int{288, 2016}},
		{30 * time.Minute, []int{48, 336}},
		{time.Hour, []int{24, 168}},
		{24 * time.Hour, []int{7}},
		{0, nil},
	}
	for _, c := range cases {
		if got := SeasonCandidates(c.step); !slices.Equal(got, c.want) {
			t.Errorf("SeasonCandidates(%s) = %v, want %v", c.step, got, c.want)
		}
	}
}
