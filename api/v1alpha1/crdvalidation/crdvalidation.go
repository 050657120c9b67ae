// Package crdvalidation validates ScalingPolicy objects offline with the API server's own
// code: the CRD's OpenAPI schema, its defaults and its CEL rules, from the generated CRD.
// What it accepts and rejects is what kube-apiserver accepts and rejects on create.
package crdvalidation

import (
	"context"
	"fmt"
	kjson "k8s.io/apimachinery/pkg/util/json"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"sigs.k8s.io/yaml"
)

// Validator checks objects of one CRD version.
type Validator struct {
	structural *schema.Structural
	schema     apiservervalidation.SchemaValidator
	cel        *cel.Validator
}

// New builds a validator for the served version of a CRD given as YAML.
func New(crdYAML []byte, version string) (*Validator, error) {
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(crdYAML, &crd); err != nil {
		return nil, fmt.Errorf("reading CRD: %w", err)
	}
	for _, v := range crd.Spec.Versions {
		if v.Name != version {
			continue
		}
		if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
			return nil, fmt.Errorf("CRD %s version %s has no schema", crd.Name, version)
		}
		internal := &apiextensions.JSONSchemaProps{}
		if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema.OpenAPIV3Schema, internal, nil); err != nil {
			return nil, fmt.Errorf("converting schema of %s: %w", crd.Name, err)
		}
		s, err := schema.NewStructural(internal)
		if err != nil {
			return nil, fmt.Errorf("structural schema of %s: %w", crd.Name, err)
		}
		sv, _, err := apiservervalidation.NewSchemaValidator(internal)
		if err != nil {
			return nil, fmt.Errorf("schema validator of %s: %w", crd.Name, err)
		}
		return &Validator{structural: s, schema: sv, cel: cel.NewValidator(s, true, celconfig.PerCallLimit)}, nil
	}
	return nil, fmt.Errorf("CRD %s has no version %s", crd.Name, version)
}

// Validate applies the CRD's defaults to obj (a decoded JSON object, changed in place)
// and returns every schema and CEL error with its field path.
func (v *Validator) Validate(ctx context.Context, obj map[string]any) field.ErrorList {
	defaulting.Default(obj, v.structural)
	errs := apiservervalidation.ValidateCustomResource(nil, obj, v.schema)
	celErrs, _ := v.cel.Validate(ctx, nil, v.structural, obj, nil, celconfig.RuntimeCELCostBudget)
	return append(errs, celErrs...)
}

// ValidateJSON is Validate on a JSON or YAML document; it returns the defaulted object.
func (v *Validator) ValidateJSON(ctx context.Context, doc []byte) (map[string]any, field.ErrorList, error) {
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("reading object: %w", err)
	}
	var obj map[string]any
	if err := kjson.Unmarshal(js, &obj); err != nil {
		return nil, nil, fmt.Errorf("reading object: %w", err)
	}
	return obj, v.Validate(ctx, obj), nil
}
