package main

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	tradeTrace  = "../../testdata/traces/wc98_requests_per_minute.csv"
	tradePolicy = "../../testdata/policies/srs-edge.yaml"
)

// tradeWindow is one World Cup 98 day with matches: a day's drains in a second's replay.
var tradeWindow = []string{"--trace", tradeTrace, "--column", "count", "--from", "1998-06-26T00:00:00Z", "--to", "1998-06-27T00:00:00Z"}

// TestSimulateDrainTimeoutsAreTheirOwnRuns checks each row of --drain-timeouts against a
// plain replay of the bundled policy with that drainTimeout written into its file: the
// same pod-hours, hpa pod-hours and evictions. A trade that did not reach the runs would
// report the bundled 30 minutes at every timeout, and the longer drain would not evict
// fewer sessions.
func TestSimulateDrainTimeoutsAreTheirOwnRuns(t *testing.T) {
	plotPath := filepath.Join(t.TempDir(), "trade.png")
	out, err := run(t, append(tradeWindow, "--policy", tradePolicy, "--drain-timeouts", "1h,10m", "--format", "json", "--plot", plotPath)...)
	if err != nil {
		t.Fatal(err)
	}
	var trade struct {
		Streams int
		Rows    []drainRow `json:"drainTimeouts"`
	}
	if err := json.Unmarshal([]byte(out), &trade); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(trade.Rows) != 4 || trade.Rows[0].DrainTimeout != "10m" || trade.Rows[2].DrainTimeout != "1h" {
		t.Fatalf("want reactive and predictive at 10m, then at 1h; got %+v", trade.Rows)
	}
	bundled, err := os.ReadFile(tradePolicy)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for i, d := range []string{"10m", "1h"} {
		body := strings.Replace(string(bundled), "drainTimeout: 30m", "drainTimeout: "+d, 1)
		if body == string(bundled) {
			t.Fatalf("%s has no drainTimeout: 30m to replace", tradePolicy)
		}
		plain, err := run(t, append(tradeWindow, "--policy", writeFile(t, dir, d+".yaml", body), "--format", "json")...)
		if err != nil {
			t.Fatal(err)
		}
		var rep struct {
			Streams int
			Results []struct {
				Policy           string
				PodHours         float64
				DrainingPodHours float64
				EvictedStreams   int64
			}
		}
		if err := json.Unmarshal([]byte(plain), &rep); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, plain)
		}
		if rep.Streams != trade.Streams {
			t.Errorf("%s: %d streams offered, the trade says %d", d, rep.Streams, trade.Streams)
		}
		byPolicy := map[string]int{}
		for j, r := range rep.Results {
			byPolicy[r.Policy] = j
		}
		hpa := rep.Results[byPolicy["hpa"]].PodHours
		for _, row := range trade.Rows[2*i : 2*i+2] {
			want := rep.Results[byPolicy[row.Policy]]
			if row.PodHours != want.PodHours || row.DrainingHours != want.DrainingPodHours || row.EvictedStreams != want.EvictedStreams || row.HPAPodHours != hpa {
				t.Errorf("%s %s: trade row %+v; the plain replay gives %.1f pod-hours (%.1f draining), %d evicted, hpa %.1f",
					d, row.Policy, row, want.PodHours, want.DrainingPodHours, want.EvictedStreams, hpa)
			}
		}
	}
	for p := 0; p < 2; p++ {
		if short, long := trade.Rows[p], trade.Rows[2+p]; !(long.EvictedStreams < short.EvictedStreams) || !(long.PodHours > short.PodHours) || !(long.DrainingHours > short.DrainingHours) {
			t.Errorf("%s: a 1h drain evicted %d and cost %.1f pod-hours (%.1f draining), a 10m one %d and %.1f (%.1f): want fewer evictions for more pod-hours, more of them draining",
				short.Policy, long.EvictedStreams, long.PodHours, long.DrainingHours, short.EvictedStreams, short.PodHours, short.DrainingHours)
		}
	}
	f, err := os.Open(plotPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("%s is not a PNG: %v", plotPath, err)
	}
}

func TestSimulateDrainTimeoutsTable(t *testing.T) {
	out, err := run(t, append(tradeWindow, "--policy", tradePolicy, "--drain-timeouts", "90m")...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"drain timeout", "vs hpa", "evicted share", "1h30m", "reactive", "predictive"} {
		if !strings.Contains(out, want) {
			t.Errorf("table has no %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "static-peak") || strings.Contains(out, "oracle") {
		t.Errorf("the trade has rows only for reactive and predictive:\n%s", out)
	}
}

func TestSimulateDrainTimeoutsRejectsBadInput(t *testing.T) {
	cases := []struct{ value, msg string }{
		{"-5m", "-5m0s must be between 0s and 24h"},
		{"25h", "25h0m0s must be between 0s and 24h"},
		{"30m,15m,30m", "30m0s is given twice"},
		{"1m,2m,3m,4m,5m,6m,7m,8m,9m,10m,11m,12m,13m", "13 values, at most 12"},
		{"half an hour", `invalid argument "half an hour" for "--drain-timeouts"`},
	}
	for _, c := range cases {
		t.Run(c.value, func(t *testing.T) {
			_, err := run(t, append(tradeWindow, "--policy", tradePolicy, "--drain-timeouts", c.value)...)
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %v, want one naming %q", err, c.msg)
			}
		})
	}
}
