// Package v1alpha1 holds the ScalingPolicy API (streamscaler.io/v1alpha1).
//
// It owns the types, their kubebuilder validation markers (the CRD in deploy/crd is
// generated from them by controller-gen) and the defaulting and validation that the
// controller, the simulator and `streamscaler validate` apply offline. It imports only
// Kubernetes API machinery, never autoscaler, adapters or the controller.
//
// The CRD is the one source of truth for what a valid policy is: schema markers and CEL
// rules (XValidation) on the types, run by the API server and, offline, by crdvalidation.
// The CEL rules guard optional fields with has() and skip values the schema already
// rejects, so that each problem is reported once, by field path, and never as a CEL
// runtime error such as "no such key". A duration's rule matches Go's duration syntax
// before it calls duration(), so that "10 minutes" is a plain error, not a CEL conversion
// error; maxLength on durations and metric types keeps the rules' estimated cost within
// the API server's budget (crdvalidation's tests run the API server's CRD checks).
//
// Defaults are +kubebuilder:default markers, so that the API server stores the values in
// force; defaults.go applies the same values to policies that never met the API server.
// A marker cannot say a default that depends on the direction of scaling (ScalingRules
// serves both), on a controller flag (metricsSource.type, prometheus.address) or whose
// absence has a meaning (prediction.season).
//
// +kubebuilder:object:generate=true
// +groupName=streamscaler.io
package v1alpha1
