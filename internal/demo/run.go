package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	appspub "github.com/openkruise/kruise-api/apps/pub"
	kruisev1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	promsource "github.com/streamscaler/streamscaler/adapters/prometheus"
	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/autoscaler/simulate"
	"github.com/streamscaler/streamscaler/deploy"
	"github.com/streamscaler/streamscaler/internal/demo/players"
	"github.com/streamscaler/streamscaler/internal/demo/srsemu"
	"github.com/streamscaler/streamscaler/internal/democluster"
	"github.com/streamscaler/streamscaler/internal/testcluster"
)

// Config is one demo run.
type Config struct {
	// Demand is the trace to replay, in trace time; Profile its simulation profile.
	Demand  simulate.Demand
	Profile simulate.Profile
	// Policy is the ScalingPolicy as written (trace time); the demo compresses it.
	Policy *v1alpha1.ScalingPolicy
	// Speed is trace seconds per real second, 1 to MaxSpeed.
	Speed float64
	// Binary is the streamscaler executable to run as the controller.
	Binary string
	// Source is the controller's metrics source: srs (the pods' SRS HTTP API, default)
	// or prometheus (a real Prometheus scraping the pods' exporters).
	Source v1alpha1.MetricsSourceType
	// Chaos lists the faults to inject (see Faults).
	Chaos []string
	// Progress gets a line every ProgressEvery of real time; may be nil.
	Progress      io.Writer
	ProgressEvery time.Duration
	// Nodes is the number of kwok nodes (default 3).
	Nodes int
	// NoRemovalGuard runs the controllers without the removal guard webhook, to see what a
	// pod-kill does without it.
	NoRemovalGuard bool
}

// Report is the outcome: the live run beside the simulator's on the same trace.
type Report struct {
	*simulate.Report `json:"-"`
	// Speed and the notes on how the policy was compressed.
	Speed float64  `json:"speed"`
	Notes []string `json:"notes,omitempty"`
	// Faults injected, each with its trace time.
	Faults []string `json:"faults,omitempty"`
	// Violations are pods removed while not deletable or still holding players.
	Violations  []string `json:"violations,omitempty"`
	RemovedPods int      `json:"removedPods"`
	// Controller is what the controller process used over the run.
	Controller Usage `json:"controller"`
	// Logs is the folder with every process's log.
	Logs string `json:"logs"`
	// States is the live fleet's pods per state over time.
	States StateSeries `json:"states"`
	// Refusals is what the controller's source read of the dispatcher's refusals at the
	// end of the replay (the prometheus source only).
	Refusals *RefusalReadings `json:"refusals,omitempty"`
}

// RefusalReadings is the refusedStreams key read from Prometheus at the end of a replay
// with the controller's own source and the policy's query, for the CloneSet's pods.
type RefusalReadings struct {
	// Pods were asked; Readings had a value (a pod that never took players, or that
	// Prometheus has not scraped twice yet, has none).
	Pods, Readings int
	// PerSecond is the sum of the readings, new streams refused per trace second.
	PerSecond float64
	// Refused is the dispatcher's count over the run, shared among the pods that were
	// full: what the readings' rates come from.
	Refused float64
}

// Usage is the controller's cost over the run.
type Usage struct {
	CPUSeconds   float64 `json:"cpuSeconds"`
	PeakRSSBytes int64   `json:"peakRSSBytes"`
	Starts       int     `json:"starts"`
	// APIRequests the controller made, as the API server's audit log counts them (by
	// user agent), by verb in APIRequestsByVerb; Passes is its policy reconciles.
	APIRequests       float64        `json:"apiRequests"`
	APIRequestsByVerb map[string]int `json:"apiRequestsByVerb,omitempty"`
	// ClientRequests is the controller's own count (client-go's rest_client_requests_total).
	ClientRequests     float64 `json:"clientRequests"`
	Passes             float64 `json:"passes"`
	APIRequestsPerPass float64 `json:"apiRequestsPerPass"`
	// AllClientRequests is how much the API server's apiserver_request_total grew over
	// the replay: every client's requests (the metric has no label naming the client),
	// the controller's among them; AllClientRequestsPerPass divides it by Passes.
	AllClientRequests        float64 `json:"allClientRequests"`
	AllClientRequestsPerPass float64 `json:"allClientRequestsPerPass"`
	// Decisions counts the controller's decisions by reason (streamscaler_decision_total):
	// FailedGetMetrics are the passes it could not read its source.
	Decisions map[string]float64 `json:"decisions,omitempty"`
}

