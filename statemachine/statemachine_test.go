package statemachine

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var goldenMermaid = filepath.Join("..", "testdata", "statemachine", "states.mmd")

// t0 is an arbitrary, non-zero moment; tests never read the wall clock.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

type edge struct {
	From  State
	Event Event
	To    State
}

// documented is the machine as the package documentation describes it, written
// out by hand so that a change to the fsm table has to be made twice.
var documented = []edge{
	{Init, EventReady, Allocated},
	{Allocated, EventScaleIn, Tombstone},
	{Tombstone, EventRevive, Allocated},
	{Tombstone, EventDrained, Deletable},
	{Tombstone, EventDrainTimeout, Deletable},
	{Init, EventCancel, Deletable},
	{Deletable, EventRenew, Init},
}

// tableEdges flattens the fsm table into one edge per source state.
func tableEdges() map[edge]bool {
	edges := make(map[edge]bool)
	for _, desc := range transitions() {
		for _, src := range desc.Src {
			edges[edge{State(src), Event(desc.Name), State(desc.Dst)}] = true
		}
	}
	return edges
}

// passing satisfies every guard of a machine entered before now, so only the
// table can refuse an event fired with it.
func passing(now time.Time) Input {
	return Input{Now: now, Ready: true, Streams: 0, StreamsKnown: true, IdleStreams: 0, DrainTimeout: 0, Renewed: true}
}

func restore(t *testing.T, s State, enteredAt time.Time) *Machine {
	t.Helper()
	m, err := Restore(s, enteredAt)
	if err != nil {
		t.Fatalf("Restore(%q, %v): %v", s, enteredAt, err)
	}
	return m
}

// assertUnchanged fails when a refused event moved the machine.
func assertUnchanged(t *testing.T, m *Machine, state State, enteredAt time.Time) {
	t.Helper()
	if got := m.State(); got != state {
		t.Errorf("State() = %q after a refused event, want %q", got, state)
	}
	if got := m.EnteredAt(); !got.Equal(enteredAt) {
		t.Errorf("EnteredAt() = %v after a refused event, want %v", got, enteredAt)
	}
}

func TestTableIsTheDocumentedMachine(t *testing.T) {
	want := make(map[edge]bool)
	for _, e := range documented {
		want[e] = true
	}
	got := tableEdges()
	for e := range want {
		if !got[e] {
			t.Errorf("fsm table lacks %s --%s--> %s", e.From, e.Event, e.To)
		}
	}
	for e := range got {
		if !want[e] {
			t.Errorf("fsm table has undocumented %s --%s--> %s", e.From, e.Event, e.To)
		}
	}
}

func TestEventsAndStatesCoverTheTable(t *testing.T) {
	wantEvents := []Event{EventReady, EventScaleIn, EventRevive, EventDrained, EventDrainTimeout, EventCancel, EventRenew}
	if got := Events(); !slices.Equal(got, wantEvents) {
		t.Errorf("Events() = %v, want %v", got, wantEvents)
	}
	wantStates := []State{Init, Allocated, Tombstone, Deletable}
	if got := States(); !slices.Equal(got, wantStates) {
		t.Errorf("States() = %v, want %v", got, wantStates)
	}

	used := make(map[State]bool)
	for e := range tableEdges() {
		used[e.From], used[e.To] = true, true
	}
	for s := range used {
		if !s.Valid() {
			t.Errorf("table uses state %q missing from States()", s)
		}
	}
	for _, s := range States() {
		if !used[s] {
			t.Errorf("state %q is in States() but no transition touches it", s)
		}
	}
	// looplab drops before_<event> callbacks for unknown events without a word,
	// so a guard keyed by a misspelt event would silently never run.
	for ev := range guards {
		if !slices.Contains(Events(), ev) {
			t.Errorf("guard for %q is keyed by an event the table does not have", ev)
		}
	}
}

func TestNewPodStartsInInit(t *testing.T) {
	m := New(t0)
	if m.State() != Init || !m.EnteredAt().Equal(t0) {
		t.Errorf("New(t0) = (%q, %v), want (%q, %v)", m.State(), m.EnteredAt(), Init, t0)
	}
}

