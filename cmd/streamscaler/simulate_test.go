package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return execute(t, newSimulateCommand(), args...)
}

// writeFile writes body to dir/name for a test and returns the path.
func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// execute runs one subcommand with args and returns what it printed.
func execute(t *testing.T, cmd *cobra.Command, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

// TestSimulateWorldCupJSON is the README's main command on the bundled World Cup 98
// trace, a week of the tournament: every policy is reported, reactive cuts nothing and
// hpa's cut streams are counted.
func TestSimulateWorldCupJSON(t *testing.T) {
	plotPath := filepath.Join(t.TempDir(), "sim.png")
	out, err := run(t, "--trace", "../../testdata/traces/wc98_requests_per_minute.csv", "--column", "count",
		"--policy", "../../testdata/policies/srs-edge.yaml", "--from", "1998-06-24T00:00:00Z", "--to", "1998-07-01T00:00:00Z",
		"--format", "json", "--plot", plotPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Trace, Column string
		Streams       int
		Results       []map[string]any
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	fields := []string{"policy", "podHours", "oracleRatio", "overloadSeconds", "rejectedStreams", "evictedStreams", "lostStreams", "scaleEvents", "peakPods", "meanUtilization", "tombstonedPods", "revivedPods"}
	got := map[string]map[string]any{}
	for _, r := range rep.Results {
		for _, f := range fields {
			if _, ok := r[f]; !ok {
				t.Errorf("%v has no %q", r["policy"], f)
			}
		}
		got[r["policy"].(string)] = r
	}
	for _, p := range []string{"reactive", "predictive", "hpa", "static-peak", "oracle"} {
		if got[p] == nil {
			t.Fatalf("no %s in %s", p, out)
		}
	}
	if got["reactive"]["lostStreams"].(float64) != 0 {
		t.Errorf("reactive lost %v streams", got["reactive"]["lostStreams"])
	}
	if got["hpa"]["lostStreams"].(float64) <= 0 {
		t.Errorf("hpa scales in with streams on its pods; lost = %v", got["hpa"]["lostStreams"])
	}
	if rep.Column != "count" || rep.Streams == 0 {
		t.Errorf("column %q, %d streams", rep.Column, rep.Streams)
	}
	f, err := os.Open(plotPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Fatalf("the plot is not a PNG: %v", err)
	}
}

func TestSimulateTable(t *testing.T) {
	out, err := run(t, "--trace", "../../testdata/traces/wiki_en_hourly_2016-01.csv", "--column", "en_requests",
		"--policy", "../../testdata/policies/srs-edge.yaml", "--to", "2016-01-04T00:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"policy", "pod-hours", "vs oracle", "lost", "reactive", "predictive", "hpa", "static-peak", "oracle", "dispatch spread"} {
		if !strings.Contains(out, want) {
			t.Errorf("table has no %q:\n%s", want, out)
		}
	}
	packed, err := run(t, "--trace", "../../testdata/traces/wiki_en_hourly_2016-01.csv", "--column", "en_requests",
		"--policy", "../../testdata/policies/srs-edge.yaml", "--to", "2016-01-04T00:00:00Z", "--dispatch", "packed")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(packed, "dispatch packed") || packed == out {
		t.Errorf("with --dispatch packed the table should say so and differ from spread's:\n%s", packed)
	}
}

func TestSimulateRejectsBadInput(t *testing.T) {
	pol := "../../testdata/policies/srs-edge.yaml"
	tr := "../../testdata/traces/wiki_en_hourly_2016-01.csv"
	dir := t.TempDir()
	write := func(name, body string) string { return writeFile(t, dir, name, body) }
	badPolicy := write("bad.yaml", "apiVersion: streamscaler.io/v1alpha1\nkind: ScalingPolicy\nspec:\n  targetRef: {name: x}\n  maxReplicas: 0\n  metrics: []\n")
	typo := write("typo.yaml", "apiVersion: streamscaler.io/v1alpha1\nkind: ScalingPolicy\nspec:\n  targetRef: {name: x}\n  maxReplica: 3\n")
	minAboveMax := write("minmax.yaml", "apiVersion: streamscaler.io/v1alpha1\nkind: ScalingPolicy\nspec:\n  targetRef: {name: x}\n  minReplicas: 5\n  maxReplicas: 2\n  metrics: [{type: pullStreams, target: {averageValue: '10'}}]\n")
	badProfile := write("prof.yaml", "apiVersion: streamscaler.io/v1alpha1\nkind: ScalingPolicy\nspec:\n  targetRef: {name: x}\n  maxReplicas: 3\n  metrics: [{type: pullStreams, target: {averageValue: '10'}}]\n---\nkind: SimulationProfile\nspec:\n  podCapacityStreams: -4\n")
	fromConfigMap := write("cm.yaml", "apiVersion: streamscaler.io/v1alpha1\nkind: ScalingPolicy\nspec:\n  targetRef: {name: x}\n  maxReplicas: 3\n  metrics: [{type: pullStreams, target: {averageValue: '10'}}]\n  prediction: {enabled: true, eventsConfigMap: {name: fixtures}}\n")
	cases := []struct {
		name string
		args []string
		msg  string
	}{
		{"events in a ConfigMap a replay cannot read", []string{"--trace", tr, "--column", "en_requests", "--policy", fromConfigMap}, "eventsConfigMap names ConfigMap fixtures, which a replay cannot read: pass the content of its key events.csv with --events"},
		{"unknown format", []string{"--trace", tr, "--column", "en_requests", "--policy", pol, "--format", "xml"}, `--format "xml"`},
		{"missing trace", []string{"--trace", filepath.Join(dir, "nope.csv"), "--column", "x", "--policy", pol}, "nope.csv"},
		{"unknown column", []string{"--trace", tr, "--column", "viewers", "--policy", pol}, "viewers"},
		{"bad --from", []string{"--trace", tr, "--column", "en_requests", "--policy", pol, "--from", "yesterday"}, "--from"},
		{"empty window", []string{"--trace", tr, "--column", "en_requests", "--policy", pol, "--from", "2030-01-01T00:00:00Z"}, "fewer than 2 points"},
		{"negative peak", []string{"--trace", tr, "--column", "en_requests", "--policy", pol, "--peak-streams", "-5"}, "--peak-streams"},
		{"unknown dispatch", []string{"--trace", tr, "--column", "en_requests", "--policy", pol, "--dispatch", "random"}, `--dispatch "random": want spread or packed`},
		{"invalid policy", []string{"--trace", tr, "--column", "en_requests", "--policy", badPolicy}, "maxReplicas"},
		{"a policy the CRD refuses", []string{"--trace", tr, "--column", "en_requests", "--policy", minAboveMax}, "spec.minReplicas: must not exceed maxReplicas (2)"},
		{"misspelt policy field", []string{"--trace", tr, "--column", "en_requests", "--policy", typo}, "maxReplica"},
		{"invalid profile", []string{"--trace", tr, "--column", "en_requests", "--policy", badProfile}, "podCapacityStreams"},
		{"no trace flag", []string{"--policy", pol}, "trace"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := run(t, c.args...)
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %v, want one naming %q", err, c.msg)
			}
		})
	}
}
