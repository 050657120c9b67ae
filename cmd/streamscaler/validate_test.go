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
			err := runValidate(context.Background(), &out, c.files, c.defaults)
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
	if err := runValidate(context.Background(), &bytes.Buffer{}, []string{none}, false); err == nil || !strings.Contains(err.Error(), "no ScalingPolicy") {
		t.Fatalf("a file without a policy: %v", err)
	}
	if err := runValidate(context.Background(), &bytes.Buffer{}, []string{filepath.Join(dir, "missing.yaml")}, false); err == nil {
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
			if err := runValidate(context.Background(), &out, []string{file}, false); err == nil || err.Error() != "1 invalid document(s)" {
				t.Fatalf("case %d: error %v", i, err)
			}
			want := file + " document 1 (live/edge): invalid" + c.want + "\n"
			if out.String() != want {
				t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want)
			}
		})
	}
}