func TestLegalTransitions(t *testing.T) {
	const inState = 90 * time.Second
	cases := []struct {
		name string
		from State
		ev   Event
		in   Input
		to   State
	}{
		{"new pod is allocated once ready", Init, EventReady, Input{Ready: true}, Allocated},
		{"pod that never became ready is released straight away", Init, EventCancel, Input{}, Deletable},
		{"allocated pod is tombstoned on scale in", Allocated, EventScaleIn, Input{}, Tombstone},
		{"tombstoned pod revives when load rises", Tombstone, EventRevive, Input{Streams: 40, StreamsKnown: true}, Allocated},
		{"tombstoned pod is deletable once its streams end", Tombstone, EventDrained, Input{Streams: 0, StreamsKnown: true}, Deletable},
		{"tombstoned pod is deletable at drain timeout", Tombstone, EventDrainTimeout, Input{Streams: 7, StreamsKnown: true, DrainTimeout: inState}, Deletable},
		{"drained pod updated in place serves again", Deletable, EventRenew, Input{Renewed: true}, Init},
	}
	covered := make(map[edge]bool)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := restore(t, tc.from, t0)
			if !m.Can(tc.ev) {
				t.Errorf("Can(%q) = false in state %q", tc.ev, tc.from)
			}
			in := tc.in
			in.Now = t0.Add(inState)
			got, err := m.Fire(tc.ev, in)
			if err != nil {
				t.Fatalf("Fire(%q) from %q: %v", tc.ev, tc.from, err)
			}
			want := Transition{Event: tc.ev, From: tc.from, To: tc.to, At: in.Now, InState: inState}
			if got != want {
				t.Errorf("Fire(%q) = %+v, want %+v", tc.ev, got, want)
			}
			if m.State() != tc.to {
				t.Errorf("State() = %q, want %q", m.State(), tc.to)
			}
			if !m.EnteredAt().Equal(in.Now) {
				t.Errorf("EnteredAt() = %v, want %v", m.EnteredAt(), in.Now)
			}
		})
		covered[edge{tc.from, tc.ev, tc.to}] = true
	}
	for e := range tableEdges() {
		if !covered[e] {
			t.Errorf("no case fires %s --%s--> %s", e.From, e.Event, e.To)
		}
	}
}

func TestTimeInStateIsNeverNegative(t *testing.T) {
	// A clock that stepped back (or a stored annotation from a skewed
	// controller) must not report a negative duration to metrics.
	m := restore(t, Allocated, t0)
	earlier := t0.Add(-time.Minute)
	got, err := m.Fire(EventScaleIn, Input{Now: earlier})
	if err != nil {
		t.Fatalf("Fire(scaleIn): %v", err)
	}
	if got.InState != 0 {
		t.Errorf("InState = %v, want 0", got.InState)
	}
	if !m.EnteredAt().Equal(earlier) {
		t.Errorf("EnteredAt() = %v, want %v", m.EnteredAt(), earlier)
	}
}

func TestIllegalTransitionsChangeNothing(t *testing.T) {
	legal := make(map[[2]string]bool)
	for e := range tableEdges() {
		legal[[2]string{string(e.From), string(e.Event)}] = true
	}
	illegal := 0
	for _, s := range States() {
		for _, ev := range append(Events(), Event("restart")) {
			if legal[[2]string{string(s), string(ev)}] {
				continue
			}
			illegal++
			t.Run(string(ev)+" is refused in "+string(s), func(t *testing.T) {
				m := restore(t, s, t0)
				if m.Can(ev) {
					t.Errorf("Can(%q) = true in state %q", ev, s)
				}
				_, err := m.Fire(ev, passing(t0.Add(time.Hour)))
				if !errors.Is(err, ErrIllegalTransition) {
					t.Errorf("Fire(%q) in %q: err = %v, want ErrIllegalTransition", ev, s, err)
				}
				var guardErr *GuardError
				if errors.As(err, &guardErr) {
					t.Errorf("Fire(%q) in %q: got guard error %v for an illegal event", ev, s, err)
				}
				if err != nil && (!strings.Contains(err.Error(), string(ev)) || !strings.Contains(err.Error(), string(s))) {
					t.Errorf("error %q does not name event %q and state %q", err, ev, s)
				}
				assertUnchanged(t, m, s, t0)
			})
		}
	}
	// 4 states x (6 events + 1 unknown) minus the 6 legal pairs.
	if want := len(States())*(len(Events())+1) - len(tableEdges()); illegal != want || illegal == 0 {
		t.Errorf("checked %d illegal pairs, want %d", illegal, want)
	}
}

