package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get

// DefaultScheduleRefresh is how often a policy's events ConfigMap is read again.
const DefaultScheduleRefresh = time.Minute

// schedule is what the controller keeps of a policy's events ConfigMap between passes.
type schedule struct {
	// from is the ConfigMap and key read (key defaulted).
	from v1alpha1.ConfigMapKey
	// readAt is when it was last read, whatever came of it.
	readAt time.Time
	// events are the events of the last valid read; loaded says there was one, and
	// version is the ConfigMap's resourceVersion then.
	events  []v1alpha1.ScheduledEvent
	loaded  bool
	version string
	// ok, reason and message are the EventsLoaded condition.
	ok              bool
	reason, message string
}

// readSchedule brings the policy's events ConfigMap (prediction.eventsConfigMap) into the
// pass: read again once every ScheduleRefresh, its events join the spec's in the spec
// the decision uses (p.spec), and the EventsLoaded condition says what was read or why
// it could not be. A read that fails or finds the schedule invalid keeps the events last
// read in force: a broken edit or a missing ConfigMap never takes away the events a
// fleet is being readied for. Events only ever raise the forecast, so nothing read here
// can shrink the fleet.
func (r *Reconciler) readSchedule(ctx context.Context, p *pass) {
	pred := p.policy.Spec.Prediction
	if !p.policy.Spec.Predicting() || pred.EventsConfigMap == nil {
		p.mem.schedule = nil
		meta.RemoveStatusCondition(&p.status.Conditions, v1alpha1.ConditionEventsLoaded)
		return
	}
	from := v1alpha1.ConfigMapKey{Name: pred.EventsConfigMap.Name, Key: pred.EventsConfigMap.EventsKey()}
	s := p.mem.schedule
	if s == nil || s.from != from {
		s = &schedule{from: from}
		p.mem.schedule = s
	}
	if s.readAt.IsZero() || p.now.Sub(s.readAt) >= r.scheduleRefresh() {
		s.readAt = p.now
		r.loadSchedule(ctx, p.policy, s)
	}
	setCondition(p.status, p.policy.Generation, v1alpha1.ConditionEventsLoaded, s.ok, s.reason, s.message)
	if len(s.events) > 0 {
		spec := p.policy.Spec // a copy: the policy read is never changed
		withEvents := *pred
		withEvents.Events = append(slices.Clip(pred.Events), s.events...)
		spec.Prediction = &withEvents
		p.spec = &spec
	}
}

// loadSchedule reads s's ConfigMap and key, and records the outcome in s: its events when
// they are valid, and the condition either way. An event says each change of outcome.
func (r *Reconciler) loadSchedule(ctx context.Context, policy *v1alpha1.ScalingPolicy, s *schedule) {
	reason, message, version := "", "", ""
	var evs []v1alpha1.ScheduledEvent
	where := fmt.Sprintf("ConfigMap %s key %s", s.from.Name, s.from.Key)
	reader := r.ConfigMaps
	if reader == nil {
		reader = r.Fresh
	}
	var cm corev1.ConfigMap
	var err error
	if reader == nil {
		err = fmt.Errorf("this controller has no reader for ConfigMaps")
	} else {
		err = reader.Get(ctx, types.NamespacedName{Namespace: policy.Namespace, Name: s.from.Name}, &cm)
	}
	switch {
	case apierrors.IsNotFound(err):
		reason, message = "ConfigMapNotFound", fmt.Sprintf("ConfigMap %s not found in namespace %s", s.from.Name, policy.Namespace)
	case err != nil:
		reason, message = "ReadFailed", fmt.Sprintf("reading ConfigMap %s: %v", s.from.Name, err)
	default:
		evs, err = v1alpha1.EventsIn(&cm, s.from.Key, where)
		if _, missing := errors.AsType[*v1alpha1.KeyNotFoundError](err); missing {
			reason, message = "KeyNotFound", fmt.Sprintf("ConfigMap %s has %v", s.from.Name, err)
			break
		}
		if err != nil {
			reason, message = "InvalidEvents", err.Error()
			break
		}
		reason, message, version = "Loaded", fmt.Sprintf("%s read from %s", count(len(evs), "event"), where), cm.ResourceVersion
	}
	log := logf.FromContext(ctx)
	if reason == "Loaded" {
		changed := !s.loaded || s.version != version || !s.ok
		s.events, s.loaded, s.version = evs, true, version
		s.ok, s.reason, s.message = true, reason, message
		if changed {
			log.Info("Read the events ConfigMap", "configMap", s.from.Name, "key", s.from.Key, "events", len(evs))
			r.event(policy, corev1.EventTypeNormal, "EventsLoaded", "ReadEvents", "%s", message)
		}
		return
	}
	if s.loaded {
		message += fmt.Sprintf("; keeping the %s read before", count(len(s.events), "event"))
	} else {
		message += "; only the policy's own events are used"
	}
	if s.ok || s.message != message {
		// A policy's own mistake, not the controller's: said in the condition and an
		// event, and logged once per change.
		log.Info("Cannot use the events ConfigMap", "configMap", s.from.Name, "key", s.from.Key, "reason", reason, "problem", message)
		r.event(policy, corev1.EventTypeWarning, "EventsNotLoaded", "ReadEvents", "%s", message)
	}
	s.ok, s.reason, s.message = false, reason, message
}

// scheduleRefresh is ScheduleRefresh or its default.
func (r *Reconciler) scheduleRefresh() time.Duration {
	if r.ScheduleRefresh > 0 {
		return r.ScheduleRefresh
	}
	return DefaultScheduleRefresh
}

// count says n things: "1 event", "3 events".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
