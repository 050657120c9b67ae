// Package predictor will forecast per-metric load (Holt-Winters, seasonal detection, a
// short-horizon trend) on gonum, so that scale-out comes before a surge. It is empty
// until the forecasting issue; it must not import Kubernetes, Prometheus, autoscaler or
// statemachine packages.
package predictor
