package demo

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

// removal is a pod the moment it started to go: its state label then.
type removal struct {
	pod, state string
}

// removals watches the fleet's pods and notes each one's state at the moment its
// deletion began, however briefly it lived in that state: polling would miss a pod
// labelled deletable and deleted between two ticks.
type removals struct {
	mu   sync.Mutex
	seen map[string]bool
	new  []removal
}

func watchRemovals(ctx context.Context, cfg *rest.Config, ns, app string) (*removals, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("watching pods: %w", err)
	}
	r := &removals{seen: map[string]bool{}}
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = "app=" + app }))
	inf := factory.Core().V1().Pods().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj any) {
			if p, ok := obj.(*corev1.Pod); ok && p.DeletionTimestamp != nil {
				r.note(p)
			}
		},
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if p, ok := obj.(*corev1.Pod); ok {
				r.note(p)
			}
		},
	}); err != nil {
		return nil, fmt.Errorf("watching pods: %w", err)
	}
	factory.Start(ctx.Done())
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if !cache.WaitForCacheSync(sctx.Done(), inf.HasSynced) {
		return nil, fmt.Errorf("watching pods: the cache did not sync")
	}
	return r, nil
}

func (r *removals) note(p *corev1.Pod) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[p.Name] {
		return
	}
	r.seen[p.Name] = true
	r.new = append(r.new, removal{pod: p.Name, state: p.Labels[v1alpha1.StateLabel]})
}

// take returns the removals noted since the last call.
func (r *removals) take() []removal {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.new
	r.new = nil
	return out
}
