package demo

import (
	"strings"
	"testing"
	"time"

	"github.com/streamscaler/streamscaler/adapters/policyfile"
)

func TestCompressDividesEveryPeriodAndSaysWhereAFloorHolds(t *testing.T) {
	f, err := policyfile.Load("../../testdata/policies/srs-edge.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec := &f.Policy.Spec
	out, notes, err := Compress(spec, 30)
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Period(); got != time.Second {
		t.Errorf("syncPeriod 15s at speed 30: got %s, want the 1s floor", got)
	}
	if len(notes) == 0 || !strings.Contains(notes[0], "syncPeriod 15s") {
		t.Errorf("the 1s floor is not reported: %q", notes)
	}
	if got, want := out.DrainTimeout(), spec.DrainTimeout()/30; got != want {
		t.Errorf("drainTimeout: got %s, want %s", got, want)
	}
	down, orig := out.Rules("down"), spec.Rules("down")
	if down.Window != orig.Window/30 || down.Tolerance != orig.Tolerance || down.Select != orig.Select {
		t.Errorf("scale-down rules %+v, want the window of %+v divided by 30, same tolerance and select", down, orig)
	}
	for i, p := range down.Policies {
		if want := max(1, orig.Policies[i].PeriodSeconds/30); p.PeriodSeconds != want || p.Value != orig.Policies[i].Value {
			t.Errorf("scale-down policy %d: %+v, want period %d and value %d", i, p, want, orig.Policies[i].Value)
		}
	}
	if out.Predicting() {
		t.Error("prediction stays on")
	}
	if spec.Period() != 15*time.Second {
		t.Error("Compress changed its input")
	}
	for _, bad := range []float64{0, 0.5, 61} {
		if _, _, err := Compress(spec, bad); err == nil {
			t.Errorf("speed %v accepted", bad)
		}
	}
}
