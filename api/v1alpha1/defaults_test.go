package v1alpha1_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/api/v1alpha1/crdvalidation"
	"github.com/streamscaler/streamscaler/deploy/crd"
)

// markerDefaults returns every default in the generated CRD's schema, by field path.
func markerDefaults(t *testing.T) map[string]json.RawMessage {
	t.Helper()
	var c apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(crd.ScalingPolicy, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Spec.Versions) != 1 {
		t.Fatalf("%d versions; this test knows one", len(c.Spec.Versions))
	}
	out := map[string]json.RawMessage{}
	var walk func(path string, s apiextensionsv1.JSONSchemaProps)
	walk = func(path string, s apiextensionsv1.JSONSchemaProps) {
		if s.Default != nil {
			out[path] = s.Default.Raw
		}
		for name, p := range s.Properties {
			walk(path+"."+name, p)
		}
		if s.Items != nil && s.Items.Schema != nil {
			walk(path+"[]", *s.Items.Schema)
		}
	}
	walk("", *c.Spec.Versions[0].Schema.OpenAPIV3Schema)
	return out
}

// TestMarkerDefaultsMatchGo checks every +kubebuilder:default in the generated CRD against
// the Go default that the accessors apply, and that no default is missing on either side:
// the API server stores what the code would assume, so the two cannot drift apart.
func TestMarkerDefaultsMatchGo(t *testing.T) {
	var none v1alpha1.ScalingPolicySpec // every optional field unset: the accessors answer their defaults
	up, down := none.Rules(v1alpha1.Up), none.Rules(v1alpha1.Down)
	object := map[string]any{}
	want := map[string]any{
		".spec.minReplicas":                            none.Min(),
		".spec.syncPeriod":                             none.Period(),
		".spec.tombstone":                              object,
		".spec.tombstone.drainTimeout":                 none.DrainTimeout(),
		".spec.tombstone.idleStreams":                  none.IdleStreams(),
		".spec.tombstone.evictionAction":               none.Eviction(),
		".spec.behavior.scaleUp.selectPolicy":          up.Select,
		".spec.behavior.scaleUp.tolerancePercent":      percent(up.Tolerance),
		".spec.behavior.scaleDown.selectPolicy":        down.Select,
		".spec.behavior.scaleDown.tolerancePercent":    percent(down.Tolerance),
		".spec.behavior.saturation.utilizationPercent": none.SaturationPercent(),
		".spec.behavior.saturation.growthPercent":      none.SaturationGrowthPercent(),
		".spec.metricsSource":                          object,
		".spec.metricsSource.maxSampleAge":             none.SampleMaxAge(),
		// The sources apply these two themselves when the policy leaves them unset.
		".spec.metricsSource.prometheus.podLabel": v1alpha1.DefaultPrometheusPodLabel,
		".spec.metricsSource.srs.port":            v1alpha1.DefaultSRSPort,
		".spec.fallback":                          object,
		".spec.fallback.failureThreshold":         none.FailureThreshold(),
		".spec.fallback.action":                   v1alpha1.DefaultFallbackAction,
		".spec.prediction.horizon":                none.PredictionHorizon(),
		".spec.prediction.eventLead":              none.EventLead(),
		".spec.prediction.history":                none.PredictionHistory(),
		".spec.prediction.marginPercent":          percent(none.Margin()),
		".spec.prediction.eventsConfigMap.key":    (&v1alpha1.ConfigMapKey{}).EventsKey(),
		// The only supported target; there is no Go default, the schema's enum allows nothing else.
		".spec.targetRef.apiVersion": "apps.kruise.io/v1alpha1",
		".spec.targetRef.kind":       "CloneSet",
	}
	if _, fixed := none.FallbackReplicas(); fixed {
		t.Fatal("an unset fallback must hold, as the action's default says")
	}
	got := markerDefaults(t)
	for _, path := range sortedKeys(got) {
		w, ok := want[path]
		if !ok {
			t.Errorf("%s: the CRD defaults it to %s, but this test knows no Go default for it", path, got[path])
			continue
		}
		if err := sameDefault(got[path], w); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
	for _, path := range sortedKeys(want) {
		if _, ok := got[path]; !ok {
			t.Errorf("%s: Go defaults it to %v, but the CRD has no default marker", path, want[path])
		}
	}
}

// sameDefault compares a CRD default (JSON) with a Go default. A duration must parse to
// the same value, as metav1.Duration reads it; anything else must be equal as JSON.
func sameDefault(raw json.RawMessage, want any) error {
	if d, ok := want.(time.Duration); ok {
		var got metav1.Duration
		if err := json.Unmarshal(raw, &got); err != nil {
			return fmt.Errorf("default %s is not a duration: %w", raw, err)
		}
		if got.Duration != d {
			return fmt.Errorf("default %s is %v, Go says %v", raw, got.Duration, d)
		}
		return nil
	}
	wantJSON, err := json.Marshal(want)
	if err != nil {
		return err
	}
	var g, w any
	if err := json.Unmarshal(raw, &g); err != nil {
		return err
	}
	if err := json.Unmarshal(wantJSON, &w); err != nil {
		return err
	}
	if !reflect.DeepEqual(g, w) {
		return fmt.Errorf("default %s, Go says %s", raw, wantJSON)
	}
	return nil
}

func percent(fraction float64) int32 { return int32(fraction*100 + 0.5) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// effective is everything the decision code and the adapters read from a policy through
// the accessors, with the adapters' own fallbacks for podLabel and the SRS port.
type effective struct {
	Min                          int32
	Period, Drain                time.Duration
	Idle                         int32
	Eviction                     v1alpha1.EvictionAction
	Up, Down                     v1alpha1.EffectiveRules
	Source                       v1alpha1.MetricsSourceType
	SampleAge                    time.Duration
	Failures                     int32
	FallbackReplicas             int32
	Fixed                        bool
	Predicting                   bool
	Horizon, History, Season     time.Duration
	SeasonSet                    bool
	Margin                       float64
	PodLabel                     string
	SRSPort                      int32
	TargetAPIVersion, TargetKind string
}

func effectiveOf(s *v1alpha1.ScalingPolicySpec) effective {
	e := effective{
		Min: s.Min(), Period: s.Period(), Drain: s.DrainTimeout(), Idle: s.IdleStreams(), Eviction: s.Eviction(),
		Up: s.Rules(v1alpha1.Up), Down: s.Rules(v1alpha1.Down), Source: s.SourceType("controller-default"),
		SampleAge: s.SampleMaxAge(), Failures: s.FailureThreshold(), Predicting: s.Predicting(),
		Horizon: s.PredictionHorizon(), History: s.PredictionHistory(), Margin: s.Margin(),
		PodLabel: v1alpha1.DefaultPrometheusPodLabel, SRSPort: v1alpha1.DefaultSRSPort,
		TargetAPIVersion: "apps.kruise.io/v1alpha1", TargetKind: "CloneSet",
	}
	e.FallbackReplicas, e.Fixed = s.FallbackReplicas()
	e.Season, e.SeasonSet = s.PredictionSeason()
	if ms := s.MetricsSource; ms != nil && ms.Prometheus != nil && ms.Prometheus.PodLabel != "" {
		e.PodLabel = ms.Prometheus.PodLabel
	}
	if ms := s.MetricsSource; ms != nil && ms.SRS != nil && ms.SRS.Port > 0 {
		e.SRSPort = ms.SRS.Port
	}
	if s.TargetRef.APIVersion != "" {
		e.TargetAPIVersion = s.TargetRef.APIVersion
	}
	if s.TargetRef.Kind != "" {
		e.TargetKind = s.TargetRef.Kind
	}
	return e
}

// TestStoredPoliciesBehaveAsWritten reads policies of every shape twice: as written (Go
// defaults only, like a policy built in a test) and as the API server would store them
// (the CRD's defaults filled in). Every accessor must answer the same for both, including
// EffectiveRules.Configured: the markers change what is shown, never what is done.
func TestStoredPoliciesBehaveAsWritten(t *testing.T) {
	v, err := crdvalidation.ScalingPolicies()
	if err != nil {
		t.Fatal(err)
	}
	const head = "apiVersion: streamscaler.io/v1alpha1\nkind: ScalingPolicy\nmetadata: {name: p, namespace: live}\nspec:\n  targetRef: {name: edge}\n  maxReplicas: 20\n  metrics: [{type: pullStreams, target: {averageValue: '80'}}]\n"
	cases := map[string]string{
		"nothing optional written":  "",
		"every block written empty": "  behavior: {scaleUp: {}, scaleDown: {}}\n  tombstone: {}\n  metricsSource: {prometheus: {}, srs: {}}\n  fallback: {}\n  prediction: {enabled: true}\n",
		"only scale-down written":   "  behavior: {scaleDown: {selectPolicy: Min}}\n",
		"only scale-up written":     "  behavior: {scaleUp: {stabilizationWindowSeconds: 60}}\n",
		"empty behavior":            "  behavior: {}\n",
		"fixed fallback":            "  fallback: {action: fixed, replicas: 4}\n",
		"prediction with a season":  "  prediction: {enabled: true, season: 24h, marginPercent: 10}\n",
		"values unlike the defaults": "  minReplicas: 3\n  syncPeriod: 30s\n  tombstone: {drainTimeout: 1h, idleStreams: 2, evictionAction: srsKick}\n" +
			"  behavior: {scaleUp: {tolerancePercent: 5, policies: [{type: Pods, value: 2, periodSeconds: 30}]}}\n" +
			"  metricsSource: {type: srs, maxSampleAge: 30s, srs: {port: 8080}}\n",
	}
	for _, name := range sortedKeys(cases) {
		t.Run(name, func(t *testing.T) {
			doc := []byte(head + cases[name])
			var written v1alpha1.ScalingPolicy
			if err := yaml.UnmarshalStrict(doc, &written); err != nil {
				t.Fatal(err)
			}
			stored, _, errs, err := v.Policy(context.Background(), doc)
			if err != nil || len(errs) > 0 {
				t.Fatal(err, errs)
			}
			if w, s := effectiveOf(&written.Spec), effectiveOf(&stored.Spec); !reflect.DeepEqual(w, s) {
				t.Fatalf("as written:\n  %+v\nas stored:\n  %+v", w, s)
			}
		})
	}
}
