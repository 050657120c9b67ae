// Package prometheus is a metrics source that reads per-pod samples from a
// Prometheus-compatible query API (Prometheus, Thanos, Mimir, VictoriaMetrics). It uses
// only instant queries on /api/v1/query, one PromQL query per metric key.
//
// A query is a template: $namespace becomes the policy's namespace, $pods a regular
// expression matching exactly the asked pod names, $podLabel the label that names the
// pod (podLabel, default "pod") and $window the range of rate() (Config.RateWindow). The
// built-in queries (DefaultQueries) read SRS 5+'s own exporter, cAdvisor and
// kube-state-metrics; a policy's queries override them per key.
//
// It owns the HTTP client, built with prometheus/common's config as Prometheus builds its
// own (TLS, bearer tokens re-read from their file at every request, the proxy from the
// environment, redirects that keep the token on the host asked), per-query timeouts and
// bounded bodies, and the mapping of result series to pods. Sample hygiene (stale, NaN, infinite, negative,
// implausible, unknown pods) is adapters/samples'. A failed query fails the whole read, so the
// controller holds the fleet instead of acting on half the metrics; a bad series is left
// out, never read as zero. It never imports autoscaler.
package prometheus
