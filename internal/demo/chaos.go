package demo

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"syscall"
	"time"

	kruisev1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	"github.com/streamscaler/streamscaler/autoscaler/simulate"
)

// Faults the demo can inject with --chaos, in the order they are described in the README.
var Faults = []string{"controller-kill", "leader-failover", "prometheus-outage", "pod-kill", "manual-scale-in", "rollout"}

// chaos fires each requested fault once, spread evenly over the trace, and logs it.
type chaos struct {
	at      map[string]time.Time
	fired   map[string]bool
	restart map[*controllerProcess]time.Time // killed controllers and when they come back
	// leaderless is when the leader was killed, until another replica leads.
	leaderless time.Time
	// promBack is when a stopped Prometheus starts again; zero while it runs.
	promBack time.Time
	log      []string
}

func newChaos(names []string, d simulate.Demand) (*chaos, error) {
	c := &chaos{at: map[string]time.Time{}, fired: map[string]bool{}, restart: map[*controllerProcess]time.Time{}}
	span := time.Duration(len(d.Streams)) * d.Step
	for i, n := range names {
		known := false
		for _, f := range Faults {
			known = known || f == n
		}
		if !known {
			return nil, fmt.Errorf("--chaos %q: not a fault this demo injects (it knows %s)", n, strings.Join(Faults, ", "))
		}
		c.at[n] = d.Start.Add(span * time.Duration(i+1) / time.Duration(len(names)+1))
	}
	return c, nil
}

func (c *chaos) wants(fault string) bool { _, ok := c.at[fault]; return ok }

func (c *chaos) killed(p *controllerProcess) bool { _, ok := c.restart[p]; return ok }

// inject fires the faults that are due at now and restarts killed controllers.
func (c *chaos) inject(ctx context.Context, r *run, now time.Time) error {
	for p, at := range c.restart {
		if time.Now().Before(at) {
			continue
		}
		delete(c.restart, p)
		c.note(now, p.name+" restarted")
		if err := p.start(); err != nil {
			return err
		}
	}
	if !c.promBack.IsZero() && !time.Now().Before(c.promBack) {
		c.promBack = time.Time{}
		if err := r.prom.start(ctx); err != nil {
			return err
		}
		c.note(now, "prometheus-outage: prometheus is back")
	}
	if !c.leaderless.IsZero() {
		if l := c.leader(r); l != nil {
			took := time.Since(c.leaderless)
			c.note(now, fmt.Sprintf("%s leads again, %s (real) after the kill: %s of trace without a leader", l.name, took.Round(100*time.Millisecond), time.Duration(float64(took)*r.cfg.Speed).Round(time.Second)))
			c.leaderless = time.Time{}
		}
	}
	names := make([]string, 0, len(c.at))
	for n := range c.at {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if c.fired[n] || now.Before(c.at[n]) {
			continue
		}
		c.fired[n] = true
		if err := c.fire(ctx, r, n, now); err != nil {
			return fmt.Errorf("injecting %s: %w", n, err)
		}
	}
	return nil
}

func (c *chaos) fire(ctx context.Context, r *run, name string, now time.Time) error {
	key := types.NamespacedName{Namespace: r.ns, Name: r.name}
	switch name {
	case "controller-kill", "leader-failover":
		leader := c.leader(r)
		if leader == nil {
			c.note(now, name+": no controller holds the lease")
			return nil
		}
		leader.stop(syscall.SIGKILL)
		c.restart[leader] = time.Now().Add(2 * time.Second)
		c.leaderless = time.Now()
		c.note(now, fmt.Sprintf("%s: SIGKILL to the leader, %s; it restarts 2s (real) later", name, leader.name))
	case "prometheus-outage":
		// A tenth of the run, at least 10s: longer than the fallback's failure threshold.
		outage := max(10*time.Second, time.Duration(float64(r.traceEnd().Sub(r.cfg.Demand.Start))/r.cfg.Speed/10))
		r.prom.stop()
		c.promBack = time.Now().Add(outage)
		c.note(now, fmt.Sprintf("prometheus-outage: prometheus stopped for %s (real), %s of trace", outage.Round(time.Second), time.Duration(float64(outage)*r.cfg.Speed).Round(time.Minute)))
	case "pod-kill":
		victim, n := "", -1
		for pod, players := range r.disp.Up() {
			if players > n || (players == n && pod < victim) {
				victim, n = pod, players
			}
		}
		if victim == "" {
			c.note(now, "pod-kill: no pod to delete")
			return nil
		}
		pod := &corev1.Pod{}
		if err := r.c.Get(ctx, types.NamespacedName{Namespace: r.ns, Name: victim}, pod); err != nil {
			return err
		}
		err := r.c.Delete(ctx, pod)
		if apierrors.IsForbidden(err) && strings.Contains(err.Error(), "streamscaler holds") {
			c.note(now, fmt.Sprintf("pod-kill: deleting pod %s (%d players) by hand was refused by the removal guard; it drains first, then its CloneSet deletes it", victim, n))
			return nil
		}
		if err != nil {
			return err
		}
		c.note(now, fmt.Sprintf("pod-kill: deleted pod %s by hand with %d players", victim, n))
		return nil
	case "manual-scale-in":
		return retry.RetryOnConflict(retry.DefaultRetry, func() error {
			var cs kruisev1alpha1.CloneSet
			if err := r.c.Get(ctx, key, &cs); err != nil {
				return err
			}
			n := *cs.Spec.Replicas - 1
			cs.Spec.Replicas = &n
			if err := r.c.Update(ctx, &cs); err != nil {
				return err
			}
			c.note(now, fmt.Sprintf("manual-scale-in: CloneSet replicas lowered by hand to %d", n))
			return nil
		})
	case "rollout":
		return retry.RetryOnConflict(retry.DefaultRetry, func() error {
			var cs kruisev1alpha1.CloneSet
			if err := r.c.Get(ctx, key, &cs); err != nil {
				return err
			}
			if cs.Spec.Template.Annotations == nil {
				cs.Spec.Template.Annotations = map[string]string{}
			}
			cs.Spec.Template.Annotations["demo.streamscaler.io/rollout"] = now.UTC().Format(time.RFC3339)
			if err := r.c.Update(ctx, &cs); err != nil {
				return err
			}
			c.note(now, "rollout: pod template changed (the CloneSet's own update strategy applies)")
			return nil
		})
	}
	return nil
}

// leader is the controller replica that holds the lease (the only one without election).
func (c *chaos) leader(r *run) *controllerProcess {
	for _, p := range r.ctrls {
		if !c.killed(p) && p.leading() {
			return p
		}
	}
	return nil
}

func (c *chaos) note(now time.Time, what string) {
	c.log = append(c.log, now.UTC().Format(time.RFC3339)+" "+what)
}