// run is the state of one demo.
type run struct {
	cfg      Config
	spec     *v1alpha1.ScalingPolicySpec
	cluster  *democluster.Cluster
	c        client.Client
	fleet    *fleet
	removals *removals
	disp     *players.Dispatcher
	score    *score
	ctrls    []*controllerProcess  // one, or two with leader election for leader-failover
	prom     *promProcess          // with the prometheus source
	refusals *refusalExporter      // with the prometheus source: the dispatcher's refusals
	guard    *testcluster.Webhooks // the removal guard's configuration, served by controller-0
	chaos    *chaos
	ns, name string
	rep      *Report

	// realStart is when the replay began, in Unix nanoseconds; the emulators read it
	// from their own goroutines.
	realStart atomic.Int64
}

// Run starts the local cluster, the controller and the fleet, replays the trace and
// returns the report. Everything it started is stopped before it returns.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	r, err := prepare(cfg)
	if err != nil {
		return nil, err
	}
	cl, err := democluster.Start(ctx, democluster.Options{Nodes: cfg.Nodes, StartupDelay: r.startupDelay()})
	if err != nil {
		return nil, fmt.Errorf("starting the local cluster: %w", err)
	}
	defer func() { _ = cl.Stop() }()
	// The demo's own requests carry their own user agent, so that the API server's audit
	// log tells them from the controller's (the same binary).
	rc := rest.CopyConfig(cl.Config)
	rc.UserAgent = "streamscaler-demo"
	if r.c, err = client.New(rc, client.Options{Scheme: cl.Scheme}); err != nil {
		return nil, err
	}
	r.cluster = cl
	ctx, cancel := context.WithCancel(ctx) // ends the pod watch before the cluster stops
	defer cancel()
	defer r.tearDown() // also when the set-up fails half-way
	if err := r.setUp(ctx); err != nil {
		return nil, errors.Join(err, r.logHint())
	}
	before, errBefore := serverRequests(ctx, cl.Config)
	if err := r.replay(ctx); err != nil {
		return nil, errors.Join(err, r.logHint())
	}
	if r.refusals != nil {
		if err := r.readRefusals(ctx); err != nil {
			return nil, errors.Join(err, r.logHint())
		}
	}
	r.stopControllers()
	after, errAfter := serverRequests(ctx, cl.Config)
	if err := errors.Join(errBefore, errAfter); err != nil {
		return nil, err
	}
	r.rep.Controller.AllClientRequests = after - before
	return r.finish()
}

// tearDown stops what setUp started, whatever it got to: the controllers, Prometheus,
// then the emulators.
func (r *run) tearDown() {
	r.stopControllers()
	if r.guard != nil {
		_ = r.guard.Uninstall()
	}
	if r.prom != nil {
		r.prom.stop()
	}
	if r.refusals != nil {
		r.refusals.close()
	}
	if r.fleet != nil {
		r.fleet.stop()
	}
}

