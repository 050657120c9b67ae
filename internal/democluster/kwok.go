package democluster

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	// kwokNodeAnnotation marks the Nodes kwok plays (--manage-nodes-with-annotation-selector).
	kwokNodeAnnotation = "kwok.x-k8s.io/node"
	kwokNodeValue      = "fake"
	// NodeLabel is set to "true" on every fake Node, for node selectors and listing.
	NodeLabel = "democluster.streamscaler.io/node"
	// maxNodes keeps every node's InternalIP (127.0.0.10+i) and pod CIDR (127.1.i.0/24) valid.
	maxNodes = 200
	// podsPerNode is each Node's pod capacity. kwok hands out a node's pod IPs from the first
	// address of its CIDR upwards without checking the end, so the capacity keeps them inside
	// the /24 (a deleted pod's IP is reused).
	podsPerNode = 110
)

// nodeName is the name of fake Node i.
func nodeName(i int) string { return fmt.Sprintf("kwok-node-%d", i) }

// nodeIP is fake Node i's InternalIP, which kwok also reports as its pods' hostIP.
func nodeIP(i int) string { return fmt.Sprintf("127.0.0.%d", 10+i) }

// nodePodCIDR is fake Node i's spec.podCIDR: kwok assigns the Node's pod IPs from it,
// starting at its first address (the network address itself).
func nodePodCIDR(i int) string { return fmt.Sprintf("127.1.%d.0/24", i) }

// kwokDefaultCIDR is kwok's --cidr, used only for a managed Node without spec.podCIDR
// (never one of ours); loopback all the same.
const kwokDefaultCIDR = "127.1.255.0/24"

// newNode is fake Node i as kwok expects it: annotated for kwok, with its addresses,
// pod CIDR and capacity set at creation (a Node's status may be written on create).
func newNode(i int) *corev1.Node {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("64"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   *resource.NewQuantity(podsPerNode, resource.DecimalSI),
	}
	name := nodeName(i)
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{kwokNodeAnnotation: kwokNodeValue},
			Labels: map[string]string{
				NodeLabel:                       "true",
				corev1.LabelHostname:            name,
				corev1.LabelOSStable:            "linux",
				corev1.LabelArchStable:          "amd64",
				"node-role.kubernetes.io/agent": "",
			},
		},
		Spec: corev1.NodeSpec{
			PodCIDR:  nodePodCIDR(i),
			PodCIDRs: []string{nodePodCIDR(i)},
		},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity,
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: nodeIP(i)},
				{Type: corev1.NodeHostName, Address: name},
			},
		},
	}
}

// checkLoopback fails unless every address the Nodes hand out lies in 127.0.0.0/8.
func checkLoopback(nodes int) error {
	loopback := &net.IPNet{IP: net.IPv4(127, 0, 0, 0), Mask: net.CIDRMask(8, 32)}
	cidrs := []string{kwokDefaultCIDR}
	for i := range nodes {
		cidrs = append(cidrs, nodePodCIDR(i), nodeIP(i)+"/32")
	}
	for _, c := range cidrs {
		_, n, err := net.ParseCIDR(c)
		if err != nil {
			return fmt.Errorf("parsing %s: %w", c, err)
		}
		ones, _ := n.Mask.Size()
		if ones < 8 || !loopback.Contains(n.IP) {
			return fmt.Errorf("%s is not inside 127.0.0.0/8", c)
		}
	}
	return nil
}

// podStages are the kwok Stages for pods, replacing kwok's defaults: a bound pod becomes
// Running and Ready, with an IP from its Node's pod CIDR, startupDelay after kwok last saw
// it change; a pod being deleted loses its finalizers and is deleted at once.
//
// kwok re-plans a pod's delayed stage on every change to the pod, so a pod modified while
// it waits becomes Ready startupDelay after its last change: never earlier than
// startupDelay after its creation.
func podStages(startupDelay time.Duration) string {
	delay := ""
	if ms := startupDelay.Milliseconds(); ms > 0 {
		delay = "  delay:\n    durationMilliseconds: " + strconv.FormatInt(ms, 10) + "\n"
	}
	return strings.Replace(podStagesTemplate, "  DELAY\n", delay, 1)
}

// podStagesTemplate is podStages with a DELAY line for the delay block. The status patch
// is a strategic merge: conditions merge by type, so the scheduler's PodScheduled stays.
const podStagesTemplate = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: democluster-pod-ready
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: .metadata.deletionTimestamp
      operator: DoesNotExist
    - key: .status.podIP
      operator: DoesNotExist
  DELAY
  next:
    statusTemplate: |
      {{ $now := Now | Quote }}
      {{ $hostIP := NodeIPWith .spec.nodeName }}
      {{ $podIP := PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
      phase: Running
      startTime: {{ $now }}
      hostIP: {{ $hostIP | Quote }}
      hostIPs:
      - ip: {{ $hostIP | Quote }}
      podIP: {{ $podIP | Quote }}
      podIPs:
      - ip: {{ $podIP | Quote }}
      conditions:
      - type: Initialized
        status: "True"
        lastTransitionTime: {{ $now }}
      - type: ContainersReady
        status: "True"
        lastTransitionTime: {{ $now }}
      - type: Ready
        status: "True"
        lastTransitionTime: {{ $now }}
      {{ range .spec.readinessGates }}
      - type: {{ .conditionType | Quote }}
        status: "True"
        lastTransitionTime: {{ $now }}
      {{ end }}
      containerStatuses:
      {{ range .spec.containers }}
      - name: {{ .name | Quote }}
        image: {{ .image | Quote }}
        ready: true
        started: true
        restartCount: 0
        state:
          running:
            startedAt: {{ $now }}
      {{ end }}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: democluster-pod-delete
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: .metadata.deletionTimestamp
      operator: Exists
  next:
    finalizers:
      empty: true
    delete: true
`

// kwokArgs writes kwok's configuration (the pod stages) to dir and returns its flags. Node
// stages are kwok's defaults. kwok serves nothing: no --server-address, no node port.
func kwokArgs(dir, kubeconfig string, startupDelay time.Duration) ([]string, error) {
	config := filepath.Join(dir, "kwok.yaml")
	if err := os.WriteFile(config, []byte(podStages(startupDelay)), 0o600); err != nil {
		return nil, fmt.Errorf("writing kwok's configuration: %w", err)
	}
	return []string{
		"--kubeconfig=" + kubeconfig,
		"--config=" + config,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=" + kwokNodeAnnotation + "=" + kwokNodeValue,
		"--cidr=" + kwokDefaultCIDR,
		"--node-ip=" + nodeIP(0),
		"--node-port=0",
		"--node-lease-duration-seconds=40",
	}, nil
}
