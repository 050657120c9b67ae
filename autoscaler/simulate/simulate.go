package simulate

import (
	"fmt"
	"math"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/autoscaler"
)

// Policy names, in report order.
const (
	PolicyReactive   = "reactive"
	PolicyPredictive = "predictive"
	PolicyHPA        = "hpa"
	PolicyStaticPeak = "static-peak"
	// PolicyOracleAtTarget is the oracle filling pods only to the policy's target
	// (TargetStreamsPerPod): what a perfect controller at that target costs.
	PolicyOracleAtTarget = "oracle-at-target"
	PolicyOracle         = "oracle"
)

// Series is what a policy looked like over time, sampled about once a minute.
type Series struct {
	// Hours since the start of the replay.
	Hours []float64 `json:"hours"`
	// Demand is the offered concurrent streams (what clients asked for).
	Demand []float64 `json:"demand"`
	// Capacity is the streams the fleet could hold: a full pod for every pod taking
	// streams, plus what draining pods still carry.
	Capacity []float64 `json:"capacity"`
	// Pods is the number of pods that exist (starting, serving and draining).
	Pods  []float64 `json:"pods"`
	start time.Time
}

// Add appends one sample at t (the demo records its live run with it).
func (s *Series) Add(t time.Time, demand, capacity, pods float64) { s.add(t, demand, capacity, pods) }

func (s *Series) add(t time.Time, demand, capacity, pods float64) {
	if s.start.IsZero() {
		s.start = t
	}
	s.Hours = append(s.Hours, t.Sub(s.start).Hours())
	s.Demand = append(s.Demand, demand)
	s.Capacity = append(s.Capacity, capacity)
	s.Pods = append(s.Pods, pods)
}

// Result is one policy's score.
type Result struct {
	// Policy is reactive, predictive, hpa, static-peak or oracle.
	Policy string `json:"policy"`
	// PodHours is the pod time paid for, from creation to deletion.
	PodHours float64 `json:"podHours"`
	// DrainingPodHours is the part of PodHours paid for pods in tombstone or deletable:
	// what waiting for players to leave costs (0 for policies that do not drain).
	DrainingPodHours float64 `json:"drainingPodHours"`
	// StartingPodHours is the part paid for pods not Ready yet.
	StartingPodHours float64 `json:"startingPodHours"`
	// OracleRatio is PodHours divided by the oracle's.
	OracleRatio float64 `json:"oracleRatio"`
	// TargetRatio is PodHours divided by the oracle-at-target's: the cost of control
	// apart from the choice of target (0 when the policy has no stream-like metric).
	TargetRatio float64 `json:"targetRatio"`
	// OverloadSeconds is the time offered demand was above the fleet's capacity.
	OverloadSeconds float64 `json:"overloadSeconds"`
	// RejectedStreams were refused because no pod could take them (including evicted
	// streams that found no pod to reconnect to).
	RejectedStreams int64 `json:"rejectedStreams"`
	// EvictedStreams were kicked at a drain timeout (or left at the idle level when a
	// drained pod went) and asked to reconnect.
	EvictedStreams int64 `json:"evictedStreams"`
	// LostStreams were cut without warning by deleting the pod that carried them (their
	// players retry elsewhere, and count as rejected if no pod has room).
	LostStreams int64 `json:"lostStreams"`
	// TombstonedPods counts scale-in moves to tombstone; RevivedPods counts tombstoned
	// pods brought back to allocated instead of creating new ones (reactive only).
	TombstonedPods int `json:"tombstonedPods"`
	RevivedPods    int `json:"revivedPods"`
	// ScaleEvents counts decisions that changed the fleet's size.
	ScaleEvents int `json:"scaleEvents"`
	// PeakPods is the most pods that existed at once.
	PeakPods int `json:"peakPods"`
	// MeanUtilization is carried stream time over pod capacity time.
	MeanUtilization float64 `json:"meanUtilization"`
	// Series is the policy over time; left out of JSON.
	Series Series `json:"-"`
}

