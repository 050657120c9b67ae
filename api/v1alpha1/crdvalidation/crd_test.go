package crdvalidation

import (
	"context"
	"testing"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	crdvalidation "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation"
	"sigs.k8s.io/yaml"

	"github.com/streamscaler/streamscaler/deploy/crd"
)

// TestTheAPIServerWouldAcceptTheCRD runs the API server's own checks of a CRD on the
// generated one: a structural schema, defaults that are pruned and valid against it, and
// CEL rules that compile within the per-rule and per-CRD cost limits.
func TestTheAPIServerWouldAcceptTheCRD(t *testing.T) {
	var v1 apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(crd.ScalingPolicy, &v1); err != nil {
		t.Fatal(err)
	}
	apiextensionsv1.SetObjectDefaults_CustomResourceDefinition(&v1)
	var internal apiextensions.CustomResourceDefinition
	if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(&v1, &internal, nil); err != nil {
		t.Fatal(err)
	}
	internal.Status.StoredVersions = []string{"v1alpha1"}
	for _, e := range crdvalidation.ValidateCustomResourceDefinition(context.Background(), &internal) {
		t.Error(e)
	}
}
