// Package externalmetrics serves the controller's decisions as the Kubernetes external
// metrics API (external.metrics.k8s.io/v1beta1), so an HPA or KEDA can scale on what
// streamscaler recommends or forecasts.
//
// It owns three things: Store, which the controller publishes into after each decision;
// the provider that answers GetExternalMetric from the Store, one value per policy
// labelled policy=<name>; and Server, the secure API server (custom-metrics-apiserver on
// k8s.io/apiserver) whose authentication and authorization are delegated to the
// kube-apiserver. It never reads the clock for a value's timestamp (the publisher passes
// it in) and never imports autoscaler.
package externalmetrics
