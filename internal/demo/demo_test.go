package demo_test

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/streamscaler/streamscaler/adapters/policyfile"
	"github.com/streamscaler/streamscaler/adapters/trace"
	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/autoscaler"
	"github.com/streamscaler/streamscaler/autoscaler/simulate"
	"github.com/streamscaler/streamscaler/internal/demo"
	"github.com/streamscaler/streamscaler/internal/democluster"
	"github.com/streamscaler/streamscaler/internal/testcluster"
)

// TestDemoEndToEnd runs the real controller binary on the local cluster over two hours of
// a World Cup 98 afternoon (the peak of a match and the fall after it) at speed 60: about
// two minutes. No viewer may be cut: no player lost, and every pod that went was
// deletable and empty. The live fleet must cost what the simulator's reactive run of the
// same trace says, within 25%.
func TestDemoEndToEnd(t *testing.T) {
	rep := runDemo(t, v1alpha1.SourceSRS, time.Date(1998, 6, 26, 15, 0, 0, 0, time.UTC), time.Date(1998, 6, 26, 17, 0, 0, 0, time.UTC), nil)
	checkLossless(t, rep)
}

// TestDemoPrometheusSource runs the fleet's fall after the match (an hour, about a
// minute) with the prometheus source: the real Prometheus finds the pods through the
// API server (kubernetes_sd_configs) and the controller reads their load from it. Nearly
// every decision must have had metrics, and the promise holds as with the srs source.
// The policy also scales out on refusals, so the controller reads the dispatcher's
// refusal counter through Prometheus at every pass (a failed read would show as
// FailedGetMetrics), and at the end the same query must find a reading for some pod (a
// query that matches nothing would read as no refusals for ever).
func TestDemoPrometheusSource(t *testing.T) {
	rep := runDemo(t, v1alpha1.SourcePrometheus, time.Date(1998, 6, 26, 16, 0, 0, 0, time.UTC), time.Date(1998, 6, 26, 17, 0, 0, 0, time.UTC),
		func(spec *v1alpha1.ScalingPolicySpec) {
			if spec.Behavior == nil || spec.Behavior.Saturation == nil {
				t.Fatal("the bundled policy has no behavior.saturation")
			}
			q := resource.MustParse("0.1")
			spec.Behavior.Saturation.RefusedStreamsPerSecond = &q
		})
	checkLossless(t, rep)
	t.Logf("refusal readings %+v", rep.Refusals)
	if rr := rep.Refusals; rr == nil || rr.Readings == 0 || rr.Readings > rr.Pods {
		t.Errorf("refusal readings %+v: want a refusedStreams reading for some of the CloneSet's pods", rr)
	}
	total := 0.0
	for _, n := range rep.Controller.Decisions {
		total += n
	}
	failed := rep.Controller.Decisions[string(autoscaler.ReasonFailedGetMetrics)]
	if total == 0 || failed > 0.1*total {
		t.Errorf("decisions %v: want metrics in at least 90%% of them (Prometheus did not find or scrape the pods)", rep.Controller.Decisions)
	}
}

// TestDemoRolloutAndPodKill deletes the pod with the most players by hand (14:40), then
// changes the pod template (15:20), in two hours of the match (14:00-16:00, about two
// minutes). The removal guard refuses the delete and the pod drains before its CloneSet
// deletes it; with the sample's preDelete hook and maxSurge, the rollout brings new pods
// up first and every old pod drains before Kruise deletes it. No player is lost, and
// every pod that went was deletable and empty.
func TestDemoRolloutAndPodKill(t *testing.T) {
	rep := runDemo(t, v1alpha1.SourceSRS, time.Date(1998, 6, 26, 14, 0, 0, 0, time.UTC), time.Date(1998, 6, 26, 16, 0, 0, 0, time.UTC), nil, "pod-kill", "rollout")
	live := rep.Results[0]
	if len(rep.Faults) != 2 {
		t.Fatalf("faults %v: want the pod-kill and the rollout", rep.Faults)
	}
	if !strings.Contains(strings.Join(rep.Faults, "\n"), "refused by the removal guard") {
		t.Errorf("faults %v: the delete by hand was not refused by the removal guard", rep.Faults)
	}
	if live.LostStreams != 0 {
		t.Errorf("%d players lost to a pod deleted by hand and a rollout (faults %v)", live.LostStreams, rep.Faults)
	}
	if rep.RemovedPods == 0 {
		t.Errorf("no pod was removed: the rollout replaced nothing")
	}
	for _, v := range rep.Violations {
		t.Errorf("viewer cut: %s", v)
	}
}

