package crdvalidation

import (
	"context"
	"os"
	"strings"
	"testing"

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

// TestEveryBadPolicyIsRejectedOnce runs every policy through what the API server does with
// the generated CRD (schema, defaults, CEL) and through ScalingPolicySpec.Validate, which
// holds only what the CRD cannot say: the good ones must pass, and each bad one must be
// rejected with exactly one problem, at its field path, in words (Describe).
func TestEveryBadPolicyIsRejectedOnce(t *testing.T) {
	v := newValidator(t)
	cases := []struct {
		name string
		doc  string
		want string // "" means valid; else the one problem, as Describe says it
	}{
		{"the sample policy is valid", good, ""},
		{"a full prediction block is valid", good + "  prediction: {enabled: true, horizon: 15m, history: 168h, season: 24h, marginPercent: 15, eventLead: 30m, events: [{name: final, start: '1998-07-12T19:00:00Z', duration: 2h30m, liftPercent: 400}], eventsConfigMap: {name: fixtures, key: cup-1998.csv}}\n", ""},
		{"a full metrics source and fallback are valid", good + "  metricsSource:\n    type: prometheus\n    maxSampleAge: 90s\n    prometheus: {address: https://thanos.monitoring:9090, podLabel: pod_name, queries: {pullStreams: 'sum by (pod) (srs_clients{namespace=\"$namespace\"})'}, bearerTokenSecretRef: {name: prom, key: token}}\n  fallback: {failureThreshold: 5, action: fixed, replicas: 8}\n", ""},
		{"durations in every Go spelling are valid", good + "  syncPeriod: 1m30s\n  tombstone: {drainTimeout: .5h}\n  metricsSource: {maxSampleAge: 90000ms}\n  prediction: {horizon: 1.5h, history: 672h, season: '0'}\n", ""},
		{"min above max", mutate(t, "minReplicas: 2", "minReplicas: 80"),
			"spec.minReplicas: must not exceed maxReplicas (50)"},
		{"zero max", mutate(t, "maxReplicas: 50", "maxReplicas: 0"),
			"spec.maxReplicas: must be at least 1 (got 0)"},
		{"no max", mutate(t, "  maxReplicas: 50\n", ""),
			"spec.maxReplicas: is required"},
		{"the same metric twice", mutate(t, "    - type: cpu\n", "    - type: pullStreams\n      target: {averageValue: \"9\"}\n    - type: cpu\n"),
			"spec.metrics: pullStreams appears more than once; each metric may appear only once (custom metrics once per name)"},
		{"the same custom metric twice", good + "    - type: custom\n      name: rtc_sessions\n      target: {averageValue: \"1\"}\n",
			"spec.metrics: custom/rtc_sessions appears more than once; each metric may appear only once (custom metrics once per name)"},
		{"unknown metric type", mutate(t, "type: pullStreams", "type: viewers"),
			`spec.metrics[0].type: must be one of "bandwidth", "packetsPerSecond", "pushStreams", "pullStreams", "cpu", "memory", "custom" (got "viewers")`},
		{"a streams metric with a utilization target", mutate(t, `target: {averageValue: "80"}`, "target: {averageUtilization: 80}"),
			"spec.metrics[0].target: pullStreams takes target.averageValue, a per-pod value"},
		{"cpu with a value target", mutate(t, "target: {averageUtilization: 70}", "target: {averageValue: 70}"),
			"spec.metrics[1].target: cpu takes target.averageUtilization, a percentage of the request"},
		{"both targets", mutate(t, `target: {averageValue: "80"}`, `target: {averageValue: "80", averageUtilization: 5}`),
			"spec.metrics[0].target: set exactly one of averageValue and averageUtilization"},
		{"no target", mutate(t, "      target: {averageValue: \"80\"}\n", ""),
			"spec.metrics[0].target: is required"},
		{"zero per-pod target", mutate(t, `averageValue: "80"`, `averageValue: "0"`),
			"spec.metrics[0].target.averageValue: must be greater than zero"},
		{"negative per-pod target", mutate(t, `averageValue: "80"`, `averageValue: "-5"`),
			"spec.metrics[0].target.averageValue: must be greater than zero"},
		{"a per-pod target that is not a quantity", mutate(t, `averageValue: "80"`, `averageValue: "lots"`),
			`spec.metrics[0].target.averageValue: must be a quantity such as 80, 500m, 2.5M or 1Gi (got "lots")`},
		{"custom metric without a name", mutate(t, "      name: rtc_sessions\n", ""),
			"spec.metrics[2].name: a custom metric needs a name"},
		{"a name on a built-in metric", mutate(t, "    - type: cpu\n", "    - type: cpu\n      name: x\n"),
			"spec.metrics[1].name: only custom metrics have a name"},
		{"no metrics", strings.Split(good, "  metrics:\n")[0] + "  metrics: []\n",
			"spec.metrics: must have at least 1 item (got 0)"},
		{"eleven metrics", good + strings.Repeat("    - type: custom\n      name: m\n      target: {averageValue: \"1\"}\n", 8),
			"spec.metrics: must have at most 10 items (got 11)"},
		{"target kind other than CloneSet", mutate(t, "targetRef: {name: srs-edge}", "targetRef: {name: srs-edge, kind: Deployment}"),
			`spec.targetRef.kind: must be one of "CloneSet" (got "Deployment")`},
		{"a misspelt field", mutate(t, "minReplicas: 2", "minReplica: 2"),
			"spec.minReplica: unknown field (did you mean minReplicas?)"},
		{"a misspelt field deep down", good + "  tombstone: {drainTimout: 10m}\n",
			"spec.tombstone.drainTimout: unknown field (did you mean drainTimeout?)"},
		{"a word for a number", mutate(t, "maxReplicas: 50", "maxReplicas: fifty"),
			"spec.maxReplicas: must be an integer, not a string"},
		{"a number too large", mutate(t, "maxReplicas: 50", "maxReplicas: 3000000000"),
			"spec.maxReplicas: must be a whole number that fits in 32 bits"},
		{"drain timeout over a day", good + "  tombstone: {drainTimeout: 48h}\n",
			`spec.tombstone.drainTimeout: must be a duration between 0s and 24h, such as 30m or 1h30m (got "48h")`},
		{"a duration in words", good + "  tombstone: {drainTimeout: 10 minutes}\n",
			`spec.tombstone.drainTimeout: must be a duration between 0s and 24h, such as 30m or 1h30m (got "10 minutes")`},
		{"unknown eviction action", good + "  tombstone: {evictionAction: kill}\n",
			`spec.tombstone.evictionAction: must be one of "none", "srsKick", "httpHook" (got "kill")`},
		{"sync period too short", good + "  syncPeriod: 100ms\n",
			`spec.syncPeriod: must be a duration between 1s and 10m, such as 15s or 1m (got "100ms")`},
		{"sync period beyond any duration", good + "  syncPeriod: 9999999999999h\n",
			"spec.syncPeriod: must be a duration between 1s and 10m, such as 15s or 1m"},
		{"rate policy with zero value", good + "  behavior:\n    scaleUp:\n      policies: [{type: Pods, value: 0, periodSeconds: 15}]\n",
			"spec.behavior.scaleUp.policies[0].value: must be at least 1 (got 0)"},
		{"unknown select policy", good + "  behavior:\n    scaleDown: {selectPolicy: Fastest}\n",
			`spec.behavior.scaleDown.selectPolicy: must be one of "Max", "Min", "Disabled" (got "Fastest")`},
		{"unknown metrics source", good + "  metricsSource: {type: graphite}\n",
			`spec.metricsSource.type: must be one of "prometheus", "srs", "metricsAPI", "annotations" (got "graphite")`},
		{"sample age of a week", good + "  metricsSource: {maxSampleAge: 168h}\n",
			`spec.metricsSource.maxSampleAge: must be a duration between 1s and 1h, such as 90s or 2m (got "168h")`},
		{"prometheus address without a scheme", good + "  metricsSource: {prometheus: {address: prometheus:9090}}\n",
			`spec.metricsSource.prometheus.address: must start with http:// or https:// (got "prometheus:9090")`},
		{"SRS port out of range", good + "  metricsSource: {srs: {port: 70000}}\n",
			"spec.metricsSource.srs.port: must be at most 65535 (got 70000)"},
		{"fixed fallback without replicas", good + "  fallback: {action: fixed}\n",
			"spec.fallback.replicas: action fixed needs replicas"},
		{"zero failure threshold", good + "  fallback: {failureThreshold: 0}\n",
			"spec.fallback.failureThreshold: must be at least 1 (got 0)"},
		{"prediction horizon of a day", good + "  prediction: {enabled: true, horizon: 24h}\n",
			`spec.prediction.horizon: must be a duration between 1m and 2h, such as 5m or 15m (got "24h")`},
		{"prediction margin of 500%", good + "  prediction: {enabled: true, marginPercent: 500}\n",
			"spec.prediction.marginPercent: must be at most 200 (got 500)"},
		{"an event of two days", good + "  prediction: {enabled: true, events: [{name: final, start: '1998-07-12T19:00:00Z', duration: 48h}]}\n",
			`spec.prediction.events[0].duration: must be a duration between 1m and 24h, such as 2h (got "48h")`},
		{"an event lift below 100%", good + "  prediction: {enabled: true, events: [{name: final, start: '1998-07-12T19:00:00Z', duration: 2h, liftPercent: 50}]}\n",
			"spec.prediction.events[0].liftPercent: must be at least 100 (got 50)"},
		{"tolerance above 100%", good + "  behavior:\n    scaleDown: {tolerancePercent: 150}\n",
			"spec.behavior.scaleDown.tolerancePercent: must be at most 100 (got 150)"},
		{"another API group", mutate(t, "streamscaler.io/v1alpha1", "autoscaling/v2"),
			`apiVersion: must be one of "streamscaler.io/v1alpha1" (got "autoscaling/v2")`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, _, errs, err := v.Policy(context.Background(), []byte(c.doc))
			if err != nil {
				t.Fatal(err)
			}
			var problems []string
			for _, e := range errs {
				if e.Detail != RulesNotChecked { // the API server's note, not a problem
					problems = append(problems, Describe(e))
				}
			}
			switch {
			case c.want == "" && (len(errs) > 0 || p == nil):
				t.Fatalf("a good policy is rejected: %v", errs)
			case c.want != "" && p != nil:
				t.Fatal("a bad policy is accepted")
			case c.want != "" && (len(problems) != 1 || problems[0] != c.want):
				t.Fatalf("problems:\n  %s\nwant exactly:\n  %s", strings.Join(problems, "\n  "), c.want)
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
