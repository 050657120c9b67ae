package demo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	kruisev1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/internal/testcluster"
)

// BenchConfig sizes the scale harness.
type BenchConfig struct {
	// Binary is the streamscaler executable run as the controller.
	Binary string
	// Policies CloneSets, each with PodsPerPolicy pods and a ScalingPolicy.
	Policies, PodsPerPolicy int
	// Period is the policies' syncPeriod (default 15s); Periods how many are measured
	// (default 4), after one period of warm-up once every pod is allocated.
	Period  time.Duration
	Periods int
	// Workers is the controller's --max-concurrent-reconciles (default 4).
	Workers int
	// Source is where the controller reads the samples: "annotations" (the default when
	// empty: a sidecar-like writer PATCHes every pod's annotations once a period) or
	// "prometheus" (an exporter publishes every pod's srs_clients once a period, a real
	// Prometheus, bin/prometheus, scrapes it every period and the controller queries it).
	Source string
	// CPUProfile, when set, is where a CPU profile of the controller over the measured
	// periods is written.
	CPUProfile string
	// OtherPods is how many pods of no CloneSet share the cluster (a shared cluster's
	// other workloads), in their own namespace, each rewritten once a period (an
	// annotation, as a kubelet's or an operator's updates would change it).
	OtherPods int
	// KubeQPS and KubeBurst are the controller's --kube-api-qps and --kube-api-burst
	// (zero: the controller's defaults, 50 and 100). They bound how fast it labels new
	// pods, two writes each, not its steady state.
	KubeQPS   float64
	KubeBurst int
	// KruiseQPS is kruise-manager's client rate (zero: Kruise's default, 30 a second),
	// which bounds how fast the fleets' pods are created.
	KruiseQPS int
	// Progress gets a line per stage; may be nil.
	Progress io.Writer
}

// BenchResult is the harness's one JSON line.
type BenchResult struct {
	Policies                      int     `json:"policies"`
	PodsPerPolicy                 int     `json:"podsPerPolicy"`
	Source                        string  `json:"source"`
	PeriodSeconds                 float64 `json:"periodSeconds"`
	ControllerCPUSecondsPerPeriod float64 `json:"controllerCPUSecondsPerPeriod"`
	ControllerPeakRSSBytes        int64   `json:"controllerPeakRSSBytes"`
	APIRequestsPerPass            float64 `json:"apiRequestsPerPass"`
	APIReadsPerPass               float64 `json:"apiReadsPerPass"`
	ReconcileP99Seconds           float64 `json:"reconcileP99Seconds"`
	DecisionLatencyP99Seconds     float64 `json:"decisionLatencyP99Seconds"`
	Passes                        float64 `json:"passes"`
	// SampleWrites is every write of the sidecar-like writer, from the controller's
	// start to the end of the measurement; with the prometheus source, every per-pod
	// value the exporter published.
	SampleWrites int64 `json:"sampleWrites"`
	// SampleWritesPerPeriod is how many the writer made (or the exporter published) a
	// period in the measured window: the pods' count when it kept its pace.
	SampleWritesPerPeriod float64 `json:"sampleWritesPerPeriod"`
	// OtherPods and OtherPodWritesPerPeriod: the pods of no CloneSet beside the fleets,
	// and how many of them were rewritten a period in the measured window.
	OtherPods               int     `json:"otherPods,omitempty"`
	OtherPodWritesPerPeriod float64 `json:"otherPodWritesPerPeriod,omitempty"`
}

