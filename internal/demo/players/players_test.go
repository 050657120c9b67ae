package players

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamscaler/streamscaler/autoscaler/simulate"
	"github.com/streamscaler/streamscaler/internal/demo/srsemu"
)

// fakeServer records its clients.
type fakeServer struct {
	clients map[string]srsemu.Client
	refuse  bool
}

func newFake() *fakeServer { return &fakeServer{clients: map[string]srsemu.Client{}} }

func (f *fakeServer) AddClient(c srsemu.Client) (string, error) {
	if f.refuse {
		return "", errors.New("refused")
	}
	f.clients[c.ID] = c
	return c.ID, nil
}

func (f *fakeServer) RemoveClient(id string) bool {
	_, ok := f.clients[id]
	delete(f.clients, id)
	return ok
}

var t0 = time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)

const step = 5 * time.Second

// sessions of players starting at step 0 and lasting ends[i] steps.
func sessions(ends ...int) []simulate.Session {
	out := make([]simulate.Session, len(ends))
	for i, e := range ends {
		out[i] = simulate.Session{Start: 0, End: e, BitrateBps: 1e6}
	}
	return out
}

func newDispatcher(t *testing.T, s []simulate.Session, capacity int) *Dispatcher {
	t.Helper()
	d, err := New(t0, step, s, capacity, 1, simulate.DispatchSpread)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func pod(name string, srv Server) Pod {
	return Pod{Name: name, Ready: true, Allocated: true, Server: srv}
}

func tick(t *testing.T, d *Dispatcher, k int, pods []Pod, kicked ...Kick) Counts {
	t.Helper()
	c, err := d.Tick(t0.Add(time.Duration(k)*step), pods, kicked)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPackedPlayersFillAPodBeforeTheNext: with a packed dispatch a player joins the fullest
// eligible pod below capacity, as the simulator's packed dispatcher places streams.
func TestPackedPlayersFillAPodBeforeTheNext(t *testing.T) {
	a, b, tombstoned := newFake(), newFake(), newFake()
	d, err := New(t0, step, sessions(10, 10, 10, 10, 10), 3, 1, simulate.DispatchPacked)
	if err != nil {
		t.Fatal(err)
	}
	pods := []Pod{pod("a", a), {Name: "tomb", Ready: true, Allocated: false, Server: tombstoned}, pod("b", b)}
	c := tick(t, d, 0, pods)
	if c.Started != 5 || len(a.clients) != 3 || len(b.clients) != 2 || len(tombstoned.clients) != 0 {
		t.Fatalf("counts %+v; a %d (capacity 3), b %d, tombstoned %d; want a full before b takes any", c, len(a.clients), len(b.clients), len(tombstoned.clients))
	}
	if _, err := New(t0, step, nil, 3, 1, "random"); err == nil || !strings.Contains(err.Error(), `dispatch "random"`) {
		t.Errorf("an unknown dispatch: error %v, want one naming it", err)
	}
}

func TestPlayersGoToTheLeastLoadedEligiblePod(t *testing.T) {
	a, b, notReady, tombstoned := newFake(), newFake(), newFake(), newFake()
	d := newDispatcher(t, sessions(10, 10, 10, 10, 10), 100)
	pods := []Pod{pod("a", a), pod("b", b), {Name: "starting", Ready: false, Allocated: true, Server: notReady}, {Name: "tomb", Ready: true, Allocated: false, Server: tombstoned}}
	c := tick(t, d, 0, pods)
	if c.Started != 5 || len(a.clients) != 3 || len(b.clients) != 2 || len(notReady.clients)+len(tombstoned.clients) != 0 {
		t.Fatalf("counts %+v; a %d, b %d, ineligible %d", c, len(a.clients), len(b.clients), len(notReady.clients)+len(tombstoned.clients))
	}
	if got := a.clients["p0000000"]; got.Stream != "s0" || got.BitrateBps != 1e6 || got.Publish || !got.Start.Equal(t0) {
		t.Fatalf("client %+v", got)
	}
}

func TestNoPodGoesAboveCapacityTheRestAreRejected(t *testing.T) {
	a, b := newFake(), newFake()
	d := newDispatcher(t, sessions(10, 10, 10, 10, 10), 2)
	c := tick(t, d, 0, []Pod{pod("a", a), pod("b", b)})
	if c.Started != 4 || c.Rejected != 1 || len(a.clients) != 2 || len(b.clients) != 2 {
		t.Fatalf("counts %+v; a %d b %d", c, len(a.clients), len(b.clients))
	}
}

func TestSessionsEndOnTime(t *testing.T) {
	a := newFake()
	d := newDispatcher(t, sessions(2, 4), 10)
	pods := []Pod{pod("a", a)}
	tick(t, d, 0, pods)
	if c := tick(t, d, 1, pods); c.Ended != 0 {
		t.Fatalf("step 1: %+v", c)
	}
	if c := tick(t, d, 2, pods); c.Ended != 1 || len(a.clients) != 1 || a.clients["p0000001"].ID == "" {
		t.Fatalf("step 2: %+v, left %v", c, a.clients)
	}
	if c := tick(t, d, 9, pods); c.Ended != 1 || len(a.clients) != 0 {
		t.Fatalf("step 9: %+v", c)
	}
	if tot := d.Totals(); tot != (Counts{Started: 2, Ended: 2}) {
		t.Fatalf("totals %+v", tot)
	}
}

func TestKickedPlayersAreEvictedAndReconnectElsewhere(t *testing.T) {
	a, b := newFake(), newFake()
	d := newDispatcher(t, sessions(10, 10), 10)
	tick(t, d, 0, []Pod{pod("a", a), pod("b", b)}) // one each
	// a is tombstoned and kicks its player; the server has already dropped it.
	a.RemoveClient("p0000000")
	pods := []Pod{{Name: "a", Ready: true, Server: a}, pod("b", b)}
	c := tick(t, d, 1, pods, Kick{Pod: "a", ID: "p0000000"}, Kick{Pod: "a", ID: "nosuch"}, Kick{Pod: "a", ID: "p0000001"})
	if c != (Counts{Evicted: 1}) || len(b.clients) != 2 || len(a.clients) != 0 {
		t.Fatalf("counts %+v; a %v b %v", c, a.clients, b.clients)
	}
	// With nowhere to go, a kicked player is rejected too.
	b.RemoveClient("p0000001")
	c = tick(t, d, 2, []Pod{{Name: "a", Ready: true, Server: a}, {Name: "b", Ready: true, Server: b}}, Kick{Pod: "b", ID: "p0000001"})
	if c != (Counts{Evicted: 1, Rejected: 1}) || d.Up()["b"] != 1 {
		t.Fatalf("counts %+v, up %v", c, d.Up())
	}
}

func TestAPlayerKickedOffAPodThatIsGoneNowWasEvictedNotLost(t *testing.T) {
	a, b := newFake(), newFake()
	d := newDispatcher(t, sessions(10, 10), 10)
	tick(t, d, 0, []Pod{pod("a", a), pod("b", b)}) // one each
	// The drain timeout kicked a's player, then a was deleted, all before this tick.
	a.RemoveClient("p0000000")
	c := tick(t, d, 1, []Pod{pod("b", b)}, Kick{Pod: "a", ID: "p0000000"})
	if c != (Counts{Evicted: 1}) || len(b.clients) != 2 {
		t.Fatalf("counts %+v; b %v", c, b.clients)
	}
}

func TestPlayersOfAVanishedPodAreLost(t *testing.T) {
	a, b := newFake(), newFake()
	d := newDispatcher(t, sessions(10, 10, 10), 2)
	tick(t, d, 0, []Pod{pod("a", a), pod("b", b)}) // a 2, b 1
	c := tick(t, d, 1, []Pod{pod("b", b)})
	// Two lost; b has room for one of them, the other is rejected.
	if c != (Counts{Lost: 2, Rejected: 1}) || len(b.clients) != 2 || !reflect.DeepEqual(d.Up(), map[string]int{"b": 2}) {
		t.Fatalf("counts %+v, up %v", c, d.Up())
	}
	// A session that ends as its pod vanishes ended; it is not lost.
	d2 := newDispatcher(t, sessions(1), 2)
	tick(t, d2, 0, []Pod{pod("a", newFake())})
	if c := tick(t, d2, 1, nil); c != (Counts{Ended: 1}) {
		t.Fatalf("counts %+v", c)
	}
}

func TestAServerThatRefusesRejectsThePlayer(t *testing.T) {
	a := newFake()
	a.refuse = true
	d := newDispatcher(t, sessions(10), 2)
	c, err := d.Tick(t0, []Pod{pod("a", a)}, nil)
	if err == nil || c != (Counts{Rejected: 1}) {
		t.Fatalf("counts %+v, err %v", c, err)
	}
}

// Refusals are counted where a dispatcher would see them: a player no eligible pod had
// room for is shared among the full eligible pods (not the starting or tombstoned ones),
// a player a server refused is that pod's, and a pod's count starts at 0 the first tick
// it takes players.
func TestRefusalsAreSharedAmongTheFullEligiblePods(t *testing.T) {
	a, b, refusing, starting, tomb := newFake(), newFake(), newFake(), newFake(), newFake()
	refusing.refuse = true
	d := newDispatcher(t, sessions(10, 10, 10, 10, 10, 10), 2)
	pods := []Pod{pod("a", a), pod("b", b), {Name: "starting", Ready: false, Allocated: true, Server: starting}, {Name: "tomb", Ready: true, Server: tomb}}
	c := tick(t, d, 0, pods)
	if c.Started != 4 || c.Rejected != 2 {
		t.Fatalf("counts %+v", c)
	}
	if got, want := d.Refused(), map[string]float64{"a": 1, "b": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("refused %v, want %v: two players, each shared between the two full pods", got, want)
	}
	// A player a server refused is that pod's alone, though another pod is full.
	full := newFake()
	d2 := newDispatcher(t, []simulate.Session{{Start: 0, End: 10, BitrateBps: 1e6}, {Start: 1, End: 10, BitrateBps: 1e6}}, 1)
	if _, err := d2.Tick(t0, []Pod{pod("full", full)}, nil); err != nil {
		t.Fatal(err)
	}
	if c, err := d2.Tick(t0.Add(step), []Pod{pod("full", full), pod("r", refusing)}, nil); err == nil || c.Rejected != 1 {
		t.Fatalf("counts %+v, err %v: want the player refused by r", c, err)
	}
	if got, want := d2.Refused(), map[string]float64{"full": 0, "r": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("refused %v, want %v", got, want)
	}
}

func TestReplaysSimulatesSessions(t *testing.T) {
	dem := simulate.Demand{Start: t0, Step: step, Streams: []float64{20, 30, 40, 40, 30, 20}}
	ss, err := simulate.Sessions(dem, simulate.Profile{SessionMeanSeconds: 30, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(dem.Start, dem.Step, ss, 1000, 3, simulate.DispatchSpread)
	if err != nil {
		t.Fatal(err)
	}
	srv := newFake()
	for k := range len(dem.Streams) + 200 { // bounded: past every session's end
		tick(t, d, k, []Pod{pod("a", srv)})
	}
	tot := d.Totals()
	if tot.Started+tot.Rejected == 0 || tot.Started != tot.Ended || len(srv.clients) != 0 {
		t.Fatalf("totals %+v with %d sessions, %d left", tot, len(ss), len(srv.clients))
	}
}

// With srsemu: a kick through the real HTTP API reaches the players, who move.
func TestAKickThroughTheEmulatedAPIMovesThePlayer(t *testing.T) {
	var mu sync.Mutex
	var kicks []Kick
	base := fmt.Sprintf("127.%d.%d.", 100+os.Getpid()%100, 250+os.Getpid()%5)
	servers := map[string]*srsemu.Server{}
	for i, name := range []string{"a", "b"} {
		s, err := srsemu.Start(base+fmt.Sprint(i+1), srsemu.Config{OnKick: func(c srsemu.Client) {
			mu.Lock()
			defer mu.Unlock()
			kicks = append(kicks, Kick{Pod: name, ID: c.ID})
		}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Stop() })
		servers[name] = s
	}
	d := newDispatcher(t, sessions(100, 100), 10)
	tick(t, d, 0, []Pod{pod("a", servers["a"]), pod("b", servers["b"])})
	req, _ := http.NewRequest(http.MethodDelete, "http://"+servers["a"].APIAddr()+"/api/v1/clients/p0000000", nil)
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mu.Lock()
	got := append([]Kick(nil), kicks...)
	mu.Unlock()
	c := tick(t, d, 1, []Pod{{Name: "a", Ready: true, Server: servers["a"]}, pod("b", servers["b"])}, got...)
	if c != (Counts{Evicted: 1}) || len(servers["a"].Clients()) != 0 || len(servers["b"].Clients()) != 2 {
		t.Fatalf("counts %+v; a %v b %v", c, servers["a"].Clients(), servers["b"].Clients())
	}
}
