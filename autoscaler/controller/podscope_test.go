package controller_test

import (
	"context"
	"fmt"
	"slices"
	"time"

	kruisev1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/streamscaler/streamscaler/autoscaler/controller"
)

// podScope: a cache built with the controller's options, on the real API server, holds
// the pods kruise-manager made for a CloneSet and not another pod of the same namespace;
// and a pass decides the fleet beside it as before.
func podScope(e *env) {
	fleet := e.cloneSet(30, 30)
	ctx := context.Background()
	stray := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: "batch-worker", Labels: map[string]string{"app": "batch-worker"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "worker", Image: "registry.invalid/batch/worker:1"}}},
	}
	if err := e.c.Client.Create(ctx, stray); err != nil {
		e.t.Fatal(err)
	}
	var want []string
	for _, p := range fleet {
		if p.Labels[kruisev1alpha1.CloneSetInstanceID] == "" {
			e.t.Fatalf("kruise-manager made pod %s without the %s label the scope relies on: %v", p.Name, kruisev1alpha1.CloneSetInstanceID, p.Labels)
		}
		want = append(want, p.Name)
	}

	opts := controller.CacheOptions()
	opts.Scheme = e.c.Scheme
	pods, err := cache.New(e.c.Config, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = pods.Start(cctx) }()
	// Reading before Start has run fails ("the cache is not started"): wait for it.
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	defer wcancel()
	if !pods.WaitForCacheSync(wctx) {
		e.t.Fatal("the cache did not start and sync within a minute")
	}
	var list corev1.PodList
	if err := pods.List(ctx, &list, client.InNamespace(e.ns)); err != nil { // starts the pod informer and waits for its sync
		e.t.Fatal(err)
	}
	var got []string
	for _, p := range list.Items {
		got = append(got, p.Name)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		e.t.Errorf("the controller's cache holds pods %v, want the CloneSet's %v only (not %s)", got, want, stray.Name)
	}
	err = pods.Get(ctx, types.NamespacedName{Namespace: e.ns, Name: stray.Name}, &corev1.Pod{})
	if !apierrors.IsNotFound(err) {
		e.t.Errorf("the cache's Get of %s: %v, want not found", stray.Name, err)
	}

	// The controller, with the pod beside its fleet: 60 players on 2 pods of 10 go to 6.
	e.policy(nil)
	e.startController(nil, nil)
	e.eventually("the fleet scaled out beside the other pod", func() (bool, string) {
		r := *e.cs().Spec.Replicas
		return r == 6, fmt.Sprintf("replicas %d", r)
	})
}
