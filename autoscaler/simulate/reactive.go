package simulate

import (
	"fmt"
	"time"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/autoscaler"
	"github.com/streamscaler/streamscaler/statemachine"
)

// samples is what a metrics source would report for each pod.
func (f *fleet) samples(pods []*pod) []autoscaler.PodSample {
	out := make([]autoscaler.PodSample, 0, len(pods))
	for _, p := range pods {
		bw := p.bitrate
		if p.streams == 0 {
			bw = 0 // float sums of added and removed bitrates leave dust
		}
		out = append(out, autoscaler.PodSample{
			Name: p.name, State: p.m.State(), Since: p.m.EnteredAt(), Ready: p.ready, Created: p.created,
			Values: map[string]float64{
				string(v1alpha1.MetricPullStreams):      float64(p.streams - p.push),
				string(v1alpha1.MetricPushStreams):      float64(p.push),
				string(v1alpha1.MetricBandwidth):        bw,
				string(v1alpha1.MetricPacketsPerSecond): bw / 8 / f.p.PacketBytes,
				string(v1alpha1.MetricCPU):              *f.p.CPUIdlePercent + f.p.CPUPercentPerStream*float64(p.streams),
				string(v1alpha1.MetricMemory):           *f.p.MemoryIdlePercent + f.p.MemoryPercentPerStream*float64(p.streams),
			},
		})
	}
	return out
}

func (f *fleet) byName() map[string]*pod {
	m := make(map[string]*pod, len(f.pods))
	for _, p := range f.pods {
		m[p.name] = p
	}
	return m
}

// fire moves a pod through the state machine.
func fire(p *pod, ev statemachine.Event, in statemachine.Input) error {
	if _, err := p.m.Fire(ev, in); err != nil {
		return fmt.Errorf("pod %s: %w", p.name, err)
	}
	return nil
}

// runReactive is streamscaler: the decision core picks the serving size, the plan picks
// the pods, the state machine moves them, and only deletable pods are removed.
func runReactive(d Demand, w *workload, spec *v1alpha1.ScalingPolicySpec, p Profile, record int) (Result, error) {
	return runStreamscaler(PolicyReactive, d, w, spec, p, record, nil)
}

// runStreamscaler replays this project's controller; with a forecaster it is the
// predictive policy, which also scales out ahead of forecast load.
func runStreamscaler(name string, d Demand, w *workload, spec *v1alpha1.ScalingPolicySpec, p Profile, record int, lf *autoscaler.LoadForecaster) (Result, error) {
	f := newFleet(p, w, d, func(q *pod) bool { return q.ready && q.m.State() == statemachine.Allocated })
	for i := 0; i < initialPods(w, spec, p); i++ {
		q := f.addPod(d.Start, true)
		if err := fire(q, statemachine.EventReady, statemachine.Input{Now: d.Start, Ready: true}); err != nil {
			return Result{}, err
		}
	}
	hist := &autoscaler.History{}
	syncEvery := int(spec.Period() / d.Step)
	for k := range d.Streams {
		now := f.now(k)
		f.advance(k)
		// Readiness arrives through a pod watch, so it is acted on at once; load-driven
		// moves wait for the policy's sync.
		var err error
		if k%syncEvery == 0 {
			err = f.reactiveSync(now, spec, hist, lf)
		} else {
			err = f.lifecycle(now, spec, true)
		}
		if err != nil {
			return Result{}, fmt.Errorf("%s policy at %s: %w", name, now.Format(time.RFC3339), err)
		}
		f.account(k, record)
	}
	if err := f.verify(len(d.Streams) - 1); err != nil {
		return Result{}, fmt.Errorf("%s policy: %w", name, err)
	}
	return f.result(name), nil
}

// lifecycle applies autoscaler.Progress: ready pods become allocated, drained or timed-out
// tombstoned pods become deletable (after eviction), and deletable pods are removed.
func (f *fleet) lifecycle(now time.Time, spec *v1alpha1.ScalingPolicySpec, readyOnly bool) error {
	pods := f.pods
	if readyOnly {
		pods = nil
		for _, p := range f.pods {
			if p.m.State() == statemachine.Init && p.ready {
				pods = append(pods, p)
			}
		}
		if len(pods) == 0 {
			return nil
		}
	}
	steps, err := autoscaler.Progress(f.samples(pods), spec, now)
	if err != nil {
		return err
	}
	named := f.byName()
	for _, s := range steps {
		p := named[s.Pod]
		if s.Evict {
			f.evicted += f.cut(p, true)
		}
		m, err := statemachine.Restore(s.Transition.To, s.Transition.At)
		if err != nil {
			return err
		}
		p.m = m
	}
	gone := map[*pod]bool{}
	for _, p := range f.pods {
		if p.m.State() == statemachine.Deletable {
			// A drained pod may still hold up to idleStreams streams: they are asked to reconnect.
			f.evicted += f.cut(p, true)
			gone[p] = true
		}
	}
	if len(gone) > 0 {
		f.remove(gone)
	}
	return nil
}

func (f *fleet) reactiveSync(now time.Time, spec *v1alpha1.ScalingPolicySpec, hist *autoscaler.History, lf *autoscaler.LoadForecaster) error {
	if err := f.lifecycle(now, spec, false); err != nil {
		return err
	}
	samples := f.samples(f.pods)
	decide := autoscaler.Input{Now: now, Spec: spec, Pods: samples}
	if lf != nil {
		decide.Forecast = lf.Forecast()
	}
	rec := autoscaler.Recommend(decide, hist)
	if lf != nil {
		totals := map[string]float64{}
		for _, m := range rec.Metrics {
			if m.Valid {
				totals[m.Key] = m.Total
			}
		}
		lf.Observe(now, totals)
	}
	plan := autoscaler.PlanScale(samples, 0, rec.Replicas)
	named := f.byName()
	in := statemachine.Input{Now: now}
	for _, n := range plan.Revive {
		if err := fire(named[n], statemachine.EventRevive, in); err != nil {
			return err
		}
		f.revived++
	}
	for _, n := range plan.Tombstone {
		if err := fire(named[n], statemachine.EventScaleIn, in); err != nil {
			return err
		}
		f.tombstoned++
	}
	for _, n := range plan.Cancel {
		if err := fire(named[n], statemachine.EventCancel, in); err != nil {
			return err
		}
	}
	for i := int32(0); i < plan.Create; i++ {
		f.addPod(now, false)
	}
	if rec.Replicas != rec.Current {
		hist.RecordScale(now, rec.Current, rec.Replicas)
		f.scaleEvents++
	}
	// Cancelled pods are deletable now; release them in the same sync.
	return f.lifecycle(now, spec, true)
}