func prepare(cfg Config) (*run, error) {
	if cfg.Policy == nil || len(cfg.Demand.Streams) < 2 {
		return nil, errors.New("a demo needs a policy and a trace of at least 2 steps")
	}
	cfg.Profile = cfg.Profile.WithDefaults()
	if err := cfg.Profile.Validate(); err != nil {
		return nil, err
	}
	spec, notes, err := Compress(&cfg.Policy.Spec, cfg.Speed)
	if err != nil {
		return nil, err
	}
	switch cfg.Source {
	case "", v1alpha1.SourceSRS:
		cfg.Source = v1alpha1.SourceSRS
		spec.MetricsSource = &v1alpha1.MetricsSourceSpec{Type: v1alpha1.SourceSRS}
	case v1alpha1.SourcePrometheus:
		// SRS's exporter has its own CPU gauge; the default cpu query reads cAdvisor,
		// which the demo cluster does not have.
		// The emulators' byte counters run on trace time, and Prometheus's rate() is per
		// real second: divided by the speed, it is bits per trace second again.
		sel := `{namespace="$namespace",$podLabel=~"$pods"}`
		spec.MetricsSource = &v1alpha1.MetricsSourceSpec{Type: v1alpha1.SourcePrometheus, Prometheus: &v1alpha1.PrometheusSource{
			Queries: map[string]string{
				"cpu": `max by ($podLabel) (srs_cpu_percent` + sel + `)`,
				"bandwidth": fmt.Sprintf(`(sum by ($podLabel) (rate(srs_receive_bytes_total%s[$window])) + sum by ($podLabel) (rate(srs_send_bytes_total%s[$window]))) * 8 / %g`,
					sel, sel, cfg.Speed),
				// The players the dispatcher could not place, per trace second; read only
				// when the policy sets behavior.saturation.refusedStreamsPerSecond.
				v1alpha1.KeyRefusedStreams: fmt.Sprintf(`sum by ($podLabel) (rate(%s%s[$window])) / %g`, refusedMetric, sel, cfg.Speed),
			},
		}}
	default:
		return nil, fmt.Errorf("--source %q: want srs or prometheus", cfg.Source)
	}
	if cfg.Binary == "" {
		if cfg.Binary, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("finding the streamscaler binary: %w", err)
		}
	}
	chaos, err := newChaos(cfg.Chaos, cfg.Demand)
	if err != nil {
		return nil, err
	}
	if chaos.wants("prometheus-outage") && cfg.Source != v1alpha1.SourcePrometheus {
		return nil, fmt.Errorf("--chaos prometheus-outage needs --source prometheus")
	}
	if cfg.Nodes == 0 {
		cfg.Nodes = 3
	}
	sessions, err := simulate.Sessions(cfg.Demand, cfg.Profile)
	if err != nil {
		return nil, err
	}
	disp, err := players.New(cfg.Demand.Start, cfg.Demand.Step, sessions, cfg.Profile.PodCapacityStreams, 4, cfg.Profile.Dispatch)
	if err != nil {
		return nil, err
	}
	r := &run{
		cfg: cfg, spec: spec, disp: disp, chaos: chaos,
		ns: cfg.Policy.Namespace, name: cfg.Policy.Spec.TargetRef.Name,
		score: newScore(sessions, len(cfg.Demand.Streams), cfg.Demand.Start, cfg.Demand.Step, cfg.Profile.PodCapacityStreams),
		rep:   &Report{Speed: cfg.Speed, Notes: notes},
	}
	if r.ns == "" {
		r.ns = "live"
	}
	return r, nil
}

// startupDelay is the profile's pod start-up in real time.
func (r *run) startupDelay() time.Duration {
	return time.Duration(float64(r.cfg.Profile.StartupSeconds) * float64(time.Second) / r.cfg.Speed)
}

// traceNow maps real time onto the trace.
func (r *run) traceNow() time.Time {
	return r.cfg.Demand.Start.Add(time.Duration(float64(time.Since(time.Unix(0, r.realStart.Load()))) * r.cfg.Speed))
}

func (r *run) traceEnd() time.Time {
	return r.cfg.Demand.Start.Add(time.Duration(len(r.cfg.Demand.Streams)) * r.cfg.Demand.Step)
}

func (r *run) logHint() error {
	if r.rep.Logs == "" {
		return nil
	}
	return fmt.Errorf("the controller's and Prometheus's logs are in %s", r.rep.Logs)
}

