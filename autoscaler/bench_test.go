package autoscaler

import (
	"fmt"
	"testing"
	"time"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/statemachine"
)

// fleet100 is 100 pods in every state, each with all six built-in metrics.
func fleet100() []PodSample {
	ps := make([]PodSample, 100)
	for i := range ps {
		st := statemachine.Allocated
		switch {
		case i%10 == 0:
			st = statemachine.Tombstone
		case i%25 == 1:
			st = statemachine.Init
		}
		ps[i] = PodSample{
			Name: fmt.Sprintf("srs-edge-%03d", i), State: st, Ready: st != statemachine.Init, Since: t0, Created: t0.Add(time.Duration(i) * time.Second),
			Values: map[string]float64{
				bw: float64(100+i) * 2.5e6, pps: float64(100+i) * 260, push: float64(i % 3), pull: float64(40 + i%50),
				cpu: float64(30 + i%40), mem: float64(20 + i%30),
			},
		}
	}
	return ps
}

func benchSpec() *v1alpha1.ScalingPolicySpec {
	return spec(2, 400,
		valueMetric(v1alpha1.MetricBandwidth, "200M"), valueMetric(v1alpha1.MetricPacketsPerSecond, "20k"),
		valueMetric(v1alpha1.MetricPushStreams, "5"), valueMetric(v1alpha1.MetricPullStreams, "80"),
		utilMetric(v1alpha1.MetricCPU, 70), utilMetric(v1alpha1.MetricMemory, 80))
}

// BenchmarkDecision100Pods is one whole decision pass for a 100-pod fleet on six metrics,
// as the controller and the simulator run it: advance the drain lifecycle, size the
// fleet, plan which pods change state and resize the workload.
func BenchmarkDecision100Pods(b *testing.B) {
	pods, s := fleet100(), benchSpec()
	mem := &Memory{}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		now := t0.Add(time.Duration(i) * 15 * time.Second)
		i++
		o, err := Decide(Snapshot{Now: now, Spec: s, Pods: pods, Replicas: int32(len(pods))}, mem)
		if err != nil {
			b.Fatal(err)
		}
		mem.Commit(o)
	}
}

// BenchmarkRecommend100Pods is the sizing part alone.
func BenchmarkRecommend100Pods(b *testing.B) {
	pods, s := fleet100(), benchSpec()
	hist := &History{}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		Recommend(Input{Now: t0.Add(time.Duration(i) * 15 * time.Second), Spec: s, Pods: pods}, hist)
		i++
	}
}
