package controller_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// laggingReader is an informer cache that is slow to see changes: it serves what it read
// until it is lag old, so a pass right after a write reads the object as it was before.
type laggingReader struct {
	inner client.Reader
	lag   time.Duration
	mu    sync.Mutex
	seen  map[string]laggingEntry
}

type laggingEntry struct {
	obj client.Object
	lst client.ObjectList
	at  time.Time
}

func (l *laggingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	id := fmt.Sprintf("get %T %s", obj, key)
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.seen[id]; ok && time.Since(e.at) < l.lag {
		reflect.ValueOf(obj).Elem().Set(reflect.ValueOf(e.obj.DeepCopyObject()).Elem())
		return nil
	}
	if err := l.inner.Get(ctx, key, obj, opts...); err != nil {
		return err
	}
	l.remember(id, laggingEntry{obj: obj.DeepCopyObject().(client.Object), at: time.Now()})
	return nil
}

func (l *laggingReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	o := &client.ListOptions{}
	o.ApplyOptions(opts)
	id := fmt.Sprintf("list %T %s %v %v", list, o.Namespace, o.LabelSelector, o.FieldSelector)
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.seen[id]; ok && time.Since(e.at) < l.lag {
		reflect.ValueOf(list).Elem().Set(reflect.ValueOf(e.lst.DeepCopyObject()).Elem())
		return nil
	}
	if err := l.inner.List(ctx, list, opts...); err != nil {
		return err
	}
	l.remember(id, laggingEntry{lst: list.DeepCopyObject().(client.ObjectList), at: time.Now()})
	return nil
}

func (l *laggingReader) remember(id string, e laggingEntry) {
	if l.seen == nil {
		l.seen = map[string]laggingEntry{}
	}
	l.seen[id] = e
}

// laggingCache: the controller reads pods and the CloneSet through a cache that shows
// changes only 1.5 s late. Each pass after a write of its own (a tombstone, the drained
// pod's state, the CloneSet's scale-in) reads the objects as they were before it, and
// waits for the cache instead of deciding on them: one pod is tombstoned, the CloneSet is
// written once for it, and no write is lost to a conflict.
func laggingCache(e *env) {
	e.lag = 1500 * time.Millisecond
	_, victim, _ := drainOne(e, nil, nil)
	e.setStreams(victim, 0)
	e.eventually("the drained pod is deleted by kruise", func() (bool, string) {
		_, there := e.podByName(victim)
		return !there && *e.cs().Spec.Replicas == 3, states(e)
	})
	mine := func(kv ...string) map[string]string {
		m := map[string]string{"namespace": e.ns, "policy": "edge"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	if n := e.metric("streamscaler_pod_transitions_total", mine("event", "scaleIn")); n != 1 {
		e.t.Errorf("%v pods tombstoned, want 1", n)
	}
	if n := e.metric("streamscaler_write_conflicts_total", mine()); n != 0 {
		e.t.Errorf("%v writes lost to conflicts: passes decided on their own stale writes", n)
	}
	if n := e.metric("streamscaler_cache_behind_total", mine("action", "wait")); n == 0 {
		e.t.Error("no pass found the lagging cache behind a write: the test proves nothing")
	}
	if cs := e.cs(); len(cs.Spec.ScaleStrategy.PodsToDelete) > 1 {
		e.t.Errorf("podsToDelete %v: want the drained pod named once", cs.Spec.ScaleStrategy.PodsToDelete)
	}
}
