package predictor

import (
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestMeanOfForecastsTheMeanAndUpdatesBoth(t *testing.T) {
	y := []float64{1, 5, 2, 8, 3, 6, 2, 9}
	a, b := NewSeasonalNaive(4).(stepModel), NewSeasonalNaive(0).(stepModel)
	m := newMeanOf(NewSeasonalNaive(4).(stepModel), NewSeasonalNaive(0).(stepModel))
	for _, fit := range []Model{a, b, m} {
		if err := fit.Fit(y); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := m.Name(), "mean(seasonal-naive, last-value)"; got != want {
		t.Errorf("name %q, want %q", got, want)
	}
	check := func(when string) {
		t.Helper()
		fa, fb, fm := a.Forecast(5), b.Forecast(5), m.Forecast(5)
		for k := range fm {
			if want := (fa[k] + fb[k]) / 2; fm[k] != want {
				t.Errorf("%s: step %d: %g, want the mean of %g and %g", when, k+1, fm[k], fa[k], fb[k])
			}
		}
	}
	check("after the fit")
	for _, v := range []float64{4, 7, 1} {
		a.Update(v)
		b.Update(v)
		m.Update(v)
	}
	check("after three updates")
}

// wikiHourly reads the bundled Wikipedia trace (English requests per hour, January 2016).
func wikiHourly(t *testing.T) []float64 {
	t.Helper()
	f, err := os.Open("../testdata/traces/wiki_en_hourly_2016-01.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var y []float64
	for i, r := range rows[1:] {
		v, err := strconv.ParseFloat(r[1], 64)
		if err != nil {
			t.Fatalf("row %d: %v", i+2, err)
		}
		y = append(y, v)
	}
	return y
}

// On Wikipedia six hours ahead, seasonal-naive alone won the backtest and Holt-Winters
// came second; their mean beats both, so Fit chooses it, and the Predictor's own
// backtest row beats the naive ones, as issue 12 asks of every bundled trace.
func TestFitCombinesTheTwoBestWhenTheirMeanWins(t *testing.T) {
	y := wikiHourly(t)
	cfg := Config{Season: 168, Step: time.Hour, Horizon: 6}
	p, err := Fit(y, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.Model(), "mean(seasonal-naive, holt-winters") {
		t.Errorf("chose %s, want the mean of seasonal-naive and Holt-Winters", p.Model())
	}
	wape := backtestWAPE(t, y, cfg)
	for _, naive := range []string{NameSeasonalNaive, NameLastValue} {
		if !(wape[NameAuto] < wape[naive]) {
			t.Errorf("auto WAPE %.4f does not beat %s's %.4f", wape[NameAuto], naive, wape[naive])
		}
	}
}

// A series that repeats exactly is forecast without error by seasonal-naive: no mean
// can do better, so none is chosen.
func TestFitKeepsASingleModelThatCannotBeBeaten(t *testing.T) {
	y := make([]float64, 24*21)
	for i := range y {
		y[i] = float64(100 + 40*(i%24)/23)
	}
	p, err := Fit(y, Config{Season: 24, Horizon: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Model(); strings.HasPrefix(got, "mean(") {
		t.Errorf("chose %s for an exactly repeating series, want a single model", got)
	}
}

// backtestWAPE is Backtest's WAPE by model name.
func backtestWAPE(t *testing.T, y []float64, cfg Config) map[string]float64 {
	t.Helper()
	scores, err := Backtest(y, cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	wape := map[string]float64{}
	for _, s := range scores {
		wape[s.Model] = s.WAPE
	}
	return wape
}

func TestChooseSkipsErrorsThatAreNotNumbers(t *testing.T) {
	one := func(name string, resi ...float64) scored {
		return scored{c: candidate{name: name}, mae: meanAbs(resi), resi: [][]float64{resi}}
	}
	for _, c := range []struct {
		name string
		all  []scored
		want string
	}{
		{"a NaN error never wins", []scored{one("nan", math.NaN()), one("a", 2, 2)}, "a"},
		{"nor an infinite one", []scored{one("inf", math.Inf(1)), one("a", 2, 2)}, "a"},
		{"the simplest of equals", []scored{one("a", 1, 1), one("b", 1, 1)}, "a"},
		{"the mean when it beats both", []scored{one("a", 2, -2), one("b", -2, 2)}, NameMeanOf("a", "b")},
		{"the best alone when the mean does not", []scored{one("a", 1, 1), one("b", 3, 3)}, "a"},
		// A smoother fitted to alpha all but 1 is the last value, winning in the last bits.
		{"a win in the last bits is a tie: the simplest", []scored{one("a", 1, 1), one("b", 1-1e-13, 1)}, "a"},
		{"the simplest of the tied best, after a worse one", []scored{one("worse", 3, 3), one("a", 1, 1), one("b", 1-1e-13, 1)}, "a"},
		{"nor does the mean win in the last bits", []scored{one("a", 1, 1), one("b", 1-4e-13, 1+1e-13)}, "a"},
		{"a real win still wins", []scored{one("a", 1, 1), one("b", 0.999, 1)}, "b"},
	} {
		t.Run(c.name, func(t *testing.T) {
			best, _, ok := choose(c.all, 1)
			if !ok || best.name != c.want {
				t.Errorf("chose %q (ok %v), want %q", best.name, ok, c.want)
			}
		})
	}
	if _, _, ok := choose([]scored{{c: candidate{name: "nan"}, mae: math.NaN(), resi: [][]float64{{math.NaN()}}}}, 1); ok {
		t.Error("chose a model with a NaN error when it was the only one")
	}
}