// Report is the outcome of one replay.
type Report struct {
	// Start and End bound the replayed time.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Steps is the number of simulation steps.
	Steps int `json:"steps"`
	// Streams is the number of stream sessions offered (the same for every policy).
	Streams int `json:"streams"`
	// PeakOffered is the highest offered concurrency.
	PeakOffered int `json:"peakOffered"`
	// Profile is the simulation profile, defaults filled in (hpaTargetCPUPercent matched
	// to the policy when unset).
	Profile Profile `json:"profile"`
	// TargetStreamsPerPod is the streams per pod the policy aims at (TargetStreamsPerPod).
	TargetStreamsPerPod float64 `json:"targetStreamsPerPod"`
	// Results per policy.
	Results []Result `json:"results"`
}

// Run replays the demand under every policy. policy is the ScalingPolicy spec the
// reactive policy follows; its min and max bound the hpa baseline and the oracle too. The
// caller checks it against the CRD (policyfile does, with crdvalidation).
func Run(d Demand, spec *v1alpha1.ScalingPolicySpec, p Profile) (*Report, error) {
	p = p.WithDefaults()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if d.Step != time.Duration(p.StepSeconds)*time.Second {
		return nil, fmt.Errorf("demand step %s differs from the profile's stepSeconds %d", d.Step, p.StepSeconds)
	}
	if len(d.Streams) < 2 {
		return nil, fmt.Errorf("demand has %d steps, need at least 2", len(d.Streams))
	}
	if p.HPATargetCPUPercent == 0 {
		p.HPATargetCPUPercent = matchedCPUPercent(spec, p)
	}
	sync := spec.Period()
	if sync < d.Step || sync%d.Step != 0 {
		return nil, fmt.Errorf("syncPeriod %s must be a multiple of the %s step", sync, d.Step)
	}
	w := arrivals(d, p)
	rep := &Report{Start: d.Start, End: d.Start.Add(time.Duration(len(d.Streams)) * d.Step), Steps: len(d.Streams), Streams: len(w.streams), Profile: p,
		TargetStreamsPerPod: TargetStreamsPerPod(spec, p)}
	for _, o := range w.offered {
		rep.PeakOffered = max(rep.PeakOffered, o)
	}
	record := max(1, int(time.Minute/d.Step))

	reactive, err := runReactive(d, &w, spec, p, record)
	if err != nil {
		return nil, err
	}
	pspec, lf, err := predictiveSetup(spec, p)
	if err != nil {
		return nil, err
	}
	predictive, err := runStreamscaler(PolicyPredictive, d, &w, pspec, p, record, lf)
	if err != nil {
		return nil, err
	}
	hpa, err := runHPA(d, &w, spec, p, record)
	if err != nil {
		return nil, err
	}
	static, err := runStatic(d, &w, p, record)
	if err != nil {
		return nil, fmt.Errorf("static-peak policy: %w", err)
	}
	results := []Result{reactive, predictive, hpa, static}
	var atTarget float64
	if t := rep.TargetStreamsPerPod; t > 0 {
		r := runOracle(PolicyOracleAtTarget, d, &w, spec, p, record, min(t, float64(p.PodCapacityStreams)))
		atTarget = r.PodHours
		results = append(results, r)
	}
	results = append(results, runOracle(PolicyOracle, d, &w, spec, p, record, float64(p.PodCapacityStreams)))
	oracle := results[len(results)-1].PodHours
	for i := range results {
		if oracle > 0 {
			results[i].OracleRatio = results[i].PodHours / oracle
		}
		if atTarget > 0 {
			results[i].TargetRatio = results[i].PodHours / atTarget
		}
	}
	rep.Results = results
	return rep, nil
}

// predictiveSetup is the policy's spec with prediction on (the policy's own prediction
// block, or the defaults with a horizon of one pod start-up plus one sync period), and
// its forecaster: one-minute buckets, refitted every ForecastRefitMinutes.
func predictiveSetup(spec *v1alpha1.ScalingPolicySpec, p Profile) (*v1alpha1.ScalingPolicySpec, *autoscaler.LoadForecaster, error) {
	ps := spec.DeepCopy()
	if ps.Prediction == nil {
		ps.Prediction = &v1alpha1.PredictionSpec{}
	}
	ps.Prediction.Enabled = true
	if ps.Prediction.Horizon == nil {
		h := max(time.Minute, time.Duration(p.StartupSeconds)*time.Second+spec.Period())
		ps.Prediction.Horizon = &metav1.Duration{Duration: h}
	}
	lf, err := autoscaler.NewLoadForecaster(ps, time.Duration(p.ForecastStepMinutes)*time.Minute, time.Duration(p.ForecastRefitMinutes)*time.Minute)
	if err != nil {
		return nil, nil, fmt.Errorf("predictive policy: %w", err)
	}
	return ps, lf, nil
}

