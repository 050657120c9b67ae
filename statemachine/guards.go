package statemachine

import (
	"fmt"
	"time"
)

// Input is what guards look at; the caller fills what the event needs.
type Input struct {
	Now          time.Time     // required for every event: the moment of the move
	Ready        bool          // the pod is Ready (EventReady)
	Streams      float64       // streams (push+pull) still on the pod (EventDrained)
	StreamsKnown bool          // false when the sample is missing/invalid: never counts as drained
	IdleStreams  float64       // stream count at or below which the pod counts as drained
	DrainTimeout time.Duration // how long a tombstone may wait for its streams (EventDrainTimeout)
	Renewed      bool          // the workload updated the drained pod in place and it runs again (EventRenew)
}

// GuardError reports that Event was legal from State but its guard refused it.
// The machine is left unchanged.
type GuardError struct {
	Event  Event
	State  State
	Reason string
}

func (e *GuardError) Error() string {
	return fmt.Sprintf("guard refused %q in state %q: %s", e.Event, e.State, e.Reason)
}

// guard returns why the event must not happen, or "" to let it through.
// enteredAt is when the machine entered its current state.
type guard func(in Input, enteredAt time.Time) string

// guards holds the conditions beyond the table; an event without an entry is
// always allowed when the table allows it. Keys must be events of the table:
// looplab silently ignores callbacks for unknown events (a test checks this).
var guards = map[Event]guard{
	EventReady: func(in Input, _ time.Time) string {
		if !in.Ready {
			return "pod is not ready"
		}
		return ""
	},
	EventDrained: func(in Input, _ time.Time) string {
		if !in.StreamsKnown {
			return "stream count is unknown"
		}
		// Written so that a NaN on either side refuses.
		if !(in.Streams <= in.IdleStreams) {
			return fmt.Sprintf("%g streams left, idle level is %g", in.Streams, in.IdleStreams)
		}
		return ""
	},
	EventRenew: func(in Input, _ time.Time) string {
		if !in.Renewed {
			return "pod was not updated in place"
		}
		return ""
	},
	EventDrainTimeout: func(in Input, enteredAt time.Time) string {
		if in.DrainTimeout < 0 {
			return fmt.Sprintf("drain timeout %s is negative", in.DrainTimeout)
		}
		if waited := in.Now.Sub(enteredAt); waited < in.DrainTimeout {
			return fmt.Sprintf("draining for %s, drain timeout is %s", waited, in.DrainTimeout)
		}
		return ""
	},
}
