package autoscaler

import (
	"fmt"
	"sort"
	"time"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/statemachine"
)

// Snapshot is what one pass sees of a policy's fleet. The caller fills it from the world
// (the controller from the API server and a metrics source, the simulator from its
// fleet); the pass does no I/O.
type Snapshot struct {
	// Now is the time of the pass.
	Now time.Time
	// Spec is the policy.
	Spec *v1alpha1.ScalingPolicySpec
	// Pods are the target's live pods with their stored state. Their Values matter only
	// when a decision is due (Memory.Due): the caller reads metrics then, and only then.
	Pods []PodSample
	// Pending counts pods the workload is still to create; negative, pods it runs beyond
	// its replicas and removes itself (a rollout's surge), which are then not counted.
	Pending int32
	// Replicas and PodsToDelete are the workload's spec now (the CloneSet's replicas and
	// scaleStrategy.podsToDelete): the pass writes them only when they must change.
	Replicas     int32
	PodsToDelete []string
	// SourceErr is the metrics source's failure in a due pass; nil when it answered.
	SourceErr error
}

// Memory is what a policy keeps between passes. The controller holds one per policy and
// the simulator one per run. Losing it (a restart) is safe: the first pass after it that
// can compute a metric seeds the stabilization history with the serving count, so no
// scale-in follows a restart before a whole scale-down window of readings has passed.
type Memory struct {
	// History feeds stabilization windows and rate policies.
	History History
	// Forecaster is the policy's load history and models while prediction is on. The
	// caller builds (and seeds) it; the pass feeds it and drops it when prediction is off.
	Forecaster *LoadForecaster
	// Next is when the next metric-driven decision is due.
	Next time.Time
	// Failures counts consecutive failed reads of the metrics source.
	Failures int32
	started  bool
}

// Due reports whether a pass at now makes a metric-driven decision, so the caller knows
// whether to read metrics for it.
func (m *Memory) Due(now time.Time) bool { return !now.Before(m.Next) }

// Move is one pod state change the caller must carry out, in the order given.
type Move struct {
	// Pod is the pod's name.
	Pod string
	// Transition is the move, fired through the state machine and its guards.
	Transition statemachine.Transition
	// Evict is set for a drain timeout: the caller evicts what is left on the pod first,
	// and records the move only when that worked (see Outcome.Resize).
	Evict bool
	// Streams is what was left on the pod, when known (the evictor's count).
	Streams float64
	// Held is set when the move drains a pod the workload waits to delete.
	Held bool
}

// Scale is the workload write a pass asks for: replicas for the pods that stay plus the
// pods to create, and exactly the deletable pods named for deletion, in one update.
type Scale struct {
	// Replicas is the workload's spec.replicas to write.
	Replicas int32
	// PodsToDelete are the deletable pods, sorted; the workload deletes exactly these.
	PodsToDelete []string
	// Write is false when the workload already says this.
	Write bool
}

// Outcome is everything a pass asks of its caller.
type Outcome struct {
	// Now is the time of the pass.
	Now time.Time
	// Due is set when this pass made a metric-driven decision.
	Due bool
	// Act is false for a paused or dry-run policy: Moves is then empty and Scale.Write
	// false, and Recommendation and Plan are what would have been done.
	Act bool
	// Moves are the state changes to carry out, in order: lifecycle moves (ready, drained,
	// drain timeout) pod by pod, then the plan's revivals, cancellations and tombstones.
	Moves []Move
	// Recommendation is the sizing decision; nil when no decision was due.
	Recommendation *Recommendation
	// Plan is which pods the recommendation moves and how many to create.
	Plan Plan
	// Release are the held pods that are now deletable, sorted: the caller releases the
	// workload's preDelete hook on each, and the workload deletes them.
	Release []string
	// Scale is the workload write.
	Scale Scale
	// Current counts pods per state after the moves.
	Current map[statemachine.State]int

	keep, create, pending int32
	have                  []string      // the workload's podsToDelete before the pass
	replicas              int32         // the workload's replicas before the pass
	period                time.Duration // the policy's sync period
}

