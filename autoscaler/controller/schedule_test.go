package controller_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

func eventsFromConfigMap(e *env) {
	ctx := context.Background()
	e.history = flatHistory(20) // 20 players for the last two hours
	e.cloneSet(10, 10)          // and now: 2 pods of 10
	e.policy(func(s *v1alpha1.ScalingPolicySpec) {
		s.MaxReplicas = 40
		s.Prediction = &v1alpha1.PredictionSpec{Enabled: true, MarginPercent: ptr.To(int32(0)),
			EventsConfigMap: &v1alpha1.ConfigMapKey{Name: "fixtures"}}
	})
	e.startController(nil, nil)
	loaded := func(status bool, reason, says string) func() (bool, string) {
		return func() (bool, string) {
			c := meta.FindStatusCondition(e.getPolicy().Status.Conditions, v1alpha1.ConditionEventsLoaded)
			if c == nil {
				return false, "no EventsLoaded condition"
			}
			ok := (c.Status == metav1.ConditionTrue) == status && c.Reason == reason && strings.Contains(c.Message, says)
			return ok, fmt.Sprintf("%s %s: %s; replicas %d", c.Status, c.Reason, c.Message, *e.cs().Spec.Replicas)
		}
	}
	e.eventually("the missing ConfigMap is named", loaded(false, "ConfigMapNotFound",
		fmt.Sprintf("ConfigMap fixtures not found in namespace %s; only the policy's own events are used", e.ns)))
	if msg, ok := e.event("EventsNotLoaded", "edge"); !ok || !strings.Contains(msg, "ConfigMap fixtures not found") {
		e.t.Fatalf("EventsNotLoaded event %q (%v), want one naming the ConfigMap", msg, ok)
	}
	e.consistently("without a schedule the flat load keeps 2 pods", 2*time.Second, func() (bool, string) {
		return *e.cs().Spec.Replicas == 2, fmt.Sprintf("replicas %d", *e.cs().Spec.Replicas)
	})

	// A final in five minutes, three times the load before it: 60 players, 6 pods. The
	// window opened 10 minutes ago (eventLead 15m), on the flat 20 of the history.
	start := time.Now().Add(5 * time.Minute).UTC().Format(time.RFC3339)
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "fixtures", Namespace: e.ns},
		Data:       map[string]string{"events.csv": "start,duration,name,liftPercent\n" + start + ",2h,Final,300\n"},
	}
	if err := e.c.Client.Create(ctx, cm); err != nil {
		e.t.Fatal(err)
	}
	e.eventually("the schedule is read", loaded(true, "Loaded", "1 event read from ConfigMap fixtures key events.csv"))
	e.eventually("the fleet is readied for the final", func() (bool, string) {
		return *e.cs().Spec.Replicas >= 6, fmt.Sprintf("replicas %d", *e.cs().Spec.Replicas)
	})

	// A broken edit: said, and the final read before stays in force.
	cm.Data["events.csv"] = "start,duration,name\nsoon,2h,Final\n"
	if err := e.c.Client.Update(ctx, cm); err != nil {
		e.t.Fatal(err)
	}
	e.eventually("the broken row is named", loaded(false, "InvalidEvents",
		`ConfigMap fixtures key events.csv line 2: start "soon": want RFC 3339, such as 1998-07-12T19:00:00Z; keeping the 1 event read before`))
	e.consistently("the fleet stays readied", 3*time.Second, func() (bool, string) {
		return *e.cs().Spec.Replicas >= 6, fmt.Sprintf("replicas %d", *e.cs().Spec.Replicas)
	})

	// The schedule under another key than the policy reads.
	cm.Data = map[string]string{"fixtures.csv": "start,duration,name\n"}
	if err := e.c.Client.Update(ctx, cm); err != nil {
		e.t.Fatal(err)
	}
	e.eventually("the missing key is named with the keys there are", loaded(false, "KeyNotFound",
		"ConfigMap fixtures has no key events.csv (its keys: fixtures.csv); keeping the 1 event read before"))
}