func TestGuards(t *testing.T) {
	const timeout = 5 * time.Minute
	cases := []struct {
		name       string
		from       State
		ev         Event
		in         Input         // Now is set from after
		after      time.Duration // time since the state was entered at t0
		wantReason string        // "" means the guard lets the event through
	}{
		{"pod that is not ready stays in init", Init, EventReady, Input{Ready: false}, time.Second, "pod is not ready"},
		{"ready pod is allocated", Init, EventReady, Input{Ready: true}, time.Second, ""},
		{"deletable pod not updated in place stays deletable", Deletable, EventRenew, Input{Renewed: false}, time.Second, "pod was not updated in place"},
		{"deletable pod updated in place is renewed", Deletable, EventRenew, Input{Renewed: true}, time.Second, ""},
		{"tombstone with streams above the idle level keeps draining", Tombstone, EventDrained,
			Input{Streams: 3, StreamsKnown: true, IdleStreams: 0}, time.Second, "3 streams left, idle level is 0"},
		{"tombstone with a missing stream sample is never drained", Tombstone, EventDrained,
			Input{Streams: 0, StreamsKnown: false}, time.Second, "stream count is unknown"},
		{"tombstone with a NaN stream sample is never drained", Tombstone, EventDrained,
			Input{Streams: math.NaN(), StreamsKnown: true, IdleStreams: 1}, time.Second, "NaN streams left, idle level is 1"},
		{"tombstone at the idle level is drained", Tombstone, EventDrained,
			Input{Streams: 2, StreamsKnown: true, IdleStreams: 2}, time.Second, ""},
		{"tombstone below the idle level is drained", Tombstone, EventDrained,
			Input{Streams: 1, StreamsKnown: true, IdleStreams: 2}, time.Second, ""},
		{"drain timeout is refused a nanosecond early", Tombstone, EventDrainTimeout,
			Input{DrainTimeout: timeout}, timeout - time.Nanosecond, "draining for 4m59.999999999s, drain timeout is 5m0s"},
		{"drain timeout is accepted exactly at the timeout", Tombstone, EventDrainTimeout,
			Input{DrainTimeout: timeout}, timeout, ""},
		{"drain timeout is accepted after the timeout", Tombstone, EventDrainTimeout,
			Input{DrainTimeout: timeout}, timeout + time.Hour, ""},
		{"a negative drain timeout is refused", Tombstone, EventDrainTimeout,
			Input{DrainTimeout: -time.Second}, time.Hour, "drain timeout -1s is negative"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := restore(t, tc.from, t0)
			in := tc.in
			in.Now = t0.Add(tc.after)
			_, err := m.Fire(tc.ev, in)
			if tc.wantReason == "" {
				if err != nil {
					t.Fatalf("Fire(%q): %v", tc.ev, err)
				}
				if m.State() == tc.from {
					t.Errorf("State() still %q after an accepted event", tc.from)
				}
				return
			}
			var guardErr *GuardError
			if !errors.As(err, &guardErr) {
				t.Fatalf("Fire(%q): err = %v, want *GuardError", tc.ev, err)
			}
			want := GuardError{Event: tc.ev, State: tc.from, Reason: tc.wantReason}
			if *guardErr != want {
				t.Errorf("guard error = %+v, want %+v", *guardErr, want)
			}
			if errors.Is(err, ErrIllegalTransition) {
				t.Errorf("a guard refusal must not match ErrIllegalTransition: %v", err)
			}
			assertUnchanged(t, m, tc.from, t0)
		})
	}
}

