package samples

import (
	"math"
	"strconv"
	"time"

	"github.com/go-logr/logr"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

// Sample is one raw reading of one metric of one pod.
type Sample struct {
	// Pod is the pod's name.
	Pod string
	// Key is the metric key (bandwidth, pullStreams, cpu, custom/<name>, ...); empty for
	// a problem of the whole pod (Problem unreadable).
	Key string
	// Value is the reading in the metric's unit.
	Value float64
	// Time is when the value was measured; the zero time means "now" (a live read).
	Time time.Time
	// Problem, when set, is why the source could not read a value (undated, nonNumeric,
	// ambiguous, noRequest, partial, unreadable): Collect leaves the sample out for it.
	Problem v1alpha1.SampleProblem
}

// Dropped says what Collect left out and why, for logs, self-metrics and the policy's
// status.
type Dropped struct {
	// Samples counts the samples of asked pods left out, by problem.
	Samples map[v1alpha1.SampleProblem]int
	// UnknownPod counts the samples of pods not asked about.
	UnknownPod int
	// Pods says, per asked pod left without a value of some key, why: each problem once,
	// in v1alpha1.SampleProblems order. A sample left out while a newer valid one of the
	// same key was kept makes nothing missing, and is only counted in Samples.
	Pods map[string][]v1alpha1.SampleProblem
	// FirstImplausible is the first sample left out as implausible, and FirstCeiling its
	// metric's ceiling, to name in the log.
	FirstImplausible Sample
	FirstCeiling     float64
}

// Total is the number of samples left out.
func (d Dropped) Total() int {
	n := d.UnknownPod
	for _, c := range d.Samples {
		n += c
	}
	return n
}

// KeysAndValues are the counts as logr key-value pairs, problems left out that did not
// occur.
func (d Dropped) KeysAndValues() []any {
	var kv []any
	for _, p := range v1alpha1.SampleProblems() {
		if n := d.Samples[p]; n > 0 {
			kv = append(kv, string(p), n)
		}
	}
	return append(kv, "unknownPod", d.UnknownPod, "podsMissing", len(d.Pods))
}

// LogImplausible reports implausible samples at the default level: unlike a late or
// absent sample, one means an exporter is broken, and someone has to fix it.
func (d Dropped) LogImplausible(log logr.Logger) {
	n := d.Samples[v1alpha1.SampleImplausible]
	if n == 0 {
		return
	}
	s := d.FirstImplausible
	log.Info("Implausible samples left out as missing: an exporter is broken",
		"implausible", n, "pod", s.Pod, "metric", s.Key, "value", g(s.Value), "perPodCeiling", g(d.FirstCeiling))
}

// g writes a number short (1e+308), whatever the logger does with floats.
func g(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// Collect keeps the valid samples of known pods, newest first when a pod reports a key
// twice. maxAge <= 0 keeps samples of any age; nil ceilings are the defaults. Pods
// without any valid sample are still in the result with an empty map, so callers can tell
// "asked and got nothing" apart; Dropped.Pods says why samples of theirs were left out.
func Collect(raw []Sample, pods []string, now time.Time, maxAge time.Duration, ceilings Ceilings) (map[string]map[string]float64, Dropped) {
	out := make(map[string]map[string]float64, len(pods))
	for _, p := range pods {
		out[p] = map[string]float64{}
	}
	newest := map[[2]string]time.Time{}
	problems := map[[2]string][]v1alpha1.SampleProblem{}
	d := Dropped{Samples: map[v1alpha1.SampleProblem]int{}}
	for _, s := range raw {
		values, known := out[s.Pod]
		if !known {
			d.UnknownPod++
			continue
		}
		at := s.Time
		if at.IsZero() {
			at = now
		}
		ceiling, bounded := ceilings.Of(s.Key)
		problem := s.Problem
		switch {
		case problem != "":
		case math.IsNaN(s.Value) || math.IsInf(s.Value, 0):
			problem = v1alpha1.SampleNotFinite
		case s.Value < 0:
			problem = v1alpha1.SampleNegative
		case bounded && s.Value > ceiling:
			problem = v1alpha1.SampleImplausible
			if d.Samples[problem] == 0 {
				d.FirstImplausible, d.FirstCeiling = s, ceiling
			}
		case maxAge > 0 && now.Sub(at) > maxAge:
			problem = v1alpha1.SampleStale
		}
		k := [2]string{s.Pod, s.Key}
		if problem != "" {
			d.Samples[problem]++
			problems[k] = append(problems[k], problem)
			continue
		}
		if prev, seen := newest[k]; seen && !at.After(prev) {
			continue
		}
		newest[k] = at
		values[s.Key] = s.Value
	}
	d.Pods = missingPods(problems, out)
	return out, d
}

// missingPods keeps the problems of the keys left without a value (and of whole pods),
// each once per pod, in v1alpha1.SampleProblems order.
func missingPods(problems map[[2]string][]v1alpha1.SampleProblem, values map[string]map[string]float64) map[string][]v1alpha1.SampleProblem {
	sets := map[string]map[v1alpha1.SampleProblem]bool{}
	for k, ps := range problems {
		pod, key := k[0], k[1]
		if _, kept := values[pod][key]; kept && key != "" {
			continue
		}
		if sets[pod] == nil {
			sets[pod] = map[v1alpha1.SampleProblem]bool{}
		}
		for _, p := range ps {
			sets[pod][p] = true
		}
	}
	out := make(map[string][]v1alpha1.SampleProblem, len(sets))
	for pod, set := range sets {
		for _, p := range v1alpha1.SampleProblems() {
			if set[p] {
				out[pod] = append(out[pod], p)
			}
		}
	}
	return out
}
