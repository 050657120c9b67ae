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
		{"defaults are shown", []string{"../../deploy/samples/srs-edge-policy.yaml"}, true, true, []string{"kind: CloneSet", "apiVersion: apps.kruise.io/v1alpha1"}},
		{"every error has its field path", []string{bad}, false, false, []string{"(x/bad): invalid", "spec.minReplicas", "spec.metrics[0].target.averageValue", "averageValue must be greater than zero"}},
		{"a misspelt field is named", []string{typo}, false, false, []string{`unknown field "maxReplica"`}},
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
