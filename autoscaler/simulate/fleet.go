package simulate

import (
	"container/heap"
	"fmt"
	"time"

	"github.com/streamscaler/streamscaler/autoscaler"
	"github.com/streamscaler/streamscaler/statemachine"
)

// pod is one simulated media server.
type pod struct {
	name    string
	idx     int32 // position in fleet.all
	m       *statemachine.Machine
	created time.Time
	readyAt time.Time
	ready   bool
	streams int
	push    int
	bitrate float64
	ids     []int32 // streams placed here; entries whose owner moved on are dropped lazily
}

// fleet holds the pods of one policy and replays the shared workload against them.
type fleet struct {
	p        Profile
	w        *workload
	start    time.Time
	step     time.Duration
	pods     []*pod
	owner    []int32 // per stream: index into all, or -1 when not placed
	all      []*pod
	ends     endHeap
	next     int
	seq      int
	eligible func(*pod) bool // may take a new stream
	capacity int             // streams the fleet could hold when the step's streams arrived (arrive)
	// rejectedBefore is the rejected count when the step began: a step that refused a
	// stream was overloaded, whatever its capacity said.
	rejectedBefore int64

	rejected, evicted, lost int64
	// rejectedAt is the rejected count at the start of each step (refusals).
	rejectedAt               []int64
	podSeconds, overloadSecs float64
	// drainingSecs and startingSecs are the parts of podSeconds paid for pods in
	// tombstone or deletable, and for pods not Ready yet.
	drainingSecs, startingSecs float64
	streamSeconds              float64
	scaleEvents                int
	tombstoned, revived        int
	peakPods                   int
	series                     Series
	// onMove and onScale, when set, see each move and workload write the fleet carries out.
	onMove  func(autoscaler.Move)
	onScale func(autoscaler.Scale)
}

func newFleet(p Profile, w *workload, d Demand, eligible func(*pod) bool) *fleet {
	f := &fleet{p: p, w: w, start: d.Start, step: d.Step, eligible: eligible, owner: make([]int32, len(w.streams)), ends: endHeap{s: w.streams}}
	for i := range f.owner {
		f.owner[i] = -1
	}
	return f
}

func (f *fleet) now(k int) time.Time { return f.start.Add(time.Duration(k) * f.step) }

// addPod creates a pod that becomes Ready after the startup time (at once when warm).
func (f *fleet) addPod(now time.Time, warm bool) *pod {
	f.seq++
	p := &pod{name: fmt.Sprintf("media-%05d", f.seq), idx: int32(len(f.all)), m: statemachine.New(now), created: now, readyAt: now.Add(time.Duration(f.p.StartupSeconds) * time.Second)}
	if warm {
		p.ready, p.readyAt = true, now
	}
	f.pods = append(f.pods, p)
	f.all = append(f.all, p)
	f.peakPods = max(f.peakPods, len(f.pods))
	return p
}

// place puts a stream on the pod the profile's dispatch prefers among those that may take
// it; false when none can.
func (f *fleet) place(id int, exclude *pod) bool {
	var best *pod
	for _, p := range f.pods {
		if p == exclude || p.streams >= f.p.PodCapacityStreams || !f.eligible(p) {
			continue
		}
		if best == nil || f.p.Dispatch.Prefers(p.streams, best.streams) {
			best = p
		}
	}
	if best == nil {
		return false
	}
	s := &f.w.streams[id]
	best.streams++
	best.bitrate += s.bitrate
	if s.push {
		best.push++
	}
	best.ids = append(best.ids, int32(id))
	f.owner[id] = best.idx
	return true
}

// unplace takes a stream off its pod.
func (f *fleet) unplace(id int) {
	o := f.owner[id]
	if o < 0 {
		return
	}
	p, s := f.all[o], &f.w.streams[id]
	p.streams--
	p.bitrate -= s.bitrate
	if s.push {
		p.push--
	}
	f.owner[id] = -1
}

// cut takes every stream off a pod; reconnect re-places each on another pod (an
// eviction), otherwise they are gone. It returns how many streams were on the pod.
func (f *fleet) cut(p *pod, reconnect bool) int64 {
	idx := p.idx
	var n int64
	for _, id := range p.ids {
		if f.owner[id] != idx {
			continue
		}
		f.unplace(int(id))
		n++
		if reconnect && !f.place(int(id), p) {
			f.rejected++
		}
	}
	p.ids = p.ids[:0]
	return n
}

// remove deletes pods from the fleet.
func (f *fleet) remove(gone map[*pod]bool) {
	kept := f.pods[:0]
	for _, p := range f.pods {
		if !gone[p] {
			kept = append(kept, p)
		}
	}
	f.pods = kept
}

