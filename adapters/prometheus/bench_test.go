package prometheus

import (
	"context"
	"testing"
	"time"
)

// BenchmarkSamples100Pods is one decision's read for a typical edge policy (pullStreams,
// bandwidth, cpu) over 100 pods, against a server replaying recorded 100-pod answers.
func BenchmarkSamples100Pods(b *testing.B) {
	rec, bodies := loadRecording(b)
	srv := replayByQuery(b, rec, bodies)
	s := newSource(b, rec, time.Second, Config{Address: srv.URL})
	policy := policyFor("bench", "")
	pods := podsNamed(namesOf(benchPods())...)
	ctx := context.Background()
	got, _, err := s.Samples(ctx, policy, pods, benchKeys)
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range benchPods() {
		if len(got[p.name]) != len(benchKeys) {
			b.Fatalf("%s: %v", p.name, got[p.name])
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.Samples(ctx, policy, pods, benchKeys); err != nil {
			b.Fatal(err)
		}
	}
}
