package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/streamscaler/streamscaler/adapters/plot"
	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/internal/demo"
)

type demoFlags struct {
	simulateFlags
	speed  float64
	chaos  []string
	source string
	// removalGuard serves the removal guard webhook (on by default).
	removalGuard bool
}

// The bundled default: a World Cup 98 afternoon (a match drives load up and down), five
// hours of trace in five minutes at speed 60.
const (
	demoTrace  = "testdata/traces/wc98_requests_per_minute.csv"
	demoColumn = "count"
	demoPolicy = "testdata/policies/srs-edge.yaml"
	demoFrom   = "1998-06-26T12:00:00Z"
	demoTo     = "1998-06-26T17:00:00Z"
)

func newDemoCommand() *cobra.Command {
	fl := demoFlags{}
	cmd := &cobra.Command{
		Use:   "demo [--trace FILE --column C --from T --to T --policy FILE] [--speed N] [--chaos LIST]",
		Short: "Run the real controller on a local cluster with an emulated SRS fleet and players",
		Long: `demo starts a local control plane (etcd, kube-apiserver, kube-scheduler,
kube-controller-manager, kruise-manager and kwok, all on 127.0.0.1, built by
'make democluster'), an SRS edge CloneSet whose pods get loopback IPs, an emulated SRS
server on every pod, players that follow the trace, and the real 'streamscaler
controller' as a subprocess reading the SRS HTTP API and kicking players at drain
timeouts. The policy's periods, windows and timeouts are divided by --speed. At the end
it prints the live run beside the simulator's reactive run on the same trace.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runDemo(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), fl, cmd.Flags().Changed)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.trace, "trace", demoTrace, "CSV trace with a header row")
	f.StringVar(&fl.column, "column", demoColumn, "value column of the trace")
	f.StringVar(&fl.timeColumn, "time-column", "", "time column (default: the first named time, timestamp, period, ...)")
	f.StringVar(&fl.policy, "policy", demoPolicy, "YAML with a ScalingPolicy and optionally a SimulationProfile")
	f.StringVar(&fl.format, "format", "table", "output format: table or json")
	f.StringVar(&fl.plotPath, "plot", "", "also draw load, capacity and pods of the live and simulated runs to this PNG file")
	f.StringVar(&fl.from, "from", demoFrom, "replay from this time (RFC3339)")
	f.StringVar(&fl.to, "to", demoTo, "replay until this time (RFC3339, exclusive)")
	f.Float64Var(&fl.peakStreams, "peak-streams", 0, "rescale the trace so its maximum is this many concurrent streams (overrides the profile)")
	f.Uint64Var(&fl.seed, "seed", 0, "random seed for arrivals and session lengths (overrides the profile)")
	f.StringVar(&fl.dispatch, "dispatch", "", "how the players' dispatcher places a new player: spread (least-loaded pod) or packed (fullest pod below capacity); overrides the profile, default spread")
	f.Float64Var(&fl.speed, "speed", 60, fmt.Sprintf("trace seconds replayed per real second (1 to %d)", demo.MaxSpeed))
	f.StringSliceVar(&fl.chaos, "chaos", nil, fmt.Sprintf("faults to inject, spread over the run: %v", demo.Faults))
	f.BoolVar(&fl.removalGuard, "removal-guard", true, "serve the removal guard webhook from the controller, so that a pod deleted by hand drains first (--removal-guard=false shows a pod-kill without it)")
	f.StringVar(&fl.source, "source", "srs", "the controller's metrics source: srs (each pod's SRS HTTP API) or prometheus (a real Prometheus discovering the pods)")
	return cmd
}

func runDemo(ctx context.Context, out, progress io.Writer, fl demoFlags, changed func(string) bool) error {
	// The demo's own clients log nothing worth reading (their errors are returned); the
	// controller processes log to the demo's log folder.
	ctrl.SetLogger(logr.Discard())
	if fl.format != "table" && fl.format != "json" {
		return fmt.Errorf("--format %q: want table or json", fl.format)
	}
	rp, err := loadReplay(fl.simulateFlags, changed)
	if err != nil {
		return err
	}
	span := time.Duration(len(rp.demand.Streams)) * rp.demand.Step
	fmt.Fprintf(progress, "demo: %s of trace at speed %g: about %s of real time once the cluster is up\n", span, fl.speed, time.Duration(float64(span)/fl.speed).Round(time.Second))
	rep, err := demo.Run(ctx, demo.Config{
		Demand: rp.demand, Profile: rp.profile, Policy: rp.file.Policy, Speed: fl.speed, Chaos: fl.chaos, Progress: progress,
		Source: v1alpha1.MetricsSourceType(fl.source), NoRemovalGuard: !fl.removalGuard,
	})
	if err != nil {
		return err
	}
	states := plot.Panel{Title: "live: pods per state", XLabel: "hours", YLabel: "pods"}
	for _, st := range []string{"init", "allocated", "tombstone", "deletable"} {
		states.Lines = append(states.Lines, plot.Line{Name: st, X: rep.States.Hours, Y: rep.States.Pods[st]})
	}
	if err := writeReport(out, fl.simulateFlags, rp, rep.Report, rep, []plot.Panel{states}); err != nil {
		return err
	}
	if fl.format == "json" {
		return nil
	}
	return writeDemoNotes(out, rep)
}

func writeDemoNotes(out io.Writer, rep *demo.Report) error {
	fmt.Fprintf(out, "\nspeed %g: the policy ran with every period, window and timeout divided by %g\n", rep.Speed, rep.Speed)
	for _, n := range rep.Notes {
		fmt.Fprintf(out, "  note: %s\n", n)
	}
	for _, f := range rep.Faults {
		fmt.Fprintf(out, "  fault: %s\n", f)
	}
	fmt.Fprintf(out, "pods removed: %d, removed while not deletable or holding players: %d\n", rep.RemovedPods, len(rep.Violations))
	for _, v := range rep.Violations {
		fmt.Fprintf(out, "  violation: %s\n", v)
	}
	c := rep.Controller
	fmt.Fprintf(out, "controller: %.1f CPU seconds, peak RSS %.0f MiB, %d start(s), %.0f API requests (audit log %v) over %.0f passes: %.2f per pass\n",
		c.CPUSeconds, float64(c.PeakRSSBytes)/(1<<20), c.Starts, c.APIRequests, c.APIRequestsByVerb, c.Passes, c.APIRequestsPerPass)
	fmt.Fprintf(out, "controller decisions by reason: %v\n", c.Decisions)
	if rr := rep.Refusals; rr != nil {
		fmt.Fprintf(out, "refusals: the dispatcher counted %.0f players refused by full pods; at the end, %s read by the controller's source: %d of %d pods had a reading, %.3g per second together\n",
			rr.Refused, v1alpha1.KeyRefusedStreams, rr.Readings, rr.Pods, rr.PerSecond)
	}
	fmt.Fprintf(out, "api server: apiserver_request_total grew by %.0f over the replay, every client together (%.2f per controller pass); the controller's share is the audit log's count above\n",
		c.AllClientRequests, c.AllClientRequestsPerPass)
	fmt.Fprintf(out, "logs: %s\n", rep.Logs)
	return nil
}
