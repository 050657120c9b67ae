package predictor

import (
	"errors"
	"slices"
	"testing"
)

func TestSeasonalNaive(t *testing.T) {
	y := []float64{1, 2, 3, 4, 5, 6, 7}
	cases := []struct {
		name   string
		season int
		model  string
		h      int
		want   []float64
	}{
		{"repeats the last season", 3, NameSeasonalNaive, 7, []float64{5, 6, 7, 5, 6, 7, 5}},
		{"season 0 is last value", 0, NameLastValue, 3, []float64{7, 7, 7}},
		{"season 1 is last value", 1, NameLastValue, 2, []float64{7, 7}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := NewSeasonalNaive(c.season)
			if m.Name() != c.model {
				t.Errorf("name %q, want %q", m.Name(), c.model)
			}
			if err := m.Fit(y); err != nil {
				t.Fatal(err)
			}
			if got := m.Forecast(c.h); !slices.Equal(got, c.want) {
				t.Errorf("Forecast(%d) = %v, want %v", c.h, got, c.want)
			}
		})
	}
}

func TestSeasonalNaiveUpdateEqualsRefit(t *testing.T) {
	y := []float64{4, 8, 15, 16, 23, 42, 4, 9, 14, 17, 22, 40, 5}
	for _, season := range []int{0, 2, 5} {
		updated := NewSeasonalNaive(season)
		if err := updated.Fit(y[:6]); err != nil {
			t.Fatal(err)
		}
		for _, v := range y[6:] {
			updated.Update(v)
		}
		refit := NewSeasonalNaive(season)
		if err := refit.Fit(y); err != nil {
			t.Fatal(err)
		}
		if got, want := updated.Forecast(11), refit.Forecast(11); !slices.Equal(got, want) {
			t.Errorf("season %d: after Update %v, refitted %v", season, got, want)
		}
	}
}

func TestSeasonalNaiveNeedsOneSeason(t *testing.T) {
	err := NewSeasonalNaive(24).Fit(make([]float64, 23))
	if !errors.Is(err, ErrTooFewSamples) {
		t.Fatalf("error %v, want ErrTooFewSamples", err)
	}
}
