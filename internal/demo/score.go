package demo

import (
	"fmt"
	"time"

	"github.com/streamscaler/streamscaler/autoscaler/simulate"
	"github.com/streamscaler/streamscaler/internal/demo/players"
)

// score keeps the live run's figures in the simulator's terms, in trace time.
type score struct {
	capacity int
	offered  []int // sessions in progress per trace step
	start    time.Time
	step     time.Duration

	podSeconds, overloadSeconds, streamSeconds float64
	rejected                                   int64 // the dispatcher's count at the last tick
	scaleEvents, peakPods                      int
	replicas                                   int32
	series                                     simulate.Series
	nextSample                                 time.Time

	states     map[string]int // pods per state at the last tick, for progress lines
	byState    StateSeries
	violations []string // pods removed while not deletable or with players
	removed    int
}

func newScore(sessions []simulate.Session, steps int, start time.Time, step time.Duration, capacity int) *score {
	diff := make([]int, steps+1)
	for _, s := range sessions {
		if s.Start >= steps {
			continue
		}
		diff[s.Start]++
		diff[min(s.End, steps)]--
	}
	offered := make([]int, steps)
	run := 0
	for k := range offered {
		run += diff[k]
		offered[k] = run
	}
	return &score{capacity: capacity, offered: offered, start: start, step: step}
}

func (s *score) offeredAt(t time.Time) int {
	k := int(t.Sub(s.start) / s.step)
	if k < 0 || k >= len(s.offered) {
		return 0
	}
	return s.offered[k]
}

// audit checks the pods that started to go since the last tick: each must have been
// deletable, with none of its players still on it (players kicked off it before it went
// were evicted, not cut). up is the players per pod before this tick's kicks.
func (s *score) audit(now time.Time, gone []removal, up map[string]int, kicks []players.Kick) {
	left := map[string]int{}
	for pod, n := range up {
		left[pod] = n
	}
	for _, k := range kicks {
		left[k.Pod]--
	}
	for _, g := range gone {
		s.removed++
		if g.state != "deletable" || left[g.pod] > 0 {
			s.violations = append(s.violations, fmt.Sprintf("%s: pod %s removed in state %q with %d players", now.Format(time.TimeOnly), g.pod, g.state, max(0, left[g.pod])))
		}
	}
}

// account adds the time from the previous tick to now. rejected is the dispatcher's
// running count of refused players: a tick that refused one was overloaded, whatever the
// capacity said, as in the simulator.
func (s *score) account(now time.Time, dt time.Duration, live []livePod, up map[string]int, replicas int32, rejected int64) {
	sec := dt.Seconds()
	capacity, streams := 0, 0
	s.states = map[string]int{}
	for _, p := range live {
		s.states[p.state]++
		streams += up[p.name]
		if p.ready && !p.deleting && p.state == "allocated" {
			capacity += s.capacity
		} else {
			capacity += up[p.name]
		}
	}
	offered := s.offeredAt(now)
	s.podSeconds += float64(len(live)) * sec
	s.streamSeconds += float64(streams) * sec
	if offered > capacity || rejected > s.rejected {
		s.overloadSeconds += sec
	}
	s.rejected = rejected
	s.peakPods = max(s.peakPods, len(live))
	if s.replicas != 0 && replicas != s.replicas {
		s.scaleEvents++
	}
	s.replicas = replicas
	if !now.Before(s.nextSample) {
		s.series.Add(now, float64(offered), float64(capacity), float64(len(live)))
		s.byState.add(s.start, now, s.states)
		s.nextSample = now.Add(time.Minute)
	}
}

// result is the live run as a simulator record.
func (s *score) result(totals players.Counts) simulate.Result {
	r := simulate.Result{
		Policy: "live", PodHours: s.podSeconds / 3600, OverloadSeconds: s.overloadSeconds,
		RejectedStreams: totals.Rejected, EvictedStreams: totals.Evicted, LostStreams: totals.Lost,
		ScaleEvents: s.scaleEvents, PeakPods: s.peakPods, Series: s.series,
	}
	if s.podSeconds > 0 {
		r.MeanUtilization = s.streamSeconds / (s.podSeconds * float64(s.capacity))
	}
	return r
}

// StateSeries is the live fleet's pods per state, sampled once a minute of trace.
type StateSeries struct {
	// Hours since the start of the replay.
	Hours []float64 `json:"hours"`
	// Pods holds, per state (init, allocated, tombstone, deletable), a count per sample.
	Pods map[string][]float64 `json:"pods"`
}

func (s *StateSeries) add(start, now time.Time, states map[string]int) {
	if s.Pods == nil {
		s.Pods = map[string][]float64{}
	}
	s.Hours = append(s.Hours, now.Sub(start).Hours())
	for _, st := range []string{"init", "allocated", "tombstone", "deletable"} {
		s.Pods[st] = append(s.Pods[st], float64(states[st]))
	}
}
