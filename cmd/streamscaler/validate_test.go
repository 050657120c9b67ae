package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string { return writeFile(t, dir, name, body) }
	bad := write("bad.yaml", "apiVersion: streamscaler.io/v1alpha1\nkind: ScalingPolicy\nmetadata: {name: bad, namespace: x}\nspec:\n  targetRef: {name: e}\n  minReplicas: 9\n  maxReplicas: 3\n  metrics: [{type: pullStreams, target: {averageValue: \"-1\"}}]\n")
	typo := write("typo.yaml", "apiVersion: streamscaler.io/v1alpha1\nkind: ScalingPolicy\nmetadata: {name: t}\nspec:\n  targetRef: {name: e}\n  maxReplica: 3\n")
	none := write("none.yaml", "kind: SimulationProfile\n")
	badSeparator := write("separator.yaml", "kind: SimulationProfile\n--- kind: ScalingPolicy\n")
	cases := []struct {
		name     string
		files    []string
		defaults bool
		ok       bool
		want     []string
	}{
		{"the bundled policies are valid", []string{"../../deploy/samples/srs-edge-policy.yaml", "../../testdata/policies/srs-edge.yaml"}, false, true, []string{"(live/srs-edge): valid"}},
		{"defaults are shown", []string{"../../deploy/samples/srs-edge-policy.yaml"}, true, true, []string{"kind: CloneSet", "apiVersion: apps.kruise.io/v1alpha1", "drainTimeout: 30m", "failureThreshold: 4", "selectPolicy: Max"}},
		{"every error has its field path", []string{bad}, false, false, []string{"(x/bad): invalid", "spec.minReplicas", "spec.metrics[0].target.averageValue: must be greater than zero"}},
		{"a misspelt field is named", []string{typo}, false, false, []string{"spec.maxReplica: unknown field (did you mean maxReplicas?)"}},
		{"a broken separator is named", []string{badSeparator}, false, false, []string{"separator.yaml document 1: invalid Yaml document separator"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			err := runValidate(context.Background(), &out, c.files, nil, c.defaults)
			if (err == nil) != c.ok {
				t.Fatalf("error %v, output:\n%s", err, out.String())
			}
			for _, w := range c.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
	if err := runValidate(context.Background(), &bytes.Buffer{}, []string{none}, nil, false); err == nil || !strings.Contains(err.Error(), "no ScalingPolicy") {
		t.Fatalf("a file without a policy: %v", err)
	}
	if err := runValidate(context.Background(), &bytes.Buffer{}, []string{filepath.Join(dir, "missing.yaml")}, nil, false); err == nil {
		t.Fatal("a missing file must be an error")
	}
}

// TestValidateSaysEachProblemOnce checks the whole output for bad policies: every problem
// once, by field path, in words; nothing from CEL's runtime, nothing said twice by the
// schema and the rules.
func TestValidateSaysEachProblemOnce(t *testing.T) {
	dir := t.TempDir()
	const head = "apiVersion: streamscaler.io/v1alpha1\nkind: ScalingPolicy\nmetadata: {name: edge, namespace: live}\nspec:\n  targetRef: {name: srs-edge}\n"
	const metrics = "  metrics:\n    - type: pullStreams\n      target: {averageValue: \"80\"}\n"
	cases := []struct {
		name, spec, want string
	}{
		{"a duplicate metric", "  maxReplicas: 50\n" + metrics + "    - type: pullStreams\n      target: {averageValue: \"90\"}\n", `
  - spec.metrics: pullStreams appears more than once; each metric may appear only once (custom metrics once per name)`},
		{"min above max", "  minReplicas: 80\n  maxReplicas: 50\n" + metrics, `
  - spec.minReplicas: must not exceed maxReplicas (50)`},
		{"a duration in words", "  maxReplicas: 50\n" + metrics + "  tombstone: {drainTimeout: 10 minutes}\n", `
  - spec.tombstone.drainTimeout: must be a duration between 0s and 24h, such as 30m or 1h30m (got "10 minutes")`},
		{"an unknown field", "  maxReplica: 50\n" + metrics, `
  - spec.maxReplica: unknown field (did you mean maxReplicas?)
  - spec.maxReplicas: is required
  - the CEL rules were not run because of the errors above; fix them and check again`},
		{"a fixed fallback with no threshold", "  maxReplicas: 50\n" + metrics + "  fallback: {failureThreshold: 0, action: fixed}\n", `
  - spec.fallback.failureThreshold: must be at least 1 (got 0)
  - spec.fallback.replicas: action fixed needs replicas`},
		{"several problems at once", "  minReplicas: 0\n  maxReplicas: 0\n  metrics:\n    - type: cpu\n      target: {averageValue: \"50\"}\n    - type: pullStreams\n      target: {averageValue: \"0\"}\n  syncPeriod: 100ms\n", `
  - spec.maxReplicas: must be at least 1 (got 0)
  - spec.metrics[0].target: cpu takes target.averageUtilization, a percentage of the request
  - spec.metrics[1].target.averageValue: must be greater than zero
  - spec.minReplicas: must be at least 1 (got 0)
  - spec.syncPeriod: must be a duration between 1s and 10m, such as 15s or 1m (got "100ms")`},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := writeFile(t, dir, strings.ReplaceAll(c.name, " ", "-")+".yaml", head+c.spec)
			var out bytes.Buffer
			if err := runValidate(context.Background(), &out, []string{file}, nil, false); err == nil || err.Error() != "1 invalid document(s)" {
				t.Fatalf("case %d: error %v", i, err)
			}
			want := file + " document 1 (live/edge): invalid" + c.want + "\n"
			if out.String() != want {
				t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want)
			}
		})
	}
}

