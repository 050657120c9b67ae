package trace

import (
	"math"
	"slices"
	"sort"
	"time"
)

// Point is one sample of a trace.
type Point struct {
	Time  time.Time
	Value float64
}

// Series is a trace read from one value column, in time order.
type Series struct {
	// Source is the file path or name given to Load or Parse.
	Source string
	// Column is the header of the value column used.
	Column string
	// Points have strictly increasing Time and finite, non-negative Value.
	Points []Point
}

// Step is the median spacing of consecutive points, so a few gaps do not
// change it; 0 with fewer than two points.
func (s *Series) Step() time.Duration {
	n := len(s.Points)
	if n < 2 {
		return 0
	}
	d := make([]time.Duration, n-1)
	for i := 1; i < n; i++ {
		d[i-1] = s.Points[i].Time.Sub(s.Points[i-1].Time)
	}
	slices.Sort(d)
	m := len(d) / 2
	if len(d)%2 == 1 {
		return d[m]
	}
	return d[m-1] + (d[m]-d[m-1])/2
}

// Max is the largest value; 0 for an empty series.
func (s *Series) Max() float64 {
	m := 0.0
	for _, p := range s.Points {
		m = math.Max(m, p.Value)
	}
	return m
}

// Window returns a copy holding the points with from <= Time < to. A zero
// from or to leaves that end open.
func (s *Series) Window(from, to time.Time) *Series {
	lo, hi := 0, len(s.Points)
	if !from.IsZero() {
		lo = s.firstNotBefore(from)
	}
	if !to.IsZero() {
		hi = s.firstNotBefore(to)
	}
	hi = max(hi, lo)
	return &Series{Source: s.Source, Column: s.Column, Points: slices.Clone(s.Points[lo:hi])}
}

// Scaled returns a copy with every value multiplied by the same factor so
// that Max() == peak. A series whose Max() is 0, or a peak that is negative
// or not finite, gives an unscaled copy.
func (s *Series) Scaled(peak float64) *Series {
	out := &Series{Source: s.Source, Column: s.Column, Points: slices.Clone(s.Points)}
	m := s.Max()
	if m == 0 || peak < 0 || math.IsNaN(peak) || math.IsInf(peak, 0) {
		return out
	}
	for i := range out.Points {
		v := out.Points[i].Value
		if v == m {
			out.Points[i].Value = peak // exact, whatever the rounding below does
			continue
		}
		// v/m <= 1 first, so a large peak cannot overflow.
		out.Points[i].Value = v / m * peak
	}
	return out
}

// At is the value in force at t: that of the last point at or before t. Before
// the first point it is the first value; an empty series gives 0.
func (s *Series) At(t time.Time) float64 {
	if len(s.Points) == 0 {
		return 0
	}
	i := sort.Search(len(s.Points), func(i int) bool { return s.Points[i].Time.After(t) })
	if i == 0 {
		return s.Points[0].Value
	}
	return s.Points[i-1].Value
}

// firstNotBefore is the index of the first point with Time >= t.
func (s *Series) firstNotBefore(t time.Time) int {
	return sort.Search(len(s.Points), func(i int) bool { return !s.Points[i].Time.Before(t) })
}
