package controller

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// DefaultEvictionSlots is how many evictions run at once when Reconciler.EvictionSlots
// is not set.
const DefaultEvictionSlots = 16

// evictions runs the drain timeout's evictions off the reconcile path. An SRS server
// kicks its players one by one with a pause in between, so an eviction of thousands of
// players takes minutes: inside a pass it would hold a reconcile worker all that time,
// and as many of them as there are workers would stall every other policy.
//
// A pass that reaches a drain timeout asks poll for the pod's eviction: the first ask
// starts it in the background (when a slot is free), later asks find it running, and
// the first ask after it ended takes its outcome. Meanwhile the pod stays in tombstone.
// When an eviction ends, wake brings its policy back at once.
type evictions struct {
	mu      sync.Mutex
	slots   int
	running int
	byPod   map[types.UID]*eviction
	// ctx bounds every eviction: the manager's, so that they stop with it.
	ctx  context.Context
	wake func(types.NamespacedName)
	// now tells when an attempt failed, for its retry time.
	now func() time.Time
}

// eviction is one pod's eviction at one drain timeout, over its attempts.
type eviction struct {
	policy types.NamespacedName
	// since is when the pod's tombstone began: a pod revived and tombstoned again has a
	// new drain timeout, and a new eviction.
	since   time.Time
	running bool
	// cancel stops a running attempt: its pod left tombstone (revived, or gone), and
	// the players it still has are to stay.
	cancel context.CancelFunc
	// cut adds up the streams every attempt cut, a failed one's too.
	cut int
	// err is the last attempt's failure, reported once; retryAt is when the next attempt
	// may start.
	err     error
	ended   bool
	retryAt time.Time
}

// evictStatus is what poll tells a pass.
type evictStatus int

const (
	// evictWaiting: the eviction runs, or waits for a slot or its retry time.
	evictWaiting evictStatus = iota
	// evictFailed: the last attempt failed (err); the next one starts at retryAt.
	evictFailed
	// evictDone: every stream left was evicted (cut in all).
	evictDone
)

// poll returns the state of pod's eviction for the tombstone that began at since,
// starting run when none runs, a slot is free and no retry is pending. now is the
// pass's time; retry is how long a failed eviction waits before the next attempt.
func (e *evictions) poll(pod types.UID, policy types.NamespacedName, since, now time.Time, retry time.Duration,
	run func(context.Context) (int, error)) (evictStatus, int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.byPod == nil {
		e.byPod = map[types.UID]*eviction{}
	}
	ev := e.byPod[pod]
	if ev != nil && !ev.since.Equal(since) && !ev.running {
		ev = nil // an earlier tombstone's
	}
	if ev == nil {
		ev = &eviction{policy: policy, since: since}
		e.byPod[pod] = ev
	}
	switch {
	case ev.running:
		return evictWaiting, ev.cut, nil
	case ev.ended && ev.err == nil:
		delete(e.byPod, pod)
		return evictDone, ev.cut, nil
	case ev.err != nil:
		err := ev.err
		ev.err, ev.ended = nil, false // not done: the next attempt starts at retryAt
		return evictFailed, ev.cut, err
	case now.Before(ev.retryAt):
		return evictWaiting, ev.cut, nil
	}
	limit := e.slots
	if limit <= 0 {
		limit = DefaultEvictionSlots
	}
	if e.running >= limit {
		return evictWaiting, ev.cut, nil
	}
	e.running++
	ev.running, ev.ended = true, false
	parent := e.ctx
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(parent)
	ev.cancel = cancel
	go func() {
		cut, err := run(ctx)
		cancel()
		e.mu.Lock()
		e.running--
		ev.running, ev.ended, ev.cancel = false, true, nil
		ev.cut += cut
		ev.err = err
		if err != nil {
			ended := now
			if e.now != nil {
				ended = e.now()
			}
			ev.retryAt = ended.Add(retry)
		}
		wake := e.wake
		e.mu.Unlock()
		if wake != nil {
			wake(ev.policy)
		}
	}()
	return evictWaiting, ev.cut, nil
}

// forget drops a policy's evictions of pods that are no longer in tombstone (revived,
// or gone), and stops those still running: a revived pod serves again, and its players
// stay. What a stopped attempt cut is counted when it returns.
func (e *evictions) forget(policy types.NamespacedName, keep func(types.UID) bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for uid, ev := range e.byPod {
		if ev.policy != policy || keep(uid) {
			continue
		}
		if ev.running {
			ev.cancel()
			continue
		}
		delete(e.byPod, uid)
	}
}

// context is the one background work runs in: the manager's, or Background before
// SetupWithManager.
func (e *evictions) context() context.Context {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ctx == nil {
		return context.Background()
	}
	return e.ctx
}

// wakeUp brings a policy back for a pass, when SetupWithManager gave a way to.
func (e *evictions) wakeUp(k types.NamespacedName) {
	e.mu.Lock()
	wake := e.wake
	e.mu.Unlock()
	if wake != nil {
		wake(k)
	}
}

// inFlight is how many evictions run now.
func (e *evictions) inFlight() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.running
}
