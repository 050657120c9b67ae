package demo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamscaler/streamscaler/autoscaler/simulate"
	"github.com/streamscaler/streamscaler/internal/demo/players"
)

var t0 = time.Date(1998, 6, 26, 15, 0, 0, 0, time.UTC)

func TestAuditCountsOnlyDeletableEmptyPodsAsClean(t *testing.T) {
	s := newScore(nil, 10, t0, 5*time.Second, 100)
	up := map[string]int{"drained": 0, "kicked": 2, "full": 40}
	kicks := []players.Kick{{Pod: "kicked", ID: "a"}, {Pod: "kicked", ID: "b"}}
	s.audit(t0, []removal{{"drained", "deletable"}, {"kicked", "deletable"}, {"full", "deletable"}, {"early", "tombstone"}}, up, kicks)
	if s.removed != 4 || len(s.violations) != 2 {
		t.Fatalf("removed %d, violations %q: want 4 removed and 2 violations (full, early)", s.removed, s.violations)
	}
	if !strings.Contains(s.violations[0], "pod full removed in state \"deletable\" with 40 players") || !strings.Contains(s.violations[1], "pod early removed in state \"tombstone\"") {
		t.Errorf("violations %q", s.violations)
	}
}

func TestScoreCountsOfferedSessionsPodTimeAndOverload(t *testing.T) {
	sessions := []simulate.Session{{Start: 0, End: 4}, {Start: 2, End: 20}, {Start: 30, End: 40}}
	s := newScore(sessions, 10, t0, 5*time.Second, 1)
	if got := []int{s.offeredAt(t0), s.offeredAt(t0.Add(10 * time.Second)), s.offeredAt(t0.Add(20 * time.Second)), s.offeredAt(t0.Add(time.Hour))}; got[0] != 1 || got[1] != 2 || got[2] != 1 || got[3] != 0 {
		t.Fatalf("offered %v, want 1 2 1 0", got)
	}
	live := []livePod{{name: "a", state: "allocated", ready: true}, {name: "b", state: "tombstone", ready: true}}
	// Two sessions on offer; capacity is a's 1 plus b's 1 player still on it.
	s.account(t0.Add(10*time.Second), 10*time.Second, live, map[string]int{"a": 1, "b": 1}, 2, 0)
	s.account(t0.Add(20*time.Second), 10*time.Second, live[:1], map[string]int{"a": 1}, 1, 0)
	r := s.result(players.Counts{Lost: 3})
	if r.PodHours != 30.0/3600 || r.OverloadSeconds != 0 || r.ScaleEvents != 1 || r.LostStreams != 3 || r.PeakPods != 2 {
		t.Errorf("result %+v", r)
	}
	s.account(t0.Add(10*time.Second), 5*time.Second, live[1:], map[string]int{"b": 0}, 1, 0)
	if s.overloadSeconds != 5 {
		t.Errorf("overload %v: two on offer and no room on a tombstoned pod is overload", s.overloadSeconds)
	}
	// A tick that refused a player was overloaded even with room at the end of it; the
	// next tick, refusing none, is not.
	s.account(t0.Add(20*time.Second), 5*time.Second, live, map[string]int{"a": 0, "b": 0}, 2, 1)
	s.account(t0.Add(25*time.Second), 5*time.Second, live, map[string]int{"a": 0, "b": 0}, 2, 1)
	if s.overloadSeconds != 10 {
		t.Errorf("overload %v, want 10: the tick with a refusal counts, the one after does not", s.overloadSeconds)
	}
}

func TestChaosKnowsItsFaultsAndSpreadsThem(t *testing.T) {
	d := simulate.Demand{Start: t0, Step: 5 * time.Second, Streams: make([]float64, 720)} // an hour
	c, err := newChaos([]string{"pod-kill", "rollout"}, d)
	if err != nil {
		t.Fatal(err)
	}
	if c.at["pod-kill"] != t0.Add(20*time.Minute) || c.at["rollout"] != t0.Add(40*time.Minute) || !c.wants("rollout") || c.wants("controller-kill") {
		t.Errorf("faults at %v", c.at)
	}
	if _, err := newChaos([]string{"pod-kil"}, d); err == nil || !strings.Contains(err.Error(), `"pod-kil"`) {
		t.Errorf("a misspelt fault: %v", err)
	}
}

func TestPrometheusTimingFollowsTheSpeed(t *testing.T) {
	if got := scrapeInterval(60); got != 250*time.Millisecond {
		t.Errorf("scrape interval at 60: %s", got)
	}
	if got := scrapeInterval(1); got != 15*time.Second {
		t.Errorf("scrape interval at 1: %s", got)
	}
	if got := rateWindow(60); got != time.Second {
		t.Errorf("rate window at 60: %s", got)
	}
	if got := rateWindow(1); got != time.Minute {
		t.Errorf("rate window at 1: %s", got)
	}
}

func TestControllerRequestsCountsTheControllersCompletedRequestsByVerb(t *testing.T) {
	log := filepath.Join(t.TempDir(), "audit.log")
	lines := []string{
		`{"stage":"ResponseComplete","verb":"list","userAgent":"streamscaler/v0.0.0 (linux/amd64) kubernetes/$Format"}`,
		`{"stage":"ResponseComplete","verb":"patch","userAgent":"streamscaler/v0.0.0 (linux/amd64) kubernetes/$Format"}`,
		`{"stage":"ResponseComplete","verb":"patch","userAgent":"streamscaler/v0.0.0 (linux/amd64) kubernetes/$Format"}`,
		`{"stage":"ResponseStarted","verb":"watch","userAgent":"streamscaler/v0.0.0"}`,
		`{"stage":"ResponseComplete","verb":"list","userAgent":"streamscaler-demo"}`,
		`{"stage":"ResponseComplete","verb":"update","userAgent":"kruise-manager/v1.8.0"}`,
		`not json`,
	}
	if err := os.WriteFile(log, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	byVerb, n, err := controllerRequests(log)
	if err != nil || n != 3 || byVerb["list"] != 1 || byVerb["patch"] != 2 || len(byVerb) != 2 {
		t.Fatalf("got %v, %d, %v: want list 1 and patch 2", byVerb, n, err)
	}
}
