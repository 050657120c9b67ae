package trace

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes and column names to Parse: it must never
// panic, must reject with a *ParseError, and whatever it accepts must keep the
// Series promises.
func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		f.Add(tc.csv, tc.opt.Column, tc.opt.TimeColumn)
	}
	for _, tc := range rejectCases {
		f.Add(tc.csv, tc.opt.Column, tc.opt.TimeColumn)
	}
	f.Fuzz(func(t *testing.T, data, column, timeColumn string) {
		s, err := Parse(strings.NewReader(data), "fuzz.csv", Options{Column: column, TimeColumn: timeColumn})
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Source != "fuzz.csv" {
				t.Fatalf("error %q (%T) is not a *ParseError for fuzz.csv", err, err)
			}
			return
		}
		if len(s.Points) == 0 {
			t.Fatal("accepted a trace with no points")
		}
		for i, p := range s.Points {
			if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) || p.Value < 0 || math.Signbit(p.Value) {
				t.Fatalf("point %d has value %v", i, p.Value)
			}
			if i > 0 && !p.Time.After(s.Points[i-1].Time) {
				t.Fatalf("point %d at %v is not after point %d at %v", i, p.Time, i-1, s.Points[i-1].Time)
			}
		}
		// The derived views must not panic and must keep the invariants too.
		_ = s.Step()
		if m := s.Scaled(100).Max(); m != 100 && s.Max() != 0 {
			t.Fatalf("Scaled(100).Max() = %v", m)
		}
		w := s.Window(s.Points[0].Time, s.Points[len(s.Points)-1].Time)
		if len(w.Points) != len(s.Points)-1 {
			t.Fatalf("window over [first, last) has %d points; want %d", len(w.Points), len(s.Points)-1)
		}
		if got := s.At(s.Points[0].Time); got != s.Points[0].Value {
			t.Fatalf("At(first) = %v; want %v", got, s.Points[0].Value)
		}
	})
}
