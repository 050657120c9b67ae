package main

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/streamscaler/streamscaler/adapters/plot"
	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/autoscaler/simulate"
)

// maxDrainTimeouts bounds --drain-timeouts: each value is one more replay of the window.
const maxDrainTimeouts = 12

// drainRow is one policy's outcome under one drain timeout.
type drainRow struct {
	DrainTimeout    string        `json:"drainTimeout"`
	Policy          string        `json:"policy"`
	PodHours        float64       `json:"podHours"`
	DrainingHours   float64       `json:"drainingPodHours"` // the part paid for draining pods
	HPAPodHours     float64       `json:"hpaPodHours"`
	HPARatio        float64       `json:"hpaRatio"`        // pod-hours over the matched hpa's
	EvictedStreams  int64         `json:"evictedStreams"`  // kicked at the drain timeout
	EvictedShare    float64       `json:"evictedShare"`    // evicted over sessions offered
	OverloadSeconds float64       `json:"overloadSeconds"` // offered demand above capacity
	LostStreams     int64         `json:"lostStreams"`
	timeout         time.Duration // DrainTimeout, for the plot
}

// checkDrainTimeouts refuses what the CRD would refuse (outside 0s to 24h), repeats and
// more than maxDrainTimeouts values.
func checkDrainTimeouts(ds []time.Duration) error {
	if len(ds) > maxDrainTimeouts {
		return fmt.Errorf("--drain-timeouts: %d values, at most %d (each is one more replay)", len(ds), maxDrainTimeouts)
	}
	for i, d := range ds {
		if d < 0 || d > 24*time.Hour {
			return fmt.Errorf("--drain-timeouts: %s must be between 0s and 24h, as tombstone.drainTimeout", d)
		}
		if slices.Contains(ds[:i], d) {
			return fmt.Errorf("--drain-timeouts: %s is given twice", d)
		}
	}
	return nil
}

// runDrainTrade replays the window once per drain timeout, on the same arrivals and
// sessions, with only the policy's tombstone.drainTimeout changed, and reports what each
// costs in pod-hours against the matched hpa (which deletes its pods with their players,
// so it pays no drain) and what it evicts. The plot, when asked, draws both against the
// drain timeout with the sweep's targets (at most 0.2% evicted, 1.05x hpa).
func runDrainTrade(out io.Writer, fl simulateFlags, rp *replay) error {
	// The replays are independent and pure: up to GOMAXPROCS of them at once.
	timeouts := slices.Sorted(slices.Values(fl.drainTimeouts))
	reps, errs := make([]*simulate.Report, len(timeouts)), make([]error, len(timeouts))
	slots := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, d := range timeouts {
		spec := rp.file.Policy.Spec.DeepCopy()
		if spec.Tombstone == nil {
			spec.Tombstone = &v1alpha1.TombstoneSpec{}
		}
		spec.Tombstone.DrainTimeout = &metav1.Duration{Duration: d}
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			reps[i], errs[i] = simulate.Run(rp.demand, spec, rp.profile)
		})
	}
	wg.Wait()
	var rows []drainRow
	var streams int
	for i, d := range timeouts {
		if errs[i] != nil {
			return fmt.Errorf("drain timeout %s: %w", d, errs[i])
		}
		rep := reps[i]
		streams = rep.Streams
		hpa := resultOf(rep, simulate.PolicyHPA)
		for _, r := range rep.Results {
			if r.Policy != simulate.PolicyReactive && r.Policy != simulate.PolicyPredictive {
				continue
			}
			row := drainRow{DrainTimeout: shortDuration(d), timeout: d, Policy: r.Policy, PodHours: r.PodHours, DrainingHours: r.DrainingPodHours, HPAPodHours: hpa.PodHours,
				EvictedStreams: r.EvictedStreams, OverloadSeconds: r.OverloadSeconds, LostStreams: r.LostStreams}
			if hpa.PodHours > 0 {
				row.HPARatio = r.PodHours / hpa.PodHours
			}
			if rep.Streams > 0 {
				row.EvictedShare = float64(r.EvictedStreams) / float64(rep.Streams)
			}
			rows = append(rows, row)
		}
	}
	if fl.plotPath != "" {
		if err := plot.WritePNG(fl.plotPath, drainPanels(rows), 0, 0); err != nil {
			return fmt.Errorf("drawing %s: %w", fl.plotPath, err)
		}
	}
	if fl.format == "json" {
		return writeJSON(out, struct {
			Trace   string     `json:"trace"`
			Column  string     `json:"column"`
			Policy  string     `json:"policy"`
			Streams int        `json:"streams"`
			Rows    []drainRow `json:"drainTimeouts"`
		}{fl.trace, rp.column, fl.policy, streams, rows})
	}
	fmt.Fprintf(out, "trace %s (%s), %d streams offered; only tombstone.drainTimeout changes between runs\n\n", fl.trace, rp.column, streams)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "drain timeout\tpolicy\tpod-hours\tdraining\thpa pod-hours\tvs hpa\tevicted\tevicted share\toverload-s\tlost\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t%.1f\t%.1f\t%.3fx\t%d\t%.2f%%\t%.0f\t%d\t\n", r.DrainTimeout, r.Policy, r.PodHours, r.DrainingHours, r.HPAPodHours, r.HPARatio,
			r.EvictedStreams, 100*r.EvictedShare, r.OverloadSeconds, r.LostStreams)
	}
	return tw.Flush()
}

// shortDuration writes 1h30m0s as 1h30m and 15m0s as 15m, as a policy would.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// drainPanels draws the evicted share and the pod-hours against hpa's over the drain
// timeout (minutes), one line per policy, with the targets dashed.
func drainPanels(rows []drainRow) []plot.Panel {
	evicted := plot.Panel{Title: "sessions evicted at the drain timeout", XLabel: "drain timeout (minutes)", YLabel: "% of sessions offered", LegendRight: true}
	cost := plot.Panel{Title: "pod-hours against the matched hpa's", XLabel: "drain timeout (minutes)", YLabel: "x hpa"}
	for _, policy := range []string{simulate.PolicyReactive, simulate.PolicyPredictive} {
		var x, ev, hp []float64
		for _, r := range rows {
			if r.Policy == policy {
				x, ev, hp = append(x, r.timeout.Minutes()), append(ev, 100*r.EvictedShare), append(hp, r.HPARatio)
			}
		}
		evicted.Lines = append(evicted.Lines, plot.Line{Name: policy, X: x, Y: ev})
		cost.Lines = append(cost.Lines, plot.Line{Name: policy, X: x, Y: hp})
	}
	// rows run from the shortest timeout to the longest.
	span := []float64{rows[0].timeout.Minutes(), rows[len(rows)-1].timeout.Minutes()}
	evicted.Lines = append(evicted.Lines, plot.Line{Name: "target 0.2%", X: span, Y: []float64{0.2, 0.2}, Dashed: true})
	cost.Lines = append(cost.Lines, plot.Line{Name: "target 1.05x", X: span, Y: []float64{1.05, 1.05}, Dashed: true})
	return []plot.Panel{evicted, cost}
}
