// Package crd embeds the generated CustomResourceDefinitions, so that the binary can
// validate policies offline with exactly the schema the API server is given.
package crd

import _ "embed"

// ScalingPolicy is the generated ScalingPolicy CRD (controller-gen, `make generate`).
//
//go:embed streamscaler.io_scalingpolicies.yaml
var ScalingPolicy []byte
