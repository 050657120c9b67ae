package srsemu

import (
	"context"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/streamscaler/streamscaler/adapters/srs"
)

func pod(name, ip string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "live"}, Status: corev1.PodStatus{PodIP: ip}}
}

func TestTheSRSSourceReadsEachEmulatedPod(t *testing.T) {
	c := &clock{now: time.Date(2026, 12, 1, 20, 0, 0, 0, time.UTC)}
	t0 := c.Now()
	a, b, idle := start(t, Config{Now: c.Now}), start(t, Config{Now: c.Now}), start(t, Config{Now: c.Now})
	add := func(s *Server, cl Client) {
		t.Helper()
		if _, err := s.AddClient(cl); err != nil {
			t.Fatal(err)
		}
	}
	// a: one publisher and two players on s1, all up for a minute.
	add(a, Client{Stream: "s1", Publish: true, BitrateBps: 2.5e6, Start: t0})
	add(a, Client{Stream: "s1", BitrateBps: 2.5e6, Start: t0})
	add(a, Client{Stream: "s1", BitrateBps: 2.5e6, Start: t0})
	// b: three players of two streams up for a minute, and one who joined 10 s ago
	// (counted as a player, but SRS's 30 s rate does not show it yet).
	add(b, Client{Stream: "s1", BitrateBps: 1e6, Start: t0})
	add(b, Client{Stream: "s1", BitrateBps: 1e6, Start: t0})
	add(b, Client{Stream: "s2", BitrateBps: 0.5e6, Start: t0})
	add(b, Client{Stream: "s2", BitrateBps: 0.5e6, Start: t0.Add(50 * time.Second)})
	c.Add(time.Minute)

	src, err := srs.New(srs.Config{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	pods := []*corev1.Pod{pod("edge-a", hostOf(a)), pod("edge-b", hostOf(b)), pod("edge-idle", hostOf(idle))}
	got, _, err := src.Samples(context.Background(), nil, pods, []string{"pushStreams", "pullStreams", "bandwidth"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]float64{
		"edge-a":    {"pushStreams": 1, "pullStreams": 2, "bandwidth": (2500 + 2*2500) * 1000},
		"edge-b":    {"pushStreams": 0, "pullStreams": 4, "bandwidth": (1000 + 1000 + 500) * 1000},
		"edge-idle": {"pushStreams": 0, "pullStreams": 0, "bandwidth": 0},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
}

func TestTheSRSKickEvictorKicksTheEmulatedClientsAndTheirOwnersHear(t *testing.T) {
	var mu sync.Mutex
	var told []string
	s, _, ids := recordedSituation(t, Config{OnKick: func(c Client) {
		mu.Lock()
		defer mu.Unlock()
		told = append(told, c.ID)
	}})
	ev, err := srs.NewEvictor(srs.EvictorConfig{Pause: -1})
	if err != nil {
		t.Fatal(err)
	}
	n, err := ev.Evict(context.Background(), nil, pod("edge-0", hostOf(s)), 0)
	if err != nil || n != 3 {
		t.Fatalf("kicked %d, %v; want 3", n, err)
	}
	mu.Lock()
	defer mu.Unlock()
	// Players first, in SRS's id order, the publisher last.
	players := []string{ids[1], ids[2]}
	sort.Strings(players)
	if want := append(players, ids[0]); !reflect.DeepEqual(told, want) {
		t.Fatalf("owners told of %v, want the players then the publisher %v", told, want)
	}
	if left := s.Clients(); len(left) != 0 {
		t.Fatalf("%d clients still connected after the kick", len(left))
	}
}

// hostOf is the IP a server listens on.
func hostOf(s *Server) string { return s.ip }
