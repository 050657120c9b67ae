package prometheus

import (
	"fmt"
	"math"
	"testing"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

// fakePod is what the test exporter serves for one SRS pod, as SRS's exporter, cAdvisor
// and kube-state-metrics would: the SRS server and a small sidecar. Rates are per second.
type fakePod struct {
	namespace, name string
	// SRS: connected clients and streams; bytes in and out per second.
	clients, streams     float64
	recvBytes, sendBytes float64
	// cAdvisor: CPU cores and working-set bytes of the srs and sidecar containers;
	// packets in and out per second on eth0.
	srsCores, sidecarCores float64
	srsMemory, sidecarMem  float64
	rxPackets, txPackets   float64
	// kube-state-metrics: the containers' requests.
	srsCPURequest, sidecarCPURequest float64
	srsMemRequest, sidecarMemRequest float64
}

const mi = 1 << 20

// newFakePod derives a plausible pod from its load: 2.5 Mbit/s per stream in and per
// player out, 1200-byte packets, CPU and memory growing with the players.
func newFakePod(namespace, name string, clients, streams float64) fakePod {
	const bytesPerStream = 2.5e6 / 8
	p := fakePod{
		namespace: namespace, name: name, clients: clients, streams: streams,
		recvBytes: streams * bytesPerStream, sendBytes: clients * bytesPerStream,
		srsCores: 0.05 + 0.02*clients, sidecarCores: 0.01,
		srsMemory: 128*mi + clients*2*mi, sidecarMem: 20 * mi,
		srsCPURequest: 1, sidecarCPURequest: 0.1,
		srsMemRequest: 512 * mi, sidecarMemRequest: 64 * mi,
	}
	p.rxPackets, p.txPackets = p.recvBytes/1200, p.sendBytes/1200
	return p
}

// want is what the default queries should read for the pod.
func (p fakePod) want() map[string]float64 {
	return map[string]float64{
		string(v1alpha1.MetricBandwidth):        (p.recvBytes + p.sendBytes) * 8,
		string(v1alpha1.MetricPacketsPerSecond): p.rxPackets + p.txPackets,
		string(v1alpha1.MetricPushStreams):      p.streams,
		string(v1alpha1.MetricPullStreams):      p.clients,
		string(v1alpha1.MetricCPU):              (p.srsCores + p.sidecarCores) / (p.srsCPURequest + p.sidecarCPURequest) * 100,
		string(v1alpha1.MetricMemory):           (p.srsMemory + p.sidecarMem) / (p.srsMemRequest + p.sidecarMemRequest) * 100,
	}
}

// The fleet: three pods of the policy's namespace, a pod of the same name in another
// namespace (the namespace filter must keep it out), and 100 pods for the benchmark.
var (
	livePods = []fakePod{
		newFakePod("live", "srs-edge-0", 12, 1),
		newFakePod("live", "srs-edge-1", 25, 2),
		newFakePod("live", "srs-edge-2", 40, 3),
	}
	decoyPod = newFakePod("other", "srs-edge-0", 999, 99)
)

// absentPod is asked for but never served: it must come back with an empty map.
const absentPod = "srs-edge-9"

// allKeys are the built-in metric keys.
var allKeys = []string{"bandwidth", "packetsPerSecond", "pushStreams", "pullStreams", "cpu", "memory"}

// benchKeys are the keys of a typical edge policy.
var benchKeys = []string{"pullStreams", "bandwidth", "cpu"}

func benchPods() []fakePod {
	pods := make([]fakePod, 100)
	for i := range pods {
		pods[i] = newFakePod("bench", fmt.Sprintf("srs-edge-bench-%03d", i), float64(10+i%50), float64(1+i%4))
	}
	return pods
}

// isRate tells the keys computed with rate(), which differ from the served rate by the
// scrape timing jitter.
func isRate(key string) bool {
	return key == "bandwidth" || key == "packetsPerSecond" || key == "cpu"
}

// checkValues compares got with the fleet's values: exact for gauges, within 3% for rates.
func checkValues(t *testing.T, got map[string]map[string]float64, pods []fakePod, keys []string) {
	t.Helper()
	for _, p := range pods {
		want := p.want()
		for _, k := range keys {
			v, ok := got[p.name][k]
			if !ok {
				t.Errorf("%s %s: missing, want %g", p.name, k, want[k])
				continue
			}
			tol := 1e-9
			if isRate(k) {
				tol = 0.03
			}
			if math.Abs(v-want[k]) > tol*math.Abs(want[k]) {
				t.Errorf("%s %s = %g, want %g (within %g%%)", p.name, k, v, want[k], tol*100)
			}
		}
	}
}
