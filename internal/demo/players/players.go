package players

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/streamscaler/streamscaler/autoscaler/simulate"
	"github.com/streamscaler/streamscaler/internal/demo/srsemu"
)

// Server is one pod's media server as the players use it; *srsemu.Server is one.
type Server interface {
	// AddClient connects a client and returns its id.
	AddClient(c srsemu.Client) (string, error)
	// RemoveClient disconnects a client; false when it was not there.
	RemoveClient(id string) bool
}

// Pod is one pod of the fleet at a tick.
type Pod struct {
	// Name identifies the pod across ticks.
	Name string
	// Ready and Allocated (labelled streamscaler.io/state=allocated) together make the
	// pod eligible for new players; a pod that is neither keeps the players it has.
	Ready, Allocated bool
	// Server is the pod's media server.
	Server Server
}

func (p Pod) eligible() bool { return p.Ready && p.Allocated }

// Kick says a server kicked one of the players (srsemu's Config.OnKick).
type Kick struct {
	Pod, ID string
}

// Counts are what happened to players; Tick returns one tick's, Totals the sum.
type Counts struct {
	// Started: sessions placed on a pod when they began.
	Started int64
	// Ended: sessions over, taken off their pod.
	Ended int64
	// Rejected: a session that began, or a player that had to reconnect, found no
	// eligible pod below capacity, and is gone.
	Rejected int64
	// Evicted: players kicked by their server, who reconnect to another pod.
	Evicted int64
	// Lost: players whose pod disappeared under them; like the simulator's, they too try
	// to reconnect (and count as Rejected if they cannot).
	Lost int64
}

func (c *Counts) add(o Counts) {
	c.Started += o.Started
	c.Ended += o.Ended
	c.Rejected += o.Rejected
	c.Evicted += o.Evicted
	c.Lost += o.Lost
}

// player is one session in progress.
type player struct {
	id      string
	n       int // index of the session
	session simulate.Session
	end     time.Time
	pod     string // "" once gone
}

// Dispatcher places sessions on pods. It is not safe for concurrent use: one caller
// ticks it, handing over the kicks its servers reported since the last tick.
type Dispatcher struct {
	start    time.Time
	step     time.Duration
	sessions []simulate.Session
	capacity int
	streams  int
	dispatch simulate.Dispatch

	next   int                // first session not started yet
	up     map[string]*player // by id
	onPod  map[string]int     // players per pod name
	totals Counts
	// refused is, per pod, the new streams it turned away (see Refused).
	refused map[string]float64
}

// New replays sessions drawn for a demand that starts at start with steps of step, at
// most capacity players per pod, each placed on the pod dispatch prefers (as the
// simulator's dispatcher places them); players watch streams s0 .. s<streams-1> in turn.
func New(start time.Time, step time.Duration, sessions []simulate.Session, capacity, streams int, dispatch simulate.Dispatch) (*Dispatcher, error) {
	if step <= 0 || capacity <= 0 || streams <= 0 {
		return nil, fmt.Errorf("configuring the players: step %s, capacity %d and streams %d must be positive", step, capacity, streams)
	}
	if !dispatch.Valid() {
		return nil, fmt.Errorf("configuring the players: dispatch %q: want %s or %s", dispatch, simulate.DispatchSpread, simulate.DispatchPacked)
	}
	return &Dispatcher{
		start: start, step: step, sessions: sessions, capacity: capacity, streams: streams, dispatch: dispatch,
		up: map[string]*player{}, onPod: map[string]int{}, refused: map[string]float64{},
	}, nil
}

func (d *Dispatcher) at(step int) time.Time { return d.start.Add(time.Duration(step) * d.step) }