// TestValidateSchedules: a ConfigMap a policy in the files names is checked as the
// controller reads it, as is a schedule given with --events; each problem is named by
// where it is, and a ConfigMap applied from elsewhere is said to be unchecked.
func TestValidateSchedules(t *testing.T) {
	dir := t.TempDir()
	const policy = "apiVersion: streamscaler.io/v1alpha1\nkind: ScalingPolicy\nmetadata: {name: edge, namespace: live}\nspec:\n  targetRef: {name: srs-edge}\n  maxReplicas: 50\n  metrics: [{type: pullStreams, target: {averageValue: \"80\"}}]\n  prediction: {enabled: true, eventsConfigMap: {name: fixtures}}\n"
	configMap := func(ns, data string) string {
		return "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: fixtures" + ns + "}\ndata:\n" + data
	}
	const good = "  events.csv: |\n    start,duration,name\n    1998-07-12T19:00:00Z,2h30m,Final\n    1998-07-08T19:00:00Z,2h,Semi\n"
	cases := []struct {
		name      string
		files     []string
		schedules []string
		ok        bool
		want      string
	}{
		{"a valid schedule beside its policy", []string{writeFile(t, dir, "ok.yaml", policy+configMap(", namespace: live", good))}, nil, true,
			"ok.yaml document 1 (live/edge): valid\nDIR/ok.yaml document 2: valid schedule, 2 events\n"},
		{"a ConfigMap left to kubectl -n", []string{writeFile(t, dir, "nons.yaml", policy+configMap("", good))}, nil, true,
			"nons.yaml document 1 (live/edge): valid\nDIR/nons.yaml document 2: valid schedule, 2 events\n"},
		{"a broken row", []string{writeFile(t, dir, "bad.yaml", policy+configMap(", namespace: live", "  events.csv: |\n    start,duration,name\n    12 July 1998,2h30m,Final\n"))}, nil, false,
			"bad.yaml document 1 (live/edge): valid\nDIR/bad.yaml document 2: invalid\n  - key events.csv line 2: start \"12 July 1998\": want RFC 3339, such as 1998-07-12T19:00:00Z\n"},
		{"the schedule under another key", []string{writeFile(t, dir, "key.yaml", policy+configMap(", namespace: live", "  matches.csv: x\n"))}, nil, false,
			"key.yaml document 1 (live/edge): valid\nDIR/key.yaml document 2: invalid\n  - data.events.csv: not there; DIR/key.yaml document 1 (live/edge) reads its events from it\n"},
		{"a ConfigMap applied from elsewhere", []string{writeFile(t, dir, "alone.yaml", policy)}, nil, true,
			"alone.yaml document 1 (live/edge): valid\nDIR/alone.yaml document 1 (live/edge): names ConfigMap fixtures, which is not in these files: its schedule is not checked\n"},
		{"the bundled match schedule", nil, []string{"../../testdata/events/wc98_matches.csv"}, true,
			"../../testdata/events/wc98_matches.csv: valid schedule, 64 events\n"},
		{"a schedule file with a bad lift", nil, []string{writeFile(t, dir, "lift.csv", "start,duration,name,liftPercent\n1998-07-12T19:00:00Z,2h,Final,50\n")}, false,
			"lift.csv: invalid\n  - DIR/lift.csv line 2: liftPercent \"50\": want a whole number from 100 to 100000\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			err := runValidate(context.Background(), &out, c.files, c.schedules, false)
			if (err == nil) != c.ok {
				t.Fatalf("error %v, output:\n%s", err, out.String())
			}
			want := strings.ReplaceAll(c.want, "DIR", dir)
			if !strings.HasSuffix(out.String(), want) {
				t.Fatalf("output:\n%s\nwant it to end with:\n%s", out.String(), want)
			}
		})
	}
}

// TestValidateNeedsSomethingToCheck: with neither -f nor --events the command says so;
// --events alone is enough.
func TestValidateNeedsSomethingToCheck(t *testing.T) {
	if _, err := execute(t, newValidateCommand()); err == nil || !strings.Contains(err.Error(), "nothing to check: give -f FILE or --events FILE") {
		t.Fatalf("no flags: %v", err)
	}
	out, err := execute(t, newValidateCommand(), "--events", "../../testdata/events/wc98_matches.csv")
	if err != nil || !strings.Contains(out, "valid schedule, 64 events") {
		t.Fatalf("--events alone: %v, %q", err, out)
	}
}
