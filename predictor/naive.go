package predictor

import "fmt"

// seasonalNaive repeats the last season: y[t+h] = y[t+h-season·k] for the smallest
// k that lands in the past. With a season of 0 or 1 it repeats the last value.
type seasonalNaive struct {
	season int
	// ring holds the last season samples; oldest is the index of the oldest.
	ring   []float64
	oldest int
}

// NewSeasonalNaive returns an unfitted seasonal naive model; a season below 2 makes
// it the last-value model.
func NewSeasonalNaive(season int) Model { return &seasonalNaive{season: max(season, 1)} }

func (m *seasonalNaive) Name() string {
	if m.season == 1 {
		return NameLastValue
	}
	return NameSeasonalNaive
}

func (m *seasonalNaive) minSamples() int { return m.season }

func (m *seasonalNaive) Fit(y []float64) error {
	if err := checkSeries(y); err != nil {
		return err
	}
	if len(y) < m.minSamples() {
		what := m.Name()
		if m.season > 1 {
			what = fmt.Sprintf("%s with a season of %d", what, m.season)
		}
		return tooFew(what, m.minSamples(), len(y))
	}
	m.ring = append(make([]float64, 0, m.season), y[len(y)-m.season:]...)
	m.oldest = 0
	return nil
}

func (m *seasonalNaive) Forecast(h int) []float64 { return forecastSlice(m, h) }

func (m *seasonalNaive) forecastInto(dst []float64) {
	if m.ring == nil {
		panic("predictor: " + m.Name() + " used before a successful Fit")
	}
	// Step k+1 ahead is (k mod season) samples after the oldest one kept.
	for k := range dst {
		dst[k] = m.ring[(m.oldest+k%m.season)%m.season]
	}
}

func (m *seasonalNaive) Update(y float64) {
	if m.ring == nil {
		panic("predictor: " + m.Name() + " used before a successful Fit")
	}
	m.ring[m.oldest] = y
	m.oldest = (m.oldest + 1) % m.season
}
