package controller

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	kruisev1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	admissionv1 "k8s.io/api/admission/v1"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

func guardPod(state string, hook bool) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "live", Name: "edge-1", Labels: map[string]string{},
		Annotations: map[string]string{v1alpha1.PolicyAnnotation: "edge"}}}
	if state != "" {
		p.Labels[v1alpha1.StateLabel] = state
	}
	if hook {
		p.Labels[v1alpha1.DrainHookLabel] = v1alpha1.DrainHookValue
	}
	return p
}

func onNode(p *corev1.Pod) *corev1.Pod { p.Spec.NodeName = "worker-1"; return p }

// TestJudgeRemoval is the guard's verdict table: only a hooked pod that may have viewers
// is held, and a forced deletion passes, counted.
func TestJudgeRemoval(t *testing.T) {
	now := metav1.Now()
	terminating := guardPod("allocated", true)
	terminating.DeletionTimestamp = &now
	for _, tc := range []struct {
		name string
		pod  *corev1.Pod
		r    removal
		want string
	}{
		{"allocated and hooked", guardPod("allocated", true), removal{user: "alice"}, verdictHeld},
		{"tombstone and hooked", guardPod("tombstone", true), removal{user: "alice"}, verdictHeld},
		{"evicted while allocated", guardPod("allocated", true), removal{eviction: true, user: "system:serviceaccount:kube-system:cluster-autoscaler"}, verdictHeld},
		{"no hook label: today's behaviour", guardPod("allocated", false), removal{user: "alice"}, verdictAllowed},
		{"init: no viewers yet", guardPod("init", true), removal{user: "alice"}, verdictAllowed},
		{"deletable: drained", guardPod("deletable", true), removal{user: "kruise"}, verdictAllowed},
		{"no state label yet", guardPod("", true), removal{user: "alice"}, verdictAllowed},
		{"already terminating", terminating, removal{user: "alice"}, verdictAllowed},
		{"forced", onNode(guardPod("allocated", true)), removal{user: "alice", force: true}, verdictForced},
		{"grace 0 on a pod on no node is the API server's, not forced", guardPod("allocated", true), removal{user: "alice", force: true}, verdictHeld},
		{"garbage collector", guardPod("allocated", true), removal{user: "system:serviceaccount:kube-system:generic-garbage-collector"}, verdictAllowed},
		{"kubelet", guardPod("allocated", true), removal{user: "system:node:worker-1"}, verdictAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, why := judgeRemoval(tc.pod, tc.r)
			if got != tc.want || why == "" {
				t.Errorf("verdict %q (%s), want %q", got, why, tc.want)
			}
		})
	}
}

func raw(t *testing.T, obj any) runtime.RawExtension {
	t.Helper()
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return runtime.RawExtension{Raw: b}
}

