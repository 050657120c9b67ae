package democluster_test

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"testing"
	"time"

	kruiseappsv1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/streamscaler/streamscaler/internal/democluster"
)

// waitTimeout is generous: the test checks behaviour, and the machine is shared.
const waitTimeout = 90 * time.Second

// startupDelay is the pods' configured start-up delay; the test only bounds it from below.
const startupDelay = 2 * time.Second

// TestDemoCluster runs a CloneSet on the demo cluster: its pods are scheduled to the kwok
// nodes, get loopback IPs from their node's pod CIDR, turn Running and Ready no earlier
// than the start-up delay, and podsToDelete removes exactly the named pod; deleting the
// CloneSet and then the namespace cleans everything up.
func TestDemoCluster(t *testing.T) {
	c := democluster.ForTest(t, democluster.Options{Nodes: 3, StartupDelay: startupDelay})
	ctx := t.Context()
	nodes := nodesByName(t, c)

	ns := "live"
	if err := c.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatalf("creating namespace %s: %v", ns, err)
	}
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
	created := time.Now()
	if err := c.Client.Create(ctx, cs); err != nil {
		t.Fatalf("creating the CloneSet: %v", err)
	}

	// The first time each pod was seen Running and Ready; seen no earlier than it happened.
	running, ready := map[string]time.Duration{}, map[string]time.Duration{}
	var pods []corev1.Pod
	eventually(t, "3 pods are Running and Ready", func() (bool, string) {
		pods = livePods(t, c, ns)
		elapsed := time.Since(created)
		for _, p := range pods {
			if _, seen := running[p.Name]; !seen && p.Status.Phase == corev1.PodRunning {
				running[p.Name] = elapsed
			}
			if _, seen := ready[p.Name]; !seen && podReady(&p) {
				ready[p.Name] = elapsed
			}
		}
		return len(pods) == 3 && len(ready) == 3 && allReady(pods), describe(pods)
	})

	t.Run("pods run on the kwok nodes with loopback IPs from the node's pod CIDR", func(t *testing.T) {
		for _, p := range pods {
			t.Logf("pod %s: node %s, IP %s, host IP %s", p.Name, p.Spec.NodeName, p.Status.PodIP, p.Status.HostIP)
			node, ok := nodes[p.Spec.NodeName]
			if !ok {
				t.Errorf("pod %s is on node %q, not one of the kwok nodes", p.Name, p.Spec.NodeName)
				continue
			}
			ip := net.ParseIP(p.Status.PodIP)
			if ip == nil || !ip.IsLoopback() {
				t.Errorf("pod %s has IP %q, want one inside 127.0.0.0/8", p.Name, p.Status.PodIP)
			}
			_, cidr, err := net.ParseCIDR(node.Spec.PodCIDR)
			if err != nil || !cidr.Contains(ip) {
				t.Errorf("pod %s has IP %q, outside its node %s's pod CIDR %s", p.Name, p.Status.PodIP, node.Name, node.Spec.PodCIDR)
			}
			if want := node.Status.Addresses[0].Address; p.Status.HostIP != want {
				t.Errorf("pod %s has host IP %q, want its node's %s", p.Name, p.Status.HostIP, want)
			}
		}
		ips := map[string]string{}
		for _, p := range pods {
			if other, dup := ips[p.Status.PodIP]; dup {
				t.Errorf("pods %s and %s share IP %s", other, p.Name, p.Status.PodIP)
			}
			ips[p.Status.PodIP] = p.Name
		}
	})

	t.Run("pods turn Running and Ready no earlier than the start-up delay", func(t *testing.T) {
		for _, p := range pods {
			t.Logf("pod %s: Running seen after %s, Ready after %s", p.Name, running[p.Name].Round(time.Millisecond), ready[p.Name].Round(time.Millisecond))
			if running[p.Name] < startupDelay || ready[p.Name] < startupDelay {
				t.Errorf("pod %s was Running after %s and Ready after %s, before the start-up delay %s", p.Name, running[p.Name], ready[p.Name], startupDelay)
			}
		}
	})

	t.Run("scale-in with podsToDelete deletes exactly the named pod", func(t *testing.T) {
		victim := pods[1]
		kept := map[string]types.UID{}
		for _, p := range pods {
			if p.Name != victim.Name {
				kept[p.Name] = p.UID
			}
		}
		patch := fmt.Sprintf(`{"spec":{"replicas":2,"scaleStrategy":{"podsToDelete":[%q]}}}`, victim.Name)
		if err := c.Client.Patch(ctx, cs, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
			t.Fatalf("scaling in: %v", err)
		}
		eventually(t, "the named pod is gone", func() (bool, string) {
			p := &corev1.Pod{}
			err := c.Client.Get(ctx, client.ObjectKeyFromObject(&victim), p)
			switch {
			case apierrors.IsNotFound(err) || err == nil && p.UID != victim.UID:
				return true, ""
			case err != nil:
				return false, err.Error()
			}
			return false, fmt.Sprintf("pod still there, phase %s, deletionTimestamp %v", p.Status.Phase, p.DeletionTimestamp)
		})
		// Kruise acts within milliseconds; a replacement would show up well within this.
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			got := livePods(t, c, ns)
			if len(got) != len(kept) {
				t.Fatalf("want the 2 other pods %v, have %s", kept, describe(got))
			}
			for _, p := range got {
				if uid, ok := kept[p.Name]; !ok || uid != p.UID {
					t.Fatalf("pod %s (uid %s) is not one of the kept pods %v", p.Name, p.UID, kept)
				}
			}
		}
	})

	t.Run("deleting the CloneSet and then its namespace removes everything", func(t *testing.T) {
		// Background propagation: the garbage collector deletes the pods, kwok removes them.
		if err := c.Client.Delete(ctx, cs, client.PropagationPolicy(metav1.DeletePropagationBackground)); err != nil {
			t.Fatalf("deleting the CloneSet: %v", err)
		}
		eventually(t, "the garbage collector has deleted the pods", func() (bool, string) {
			list := &corev1.PodList{}
			if err := c.Client.List(ctx, list, client.InNamespace(ns)); err != nil {
				return false, err.Error()
			}
			return len(list.Items) == 0, describe(list.Items)
		})
		if err := c.Client.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatalf("deleting namespace %s: %v", ns, err)
		}
		eventually(t, "the namespace controller has finished the namespace", func() (bool, string) {
			got := &corev1.Namespace{}
			err := c.Client.Get(ctx, client.ObjectKey{Name: ns}, got)
			if apierrors.IsNotFound(err) {
				return true, ""
			}
			if err != nil {
				return false, err.Error()
			}
			return false, fmt.Sprintf("phase %s, conditions %v", got.Status.Phase, got.Status.Conditions)
		})
	})
}

