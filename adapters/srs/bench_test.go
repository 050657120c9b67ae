package srs

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// BenchmarkSamples100Pods reads six metrics from 100 pods, each its own SRS on
// 127.0.0.1 answering the recorded responses (three requests per pod).
func BenchmarkSamples100Pods(b *testing.B) {
	byPod := map[string]string{}
	pods := make([]*corev1.Pod, 100)
	for i := range pods {
		name := fmt.Sprintf("edge-%03d", i)
		byPod[name] = newFakeSRS(b).serve(b).Listener.Addr().String()
		pods[i] = pod(name, "10.0.0.1")
	}
	s, err := New(Config{Address: addresses(byPod, nil)})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		got, _, err := s.Samples(ctx, nil, pods, allKeys)
		if err != nil || len(got) != 100 || !reflect.DeepEqual(got["edge-042"], goodSamples) {
			b.Fatalf("got %v, %v", got["edge-042"], err)
		}
	}
}