func TestGuardErrorMessage(t *testing.T) {
	m := restore(t, Tombstone, t0)
	_, err := m.Fire(EventDrained, Input{Now: t0.Add(time.Second), Streams: 3, StreamsKnown: true})
	const want = `guard refused "drained" in state "tombstone": 3 streams left, idle level is 0`
	if err == nil || err.Error() != want {
		t.Errorf("Fire(drained) error = %v, want %s", err, want)
	}
}

func TestFireWithoutTimeIsRefused(t *testing.T) {
	m := restore(t, Allocated, t0)
	if _, err := m.Fire(EventScaleIn, Input{}); err == nil {
		t.Fatal("Fire with a zero Input.Now succeeded; Restore would later refuse the stored time")
	}
	assertUnchanged(t, m, Allocated, t0)
}

func TestRestore(t *testing.T) {
	t.Run("restored tombstone times out from its stored entry time", func(t *testing.T) {
		m := restore(t, Tombstone, t0)
		in := Input{DrainTimeout: 10 * time.Minute}
		in.Now = t0.Add(9 * time.Minute)
		if _, err := m.Fire(EventDrainTimeout, in); err == nil {
			t.Fatal("drainTimeout accepted 9m after the stored entry time with a 10m timeout")
		}
		in.Now = t0.Add(10 * time.Minute)
		got, err := m.Fire(EventDrainTimeout, in)
		if err != nil {
			t.Fatalf("Fire(drainTimeout) at the timeout: %v", err)
		}
		if got.InState != 10*time.Minute || got.To != Deletable {
			t.Errorf("Fire(drainTimeout) = %+v, want 10m in tombstone and to deletable", got)
		}
	})
	t.Run("restored allocated pod keeps taking events", func(t *testing.T) {
		m := restore(t, Allocated, t0)
		if m.State() != Allocated || !m.EnteredAt().Equal(t0) {
			t.Fatalf("Restore = (%q, %v), want (%q, %v)", m.State(), m.EnteredAt(), Allocated, t0)
		}
		if _, err := m.Fire(EventScaleIn, Input{Now: t0.Add(time.Minute)}); err != nil {
			t.Fatalf("Fire(scaleIn): %v", err)
		}
	})
	t.Run("restored deletable pod only leaves by renew", func(t *testing.T) {
		m := restore(t, Deletable, t0)
		for _, ev := range Events() {
			if m.Can(ev) != (ev == EventRenew) {
				t.Errorf("Can(%q) = %v from deletable", ev, m.Can(ev))
			}
		}
	})
	for _, bad := range []State{"", "running", "Tombstone"} {
		t.Run(fmt.Sprintf("unknown label value %q is an error", bad), func(t *testing.T) {
			m, err := Restore(bad, t0)
			if err == nil || m != nil {
				t.Fatalf("Restore(%q) = (%v, %v), want an error", bad, m, err)
			}
			if !strings.Contains(err.Error(), `"`+string(bad)+`"`) {
				t.Errorf("error %q does not name the bad state %q", err, bad)
			}
		})
	}
	t.Run("missing entry time is an error", func(t *testing.T) {
		if m, err := Restore(Tombstone, time.Time{}); err == nil {
			t.Fatalf("Restore with a zero time = %v, want an error", m)
		}
	})
}

func TestParseState(t *testing.T) {
	for _, s := range States() {
		t.Run("stored "+string(s)+" parses", func(t *testing.T) {
			got, err := ParseState(string(s))
			if err != nil || got != s {
				t.Errorf("ParseState(%q) = (%q, %v), want (%q, nil)", s, got, err, s)
			}
		})
	}
	for _, bad := range []string{"", "ALLOCATED", " init", "draining"} {
		t.Run(fmt.Sprintf("stored %q is refused", bad), func(t *testing.T) {
			got, err := ParseState(bad)
			if err == nil {
				t.Fatalf("ParseState(%q) = %q, want an error", bad, got)
			}
			msg := err.Error()
			if !strings.Contains(msg, `"`+bad+`"`) {
				t.Errorf("error %q does not name the bad value %q", msg, bad)
			}
			for _, s := range States() {
				if !strings.Contains(msg, string(s)) {
					t.Errorf("error %q does not list allowed state %q", msg, s)
				}
			}
		})
	}
}