// ScaleBench starts the real kube-apiserver, etcd and kruise-manager, creates
// Policies fleets of PodsPerPolicy pods (Kruise creates the pods; the harness stands in
// for the kubelet and marks them Ready), runs the controller binary on them, and, while a
// sidecar-like writer rewrites every pod's stream count once a period (9 to 11 streams
// against a target of 10, so that no fleet resizes; with the prometheus source an exporter
// publishes them as srs_clients and a real Prometheus scrapes it once a period), measures
// the controller over Periods
// sync periods: its CPU time, peak memory, its own API requests per pass (its client's
// rest_client_requests_total over controller_runtime_reconcile_total), the p99 of a pass
// and of a decision's latency (the p99 time a policy waited in the work queue plus the p99
// pass).
func ScaleBench(ctx context.Context, cfg BenchConfig) (*BenchResult, error) {
	if cfg.Policies < 1 || cfg.PodsPerPolicy < 1 {
		return nil, fmt.Errorf("policies %d, pods per policy %d: want at least 1 each", cfg.Policies, cfg.PodsPerPolicy)
	}
	if cfg.Period == 0 {
		cfg.Period = 15 * time.Second
	}
	if cfg.Periods == 0 {
		cfg.Periods = 4
	}
	if cfg.Workers == 0 {
		cfg.Workers = 4
	}
	if cfg.Period < time.Second || cfg.Periods < 1 || cfg.Workers < 1 {
		return nil, fmt.Errorf("period %s, periods %d, workers %d: want at least 1s, 1 and 1", cfg.Period, cfg.Periods, cfg.Workers)
	}
	if cfg.KubeQPS < 0 || cfg.KubeBurst < 0 || cfg.KruiseQPS < 0 {
		return nil, fmt.Errorf("kube API qps %v, burst %d, kruise qps %d: want 0 (the default) or more", cfg.KubeQPS, cfg.KubeBurst, cfg.KruiseQPS)
	}
	if cfg.OtherPods < 0 {
		return nil, fmt.Errorf("other pods %d: want 0 or more", cfg.OtherPods)
	}
	if cfg.Source == "" {
		cfg.Source = string(v1alpha1.SourceAnnotations)
	}
	viaProm := false
	switch cfg.Source {
	case string(v1alpha1.SourceAnnotations):
	case string(v1alpha1.SourcePrometheus):
		viaProm = true
		// Before the control plane: a missing binary is told at once, not minutes later.
		root, err := testcluster.RepoRoot()
		if err != nil {
			return nil, err
		}
		if err := checkPrometheusBinary(filepath.Join(root, prometheusBinary)); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("source %q: want %s or %s", cfg.Source, v1alpha1.SourceAnnotations, v1alpha1.SourcePrometheus)
	}
	say := func(format string, args ...any) {
		if cfg.Progress != nil {
			fmt.Fprintf(cfg.Progress, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
		}
	}
	began := time.Now()
	var opts []testcluster.Option
	if cfg.KruiseQPS > 0 {
		opts = append(opts, testcluster.WithKruiseQPS(cfg.KruiseQPS))
	}
	cl, err := testcluster.Start(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("starting the control plane: %w", err)
	}
	defer func() { _ = cl.Stop() }()
	say("control plane up in %s", time.Since(began).Round(100*time.Millisecond))
	c := cl.Client
	const ns = "bench"
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		return nil, err
	}
	total := cfg.Policies * cfg.PodsPerPolicy
	if err := benchFleets(ctx, c, ns, cfg); err != nil {
		return nil, err
	}
	ready, err := benchReady(ctx, cl, ns, total)
	if err != nil {
		return nil, err
	}
	say("%d fleets of %d pods: %d pods created by kruise-manager and Ready", cfg.Policies, cfg.PodsPerPolicy, ready)
	if cfg.OtherPods > 0 {
		if err := benchOtherPods(ctx, c, cfg.OtherPods); err != nil {
			return nil, err
		}
		say("%d pods of no CloneSet created in namespace %s", cfg.OtherPods, otherNamespace)
	}

	dir, err := os.MkdirTemp("", "streamscaler-scale-bench-")
	if err != nil {
		return nil, err
	}
	ctrl, err := newControllerProcess("controller", cfg.Binary, cl.KubeconfigPath(), cfg.Source, dir, "")
	if err != nil {
		return nil, err
	}
	// Logged as in a cluster (JSON, verbosity 0): the demo's readable V(1) log is not
	// what is measured.
	ctrl.extra = []string{"--max-concurrent-reconciles", strconv.Itoa(cfg.Workers), "--log-development=false", "--v", "0"}
	if cfg.KubeQPS > 0 {
		ctrl.extra = append(ctrl.extra, "--kube-api-qps", strconv.FormatFloat(cfg.KubeQPS, 'g', -1, 64))
	}
	if cfg.KubeBurst > 0 {
		ctrl.extra = append(ctrl.extra, "--kube-api-burst", strconv.Itoa(cfg.KubeBurst))
	}

	// The samples: counted in writes, by the writer or the exporter, whichever runs.
	var writes atomic.Int64
	var exporter *sampleExporter
	var prom *promProcess
	if viaProm {
		// The exporter serves before Prometheus starts, and Prometheus is ready before
		// the controller starts: a pass whose query fails goes no further, and an init
		// pod becomes allocated only in a pass that read the samples.
		exporter, err = newSampleExporter(c, ns, &writes)
		if err != nil {
			return nil, err
		}
		defer exporter.close()
		prom, err = newStaticPromProcess(dir, cfg.Period, []string{exporter.addr})
		if err != nil {
			return nil, err
		}
		if err := prom.start(ctx); err != nil {
			return nil, err
		}
		defer prom.stop() // after the controller's stop, deferred below
		ctrl.extra = append(ctrl.extra, "--prometheus-address", prom.url())
		say("exporter on %s, scraped every %s by prometheus on %s", exporter.addr, cfg.Period, prom.url())
	}
	pprofAddr := ""
	if cfg.CPUProfile != "" {
		ports, err := freePorts(1)
		if err != nil {
			return nil, err
		}
		pprofAddr = "127.0.0.1:" + strconv.Itoa(ports[0])
		ctrl.extra = append(ctrl.extra, "--pprof-bind-address", pprofAddr)
	}
	if err := ctrl.start(); err != nil {
		return nil, err
	}
	defer ctrl.stop(syscall.SIGTERM)

	run := func(wctx context.Context) { (&sampleWriter{c: c, ns: ns, writes: &writes}).run(wctx, cfg.Period) }
	if viaProm {
		run = func(wctx context.Context) { exporter.run(wctx, cfg.Period) }
	}
	wctx, stopWriter := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); run(wctx) }()
	var otherWrites atomic.Int64
	if cfg.OtherPods > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			(&sampleWriter{c: c, ns: otherNamespace, writes: &otherWrites, patch: heartbeatPatch}).run(wctx, cfg.Period)
		}()
	}
	defer func() { stopWriter(); wg.Wait() }()

	deadline := time.Now().Add(10*time.Minute + time.Duration(total)*50*time.Millisecond)
	// With the prometheus source, the loop also waits until Prometheus holds a series
	// of every pod: a few scrapes, so a few periods at most.
	promDeadline := time.Now().Add(2*time.Minute + 4*cfg.Period)
	scraped := !viaProm
	for {
		n, err := countAllocated(ctx, c, ns, ctrl, total)
		if err != nil {
			return nil, err
		}
		if !scraped {
			seen, err := promCount(ctx, prom.url(), fmt.Sprintf(`count(srs_clients{namespace=%q})`, ns))
			switch {
			case err == nil && seen == total:
				scraped = true
				say("prometheus holds the srs_clients series of all %d pods", total)
			case time.Now().After(promDeadline):
				what := fmt.Sprintf("%d series", seen)
				if err != nil {
					what = err.Error()
				}
				return nil, fmt.Errorf("prometheus at %s, count(srs_clients{namespace=%q}): %s after %s, want %d; the exporter on %s published %d values (logs in %s)",
					prom.url(), ns, what, time.Since(began).Round(time.Second), total, exporter.addr, writes.Load(), dir)
			}
		}
		if n == total && scraped {
			break
		}
		if err := ctrl.alive(); err != nil {
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%d of %d pods allocated after %s (controller log in %s)", n, total, time.Since(began).Round(time.Second), dir)
		}
		time.Sleep(2 * time.Second)
	}
	say("every pod allocated; warming up for one period")
	time.Sleep(cfg.Period)

	before, err := benchSnapshot(ctrl)
	if err != nil {
		return nil, err
	}
	writesBefore, otherBefore := writes.Load(), otherWrites.Load()
	window := time.Duration(cfg.Periods) * cfg.Period
	say("measuring %d periods (%s)", cfg.Periods, window)
	profiled := make(chan error, 1)
	if pprofAddr != "" {
		go func() { profiled <- cpuProfile(ctx, pprofAddr, window, cfg.CPUProfile) }()
	}
	select {
	case <-time.After(window):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if pprofAddr != "" {
		if err := <-profiled; err != nil {
			return nil, err
		}
		say("CPU profile of the measured periods in %s", cfg.CPUProfile)
	}
	after, err := benchSnapshot(ctrl)
	if err != nil {
		return nil, err
	}
	windowWrites, otherWindow := writes.Load()-writesBefore, otherWrites.Load()-otherBefore
	if err := ctrl.alive(); err != nil {
		return nil, err
	}
	passes := after.passes - before.passes
	if passes <= 0 {
		return nil, fmt.Errorf("the controller ran no pass in %s (log in %s)", window, dir)
	}
	res := &BenchResult{
		Policies: cfg.Policies, PodsPerPolicy: cfg.PodsPerPolicy, Source: cfg.Source, PeriodSeconds: cfg.Period.Seconds(),
		ControllerCPUSecondsPerPeriod: (after.cpu - before.cpu).Seconds() / float64(cfg.Periods),
		ControllerPeakRSSBytes:        after.peakRSS,
		APIRequestsPerPass:            (after.requests - before.requests) / passes,
		APIReadsPerPass:               (after.reads - before.reads) / passes,
		ReconcileP99Seconds:           quantile(0.99, before.reconcile, after.reconcile),
		Passes:                        passes,
		SampleWrites:                  writes.Load(),
		SampleWritesPerPeriod:         float64(windowWrites) / float64(cfg.Periods),
		OtherPods:                     cfg.OtherPods,
		OtherPodWritesPerPeriod:       float64(otherWindow) / float64(cfg.Periods),
	}
	res.DecisionLatencyP99Seconds = quantile(0.99, before.queue, after.queue) + res.ReconcileP99Seconds
	say("done; controller log in %s", dir)
	return res, nil
}

