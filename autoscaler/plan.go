package autoscaler

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/statemachine"
)

// Plan is how to move the serving fleet to the recommended size. Every field is a
// decision; the caller fires the matching state-machine events and updates the workload.
type Plan struct {
	// Revive are tombstoned pods to return to allocated, most streams first: they would
	// take longest to drain and are already warm. Reviving comes before creating.
	Revive []string
	// Create is the number of new pods to ask the workload for.
	Create int32
	// Cancel are starting (init) pods that are no longer needed, newest first: they carry
	// no stream, so they may go at once.
	Cancel []string
	// Tombstone are allocated pods to drain, fewest streams first, then least bandwidth.
	// A pod whose stream count is unknown is never chosen while another is.
	Tombstone []string
}

// PlanScale decides which pods change state so that the serving (init plus allocated
// plus pending, the pods the workload is still creating, plus those it updates in place)
// count becomes desired. Pending
// pods are never cancelled: they have no name yet, and lowering replicas without naming
// pods would let the workload pick a victim.
func PlanScale(pods []PodSample, pending, desired int32) Plan {
	serving := pending
	var tomb, initPods, alloc []PodSample
	for _, p := range pods {
		if p.Leaving {
			continue // the workload is removing it: not ours to count or move
		}
		if p.Updating {
			serving++ // the workload restarts it in place and it comes back: counted, not moved
			continue
		}
		switch p.State {
		case statemachine.Init:
			serving++
			initPods = append(initPods, p)
		case statemachine.Allocated:
			serving++
			alloc = append(alloc, p)
		case statemachine.Tombstone:
			tomb = append(tomb, p)
		}
	}
	var plan Plan
	switch {
	case desired > serving:
		need := int(desired - serving)
		sort.SliceStable(tomb, func(i, j int) bool { return reviveBefore(tomb[i], tomb[j]) })
		for _, p := range tomb[:min(need, len(tomb))] {
			plan.Revive = append(plan.Revive, p.Name)
		}
		plan.Create = int32(need - len(plan.Revive))
	case desired < serving:
		excess := int(serving - desired)
		sort.SliceStable(initPods, func(i, j int) bool {
			if !initPods[i].Created.Equal(initPods[j].Created) {
				return initPods[i].Created.After(initPods[j].Created)
			}
			return initPods[i].Name > initPods[j].Name
		})
		for _, p := range initPods[:min(excess, len(initPods))] {
			plan.Cancel = append(plan.Cancel, p.Name)
		}
		excess -= len(plan.Cancel)
		// Keep at least min(allocated, desired) allocated pods: while pods the workload is
		// creating are still unnamed, draining Ready pods in their favour would leave
		// viewers nowhere to go. The next decision cancels them by name instead.
		excess = min(excess, len(alloc)-min(len(alloc), int(desired)))
		sort.SliceStable(alloc, func(i, j int) bool { return tombstoneBefore(alloc[i], alloc[j]) })
		for _, p := range alloc[:min(excess, len(alloc))] {
			plan.Tombstone = append(plan.Tombstone, p.Name)
		}
	}
	return plan
}

// load is the ordering key of a pod: streams, then bandwidth; unknown values sort as +Inf.
func load(p PodSample) (streams, bandwidth float64) {
	s, ok := p.Streams()
	if !ok {
		s = math.Inf(1)
	}
	b, ok := p.Value(string(v1alpha1.MetricBandwidth))
	if !ok {
		b = math.Inf(1)
	}
	return s, b
}

func tombstoneBefore(a, b PodSample) bool {
	as, ab := load(a)
	bs, bb := load(b)
	if as != bs {
		return as < bs
	}
	if ab != bb {
		return ab < bb
	}
	return a.Name < b.Name
}

func reviveBefore(a, b PodSample) bool {
	as, ab := load(a)
	bs, bb := load(b)
	// Unknown load sorts last for revival too: a pod we cannot see is a poor bet.
	if math.IsInf(as, 1) != math.IsInf(bs, 1) {
		return !math.IsInf(as, 1)
	}
	if as != bs {
		return as > bs
	}
	if ab != bb && !math.IsInf(ab, 1) && !math.IsInf(bb, 1) {
		return ab > bb
	}
	return a.Name < b.Name
}

// lifecycleEvents are the moves a pod may make without a scaling decision, tried in
// order; the state machine's guards alone say whether one may happen now.
var lifecycleEvents = map[statemachine.State][]statemachine.Event{
	statemachine.Init:      {statemachine.EventReady},
	statemachine.Tombstone: {statemachine.EventDrained, statemachine.EventDrainTimeout},
	statemachine.Deletable: {statemachine.EventRenew},
}

// heldEvents are tried on a pod the workload waits to delete: it stops taking viewers at
// once (a starting pod is released, a serving one tombstoned) and drains as any other.
var heldEvents = map[statemachine.State][]statemachine.Event{
	statemachine.Init:      {statemachine.EventCancel},
	statemachine.Allocated: {statemachine.EventScaleIn},
	statemachine.Tombstone: {statemachine.EventDrained, statemachine.EventDrainTimeout},
}

// Progress advances pods that need no scaling decision: init pods that became Ready go
// to allocated; tombstoned pods go to deletable when drained to the idle level or when
// their drain timeout has passed (a drain timeout asks for an eviction first); deletable
// pods the workload updated in place instead of deleting go back to init.
func Progress(pods []PodSample, spec *v1alpha1.ScalingPolicySpec, now time.Time) ([]Move, error) {
	return progress(pods, spec, now, true)
}

// progress is Progress; without a due decision only Ready moves are made, since drains
// are judged on fresh samples.
func progress(pods []PodSample, spec *v1alpha1.ScalingPolicySpec, now time.Time, due bool) ([]Move, error) {
	var moves []Move
	for _, p := range pods {
		events := lifecycleEvents[p.State]
		if p.Held {
			events = heldEvents[p.State]
		}
		// Readiness, a hold and a renewal are acted on at once; drains only on fresh samples.
		atOnce := p.State == statemachine.Init || p.State == statemachine.Deletable || (p.Held && p.State == statemachine.Allocated)
		if len(events) == 0 || (!due && !atOnce) {
			continue
		}
		streams, known := p.Streams()
		if p.State == statemachine.Tombstone && !p.Measured.IsZero() && !p.Measured.After(p.Since) {
			known = false // read before the tombstone: players may have joined since
		}
		in := statemachine.Input{
			Now: now, Ready: p.Ready, Streams: streams, StreamsKnown: known,
			IdleStreams: float64(spec.IdleStreams()), DrainTimeout: spec.DrainTimeout(), Renewed: p.Updated && !p.Leaving,
		}
		m, err := statemachine.Restore(p.State, p.Since)
		if err != nil {
			return nil, fmt.Errorf("pod %s: %w", p.Name, err)
		}
		for _, ev := range events {
			t, err := m.Fire(ev, in)
			var refused *statemachine.GuardError
			if errors.As(err, &refused) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("pod %s: %w", p.Name, err)
			}
			mv := Move{Pod: p.Name, Transition: t, Evict: ev == statemachine.EventDrainTimeout, Held: p.Held}
			if known {
				mv.Streams = streams
			}
			moves = append(moves, mv)
			break
		}
	}
	return moves, nil
}
