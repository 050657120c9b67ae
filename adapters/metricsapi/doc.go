// Package metricsapi is the metrics source that reads metrics.k8s.io/v1beta1 PodMetrics,
// which metrics-server serves, and turns them into CPU and memory utilisation: a
// percentage of the pod's requests, counted the way the HorizontalPodAutoscaler counts
// it. It serves the keys cpu and memory only and leaves every other key missing. It
// makes one List call per decision and never imports autoscaler.
package metricsapi
