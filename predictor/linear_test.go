package predictor

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestLinearTrendIsExactOnALine(t *testing.T) {
	line := func(t int) float64 { return 3 + 2*float64(t) }
	y := make([]float64, 50)
	for i := range y {
		y[i] = line(i)
	}
	cases := []struct {
		name    string
		window  int
		fitted  int // samples given to Fit; the rest come through Update
		samples int
	}{
		{"window shorter than the history", 10, 50, 50},
		{"window longer than the history", 100, 50, 50},
		{"updates past several windows", 7, 12, 50},
		{"updates while the window fills", 30, 5, 20},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := NewLinearTrend(c.window)
			if err := m.Fit(y[:c.fitted]); err != nil {
				t.Fatal(err)
			}
			for _, v := range y[c.fitted:c.samples] {
				m.Update(v)
			}
			for k, got := range m.Forecast(5) {
				if want := line(c.samples + k); math.Abs(got-want) > 1e-9 {
					t.Errorf("step %d = %v, want %v", k+1, got, want)
				}
			}
		})
	}
}

func TestLinearTrendRunningSumsMatchGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 1))
	m := NewLinearTrend(25).(*linearTrend)
	y := make([]float64, 40)
	for i := range y {
		y[i] = 1e6 + 1e4*rng.Float64()
	}
	if err := m.Fit(y); err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		m.Update(1e6 + 1e4*rng.Float64() + float64(i))
		a, b := m.line()
		wa, wb := m.coefficients()
		if math.Abs(a-wa) > 1e-6*math.Abs(wa) || math.Abs(b-wb) > 1e-6*math.Max(math.Abs(wb), 1) {
			t.Fatalf("after %d updates the running line is %v + %v·x, gonum's %v + %v·x", i+1, a, b, wa, wb)
		}
	}
}

func TestLinearTrendNeverForecastsBelowZero(t *testing.T) {
	m := NewLinearTrend(5)
	if err := m.Fit([]float64{50, 40, 30, 20, 10}); err != nil {
		t.Fatal(err)
	}
	want := []float64{0, 0, 0}
	for k, got := range m.Forecast(3) {
		if got != want[k] {
			t.Errorf("step %d = %v, want %v", k+1, got, want[k])
		}
	}
}

func TestLinearTrendRejects(t *testing.T) {
	if err := NewLinearTrend(1).Fit([]float64{1, 2, 3}); !errors.Is(err, ErrBadConfig) {
		t.Errorf("window 1: %v", err)
	}
	if err := NewLinearTrend(8).Fit([]float64{1}); !errors.Is(err, ErrTooFewSamples) {
		t.Errorf("one sample: %v", err)
	}
	if err := NewLinearTrend(8).Fit([]float64{1, -2}); !errors.Is(err, ErrBadValue) {
		t.Errorf("negative value: %v", err)
	}
}
