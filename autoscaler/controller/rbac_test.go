package controller_test

import (
	"os"
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

// TestRoleNeverDeletesPods reads the generated ClusterRole: the controller patches pods
// and updates CloneSets (and patches policies, for their finalizer); it has no verb that
// removes a pod.
func TestRoleNeverDeletesPods(t *testing.T) {
	data, err := os.ReadFile("../../deploy/rbac/role.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.UnmarshalStrict(data, &role); err != nil {
		t.Fatal(err)
	}
	verbs := func(group, resource string) []string {
		var out []string
		for _, r := range role.Rules {
			if slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) {
				out = append(out, r.Verbs...)
			}
		}
		return out
	}
	for _, bad := range []string{"delete", "deletecollection", "*"} {
		if slices.Contains(verbs("", "pods"), bad) || slices.Contains(verbs("", "pods/eviction"), "create") {
			t.Fatalf("the role may %s pods: %v", bad, role.Rules)
		}
	}
	for _, want := range []struct{ group, resource, verb string }{
		{"", "pods", "patch"}, {"apps.kruise.io", "clonesets", "update"}, {"streamscaler.io", "scalingpolicies/status", "update"},
		{"streamscaler.io", "scalingpolicies", "patch"}, // the cleanup finalizer
	} {
		if !slices.Contains(verbs(want.group, want.resource), want.verb) {
			t.Errorf("the role lacks %s on %s/%s", want.verb, want.group, want.resource)
		}
	}
}
