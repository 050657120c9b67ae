package demo

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/streamscaler/streamscaler/internal/demo/srsemu"
	"github.com/streamscaler/streamscaler/internal/democluster"
)

// TestFleetHandsAGonePodsIPToItsReplacement: kwok gives a deleted pod's IP to the next pod
// it starts, so one list can show a new pod on the IP of a pod it no longer shows. The
// fleet must free that IP before it starts the new pod's emulator there (a demo once
// failed with "bind: address already in use" after a pod kill).
func TestFleetHandsAGonePodsIPToItsReplacement(t *testing.T) {
	c := democluster.ForTest(t, democluster.Options{Nodes: 1, StartupDelay: -1})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	const ns = "fleet"
	if err := c.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatalf("creating namespace %s: %v", ns, err)
	}
	f := &fleet{c: c.Client, ns: ns, selector: client.MatchingLabels{"app": "edge"}, now: time.Now, servers: map[string]*srsemu.Server{}}
	defer f.stop()

	first := runPod(ctx, t, c, ns, "edge-a")
	if _, _, err := f.observe(ctx); err != nil {
		t.Fatalf("observing edge-a: %v", err)
	}
	if f.servers["edge-a"] == nil {
		t.Fatalf("no emulator for edge-a on %s; have %v", first, serverNames(f))
	}

	if err := c.Client.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "edge-a"}}); err != nil {
		t.Fatalf("deleting edge-a: %v", err)
	}
	err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		err := c.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "edge-a"}, &corev1.Pod{})
		return apierrors.IsNotFound(err), client.IgnoreNotFound(err)
	})
	if err != nil {
		t.Fatalf("edge-a was not removed: %v", err)
	}
	second := runPod(ctx, t, c, ns, "edge-b")
	if second != first {
		t.Fatalf("kwok gave edge-b %s, not edge-a's %s: the case under test did not happen", second, first)
	}

	// The list shows edge-b on edge-a's IP and no edge-a.
	if _, pods, err := f.observe(ctx); err != nil {
		t.Fatalf("observing edge-b on edge-a's old IP %s: %v", second, err)
	} else if len(pods) != 1 || pods[0].Name != "edge-b" {
		t.Fatalf("observed %v, want edge-b alone", pods)
	}
	if len(f.servers) != 1 || f.servers["edge-b"] == nil {
		t.Fatalf("emulators for %v, want edge-b's alone", serverNames(f))
	}
}

// runPod creates a bare pod labelled app=edge and returns its IP once kwok gave it one.
func runPod(ctx context.Context, t *testing.T, c *democluster.Cluster, ns, name string) string {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": "edge"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "srs", Image: "registry.invalid/srs:5"}}},
	}
	if err := c.Client.Create(ctx, pod); err != nil {
		t.Fatalf("creating pod %s: %v", name, err)
	}
	var ip string
	err := wait.PollUntilContextCancel(ctx, 50*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		if err := c.Client.Get(ctx, client.ObjectKeyFromObject(pod), pod); err != nil {
			return false, err
		}
		ip = pod.Status.PodIP
		return ip != "", nil
	})
	if err != nil {
		t.Fatalf("pod %s got no IP: %v", name, err)
	}
	return ip
}

func serverNames(f *fleet) []string {
	var names []string
	for name := range f.servers {
		names = append(names, name)
	}
	return names
}
