// Package autoscaler decides how many media-server pods a fleet needs and which pods
// change business state, without cutting a live stream.
//
// The decisions are pure: per-pod samples, pod states, the ScalingPolicy spec and the
// current time go in; a Recommendation, a scale Plan and drain Steps come out.
// recommend.go sizes the fleet per metric with the HorizontalPodAutoscaler's conservative
// rules for missing data; normalize.go applies tolerance, stabilization windows, rate
// policies and bounds; plan.go picks the pods to tombstone, revive, cancel and release.
// Nothing here calls time.Now, talks to the Kubernetes API or imports adapters.
package autoscaler
