package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/streamscaler/streamscaler/adapters/events"
	"github.com/streamscaler/streamscaler/adapters/plot"
	"github.com/streamscaler/streamscaler/adapters/policyfile"
	"github.com/streamscaler/streamscaler/adapters/trace"
	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/autoscaler/simulate"
)

type simulateFlags struct {
	trace, column, timeColumn, policy, format, plotPath, from, to, events, dispatch string
	peakStreams                                                                     float64
	seed                                                                            uint64
	drainTimeouts                                                                   []time.Duration
}

func newSimulateCommand() *cobra.Command {
	var fl simulateFlags
	cmd := &cobra.Command{
		Use:   "simulate --trace FILE --column C --policy FILE",
		Short: "Replay a traffic trace through reactive, hpa, static-peak and oracle policies",
		Long: `simulate replays a CSV traffic trace, rescaled to concurrent streams, through a fleet of
simulated media pods under this project's reactive policy and three baselines, on the
same stream arrivals, and reports pod-hours, overload, rejected, evicted and lost streams.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSimulate(cmd.OutOrStdout(), fl, cmd.Flags().Changed)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.trace, "trace", "", "CSV trace with a header row (required)")
	f.StringVar(&fl.column, "column", "", "value column of the trace (required when it has several)")
	f.StringVar(&fl.timeColumn, "time-column", "", "time column (default: the first named time, timestamp, period, ...)")
	f.StringVar(&fl.policy, "policy", "", "YAML with a ScalingPolicy and optionally a SimulationProfile (required)")
	f.StringVar(&fl.format, "format", "table", "output format: table or json")
	f.StringVar(&fl.plotPath, "plot", "", "also draw demand, capacity and pods per policy to this PNG file")
	f.StringVar(&fl.from, "from", "", "replay from this time (RFC3339), default the trace's start")
	f.StringVar(&fl.to, "to", "", "replay until this time (RFC3339, exclusive), default the trace's end")
	f.StringVar(&fl.events, "events", "", "CSV schedule of known events (start, duration, name[, liftPercent]) to use as the policy's prediction.events (replacing any it has)")
	f.Float64Var(&fl.peakStreams, "peak-streams", 0, "rescale the trace so its maximum is this many concurrent streams (overrides the profile)")
	f.Uint64Var(&fl.seed, "seed", 0, "random seed for arrivals and session lengths (overrides the profile)")
	f.StringVar(&fl.dispatch, "dispatch", "", "how the fleet's dispatcher places a new stream: spread (least-loaded pod) or packed (fullest pod below capacity); overrides the profile, default spread")
	f.DurationSliceVar(&fl.drainTimeouts, "drain-timeouts", nil, "replay once per drain timeout (such as 15m,30m,1h), only tombstone.drainTimeout changed, and report reactive's and predictive's pod-hours against hpa's and evicted sessions; --plot draws the trade")
	_ = cmd.MarkFlagRequired("trace")
	_ = cmd.MarkFlagRequired("policy")
	return cmd
}

func runSimulate(out io.Writer, fl simulateFlags, changed func(string) bool) error {
	if fl.format != "table" && fl.format != "json" {
		return fmt.Errorf("--format %q: want table or json", fl.format)
	}
	if err := checkDrainTimeouts(fl.drainTimeouts); err != nil {
		return err
	}
	rp, err := loadReplay(fl, changed)
	if err != nil {
		return err
	}
	if len(fl.drainTimeouts) > 0 {
		return runDrainTrade(out, fl, rp)
	}
	rep, err := simulate.Run(rp.demand, &rp.file.Policy.Spec, rp.profile)
	if err != nil {
		return err
	}
	return writeReport(out, fl, rp, rep, nil, nil)
}

// parseDispatch reads --dispatch.
func parseDispatch(s string) (simulate.Dispatch, error) {
	if d := simulate.Dispatch(s); d.Valid() {
		return d, nil
	}
	return "", fmt.Errorf("--dispatch %q: want %s or %s", s, simulate.DispatchSpread, simulate.DispatchPacked)
}

// replay is a trace and a policy file ready to replay.
type replay struct {
	file    *policyfile.File
	profile simulate.Profile
	column  string
	demand  simulate.Demand
}

// loadReplay reads the policy file (with its SimulationProfile) and the trace window the
// flags name, and puts the trace on the profile's step.
func loadReplay(fl simulateFlags, changed func(string) bool) (*replay, error) {
	pf, err := policyfile.Load(fl.policy)
	if err != nil {
		return nil, err
	}
	if fl.events != "" {
		evs, err := events.Load(fl.events)
		if err != nil {
			return nil, fmt.Errorf("--events: %w", err)
		}
		if pf.Policy.Spec.Prediction == nil {
			pf.Policy.Spec.Prediction = &v1alpha1.PredictionSpec{}
		}
		pf.Policy.Spec.Prediction.Events = evs
		pf.Policy.Spec.Prediction.EventsConfigMap = nil // the file stands for it
	} else if pr := pf.Policy.Spec.Prediction; pr != nil && pr.EventsConfigMap != nil {
		return nil, fmt.Errorf("policy file %s: prediction.eventsConfigMap names ConfigMap %s, which a replay cannot read: pass the content of its key %s with --events",
			fl.policy, pr.EventsConfigMap.Name, pr.EventsConfigMap.EventsKey())
	}
	var prof simulate.Profile
	if raw, ok := pf.Others["SimulationProfile"]; ok {
		if prof, err = simulate.ParseProfile(raw); err != nil {
			return nil, fmt.Errorf("policy file %s: %w", fl.policy, err)
		}
	}
	if changed("peak-streams") {
		if !(fl.peakStreams > 0) {
			return nil, fmt.Errorf("--peak-streams %v: must be greater than zero", fl.peakStreams)
		}
		prof.PeakStreams = fl.peakStreams
	}
	if changed("dispatch") {
		d, err := parseDispatch(fl.dispatch)
		if err != nil {
			return nil, err
		}
		prof.Dispatch = d
	}
	if changed("seed") {
		if fl.seed == 0 {
			return nil, fmt.Errorf("--seed 0: must be greater than zero")
		}
		prof.Seed = fl.seed
	}
	prof = prof.WithDefaults()
	if err := prof.Validate(); err != nil {
		return nil, fmt.Errorf("policy file %s: %w", fl.policy, err)
	}
	series, err := loadWindow(fl)
	if err != nil {
		return nil, err
	}
	times := make([]time.Time, len(series.Points))
	values := make([]float64, len(series.Points))
	for i, p := range series.Points {
		times[i], values[i] = p.Time, p.Value
	}
	demand, err := simulate.Resample(times, values, time.Duration(prof.StepSeconds)*time.Second, prof.PeakStreams)
	if err != nil {
		return nil, fmt.Errorf("trace %s: %w", fl.trace, err)
	}
	return &replay{file: pf, profile: prof, column: series.Column, demand: demand}, nil
}

// loadWindow reads the trace between --from and --to.
func loadWindow(fl simulateFlags) (*trace.Series, error) {
	series, err := trace.Load(fl.trace, trace.Options{Column: fl.column, TimeColumn: fl.timeColumn})
	if err != nil {
		return nil, err
	}
	var from, to time.Time
	if fl.from != "" {
		if from, err = time.Parse(time.RFC3339, fl.from); err != nil {
			return nil, fmt.Errorf("--from %q: want RFC3339 such as 1998-06-10T00:00:00Z: %w", fl.from, err)
		}
	}
	if fl.to != "" {
		if to, err = time.Parse(time.RFC3339, fl.to); err != nil {
			return nil, fmt.Errorf("--to %q: want RFC3339 such as 1998-07-13T00:00:00Z: %w", fl.to, err)
		}
	}
	if !from.IsZero() || !to.IsZero() {
		series = series.Window(from, to)
	}
	if len(series.Points) < 2 {
		return nil, fmt.Errorf("trace %s: fewer than 2 points between --from and --to", fl.trace)
	}
	return series, nil
}

// writeJSON writes v as indented JSON, as every subcommand's --format json does.
func writeJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeReport prints the report as a table or JSON, with extra fields beside it in JSON,
// and draws the plot when asked.
func writeReport(out io.Writer, fl simulateFlags, rp *replay, rep *simulate.Report, extra any, more []plot.Panel) error {
	if fl.plotPath != "" {
		if err := plot.WritePNG(fl.plotPath, append(more, panels(rep)...), 0, 0); err != nil {
			return fmt.Errorf("drawing %s: %w", fl.plotPath, err)
		}
	}
	if fl.format == "json" {
		return writeJSON(out, struct {
			Trace  string `json:"trace"`
			Column string `json:"column"`
			Policy string `json:"policy"`
			*simulate.Report
			Extra any `json:"live,omitempty"`
		}{fl.trace, rp.column, fl.policy, rep, extra})
	}
	fmt.Fprintf(out, "trace %s (%s), %s to %s, %d steps of %ds, %d streams offered, peak %d concurrent\n",
		fl.trace, rp.column, rep.Start.Format(time.RFC3339), rep.End.Format(time.RFC3339), rep.Steps, rep.Profile.StepSeconds, rep.Streams, rep.PeakOffered)
	fmt.Fprintf(out, "the policy aims at %.1f streams per pod; hpa at %d%% CPU; dispatch %s\n\n", rep.TargetStreamsPerPod, rep.Profile.HPATargetCPUPercent, rep.Profile.Dispatch)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "policy\tpod-hours\tvs oracle\tvs at-target\toverload-s\trejected\tevicted\tlost\tscale events\tpeak pods\tutilization\t")
	for _, r := range rep.Results {
		vsTarget := "-"
		if r.TargetRatio > 0 {
			vsTarget = fmt.Sprintf("%.2fx", r.TargetRatio)
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%.2fx\t%s\t%.0f\t%d\t%d\t%d\t%d\t%d\t%.0f%%\t\n", r.Policy, r.PodHours, r.OracleRatio, vsTarget, r.OverloadSeconds,
			r.RejectedStreams, r.EvictedStreams, r.LostStreams, r.ScaleEvents, r.PeakPods, 100*r.MeanUtilization)
	}
	return tw.Flush()
}

// panels draws, per policy, demand against capacity, and all policies' pod counts together.
func panels(rep *simulate.Report) []plot.Panel {
	var out []plot.Panel
	pods := plot.Panel{Title: "pods per policy", XLabel: "hours", YLabel: "pods"}
	for _, r := range rep.Results {
		s := r.Series
		out = append(out, plot.Panel{
			Title: r.Policy + ": offered streams and capacity", XLabel: "hours", YLabel: "streams",
			Lines: []plot.Line{{Name: "demand", X: s.Hours, Y: s.Demand}, {Name: "capacity", X: s.Hours, Y: s.Capacity, Dashed: true}},
		})
		pods.Lines = append(pods.Lines, plot.Line{Name: r.Policy, X: s.Hours, Y: s.Pods})
	}
	return append([]plot.Panel{pods}, out...)
}