// benchFleets creates the CloneSets and their policies.
func benchFleets(ctx context.Context, c client.Client, ns string, cfg BenchConfig) error {
	target := resource.MustParse("10")
	for i := range cfg.Policies {
		name := fmt.Sprintf("fleet-%04d", i)
		labels := map[string]string{"app": name}
		cs := &kruisev1alpha1.CloneSet{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: kruisev1alpha1.CloneSetSpec{
				Replicas: ptr.To(int32(cfg.PodsPerPolicy)),
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "srs", Image: "registry.invalid/ossrs/srs:7"}}},
				},
			},
		}
		policy := &v1alpha1.ScalingPolicy{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: v1alpha1.ScalingPolicySpec{
				TargetRef: v1alpha1.TargetRef{Name: name}, MinReplicas: ptr.To(int32(1)), MaxReplicas: int32(2 * cfg.PodsPerPolicy),
				Metrics:    []v1alpha1.MetricSpec{{Type: v1alpha1.MetricPullStreams, Target: v1alpha1.MetricTarget{AverageValue: &target}}},
				SyncPeriod: &metav1.Duration{Duration: cfg.Period},
			},
		}
		for _, o := range []client.Object{cs, policy} {
			if err := c.Create(ctx, o); err != nil {
				return fmt.Errorf("creating %s %s: %w", o.GetObjectKind().GroupVersionKind().Kind, name, err)
			}
		}
	}
	return nil
}