// nodesByName returns the cluster's fake nodes, checking that they carry loopback addresses.
func nodesByName(t *testing.T, c *democluster.Cluster) map[string]*corev1.Node {
	t.Helper()
	nodes := map[string]*corev1.Node{}
	for _, name := range c.Nodes {
		node := &corev1.Node{}
		if err := c.Client.Get(t.Context(), client.ObjectKey{Name: name}, node); err != nil {
			t.Fatalf("reading node %s: %v", name, err)
		}
		if len(node.Status.Addresses) == 0 || node.Status.Addresses[0].Type != corev1.NodeInternalIP ||
			!net.ParseIP(node.Status.Addresses[0].Address).IsLoopback() {
			t.Fatalf("node %s has addresses %v, want a loopback InternalIP first", name, node.Status.Addresses)
		}
		nodes[name] = node
	}
	if len(nodes) != 3 {
		t.Fatalf("have nodes %v, want 3", c.Nodes)
	}
	return nodes
}

func podReady(p *corev1.Pod) bool {
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

func allReady(pods []corev1.Pod) bool {
	for i := range pods {
		if pods[i].Status.Phase != corev1.PodRunning || !podReady(&pods[i]) {
			return false
		}
	}
	return true
}

// livePods lists the pods of ns that are not being deleted, by name.
func livePods(t *testing.T, c *democluster.Cluster, ns string) []corev1.Pod {
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

// describe says where each pod stands, for failure messages.
func describe(pods []corev1.Pod) string {
	parts := make([]string, len(pods))
	for i, p := range pods {
		parts[i] = fmt.Sprintf("%s(node %q, ip %q, %s, ready %t)", p.Name, p.Spec.NodeName, p.Status.PodIP, p.Status.Phase, podReady(&p))
	}
	return "[" + strings.Join(parts, " ") + "]"
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
		case <-time.After(50 * time.Millisecond):
		}
	}
}
