package simulate

import (
	"fmt"
	"time"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/autoscaler"
	"github.com/streamscaler/streamscaler/statemachine"
)

// samples is what a metrics source would report for each pod; without values, only the
// pods' states and readiness (a pass that is not due reads no metrics).
func (f *fleet) samples(pods []*pod, values bool) []autoscaler.PodSample {
	out := make([]autoscaler.PodSample, 0, len(pods))
	for _, p := range pods {
		s := autoscaler.PodSample{Name: p.name, State: p.m.State(), Since: p.m.EnteredAt(), Ready: p.ready, Created: p.created}
		if values {
			s.Values = f.values(p)
		}
		out = append(out, s)
	}
	return out
}

func (f *fleet) values(p *pod) map[string]float64 {
	bw := p.bitrate
	if p.streams == 0 {
		bw = 0 // float sums of added and removed bitrates leave dust
	}
	return map[string]float64{
		string(v1alpha1.MetricPullStreams):      float64(p.streams - p.push),
		string(v1alpha1.MetricPushStreams):      float64(p.push),
		string(v1alpha1.MetricBandwidth):        bw,
		string(v1alpha1.MetricPacketsPerSecond): bw / 8 / f.p.PacketBytes,
		string(v1alpha1.MetricCPU):              *f.p.CPUIdlePercent + f.p.CPUPercentPerStream*float64(p.streams),
		string(v1alpha1.MetricMemory):           *f.p.MemoryIdlePercent + f.p.MemoryPercentPerStream*float64(p.streams),
	}
}

func (f *fleet) byName() map[string]*pod {
	m := make(map[string]*pod, len(f.pods))
	for _, p := range f.pods {
		m[p.name] = p
	}
	return m
}

// runReactive is streamscaler: the controller's decision pass (autoscaler.Decide) at
// every step, its outcome carried out on the fleet the way the controller carries it out
// on the cluster.
func runReactive(d Demand, w *workload, spec *v1alpha1.ScalingPolicySpec, p Profile, record int) (Result, error) {
	return runStreamscaler(PolicyReactive, d, w, spec, p, record, nil)
}

// runStreamscaler replays this project's controller; with a forecaster it is the
// predictive policy, which also scales out ahead of forecast load.
func runStreamscaler(name string, d Demand, w *workload, spec *v1alpha1.ScalingPolicySpec, p Profile, record int, lf *autoscaler.LoadForecaster) (Result, error) {
	f, err := startStreamscaler(d, w, spec, p)
	if err != nil {
		return Result{}, err
	}
	mem := &autoscaler.Memory{Forecaster: lf}
	for k := range d.Streams {
		now := f.now(k)
		f.settle(k)
		// Every step is a pass, as every pod event is in the cluster: a pod's readiness
		// triggers a pass at once, so a pod Ready in this step is allocated before the
		// step's streams arrive; load-driven moves wait for the policy's sync period.
		if _, err := f.pass(now, spec, mem); err != nil {
			return Result{}, fmt.Errorf("%s policy at %s: %w", name, now.Format(time.RFC3339), err)
		}
		f.arrive(k)
		f.account(k, record)
	}
	if err := f.verify(len(d.Streams) - 1); err != nil {
		return Result{}, fmt.Errorf("%s policy: %w", name, err)
	}
	return f.result(name), nil
}

// startStreamscaler is the fleet at the start of a replay: warm, allocated pods.
func startStreamscaler(d Demand, w *workload, spec *v1alpha1.ScalingPolicySpec, p Profile) (*fleet, error) {
	f := newFleet(p, w, d, func(q *pod) bool { return q.ready && q.m.State() == statemachine.Allocated })
	for i := 0; i < initialPods(w, spec, p); i++ {
		q := f.addPod(d.Start, true)
		if _, err := q.m.Fire(statemachine.EventReady, statemachine.Input{Now: d.Start, Ready: true}); err != nil {
			return nil, fmt.Errorf("pod %s: %w", q.name, err)
		}
	}
	return f, nil
}

// snapshot is what the controller would read of the fleet: every pod with its state and
// readiness, samples when a decision is due, and the workload's size. Pods are created at
// once here, so none is pending.
func (f *fleet) snapshot(now time.Time, spec *v1alpha1.ScalingPolicySpec, due bool) autoscaler.Snapshot {
	pods := f.samples(f.pods, due)
	if due {
		f.refusals(now, spec.Period(), pods)
	}
	return autoscaler.Snapshot{Now: now, Spec: spec, Pods: pods, Replicas: int32(len(f.pods))}
}

// refusals adds to each pod that takes streams the refusedStreams reading a dispatcher
// would count: the streams refused (no pod had room) over the last sync period, per
// second, shared among those pods. It reads the fleet's record and changes nothing, so a
// snapshot can be taken twice.
func (f *fleet) refusals(now time.Time, period time.Duration, pods []autoscaler.PodSample) {
	k := int(now.Sub(f.start) / f.step)
	back := max(1, int((period+f.step-1)/f.step))
	from := max(0, k-back)
	refused, secs := int64(0), float64(k-from)*f.step.Seconds()
	if k < len(f.rejectedAt) && from < k {
		refused = f.rejectedAt[k] - f.rejectedAt[from]
	}
	var taking []int
	for i, p := range f.pods {
		if f.eligible(p) {
			taking = append(taking, i)
		}
	}
	for _, i := range taking {
		v := 0.0
		if refused > 0 {
			v = float64(refused) / float64(len(taking)) / secs
		}
		pods[i].Values[v1alpha1.KeyRefusedStreams] = v
	}
}

// pass runs the decision pass and carries out its outcome.
func (f *fleet) pass(now time.Time, spec *v1alpha1.ScalingPolicySpec, mem *autoscaler.Memory) (autoscaler.Outcome, error) {
	o, err := autoscaler.Decide(f.snapshot(now, spec, mem.Due(now)), mem)
	if err != nil {
		return o, err
	}
	if err := f.apply(now, o); err != nil {
		return o, err
	}
	mem.Commit(o)
	return o, nil
}

// apply carries out an outcome as the controller does, with the workload's part played
// by the fleet: moves in order (evicting at a drain timeout first), then the scale, which
// deletes exactly the named pods and creates pods up to the replicas asked for.
func (f *fleet) apply(now time.Time, o autoscaler.Outcome) error {
	named := f.byName()
	for _, mv := range o.Moves {
		p := named[mv.Pod]
		if mv.Evict {
			f.evicted += f.cut(p, true)
		}
		// The pass fired the move through the state machine; as in the cluster, the
		// stored state and its time are all a pod keeps.
		m, err := statemachine.Restore(mv.Transition.To, mv.Transition.At)
		if err != nil {
			return fmt.Errorf("pod %s: %w", p.name, err)
		}
		p.m = m
		if f.onMove != nil {
			f.onMove(mv)
		}
		switch mv.Transition.Event {
		case statemachine.EventRevive:
			f.revived++
		case statemachine.EventScaleIn:
			f.tombstoned++
		}
	}
	if o.Changed() {
		f.scaleEvents++
	}
	if !o.Scale.Write {
		return nil
	}
	if f.onScale != nil {
		f.onScale(o.Scale)
	}
	gone := map[*pod]bool{}
	for _, n := range o.Scale.PodsToDelete {
		p := named[n]
		// A drained pod may still hold up to idleStreams streams: they are asked to reconnect.
		f.evicted += f.cut(p, true)
		gone[p] = true
	}
	f.remove(gone)
	for int32(len(f.pods)) < o.Scale.Replicas {
		f.addPod(now, false)
	}
	return nil
}