// setUp creates the namespace, the CloneSet at the simulator's starting size and the
// compressed policy, starts the controller and waits until the starting pods serve.
func (r *run) setUp(ctx context.Context) error {
	// The cluster's folder goes when it stops; the controller's logs stay for a look.
	logs, err := os.MkdirTemp("", "streamscaler-demo-")
	if err != nil {
		return fmt.Errorf("creating the demo's log folder: %w", err)
	}
	r.rep.Logs = logs
	initial := int32(simulate.InitialPods(r.cfg.Demand, &r.cfg.Policy.Spec, r.cfg.Profile))
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: r.ns}},
		cloneSet(r.ns, r.name, initial),
		&v1alpha1.ScalingPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: r.ns, Name: r.cfg.Policy.Name}, Spec: *r.spec},
	}
	rc := rest.CopyConfig(r.cluster.Config)
	rc.UserAgent = "streamscaler-demo"
	if r.removals, err = watchRemovals(ctx, rc, r.ns, r.name); err != nil {
		return err
	}
	for _, o := range objs {
		if err := r.c.Create(ctx, o); err != nil {
			return fmt.Errorf("creating %T %s: %w", o, o.GetName(), err)
		}
	}
	replicas, lease := 1, ""
	if r.chaos.wants("leader-failover") {
		replicas, lease = 2, r.ns
	}
	var ports []int
	for i := range replicas {
		c, err := newControllerProcess(fmt.Sprintf("controller-%d", i), r.cfg.Binary, r.cluster.KubeconfigPath(), string(r.cfg.Source), r.rep.Logs, lease)
		if err != nil {
			return err
		}
		r.ctrls = append(r.ctrls, c)
		ports = append(ports, c.metricsPort)
	}
	if !r.cfg.NoRemovalGuard {
		// The removal guard as deploy/ installs it, served by the first replica: a pod
		// deleted by hand drains first. (While that replica is down the webhook fails
		// open, as in a cluster whose controller is gone.)
		if r.guard, err = testcluster.InstallWebhooks(r.cluster.Config, r.c, deploy.Webhook); err != nil {
			return err
		}
		r.ctrls[0].extra = append(r.ctrls[0].extra, "--webhook-port", strconv.Itoa(r.guard.Port),
			"--webhook-host", r.guard.Host, "--webhook-cert-dir", r.guard.CertDir)
	}
	if r.cfg.Source == v1alpha1.SourcePrometheus {
		if err := r.startPrometheus(ctx, ports); err != nil {
			return err
		}
	}
	for _, c := range r.ctrls {
		if err := c.start(); err != nil {
			return err
		}
	}
	r.fleet = &fleet{c: r.c, ns: r.ns, selector: client.MatchingLabels{"app": r.name}, now: r.traceNow, servers: map[string]*srsemu.Server{}}
	r.realStart.Store(time.Now().UnixNano()) // the emulators' clock runs from here; the replay restarts it
	return r.waitServing(ctx, int(initial))
}

// waitServing waits until n pods are allocated, so that the replay starts from the same
// warm fleet as the simulator's.
func (r *run) waitServing(ctx context.Context, n int) error {
	deadline := time.Now().Add(2*time.Minute + r.startupDelay())
	for {
		live, _, err := r.fleet.observe(ctx)
		if err != nil {
			return err
		}
		allocated := 0
		for _, p := range live {
			if p.ready && p.state == "allocated" {
				allocated++
			}
		}
		if allocated >= n {
			return nil
		}
		if err := r.controllersAlive(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			kinds := map[string]int{}
			for _, p := range live {
				kinds[fmt.Sprintf("ready=%v state=%q", p.ready, p.state)]++
			}
			return fmt.Errorf("only %d of the %d starting pods were allocated after %s (pods: %v); the cluster's logs:\n%s",
				allocated, n, 2*time.Minute+r.startupDelay(), kinds, r.cluster.Logs())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// cloneSet is an SRS edge CloneSet as deploy/samples recommends it: streamscaler's
// preDelete hook (every removal waits for a drain), the replacement of a held pod at once,
// and rollouts that add new pods before old ones drain. kwok runs its pods; nothing pulls
// the image.
func cloneSet(ns, name string, replicas int32) *kruisev1alpha1.CloneSet {
	hook := map[string]string{v1alpha1.DrainHookLabel: v1alpha1.DrainHookValue}
	surge, unavailable := intstr.FromString("25%"), intstr.FromInt32(0)
	return &kruisev1alpha1.CloneSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{kruisev1alpha1.CloneSetScalingExcludePreparingDeleteKey: "true"}},
		Spec: kruisev1alpha1.CloneSetSpec{
			Replicas:       &replicas,
			Selector:       &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Lifecycle:      &appspub.Lifecycle{PreDelete: &appspub.LifecycleHook{LabelsHandler: hook}, InPlaceUpdate: &appspub.LifecycleHook{LabelsHandler: hook}},
			UpdateStrategy: kruisev1alpha1.CloneSetUpdateStrategy{Type: kruisev1alpha1.RecreateCloneSetUpdateStrategyType, MaxSurge: &surge, MaxUnavailable: &unavailable},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name, v1alpha1.DrainHookLabel: v1alpha1.DrainHookValue}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "srs", Image: "ossrs/srs:7",
					Ports: []corev1.ContainerPort{{Name: "rtmp", ContainerPort: 1935}, {Name: "api", ContainerPort: 1985}, {Name: "exporter", ContainerPort: 9972}},
				}}},
			},
		},
	}
}