// advance runs the parts of step k every policy shares: streams end, pods become
// Ready, new streams arrive.
func (f *fleet) advance(k int) {
	f.settle(k)
	f.arrive(k)
}

// settle is the start of step k: streams end and pods become Ready.
func (f *fleet) settle(k int) {
	f.rejectedBefore = f.rejected
	for len(f.rejectedAt) <= k {
		f.rejectedAt = append(f.rejectedAt, f.rejected)
	}
	for f.ends.Len() > 0 && f.w.streams[f.ends.ids[0]].end <= k {
		f.unplace(int(heap.Pop(&f.ends).(int32)))
	}
	now := f.now(k)
	for _, p := range f.pods {
		if !p.ready && !now.Before(p.readyAt) {
			p.ready = true
		}
	}
}

// arrive places step k's new streams. The step's capacity is taken just before: a full
// pod for every pod that may take a stream now, plus what the others still carry, so a
// pod counts as capacity only from the step in which it can take streams, for every
// policy alike.
func (f *fleet) arrive(k int) {
	f.capacity = 0
	for _, p := range f.pods {
		if f.eligible(p) {
			f.capacity += f.p.PodCapacityStreams
		} else {
			f.capacity += p.streams
		}
	}
	for f.next < len(f.w.streams) && f.w.streams[f.next].start <= k {
		id := f.next
		f.next++
		if f.place(id, nil) {
			heap.Push(&f.ends, int32(id))
		} else {
			f.rejected++
		}
	}
	for _, p := range f.pods {
		if len(p.ids) > 4*p.streams+64 {
			f.compact(p)
		}
	}
}

func (f *fleet) compact(p *pod) {
	idx := p.idx
	kept := p.ids[:0]
	for _, id := range p.ids {
		if f.owner[id] == idx {
			kept = append(kept, id)
		}
	}
	p.ids = kept
}

// account adds step k to the totals and, every recordEvery steps, to the series.
func (f *fleet) account(k, recordEvery int) {
	dt := f.step.Seconds()
	capacity, streams, draining, starting := f.capacity, 0, 0, 0
	for _, p := range f.pods {
		streams += p.streams
		switch st := p.m.State(); {
		case st == statemachine.Tombstone || st == statemachine.Deletable:
			draining++
		case !p.ready:
			starting++
		}
	}
	f.podSeconds += float64(len(f.pods)) * dt
	f.drainingSecs += float64(draining) * dt
	f.startingSecs += float64(starting) * dt
	f.streamSeconds += float64(streams) * dt
	if f.w.offered[k] > capacity || f.rejected > f.rejectedBefore {
		f.overloadSecs += dt
	}
	if k%recordEvery == 0 {
		f.series.add(f.now(k), float64(f.w.offered[k]), float64(capacity), float64(len(f.pods)))
	}
}

// endHeap orders stream ids by end step.
type endHeap struct {
	ids []int32
	s   []stream
}

func (h *endHeap) Len() int           { return len(h.ids) }
func (h *endHeap) Less(i, j int) bool { return h.s[h.ids[i]].end < h.s[h.ids[j]].end }
func (h *endHeap) Swap(i, j int)      { h.ids[i], h.ids[j] = h.ids[j], h.ids[i] }
func (h *endHeap) Push(x any)         { h.ids = append(h.ids, x.(int32)) }
func (h *endHeap) Pop() any {
	x := h.ids[len(h.ids)-1]
	h.ids = h.ids[:len(h.ids)-1]
	return x
}

// verify checks the bookkeeping at the end of a run: every pod's counters match the
// streams it owns, no pod is above capacity, and no stream outlived its end.
func (f *fleet) verify(lastStep int) error {
	owned := make([]int, len(f.all))
	push := make([]int, len(f.all))
	for id, o := range f.owner {
		if o < 0 {
			continue
		}
		if f.w.streams[id].end <= lastStep {
			return fmt.Errorf("stream %d ended at step %d but is still on %s", id, f.w.streams[id].end, f.all[o].name)
		}
		owned[o]++
		if f.w.streams[id].push {
			push[o]++
		}
	}
	live := map[*pod]bool{}
	for _, p := range f.pods {
		live[p] = true
	}
	for i, p := range f.all {
		switch {
		case !live[p] && owned[i] > 0:
			return fmt.Errorf("deleted pod %s still owns %d streams", p.name, owned[i])
		case p.streams != owned[i] || p.push != push[i]:
			return fmt.Errorf("pod %s counts %d streams (%d push) but owns %d (%d push)", p.name, p.streams, p.push, owned[i], push[i])
		case p.streams > f.p.PodCapacityStreams:
			return fmt.Errorf("pod %s holds %d streams, above capacity %d", p.name, p.streams, f.p.PodCapacityStreams)
		}
	}
	return nil
}
