package predictor

import (
	"fmt"

	"gonum.org/v1/gonum/stat"
)

// hwStart is where the search starts, in (alpha, beta, gamma, phi): a level that
// adapts within a few steps, a slow trend, slowly changing seasonal indices and, for
// the damped model, a trend that fades over a few tens of steps.
var hwStart = [4]float64{0.3, 0.02, 0.1, 0.9}

// holtWinters is triple exponential smoothing: a level, an additive trend and a
// season of fixed length, combined additively (y = l + b + s) or multiplicatively
// (y = (l + b)·s), with the textbook error-correction recursions. A damped model
// multiplies the trend by phi at each step (Gardner and McKenzie, 1985), so that its
// forecasts level off instead of running along the trend for ever.
type holtWinters struct {
	season                 int
	multiplicative, damped bool
	// alpha, beta and gamma smooth the level, the trend and the seasonal indices; phi
	// damps the trend, 1 when the model is not damped.
	alpha, beta, gamma, phi float64
	state                   hwState
	fitted                  bool
}

// hwState is the filter state after the last observation.
type hwState struct {
	level, trend float64
	// seasonal holds one index per phase of the season.
	seasonal []float64
	// phase is the season phase of the next observation.
	phase int
}

// NewHoltWinters returns an unfitted Holt-Winters model with a season of the given
// length in samples (at least 2). Fit estimates alpha, beta and gamma by minimising
// the one-step-ahead squared error with Nelder-Mead, each kept in (0, 1) by a
// logistic transform, from an initial state read off the first two seasons. A
// multiplicative model needs every fitted value above zero.
func NewHoltWinters(season int, multiplicative bool) Model {
	return &holtWinters{season: season, multiplicative: multiplicative, phi: 1}
}

// NewDampedHoltWinters is NewHoltWinters with a damped trend: Fit also estimates the
// damping factor phi, kept in [0.8, 0.98].
func NewDampedHoltWinters(season int, multiplicative bool) Model {
	return &holtWinters{season: season, multiplicative: multiplicative, damped: true}
}

func (m *holtWinters) Name() string {
	switch {
	case m.multiplicative && m.damped:
		return NameHoltWintersMultiplicativeDamped
	case m.multiplicative:
		return NameHoltWintersMultiplicative
	case m.damped:
		return NameHoltWintersAdditiveDamped
	}
	return NameHoltWintersAdditive
}

// minSamples is the history Fit needs: two full seasons for the initial state.
func (m *holtWinters) minSamples() int { return 2 * m.season }

func (m *holtWinters) Fit(y []float64) error {
	if m.season < 2 {
		return fmt.Errorf("%w: %s needs a season of at least 2 samples, have %d", ErrBadConfig, m.Name(), m.season)
	}
	if err := checkSeries(y); err != nil {
		return err
	}
	if len(y) < m.minSamples() {
		return tooFew(fmt.Sprintf("%s with a season of %d", m.Name(), m.season), m.minSamples(), len(y))
	}
	if m.multiplicative {
		for i, v := range y {
			if v <= 0 {
				return fmt.Errorf("%w: y[%d] = %v; %s needs values above zero", ErrBadValue, i, v, m.Name())
			}
		}
	}
	init := m.initialState(y)
	work := hwState{seasonal: make([]float64, m.season)}
	sse := func(x []float64) float64 {
		work.level, work.trend, work.phase = init.level, init.trend, init.phase
		copy(work.seasonal, init.seasonal)
		a, b, g, phi := m.params(x)
		total := 0.0
		for _, v := range y {
			e := work.step(v, a, b, g, phi, m.multiplicative)
			total += e * e
		}
		return finiteSSE(total)
	}
	x0 := []float64{logit(hwStart[0]), logit(hwStart[1]), logit(hwStart[2])}
	if m.damped {
		x0 = append(x0, fromPhi(hwStart[3]))
	}
	x, err := minimiseSSE(sse, x0)
	if err != nil {
		return fmt.Errorf("fitting %s: %w", m.Name(), err)
	}
	m.alpha, m.beta, m.gamma, m.phi = m.params(x)
	m.filter(y, init)
	return nil
}

// params maps the search's unconstrained x onto alpha, beta and gamma in (0, 1) and,
// for a damped model, phi in [phiMin, phiMax]; phi is 1 otherwise.
func (m *holtWinters) params(x []float64) (alpha, beta, gamma, phi float64) {
	phi = 1
	if m.damped {
		phi = toPhi(x[3])
	}
	return logistic(x[0]), logistic(x[1]), logistic(x[2]), phi
}