// benchReady waits for Kruise to create every pod (the sum of the CloneSets' status,
// not a list of every pod each second, which at 100,000 pods would load the API server
// more than the controller does) and marks each Ready, as a kubelet would, eight at a
// time.
func benchReady(ctx context.Context, cl *testcluster.Cluster, ns string, total int) (int, error) {
	deadline := time.Now().Add(5*time.Minute + time.Duration(total)*20*time.Millisecond)
	created := 0
	for {
		var sets kruisev1alpha1.CloneSetList
		if err := cl.Client.List(ctx, &sets, client.InNamespace(ns)); err != nil {
			return 0, err
		}
		created = 0
		for _, cs := range sets.Items {
			created += int(cs.Status.Replicas)
		}
		if created >= total {
			break
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("kruise-manager created %d of %d pods", created, total)
		}
		time.Sleep(2 * time.Second)
	}
	var pods []corev1.Pod
	err := listPages(ctx, cl.Client, ns, &corev1.PodList{}, func(l client.ObjectList) {
		pods = append(pods, l.(*corev1.PodList).Items...)
	})
	if err != nil {
		return 0, err
	}
	if len(pods) < total {
		return 0, fmt.Errorf("the CloneSets count %d pods, a list finds %d, want %d", created, len(pods), total)
	}
	err = eightAtATime(len(pods), func(i int) error { return cl.SetPodReady(ctx, &pods[i]) })
	if err != nil {
		return 0, err
	}
	return len(pods), nil
}