// initialPods is where the dynamic policies start: room for the first demand at 75% of capacity.
// InitialPods is the fleet the dynamic policies start a replay with; the demo starts its
// CloneSet at the same size.
func InitialPods(d Demand, spec *v1alpha1.ScalingPolicySpec, p Profile) int {
	w := arrivals(d, p.WithDefaults())
	return initialPods(&w, spec, p.WithDefaults())
}

func initialPods(w *workload, spec *v1alpha1.ScalingPolicySpec, p Profile) int {
	n := int(math.Ceil(float64(w.offered[0]) / (0.75 * float64(p.PodCapacityStreams))))
	return int(max(spec.Min(), min(int32(n), spec.MaxReplicas)))
}

func (f *fleet) result(name string) Result {
	r := Result{
		Policy: name, PodHours: f.podSeconds / 3600, OverloadSeconds: f.overloadSecs,
		DrainingPodHours: f.drainingSecs / 3600, StartingPodHours: f.startingSecs / 3600,
		RejectedStreams: f.rejected, EvictedStreams: f.evicted, LostStreams: f.lost,
		TombstonedPods: f.tombstoned, RevivedPods: f.revived,
		ScaleEvents: f.scaleEvents, PeakPods: f.peakPods, Series: f.series,
	}
	if f.podSeconds > 0 {
		r.MeanUtilization = f.streamSeconds / (f.podSeconds * float64(f.p.PodCapacityStreams))
	}
	return r
}

// runStatic keeps enough pods for the peak offered demand all the time.
func runStatic(d Demand, w *workload, p Profile, record int) (Result, error) {
	f := newFleet(p, w, d, func(*pod) bool { return true })
	peak := 0
	for _, o := range w.offered {
		peak = max(peak, o)
	}
	for i := 0; i < max(1, int(math.Ceil(float64(peak)/float64(p.PodCapacityStreams)))); i++ {
		f.addPod(d.Start, true)
	}
	for k := range d.Streams {
		f.advance(k)
		f.account(k, record)
	}
	return f.result(PolicyStaticPeak), f.verify(len(d.Streams) - 1)
}

// runOracle is the clairvoyant lower bound: at every step it has exactly the pods that
// the highest demand before a new pod could start needs, filled to perPod streams, and
// moves streams for free.
func runOracle(name string, d Demand, w *workload, spec *v1alpha1.ScalingPolicySpec, p Profile, record int, perPod float64) Result {
	n := len(w.offered)
	ahead := int(math.Ceil(float64(p.StartupSeconds) / float64(p.StepSeconds)))
	// Sliding-window maximum over [k, k+ahead] with a monotonic deque.
	need := make([]int, n)
	var dq []int
	for k := n - 1; k >= 0; k-- {
		for len(dq) > 0 && w.offered[dq[len(dq)-1]] <= w.offered[k] {
			dq = dq[:len(dq)-1]
		}
		dq = append(dq, k)
		for dq[0] > k+ahead {
			dq = dq[1:]
		}
		need[k] = w.offered[dq[0]]
	}
	r := Result{Policy: name}
	dt := d.Step.Seconds()
	var served float64
	prev := -1
	for k := 0; k < n; k++ {
		pods := int(math.Ceil(float64(need[k]) / perPod))
		pods = int(max(spec.Min(), min(int32(pods), spec.MaxReplicas)))
		capacity := pods * p.PodCapacityStreams
		if w.offered[k] > capacity {
			r.OverloadSeconds += dt
		}
		served += float64(min(w.offered[k], capacity)) * dt
		r.PodHours += float64(pods) * dt / 3600
		if prev >= 0 && pods != prev {
			r.ScaleEvents++
		}
		prev = pods
		r.PeakPods = max(r.PeakPods, pods)
		if k%record == 0 {
			r.Series.add(d.Start.Add(time.Duration(k)*d.Step), float64(w.offered[k]), float64(capacity), float64(pods))
		}
	}
	if r.PodHours > 0 {
		r.MeanUtilization = served / (r.PodHours * 3600 * float64(p.PodCapacityStreams))
	}
	return r
}
