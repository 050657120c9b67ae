package predictor

import (
	"math"
	"math/rand/v2"
)

// synthetic builds seeded test series: y[t] = level(t) · (1 + ratio·wave) + amp·wave
// + noise, with wave a sine of the given period.
type synthetic struct {
	n, period   int
	base, slope float64 // level(t) = base + slope·t
	amp         float64 // additive seasonal amplitude
	ratio       float64 // multiplicative seasonal amplitude (0.5 = ±50 %)
	noise       float64 // standard deviation of Gaussian noise
	seed        uint64
}

func (s synthetic) series() []float64 {
	rng := rand.New(rand.NewPCG(s.seed, 1))
	y := make([]float64, s.n)
	for t := range y {
		wave := 0.0
		if s.period > 0 {
			wave = math.Sin(2 * math.Pi * float64(t) / float64(s.period))
		}
		level := s.base + s.slope*float64(t)
		y[t] = max(0, level*(1+s.ratio*wave)+s.amp*wave+s.noise*rng.NormFloat64())
	}
	return y
}

// wape is sum|a-f| / sum|a|.
func wape(actual, forecast []float64) float64 {
	var e, a float64
	for i := range actual {
		e += math.Abs(actual[i] - forecast[i])
		a += math.Abs(actual[i])
	}
	return e / a
}
