package predictor

// meanOf is the forecast combination of two fitted models: the mean of their forecasts.
// Averaging two models whose errors differ (a seasonal model and the last season's
// repeat, a smoother and the last value) often beats both, and Fit keeps it only when
// its backtest says so.
type meanOf struct {
	a, b    stepModel
	scratch []float64
}

// newMeanOf returns the unfitted combination of two models.
func newMeanOf(a, b stepModel) stepModel { return &meanOf{a: a, b: b} }

// NameMeanOf names the combination of the two models named a and b.
func NameMeanOf(a, b string) string { return "mean(" + a + ", " + b + ")" }

func (m *meanOf) Name() string { return NameMeanOf(m.a.Name(), m.b.Name()) }

func (m *meanOf) Fit(y []float64) error {
	if err := m.a.Fit(y); err != nil {
		return err
	}
	return m.b.Fit(y)
}

func (m *meanOf) Forecast(h int) []float64 { return forecastSlice(m, h) }

func (m *meanOf) forecastInto(dst []float64) {
	if len(m.scratch) < len(dst) {
		m.scratch = make([]float64, len(dst))
	}
	other := m.scratch[:len(dst)]
	m.a.forecastInto(dst)
	m.b.forecastInto(other)
	for k := range dst {
		dst[k] = (dst[k] + other[k]) / 2
	}
}

func (m *meanOf) Update(y float64) {
	m.a.Update(y)
	m.b.Update(y)
}
