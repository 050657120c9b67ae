package controller

import (
	"context"
	"errors"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// gate is an eviction the test ends: it reports cut streams and err when released.
type gate struct {
	started chan struct{}
	release chan struct{}
	cut     int
	err     error
}

func newGate(cut int, err error) *gate {
	return &gate{started: make(chan struct{}), release: make(chan struct{}), cut: cut, err: err}
}

func (g *gate) run(context.Context) (int, error) {
	close(g.started)
	<-g.release
	return g.cut, g.err
}

func TestEvictions(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)
	clock := t0
	woke := make(chan types.NamespacedName, 10)
	e := &evictions{slots: 1, now: func() time.Time { return clock }, wake: func(k types.NamespacedName) { woke <- k }}
	pol := types.NamespacedName{Namespace: "live", Name: "edge"}
	since := t0.Add(-30 * time.Minute)

	// The first ask starts it; asks while it runs find it running, and start nothing.
	a := newGate(0, errors.New("connection refused"))
	if st, _, _ := e.poll("a", pol, since, t0, time.Minute, a.run); st != evictWaiting {
		t.Fatalf("first ask: %v, want waiting", st)
	}
	<-a.started
	if st, _, _ := e.poll("a", pol, since, t0, time.Minute, func(context.Context) (int, error) { panic("started twice") }); st != evictWaiting {
		t.Fatalf("while running: %v, want waiting", st)
	}
	// One slot: a second pod waits for it.
	b := newGate(7, nil)
	if st, _, _ := e.poll("b", pol, since, t0, time.Minute, b.run); st != evictWaiting || e.inFlight() != 1 {
		t.Fatalf("second pod with no slot: %v, %d running; want waiting, 1", st, e.inFlight())
	}
	select {
	case <-b.started:
		t.Fatal("the second eviction started beyond the one slot")
	default:
	}

	// A failure after 3 kicks: reported once, counted, retried no sooner than a minute later.
	a.cut = 3
	close(a.release)
	if k := <-woke; k != pol {
		t.Fatalf("woke %v, want %v", k, pol)
	}
	st, cut, err := e.poll("a", pol, since, t0, time.Minute, nil)
	if st != evictFailed || cut != 3 || err == nil {
		t.Fatalf("after a failure: %v, %d cut, %v; want failed, 3, the error", st, cut, err)
	}
	if st, _, _ := e.poll("a", pol, since, t0.Add(30*time.Second), time.Minute, func(context.Context) (int, error) { panic("retried too soon") }); st != evictWaiting {
		t.Fatalf("before the retry time: %v, want waiting", st)
	}
	// The slot is free: the second pod's eviction starts and ends.
	if st, _, _ := e.poll("b", pol, since, t0, time.Minute, b.run); st != evictWaiting {
		t.Fatalf("second pod: %v", st)
	}
	<-b.started
	close(b.release)
	<-woke
	if st, cut, err := e.poll("b", pol, since, t0, time.Minute, nil); st != evictDone || cut != 7 || err != nil {
		t.Fatalf("second pod done: %v, %d, %v; want done, 7, nil", st, cut, err)
	}

	// The retry cuts 2 more: 5 in all.
	retry := newGate(2, nil)
	if st, _, _ := e.poll("a", pol, since, t0.Add(time.Minute), time.Minute, retry.run); st != evictWaiting {
		t.Fatalf("retry: %v", st)
	}
	<-retry.started
	close(retry.release)
	<-woke
	if st, cut, _ := e.poll("a", pol, since, t0.Add(time.Minute), time.Minute, nil); st != evictDone || cut != 5 {
		t.Fatalf("after the retry: %v, %d cut; want done, 5 (3 + 2)", st, cut)
	}

	// A pod tombstoned again (a new since) gets a new eviction, not the old outcome.
	c := newGate(1, errors.New("boom"))
	e.poll("c", pol, since, t0, time.Minute, c.run)
	<-c.started
	close(c.release)
	<-woke
	fresh := newGate(4, nil)
	if st, cut, _ := e.poll("c", pol, since.Add(time.Hour), t0, time.Minute, fresh.run); st != evictWaiting || cut != 0 {
		t.Fatalf("a new tombstone: %v, %d cut; want a new eviction", st, cut)
	}
	<-fresh.started
	close(fresh.release)
	<-woke

	// forget drops ended evictions of pods no longer tombstoned, of that policy only.
	e.poll("d", types.NamespacedName{Namespace: "live", Name: "other"}, since, t0, time.Minute, func(context.Context) (int, error) { return 0, errors.New("x") })
	<-woke
	e.forget(pol, func(types.UID) bool { return false })
	e.mu.Lock()
	_, c1 := e.byPod["c"]
	_, d1 := e.byPod["d"]
	e.mu.Unlock()
	if c1 || !d1 {
		t.Fatalf("forget: pod c kept %v (want dropped), pod d of another policy kept %v (want kept)", c1, d1)
	}

	// A pod revived while its eviction runs: forget stops the eviction, and the players
	// it had not kicked yet stay.
	stopped := make(chan error, 1)
	e.poll("r", pol, since, t0, time.Minute, func(ctx context.Context) (int, error) {
		<-ctx.Done()
		stopped <- ctx.Err()
		return 1, ctx.Err()
	})
	e.forget(pol, func(types.UID) bool { return false })
	select {
	case err := <-stopped:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("the revived pod's eviction ended with %v, want it canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("forget did not stop the running eviction of a pod that left tombstone")
	}
	<-woke
}