// listPages lists ns in pages of 5,000 (one list of 100,000 pods is a few hundred MB
// for the API server to build at once), calling page with each.
func listPages(ctx context.Context, c client.Client, ns string, list client.ObjectList, page func(client.ObjectList), opts ...client.ListOption) error {
	cont := ""
	for {
		o := append([]client.ListOption{client.InNamespace(ns), client.Limit(5000), client.Continue(cont)}, opts...)
		if err := c.List(ctx, list, o...); err != nil {
			return err
		}
		page(list)
		if cont = list.GetContinue(); cont == "" {
			return nil
		}
	}
}

// podNames lists the names of ns's pods, metadata only.
func podNames(ctx context.Context, c client.Client, ns string, opts ...client.ListOption) ([]string, error) {
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("PodList"))
	var names []string
	err := listPages(ctx, c, ns, list, func(l client.ObjectList) {
		for _, p := range l.(*metav1.PartialObjectMetadataList).Items {
			names = append(names, p.Name)
		}
	}, opts...)
	return names, err
}

// podsOrWait lists ns's pod names; when that fails or finds none it waits a second
// (or until ctx ends) and says so with false.
func podsOrWait(ctx context.Context, c client.Client, ns string) ([]string, bool) {
	names, err := podNames(ctx, c, ns)
	if err == nil && len(names) > 0 {
		return names, true
	}
	select {
	case <-ctx.Done():
	case <-time.After(time.Second):
	}
	return nil, false
}

// otherNamespace holds the bench's pods of no CloneSet.
const otherNamespace = "bench-other"

// benchOtherPods creates n pods of no CloneSet in otherNamespace, eight at a time: the
// rest of a shared cluster, which the controller should neither cache nor decode.
func benchOtherPods(ctx context.Context, c client.Client, n int) error {
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: otherNamespace}}); err != nil {
		return err
	}
	return eightAtATime(n, func(i int) error {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: otherNamespace, Name: fmt.Sprintf("worker-%05d", i), Labels: map[string]string{"app": "batch-worker"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "worker", Image: "registry.invalid/batch/worker:1"}}},
		}
		if err := c.Create(ctx, p); err != nil {
			return fmt.Errorf("creating pod %s/%s: %w", otherNamespace, p.Name, err)
		}
		return nil
	})
}