// filter runs the recursion with the current parameters over y from init and keeps
// the final state.
func (m *holtWinters) filter(y []float64, init hwState) {
	m.state = hwState{level: init.level, trend: init.trend, phase: init.phase, seasonal: append([]float64(nil), init.seasonal...)}
	for _, v := range y {
		m.state.step(v, m.alpha, m.beta, m.gamma, m.phi, m.multiplicative)
	}
	m.fitted = true
}

// initialState reads the state before y[0] off the complete seasons of y (at least
// two): the trend is the least-squares slope of the seasons' means, the level is
// that line carried back to time -1, and each phase's index is the mean deviation
// (or ratio) of that phase's values from the line, normalised to sum to zero (or
// average one). Averaging over every season keeps one noisy day out of the indices.
func (m *holtWinters) initialState(y []float64) hwState {
	p := m.season
	k := len(y) / p
	centres, means := make([]float64, k), make([]float64, k)
	for j := range k {
		centres[j] = float64(j*p) + float64(p-1)/2
		means[j] = mean(y[j*p : (j+1)*p])
	}
	origin, trend := stat.LinearRegression(centres, means, nil, false)
	level := origin - trend // the line at t = -1
	seasonal := make([]float64, p)
	for i := range seasonal {
		sum := 0.0
		for j := range k {
			t := i + j*p
			base := level + trend*float64(t+1)
			if m.multiplicative {
				if base <= 0 {
					base = means[j] // a steep fall; the season's own mean is a safe base
				}
				sum += y[t] / base
			} else {
				sum += y[t] - base
			}
		}
		seasonal[i] = sum / float64(k)
	}
	norm := mean(seasonal)
	for i := range seasonal {
		if m.multiplicative {
			seasonal[i] /= norm
		} else {
			seasonal[i] -= norm
		}
	}
	return hwState{level: level, trend: trend, seasonal: seasonal}
}

// step takes one observation and returns its one-step-ahead error (y minus the
// forecast made before seeing it). The trend carried into the step is damped by phi
// (1: not damped). Multiplicative updates skip divisions by a non-positive index or
// level, which only a zero-heavy series reached through Update can produce.
func (s *hwState) step(y, alpha, beta, gamma, phi float64, multiplicative bool) float64 {
	idx := s.seasonal[s.phase]
	base := s.level + phi*s.trend
	var forecast, level float64
	if multiplicative {
		forecast = base * idx
		level = base
		if idx > 0 {
			level = alpha*(y/idx) + (1-alpha)*base
		}
	} else {
		forecast = base + idx
		level = alpha*(y-idx) + (1-alpha)*base
	}
	s.trend = beta*(level-s.level) + (1-beta)*phi*s.trend
	s.level = level
	if multiplicative {
		if level > 0 {
			s.seasonal[s.phase] = gamma*(y/level) + (1-gamma)*idx
		}
	} else {
		s.seasonal[s.phase] = gamma*(y-level) + (1-gamma)*idx
	}
	s.phase++
	if s.phase == len(s.seasonal) {
		s.phase = 0
	}
	return y - forecast
}

func (m *holtWinters) Forecast(h int) []float64 { return forecastSlice(m, h) }

func (m *holtWinters) forecastInto(dst []float64) {
	m.mustBeFitted()
	st := &m.state
	p := len(st.seasonal)
	phase := st.phase
	// steps is phi + phi² + ... + phi^(k+1): the trend steps k+1 steps ahead adds.
	steps, pow := 0.0, 1.0
	for k := range dst {
		pow *= m.phi
		steps += pow
		base := st.level + steps*st.trend
		if m.multiplicative {
			dst[k] = nonNegative(base * st.seasonal[phase])
		} else {
			dst[k] = nonNegative(base + st.seasonal[phase])
		}
		if phase++; phase == p {
			phase = 0
		}
	}
}

func (m *holtWinters) Update(y float64) {
	m.mustBeFitted()
	m.state.step(y, m.alpha, m.beta, m.gamma, m.phi, m.multiplicative)
}

func (m *holtWinters) mustBeFitted() {
	if !m.fitted {
		panic("predictor: " + m.Name() + " used before a successful Fit")
	}
}

func mean(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}
