package predictor

import (
	"math"
	"slices"
	"time"

	"gonum.org/v1/gonum/stat"
)

// seasonMinACF is how strongly a series must repeat itself one season later for the
// season to count; a longer season must beat a shorter one by seasonLongerMargin.
const (
	seasonMinACF       = 0.3
	seasonLongerMargin = 0.05
)

// day and week are the season lengths that Fit tries when Config.Season is 0.
const (
	day  = 24 * time.Hour
	week = 7 * day
)

// SeasonCandidates is one day and one week in samples of the given step, skipping
// any shorter than 2 samples; none for a step of zero or less.
func SeasonCandidates(step time.Duration) []int {
	if step <= 0 {
		return nil
	}
	var out []int
	for _, period := range []time.Duration{day, week} {
		if m := int(math.Round(float64(period) / float64(step))); m >= 2 {
			out = append(out, m)
		}
	}
	return out
}

// DetectSeason returns the candidate season (in samples) at which y repeats itself
// most strongly, or 0 when none does. The rule, on y with its least-squares line
// removed (so that a trend does not look like a season):
//
//   - a candidate m needs at least two seasons of data (len(y) >= 2m);
//   - its autocorrelation r(m) must be at least 0.3, and above r(m/2): a real season
//     peaks at its own lag, while a trend or a random walk decays smoothly;
//   - among those that pass, the one with the largest r(m) wins, except that a longer
//     one must beat a shorter one by 0.05: a daily cycle repeats itself a week later
//     just as well, and the shorter season needs less history and learns faster.
//
// r(lag) is the mean lagged product over the mean square, each averaged over the
// pairs it has, so that long lags are not penalised for having fewer pairs.
func DetectSeason(y []float64, candidates []int) int {
	n := len(y)
	if n < 4 {
		return 0
	}
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(i)
	}
	a, b := stat.LinearRegression(x, y, nil, false)
	d := make([]float64, n)
	for i, v := range y {
		d[i] = v - (a + b*float64(i))
	}
	best, bestR := 0, math.Inf(-1)
	for _, m := range slices.Sorted(slices.Values(candidates)) {
		if m < 2 || 2*m > n {
			continue
		}
		r := autocorrelation(d, m)
		if r < seasonMinACF || r <= autocorrelation(d, m/2) {
			continue
		}
		if best == 0 || r > bestR+seasonLongerMargin {
			best, bestR = m, r
		}
	}
	return best
}

// autocorrelation of d (mean zero) at lag; 0 for a constant series.
func autocorrelation(d []float64, lag int) float64 {
	n := len(d)
	var sq, prod float64
	for i, v := range d {
		sq += v * v
		if i >= lag {
			prod += v * d[i-lag]
		}
	}
	if sq == 0 || lag >= n {
		return 0
	}
	return (prod / float64(n-lag)) / (sq / float64(n))
}