// eightAtATime calls do for 0 to n-1, eight calls at once, and returns the first error.
func eightAtATime(n int, do func(i int) error) error {
	work := make(chan int)
	errs := make(chan error, 1)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := do(i); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// heartbeatPatch is an other pod's rewrite: an annotation with the time, as a kubelet's
// status heartbeat or an operator's bookkeeping changes a pod.
func heartbeatPatch(round, _ int) []byte {
	return fmt.Appendf(nil, `{"metadata":{"annotations":{"example.com/heartbeat":"%d %s"}}}`, round, time.Now().UTC().Format(time.RFC3339Nano))
}

// countAllocated counts the pods the controller labelled allocated: its own gauge
// (streamscaler_pod_state_pods) while that says fewer than want, then a metadata list of
// the pods, which is the answer. Listing 100,000 pods every 2 s would load the API server
// more than the controller under test.
func countAllocated(ctx context.Context, c client.Client, ns string, ctrl *controllerProcess, want int) (int, error) {
	if fams := ctrl.metrics(); fams != nil {
		gauge := 0.0
		for _, m := range fams["streamscaler_pod_state_pods"].GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "state" && l.GetValue() == "allocated" {
					gauge += m.GetGauge().GetValue()
				}
			}
		}
		if int(gauge) < want {
			return int(gauge), nil
		}
	}
	names, err := podNames(ctx, c, ns, client.MatchingLabels{v1alpha1.StateLabel: "allocated"})
	return len(names), err
}

// sampleWriter is every pod's sidecar: once a period it rewrites the pod's stream count
// (9, 10 or 11 in turn) and the time of the reading, spread over the period.
type sampleWriter struct {
	c      client.Client
	ns     string
	writes *atomic.Int64
	// patch is the merge patch of the i-th pod in a round (default: its stream count).
	patch func(round, i int) []byte
}

func (w *sampleWriter) run(ctx context.Context, period time.Duration) {
	for round := 0; ctx.Err() == nil; round++ {
		pods, ok := podsOrWait(ctx, w.c, w.ns)
		if !ok {
			continue
		}
		// writerLanes writers at once, each over its share of the pods, each spreading
		// its writes over the period: a single writer that waits for every answer made
		// about 120 writes a second, short of 4,000 pods every 15 s.
		start := time.Now()
		var wg sync.WaitGroup
		for lane := range writerLanes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine []string
				for i := lane; i < len(pods); i += writerLanes {
					mine = append(mine, pods[i])
				}
				if len(mine) == 0 {
					return
				}
				gap := period / time.Duration(len(mine))
				for i, p := range mine {
					patch := samplePatch(sampleValue(round, i))
					if w.patch != nil {
						patch = w.patch(round, i)
					}
					obj := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: w.ns, Name: p}}
					if err := w.c.Patch(ctx, obj, client.RawPatch(types.MergePatchType, patch)); err == nil {
						w.writes.Add(1)
					}
					if wait := time.Until(start.Add(time.Duration(i+1) * gap)); wait > 0 {
						select {
						case <-ctx.Done():
							return
						case <-time.After(wait):
						}
					}
				}
			}()
		}
		wg.Wait()
	}
}

// sampleValue is the i-th pod's stream count in a round: 9, 10 or 11 in turn, so that a
// fleet's average stays near the target of 10 and no fleet resizes.
func sampleValue(round, i int) int { return 9 + (round+i)%3 }

// samplePatch is a pod's stream count and the time of its reading.
func samplePatch(streams int) []byte {
	return fmt.Appendf(nil, `{"metadata":{"annotations":{%q:"%d",%q:%q}}}`, v1alpha1.MetricAnnotationPrefix+string(v1alpha1.MetricPullStreams), streams,
		v1alpha1.MetricTimeAnnotation, time.Now().UTC().Format(time.RFC3339))
}

