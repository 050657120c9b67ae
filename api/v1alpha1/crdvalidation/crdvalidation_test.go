package crdvalidation

import (
	"context"
	"os"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/deploy/crd"
)

const good = `
apiVersion: streamscaler.io/v1alpha1
kind: ScalingPolicy
metadata: {name: edge, namespace: live}
spec:
  targetRef: {name: srs-edge}
  minReplicas: 2
  maxReplicas: 50
  metrics:
    - type: pullStreams
      target: {averageValue: "80"}
    - type: cpu
      target: {averageUtilization: 70}
    - type: custom
      name: rtc_sessions
      target: {averageValue: 500m}
`

// mutate replaces the first occurrence of old in the good policy.
func mutate(t *testing.T, old, new string) string {
	t.Helper()
	if !strings.Contains(good, old) {
		t.Fatalf("%q is not in the good policy", old)
	}
	return strings.Replace(good, old, new, 1)
}

func newValidator(t *testing.T) *Validator {
	t.Helper()
	v, err := New(crd.ScalingPolicy, "v1alpha1")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestCRDAndGoValidationAgree runs every policy through the API server's validation of
// the generated CRD and through ScalingPolicySpec.Validate: both must accept the good
// ones and reject the bad ones, so offline checks and the API server never disagree.
func TestCRDAndGoValidationAgree(t *testing.T) {
	v := newValidator(t)
	cases := []struct {
		name   string
		doc    string
		crdMsg string // "" means valid
		goPath string
	}{
		{"the sample policy is valid", good, "", ""},
		{"a full prediction block is valid", good + "  prediction: {enabled: true, horizon: 15m, history: 168h, season: 24h, marginPercent: 15}\n", "", ""},
		{"a full metrics source and fallback are valid", good + "  metricsSource:\n    type: prometheus\n    maxSampleAge: 90s\n    prometheus: {address: https://thanos.monitoring:9090, podLabel: pod_name, queries: {pullStreams: 'sum by (pod) (srs_clients{namespace=\"$namespace\"})'}, bearerTokenSecretRef: {name: prom, key: token}}\n  fallback: {failureThreshold: 5, action: fixed, replicas: 8}\n", "", ""},
		{"min above max", mutate(t, "minReplicas: 2", "minReplicas: 80"), "minReplicas must not exceed maxReplicas", "spec.minReplicas"},
		{"zero max", mutate(t, "maxReplicas: 50", "maxReplicas: 0"), "spec.maxReplicas", "spec.maxReplicas"},
		{"the same metric twice", mutate(t, "    - type: cpu\n", "    - type: pullStreams\n      target: {averageValue: \"9\"}\n    - type: cpu\n"), "each metric may appear only once", "spec.metrics[1]"},
		{"unknown metric type", mutate(t, "type: pullStreams", "type: viewers"), "spec.metrics[0].type", "spec.metrics[0].type"},
		{"a streams metric with a utilization target", mutate(t, `target: {averageValue: "80"}`, "target: {averageUtilization: 80}"), "cpu and memory take target.averageUtilization", "spec.metrics[0].target.averageValue"},
		{"cpu with a value target", mutate(t, "target: {averageUtilization: 70}", "target: {averageValue: 70}"), "cpu and memory take target.averageUtilization", "spec.metrics[1].target.averageUtilization"},
		{"both targets", mutate(t, `target: {averageValue: "80"}`, `target: {averageValue: "80", averageUtilization: 5}`), "set exactly one", "spec.metrics[0].target"},
		{"zero per-pod target", mutate(t, `averageValue: "80"`, `averageValue: "0"`), "averageValue must be greater than zero", "spec.metrics[0].target.averageValue"},
		{"negative per-pod target", mutate(t, `averageValue: "80"`, `averageValue: "-5"`), "averageValue must be greater than zero", "spec.metrics[0].target.averageValue"},
		{"custom metric without a name", mutate(t, "      name: rtc_sessions\n", ""), "name is required for type custom", "spec.metrics[2].name"},
		{"a name on a built-in metric", mutate(t, "    - type: cpu\n", "    - type: cpu\n      name: x\n"), "name is required for type custom and forbidden otherwise", "spec.metrics[1].name"},
		{"no metrics", strings.Split(good, "  metrics:\n")[0] + "  metrics: []\n", "spec.metrics", "spec.metrics"},
		{"target kind other than CloneSet", mutate(t, "targetRef: {name: srs-edge}", "targetRef: {name: srs-edge, kind: Deployment}"), "spec.targetRef.kind", "spec.targetRef.kind"},
		{"drain timeout over a day", good + "  tombstone: {drainTimeout: 48h}\n", "drainTimeout must be between 0s and 24h", "spec.tombstone.drainTimeout"},
		{"unknown eviction action", good + "  tombstone: {evictionAction: kill}\n", "spec.tombstone.evictionAction", "spec.tombstone.evictionAction"},
		{"sync period too short", good + "  syncPeriod: 100ms\n", "syncPeriod must be between 1s and 10m", "spec.syncPeriod"},
		{"rate policy with zero value", good + "  behavior:\n    scaleUp:\n      policies: [{type: Pods, value: 0, periodSeconds: 15}]\n", "spec.behavior.scaleUp.policies[0].value", "spec.behavior.scaleUp.policies[0].value"},
		{"unknown select policy", good + "  behavior:\n    scaleDown: {selectPolicy: Fastest}\n", "spec.behavior.scaleDown.selectPolicy", "spec.behavior.scaleDown.selectPolicy"},
		{"unknown metrics source", good + "  metricsSource: {type: graphite}\n", "spec.metricsSource.type", "spec.metricsSource.type"},
		{"sample age of a week", good + "  metricsSource: {maxSampleAge: 168h}\n", "maxSampleAge must be between 1s and 1h", "spec.metricsSource.maxSampleAge"},
		{"prometheus address without a scheme", good + "  metricsSource: {prometheus: {address: prometheus:9090}}\n", "spec.metricsSource.prometheus.address", "spec.metricsSource.prometheus.address"},
		{"SRS port out of range", good + "  metricsSource: {srs: {port: 70000}}\n", "spec.metricsSource.srs.port", "spec.metricsSource.srs.port"},
		{"fixed fallback without replicas", good + "  fallback: {action: fixed}\n", "fallback action fixed needs replicas", "spec.fallback.replicas"},
		{"zero failure threshold", good + "  fallback: {failureThreshold: 0}\n", "spec.fallback.failureThreshold", "spec.fallback.failureThreshold"},
		{"prediction horizon of a day", good + "  prediction: {enabled: true, horizon: 24h}\n", "horizon must be between 1m and 2h", "spec.prediction.horizon"},
		{"prediction margin of 500%", good + "  prediction: {enabled: true, marginPercent: 500}\n", "spec.prediction.marginPercent", "spec.prediction.marginPercent"},
		{"tolerance above 100%", good + "  behavior:\n    scaleDown: {tolerancePercent: 150}\n", "spec.behavior.scaleDown.tolerancePercent", "spec.behavior.scaleDown.tolerancePercent"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := c.doc // one document per case
			_, errs, err := v.ValidateJSON(context.Background(), []byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			crdOut := errs.ToAggregate()
			switch {
			case c.crdMsg == "" && crdOut != nil:
				t.Fatalf("the API server would reject a good policy: %v", crdOut)
			case c.crdMsg != "" && (crdOut == nil || !strings.Contains(crdOut.Error(), c.crdMsg)):
				t.Fatalf("the API server would say %v, want a message with %q", crdOut, c.crdMsg)
			}
			var p v1alpha1.ScalingPolicy
			if err := yaml.Unmarshal([]byte(doc), &p); err != nil {
				t.Fatal(err)
			}
			goOut := p.Spec.Validate().ToAggregate()
			switch {
			case c.goPath == "" && goOut != nil:
				t.Fatalf("Validate rejects a good policy: %v", goOut)
			case c.goPath != "" && (goOut == nil || !strings.Contains(goOut.Error(), c.goPath)):
				t.Fatalf("Validate says %v, want an error at %q", goOut, c.goPath)
			}
		})
	}
}

func TestCRDDefaultsAreApplied(t *testing.T) {
	obj, errs, err := newValidator(t).ValidateJSON(context.Background(), []byte(good))
	if err != nil || len(errs) > 0 {
		t.Fatal(err, errs)
	}
	ref := obj["spec"].(map[string]any)["targetRef"].(map[string]any)
	if ref["kind"] != "CloneSet" || ref["apiVersion"] != "apps.kruise.io/v1alpha1" {
		t.Fatalf("targetRef after defaulting: %v", ref)
	}
}

func TestTheBundledPoliciesAreValid(t *testing.T) {
	v := newValidator(t)
	for _, path := range []string{"../../../testdata/policies/srs-edge.yaml", "../../../deploy/samples/srs-edge-policy.yaml"} {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		first := strings.Split(string(data), "\n---\n")[0]
		if _, errs, err := v.ValidateJSON(context.Background(), []byte(first)); err != nil || len(errs) > 0 {
			t.Errorf("%s: %v %v", path, err, errs)
		}
	}
}

func TestNewRejectsABadCRD(t *testing.T) {
	if _, err := New([]byte("kind: CustomResourceDefinition\nspec: {versions: [{name: v1}]}\n"), "v1alpha1"); err == nil {
		t.Fatal("a CRD without the version must be an error")
	}
	if _, err := New([]byte("{not yaml"), "v1alpha1"); err == nil {
		t.Fatal("garbage must be an error")
	}
}
