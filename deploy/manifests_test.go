package deploy_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/streamscaler/streamscaler/adapters/policyfile"
	"github.com/streamscaler/streamscaler/internal/testcluster"
)

// TestManifestsApplyToARealAPIServer applies everything kustomization.yaml lists, and
// every sample, with server-side dry-run to a real kube-apiserver (with the Kruise CRDs
// installed): schemas, CEL rules, RBAC references and defaults are all checked by the
// server, and nothing is changed.
func TestManifestsApplyToARealAPIServer(t *testing.T) {
	c := testcluster.ForTest(t)
	ctx := context.Background()
	for _, ns := range []string{"streamscaler-system", "live"} {
		if err := c.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	var kust struct {
		Resources []string `json:"resources"`
	}
	data, err := os.ReadFile("kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(data, &kust); err != nil {
		// kustomize's own fields (apiVersion, kind) are not in the struct; read leniently.
		if err := yaml.Unmarshal(data, &kust); err != nil {
			t.Fatal(err)
		}
	}
	samples, err := filepath.Glob("samples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files := append(kust.Resources, samples...)
	if len(kust.Resources) < 7 || len(samples) < 3 {
		t.Fatalf("expected the whole install and the samples, got %v", files)
	}
	kinds := map[string]int{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("kustomization lists %s: %v", f, err)
		}
		docs, err := policyfile.Split(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for i, doc := range docs {
			var u unstructured.Unstructured
			if err := yaml.Unmarshal(doc, &u.Object); err != nil {
				t.Fatalf("%s document %d: %v", f, i+1, err)
			}
			if len(u.Object) == 0 {
				continue
			}
			err := c.Client.Patch(ctx, &u, client.Apply, client.FieldOwner("manifest-test"), client.ForceOwnership, client.DryRunAll)
			if err != nil {
				t.Errorf("%s document %d (%s %s): %v", f, i+1, u.GetKind(), u.GetName(), err)
				continue
			}
			kinds[u.GetKind()]++
		}
	}
	for _, want := range []string{"Namespace", "CustomResourceDefinition", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "RoleBinding", "Deployment", "Service", "APIService", "ValidatingWebhookConfiguration", "Secret", "Role", "CloneSet", "ScalingPolicy", "HorizontalPodAutoscaler"} {
		if kinds[want] == 0 {
			t.Errorf("no %s was applied; applied %v", want, kinds)
		}
	}
	// The Service that dispatchers use selects only allocated pods.
	edge, _ := os.ReadFile("samples/srs-edge-cloneset.yaml")
	if !strings.Contains(string(edge), "streamscaler.io/state: allocated") {
		t.Error("the sample Service must select streamscaler.io/state: allocated")
	}
}
