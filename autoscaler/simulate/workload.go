package simulate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
)

// Demand is a trace of concurrent streams sampled at a fixed step.
type Demand struct {
	// Start is the time of the first sample.
	Start time.Time
	// Step is the spacing of samples.
	Step time.Duration
	// Streams is the target concurrency at each step.
	Streams []float64
}

// Resample puts irregular points on a fixed step by linear interpolation, rescaled so
// that the largest value becomes peak. Times must be strictly increasing and values
// finite and non-negative.
func Resample(times []time.Time, values []float64, step time.Duration, peak float64) (Demand, error) {
	if len(times) != len(values) {
		return Demand{}, fmt.Errorf("resampling: %d times but %d values", len(times), len(values))
	}
	if len(times) < 2 {
		return Demand{}, fmt.Errorf("resampling: need at least 2 points, have %d", len(times))
	}
	if step <= 0 {
		return Demand{}, fmt.Errorf("resampling: step %s must be positive", step)
	}
	top := 0.0
	for i, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return Demand{}, fmt.Errorf("resampling: value %v at %s is not a finite non-negative number", v, times[i].Format(time.RFC3339))
		}
		if i > 0 && !times[i].After(times[i-1]) {
			return Demand{}, fmt.Errorf("resampling: time %s does not follow %s", times[i].Format(time.RFC3339), times[i-1].Format(time.RFC3339))
		}
		top = max(top, v)
	}
	if top == 0 {
		return Demand{}, fmt.Errorf("resampling: every value is zero, nothing to replay")
	}
	span := times[len(times)-1].Sub(times[0])
	n := int(span/step) + 1
	if n > 20_000_000 {
		return Demand{}, fmt.Errorf("resampling: %s at a %s step is %d steps, more than 20000000; use a larger step or a window", span, step, n)
	}
	d := Demand{Start: times[0], Step: step, Streams: make([]float64, n)}
	j := 0
	for k := range d.Streams {
		t := times[0].Add(time.Duration(k) * step)
		for j+1 < len(times)-1 && !times[j+1].After(t) {
			j++
		}
		a, b := times[j], times[j+1]
		f := float64(t.Sub(a)) / float64(b.Sub(a))
		f = min(max(f, 0), 1)
		d.Streams[k] = (values[j] + f*(values[j+1]-values[j])) * peak / top
	}
	return d, nil
}

// stream is one client session.
type stream struct {
	start, end int // steps; the stream is up in [start, end)
	bitrate    float64
	push       bool
}

// workload is what every policy replays: the same streams in the same order.
type workload struct {
	streams []stream // sorted by start
	offered []int    // concurrent streams per step if none were refused
}

// trackingSeconds is how fast arrivals close a gap between the target concurrency and
// the sessions still up: about a minute, so surges in the trace reach the fleet at the
// trace's own speed while the Poisson noise stays.
const trackingSeconds = 60

// arrivals draws the streams whose concurrency follows the demand. Sessions have
// log-normal lengths; the arrival rate is the steady-state rate D(t)/mean plus a term
// that closes the gap between D(t) and the sessions still up (which Little's law alone
// would leave open during every rise, since new sessions only accumulate over a mean
// session length).
func arrivals(d Demand, p Profile) workload {
	rng := rand.New(rand.NewPCG(p.Seed, 0x5eed))
	dt := d.Step.Seconds()
	mu := math.Log(p.SessionMeanSeconds) - p.SessionSigma*p.SessionSigma/2
	length := distuv.LogNormal{Mu: mu, Sigma: p.SessionSigma, Src: rng}
	bitrate := distuv.LogNormal{Mu: math.Log(p.BitrateBps) - 0.3*0.3/2, Sigma: 0.3, Src: rng}
	n := len(d.Streams)
	ending := make([]int, n+1)
	var w workload
	add := func(start int) {
		steps := max(int(math.Ceil(length.Rand()/dt)), 1)
		w.streams = append(w.streams, stream{start: start, end: start + steps, bitrate: bitrate.Rand(), push: rng.Float64() < *p.PublishFraction})
		ending[min(start+steps, n)]++
	}
	gain := min(1, dt/trackingSeconds)
	up := 0
	w.offered = make([]int, n)
	for k := 0; k < n; k++ {
		up -= ending[k]
		lambda := d.Streams[k]*dt/p.SessionMeanSeconds + gain*(d.Streams[k]-float64(up))
		if k == 0 {
			lambda = d.Streams[0] // the fleet starts in steady state: the first sample's streams are up
		}
		if lambda > 0 {
			count := int((distuv.Poisson{Lambda: lambda, Src: rng}).Rand())
			for i := 0; i < count; i++ {
				add(k)
			}
			up += count
		}
		w.offered[k] = up
	}
	return w
}

// Session is one client session of a replay: up from step Start to step End
// (exclusive), counted from the demand's Start.
type Session struct {
	Start, End int
	BitrateBps float64
	// Publish is true for a publisher, false for a player.
	Publish bool
}

// Sessions draws the client sessions whose concurrency follows d under p (defaults
// filled in): the same seeded arrivals and log-normal lengths every policy replays, in
// start order, for callers that dispatch them themselves (the demo's players).
func Sessions(d Demand, p Profile) ([]Session, error) {
	p = p.WithDefaults()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if d.Step <= 0 || len(d.Streams) == 0 {
		return nil, fmt.Errorf("drawing sessions: demand of %d steps of %s", len(d.Streams), d.Step)
	}
	w := arrivals(d, p)
	out := make([]Session, len(w.streams))
	for i, s := range w.streams {
		out[i] = Session{Start: s.start, End: s.end, BitrateBps: s.bitrate, Publish: s.push}
	}
	return out, nil
}
