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
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	"github.com/streamscaler/streamscaler/autoscaler/simulate"
)

// Faults the demo can inject with --chaos, in the order they are described in the README.
var Faults = []string{"controller-kill", "pod-kill", "manual-scale-in", "rollout"}

// chaos fires each requested fault once, spread evenly over the trace, and logs it.
type chaos struct {
	at      map[string]time.Time
	fired   map[string]bool
	restart time.Time // when a killed controller comes back; zero when it runs
	log     []string
}

func newChaos(names []string, d simulate.Demand) (*chaos, error) {
	c := &chaos{at: map[string]time.Time{}, fired: map[string]bool{}}
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

func (c *chaos) controllerDown() bool { return !c.restart.IsZero() }

// inject fires the faults that are due at now and restarts a killed controller.
func (c *chaos) inject(ctx context.Context, r *run, now time.Time) error {
	if c.controllerDown() && !time.Now().Before(c.restart) {
		c.restart = time.Time{}
		c.note(now, "controller restarted")
		if err := r.ctrl.start(); err != nil {
			return err
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
	case "controller-kill":
		r.ctrl.stop(syscall.SIGKILL)
		c.restart = time.Now().Add(2 * time.Second)
		c.note(now, "controller-kill: SIGKILL; restart in 2s real time")
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
		c.note(now, fmt.Sprintf("pod-kill: deleted pod %s by hand with %d players", victim, n))
		return r.c.Delete(ctx, pod)
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

func (c *chaos) note(now time.Time, what string) {
	c.log = append(c.log, now.UTC().Format(time.RFC3339)+" "+what)
}
