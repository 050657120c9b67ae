package testcluster_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	kruiseappsv1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	streamscalerv1alpha1 "github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/internal/testcluster"
)

// waitTimeout is generous: these tests check behaviour, not speed.
const waitTimeout = 60 * time.Second

// TestCluster proves the harness on one cluster: Kruise's CloneSet controller runs and
// honours podsToDelete, and the API server enforces the ScalingPolicy CRD's CEL rules.
func TestCluster(t *testing.T) {
	c := testcluster.ForTest(t)

	t.Run("scale-in with podsToDelete deletes exactly the named pod", func(t *testing.T) {
		testScaleInDeletesNamedPod(t, c)
	})
	t.Run("SetPodReady given a stale copy of a pod reads it again and marks it Ready", func(t *testing.T) {
		testSetPodReadyStaleCopy(t, c)
	})
	t.Run("ScalingPolicy CRD accepts a valid policy and rejects minReplicas above maxReplicas", func(t *testing.T) {
		testScalingPolicyValidation(t, c)
	})
}

func testScaleInDeletesNamedPod(t *testing.T, c *testcluster.Cluster) {
	ctx := t.Context()
	ns := createNamespace(t, c, "scale-in")
	cs := &kruiseappsv1alpha1.CloneSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "srs-edge"},
		Spec: kruiseappsv1alpha1.CloneSetSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "srs-edge"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "srs-edge"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{
					{Name: "srs", Image: "registry.invalid/srs:5"},
				}},
			},
		},
	}
	if err := c.Client.Create(ctx, cs); err != nil {
		t.Fatalf("creating the CloneSet: %v", err)
	}

	var pods []corev1.Pod
	eventually(t, "kruise-manager creates 3 pods", func() (bool, string) {
		pods = livePods(t, c, ns)
		return len(pods) == 3, fmt.Sprintf("%d live pods", len(pods))
	})
	for i := range pods {
		if err := c.SetPodReady(ctx, &pods[i]); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("pods %s are ready, unbound; readiness gates %v", podNames(pods), pods[0].Spec.ReadinessGates)
	eventually(t, "the CloneSet counts 3 ready replicas", func() (bool, string) {
		got := getCloneSet(t, c, cs)
		return got.Status.ReadyReplicas == 3, fmt.Sprintf("status %+v", got.Status)
	})

	victim := pods[1]
	kept := map[string]types.UID{}
	for _, p := range pods {
		if p.Name != victim.Name {
			kept[p.Name] = p.UID
		}
	}
	patch := fmt.Sprintf(`{"spec":{"replicas":2,"scaleStrategy":{"podsToDelete":[%q]}}}`, victim.Name)
	if err := c.Client.Patch(ctx, cs, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
		t.Fatalf("patching the CloneSet: %v", err)
	}

	eventually(t, "pod "+victim.Name+" is deleted", func() (bool, string) {
		p := &corev1.Pod{}
		err := c.Client.Get(ctx, client.ObjectKeyFromObject(&victim), p)
		switch {
		case apierrors.IsNotFound(err) || err == nil && p.UID != victim.UID:
			// An unbound pod has no kubelet to wait for: the API server removes it at once.
			return true, ""
		case err != nil:
			return false, err.Error()
		case p.DeletionTimestamp != nil:
			// No kubelet finishes a graceful deletion.
			t.Logf("force-deleting %s, which is terminating", p.Name)
			if err := c.Client.Delete(ctx, p, client.GracePeriodSeconds(0)); err != nil && !apierrors.IsNotFound(err) {
				return false, err.Error()
			}
			return true, ""
		}
		return false, "pod still there, phase " + string(p.Status.Phase)
	})
	eventually(t, "the CloneSet observes the scale-in", func() (bool, string) {
		got := getCloneSet(t, c, cs)
		return got.Status.ObservedGeneration >= got.Generation && got.Status.Replicas == 2, fmt.Sprintf("generation %d, status %+v", got.Generation, got.Status)
	})
	// Kruise acts within milliseconds; a replacement would show up well within this.
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		pods := livePods(t, c, ns)
		if len(pods) != len(kept) {
			t.Fatalf("want the 2 other pods %v, have %s", kept, podNames(pods))
		}
		for _, p := range pods {
			if uid, ok := kept[p.Name]; !ok || uid != p.UID {
				t.Fatalf("pod %s (uid %s) is not one of the kept pods %v", p.Name, p.UID, kept)
			}
		}
	}
}

