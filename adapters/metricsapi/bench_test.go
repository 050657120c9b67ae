package metricsapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
)

// BenchmarkSamples100Pods is one decision's read for a fleet of 100 two-container pods:
// one list over loopback, decoded and turned into cpu and memory utilisation.
func BenchmarkSamples100Pods(b *testing.B) {
	const n = 100
	list := metricsv1beta1.PodMetricsList{TypeMeta: metav1.TypeMeta{Kind: "PodMetricsList", APIVersion: "metrics.k8s.io/v1beta1"}}
	pods := make([]*corev1.Pod, 0, n)
	for i := range n {
		name := fmt.Sprintf("srs-edge-%05d", i)
		pods = append(pods, edgePod(name, "allocated", now.Add(-time.Hour),
			requests("srs", "500m", "256Mi"), requests("exporter", "100m", "64Mi")))
		list.Items = append(list.Items, metricsv1beta1.PodMetrics{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "live", Labels: pods[i].Labels},
			Timestamp:  metav1.Time{Time: now.Add(-12 * time.Second)},
			Window:     metav1.Duration{Duration: 15 * time.Second},
			Containers: []metricsv1beta1.ContainerMetrics{
				{Name: "srs", Usage: corev1.ResourceList{
					corev1.ResourceCPU:    *resource.NewScaledQuantity(int64(200_000_000+i*1_000_000), resource.Nano),
					corev1.ResourceMemory: *resource.NewQuantity(int64(128+i)<<20, resource.BinarySI),
				}},
				{Name: "exporter", Usage: corev1.ResourceList{
					corev1.ResourceCPU:    *resource.NewScaledQuantity(19_500_000, resource.Nano),
					corev1.ResourceMemory: *resource.NewQuantity(32<<20, resource.BinarySI),
				}},
			},
		})
	}
	body, err := json.Marshal(list)
	if err != nil {
		b.Fatal(err)
	}
	srv := newMetricsServer(b, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
	src, p, keys := newSource(b, srv.URL), policy(0), []string{"cpu", "memory", "pullStreams"}

	got, _, err := src.Samples(context.Background(), p, pods, keys)
	if err != nil {
		b.Fatal(err)
	}
	// The last pod: (299m + 20m) / 600m and (227Mi + 32Mi) / 320Mi.
	if last := got[pods[n-1].Name]; len(got) != n || last["cpu"] != 100*319.0/600 || last["memory"] != 100*259.0/320 {
		b.Fatalf("got %d pods, last %v", len(got), last)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := src.Samples(context.Background(), p, pods, keys); err != nil {
			b.Fatal(err)
		}
	}
}
