package controller

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	kruisev1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/autoscaler"
	"github.com/streamscaler/streamscaler/statemachine"
)

func setCondition(st *v1alpha1.ScalingPolicyStatus, gen int64, typ string, ok bool, reason, msg string) {
	status := metav1.ConditionFalse
	if ok {
		status = metav1.ConditionTrue
	}
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: typ, Status: status, ObservedGeneration: gen, Reason: reason, Message: msg})
}

// fillStatus records what this pass saw and decided. samplesMissing (missingSamples)
// goes into ScalingActive's message, and into ScalingLimited's when missing data holds
// the fleet.
func (r *Reconciler) fillStatus(st *v1alpha1.ScalingPolicyStatus, policy *v1alpha1.ScalingPolicy, cs *kruisev1alpha1.CloneSet, pods []*pod, rec *autoscaler.Recommendation, metricsErr error, samplesMissing string) {
	gen := policy.Generation
	st.CurrentReplicas = ptrValue(cs.Spec.Replicas)
	st.Pods = v1alpha1.PodStateCounts{}
	for _, p := range pods {
		switch p.stored.state {
		case statemachine.Init:
			st.Pods.Init++
		case statemachine.Allocated:
			st.Pods.Allocated++
		case statemachine.Tombstone:
			st.Pods.Tombstone++
		case statemachine.Deletable:
			st.Pods.Deletable++
		}
	}
	switch {
	case policy.Spec.Paused:
		setCondition(st, gen, v1alpha1.ConditionAbleToScale, false, "Paused", "spec.paused is set: no pod or CloneSet is changed")
	case policy.Spec.DryRun:
		setCondition(st, gen, v1alpha1.ConditionAbleToScale, true, "DryRun", "spec.dryRun is set: decisions are reported here and in events, not applied")
	default:
		setCondition(st, gen, v1alpha1.ConditionAbleToScale, true, "ReadyForNewScale", fmt.Sprintf("CloneSet %s can be scaled", cs.Name))
	}
	if rec == nil {
		return
	}
	st.DesiredReplicas = rec.Replicas
	for _, c := range autoscaler.Conditions(*rec, gen) {
		if c.Type == v1alpha1.ConditionScalingActive && metricsErr != nil {
			c.Status, c.Reason, c.Message = metav1.ConditionFalse, string(rec.Reason), fmt.Sprintf("%v; %s", metricsErr, rec.Message)
		}
		if samplesMissing != "" && (c.Type == v1alpha1.ConditionScalingActive || c.Reason == string(autoscaler.ReasonMissingMetricsHeld)) {
			c.Message += "; " + samplesMissing
		}
		meta.SetStatusCondition(&st.Conditions, c)
	}
	st.CurrentMetrics = st.CurrentMetrics[:0]
	for i, m := range rec.Metrics {
		ms := v1alpha1.MetricStatus{Type: m.Type, Name: policy.Spec.Metrics[i].Name, MissingPods: int32(m.Missing)}
		if m.Valid {
			ms.Total = quantity(m.Total)
			if rec.Current > 0 {
				ms.AveragePerServingPod = quantity(m.Total / float64(rec.Current))
			}
			d := m.Desired
			ms.DesiredReplicas = &d
		}
		st.CurrentMetrics = append(st.CurrentMetrics, ms)
	}
}

// missingSamples counts, per problem, the pods a source left without some sample, and
// says it in words: "samples missing for 3 pods: 2 stale, 1 implausible". A pod counts
// once in the total and once under each of its problems. Empty when no pod had one.
func missingSamples(missing map[string][]v1alpha1.SampleProblem) (map[v1alpha1.SampleProblem]int, string) {
	counts := map[v1alpha1.SampleProblem]int{}
	pods := 0
	for _, problems := range missing {
		if len(problems) > 0 {
			pods++
		}
		for _, p := range problems {
			counts[p]++
		}
	}
	if pods == 0 {
		return counts, ""
	}
	var parts []string
	for _, p := range v1alpha1.SampleProblems() {
		if n := counts[p]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, p))
		}
	}
	noun := "pods"
	if pods == 1 {
		noun = "pod"
	}
	return counts, fmt.Sprintf("samples missing for %d %s: %s", pods, noun, strings.Join(parts, ", "))
}

// quantity writes v for the status: in milli-units below 1e12, in whole units below
// 2^63, and beyond int64 as an integer and a decimal exponent ("100e306"), which a
// Quantity holds exactly. Converting such a value to int64 once wrote 1e308 as
// -9223372036854775808. NaN and infinities have no quantity.
func quantity(v float64) *resource.Quantity {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return nil
	case math.Abs(v) < 1e12:
		return resource.NewMilliQuantity(int64(math.Round(v*1000)), resource.DecimalSI)
	case math.Abs(v) < 0x1p63: // MaxInt64 as a float64 is 2^63 itself, so < is the safe test
		return resource.NewQuantity(int64(math.Round(v)), resource.DecimalSI)
	}
	q, err := resource.ParseQuantity(exponentForm(v))
	if err != nil {
		return nil // not reached: exponentForm writes what ParseQuantity reads
	}
	return &q
}

// exponentForm writes v as an integer and a decimal exponent, 1.5e+19 as "15e18": the
// canonical form of a Quantity too large for int64.
func exponentForm(v float64) string {
	mantissa, exp, _ := strings.Cut(strconv.FormatFloat(v, 'e', -1, 64), "e")
	e, _ := strconv.Atoi(exp)
	whole, frac, _ := strings.Cut(mantissa, ".")
	return whole + frac + "e" + strconv.Itoa(e-len(frac))
}

