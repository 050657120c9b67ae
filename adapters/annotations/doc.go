// Package annotations is a metrics source that reads per-pod samples from pod
// annotations, streamscaler.io/metric.<key> (for example streamscaler.io/metric.pullStreams),
// with their time in streamscaler.io/metric-time. A sidecar or the media server's own
// hook writes them. It suits small fleets, demos and tests on a real API server; fleets
// with Prometheus or the SRS HTTP API use those sources. It never imports autoscaler.
package annotations