// runDemo runs the real controller binary on the local cluster over a World Cup 98
// segment at speed 60.
func runDemo(t *testing.T, source v1alpha1.MetricsSourceType, from, to time.Time, edit func(*v1alpha1.ScalingPolicySpec), chaos ...string) *demo.Report {
	t.Helper()
	if ok, why := democluster.Available(); !ok {
		if os.Getenv("CI") == "true" {
			t.Fatal(why)
		}
		t.Skip(why)
	}
	bin := filepath.Join(t.TempDir(), "streamscaler")
	if err := testcluster.BuildStreamscaler(bin); err != nil {
		t.Fatal(err)
	}
	pf, err := policyfile.Load("../../testdata/policies/srs-edge.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(&pf.Policy.Spec)
	}
	prof, err := simulate.ParseProfile(pf.Others["SimulationProfile"])
	if err != nil {
		t.Fatal(err)
	}
	prof = prof.WithDefaults()
	series, err := trace.Load("../../testdata/traces/wc98_requests_per_minute.csv", trace.Options{Column: "count"})
	if err != nil {
		t.Fatal(err)
	}
	series = series.Window(from, to)
	times, values := make([]time.Time, len(series.Points)), make([]float64, len(series.Points))
	for i, p := range series.Points {
		times[i], values[i] = p.Time, p.Value
	}
	d, err := simulate.Resample(times, values, time.Duration(prof.StepSeconds)*time.Second, prof.PeakStreams)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	var progress bytes.Buffer
	rep, err := demo.Run(ctx, demo.Config{Demand: d, Profile: prof, Policy: pf.Policy, Speed: 60, Binary: bin, Source: source, Chaos: chaos, Progress: &progress})
	t.Logf("progress:\n%s", progress.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("controller %+v", rep.Controller)
	return rep
}

// checkLossless: no viewer may be cut (no player lost, and every pod that went was
// deletable and empty), and the live fleet must cost what the simulator's reactive run of
// the same trace says, within 25%.
func checkLossless(t *testing.T, rep *demo.Report) {
	t.Helper()
	live, reactive := rep.Results[0], rep.Results[1]
	t.Logf("live %+v", withoutSeries(live))
	t.Logf("simulated reactive %+v", withoutSeries(reactive))
	if live.Policy != "live" || reactive.Policy != simulate.PolicyReactive {
		t.Fatalf("results %s, %s: want live then reactive", live.Policy, reactive.Policy)
	}
	if live.LostStreams != 0 {
		t.Errorf("%d players lost with no fault injected", live.LostStreams)
	}
	if rep.RemovedPods == 0 {
		t.Errorf("no pod was removed: the segment did not exercise scale-in")
	}
	for _, v := range rep.Violations {
		t.Errorf("viewer cut: %s", v)
	}
	if ratio := live.PodHours / reactive.PodHours; math.Abs(ratio-1) > 0.25 {
		t.Errorf("live %.1f pod-hours against the simulator's %.1f (%.2fx): want within 25%%", live.PodHours, reactive.PodHours, ratio)
	}
}

func withoutSeries(r simulate.Result) simulate.Result {
	r.Series = simulate.Series{}
	return r
}