// statusWriteDue says whether a pass writes the status it filled (cur) over the stored
// one: always when anything but the figures of currentMetrics changed, and for the
// figures alone once every figuresEvery since the last write (lastWrite); 0 writes them
// at every pass. An unchanged status is never written (writeStatus).
func statusWriteDue(stored, cur *v1alpha1.ScalingPolicyStatus, lastWrite, now time.Time, figuresEvery time.Duration) bool {
	if figuresEvery <= 0 || now.Sub(lastWrite) >= figuresEvery || len(stored.CurrentMetrics) != len(cur.CurrentMetrics) {
		return true
	}
	// cur with the stored figures: equal to the stored status when only figures differ.
	same := *cur
	same.CurrentMetrics = make([]v1alpha1.MetricStatus, len(cur.CurrentMetrics))
	for i, m := range cur.CurrentMetrics {
		old := stored.CurrentMetrics[i]
		m.Total, m.AveragePerServingPod, m.Forecast, m.ForecastErrorPercent = old.Total, old.AveragePerServingPod, old.Forecast, old.ForecastErrorPercent
		same.CurrentMetrics[i] = m
	}
	return !equality.Semantic.DeepEqual(stored, &same)
}

// writeStatus updates the status subresource when it changed.
func (r *Reconciler) writeStatus(ctx context.Context, policy *v1alpha1.ScalingPolicy, st *v1alpha1.ScalingPolicyStatus) error {
	if equality.Semantic.DeepEqual(&policy.Status, st) {
		return nil
	}
	updated := policy.DeepCopy()
	updated.Status = *st
	if err := r.Client.Status().Update(ctx, updated); err != nil {
		return fmt.Errorf("updating status: %w", err)
	}
	return nil
}

// report is step 4: the decision in the log and events, the status, the self-metrics and
// the external metrics API; then when to come back.
func (r *Reconciler) report(ctx context.Context, p *pass, o autoscaler.Outcome) (ctrl.Result, error) {
	policy, rec := p.policy, o.Recommendation
	missingCounts, missingNote := missingSamples(p.missing)
	if rec != nil {
		if missingNote != p.mem.samplesMissing {
			if missingNote != "" {
				r.event(policy, corev1.EventTypeWarning, "SamplesMissing", "Decide", "%s", missingNote)
			}
			p.mem.samplesMissing = missingNote
		}
		logf.FromContext(ctx).V(1).Info("Decided", "serving", rec.Current, "desired", rec.Replicas, "raw", rec.Raw, "reason", rec.Reason, "plan", o.Plan)
		if rec.Replicas != rec.Current {
			r.event(policy, corev1.EventTypeNormal, "Rescale", "Decide", "%d serving pods -> %d (%s): %s", rec.Current, rec.Replicas, rec.Reason, rec.Message)
		}
		seen := map[string]string{}
		for _, m := range rec.Metrics {
			if len(m.Implausible) > 0 {
				names := make([]string, 0, len(m.Implausible))
				for _, v := range m.Implausible {
					names = append(names, v.Pod)
				}
				sort.Strings(names)
				seen[m.Key] = strings.Join(names, ",")
				if p.mem.implausible[m.Key] == seen[m.Key] {
					continue // told already; the status says it at every decision
				}
				first := m.Implausible[0]
				r.event(policy, corev1.EventTypeWarning, "ImplausibleSample", "Decide", "%s: %d pod(s) reported more than %d times the per-pod target %g (pod %s: %g), a broken exporter; left out as missing, and the metric cannot shrink the fleet",
					m.Key, len(m.Implausible), autoscaler.ImplausibleFactor, m.Target, first.Pod, first.Value)
			}
		}
		p.mem.implausible = seen
	}
	r.fillStatus(p.status, policy, p.cs, p.pods, rec, p.metricsErr, missingNote)
	if p.mem.Forecaster != nil && rec != nil {
		fillForecasts(p.status, p.mem.Forecaster, rec)
	}
	if statusWriteDue(&policy.Status, p.status, p.mem.statusWritten, p.now, r.StatusFiguresEvery) {
		if err := r.writeStatus(ctx, policy, p.status); err != nil {
			return ctrl.Result{}, p.fail("status", err)
		}
		p.mem.statusWritten = p.now
	}
	counts := map[statemachine.State]int{}
	for _, q := range p.pods {
		counts[q.stored.state]++
	}
	recordPods(policy.Namespace, policy.Name, counts)
	current := ptrValue(p.cs.Spec.Replicas)
	fleetReplicas.WithLabelValues(policy.Namespace, policy.Name, replicasCurrent).Set(float64(current))
	if rec != nil {
		targets := map[string]float64{}
		for _, m := range policy.Spec.Metrics {
			targets[m.Key()] = m.TargetValue()
		}
		recordDecision(policy.Namespace, policy.Name, *rec, targets)
		recordMissingSamples(policy.Namespace, policy.Name, missingCounts)
		if r.Publisher != nil {
			r.Publisher.Publish(policy.Namespace, policy.Name, externalValues(*rec, current), p.now)
		}
	}
	return ctrl.Result{RequeueAfter: max(p.mem.Next.Sub(r.Clock.Now()), 100*time.Millisecond)}, nil
}

// fillForecasts adds each metric's forecast, model and error to the status.
func fillForecasts(st *v1alpha1.ScalingPolicyStatus, f *autoscaler.LoadForecaster, rec *autoscaler.Recommendation) {
	for i := range st.CurrentMetrics {
		fs := f.Status(rec.Metrics[i].Key)
		ms := &st.CurrentMetrics[i]
		ms.ForecastModel = fs.Model
		if fs.Model != "" {
			ms.Forecast = quantity(fs.Value)
		}
		if fs.ErrorPercent >= 0 {
			e := int32(math.Round(fs.ErrorPercent))
			ms.ForecastErrorPercent = &e
		}
	}
}
