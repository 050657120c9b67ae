package statemachine

import (
	"fmt"
	"strings"

	"github.com/looplab/fsm"
)

// State is the business state of a pod. Its string form is what callers store
// in the pod label, so the values must never be renamed.
type State string

const (
	Init      State = "init"      // created, not Ready yet; takes no streams
	Allocated State = "allocated" // Ready and taking new streams
	Tombstone State = "tombstone" // takes no new streams; waits for its streams to end
	Deletable State = "deletable" // drained (or evicted at drain timeout); may be removed
)

// Event moves a pod from one State to another.
type Event string

const (
	EventReady        Event = "ready"        // init -> allocated, guard: Input.Ready
	EventScaleIn      Event = "scaleIn"      // allocated -> tombstone
	EventRevive       Event = "revive"       // tombstone -> allocated (load rose again)
	EventDrained      Event = "drained"      // tombstone -> deletable, guard: streams known and at or below the idle level
	EventDrainTimeout Event = "drainTimeout" // tombstone -> deletable, guard: in tombstone for at least Input.DrainTimeout
	EventCancel       Event = "cancel"       // init -> deletable: a pod that never took a stream is released straight away
	EventRenew        Event = "renew"        // deletable -> init, guard: Input.Renewed (the drained pod was updated in place, not deleted)
)

// transitions is the single source of truth for the machine: Machine, Events,
// Mermaid and the golden drawing all derive from it. It returns a fresh slice
// so no caller can change the machine by mutating it.
func transitions() fsm.Events {
	return fsm.Events{
		{Name: string(EventReady), Src: []string{string(Init)}, Dst: string(Allocated)},
		{Name: string(EventScaleIn), Src: []string{string(Allocated)}, Dst: string(Tombstone)},
		{Name: string(EventRevive), Src: []string{string(Tombstone)}, Dst: string(Allocated)},
		{Name: string(EventDrained), Src: []string{string(Tombstone)}, Dst: string(Deletable)},
		{Name: string(EventDrainTimeout), Src: []string{string(Tombstone)}, Dst: string(Deletable)},
		{Name: string(EventCancel), Src: []string{string(Init)}, Dst: string(Deletable)},
		{Name: string(EventRenew), Src: []string{string(Deletable)}, Dst: string(Init)},
	}
}

// States returns every state, in lifecycle order.
func States() []State {
	return []State{Init, Allocated, Tombstone, Deletable}
}

// Events returns every event, in the order of the transition table.
func Events() []Event {
	table := transitions()
	events := make([]Event, 0, len(table))
	seen := make(map[string]bool, len(table))
	for _, desc := range table {
		if !seen[desc.Name] {
			seen[desc.Name] = true
			events = append(events, Event(desc.Name))
		}
	}
	return events
}

// Valid reports whether s is one of the states of States.
func (s State) Valid() bool {
	for _, known := range States() {
		if s == known {
			return true
		}
	}
	return false
}

// ParseState reads a stored state, such as a pod label value.
func ParseState(s string) (State, error) {
	if state := State(s); state.Valid() {
		return state, nil
	}
	return "", fmt.Errorf("unknown pod state %q: want one of %s", s, joinStates(States()))
}

func joinStates(states []State) string {
	names := make([]string, len(states))
	for i, s := range states {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// Mermaid draws the transition table as a Mermaid stateDiagram: the start
// arrow into Init, one line per transition sorted by source state then event,
// then an arrow out of every state a pod is removed from (Ends). The output is deterministic so it
// can be kept as a golden file.
func Mermaid() string {
	f := fsm.NewFSM(string(Init), transitions(), nil)
	// looplab sorts its transitions before drawing, so this is deterministic.
	drawing, err := fsm.VisualizeForMermaidWithGraphType(f, fsm.StateDiagram)
	if err != nil {
		// Only an unknown diagram type fails, and the type is a constant.
		panic(fmt.Sprintf("drawing state machine: %v", err))
	}
	var b strings.Builder
	b.WriteString(drawing)
	for _, s := range Ends() {
		fmt.Fprintf(&b, "    %s --> [*]\n", s)
	}
	return b.String()
}

// Ends returns the states a pod may be removed from: only Deletable. A deletable pod
// leaves it only when the workload updates it in place instead of deleting it (renew).
func Ends() []State {
	return []State{Deletable}
}