// Decide is one pass for a policy: advance pod states that need no decision (Ready init
// pods at once; drains only when a decision is due, on fresh samples), then, when due,
// size the fleet (forecast included), plan which pods move, and resize the workload so
// that it keeps every pod that is not deletable, adds the new ones and names the rest.
// It updates mem's history, failure count and forecaster; the caller calls mem.Commit
// once it has carried the outcome out.
func Decide(s Snapshot, mem *Memory) (Outcome, error) {
	spec := s.Spec
	o := Outcome{Now: s.Now, Due: mem.Due(s.Now), Act: !spec.Paused && !spec.DryRun, pending: s.Pending, have: s.PodsToDelete, replicas: s.Replicas, period: spec.Period()}
	pods := make([]PodSample, len(s.Pods))
	copy(pods, s.Pods)
	if !spec.Predicting() {
		mem.Forecaster = nil
	}
	if o.Due {
		if s.SourceErr != nil {
			mem.Failures++
		} else {
			mem.Failures = 0
		}
	}
	steps, err := progress(pods, spec, s.Now, o.Due)
	if err != nil {
		return Outcome{}, fmt.Errorf("advancing pod states: %w", err)
	}
	moves := applyMoves(pods, steps)
	if o.Due {
		rec, plan, planned, err := decide(s, pods, mem)
		if err != nil {
			return Outcome{}, err
		}
		o.Recommendation, o.Plan = &rec, plan
		moves = append(moves, planned...)
		o.create = plan.Create
	}
	if !o.Act {
		o.Current = countStates(s.Pods) // nothing moves
		return o, nil
	}
	o.Current = countStates(pods)
	o.Moves = moves
	var gone []string
	for _, p := range pods {
		switch {
		case p.Held && p.State == statemachine.Deletable:
			o.Release = append(o.Release, p.Name)
			if !p.Leaving {
				o.keep++ // updated in place: it stays in the replicas
			}
		case p.Leaving: // the workload removes it and no longer counts it
		case p.State == statemachine.Deletable && p.Updating:
			o.keep++ // released, the workload restarts it in place: not ours to delete
		case p.State == statemachine.Deletable:
			gone = append(gone, p.Name)
		default:
			o.keep++
		}
	}
	sort.Strings(o.Release)
	o.Scale = o.resize(gone)
	return o, nil
}

// decide sizes the fleet on the samples and plans the moves, firing each through the
// state machine on pods.
func decide(s Snapshot, pods []PodSample, mem *Memory) (Recommendation, Plan, []Move, error) {
	in := Input{Now: s.Now, Spec: s.Spec, Pods: pods, Pending: s.Pending, SourceFailures: mem.Failures}
	if mem.Forecaster != nil {
		in.Forecast = mem.Forecaster.Forecast()
		in.ForecastError = map[string]float64{}
		for k := range in.Forecast {
			in.ForecastError[k] = mem.Forecaster.Status(k).ErrorPercent
		}
		ev := mem.Forecaster.EventLoad(s.Now, s.Spec)
		for k, v := range ev.Load {
			if v > in.Forecast[k] {
				in.Forecast[k], in.Event = v, ev.Event
			}
		}
	}
	// After a restart the scale-down window runs from the first pass whose metrics could
	// be computed, not from the first pass: a start-up can spend longer than a short window
	// allocating pods and waiting for a source that has not scraped them yet, and that
	// first reading may still be stale. (Recommend is pure; the throwaway history keeps
	// this look from counting as a decision.)
	if !mem.started && s.SourceErr == nil && Recommend(in, &History{}).Active {
		mem.History.Recommendations = append(mem.History.Recommendations, Timed{At: s.Now, Replicas: serving(pods, s.Pending)})
		mem.started = true
	}
	rec := Recommend(in, &mem.History)
	if mem.Forecaster != nil && s.SourceErr == nil {
		totals := map[string]float64{}
		for _, m := range rec.Metrics {
			if m.Valid {
				totals[m.Key] = m.Total
			}
		}
		mem.Forecaster.Observe(s.Now, totals)
	}
	plan := PlanScale(pods, s.Pending, rec.Replicas)
	index := make(map[string]int, len(pods))
	for i, p := range pods {
		index[p.Name] = i
	}
	var moves []Move
	for _, mv := range []struct {
		names []string
		event statemachine.Event
	}{{plan.Revive, statemachine.EventRevive}, {plan.Cancel, statemachine.EventCancel}, {plan.Tombstone, statemachine.EventScaleIn}} {
		for _, n := range mv.names {
			p := &pods[index[n]]
			m, err := statemachine.Restore(p.State, p.Since)
			if err != nil {
				return rec, plan, nil, fmt.Errorf("pod %s: %w", n, err)
			}
			t, err := m.Fire(mv.event, statemachine.Input{Now: s.Now})
			if err != nil {
				return rec, plan, nil, fmt.Errorf("pod %s: %w", n, err)
			}
			p.State, p.Since = t.To, t.At
			moves = append(moves, Move{Pod: n, Transition: t})
		}
	}
	return rec, plan, moves, nil
}

