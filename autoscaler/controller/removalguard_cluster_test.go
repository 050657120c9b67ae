package controller_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	appspub "github.com/openkruise/kruise-api/apps/pub"
	kruisev1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/autoscaler/controller"
	"github.com/streamscaler/streamscaler/deploy"
	"github.com/streamscaler/streamscaler/internal/testcluster"
)

// serveRemovalGuard installs deploy/webhook.yaml's ValidatingWebhookConfiguration, pointed
// at a removal guard served on 127.0.0.1 with a fresh CA (the Service reference rewritten
// to that URL), and removes both when the test ends. It returns once the API
// server calls the guard: a dry-run delete of probe is refused.
func (e *env) serveRemovalGuard(probe string) {
	e.t.Helper()
	hooks, err := testcluster.InstallWebhooks(e.c.Config, e.c.Client, deploy.Webhook)
	if err != nil {
		e.t.Fatal(err)
	}
	srv := webhook.NewServer(webhook.Options{Host: hooks.Host, Port: hooks.Port, CertDir: hooks.CertDir})
	srv.Register(controller.RemovalGuardPath, &admission.Webhook{Handler: &controller.RemovalGuard{Client: e.c.Client, Reader: e.c.Client}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Start(ctx) }()
	e.t.Cleanup(func() {
		if err := hooks.Uninstall(); err != nil {
			e.t.Error(err)
		}
		cancel()
		if err := <-done; err != nil {
			e.t.Error(err)
		}
	})
	if cfgs := hooks.Configurations(); len(cfgs) != 1 || len(cfgs[0].Webhooks) != 2 {
		e.t.Fatalf("deploy/webhook.yaml: want one configuration with two webhooks, got %d", len(cfgs))
	}
	e.eventually("the API server calls the removal guard", func() (bool, string) {
		p, ok := e.podByName(probe)
		if !ok {
			return false, "no pod " + probe
		}
		err := e.c.Client.Delete(context.Background(), &p, client.DryRunAll)
		return err != nil && strings.Contains(err.Error(), "streamscaler holds"), fmt.Sprintf("dry-run delete: %v", err)
	})
}

// removedByHand: a person deletes a pod with players (kubectl delete pod) and a node drain
// evicts another. The removal guard refuses both and labels the pods for the CloneSet to
// delete; Kruise holds them (preDelete hook), streamscaler drains them, and only once empty
// are they deleted, each replaced, replicas unchanged. A forced delete still goes at once.
func removedByHand(e *env) {
	pods := e.cloneSetWith(hookedCloneSet, 10, 10, 10)
	deleted, evicted, forced := pods[0].Name, pods[1].Name, pods[2].Name
	e.policy(nil)
	e.startController(nil, nil)
	e.eventually("every pod allocated and hooked", func() (bool, string) {
		for _, p := range e.pods() {
			if p.Labels[v1alpha1.StateLabel] != "allocated" || !hooked(p) {
				return false, states(e)
			}
		}
		return len(e.pods()) == 3, states(e)
	})
	e.serveRemovalGuard(deleted)
	if p, _ := e.podByName(deleted); p.Labels[kruisev1alpha1.SpecifiedDeleteKey] != "" {
		e.t.Fatalf("a dry-run delete labelled the pod: %v", p.Labels)
	}

	ctx := context.Background()
	p, _ := e.podByName(deleted)
	err := e.c.Client.Delete(ctx, &p)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "drains first") {
		e.t.Fatalf("delete of an allocated pod with players: %v, want refused because it drains first", err)
	}
	p, _ = e.podByName(evicted)
	err = e.c.Client.SubResource("eviction").Create(ctx, &p, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: evicted}})
	if !apierrors.IsTooManyRequests(err) {
		e.t.Fatalf("eviction of an allocated pod with players: %v, want 429 as a PodDisruptionBudget answers", err)
	}
	// Kruise paces the deletions it is asked for by the pods' availability (the update
	// strategy's maxUnavailable): it holds the second pod once the first one's
	// replacement is Ready. The test stands in for the kubelet.
	e.eventually("both pods held by the CloneSet and tombstoned; their replacements created", func() (bool, string) {
		for _, p := range e.pods() {
			if p.Labels[v1alpha1.StateLabel] == "init" && !podReady(p) {
				e.ready(p.Name)
			}
		}
		for _, n := range []string{deleted, evicted} {
			p, ok := e.podByName(n)
			if !ok || lifecycleState(p) != string(appspub.LifecycleStatePreparingDelete) || p.Labels[v1alpha1.StateLabel] != "tombstone" {
				return false, fmt.Sprintf("%s; %s labels %v", states(e), n, p.Labels)
			}
		}
		return len(e.pods()) == 5, states(e)
	})
	for _, p := range e.pods() {
		if p.Labels[v1alpha1.StateLabel] == "init" && !podReady(p) {
			e.ready(p.Name)
		}
	}
	e.consistently("pods with players are not removed", 3*time.Second, func() (bool, string) {
		_, a := e.podByName(deleted)
		_, b := e.podByName(evicted)
		return a && b, states(e)
	})

	// A forced delete (grace period 0) is only one for a pod on a node: bind it to one.
	p, _ = e.podByName(forced)
	if err := e.c.Client.SubResource("binding").Create(ctx, &p, &corev1.Binding{Target: corev1.ObjectReference{Kind: "Node", Name: "worker-1"}}); err != nil {
		e.t.Fatal(err)
	}
	zero := int64(0)
	if err := e.c.Client.Delete(ctx, &p, &client.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		e.t.Fatalf("a forced delete was refused: %v", err)
	}

	e.setStreams(deleted, 0)
	e.setStreams(evicted, 0)
	e.eventually("once drained both are deleted by the CloneSet; replicas unchanged", func() (bool, string) {
		_, a := e.podByName(deleted)
		_, b := e.podByName(evicted)
		_, c := e.podByName(forced)
		return !a && !b && !c && *e.cs().Spec.Replicas == 3, states(e)
	})
	gone := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: evicted}}
	err = e.c.Client.SubResource("eviction").Create(ctx, gone, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: evicted}})
	if !apierrors.IsNotFound(err) {
		e.t.Errorf("a drain retrying the eviction: %v, want not found (the pod is gone, the drain goes on)", err)
	}
	var cfg admissionv1.ValidatingWebhookConfiguration
	if err := e.c.Client.Get(ctx, client.ObjectKey{Name: "streamscaler-pod-removals"}, &cfg); err != nil {
		e.t.Error(errors.Join(errors.New("the webhook configuration is not installed"), err))
	}
}

func podReady(p corev1.Pod) bool { return controller.PodReady(&p) }
