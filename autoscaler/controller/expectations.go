package controller

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Reads come from the informer cache, which lags the API server by the time a watch
// event takes to arrive. A pass that read a pod or a CloneSet from before a write of its
// own would decide on a state it already changed: tombstone a second pod for the same
// scale-in, or lose a write to a conflict. So, as Kubernetes' own workload controllers
// keep expectations, the controller remembers every object it wrote with the
// resourceVersion the object had before the write, and a pass that still reads that
// version waits for the cache instead of deciding. Comparing with the version before the
// write needs no ordering of resourceVersions: any other version is the write or a later
// change built on it.

// cacheWaitLimit is how long a pass waits for the cache to show a write of its own before
// it reads that pass from the API server instead (a watch that broke and is relisting).
const cacheWaitLimit = 5 * time.Second

// forgetWritesAfter drops a remembered write whose object the passes no longer read (it
// was deleted, or left the CloneSet).
const forgetWritesAfter = 2 * time.Minute

// expectations are the writes whose effect the cache has not shown yet, by object UID.
type expectations struct {
	mu sync.Mutex
	m  map[types.UID]expectedWrite
}

type expectedWrite struct {
	before string    // the object's resourceVersion before the write
	at     time.Time // when it was written
}

// wrote records a write of the object uid, which had resourceVersion before.
func (e *expectations) wrote(uid types.UID, before string, now time.Time) {
	if before == "" || uid == "" {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil {
		e.m = map[types.UID]expectedWrite{}
	}
	if _, ok := e.m[uid]; !ok {
		// Several writes in one pass: the first one's version is the one the cache may
		// still show.
		e.m[uid] = expectedWrite{before: before, at: now}
	}
}

// behind returns the first of objs that the cache still shows as it was before a write of
// ours, and how long ago that write was; it forgets the writes the cache has shown and
// those older than forgetWritesAfter.
func (e *expectations) behind(now time.Time, objs ...client.Object) (string, time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for uid, w := range e.m {
		if now.Sub(w.at) > forgetWritesAfter {
			delete(e.m, uid)
		}
	}
	name, since := "", time.Duration(0)
	for _, o := range objs {
		w, ok := e.m[o.GetUID()]
		if !ok {
			continue
		}
		if o.GetResourceVersion() != w.before {
			delete(e.m, o.GetUID())
			continue
		}
		if name == "" {
			name, since = o.GetName(), now.Sub(w.at)
		}
	}
	return name, since
}

// expectingClient records the controller's writes of pods, CloneSets and policies in
// expectations.
type expectingClient struct {
	client.Client
	exp *expectations
	now func() time.Time
}

func (c *expectingClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	before := obj.GetResourceVersion()
	if err := c.Client.Patch(ctx, obj, patch, opts...); err != nil {
		return err
	}
	if obj.GetResourceVersion() != before {
		c.exp.wrote(obj.GetUID(), before, c.now())
	}
	return nil
}

func (c *expectingClient) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	before := obj.GetResourceVersion()
	if err := c.Client.Update(ctx, obj, opts...); err != nil {
		return err
	}
	if obj.GetResourceVersion() != before {
		c.exp.wrote(obj.GetUID(), before, c.now())
	}
	return nil
}