// writerLanes is how many writes the sidecar-like writer has in flight at once.
const writerLanes = 8

// sampleExporter is the sidecar-like writer of the prometheus source, for every pod at
// once: an HTTP server on 127.0.0.1 whose /metrics says each pod's stream count,
// srs_clients{namespace, pod}, 9, 10 or 11 in turn, changed once a period.
type sampleExporter struct {
	*metricsServer
	c      client.Client
	ns     string
	writes *atomic.Int64
	gauge  *prometheus.GaugeVec
	// set is the pods whose series the exporter publishes.
	set map[string]bool
}

// newSampleExporter starts serving /metrics on a free port of 127.0.0.1, with no series
// until run sets them.
func newSampleExporter(c client.Client, ns string, writes *atomic.Int64) (*sampleExporter, error) {
	reg := prometheus.NewRegistry()
	gauge := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "srs_clients", Help: "Clients connected to the pod's SRS (the scale harness's stand-in)."}, []string{"namespace", "pod"})
	reg.MustRegister(gauge)
	ms, err := serveMetrics("the exporter", reg)
	if err != nil {
		return nil, err
	}
	return &sampleExporter{metricsServer: ms, c: c, ns: ns, writes: writes, gauge: gauge, set: map[string]bool{}}, nil
}

// run lists the pods once a period and sets each one's value, dropping the series of
// pods that are gone; every value set counts as a write.
func (e *sampleExporter) run(ctx context.Context, period time.Duration) {
	for round := 0; ctx.Err() == nil; round++ {
		start := time.Now()
		pods, ok := podsOrWait(ctx, e.c, e.ns)
		if !ok {
			continue
		}
		now := make(map[string]bool, len(pods))
		for i, name := range pods {
			now[name] = true
			e.gauge.WithLabelValues(e.ns, name).Set(float64(sampleValue(round, i)))
		}
		for name := range e.set {
			if !now[name] {
				e.gauge.DeleteLabelValues(e.ns, name)
			}
		}
		e.set = now
		e.writes.Add(int64(len(pods)))
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(start.Add(period))):
		}
	}
}

// promCount runs an instant query that answers one number (a count) on the Prometheus
// at address; no series is 0.
func promCount(ctx context.Context, address, query string) (int, error) {
	cl, err := api.NewClient(api.Config{Address: address})
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v, _, _, err := promv1.NewAPI(cl).Query(ctx, query, time.Now())
	if err != nil {
		return 0, fmt.Errorf("querying %s for %s: %w", address, query, err)
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return 0, fmt.Errorf("querying %s for %s: got a %s, want a vector", address, query, v.Type())
	}
	switch len(vec) {
	case 0:
		return 0, nil
	case 1:
		return int(vec[0].Value), nil
	default:
		return 0, fmt.Errorf("querying %s for %s: %d series, want one", address, query, len(vec))
	}
}

// benchFigures are the controller's counters at one moment.
type benchFigures struct {
	cpu                     time.Duration
	peakRSS                 int64
	requests, reads, passes float64
	reconcile, queue        *dto.Histogram
}

