package controller_test

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/streamscaler/streamscaler/autoscaler/controller"
)

// twoShards runs two controllers, shards 0 and 1 of 2, on six fleets (a CloneSet and its
// policy in each of six namespaces, three a shard). Every fleet is decided (its
// least-loaded pod tombstoned) by the shard that owns its CloneSet, and the other shard
// publishes nothing for it: no policy is acted on by both.
func twoShards(e *env) {
	shards := []controller.Shard{{Index: 0, Count: 2}, {Index: 1, Count: 2}}
	var fleets []*env
	owner := map[string]int{}
	count := []int{0, 0}
	for i := 0; count[0] < 3 || count[1] < 3; i++ {
		ns := fmt.Sprintf("%ss%d", e.ns, i)
		s := 0
		if shards[1].Owns(ns, "srs-edge") {
			s = 1
		}
		if count[s] == 3 {
			continue
		}
		count[s]++
		owner[ns] = s
		f := &env{t: e.t, c: e.c, ns: ns}
		if err := e.c.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			e.t.Fatal(err)
		}
		fleets = append(fleets, f)
	}
	published := []*recordingPublisher{{}, {}}
	for i, s := range shards {
		c := &env{t: e.t, c: e.c, ns: e.ns, shard: s, publisher: published[i]}
		c.startController(nil, nil)
	}
	victims := map[string]string{}
	for _, f := range fleets {
		pods := f.cloneSet(12, 3, 9, 1)
		f.policy(nil)
		victims[f.ns] = pods[3].Name
	}
	for _, f := range fleets {
		f.eventually("the owning shard tombstones the least-loaded pod", func() (bool, string) {
			return f.state(victims[f.ns]) == "tombstone", states(f)
		})
	}
	time.Sleep(2 * time.Second) // a few more passes of both shards
	for _, f := range fleets {
		key := f.ns + "/edge"
		mine, theirs := published[owner[f.ns]], published[1-owner[f.ns]]
		if mine.get(key, "streamscaler_recommended_replicas") == 0 {
			e.t.Errorf("%s: shard %d owns it but published nothing", key, owner[f.ns])
		}
		theirs.mu.Lock()
		_, acted := theirs.values[key]
		theirs.mu.Unlock()
		if acted {
			e.t.Errorf("%s: shard %d acted on a policy of shard %d", key, 1-owner[f.ns], owner[f.ns])
		}
		tombstoned := 0
		for _, p := range f.pods() {
			if p.Labels["streamscaler.io/state"] == "tombstone" {
				tombstoned++
			}
		}
		if tombstoned != 1 {
			e.t.Errorf("%s: %d pods tombstoned, want 1: %s", key, tombstoned, states(f))
		}
	}
}
