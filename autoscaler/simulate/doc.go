// Package simulate replays a demand trace through a fleet of media pods, side by side
// under several scaling policies, on the same stream arrivals.
//
// It is deterministic (seeded) and discrete in time. Streams arrive and end with
// heavy-tailed (log-normal) session lengths; a dispatcher puts each new stream on the
// least-loaded pod that may take it, or with a packed dispatch on the fullest one below
// capacity; pods take a configured time to start. The reactive policy is this project's
// decision core and pod state machine; hpa is the upstream
// HorizontalPodAutoscaler algorithm on CPU, whose scale-in deletes pods that carry
// streams; static-peak provisions for the peak all the time; oracle is the clairvoyant
// lower bound. Like the rest of autoscaler it is pure: the caller reads the trace and
// writes the report.
package simulate