// applyMoves sets the lifecycle steps' states on pods and returns them as moves.
func applyMoves(pods []PodSample, steps []Move) []Move {
	index := make(map[string]int, len(pods))
	for i, p := range pods {
		index[p.Name] = i
	}
	for _, st := range steps {
		p := &pods[index[st.Pod]]
		p.State, p.Since = st.Transition.To, st.Transition.At
	}
	return steps
}

// Resize is the workload write when some moves could not be carried out: a drain-timeout
// move whose eviction failed leaves its pod in tombstone, so the pod stays and is not
// named for deletion. Resize(nil) is Scale.
func (o Outcome) Resize(failed map[string]bool) Scale {
	if !o.Act {
		return Scale{}
	}
	var gone []string
	keep := o.keep
	for _, n := range o.Scale.PodsToDelete {
		if failed[n] {
			keep++
			continue
		}
		gone = append(gone, n)
	}
	o.keep = keep
	return o.resize(gone)
}

func (o Outcome) resize(gone []string) Scale {
	sort.Strings(gone)
	replicas := o.keep + o.pending + o.create
	write := replicas != o.replicas || !contains(o.have, gone)
	return Scale{Replicas: replicas, PodsToDelete: gone, Write: write}
}

// Commit records a carried-out outcome in the memory: the next decision's time and, when
// the serving size changed, the scale event that rate policies count. A caller whose
// workload write failed does not commit, so its next pass decides again.
func (m *Memory) Commit(o Outcome) {
	if !o.Due {
		return
	}
	m.Next = o.Now.Add(o.period)
	if rec := o.Recommendation; rec != nil && o.Act && rec.Replicas != rec.Current {
		m.History.RecordScale(o.Now, rec.Current, rec.Replicas)
	}
}

// Changed reports whether the pass changed the serving size.
func (o Outcome) Changed() bool {
	return o.Act && o.Recommendation != nil && o.Recommendation.Replicas != o.Recommendation.Current
}

func contains(have, want []string) bool {
	set := make(map[string]bool, len(have))
	for _, n := range have {
		set[n] = true
	}
	for _, n := range want {
		if !set[n] {
			return false
		}
	}
	return true
}

func serving(pods []PodSample, pending int32) int32 {
	n := pending
	for _, p := range pods {
		if p.serving() {
			n++
		}
	}
	return n
}

func countStates(pods []PodSample) map[statemachine.State]int {
	out := map[statemachine.State]int{}
	for _, p := range pods {
		out[p.State]++
	}
	return out
}
