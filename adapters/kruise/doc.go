// Package kruise reads and resizes OpenKruise CloneSets. Scale lowers or raises
// spec.replicas and names the pods to delete in spec.scaleStrategy.podsToDelete in one
// update guarded by the object's resourceVersion, so that a concurrent writer is never
// overwritten. It does API I/O only and never imports autoscaler.
package kruise
