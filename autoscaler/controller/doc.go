// Package controller reconciles ScalingPolicies against OpenKruise CloneSets. It is the
// only part of autoscaler that talks to the Kubernetes API: it reads the policy, the
// CloneSet and its pods, asks the pure decision core (package autoscaler) what to do,
// writes pod states as labels, resizes the CloneSet through ScaleTarget, and reports
// status, conditions and events. All scaling state lives on the pods and the CloneSet,
// so a restarted controller or a new leader resumes a drain where it stopped. It also
// keeps each policy's own lifecycle (lifecycle.go): one policy per CloneSet, and a
// finalizer that releases the draining pods of a deleted policy.
package controller
