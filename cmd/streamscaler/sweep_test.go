package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestSweepOneWindow sweeps one day of the World Cup trace with two seeds: every policy
// but static-peak has a row, hpa's own ratio to itself is 1, and the targets are checked.
func TestSweepOneWindow(t *testing.T) {
	dir := t.TempDir()
	manifest := writeFile(t, dir, "sweep.yaml", `traces:
  - name: wc98-day
    kind: tournament
    file: `+abs(t, "../../testdata/traces/wc98_requests_per_minute.csv")+`
    column: count
    from: "1998-06-30T00:00:00Z"
    to: "1998-07-01T00:00:00Z"
`)
	out, err := execute(t, newSweepCommand(), "--manifest", manifest, "--policy", "../../testdata/policies/srs-edge.yaml", "--seeds", "1,2", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(out, "{") // progress lines come first on the same writer
	var rep struct {
		Seeds    []uint64
		Dispatch string
		Rows     []sweepRow
		Targets  []sweepCheck
	}
	if err := json.Unmarshal([]byte(out[start:]), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if rep.Dispatch != "spread" {
		t.Errorf("dispatch %q, want the profile's default spread", rep.Dispatch)
	}
	var policies []string
	for _, r := range rep.Rows {
		policies = append(policies, r.Policy)
		if r.Policy == "hpa" && (r.HPARatio != 1 || r.DrainingHours != 0) {
			t.Errorf("hpa against itself: %gx, draining %g pod-hours (it drains nothing)", r.HPARatio, r.DrainingHours)
		}
		if r.Policy == "reactive" && !(r.DrainingHours > 0 && r.DrainingHours < r.PodHours) {
			t.Errorf("reactive: %g of %g pod-hours draining; a day of the World Cup drains some", r.DrainingHours, r.PodHours)
		}
		if r.Policy == "oracle-at-target" && r.TargetRatio != 1 {
			t.Errorf("oracle at target against itself: %gx", r.TargetRatio)
		}
		if r.PodHours <= 0 || r.OracleRatio < 1 {
			t.Errorf("row %+v: want pod-hours and at least the oracle's", r)
		}
	}
	if got := strings.Join(policies, ","); got != "reactive,predictive,hpa,oracle-at-target,oracle" {
		t.Errorf("rows for %s", got)
	}
	if len(rep.Seeds) != 2 || len(rep.Targets) != 2*4+3 {
		t.Errorf("seeds %v, %d targets checked: want 2 seeds and 11 targets for one tournament window", rep.Seeds, len(rep.Targets))
	}
	out, err = execute(t, newSweepCommand(), "--manifest", manifest, "--policy", "../../testdata/policies/srs-edge.yaml", "--seeds", "1", "--dispatch", "packed")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "dispatch packed; means over the seeds") {
		t.Errorf("the table does not say it was dispatched packed:\n%s", out)
	}
	if _, err := execute(t, newSweepCommand(), "--manifest", manifest, "--dispatch", "random"); err == nil || !strings.Contains(err.Error(), `--dispatch "random"`) {
		t.Errorf("an unknown dispatch: error %v, want one naming it", err)
	}
}

func TestSweepRejectsBadManifests(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ name, body, want string }{
		{"unknown kind", "traces:\n  - {name: a, kind: weekly, file: x.csv, column: v}\n", `kind "weekly"`},
		{"repeated name", "traces:\n  - {name: a, kind: daily, file: x.csv}\n  - {name: a, kind: daily, file: y.csv}\n", `name "a" is empty or repeated`},
		{"unknown field", "traces:\n  - {name: a, kind: daily, file: x.csv, colunm: v}\n", "colunm"},
		{"no traces", "traces: []\n", "no traces"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := writeFile(t, dir, "m.yaml", c.body)
			_, err := execute(t, newSweepCommand(), "--manifest", m)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want it to name %q", err, c.want)
			}
		})
	}
	writeFile(t, dir, "events.csv", "start,duration,name\n1998-06-30T19:00:00Z,30s,Argentina v England\n")
	m := writeFile(t, dir, "events.yaml", "traces:\n  - {name: a, kind: daily, file: x.csv, events: events.csv}\n")
	if _, err := execute(t, newSweepCommand(), "--manifest", m, "--policy", "../../testdata/policies/srs-edge.yaml"); err == nil || !strings.Contains(err.Error(), `events.csv line 2: duration "30s"`) {
		t.Fatalf("a bad events file: err %v, want it named with the line", err)
	}
	if _, err := execute(t, newSweepCommand(), "--seeds", "1,0"); err == nil || !strings.Contains(err.Error(), "--seeds") {
		t.Fatalf("seed 0: err %v", err)
	}
}

func abs(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(rel)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
