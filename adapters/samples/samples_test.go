package samples

import (
	"math"
	"reflect"
	"testing"
	"time"
)

func TestCollect(t *testing.T) {
	now := time.Date(2026, 7, 1, 20, 0, 0, 0, time.UTC)
	raw := []Sample{
		{Pod: "a", Key: "pullStreams", Value: 40, Time: now.Add(-10 * time.Second)},
		{Pod: "a", Key: "pullStreams", Value: 41, Time: now.Add(-5 * time.Second)},  // newer wins
		{Pod: "a", Key: "pullStreams", Value: 39, Time: now.Add(-20 * time.Second)}, // older loses
		{Pod: "a", Key: "bandwidth", Value: 1e8},                                    // live read
		{Pod: "b", Key: "pullStreams", Value: 12, Time: now.Add(-3 * time.Minute)},  // stale
		{Pod: "b", Key: "cpu", Value: math.NaN()},
		{Pod: "b", Key: "memory", Value: math.Inf(1)},
		{Pod: "b", Key: "bandwidth", Value: -1},
		{Pod: "zombie", Key: "pullStreams", Value: 5},
	}
	got, d := Collect(raw, []string{"a", "b", "c"}, now, 2*time.Minute)
	want := map[string]map[string]float64{"a": {"pullStreams": 41, "bandwidth": 1e8}, "b": {}, "c": {}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if d != (Dropped{Stale: 1, NotFinite: 2, Negative: 1, UnknownPod: 1}) || d.Total() != 5 {
		t.Fatalf("dropped %+v", d)
	}
	all, _ := Collect(raw[4:5], []string{"b"}, now, 0)
	if all["b"]["pullStreams"] != 12 {
		t.Fatalf("without a bound every age counts: %v", all)
	}
}