// replay runs the trace: every tick lists the pods, keeps an emulator per pod, moves
// the players and adds the tick to the score.
func (r *run) replay(ctx context.Context) error {
	tick := max(20*time.Millisecond, min(200*time.Millisecond, time.Duration(float64(r.cfg.Demand.Step)/r.cfg.Speed)))
	every := r.cfg.ProgressEvery
	if every <= 0 {
		every = 5 * time.Second
	}
	r.realStart.Store(time.Now().UnixNano())
	last, lastProgress := r.cfg.Demand.Start, time.Now()
	for {
		now := r.traceNow()
		if !now.Before(r.traceEnd()) {
			return nil
		}
		if err := r.step(ctx, now, now.Sub(last)); err != nil {
			return err
		}
		last = now
		if r.cfg.Progress != nil && time.Since(lastProgress) >= every {
			r.progress(now)
			lastProgress = time.Now()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(tick):
		}
	}
}

func (r *run) step(ctx context.Context, now time.Time, dt time.Duration) error {
	if err := r.controllersAlive(); err != nil {
		return err
	}
	if err := r.chaos.inject(ctx, r, now); err != nil {
		return err
	}
	live, pods, err := r.fleet.observe(ctx)
	if err != nil {
		return err
	}
	var cs kruisev1alpha1.CloneSet
	if err := r.c.Get(ctx, types.NamespacedName{Namespace: r.ns, Name: r.name}, &cs); err != nil {
		return fmt.Errorf("reading the CloneSet: %w", err)
	}
	kicks := r.fleet.takeKicks()
	r.score.audit(now, r.removals.take(), r.disp.Up(), kicks)
	if _, err := r.disp.Tick(now, pods, kicks); err != nil {
		// A server that refused a player: the player is counted as rejected.
		fmt.Fprintf(r.progressOut(), "%s players: %v\n", now.Format(time.TimeOnly), err)
	}
	if r.refusals != nil {
		r.refusals.update(r.disp.Refused())
	}
	replicas := int32(1)
	if cs.Spec.Replicas != nil {
		replicas = *cs.Spec.Replicas
	}
	r.score.account(now, dt, live, r.disp.Up(), replicas, r.disp.Totals().Rejected)
	return nil
}

// controllersAlive reports a controller that exited on its own (not killed by chaos).
func (r *run) controllersAlive() error {
	for _, c := range r.ctrls {
		if r.chaos.killed(c) {
			continue
		}
		if err := c.alive(); err != nil {
			return err
		}
	}
	return nil
}

// readRefusals reads refusedStreams for the CloneSet's pods the way the controller does
// (the prometheus source with the policy's query), so that a query matching no series,
// which a controller reads as "no refusals", shows as no readings in the report.
func (r *run) readRefusals(ctx context.Context) error {
	src, err := promsource.New(promsource.Config{Address: r.prom.url(), Timeout: 2 * time.Second, RateWindow: rateWindow(r.cfg.Speed)})
	if err != nil {
		return err
	}
	var list corev1.PodList
	if err := r.c.List(ctx, &list, client.InNamespace(r.ns), client.MatchingLabels{"app": r.name}); err != nil {
		return fmt.Errorf("listing the pods: %w", err)
	}
	pods := make([]*corev1.Pod, len(list.Items))
	for i := range list.Items {
		pods[i] = &list.Items[i]
	}
	policy := &v1alpha1.ScalingPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: r.ns, Name: r.cfg.Policy.Name}, Spec: *r.spec}
	values, _, err := src.Samples(ctx, policy, pods, []string{v1alpha1.KeyRefusedStreams})
	if err != nil {
		return fmt.Errorf("reading %s from Prometheus as the controller does: %w", v1alpha1.KeyRefusedStreams, err)
	}
	rr := &RefusalReadings{Pods: len(pods)}
	for _, byKey := range values {
		if v, ok := byKey[v1alpha1.KeyRefusedStreams]; ok {
			rr.Readings++
			rr.PerSecond += v
		}
	}
	for _, v := range r.disp.Refused() {
		rr.Refused += v
	}
	r.rep.Refusals = rr
	return nil
}

