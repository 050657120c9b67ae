package policyfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const policy = "apiVersion: streamscaler.io/v1alpha1\nkind: ScalingPolicy\nmetadata: {name: edge}\nspec:\n  targetRef: {name: srs-edge}\n  maxReplicas: 3\n  metrics: [{type: pullStreams, target: {averageValue: '10'}}]\n"

func TestParse(t *testing.T) {
	f, err := Parse([]byte("# leading comment\n---\n" + policy + "---\n# only a comment\n---\nkind: SimulationProfile\nspec: {seed: 3}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Policy.Name != "edge" || f.Policy.Spec.MaxReplicas != 3 || f.Policy.Spec.Metrics[0].TargetValue() != 10 {
		t.Fatalf("policy = %+v", f.Policy)
	}
	// The CRD's defaults are filled in, as the API server would store them.
	if sp := f.Policy.Spec; sp.MinReplicas == nil || *sp.MinReplicas != 1 || sp.Tombstone == nil || sp.Tombstone.DrainTimeout == nil || sp.Tombstone.DrainTimeout.Duration != 30*time.Minute || sp.TargetRef.Kind != "CloneSet" {
		t.Fatalf("defaults not filled in: %+v", sp)
	}
	if !strings.Contains(string(f.Others["SimulationProfile"]), "seed: 3") {
		t.Fatalf("others = %q", f.Others)
	}
}

func TestParseSplitsDocumentsLikeKubectl(t *testing.T) {
	const profile = "kind: SimulationProfile\nspec: {seed: 3}\n"
	withNote := strings.Replace(policy, "metadata: {name: edge}\n",
		"metadata:\n  name: edge\n  annotations:\n    note: |\n      before\n      ---\n      after\n", 1)
	cases := []struct {
		name, file string
		note       string // the policy's annotation, when the case sets one
	}{
		{"a separator may carry a comment", policy + "--- # the profile\n" + profile, ""},
		{"--- inside a block scalar is text", withNote + "---\n" + profile, "before\n---\nafter\n"},
		{"empty and comment-only documents are dropped", "---\n---\n   \n---\n# nothing\n---\n" + policy + "---\n---\n" + profile + "---\n", ""},
		{"CRLF line ends", strings.ReplaceAll(policy+"---\n"+profile, "\n", "\r\n"), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse([]byte(c.file))
			if err != nil {
				t.Fatal(err)
			}
			if f.Policy.Name != "edge" || f.Policy.Spec.MaxReplicas != 3 {
				t.Fatalf("policy = %q, maxReplicas %d", f.Policy.Name, f.Policy.Spec.MaxReplicas)
			}
			if got := f.Policy.Annotations["note"]; got != c.note {
				t.Fatalf("note = %q, want %q", got, c.note)
			}
			if !strings.Contains(string(f.Others["SimulationProfile"]), "seed: 3") {
				t.Fatalf("the profile was not split off: others = %q", f.Others)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	cases := []struct {
		name, doc, msg string
	}{
		{"no policy", "kind: SimulationProfile\n", "no ScalingPolicy"},
		{"no kind", "spec: {}\n", "document 1: no kind"},
		{"wrong group", strings.Replace(policy, "streamscaler.io/v1alpha1", "autoscaling/v2", 1), `apiVersion "autoscaling/v2"`},
		{"misspelt field", strings.Replace(policy, "maxReplicas", "maxReplica", 1), "spec.maxReplica: unknown field (did you mean maxReplicas?); spec.maxReplicas: is required"},
		{"the CRD's rules apply", strings.Replace(policy, "maxReplicas: 3", "maxReplicas: 3\n  minReplicas: 5\n  syncPeriod: 1 minute", 1), "document 1 (ScalingPolicy): spec.minReplicas: must not exceed maxReplicas (3); spec.syncPeriod: must be a duration between 1s and 10m, such as 15s or 1m (got \"1 minute\")"},
		{"two policies", policy + "---\n" + policy, "a second ScalingPolicy"},
		{"two profiles", policy + "---\nkind: SimulationProfile\n---\nkind: SimulationProfile\n", "a second SimulationProfile"},
		{"not YAML", "kind: [\n", "document 1"},
		{"wrong type", strings.Replace(policy, "maxReplicas: 3", "maxReplicas: three", 1), "document 1 (ScalingPolicy)"},
		{"text after a separator", policy + "---\nkind: SimulationProfile\n--- kind: Other\n", "document 2: invalid Yaml document separator"},
		{"empty documents are not counted", "---\n# nothing\n---\n\n---\nspec: {}\n", "document 1: no kind"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.doc))
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %v, want %q", err, c.msg)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte(policy+"# "+strings.Repeat("x", maxFileBytes)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("a huge file must be refused, got %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("a missing file must be named, got %v", err)
	}
	if f, err := Load("../../testdata/policies/srs-edge.yaml"); err != nil || f.Policy.Spec.TargetRef.Name != "srs-edge" {
		t.Fatalf("bundled policy: %v", err)
	}
}
