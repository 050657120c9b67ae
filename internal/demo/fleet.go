package demo

import (
	"context"
	"fmt"
	"net"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/autoscaler/controller"
	"github.com/streamscaler/streamscaler/internal/demo/players"
	"github.com/streamscaler/streamscaler/internal/demo/srsemu"
)

// fleet keeps one emulated SRS per running pod of the CloneSet, on the pod's loopback
// IP, and collects the kicks they report until the players' next tick.
type fleet struct {
	c        client.Client
	ns       string
	selector client.MatchingLabels
	now      func() time.Time // trace time, the emulators' clock

	servers map[string]*srsemu.Server // by pod name
	mu      sync.Mutex
	kicks   []players.Kick
}

// livePod is what a tick knows of one pod.
type livePod struct {
	name     string
	state    string // the streamscaler.io/state label
	ready    bool
	deleting bool
}

// observe lists the CloneSet's pods, stops the emulators of pods that are gone and starts
// one for each pod that has an IP. Pods being deleted keep their emulator until they
// disappear: their players stay connected until then, as with a real server.
//
// The emulators of gone pods stop first: kwok hands a deleted pod's IP to the next pod
// it starts, so a replacement can appear on that IP in the same list that no longer
// shows the pod it replaces.
func (f *fleet) observe(ctx context.Context) ([]livePod, []players.Pod, error) {
	var list corev1.PodList
	if err := f.c.List(ctx, &list, client.InNamespace(f.ns), f.selector); err != nil {
		return nil, nil, fmt.Errorf("listing the fleet's pods: %w", err)
	}
	seen := make(map[string]bool, len(list.Items))
	for i := range list.Items {
		seen[list.Items[i].Name] = true
	}
	for name, srv := range f.servers {
		if !seen[name] {
			srv.Stop()
			delete(f.servers, name)
		}
	}
	var live []livePod
	var pods []players.Pod
	for i := range list.Items {
		p := &list.Items[i]
		lp := livePod{name: p.Name, state: p.Labels[v1alpha1.StateLabel], ready: controller.PodReady(p), deleting: p.DeletionTimestamp != nil}
		live = append(live, lp)
		srv, err := f.server(p)
		if err != nil {
			return nil, nil, err
		}
		if srv == nil {
			continue
		}
		pods = append(pods, players.Pod{Name: p.Name, Ready: lp.ready && !lp.deleting, Allocated: lp.state == "allocated", Server: srv})
	}
	sort.Slice(live, func(i, j int) bool { return live[i].name < live[j].name })
	return live, pods, nil
}

// server is the pod's emulator, started on first sight of its IP.
func (f *fleet) server(p *corev1.Pod) (*srsemu.Server, error) {
	if srv, ok := f.servers[p.Name]; ok {
		return srv, nil
	}
	ip := net.ParseIP(p.Status.PodIP)
	if ip == nil {
		return nil, nil // not scheduled yet
	}
	if ip4 := ip.To4(); ip4 == nil || ip4[0] != 127 {
		return nil, fmt.Errorf("pod %s has IP %s, outside 127.0.0.0/8: the demo never connects to it", p.Name, p.Status.PodIP)
	}
	name := p.Name
	srv, err := srsemu.Start(ip.String(), srsemu.Config{Now: f.now, OnKick: func(c srsemu.Client) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.kicks = append(f.kicks, players.Kick{Pod: name, ID: c.ID})
	}})
	if err != nil {
		return nil, fmt.Errorf("starting the emulated SRS of pod %s: %w", p.Name, err)
	}
	f.servers[p.Name] = srv
	return srv, nil
}

// takeKicks returns the kicks reported since the last call.
func (f *fleet) takeKicks() []players.Kick {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := f.kicks
	f.kicks = nil
	return k
}

func (f *fleet) stop() {
	for name, srv := range f.servers {
		srv.Stop()
		delete(f.servers, name)
	}
}
