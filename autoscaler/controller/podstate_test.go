package controller

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/statemachine"
)

func TestReadState(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	earlier := now.Add(-10 * time.Minute)
	cases := []struct {
		name        string
		label       *string
		since       string
		want        statemachine.State
		wantSince   time.Time
		rewrite     bool
		wantProblem bool
	}{
		{"a new pod without a label is init, from now", nil, "", statemachine.Init, now, true, false},
		{"a stored state and time are kept", ptr("tombstone"), earlier.Format(time.RFC3339), statemachine.Tombstone, earlier, false, false},
		{"an unreadable label becomes allocated, never deletable", ptr("draining"), earlier.Format(time.RFC3339), statemachine.Allocated, earlier, true, true},
		{"a missing time restarts the clock, which only lengthens a drain", ptr("tombstone"), "", statemachine.Tombstone, now, true, false},
		{"a time in the future is not trusted", ptr("tombstone"), now.Add(time.Hour).Format(time.RFC3339), statemachine.Tombstone, now, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{}, Annotations: map[string]string{}}}
			if c.label != nil {
				p.Labels[v1alpha1.StateLabel] = *c.label
			}
			if c.since != "" {
				p.Annotations[v1alpha1.StateSinceAnnotation] = c.since
			}
			got := readState(p, now)
			if got.state != c.want || !got.since.Equal(c.wantSince) || got.rewrite != c.rewrite || (got.problem != "") != c.wantProblem {
				t.Fatalf("got %+v", got)
			}
		})
	}
}

func ptr(s string) *string { return &s }
