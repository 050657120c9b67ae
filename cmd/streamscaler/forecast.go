package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/streamscaler/streamscaler/adapters/plot"
	"github.com/streamscaler/streamscaler/adapters/trace"
	"github.com/streamscaler/streamscaler/predictor"
)

type forecastFlags struct {
	trace, column, timeColumn, horizon, step, season, from, to, format, plotPath string
}

func newForecastCommand() *cobra.Command {
	var fl forecastFlags
	cmd := &cobra.Command{
		Use:   "forecast --trace FILE --column C --horizon 15m",
		Short: "Backtest the load forecasters on a traffic trace",
		Long: `forecast replays a CSV traffic trace, averaged onto a fixed step, through each forecasting
model and through the predictor's own choice among them, refitting now and then and
updating at every step as the controller would. It scores the forecast made one horizon
ahead against what happened: WAPE, MASE, and how often the forecast was too low.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runForecast(cmd.OutOrStdout(), fl)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.trace, "trace", "", "CSV trace with a header row (required)")
	f.StringVar(&fl.column, "column", "", "value column of the trace (required when it has several)")
	f.StringVar(&fl.timeColumn, "time-column", "", "time column (default: the first named time, timestamp, period, ...)")
	f.StringVar(&fl.horizon, "horizon", "", "how far ahead to forecast, e.g. 15m (required; rounded up to whole steps)")
	f.StringVar(&fl.step, "step", "", "average the trace onto this step, e.g. 5m (default: the trace's own step)")
	f.StringVar(&fl.season, "season", "auto", "season length (e.g. 1d, 1w, 12h), auto to detect a day or a week, or none")
	f.StringVar(&fl.from, "from", "", "start of the trace to use (RFC3339), default its start")
	f.StringVar(&fl.to, "to", "", "end of the trace to use (RFC3339, exclusive), default its end")
	f.StringVar(&fl.format, "format", "table", "output format: table or json")
	f.StringVar(&fl.plotPath, "plot", "", "also draw the actual load, the chosen forecast at the horizon and its upper band to this PNG file")
	_ = cmd.MarkFlagRequired("trace")
	_ = cmd.MarkFlagRequired("horizon")
	return cmd
}

// forecastReport is the JSON output; the table shows the same fields.
type forecastReport struct {
	Trace                string          `json:"trace"`
	Column               string          `json:"column"`
	From                 time.Time       `json:"from"`
	To                   time.Time       `json:"to"`
	Samples              int             `json:"samples"`
	Step                 string          `json:"step"`
	Horizon              string          `json:"horizon"`
	HorizonSteps         int             `json:"horizonSteps"`
	SeasonSteps          int             `json:"seasonSteps"`
	RefitEvery           int             `json:"refitEvery"`
	BacktestFrom         time.Time       `json:"backtestFrom"`
	ChosenModel          string          `json:"chosenModel"`
	UpperQuantile        float64         `json:"upperQuantile"`
	UpperCoveragePercent float64         `json:"upperCoveragePercent"`
	Scores               []forecastScore `json:"scores"`
}

type forecastScore struct {
	Model string `json:"model"`
	// Infinite ratios (a zero denominator) are written as null.
	WAPEPercent          *float64 `json:"wapePercent"`
	MASE                 *float64 `json:"mase"`
	UnderForecastPercent float64  `json:"underForecastPercent"`
	Points               int      `json:"points"`
}

func runForecast(out io.Writer, fl forecastFlags) error {
	if fl.format != "table" && fl.format != "json" {
		return fmt.Errorf("--format %q: want table or json", fl.format)
	}
	horizon, err := time.ParseDuration(fl.horizon)
	if err != nil || horizon <= 0 {
		return fmt.Errorf("--horizon %q: want a positive duration such as 15m", fl.horizon)
	}
	var step time.Duration
	if fl.step != "" {
		if step, err = time.ParseDuration(fl.step); err != nil || step <= 0 {
			return fmt.Errorf("--step %q: want a positive duration such as 5m", fl.step)
		}
	}
	from, err := parseTimeFlag("--from", fl.from)
	if err != nil {
		return err
	}
	to, err := parseTimeFlag("--to", fl.to)
	if err != nil {
		return err
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return fmt.Errorf("--to %s is not after --from %s", fl.to, fl.from)
	}

	series, err := trace.Load(fl.trace, trace.Options{Column: fl.column, TimeColumn: fl.timeColumn})
	if err != nil {
		return err
	}
	if !from.IsZero() || !to.IsZero() {
		series = series.Window(from, to)
	}
	if len(series.Points) < 2 {
		return fmt.Errorf("trace %s: fewer than 2 points between --from and --to", fl.trace)
	}
	own := series.Step()
	if step == 0 {
		step = own
	}
	if step < own {
		return fmt.Errorf("--step %s is finer than the trace's own step %s", step, own)
	}
	start, y := resample(series.Points, step)

	hSteps := int((horizon + step - 1) / step)
	cfg := predictor.Config{Step: step, Horizon: hSteps}
	if cfg.Season, err = parseSeason(fl.season, step); err != nil {
		return err
	}
	res, err := predictor.BacktestDetail(y, cfg, 0)
	if err != nil {
		return fmt.Errorf("trace %s: %w", fl.trace, err)
	}

	rep := forecastReport{
		Trace: fl.trace, Column: series.Column,
		From: start, To: start.Add(time.Duration(len(y)) * step), Samples: len(y),
		Step: step.String(), Horizon: horizon.String(), HorizonSteps: hSteps,
		SeasonSteps: res.Season, RefitEvery: res.RefitEvery,
		BacktestFrom:         start.Add(time.Duration(res.Start) * step),
		ChosenModel:          res.Models[len(res.Models)-1],
		UpperQuantile:        predictor.DefaultQuantile,
		UpperCoveragePercent: 100 * res.UpperCoverage,
	}
	for _, s := range res.Scores {
		rep.Scores = append(rep.Scores, forecastScore{
			Model: s.Model, WAPEPercent: finite(100 * s.WAPE), MASE: finite(s.MASE),
			UnderForecastPercent: 100 * s.UnderShare, Points: s.Points,
		})
	}
	if fl.plotPath != "" {
		if err := plot.WritePNG(fl.plotPath, forecastPanels(res, y, step, rep), 0, 0); err != nil {
			return fmt.Errorf("drawing %s: %w", fl.plotPath, err)
		}
	}
	if fl.format == "json" {
		return writeJSON(out, rep)
	}
	return writeForecastTable(out, rep)
}

func writeForecastTable(out io.Writer, rep forecastReport) error {
	season := "none"
	if rep.SeasonSteps > 0 {
		season = steps(rep.SeasonSteps)
	}
	fmt.Fprintf(out, "trace %s (%s), %s to %s, %d samples of %s\n", rep.Trace, rep.Column,
		rep.From.Format(time.RFC3339), rep.To.Format(time.RFC3339), rep.Samples, rep.Step)
	fmt.Fprintf(out, "horizon %s = %s, season %s; backtest from %s, refit every %s\n",
		rep.Horizon, steps(rep.HorizonSteps), season, rep.BacktestFrom.Format(time.RFC3339), steps(rep.RefitEvery))
	fmt.Fprintf(out, "auto ends on %s; its upper band (q%.2f) covered %.1f%% of actuals\n\n",
		rep.ChosenModel, rep.UpperQuantile, rep.UpperCoveragePercent)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "model\tWAPE %\tMASE\tunder-forecast %\tpoints\t")
	num := func(v *float64, prec int) string {
		if v == nil {
			return "inf"
		}
		return strconv.FormatFloat(*v, 'f', prec, 64)
	}
	for _, s := range rep.Scores {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%d\t\n", s.Model, num(s.WAPEPercent, 2), num(s.MASE, 3), s.UnderForecastPercent, s.Points)
	}
	return tw.Flush()
}

func steps(n int) string {
	if n == 1 {
		return "1 step"
	}
	return fmt.Sprintf("%d steps", n)
}

// forecastPanels draws the actuals against the auto row's forecasts at the horizon.
func forecastPanels(res *predictor.BacktestResult, y []float64, step time.Duration, rep forecastReport) []plot.Panel {
	x := make([]float64, len(res.Targets))
	actual := make([]float64, len(res.Targets))
	for i, t := range res.Targets {
		x[i] = float64(t) * step.Hours()
		actual[i] = y[t]
	}
	return []plot.Panel{{
		Title:  fmt.Sprintf("%s (%s): forecast %s ahead", rep.Trace, rep.Column, rep.Horizon),
		XLabel: "hours since " + rep.From.Format(time.RFC3339), YLabel: rep.Column,
		Lines: []plot.Line{
			{Name: "actual", X: x, Y: actual},
			{Name: "forecast (auto)", X: x, Y: res.Point, Dashed: true},
			{Name: fmt.Sprintf("upper band (q%.2f)", rep.UpperQuantile), X: x, Y: res.Upper, Dashed: true},
		},
	}}
}

// resample averages the points falling in each step-long bucket, the first bucket
// starting at the first point's time truncated to step (on the clock, for steps that
// divide a day). An empty bucket (a gap in the trace) repeats the one before it.
func resample(points []trace.Point, step time.Duration) (time.Time, []float64) {
	start := points[0].Time.Truncate(step)
	n := int(points[len(points)-1].Time.Sub(start)/step) + 1
	sum := make([]float64, n)
	count := make([]int, n)
	for _, p := range points {
		i := int(p.Time.Sub(start) / step)
		sum[i] += p.Value
		count[i]++
	}
	for i := range sum {
		switch {
		case count[i] > 0:
			sum[i] /= float64(count[i])
		case i > 0:
			sum[i] = sum[i-1]
		}
	}
	return start, sum
}

// parseSeason turns --season into samples of step: 0 to detect, -1 for none.
func parseSeason(s string, step time.Duration) (int, error) {
	switch s {
	case "auto":
		return 0, nil
	case "none":
		return -1, nil
	}
	d, err := parseDays(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--season %q: want auto, none or a duration such as 1d, 1w or 12h", s)
	}
	if d%step != 0 || d/step < 2 {
		return 0, fmt.Errorf("--season %s: must be a whole number of at least 2 steps of %s", s, step)
	}
	return int(d / step), nil
}

// parseDays is time.ParseDuration that also takes a whole number of days (d) or weeks (w).
func parseDays(s string) (time.Duration, error) {
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if num, ok := strings.CutSuffix(s, suffix); ok {
			k, err := strconv.Atoi(num)
			if err != nil {
				return 0, err
			}
			return time.Duration(k) * unit, nil
		}
	}
	return time.ParseDuration(s)
}

func parseTimeFlag(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q: want RFC3339 such as 2016-01-01T00:00:00Z: %w", name, v, err)
	}
	return t, nil
}

// finite is v, or nil (null in JSON, inf in the table) when it is not finite.
func finite(v float64) *float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return nil
	}
	return &v
}