// Tick brings the fleet to now:
//  1. sessions that ended by now leave their pods;
//  2. kicked players are evicted, and reconnect to another pod (a kick comes before its
//     pod's deletion, so a player kicked off a pod that is gone now was evicted, not lost);
//  3. players on pods no longer in pods are lost, and reconnect;
//  4. sessions that began by now join the eligible pod the dispatch prefers.
//
// A reconnecting or new player that finds no eligible pod below capacity is rejected.
// Errors from the servers are returned joined; a player a server refused is rejected.
func (d *Dispatcher) Tick(now time.Time, pods []Pod, kicked []Kick) (Counts, error) {
	var c Counts
	var errs []error
	byName := make(map[string]Pod, len(pods))
	for _, p := range pods {
		byName[p.Name] = p
		if _, ok := d.refused[p.Name]; !ok && p.eligible() {
			d.refused[p.Name] = 0 // counted from the first tick the pod takes players
		}
	}

	// 1. Sessions over.
	for id, pl := range d.up {
		if now.Before(pl.end) {
			continue
		}
		if p, ok := byName[pl.pod]; ok {
			p.Server.RemoveClient(id)
		}
		d.leave(pl)
		delete(d.up, id)
		c.Ended++
	}

	// 2. Kicked players: their server already dropped them, before its pod may have gone.
	for _, k := range kicked {
		pl, ok := d.up[k.ID]
		if !ok || pl.pod != k.Pod {
			continue // ended, lost or moved since
		}
		c.Evicted++
		d.leave(pl)
		d.reconnect(now, pl, pods, k.Pod, &c, &errs)
	}

	// 3. Pods gone: their players are lost and try again.
	for _, pl := range d.sorted() {
		if _, ok := byName[pl.pod]; ok {
			continue
		}
		c.Lost++
		d.leave(pl)
		d.reconnect(now, pl, pods, "", &c, &errs)
	}

	// 4. New sessions.
	for ; d.next < len(d.sessions) && !d.at(d.sessions[d.next].Start).After(now); d.next++ {
		s := d.sessions[d.next]
		end := d.at(s.End)
		if !now.Before(end) {
			continue // began and ended between two ticks
		}
		pl := &player{id: fmt.Sprintf("p%07d", d.next), n: d.next, session: s, end: end}
		if d.place(now, pl, pods, "", &errs) {
			d.up[pl.id] = pl
			c.Started++
		} else {
			c.Rejected++
		}
	}

	d.totals.add(c)
	return c, errors.Join(errs...)
}

// reconnect places a player who lost its pod, or drops it as rejected.
func (d *Dispatcher) reconnect(now time.Time, pl *player, pods []Pod, exclude string, c *Counts, errs *[]error) {
	if !d.place(now, pl, pods, exclude, errs) {
		delete(d.up, pl.id)
		c.Rejected++
	}
}

// place puts a player on the eligible pod below capacity that the dispatch prefers (the
// least-loaded when spread, the fullest when packed; the first of equals in the order
// given), other than exclude.
func (d *Dispatcher) place(now time.Time, pl *player, pods []Pod, exclude string, errs *[]error) bool {
	var best *Pod
	for i := range pods {
		p := &pods[i]
		if p.Name == exclude || !p.eligible() || d.onPod[p.Name] >= d.capacity {
			continue
		}
		if best == nil || d.dispatch.Prefers(d.onPod[p.Name], d.onPod[best.Name]) {
			best = p
		}
	}
	if best == nil {
		d.refuse(pods, exclude)
		return false
	}
	_, err := best.Server.AddClient(srsemu.Client{
		ID: pl.id, Stream: fmt.Sprintf("s%d", pl.n%d.streams), Publish: pl.session.Publish, BitrateBps: pl.session.BitrateBps, Start: now,
	})
	if err != nil {
		*errs = append(*errs, fmt.Errorf("adding player %s to pod %s: %w", pl.id, best.Name, err))
		d.refused[best.Name]++
		return false
	}
	pl.pod = best.Name
	d.onPod[best.Name]++
	return true
}

// refuse counts a player no pod had room for, shared among the eligible pods (all of
// them full), as the simulator's dispatcher shares its refusals among the pods taking
// streams. With no eligible pod, no pod turned it away: nothing is counted.
func (d *Dispatcher) refuse(pods []Pod, exclude string) {
	var full []string
	for _, p := range pods {
		if p.Name != exclude && p.eligible() {
			full = append(full, p.Name)
		}
	}
	for _, name := range full {
		d.refused[name] += 1 / float64(len(full))
	}
}

// leave takes a player off its pod's count.
func (d *Dispatcher) leave(pl *player) {
	if pl.pod == "" {
		return
	}
	if d.onPod[pl.pod]--; d.onPod[pl.pod] <= 0 {
		delete(d.onPod, pl.pod)
	}
	pl.pod = ""
}

// sorted lists the players up, by id, so that reconnects go in a repeatable order.
func (d *Dispatcher) sorted() []*player {
	out := make([]*player, 0, len(d.up))
	for _, pl := range d.up {
		out = append(out, pl)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// Totals are the counts since New.
func (d *Dispatcher) Totals() Counts { return d.totals }

// Refused is, per pod, how many new or reconnecting players it turned away since it
// first took players: a share of each player no eligible pod had room for, and each
// player its server refused. It is what a platform's dispatcher or load balancer would
// count, the refusedStreams a policy's behavior.saturation.refusedStreamsPerSecond reads.
func (d *Dispatcher) Refused() map[string]float64 {
	out := make(map[string]float64, len(d.refused))
	for k, v := range d.refused {
		out[k] = v
	}
	return out
}

// Up is how many players each pod has.
func (d *Dispatcher) Up() map[string]int {
	out := make(map[string]int, len(d.onPod))
	for k, v := range d.onPod {
		out[k] = v
	}
	return out
}
