// Package crdvalidation validates ScalingPolicy objects offline with the API server's own
// code: the CRD's OpenAPI schema, its defaults and its CEL rules, from the generated CRD.
// What it accepts and rejects is what kube-apiserver accepts and rejects on create with
// strict field validation (kubectl's default): unknown fields are errors too.
package crdvalidation

import (
	"context"
	"fmt"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	kjson "k8s.io/apimachinery/pkg/util/json"
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

// Validate does to obj (a decoded JSON object, changed in place) what the API server does
// on create: it drops unknown fields, reporting each as an error, applies the defaults and
// returns every schema and CEL error with its field path. Like the API server, it runs the
// CEL rules only when the schema found no blocking error (a wrong type, a missing field, a
// value not in an enum, too many items), and says so with RulesNotChecked.
func (v *Validator) Validate(ctx context.Context, obj map[string]any) field.ErrorList {
	errs := v.unknownFields(obj)
	defaulting.Default(obj, v.structural)
	schemaErrs := apiservervalidation.ValidateCustomResource(nil, obj, v.schema)
	errs = append(errs, schemaErrs...)
	if blocksRules(schemaErrs) {
		return append(errs, field.Invalid(nil, nil, RulesNotChecked))
	}
	celErrs, _ := v.cel.Validate(ctx, nil, v.structural, obj, nil, celconfig.RuntimeCELCostBudget)
	return append(errs, celErrs...)
}

// RulesNotChecked is the API server's note when schema errors kept it from running the CEL rules.
const RulesNotChecked = "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"

// blocksRules mirrors the API server (apiextensions-apiserver's customresource strategy,
// hasBlockingErr): these schema errors leave values CEL cannot reason about.
func blocksRules(errs field.ErrorList) bool {
	for _, e := range errs {
		switch e.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong, field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return true
		}
	}
	return false
}

// unknownFields prunes obj as the API server does and reports each field it dropped;
// metadata is read as ObjectMeta, as the API server's strict field validation does.
func (v *Validator) unknownFields(obj map[string]any) field.ErrorList {
	paths := pruning.PruneWithOptions(obj, v.structural, true, schema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
	var errs field.ErrorList
	_, _, meta, err := objectmeta.GetObjectMetaWithOptions(obj, objectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
	if err != nil {
		errs = append(errs, field.Invalid(field.NewPath("metadata"), field.OmitValueType{}, err.Error()))
	}
	for _, p := range append(paths, meta...) {
		errs = append(errs, unknownField(p, v.suggest(p)))
	}
	return errs
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
	if obj == nil {
		return nil, nil, fmt.Errorf("reading object: not a YAML mapping")
	}
	return obj, v.Validate(ctx, obj), nil
}
