package statemachine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/looplab/fsm"
)

// ErrIllegalTransition means the event is not in the table for the current
// state, or is no event at all. The machine is left unchanged.
var ErrIllegalTransition = errors.New("illegal transition")

// Transition records one move, for metrics and logs.
type Transition struct {
	Event   Event
	From    State
	To      State
	At      time.Time     // Input.Now
	InState time.Duration // how long the pod was in From (At - previous EnteredAt; 0 if negative)
}

// Machine is the state of one pod and the time it entered that state.
// It is not safe for concurrent use.
type Machine struct {
	fsm       *fsm.FSM
	enteredAt time.Time
}

// New returns the machine of a new pod: Init, entered at now.
func New(now time.Time) *Machine {
	return newMachine(now)
}

// Restore rebuilds a machine from stored values (the pod label and annotation).
func Restore(state State, enteredAt time.Time) (*Machine, error) {
	if _, err := ParseState(string(state)); err != nil {
		return nil, fmt.Errorf("restoring state machine: %w", err)
	}
	if enteredAt.IsZero() {
		return nil, fmt.Errorf("restoring state machine in state %q: entered-at time is zero", state)
	}
	m := newMachine(enteredAt)
	m.fsm.SetState(string(state))
	return m, nil
}

// newMachine returns a machine in Init whose guards see its own enteredAt.
func newMachine(enteredAt time.Time) *Machine {
	m := &Machine{enteredAt: enteredAt}
	callbacks := make(fsm.Callbacks, len(guards))
	for ev, g := range guards {
		callbacks["before_"+string(ev)] = func(_ context.Context, e *fsm.Event) {
			in := e.Args[0].(Input)
			if reason := g(in, m.enteredAt); reason != "" {
				e.Cancel(&GuardError{Event: ev, State: State(e.Src), Reason: reason})
			}
		}
	}
	m.fsm = fsm.NewFSM(string(Init), transitions(), callbacks)
	return m
}

// State returns the current state.
func (m *Machine) State() State { return State(m.fsm.Current()) }

// EnteredAt returns when the current state was entered.
func (m *Machine) EnteredAt() time.Time { return m.enteredAt }

// Can reports whether the table allows ev from the current state. Guards are
// not evaluated, so Fire may still refuse with a *GuardError.
func (m *Machine) Can(ev Event) bool { return m.fsm.Can(string(ev)) }

// Fire moves the machine with ev. It returns ErrIllegalTransition (wrapped) when
// the table does not allow ev from the current state and a *GuardError when a
// guard refuses; in both cases the machine is unchanged. On success the
// current state is entered at in.Now.
func (m *Machine) Fire(ev Event, in Input) (Transition, error) {
	from := m.State()
	if in.Now.IsZero() {
		// A zero time would be stored and then refused by Restore.
		return Transition{}, fmt.Errorf("firing %q in state %q: input time is zero", ev, from)
	}
	// looplab needs a context for its callbacks; ours do no I/O.
	if err := m.fsm.Event(context.Background(), string(ev), in); err != nil {
		return Transition{}, translate(err, ev, from)
	}
	t := Transition{
		Event:   ev,
		From:    from,
		To:      m.State(),
		At:      in.Now,
		InState: max(in.Now.Sub(m.enteredAt), 0),
	}
	m.enteredAt = in.Now
	return t, nil
}

// translate turns looplab's errors into this package's.
func translate(err error, ev Event, from State) error {
	var (
		invalid  fsm.InvalidEventError
		unknown  fsm.UnknownEventError
		guardErr *GuardError
	)
	switch {
	case errors.As(err, &guardErr):
		return guardErr
	case errors.As(err, &invalid):
		return fmt.Errorf("%w: event %q from state %q", ErrIllegalTransition, ev, from)
	case errors.As(err, &unknown):
		return fmt.Errorf("%w: unknown event %q in state %q", ErrIllegalTransition, ev, from)
	default:
		// The table has no self-loops and no async callbacks, so looplab's
		// other errors would mean a bug here.
		return fmt.Errorf("firing %q in state %q: %w", ev, from, err)
	}
}
