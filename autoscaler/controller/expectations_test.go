package controller

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func versioned(name, uid, rv string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID(uid), ResourceVersion: rv}}
}

// TestExpectations: a pass that reads an object at the version it had before a write of
// ours is behind; any other version is the write or a change built on it, and the write
// is forgotten; a write whose object is never read again is forgotten after a while.
func TestExpectations(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	var e expectations
	e.wrote("a", "10", t0)
	e.wrote("a", "11", t0.Add(time.Second)) // a second write in the pass: the first version counts
	e.wrote("b", "20", t0)
	if name, since := e.behind(t0.Add(2*time.Second), versioned("pod-a", "a", "10"), versioned("pod-b", "b", "20")); name != "pod-a" || since != 2*time.Second {
		t.Fatalf("behind = %q, %v; want pod-a, 2s", name, since)
	}
	if name, _ := e.behind(t0.Add(3*time.Second), versioned("pod-a", "a", "12"), versioned("pod-b", "b", "20")); name != "pod-b" {
		t.Fatalf("pod-a shows its write, pod-b does not: behind = %q, want pod-b", name)
	}
	if name, _ := e.behind(t0.Add(4*time.Second), versioned("pod-a", "a", "10")); name != "" {
		t.Fatalf("a write the cache showed once is forgotten: behind = %q", name)
	}
	if name, _ := e.behind(t0.Add(4*time.Second), versioned("pod-c", "c", "1")); name != "" {
		t.Fatalf("an object never written: behind = %q", name)
	}
	if name, _ := e.behind(t0.Add(forgetWritesAfter+time.Second), versioned("pod-b", "b", "20")); name != "" {
		t.Fatalf("a write older than %v is forgotten: behind = %q", forgetWritesAfter, name)
	}
	e.wrote("", "1", t0)
	e.wrote("d", "", t0)
	if len(e.m) != 0 {
		t.Fatalf("writes without a UID or a version are not kept: %v", e.m)
	}
}
