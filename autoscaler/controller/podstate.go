package controller

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/statemachine"
)

// storedState reads a pod's business state from its label and annotation.
type storedState struct {
	state statemachine.State
	since time.Time
	// rewrite is set when the stored values are missing or unreadable and must be written.
	rewrite bool
	// problem explains an unreadable label, for a warning event.
	problem string
}

// readState decodes the label and annotation. A pod without a label is new (init). An
// unreadable label becomes allocated, the one state in which nothing is removed or
// refused; an unreadable time becomes now, which can only lengthen a drain.
func readState(p *corev1.Pod, now time.Time) storedState {
	raw, ok := p.Labels[v1alpha1.StateLabel]
	if !ok {
		return storedState{state: statemachine.Init, since: now, rewrite: true}
	}
	st := storedState{}
	s, err := statemachine.ParseState(raw)
	if err != nil {
		st.state, st.rewrite, st.problem = statemachine.Allocated, true, err.Error()
	} else {
		st.state = s
	}
	since, err := time.Parse(time.RFC3339, p.Annotations[v1alpha1.StateSinceAnnotation])
	if err != nil || since.After(now) {
		since, st.rewrite = now, true
	}
	st.since = since
	return st
}

// PodReady is the readiness the controller decides on: Running with the Ready condition
// true. The demo reads pods the same way.
func PodReady(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
