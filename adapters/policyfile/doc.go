// Package policyfile reads ScalingPolicy YAML files, as `streamscaler simulate` and
// `streamscaler validate` take them: one ScalingPolicy document, optionally followed by
// other documents (such as a SimulationProfile) that callers parse themselves. The policy
// is checked and defaulted with the embedded CRD (api/v1alpha1/crdvalidation), as the API
// server would. It never imports autoscaler.
package policyfile
