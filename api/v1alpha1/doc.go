// Package v1alpha1 holds the ScalingPolicy API (streamscaler.io/v1alpha1).
//
// It owns the types, their kubebuilder validation markers (the CRD in deploy/crd is
// generated from them by controller-gen) and the defaulting and validation that the
// controller, the simulator and `streamscaler validate` apply offline. It imports only
// Kubernetes API machinery, never autoscaler, adapters or the controller.
//
// +kubebuilder:object:generate=true
// +groupName=streamscaler.io
package v1alpha1
