package simulate

import (
	"fmt"
	"time"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/autoscaler"
)

// Stepper replays a demand under the reactive policy one step at a time and tells, for
// each step, what the decision pass saw and what the simulator's fleet did with its
// outcome. A test feeds the same snapshots to the controller and compares what it writes.
type Stepper struct {
	f    *fleet
	d    Demand
	spec *v1alpha1.ScalingPolicySpec
	mem  *autoscaler.Memory
	k    int
	done Applied
}

// Applied is one step of a Stepper.
type Applied struct {
	// Snapshot is what the pass saw; Values holds every pod's samples even when the pass
	// was not due, so that a replay can serve them.
	Snapshot autoscaler.Snapshot
	// Due is set when the pass made a metric-driven decision.
	Due bool
	// Moves are the moves the fleet carried out, in its order.
	Moves []autoscaler.Move
	// Writes are the workload writes the fleet carried out (at most one).
	Writes []autoscaler.Scale
}

// NewStepper starts a replay of d with the policy spec (prediction is not used).
func NewStepper(d Demand, spec *v1alpha1.ScalingPolicySpec, p Profile) (*Stepper, error) {
	p = p.WithDefaults()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if d.Step != time.Duration(p.StepSeconds)*time.Second || len(d.Streams) < 2 {
		return nil, fmt.Errorf("demand of %d steps of %s: need at least 2 steps of the profile's %ds", len(d.Streams), d.Step, p.StepSeconds)
	}
	w := arrivals(d, p)
	f, err := startStreamscaler(d, &w, spec, p)
	if err != nil {
		return nil, err
	}
	s := &Stepper{f: f, d: d, spec: spec, mem: &autoscaler.Memory{}}
	f.onMove = func(m autoscaler.Move) { s.done.Moves = append(s.done.Moves, m) }
	f.onScale = func(sc autoscaler.Scale) { s.done.Writes = append(s.done.Writes, sc) }
	return s, nil
}

// Next runs one step; false when the demand is over.
func (s *Stepper) Next() (Applied, bool, error) {
	if s.k >= len(s.d.Streams) {
		return Applied{}, false, nil
	}
	now := s.f.now(s.k)
	s.f.settle(s.k)
	snap := s.f.snapshot(now, s.spec, true)
	s.done = Applied{Snapshot: snap, Due: s.mem.Due(now)}
	if _, err := s.f.pass(now, s.spec, s.mem); err != nil {
		return Applied{}, false, fmt.Errorf("step %d at %s: %w", s.k, now.Format(time.RFC3339), err)
	}
	s.f.arrive(s.k)
	s.f.account(s.k, len(s.d.Streams))
	s.k++
	return s.done, true, s.f.verify(s.k - 1)
}

// Result is the replay's score so far.
func (s *Stepper) Result() Result { return s.f.result(PolicyReactive) }