func TestMermaidGolden(t *testing.T) {
	got := Mermaid()
	if got != Mermaid() {
		t.Fatal("Mermaid() is not deterministic")
	}
	if *update {
		if err := os.WriteFile(goldenMermaid, []byte(got), 0o644); err != nil {
			t.Fatalf("updating golden file: %v", err)
		}
	}
	want, err := os.ReadFile(goldenMermaid)
	if err != nil {
		t.Fatalf("reading golden file (run go test ./statemachine -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("Mermaid() differs from %s; run go test ./statemachine -update\ngot:\n%s\nwant:\n%s", goldenMermaid, got, want)
	}
}

var (
	mermaidEdge     = regexp.MustCompile(`^(\w+) --> (\w+): (\w+)$`)
	mermaidStart    = regexp.MustCompile(`^\[\*\] --> (\w+)$`)
	mermaidTerminal = regexp.MustCompile(`^(\w+) --> \[\*\]$`)
)

// TestGoldenDrawingMatchesTable reads the checked-in drawing, not Mermaid(),
// so a stale or hand-edited file cannot pass for the machine.
func TestGoldenDrawingMatchesTable(t *testing.T) {
	f, err := os.Open(goldenMermaid)
	if err != nil {
		t.Fatalf("opening golden file: %v", err)
	}
	defer f.Close()

	drawn := make(map[edge]bool)
	var starts, terminals []State
	scanner := bufio.NewScanner(f)
	for n := 1; scanner.Scan(); n++ {
		line := strings.TrimSpace(scanner.Text())
		switch m := mermaidEdge.FindStringSubmatch(line); {
		case line == "" || line == "stateDiagram-v2":
		case m != nil:
			e := edge{State(m[1]), Event(m[3]), State(m[2])}
			if drawn[e] {
				t.Errorf("line %d draws %s twice", n, line)
			}
			drawn[e] = true
		case mermaidStart.MatchString(line):
			starts = append(starts, State(mermaidStart.FindStringSubmatch(line)[1]))
		case mermaidTerminal.MatchString(line):
			terminals = append(terminals, State(mermaidTerminal.FindStringSubmatch(line)[1]))
		default:
			t.Errorf("line %d is not a transition this test understands: %q", n, line)
		}
	}
	if err := scanner.Err(); err != nil {
		t.Fatalf("reading golden file: %v", err)
	}

	table := tableEdges()
	for e := range table {
		if !drawn[e] {
			t.Errorf("drawing lacks %s --%s--> %s", e.From, e.Event, e.To)
		}
	}
	for e := range drawn {
		if !table[e] {
			t.Errorf("drawing has %s --%s--> %s, which the table does not", e.From, e.Event, e.To)
		}
	}
	if !slices.Equal(starts, []State{Init}) {
		t.Errorf("drawing starts in %v, want [init]", starts)
	}
	if !slices.Equal(terminals, []State{Deletable}) {
		t.Errorf("drawing ends in %v, want [deletable]", terminals)
	}
}

// FuzzMachine fires random events with random inputs from a random state.
// Each op is 6 bytes: event, flags, streams, idle level, drain timeout, clock
// step; the clock only moves forward.
func FuzzMachine(f *testing.F) {
	const (
		opReady = iota
		opScaleIn
		opRevive
		opDrained
		opDrainTimeout
		opCancel
		opRenew
		opUnknown
	)
	// A whole life: refused ready, ready, scale in, revive, scale in, drained.
	f.Add(uint8(0), []byte{
		opReady, 0, 0, 0, 0, 1,
		opReady, 1, 0, 0, 0, 1,
		opScaleIn, 0, 0, 0, 0, 10,
		opRevive, 0, 0, 0, 0, 10,
		opScaleIn, 0, 0, 0, 0, 10,
		opDrained, 2, 5, 0, 0, 10,
		opDrained, 2, 0, 0, 0, 10,
	})
	// A restored tombstone that reaches the drain timeout, then nothing leaves.
	f.Add(uint8(2), []byte{
		opDrainTimeout, 0, 0, 0, 30, 20,
		opDrainTimeout, 0, 0, 0, 30, 20,
		opRevive, 3, 0, 0, 0, 1,
		opUnknown, 0, 0, 0, 0, 1,
	})
	// A pod cancelled before it was ready.
	f.Add(uint8(0), []byte{opCancel, 0, 0, 0, 0, 0, opReady, 1, 0, 0, 0, 1})
	// A drained pod renewed by an in-place update, refused first, then serving again.
	f.Add(uint8(3), []byte{opRenew, 0, 0, 0, 0, 1, opRenew, 4, 0, 0, 0, 1, opReady, 1, 0, 0, 0, 1})
	// Unknown stream counts and NaN samples in a tombstone.
	f.Add(uint8(2), []byte{opDrained, 0, 0, 0, 0, 1, opDrained, 2, 255, 3, 0, 1, opDrainTimeout, 0, 0, 0, 200, 0})

	table := tableEdges()
	f.Fuzz(func(t *testing.T, start uint8, ops []byte) {
		if len(ops) > 6*100 {
			ops = ops[:6*100] // a pod's life is short; long inputs only slow the fuzzer
		}
		events := append(Events(), Event("bogus"))
		now := t0
		m := restore(t, States()[int(start)%len(States())], now)
		for i := 0; i+6 <= len(ops); i += 6 {
			op := ops[i : i+6]
			ev := events[int(op[0])%len(events)]
			now = now.Add(time.Duration(op[5]) * time.Second)
			in := Input{
				Now:          now,
				Ready:        op[1]&1 != 0,
				StreamsKnown: op[1]&2 != 0,
				Streams:      float64(op[2]),
				IdleStreams:  float64(op[3]),
				DrainTimeout: time.Duration(int8(op[4])) * time.Second,
				Renewed:      op[1]&4 != 0,
			}
			if op[2] == 255 {
				in.Streams = math.NaN()
			}
			from, entered := m.State(), m.EnteredAt()
			can := m.Can(ev)

			got, err := m.Fire(ev, in)

			var guardErr *GuardError
			switch {
			case err == nil:
				if from == Deletable && (ev != EventRenew || !in.Renewed) {
					t.Fatalf("op %d: %q left deletable for %q", i/6, ev, m.State())
				}
				if !table[edge{from, ev, got.To}] || got.From != from || got.To != m.State() {
					t.Fatalf("op %d: transition %+v from %q is not in the table", i/6, got, from)
				}
				if !m.EnteredAt().Equal(now) || got.At != now || got.InState != now.Sub(entered) {
					t.Fatalf("op %d: transition %+v entered at %v, want all at %v after entering %v", i/6, got, m.EnteredAt(), now, entered)
				}
			case errors.Is(err, ErrIllegalTransition):
				if can {
					t.Fatalf("op %d: Can(%q) = true in %q but Fire says illegal: %v", i/6, ev, from, err)
				}
				assertUnchanged(t, m, from, entered)
			case errors.As(err, &guardErr):
				if !can || guardErr.Event != ev || guardErr.State != from {
					t.Fatalf("op %d: guard error %+v for %q in %q (Can = %v)", i/6, guardErr, ev, from, can)
				}
				assertUnchanged(t, m, from, entered)
			default:
				t.Fatalf("op %d: Fire(%q) in %q: unexpected error %v", i/6, ev, from, err)
			}
			if err == nil && !can {
				t.Fatalf("op %d: Can(%q) = false in %q but Fire succeeded", i/6, ev, from)
			}
			if !m.State().Valid() {
				t.Fatalf("op %d: invalid state %q", i/6, m.State())
			}
			if m.EnteredAt().Before(entered) {
				t.Fatalf("op %d: EnteredAt went back from %v to %v", i/6, entered, m.EnteredAt())
			}
			// What the caller stores must always restore.
			if _, err := Restore(m.State(), m.EnteredAt()); err != nil {
				t.Fatalf("op %d: stored values do not restore: %v", i/6, err)
			}
		}
	})
}
