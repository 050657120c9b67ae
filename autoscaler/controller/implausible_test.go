package controller_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta/testrestmapper"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/streamscaler/streamscaler/adapters/kruise"
	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/autoscaler"
	"github.com/streamscaler/streamscaler/autoscaler/controller"
	"github.com/streamscaler/streamscaler/statemachine"
)

// TestReconcileWithAnImplausibleSample is the operator's report: one pod's sample read
// 1e308. The controller must neither scale the CloneSet (up to its limit or down) nor
// write a wrapped total, and must say which pod is broken.
func TestReconcileWithAnImplausibleSample(t *testing.T) {
	scheme := fakeScheme(t)
	now := time.Date(2026, 7, 1, 20, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name   string
		perPod float64
	}{
		{"a fleet at target is not sent to its limit", 19},
		{"a quiet fleet is not shrunk", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			snap := autoscaler.Snapshot{Now: now, Replicas: 8}
			for i := range 8 {
				v := c.perPod
				if i == 3 {
					v = 1e308
				}
				snap.Pods = append(snap.Pods, autoscaler.PodSample{Name: "edge-" + string(rune('a'+i)), State: statemachine.Allocated, Ready: true,
					Since: now.Add(-time.Hour), Created: now.Add(-time.Hour), Values: map[string]float64{string(v1alpha1.MetricPullStreams): v}})
			}
			rec := &writes{}
			cl := parityWorld(fake.NewClientBuilder().WithScheme(scheme).WithRESTMapper(testrestmapper.TestOnlyStaticRESTMapper(scheme)), paritySpec(), snap, rec, 0)
			recorder := events.NewFakeRecorder(20)
			clk := &stepClock{now: now}
			src := &replaySource{values: valuesOf(snap)}
			r := &controller.Reconciler{
				Client: cl, Reader: cl, Target: &kruise.CloneSets{Reader: cl, Writer: cl}, Recorder: recorder,
				Sources:       map[v1alpha1.MetricsSourceType]controller.MetricsSource{v1alpha1.SourceAnnotations: src},
				DefaultSource: v1alpha1.SourceAnnotations,
				Evictors:      map[v1alpha1.EvictionAction]controller.Evictor{v1alpha1.EvictNone: controller.NoEviction{}}, Clock: clk,
			}
			ctx := logf.IntoContext(context.Background(), logr.Discard())
			if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "live", Name: "edge"}}); err != nil {
				t.Fatal(err)
			}
			if len(rec.scales) != 0 {
				t.Fatalf("the CloneSet was scaled: %v", rec.scales)
			}
			var policy v1alpha1.ScalingPolicy
			if err := cl.Get(ctx, types.NamespacedName{Namespace: "live", Name: "edge"}, &policy); err != nil {
				t.Fatal(err)
			}
			st := policy.Status
			if st.DesiredReplicas != 8 {
				t.Fatalf("desiredReplicas %d, want 8", st.DesiredReplicas)
			}
			m := st.CurrentMetrics[0]
			if m.Total == nil || m.Total.AsApproximateFloat64() != 7*c.perPod || m.MissingPods != 1 {
				t.Fatalf("total %v missing %d, want %g without the broken pod and 1 missing", m.Total, m.MissingPods, 7*c.perPod)
			}
			var warning string
			for len(recorder.Events) > 0 {
				if e := <-recorder.Events; strings.HasPrefix(e, "Warning ImplausibleSample") {
					warning = e
				}
			}
			if !strings.Contains(warning, "edge-d") || !strings.Contains(warning, "1e+308") {
				t.Fatalf("warning event %q must name the pod and its value", warning)
			}
			if got := gauge(t, "streamscaler_metric_implausible_pods", "pullStreams"); got != 1 {
				t.Fatalf("streamscaler_metric_implausible_pods = %g, want 1", got)
			}
			// The next decision, with the same broken pod, tells it in the status only; one
			// with a second broken pod tells again.
			implausibleEvents := func() (n int, last string) {
				for len(recorder.Events) > 0 {
					if e := <-recorder.Events; strings.HasPrefix(e, "Warning ImplausibleSample") {
						n, last = n+1, e
					}
				}
				return n, last
			}
			for _, step := range []struct {
				broken string
				want   int
			}{{"", 0}, {"edge-e", 1}} {
				if step.broken != "" {
					src.values[step.broken][string(v1alpha1.MetricPullStreams)] = 1e300
				}
				clk.now, src.asked = clk.now.Add(time.Minute), false
				if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "live", Name: "edge"}}); err != nil {
					t.Fatal(err)
				}
				if !src.asked {
					t.Fatal("the pass read no samples: no decision was due")
				}
				if n, last := implausibleEvents(); n != step.want || (n > 0 && !strings.Contains(last, "2 pod(s)")) {
					t.Fatalf("with %q also broken: %d ImplausibleSample events (last %q), want %d", step.broken, n, last, step.want)
				}
			}
		})
	}
}

// gauge reads one policy-and-metric series of a self-metric.
func gauge(t *testing.T, name, metric string) float64 {
	t.Helper()
	families, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["namespace"] == "live" && labels["policy"] == "edge" && labels["metric"] == metric {
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no %s series for metric %s", name, metric)
	return 0
}
