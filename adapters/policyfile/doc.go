// Package policyfile reads ScalingPolicy YAML files, as `streamscaler simulate` and
// `streamscaler validate` take them: one ScalingPolicy document, optionally followed by
// other documents (such as a SimulationProfile) that callers parse themselves. It does
// file I/O only and never imports autoscaler.
package policyfile