// testSetPodReadyStaleCopy: SetPodReady's first attempt writes the copy it was given; a
// copy older than the pod conflicts, and the retry reads the pod, so a write made in
// between survives and the pod ends Ready.
func testSetPodReadyStaleCopy(t *testing.T, c *testcluster.Cluster) {
	ctx := t.Context()
	ns := createNamespace(t, c, "stale-copy")
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "srs-0"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "srs", Image: "registry.invalid/srs:5"}}},
	}
	if err := c.Client.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	stale := pod.DeepCopy()
	// A write after the copy: the copy's resourceVersion is now behind.
	patch := []byte(`{"status":{"conditions":[{"type":"example.com/Warm","status":"True"}]}}`)
	if err := c.Client.Status().Patch(ctx, pod, client.RawPatch(types.StrategicMergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
	if err := c.SetPodReady(ctx, stale); err != nil {
		t.Fatalf("SetPodReady on a stale copy: %v", err)
	}
	got := &corev1.Pod{}
	if err := c.Client.Get(ctx, client.ObjectKeyFromObject(pod), got); err != nil {
		t.Fatal(err)
	}
	ready, warm := false, false
	for _, cond := range got.Status.Conditions {
		ready = ready || cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue
		warm = warm || cond.Type == "example.com/Warm" && cond.Status == corev1.ConditionTrue
	}
	if !ready || !warm || got.Status.Phase != corev1.PodRunning {
		t.Errorf("phase %s, Ready %v, the condition written in between kept %v; want Running, true, true (conditions %+v)", got.Status.Phase, ready, warm, got.Status.Conditions)
	}
}

func testScalingPolicyValidation(t *testing.T, c *testcluster.Cluster) {
	ctx := t.Context()
	ns := createNamespace(t, c, "policy")
	policy := func(name string, minReplicas, maxReplicas int32) *streamscalerv1alpha1.ScalingPolicy {
		return &streamscalerv1alpha1.ScalingPolicy{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: streamscalerv1alpha1.ScalingPolicySpec{
				TargetRef:   streamscalerv1alpha1.TargetRef{Name: "srs-edge"},
				MinReplicas: ptr.To(minReplicas),
				MaxReplicas: maxReplicas,
				Metrics: []streamscalerv1alpha1.MetricSpec{{
					Type:   streamscalerv1alpha1.MetricPullStreams,
					Target: streamscalerv1alpha1.MetricTarget{AverageValue: ptr.To(resource.MustParse("80"))},
				}},
			},
		}
	}
	if err := c.Client.Create(ctx, policy("valid", 2, 10)); err != nil {
		t.Fatalf("creating a valid ScalingPolicy: %v", err)
	}
	err := c.Client.Create(ctx, policy("inverted", 5, 2))
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.minReplicas") || !strings.Contains(err.Error(), "must not exceed maxReplicas (2)") {
		t.Fatalf("creating a ScalingPolicy with minReplicas 5 > maxReplicas 2: got %v, want an Invalid error on spec.minReplicas saying it must not exceed maxReplicas (2)", err)
	}
}

func createNamespace(t *testing.T, c *testcluster.Cluster, name string) string {
	t.Helper()
	if err := c.Client.Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
	return name
}

// livePods lists the pods of ns that are not being deleted, by name.
func livePods(t *testing.T, c *testcluster.Cluster, ns string) []corev1.Pod {
	t.Helper()
	list := &corev1.PodList{}
	if err := c.Client.List(t.Context(), list, client.InNamespace(ns)); err != nil {
		t.Fatalf("listing pods: %v", err)
	}
	var pods []corev1.Pod
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			pods = append(pods, p)
		}
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	return pods
}

func getCloneSet(t *testing.T, c *testcluster.Cluster, cs *kruiseappsv1alpha1.CloneSet) *kruiseappsv1alpha1.CloneSet {
	t.Helper()
	got := &kruiseappsv1alpha1.CloneSet{}
	if err := c.Client.Get(t.Context(), client.ObjectKeyFromObject(cs), got); err != nil {
		t.Fatalf("reading the CloneSet: %v", err)
	}
	return got
}

func podNames(pods []corev1.Pod) string {
	names := make([]string, len(pods))
	for i, p := range pods {
		names[i] = p.Name
	}
	return "[" + strings.Join(names, " ") + "]"
}

// eventually polls cond until it holds, failing the test with cond's last word after waitTimeout.
func eventually(t *testing.T, what string, cond func() (ok bool, state string)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	for {
		ok, state := cond()
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting %s until %s: %s", waitTimeout, what, state)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
