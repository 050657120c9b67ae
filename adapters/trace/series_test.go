package trace

import (
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)

// series builds a trace from (minutes after t0, value) pairs.
func series(pairs ...float64) *Series {
	s := &Series{Source: "mem", Column: "value"}
	for i := 0; i+1 < len(pairs); i += 2 {
		s.Points = append(s.Points, Point{Time: t0.Add(time.Duration(pairs[i] * float64(time.Minute))), Value: pairs[i+1]})
	}
	return s
}

func minute(m float64) time.Time { return t0.Add(time.Duration(m * float64(time.Minute))) }

func values(s *Series) []float64 {
	v := make([]float64, len(s.Points))
	for i, p := range s.Points {
		v[i] = p.Value
	}
	return v
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func nearlyEqual(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-12*math.Max(math.Abs(a[i]), math.Abs(b[i])) {
			return false
		}
	}
	return true
}

func TestStep(t *testing.T) {
	tests := []struct {
		name string
		s    *Series
		want time.Duration
	}{
		{"empty series has no step", series(), 0},
		{"one point has no step", series(0, 1), 0},
		{"regular one-minute trace", series(0, 1, 1, 1, 2, 1, 3, 1), time.Minute},
		{"a few holes do not change the step", series(0, 1, 1, 1, 2, 1, 6, 1, 7, 1, 8, 1), time.Minute},
		{"even number of gaps takes the middle two", series(0, 1, 1, 1, 3, 1), 90 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.Step(); got != tc.want {
				t.Errorf("Step() = %v; want %v", got, tc.want)
			}
		})
	}
}

func TestMax(t *testing.T) {
	tests := []struct {
		name string
		s    *Series
		want float64
	}{
		{"empty series", series(), 0},
		{"all zero", series(0, 0, 1, 0), 0},
		{"peak in the middle", series(0, 3, 1, 229400, 2, 7), 229400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.Max(); got != tc.want {
				t.Errorf("Max() = %v; want %v", got, tc.want)
			}
		})
	}
}

func TestWindow(t *testing.T) {
	s := series(0, 10, 1, 11, 2, 12, 3, 13, 4, 14)
	tests := []struct {
		name     string
		from, to time.Time
		want     []float64
	}{
		{"both ends open is the whole trace", time.Time{}, time.Time{}, []float64{10, 11, 12, 13, 14}},
		{"from is inclusive, to exclusive", minute(1), minute(3), []float64{11, 12}},
		{"open start", time.Time{}, minute(2), []float64{10, 11}},
		{"open end", minute(3), time.Time{}, []float64{13, 14}},
		{"bounds between samples", minute(0.5), minute(2.5), []float64{11, 12}},
		{"empty when to is not after from", minute(3), minute(3), []float64{}},
		{"empty when reversed", minute(4), minute(1), []float64{}},
		{"empty before the trace", minute(-10), minute(-5), []float64{}},
		{"empty after the trace", minute(10), time.Time{}, []float64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := s.Window(tc.from, tc.to)
			if got := values(w); !equalFloats(got, tc.want) {
				t.Errorf("Window values = %v; want %v", got, tc.want)
			}
			if w.Source != s.Source || w.Column != s.Column {
				t.Errorf("Window lost Source/Column: %q %q", w.Source, w.Column)
			}
		})
	}
	t.Run("window is a copy", func(t *testing.T) {
		w := s.Window(time.Time{}, time.Time{})
		w.Points[0].Value = 999
		if s.Points[0].Value != 10 {
			t.Errorf("changing the window changed the original")
		}
	})
}

func TestScaled(t *testing.T) {
	tests := []struct {
		name string
		s    *Series
		peak float64
		want []float64
	}{
		{"scaled up to the peak", series(0, 1, 1, 2, 2, 4), 1000, []float64{250, 500, 1000}},
		{"scaled down to the peak", series(0, 50, 1, 200), 20, []float64{5, 20}},
		{"awkward factor still hits the peak exactly", series(0, 3, 1, 7), 0.1, []float64{3.0 / 7 * 0.1, 0.1}},
		{"zero peak zeroes everything", series(0, 3, 1, 7), 0, []float64{0, 0}},
		{"all-zero trace is copied unchanged", series(0, 0, 1, 0), 100, []float64{0, 0}},
		{"negative peak leaves values unchanged", series(0, 3, 1, 7), -1, []float64{3, 7}},
		{"NaN peak leaves values unchanged", series(0, 3, 1, 7), math.NaN(), []float64{3, 7}},
		{"huge peak does not overflow", series(0, 1e300, 1, 2e300), math.MaxFloat64, []float64{math.MaxFloat64 / 2, math.MaxFloat64}},
		{"empty trace", series(), 5, []float64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := values(tc.s)
			got := tc.s.Scaled(tc.peak)
			if v := values(got); !nearlyEqual(v, tc.want) {
				t.Errorf("Scaled(%v) = %v; want %v", tc.peak, v, tc.want)
			}
			if tc.s.Max() > 0 && tc.peak >= 0 && got.Max() != tc.peak {
				t.Errorf("Scaled(%v).Max() = %v; want it exact", tc.peak, got.Max())
			}
			if !equalFloats(values(tc.s), before) {
				t.Errorf("Scaled changed the original")
			}
		})
	}
}

func TestAt(t *testing.T) {
	s := series(0, 10, 5, 20, 10, 30)
	tests := []struct {
		name string
		s    *Series
		at   time.Time
		want float64
	}{
		{"before the first point holds the first value", s, minute(-60), 10},
		{"exactly on a point takes that point", s, minute(5), 20},
		{"between points holds the earlier one", s, minute(9.99), 20},
		{"after the last point holds the last value", s, minute(1e4), 30},
		{"first instant", s, minute(0), 10},
		{"empty series is zero", series(), minute(0), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.At(tc.at); got != tc.want {
				t.Errorf("At(%v) = %v; want %v", tc.at, got, tc.want)
			}
		})
	}
}