// TestRemovalGuardHandle runs AdmissionReviews through the handler: a held delete is
// refused with 403 and the pod labelled specified-delete, a held eviction with 429, a
// dry run changes nothing, and a forced delete passes.
func TestRemovalGuardHandle(t *testing.T) {
	ctx := context.Background()
	deleteReq := func(pod *corev1.Pod, opts *metav1.DeleteOptions, dry bool) admission.Request {
		req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
			UID: "1", Operation: admissionv1.Delete, Namespace: pod.Namespace, Name: pod.Name,
			Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
			Kind:      metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
			UserInfo:  authnv1.UserInfo{Username: "alice"},
			OldObject: raw(t, pod), DryRun: &dry,
		}}
		if opts != nil {
			req.Options = raw(t, opts)
		}
		return req
	}
	labels := func(c client.Client) map[string]string {
		var p corev1.Pod
		if err := c.Get(ctx, types.NamespacedName{Namespace: "live", Name: "edge-1"}, &p); err != nil {
			t.Fatal(err)
		}
		return p.Labels
	}
	newGuard := func(pod *corev1.Pod) (*RemovalGuard, client.Client) {
		c := fake.NewClientBuilder().WithScheme(guardScheme(t)).WithObjects(pod.DeepCopy()).Build()
		return &RemovalGuard{Client: c, Reader: c}, c
	}

	t.Run("a delete of an allocated pod is held and drains", func(t *testing.T) {
		pod := guardPod("allocated", true)
		g, c := newGuard(pod)
		res := g.Handle(ctx, deleteReq(pod, nil, false))
		if res.Allowed || res.Result.Code != http.StatusForbidden || !strings.Contains(res.Result.Message, "drains first") {
			t.Fatalf("response %+v, want a 403 that says the pod drains first", res.Result)
		}
		if labels(c)[kruisev1alpha1.SpecifiedDeleteKey] != "true" {
			t.Errorf("labels %v: the held pod is not marked for the CloneSet to delete", labels(c))
		}
	})
	t.Run("a dry run is refused and changes nothing", func(t *testing.T) {
		pod := guardPod("allocated", true)
		g, c := newGuard(pod)
		if res := g.Handle(ctx, deleteReq(pod, nil, true)); res.Allowed {
			t.Fatal("a dry-run delete of an allocated pod was allowed")
		}
		if _, ok := labels(c)[kruisev1alpha1.SpecifiedDeleteKey]; ok {
			t.Error("a dry run labelled the pod")
		}
	})
	t.Run("a forced delete passes and labels nothing", func(t *testing.T) {
		pod := onNode(guardPod("tombstone", true))
		g, c := newGuard(pod)
		zero := int64(0)
		if res := g.Handle(ctx, deleteReq(pod, &metav1.DeleteOptions{GracePeriodSeconds: &zero}, false)); !res.Allowed {
			t.Fatalf("a forced delete was refused: %+v", res.Result)
		}
		if _, ok := labels(c)[kruisev1alpha1.SpecifiedDeleteKey]; ok {
			t.Error("a forced delete labelled the pod")
		}
	})
	t.Run("a delete with a grace period is not forced", func(t *testing.T) {
		pod := guardPod("allocated", true)
		g, _ := newGuard(pod)
		thirty := int64(30)
		if res := g.Handle(ctx, deleteReq(pod, &metav1.DeleteOptions{GracePeriodSeconds: &thirty}, false)); res.Allowed {
			t.Fatal("a delete with a 30 s grace period was allowed")
		}
	})
	t.Run("an eviction is refused with 429 so that a drain retries", func(t *testing.T) {
		pod := guardPod("allocated", true)
		g, c := newGuard(pod)
		dry := false
		req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
			UID: "2", Operation: admissionv1.Create, Namespace: "live", Name: "edge-1", SubResource: "eviction",
			Resource: metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
			Kind:     metav1.GroupVersionKind{Group: "policy", Version: "v1", Kind: "Eviction"},
			UserInfo: authnv1.UserInfo{Username: "bob"}, DryRun: &dry,
			Object: raw(t, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Namespace: "live", Name: "edge-1"}}),
		}}
		res := g.Handle(ctx, req)
		if res.Allowed || res.Result.Code != http.StatusTooManyRequests {
			t.Fatalf("response %+v, want 429", res.Result)
		}
		if labels(c)[kruisev1alpha1.SpecifiedDeleteKey] != "true" {
			t.Error("the evicted pod is not marked for the CloneSet to delete")
		}
	})
	t.Run("a drained pod goes", func(t *testing.T) {
		pod := guardPod("deletable", true)
		g, _ := newGuard(pod)
		if res := g.Handle(ctx, deleteReq(pod, nil, false)); !res.Allowed {
			t.Fatalf("a deletable pod was refused: %+v", res.Result)
		}
	})
	t.Run("an eviction of a pod that is gone passes", func(t *testing.T) {
		g, _ := newGuard(guardPod("allocated", true))
		dry := false
		req := admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
			UID: "3", Operation: admissionv1.Create, Namespace: "live", Name: "other", SubResource: "eviction",
			Resource: metav1.GroupVersionResource{Version: "v1", Resource: "pods"}, DryRun: &dry,
			Object: raw(t, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Namespace: "live", Name: "other"}}),
		}}
		if res := g.Handle(ctx, req); !res.Allowed {
			t.Fatalf("an eviction of a missing pod was refused: %+v", res.Result)
		}
	})
}

func guardScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	return scheme
}
