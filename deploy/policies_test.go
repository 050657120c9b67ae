package deploy_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/api/v1alpha1/crdvalidation"
	"github.com/streamscaler/streamscaler/internal/testcluster"
)

const policyHead = "apiVersion: streamscaler.io/v1alpha1\nkind: ScalingPolicy\nmetadata: {name: edge, namespace: live}\nspec:\n  targetRef: {name: srs-edge}\n"

func policyObject(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

// TestTheAPIServerAndTheOfflineValidatorAgree creates policies on the real kube-apiserver
// and checks them offline with the embedded CRD (crdvalidation): a good policy is stored
// with exactly the defaults the offline validator fills in, and reads back with the
// defaults in force; a bad one is refused with exactly the errors, field by field, that
// the offline validator reports.
func TestTheAPIServerAndTheOfflineValidatorAgree(t *testing.T) {
	c := testcluster.ForTest(t)
	ctx := context.Background()
	if err := c.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "live"}}); err != nil {
		t.Fatal(err)
	}
	v, err := crdvalidation.ScalingPolicies()
	if err != nil {
		t.Fatal(err)
	}

	t.Run("a minimal policy is stored with every default", func(t *testing.T) {
		doc := policyHead + "  maxReplicas: 20\n  metrics: [{type: pullStreams, target: {averageValue: '80'}}]\n"
		if err := c.Client.Create(ctx, policyObject(t, doc)); err != nil {
			t.Fatal(err)
		}
		stored := &unstructured.Unstructured{}
		stored.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("ScalingPolicy"))
		if err := c.Client.Get(ctx, types.NamespacedName{Namespace: "live", Name: "edge"}, stored); err != nil {
			t.Fatal(err)
		}
		_, offline, errs, err := v.Policy(ctx, []byte(doc))
		if err != nil || len(errs) > 0 {
			t.Fatal(err, errs)
		}
		if !reflect.DeepEqual(stored.Object["spec"], offline["spec"]) {
			t.Fatalf("the API server stored\n  %v\noffline defaulting gives\n  %v", stored.Object["spec"], offline["spec"])
		}
		var p v1alpha1.ScalingPolicy
		if err := c.Client.Get(ctx, types.NamespacedName{Namespace: "live", Name: "edge"}, &p); err != nil {
			t.Fatal(err)
		}
		s := p.Spec
		if s.MinReplicas == nil || *s.MinReplicas != 1 || s.SyncPeriod == nil || s.SyncPeriod.Duration != 15*time.Second ||
			s.Tombstone == nil || s.Tombstone.DrainTimeout == nil || s.Tombstone.DrainTimeout.Duration != 30*time.Minute ||
			s.Tombstone.EvictionAction != v1alpha1.EvictNone || s.Fallback == nil || s.Fallback.Action != v1alpha1.FallbackHold ||
			s.Fallback.FailureThreshold == nil || *s.Fallback.FailureThreshold != 3 ||
			s.MetricsSource == nil || s.MetricsSource.MaxSampleAge == nil || s.MetricsSource.MaxSampleAge.Duration != 2*time.Minute {
			js, _ := json.Marshal(s)
			t.Fatalf("the stored policy lacks defaults: %s", js)
		}
		if s.Behavior != nil || s.Prediction != nil {
			t.Fatalf("behavior and prediction must stay unset: %+v %+v", s.Behavior, s.Prediction)
		}
	})

	const metrics = "  metrics: [{type: pullStreams, target: {averageValue: '80'}}]\n"
	for _, bad := range []struct{ name, spec string }{
		{"min above max", "  minReplicas: 80\n  maxReplicas: 50\n" + metrics},
		{"no max", metrics},
		{"a duplicate metric", "  maxReplicas: 50\n  metrics: [{type: cpu, target: {averageUtilization: 50}}, {type: cpu, target: {averageUtilization: 60}}]\n"},
		{"a duplicate custom metric", "  maxReplicas: 50\n  metrics: [{type: custom, name: rtc, target: {averageValue: '1'}}, {type: custom, name: rtc, target: {averageValue: '2'}}]\n"},
		{"a custom metric without a name", "  maxReplicas: 50\n  metrics: [{type: custom, target: {averageValue: '1'}}]\n"},
		{"a zero target", "  maxReplicas: 50\n  metrics: [{type: pullStreams, target: {averageValue: '0'}}]\n"},
		{"cpu with a value", "  maxReplicas: 50\n  metrics: [{type: cpu, target: {averageValue: '50'}}]\n"},
		{"a duration in words", "  maxReplicas: 50\n" + metrics + "  syncPeriod: 15 seconds\n"},
		{"a drain timeout over a day", "  maxReplicas: 50\n" + metrics + "  tombstone: {drainTimeout: 25h}\n"},
		{"a fixed fallback without replicas", "  maxReplicas: 50\n" + metrics + "  fallback: {action: fixed, failureThreshold: 0}\n"},
		{"an unknown eviction action", "  maxReplicas: 50\n" + metrics + "  tombstone: {evictionAction: kill}\n"},
	} {
		t.Run(bad.name, func(t *testing.T) {
			doc := strings.Replace(policyHead, "name: edge", "name: bad", 1) + bad.spec
			err := c.Client.Create(ctx, policyObject(t, doc), client.DryRunAll)
			var status apierrors.APIStatus
			if err == nil || !apierrors.IsInvalid(err) || !errors.As(err, &status) || status.Status().Details == nil {
				t.Fatalf("the API server says %v, want Invalid", err)
			}
			causes := status.Status().Details.Causes
			_, offline, err := v.ValidateJSON(ctx, []byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			// Field by field, the same messages; how a bad value is shown differs between
			// API server versions, so only the message after it is compared.
			var server, local []string
			for _, c := range causes {
				server = append(server, c.Field+": "+c.Message)
			}
			for _, e := range offline {
				local = append(local, e.Error())
			}
			unmatched := len(causes) != len(offline)
			for _, e := range offline {
				field := strings.TrimPrefix(e.Field, "<nil>")
				found := false
				for _, c := range causes {
					if strings.TrimPrefix(c.Field, "<nil>") == field && strings.HasSuffix(c.Message, e.Detail) && strings.HasPrefix(c.Message, e.Type.String()) {
						found = true
					}
				}
				unmatched = unmatched || !found
			}
			if unmatched {
				t.Fatalf("the API server says\n  %s\noffline\n  %s", strings.Join(server, "\n  "), strings.Join(local, "\n  "))
			}
		})
	}
}
