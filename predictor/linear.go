package predictor

import (
	"fmt"

	"gonum.org/v1/gonum/stat"
)

// linearTrend extrapolates the least-squares line through the last window samples.
// The window is a ring; Update keeps the sums the line needs, so it is O(1), and
// recomputes them exactly once per window to stop rounding from drifting.
type linearTrend struct {
	window int
	// ring holds the last min(window, seen) samples; oldest is the index of the oldest.
	ring   []float64
	oldest int
	// sumY and sumXY are over the ring with x = 0 for the oldest sample.
	sumY, sumXY float64
	// sinceExact counts updates since the sums were last recomputed.
	sinceExact int
	fitted     bool
}

// NewLinearTrend returns an unfitted model that forecasts along the least-squares
// line (gonum/stat.LinearRegression) through the last window samples, window >= 2.
func NewLinearTrend(window int) Model { return &linearTrend{window: window} }

func (m *linearTrend) Name() string { return NameLinearTrend }

func (m *linearTrend) minSamples() int { return 2 }

func (m *linearTrend) Fit(y []float64) error {
	if m.window < 2 {
		return fmt.Errorf("%w: %s needs a window of at least 2 samples, have %d", ErrBadConfig, m.Name(), m.window)
	}
	if err := checkSeries(y); err != nil {
		return err
	}
	if len(y) < m.minSamples() {
		return tooFew(m.Name(), m.minSamples(), len(y))
	}
	last := y[max(0, len(y)-m.window):]
	m.ring = append(make([]float64, 0, m.window), last...)
	m.oldest = 0
	m.resum()
	m.fitted = true
	return nil
}

// resum recomputes the sums from the ring.
func (m *linearTrend) resum() {
	m.sumY, m.sumXY = 0, 0
	for j := range m.ring {
		v := m.ring[(m.oldest+j)%len(m.ring)]
		m.sumY += v
		m.sumXY += float64(j) * v
	}
	m.sinceExact = 0
}

// line is the intercept (at x = 0, the oldest sample) and slope of the fit. The
// closed form on the running sums equals stat.LinearRegression on the window, which
// coefficients computes and the tests compare against.
func (m *linearTrend) line() (intercept, slope float64) {
	n := float64(len(m.ring))
	sumX := n * (n - 1) / 2
	sumXX := (n - 1) * n * (2*n - 1) / 6
	slope = (n*m.sumXY - sumX*m.sumY) / (n*sumXX - sumX*sumX)
	return (m.sumY - slope*sumX) / n, slope
}

// coefficients fits the window with gonum from scratch.
func (m *linearTrend) coefficients() (intercept, slope float64) {
	n := len(m.ring)
	x, y := make([]float64, n), make([]float64, n)
	for j := range n {
		x[j], y[j] = float64(j), m.ring[(m.oldest+j)%n]
	}
	return stat.LinearRegression(x, y, nil, false)
}

func (m *linearTrend) Forecast(h int) []float64 { return forecastSlice(m, h) }

func (m *linearTrend) forecastInto(dst []float64) {
	m.mustBeFitted()
	a, b := m.line()
	last := float64(len(m.ring) - 1)
	for k := range dst {
		dst[k] = nonNegative(a + b*(last+float64(k+1)))
	}
}

func (m *linearTrend) Update(y float64) {
	m.mustBeFitted()
	if len(m.ring) < m.window {
		// Still filling: the new sample gets the next x, nothing shifts.
		m.sumXY += float64(len(m.ring)) * y
		m.sumY += y
		// The ring is in order (oldest == 0) until it is full.
		m.ring = append(m.ring, y)
		return
	}
	// Full: drop the oldest, every x moves down by one, the new sample takes the last x.
	old := m.ring[m.oldest]
	m.sumXY += -(m.sumY - old) + float64(m.window-1)*y
	m.sumY += y - old
	m.ring[m.oldest] = y
	m.oldest = (m.oldest + 1) % m.window
	if m.sinceExact++; m.sinceExact >= m.window {
		m.resum()
	}
}

func (m *linearTrend) mustBeFitted() {
	if !m.fitted {
		panic("predictor: " + m.Name() + " used before a successful Fit")
	}
}
