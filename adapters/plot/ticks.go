package plot

import (
	"math"
	"strconv"

	gplot "gonum.org/v1/plot"
)

// compactTicks places ticks like gonum's default but labels them briefly:
// load axes reach millions, and "17500.00" or "1e+06" are hard to read.
type compactTicks struct{}

func (compactTicks) Ticks(lo, hi float64) []gplot.Tick {
	ticks := gplot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = compactLabel(ticks[i].Value)
		}
	}
	return ticks
}

// compactLabel writes v with at most four significant digits and a k, M or
// G suffix from ten thousand up.
func compactLabel(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return strconv.FormatFloat(v/1e9, 'g', 4, 64) + "G"
	case a >= 1e6:
		return strconv.FormatFloat(v/1e6, 'g', 4, 64) + "M"
	case a >= 1e4:
		return strconv.FormatFloat(v/1e3, 'g', 4, 64) + "k"
	case a < 1e-9:
		return "0" // a tick computed as 1e-17 is zero
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}