// startPrometheus starts the real Prometheus the controllers read, and tells them where.
func (r *run) startPrometheus(ctx context.Context, controllerPorts []int) error {
	var err error
	if r.refusals, err = newRefusalExporter(r.ns); err != nil {
		return err
	}
	r.prom, err = newPromProcess(r.rep.Logs, r.ns, r.name, r.cluster.KubeconfigPath(), r.cfg.Speed, controllerPorts, r.refusals.addr)
	if err != nil {
		return err
	}
	if err := r.prom.start(ctx); err != nil {
		return err
	}
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("prometheus scrapes every %s (15s of trace, 200ms at least); rate() over %s", scrapeInterval(r.cfg.Speed), rateWindow(r.cfg.Speed)))
	for _, c := range r.ctrls {
		c.extra = append(c.extra, "--prometheus-address", r.prom.url(), "--prometheus-rate-window", rateWindow(r.cfg.Speed).String(), "--prometheus-timeout", "2s")
	}
	return nil
}

func (r *run) stopControllers() {
	for _, c := range r.ctrls {
		c.stop(syscall.SIGTERM)
	}
}

func (r *run) progressOut() io.Writer {
	if r.cfg.Progress == nil {
		return io.Discard
	}
	return r.cfg.Progress
}

func (r *run) progress(now time.Time) {
	states := r.score.states
	t := r.disp.Totals()
	up := 0
	for _, n := range r.disp.Up() {
		up += n
	}
	fmt.Fprintf(r.cfg.Progress, "%s  offered %4d  playing %4d  pods init %d allocated %d tombstone %d deletable %d  rejected %d evicted %d lost %d\n",
		now.Format("2006-01-02 15:04"), r.score.offeredAt(now), up, states["init"], states["allocated"], states["tombstone"], states["deletable"], t.Rejected, t.Evicted, t.Lost)
}

// finish scores the live run beside the simulator's reactive run and the oracle.
func (r *run) finish() (*Report, error) {
	sim, err := simulate.Run(r.cfg.Demand, &r.cfg.Policy.Spec, r.cfg.Profile)
	if err != nil {
		return nil, fmt.Errorf("simulating the same trace: %w", err)
	}
	live := r.score.result(r.disp.Totals())
	var keep []simulate.Result
	var oracle, atTarget float64
	for _, res := range sim.Results {
		if res.Policy == simulate.PolicyOracle {
			oracle = res.PodHours
		}
		if res.Policy == simulate.PolicyOracleAtTarget {
			atTarget = res.PodHours
		}
		if res.Policy == simulate.PolicyReactive || res.Policy == simulate.PolicyHPA || res.Policy == simulate.PolicyOracleAtTarget || res.Policy == simulate.PolicyOracle {
			keep = append(keep, res)
		}
	}
	if oracle > 0 {
		live.OracleRatio = live.PodHours / oracle
	}
	if atTarget > 0 {
		live.TargetRatio = live.PodHours / atTarget
	}
	sim.Results = append([]simulate.Result{live}, keep...)
	r.rep.Report = sim
	r.rep.Violations, r.rep.RemovedPods = r.score.violations, r.score.removed
	r.rep.Faults = r.chaos.log
	r.rep.States = r.score.byState
	u := &r.rep.Controller
	for _, c := range r.ctrls {
		u.CPUSeconds += c.cpu.Seconds()
		u.PeakRSSBytes = max(u.PeakRSSBytes, c.peakRSS)
		u.Starts += c.starts
		u.ClientRequests += c.requests
		u.Passes += c.passes
		for reason, n := range c.decisions {
			if u.Decisions == nil {
				u.Decisions = map[string]float64{}
			}
			u.Decisions[reason] += n
		}
	}
	// The API server's count, from its audit log, replaces the controller's own.
	u.APIRequests = u.ClientRequests
	if byVerb, n, err := controllerRequests(r.cluster.AuditLogPath()); err == nil {
		u.APIRequests, u.APIRequestsByVerb = float64(n), byVerb
	}
	if u.Passes > 0 {
		u.APIRequestsPerPass = u.APIRequests / u.Passes
		u.AllClientRequestsPerPass = u.AllClientRequests / u.Passes
	}
	return r.rep, nil
}
