package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/streamscaler/streamscaler/autoscaler/simulate"
)

// sweepManifest lists the trace windows a sweep replays (testdata/sweep.yaml).
type sweepManifest struct {
	Traces []sweepTrace `json:"traces"`
}

// sweepTrace is one trace window and the kind of load it stands for, which says which
// targets apply to it.
type sweepTrace struct {
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	File   string `json:"file"` // relative to the manifest
	Column string `json:"column"`
	From   string `json:"from,omitempty"`
	To     string `json:"to,omitempty"`
	// Events is a CSV schedule of known events (relative to the manifest) for the
	// policy's prediction.events.
	Events string `json:"events,omitempty"`
}

// Trace kinds: a daily cycle, a tournament (daily cycle with match-day surges), or news
// spikes (no clean season).
var sweepKinds = []string{"daily", "tournament", "spikes"}

type sweepFlags struct {
	manifest, policy, seeds, format, dispatch string
}

func newSweepCommand() *cobra.Command {
	var fl sweepFlags
	cmd := &cobra.Command{
		Use:   "sweep --manifest FILE --policy FILE",
		Short: "Replay every trace window of a manifest under every policy, for several seeds, in one table",
		Long: `sweep runs streamscaler simulate on every trace window a manifest lists, once per seed,
and prints one table: per trace and policy, the mean over seeds of pod-hours against the
oracle, the oracle at the policy's target and the matched hpa, overload, rejected, evicted
(as a share of the sessions offered) and lost streams, and scale events. Then it checks
the targets of issue 12 and says, per target, what was measured.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSweep(cmd.OutOrStdout(), cmd.ErrOrStderr(), fl)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.manifest, "manifest", "testdata/sweep.yaml", "YAML list of trace windows")
	f.StringVar(&fl.policy, "policy", "testdata/policies/srs-edge.yaml", "YAML with a ScalingPolicy and optionally a SimulationProfile")
	f.StringVar(&fl.seeds, "seeds", "1,2,3", "comma-separated random seeds")
	f.StringVar(&fl.format, "format", "table", "output format: table or json")
	f.StringVar(&fl.dispatch, "dispatch", "", "how the fleet's dispatcher places a new stream: spread or packed (overrides the profile, default spread)")
	return cmd
}

// sweepRow is one policy on one trace, averaged over the seeds.
type sweepRow struct {
	Trace           string  `json:"trace"`
	Kind            string  `json:"kind"`
	Policy          string  `json:"policy"`
	PodHours        float64 `json:"podHours"`
	DrainingHours   float64 `json:"drainingPodHours"` // the part paid for pods in tombstone or deletable
	OracleRatio     float64 `json:"oracleRatio"`
	OracleRatioSD   float64 `json:"oracleRatioSD"`
	TargetRatio     float64 `json:"targetRatio"`
	HPARatio        float64 `json:"hpaRatio"` // pod-hours over the matched hpa's
	OverloadSeconds float64 `json:"overloadSeconds"`
	Rejected        float64 `json:"rejectedStreams"`
	EvictedShare    float64 `json:"evictedShare"` // evicted streams over sessions offered
	Lost            float64 `json:"lostStreams"`
	ScaleEvents     float64 `json:"scaleEvents"`
}

func parseSeeds(s string) ([]uint64, error) {
	var out []uint64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
		if err != nil || v == 0 {
			return nil, fmt.Errorf("--seeds %q: want positive integers separated by commas", s)
		}
		out = append(out, v)
	}
	return out, nil
}

func loadManifest(path string) (*sweepManifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sweep manifest: %w", err)
	}
	var m sweepManifest
	if err := yaml.UnmarshalStrict(data, &m); err != nil {
		return nil, fmt.Errorf("sweep manifest %s: %w", path, err)
	}
	if len(m.Traces) == 0 {
		return nil, fmt.Errorf("sweep manifest %s: no traces", path)
	}
	seen := map[string]bool{}
	for i, t := range m.Traces {
		switch {
		case t.Name == "" || seen[t.Name]:
			return nil, fmt.Errorf("sweep manifest %s: trace %d: name %q is empty or repeated", path, i, t.Name)
		case !contains(sweepKinds, t.Kind):
			return nil, fmt.Errorf("sweep manifest %s: trace %s: kind %q: want one of %s", path, t.Name, t.Kind, strings.Join(sweepKinds, ", "))
		case t.File == "":
			return nil, fmt.Errorf("sweep manifest %s: trace %s: file is empty", path, t.Name)
		}
		seen[t.Name] = true
		if !filepath.IsAbs(t.File) {
			m.Traces[i].File = filepath.Join(filepath.Dir(path), t.File)
		}
		if t.Events != "" && !filepath.IsAbs(t.Events) {
			m.Traces[i].Events = filepath.Join(filepath.Dir(path), t.Events)
		}
	}
	return &m, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func runSweep(out, progress io.Writer, fl sweepFlags) error {
	if fl.format != "table" && fl.format != "json" {
		return fmt.Errorf("--format %q: want table or json", fl.format)
	}
	seeds, err := parseSeeds(fl.seeds)
	if err != nil {
		return err
	}
	if fl.dispatch != "" {
		if _, err := parseDispatch(fl.dispatch); err != nil {
			return err
		}
	}
	m, err := loadManifest(fl.manifest)
	if err != nil {
		return err
	}
	var rows []sweepRow
	var dispatch simulate.Dispatch
	for _, t := range m.Traces {
		var reps []*simulate.Report
		for _, seed := range seeds {
			sf := simulateFlags{trace: t.File, column: t.Column, from: t.From, to: t.To, policy: fl.policy, seed: seed, events: t.Events, dispatch: fl.dispatch}
			rp, err := loadReplay(sf, func(name string) bool { return name == "seed" || (name == "dispatch" && fl.dispatch != "") })
			if err != nil {
				return fmt.Errorf("trace %s: %w", t.Name, err)
			}
			rep, err := simulate.Run(rp.demand, &rp.file.Policy.Spec, rp.profile)
			if err != nil {
				return fmt.Errorf("trace %s, seed %d: %w", t.Name, seed, err)
			}
			dispatch = rp.profile.Dispatch
			fmt.Fprintf(progress, "sweep: %s seed %d done\n", t.Name, seed)
			reps = append(reps, rep)
		}
		rows = append(rows, sweepRows(t, reps)...)
	}
	checks := sweepTargets(rows)
	if fl.format == "json" {
		return writeJSON(out, struct {
			Seeds    []uint64          `json:"seeds"`
			Dispatch simulate.Dispatch `json:"dispatch"`
			Rows     []sweepRow        `json:"rows"`
			Targets  []sweepCheck      `json:"targets"`
		}{seeds, dispatch, rows, checks})
	}
	fmt.Fprintf(out, "%d trace windows x seeds %s, policy %s, dispatch %s; means over the seeds\n\n", len(m.Traces), fl.seeds, fl.policy, dispatch)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "trace\tkind\tpolicy\tpod-hours\tdraining\tvs oracle (sd)\tvs at-target\tvs hpa\toverload-s\trejected\tevicted\tlost\tscale events\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%.1f\t%.2fx (%.3f)\t%.2fx\t%.2fx\t%.0f\t%.0f\t%.2f%%\t%.0f\t%.0f\t\n", r.Trace, r.Kind, r.Policy, r.PodHours, r.DrainingHours,
			r.OracleRatio, r.OracleRatioSD, r.TargetRatio, r.HPARatio, r.OverloadSeconds, r.Rejected, 100*r.EvictedShare, r.Lost, r.ScaleEvents)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out, "\ntargets (issue 12):")
	met := 0
	for _, c := range checks {
		verdict := "MISSED"
		if c.Met {
			verdict, met = "met", met+1
		}
		fmt.Fprintf(out, "  %-6s %s: %s\n", verdict, c.Target, c.Measured)
	}
	fmt.Fprintf(out, "%d of %d targets met\n", met, len(checks))
	return nil
}

// sweepRows averages each policy's results over the seeds of one trace.
func sweepRows(t sweepTrace, reps []*simulate.Report) []sweepRow {
	var rows []sweepRow
	for i, first := range reps[0].Results {
		if first.Policy == simulate.PolicyStaticPeak {
			continue
		}
		row := sweepRow{Trace: t.Name, Kind: t.Kind, Policy: first.Policy}
		var ratios []float64
		for _, rep := range reps {
			r, hpa := rep.Results[i], resultOf(rep, simulate.PolicyHPA)
			n := float64(len(reps))
			row.PodHours += r.PodHours / n
			row.DrainingHours += r.DrainingPodHours / n
			row.OracleRatio += r.OracleRatio / n
			row.TargetRatio += r.TargetRatio / n
			if hpa.PodHours > 0 {
				row.HPARatio += r.PodHours / hpa.PodHours / n
			}
			row.OverloadSeconds += r.OverloadSeconds / n
			row.Rejected += float64(r.RejectedStreams) / n
			if rep.Streams > 0 {
				row.EvictedShare += float64(r.EvictedStreams) / float64(rep.Streams) / n
			}
			row.Lost += float64(r.LostStreams) / n
			row.ScaleEvents += float64(r.ScaleEvents) / n
			ratios = append(ratios, r.OracleRatio)
		}
		row.OracleRatioSD = stddev(ratios)
		rows = append(rows, row)
	}
	return rows
}

func resultOf(rep *simulate.Report, policy string) simulate.Result {
	for _, r := range rep.Results {
		if r.Policy == policy {
			return r
		}
	}
	return simulate.Result{}
}

func stddev(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	var mean float64
	for _, x := range xs {
		mean += x / float64(len(xs))
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return math.Sqrt(ss / float64(len(xs)-1))
}

// sweepCheck is one target of issue 12 on one trace and policy.
type sweepCheck struct {
	Target   string `json:"target"`
	Measured string `json:"measured"`
	Met      bool   `json:"met"`
}

// sweepTargets checks the rows against issue 12's "done means" lines.
func sweepTargets(rows []sweepRow) []sweepCheck {
	by := map[string]map[string]sweepRow{}
	var order []string
	for _, r := range rows {
		if by[r.Trace] == nil {
			by[r.Trace] = map[string]sweepRow{}
			order = append(order, r.Trace)
		}
		by[r.Trace][r.Policy] = r
	}
	var out []sweepCheck
	add := func(target string, met bool, measured string, args ...any) {
		out = append(out, sweepCheck{Target: target, Met: met, Measured: fmt.Sprintf(measured, args...)})
	}
	for _, name := range order {
		rs := by[name]
		hpa, reactive, predictive := rs[simulate.PolicyHPA], rs[simulate.PolicyReactive], rs[simulate.PolicyPredictive]
		for _, r := range []sweepRow{reactive, predictive} {
			who := name + " " + r.Policy
			switch r.Kind {
			case "daily", "tournament":
				add(who+": at most 1.20x oracle pod-hours", r.OracleRatio <= 1.20, "%.2fx", r.OracleRatio)
				add(who+": at most 1.05x the matched hpa's pod-hours", r.HPARatio <= 1.05, "%.2fx", r.HPARatio)
				add(who+": evicted at most 0.2% of sessions", r.EvictedShare <= 0.002, "%.2f%%", 100*r.EvictedShare)
			case "spikes":
				add(who+": overload at most half the matched hpa's", r.OverloadSeconds <= hpa.OverloadSeconds/2, "%.0f s against hpa's %.0f s", r.OverloadSeconds, hpa.OverloadSeconds)
				add(who+": at most 1.10x the matched hpa's pod-hours", r.HPARatio <= 1.10, "%.2fx", r.HPARatio)
			}
			add(who+": 0 lost", r.Lost == 0, "%.0f", r.Lost)
		}
		add(name+" predictive: overload no worse than reactive", predictive.OverloadSeconds <= reactive.OverloadSeconds, "%.0f s against %.0f s", predictive.OverloadSeconds, reactive.OverloadSeconds)
		add(name+" predictive: at most 5% more pod-hours than reactive", predictive.PodHours <= 1.05*reactive.PodHours, "%+.1f%%", 100*(predictive.PodHours/reactive.PodHours-1))
		add(name+" predictive: scale events at most 1.5x reactive's", predictive.ScaleEvents <= 1.5*reactive.ScaleEvents, "%.0f against %.0f", predictive.ScaleEvents, reactive.ScaleEvents)
	}
	return out
}