// benchSnapshot reads the controller's CPU time and peak memory from /proc and its
// counters from its metrics endpoint.
func benchSnapshot(p *controllerProcess) (benchFigures, error) {
	var f benchFigures
	if p.cmd == nil || p.cmd.Process == nil {
		return f, errors.New("the controller is not running")
	}
	pid := p.cmd.Process.Pid
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return f, fmt.Errorf("reading the controller's CPU time: %w", err)
	}
	// Fields after the command name (which may hold spaces) start at ") ".
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	if len(fields) < 13 {
		return f, fmt.Errorf("unexpected /proc/%d/stat: %q", pid, stat)
	}
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	const clockTicks = 100 // USER_HZ on Linux
	f.cpu = time.Duration((utime + stime) / clockTicks * float64(time.Second))
	status, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return f, err
	}
	defer status.Close()
	sc := bufio.NewScanner(status)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			f.peakRSS = kb * 1024
		}
	}
	fams := p.metrics()
	if fams == nil {
		return f, errors.New("the controller's metrics endpoint does not answer")
	}
	match := func(m *dto.Metric, name, value string) bool {
		for _, l := range m.GetLabel() {
			if l.GetName() == name && l.GetValue() == value {
				return true
			}
		}
		return false
	}
	// The label is the HTTP method: GET covers gets, lists and the start of a watch.
	for _, m := range fams["rest_client_requests_total"].GetMetric() {
		v := m.GetCounter().GetValue()
		f.requests += v
		if match(m, "method", "GET") {
			f.reads += v
		}
	}
	for _, m := range fams["controller_runtime_reconcile_total"].GetMetric() {
		if match(m, "controller", "scalingpolicy") {
			f.passes += m.GetCounter().GetValue()
		}
	}
	f.reconcile = mergeHistograms(fams["controller_runtime_reconcile_time_seconds"], "controller", "scalingpolicy", match)
	f.queue = mergeHistograms(fams["workqueue_queue_duration_seconds"], "name", "scalingpolicy", match)
	return f, nil
}

// mergeHistograms adds up the histograms of a family whose label name is value.
func mergeHistograms(fam *dto.MetricFamily, name, value string, match func(*dto.Metric, string, string) bool) *dto.Histogram {
	out := &dto.Histogram{}
	byBound := map[float64]uint64{}
	for _, m := range fam.GetMetric() {
		if !match(m, name, value) || m.GetHistogram() == nil {
			continue
		}
		h := m.GetHistogram()
		out.SampleCount = ptr.To(out.GetSampleCount() + h.GetSampleCount())
		for _, b := range h.GetBucket() {
			byBound[b.GetUpperBound()] += b.GetCumulativeCount()
		}
	}
	bounds := make([]float64, 0, len(byBound))
	for b := range byBound {
		bounds = append(bounds, b)
	}
	sort.Float64s(bounds)
	for _, b := range bounds {
		out.Bucket = append(out.Bucket, &dto.Bucket{UpperBound: ptr.To(b), CumulativeCount: ptr.To(byBound[b])})
	}
	return out
}

// quantile is the q quantile of what a histogram observed between two readings: the upper
// bound of the first bucket that holds it (an upper estimate, as bucketed figures are).
func quantile(q float64, before, after *dto.Histogram) float64 {
	n := after.GetSampleCount() - before.GetSampleCount()
	if n == 0 {
		return 0
	}
	prev := map[float64]uint64{}
	for _, b := range before.GetBucket() {
		prev[b.GetUpperBound()] = b.GetCumulativeCount()
	}
	want := uint64(math.Ceil(q * float64(n)))
	last := 0.0
	for _, b := range after.GetBucket() {
		if math.IsInf(b.GetUpperBound(), 1) {
			break
		}
		last = b.GetUpperBound()
		if b.GetCumulativeCount()-prev[b.GetUpperBound()] >= want {
			return last
		}
	}
	// Beyond the largest bucket: the largest bound, which the quantile is at least.
	return last
}

// cpuProfile asks the controller's /debug/pprof for a CPU profile over window and writes
// it to path.
func cpuProfile(ctx context.Context, addr string, window time.Duration, path string) error {
	secs := max(1, int(window.Seconds()))
	u := "http://" + addr + "/debug/pprof/profile?seconds=" + strconv.Itoa(secs)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: window + time.Minute}).Do(req)
	if err != nil {
		return fmt.Errorf("profiling the controller: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profiling the controller: GET %s answered %s", u, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("writing the CPU profile: %w", err)
	}
	return f.Close()
}
