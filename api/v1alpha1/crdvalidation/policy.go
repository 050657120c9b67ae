package crdvalidation

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/deploy/crd"
)

// ScalingPolicies returns the validator of the ScalingPolicy CRD embedded in the binary.
var ScalingPolicies = sync.OnceValues(func() (*Validator, error) {
	return New(crd.ScalingPolicy, v1alpha1.GroupVersion.Version)
})

// Policy checks one ScalingPolicy document (YAML or JSON) as the API server would on
// create: the CRD's schema and CEL rules say everything a policy must meet. It returns the policy with the CRD's defaults filled in, the defaulted object as
// the API server would store it, and every problem once, sorted by field path. The
// policy is nil when there are problems; err is for a document that is not a YAML object.
func (v *Validator) Policy(ctx context.Context, doc []byte) (*v1alpha1.ScalingPolicy, map[string]any, field.ErrorList, error) {
	obj, errs, err := v.ValidateJSON(ctx, doc)
	if err != nil {
		return nil, nil, nil, err
	}
	if got, want := obj["apiVersion"], v1alpha1.GroupVersion.String(); got != want {
		errs = append(errs, field.NotSupported(field.NewPath("apiVersion"), got, []string{want}))
	}
	if got := obj["kind"]; got != "ScalingPolicy" {
		errs = append(errs, field.NotSupported(field.NewPath("kind"), got, []string{"ScalingPolicy"}))
	}
	errs = dropConsequences(errs)
	var p v1alpha1.ScalingPolicy
	if len(errs) == 0 {
		// The object passed the CRD, so it decodes; a failure here is a gap in the CRD.
		js, err := json.Marshal(obj)
		if err == nil {
			err = json.Unmarshal(js, &p)
		}
		if err != nil {
			errs = append(errs, field.InternalError(nil, fmt.Errorf("the CRD accepts what the Go types cannot read: %w", err)))
		}
	}
	if len(errs) > 0 {
		// By field path; notes on the whole object (RulesNotChecked) last.
		sort.SliceStable(errs, func(i, j int) bool {
			a, b := errs[i], errs[j]
			if onObject(a) != onObject(b) {
				return onObject(b)
			}
			return a.Field < b.Field
		})
		return nil, obj, errs, nil
	}
	return &p, obj, nil, nil
}

// onObject reports whether e is about the whole object rather than one field.
func onObject(e *field.Error) bool { return e.Field == "" || e.Field == "<nil>" }

// dropConsequences drops the CEL rules that could not be evaluated because a value below
// them is already reported (a quantity that is not one cannot be compared with zero):
// the rule's failure is a consequence, not a second problem.
func dropConsequences(errs field.ErrorList) field.ErrorList {
	var out field.ErrorList
	for _, e := range errs {
		if celRuntime.MatchString(e.Detail) && reportedBelow(errs, e) {
			continue
		}
		out = append(out, e)
	}
	return out
}

// reportedBelow reports whether another error is at e's path or inside it.
func reportedBelow(errs field.ErrorList, e *field.Error) bool {
	for _, o := range errs {
		if o != e && !celRuntime.MatchString(o.Detail) && (o.Field == e.Field || strings.HasPrefix(o.Field, e.Field+".") || strings.HasPrefix(o.Field, e.Field+"[")) {
			return true
		}
	}
	return false
}
