//go:build unix

package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/internal/testcluster"
)

// TestEveryReplicaReadyAndTheLeaderLabelled runs two replicas of the controller binary
// as deploy/ runs them (leader election on, POD_NAME and POD_NAMESPACE from the downward
// API), with no --leader-election-namespace: the lease goes to the kubeconfig's
// namespace. Both replicas must be Ready, so that a Deployment of them rolls; only the
// leader's pod carries streamscaler.io/leader=true, which the external metrics API's
// Service selects. After a clean stop of the leader its label is gone and the other
// replica's pod carries it.
func TestEveryReplicaReadyAndTheLeaderLabelled(t *testing.T) {
	cluster := testcluster.ForTest(t)
	ctx := context.Background()
	c := cluster.Client
	names := []string{"streamscaler-a", "streamscaler-b"}
	for _, n := range names {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: n, Labels: map[string]string{"app.kubernetes.io/name": "streamscaler"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "controller", Image: "streamscaler"}}}}
		if err := c.Create(ctx, pod); err != nil {
			t.Fatal(err)
		}
	}
	// A leader killed earlier left its label on b: b clears it when it starts.
	if err := c.Patch(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: names[1]}},
		client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"streamscaler.io/leader":"true"}}}`))); err != nil {
		t.Fatal(err)
	}
	replicas := map[string]controllerBinary{}
	for _, n := range names {
		// With the external metrics API on, as deploy/ runs it (only the leader serves it).
		port, err := freeLocalPorts(1)
		if err != nil {
			t.Fatal(err)
		}
		replicas[n] = runControllerBinary(t, cluster, []string{"POD_NAME=" + n, "POD_NAMESPACE=default"}, "--leader-elect",
			"--external-metrics-host", "127.0.0.1", "--external-metrics-port", port[0])
		if n == names[0] {
			waitFor(t, "the first replica leads", time.Minute, func() (bool, string) {
				h := leaseHolder(c, "default")
				return h != "", "lease held by " + h
			})
		}
	}
	leaders := func() []string {
		var out []string
		for _, n := range names {
			var p corev1.Pod
			if err := c.Get(ctx, types.NamespacedName{Namespace: "default", Name: n}, &p); err == nil && p.Labels[v1alpha1.LeaderLabel] == "true" {
				out = append(out, n)
			}
		}
		return out
	}
	waitFor(t, "only the leader's pod is labelled", time.Minute, func() (bool, string) {
		l := leaders()
		return len(l) == 1 && l[0] == names[0], fmt.Sprintf("labelled: %v", l)
	})
	waitFor(t, "both replicas are Ready", 30*time.Second, func() (bool, string) {
		var states []string
		ok := true
		for _, n := range names {
			code := readyz(replicas[n].probes)
			states = append(states, fmt.Sprintf("%s %d", n, code))
			ok = ok && code == http.StatusOK
		}
		return ok, strings.Join(states, ", ")
	})

	if err := replicas[names[0]].cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-replicas[names[0]].exited:
		if err != nil {
			t.Fatalf("the leader did not stop cleanly: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the leader did not stop within 30s of SIGTERM")
	}
	waitFor(t, "the other replica leads and its pod alone is labelled", time.Minute, func() (bool, string) {
		l := leaders()
		return len(l) == 1 && l[0] == names[1], fmt.Sprintf("labelled: %v", l)
	})
}

// leaseHolder is who holds the controller's lease in namespace, or "".
func leaseHolder(c client.Client, namespace string) string {
	var l coordinationv1.Lease
	key := types.NamespacedName{Namespace: namespace, Name: "streamscaler.streamscaler.io"}
	if err := c.Get(context.Background(), key, &l); err != nil || l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// readyz is the status code of GET /readyz, or 0 when it cannot be asked.
func readyz(addr string) int {
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Get("http://" + addr + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// waitFor polls cond every 200 ms until it holds, failing the test after limit with
// cond's last account.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s; last: %s", limit, what, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
