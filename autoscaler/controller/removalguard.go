package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	appspub "github.com/openkruise/kruise-api/apps/pub"
	kruisev1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	"github.com/prometheus/client_golang/prometheus"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/statemachine"
)

// The guard labels pods (patch, above). With --webhook-cert-secret the controller keeps
// the guard's certificate in a Secret of its own namespace and writes its CA into the
// webhook configuration.
// +kubebuilder:rbac:groups="",namespace=streamscaler-system,resources=secrets,verbs=get;list;watch;update
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingwebhookconfigurations,verbs=get;list;watch;update

// RemovalGuardPath is where the manager serves the RemovalGuard webhook; the
// ValidatingWebhookConfiguration in deploy/ names it.
const RemovalGuardPath = "/validate-pod-removal"

// RemovalGuard is a validating admission webhook on pod deletions and evictions, for the
// removals that do not go through the CloneSet: `kubectl delete pod`, another controller's
// delete, a node drain through the eviction API. Kruise's preDelete hook holds only what
// the CloneSet deletes; this holds the rest the same way.
//
// A removal of a pod that carries streamscaler's hook label and may have viewers on it
// (allocated or tombstone) is refused, and the pod is labelled apps.kruise.io/
// specified-delete instead: the CloneSet then holds it PreparingDelete, streamscaler
// drains it (evicting what is left at the drain timeout, counted), releases it, and the
// CloneSet deletes it and creates its replacement. The person or controller that asked
// gets what it asked for, after the drain. An eviction is refused with 429, as a
// PodDisruptionBudget refuses one, so `kubectl drain` and the cluster autoscaler retry
// until the pod is gone.
//
// The verdict reads only the pod's labels, so every replica serves it, leader or not.
// Allowed at once: pods without the hook label (a CloneSet without the hook keeps its
// behaviour), pods in init or deletable, pods already terminating, deletions by the
// garbage collector, the node controllers and kubelets (the pod's node or owner is gone),
// and a forced deletion (grace period 0), which is the way to cut viewers on purpose; it
// is counted and raises a Warning event.
type RemovalGuard struct {
	// Client labels held pods; Reader reads the pod an eviction names.
	Client client.Client
	Reader client.Reader
	// Recorder emits events on the pod; may be nil.
	Recorder events.EventRecorder
}

var _ admission.Handler = &RemovalGuard{}

var removals = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "streamscaler_removals_total",
	Help: "Pod deletions and evictions the removal guard saw on hooked pods, by operation (delete, evict) and verdict (held: refused and drained first; forced: grace period 0, viewers cut on purpose; allowed).",
}, []string{"namespace", "policy", "operation", "verdict"})

func init() { ctrlmetrics.Registry.MustRegister(removals) }

// removal is what the guard knows of one request.
type removal struct {
	eviction bool
	force    bool // grace period 0 (a forced delete, for a pod on a node)
	user     string
}

// Verdicts of judgeRemoval.
const (
	verdictAllowed = "allowed"
	verdictHeld    = "held"
	verdictForced  = "forced"
)

// systemRemovers may always remove: the pod's owner or node is gone, or the pod has
// already stopped.
var systemRemovers = []string{
	"system:serviceaccount:kube-system:generic-garbage-collector",
	"system:serviceaccount:kube-system:pod-garbage-collector",
	"system:serviceaccount:kube-system:node-controller",
	"system:serviceaccount:kube-system:taint-eviction-controller",
	"system:kube-controller-manager",
}

// judgeRemoval decides one removal of pod. why says what was seen, for the response and
// the logs.
func judgeRemoval(pod *corev1.Pod, r removal) (verdict, why string) {
	if !hooked(pod) {
		return verdictAllowed, "the pod does not carry the hook label " + v1alpha1.DrainHookLabel
	}
	if pod.DeletionTimestamp != nil {
		return verdictAllowed, "the pod is already terminating"
	}
	if strings.HasPrefix(r.user, "system:node:") {
		return verdictAllowed, "a kubelet removes it"
	}
	for _, u := range systemRemovers {
		if r.user == u {
			return verdictAllowed, r.user + " removes it"
		}
	}
	st, err := statemachine.ParseState(pod.Labels[v1alpha1.StateLabel])
	if err != nil {
		// No state yet: a pod streamscaler has not seen takes no viewers from a Service
		// that selects allocated pods.
		return verdictAllowed, "the pod has no business state yet"
	}
	switch st {
	case statemachine.Init:
		return verdictAllowed, "the pod is init: it has taken no viewers"
	case statemachine.Deletable:
		return verdictAllowed, "the pod is deletable: drained"
	}
	// The API server sets a grace period of 0 itself for a pod on no node: such a pod
	// never ran, so only a pod on a node can be forced.
	if r.force && pod.Spec.NodeName != "" {
		return verdictForced, fmt.Sprintf("forced (grace period 0) while %s: any viewers on it are cut", st)
	}
	return verdictHeld, fmt.Sprintf("the pod is %s and may have viewers", st)
}

// Handle answers one AdmissionReview.
func (g *RemovalGuard) Handle(ctx context.Context, req admission.Request) admission.Response {
	pod, r, err := g.readRequest(ctx, req)
	if err != nil {
		if apierrors.IsNotFound(err) {
			return admission.Allowed("no such pod")
		}
		// Refuse nothing on a request the guard cannot read: holding a removal it does
		// not understand could block a cluster operation for good.
		logf.FromContext(ctx).Error(err, "Reading a removal request; allowed", "uid", req.UID)
		return admission.Allowed("streamscaler could not read the request: " + err.Error())
	}
	if pod == nil {
		return admission.Allowed("not a pod removal")
	}
	verdict, why := judgeRemoval(pod, r)
	op := "delete"
	if r.eviction {
		op = "evict"
	}
	log := logf.FromContext(ctx).WithValues("pod", types.NamespacedName{Namespace: pod.Namespace, Name: pod.Name}, "operation", op, "user", r.user)
	if hooked(pod) {
		removals.WithLabelValues(pod.Namespace, pod.Annotations[v1alpha1.PolicyAnnotation], op, verdict).Inc()
	}
	switch verdict {
	case verdictAllowed:
		log.V(2).Info("Removal allowed", "why", why)
		return admission.Allowed(why)
	case verdictForced:
		log.Info("Forced removal allowed", "why", why)
		if !dryRun(req) {
			g.event(pod, corev1.EventTypeWarning, "ForcedRemoval", "Admit", "%s by %s: %s", op, r.user, why)
		}
		return admission.Allowed(why)
	}
	msg := fmt.Sprintf("streamscaler holds this %s: %s; the pod drains first and its CloneSet deletes it once drained "+
		"(at the latest at the policy's drain timeout, with the rest evicted and counted)", op, why)
	if !dryRun(req) {
		// The API server may ask twice for one delete (it retries its update after the
		// label changed the pod): only the call that labels tells.
		if labelled, err := g.requestDrain(ctx, pod); err != nil {
			log.Error(err, "Requesting the drain of a held pod")
			msg += "; the drain could not be requested (" + err.Error() + "), retry"
		} else if labelled {
			log.V(1).Info("Removal held: the CloneSet deletes the pod once drained", "why", why)
			g.event(pod, corev1.EventTypeNormal, "RemovalHeld", "Admit", "%s by %s held: %s; labelled %s, the CloneSet deletes it once drained", op, r.user, why, kruisev1alpha1.SpecifiedDeleteKey)
		}
	}
	msg += "; to cut its viewers now, delete it with grace period 0 (kubectl delete pod --grace-period=0 --force)"
	code := int32(http.StatusForbidden)
	reason := metav1.StatusReasonForbidden
	if r.eviction {
		// As a PodDisruptionBudget answers: kubectl drain and the cluster autoscaler retry.
		code, reason = http.StatusTooManyRequests, metav1.StatusReasonTooManyRequests
	}
	return admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{
		UID: req.UID, Allowed: false,
		Result: &metav1.Status{Status: metav1.StatusFailure, Code: code, Reason: reason, Message: msg},
	}}
}

// readRequest returns the pod a removal is about (nil for anything else) and what the
// guard needs of the request.
func (g *RemovalGuard) readRequest(ctx context.Context, req admission.Request) (*corev1.Pod, removal, error) {
	r := removal{user: req.UserInfo.Username}
	if req.Resource.Group != "" || req.Resource.Resource != "pods" {
		return nil, r, nil
	}
	switch {
	case req.Operation == admissionv1.Delete && req.SubResource == "":
		pod := &corev1.Pod{}
		if err := json.Unmarshal(req.OldObject.Raw, pod); err != nil {
			return nil, r, fmt.Errorf("decoding the pod being deleted: %w", err)
		}
		if len(req.Options.Raw) > 0 {
			var opts metav1.DeleteOptions
			if err := json.Unmarshal(req.Options.Raw, &opts); err != nil {
				return nil, r, fmt.Errorf("decoding the delete options: %w", err)
			}
			r.force = opts.GracePeriodSeconds != nil && *opts.GracePeriodSeconds == 0
		}
		return pod, r, nil
	case req.Operation == admissionv1.Create && req.SubResource == "eviction":
		r.eviction = true
		var ev policyv1.Eviction
		if err := json.Unmarshal(req.Object.Raw, &ev); err != nil {
			return nil, r, fmt.Errorf("decoding the eviction: %w", err)
		}
		if o := ev.DeleteOptions; o != nil && o.GracePeriodSeconds != nil && *o.GracePeriodSeconds == 0 {
			r.force = true
		}
		pod := &corev1.Pod{}
		if err := g.Reader.Get(ctx, types.NamespacedName{Namespace: req.Namespace, Name: req.Name}, pod); err != nil {
			return nil, r, err
		}
		return pod, r, nil
	}
	return nil, r, nil
}

// requestDrain labels the pod specified-delete, unless the CloneSet removes it already:
// the CloneSet holds it for streamscaler's preDelete hook, streamscaler drains it, and the
// CloneSet deletes it once released and creates its replacement.
func (g *RemovalGuard) requestDrain(ctx context.Context, pod *corev1.Pod) (labelled bool, err error) {
	if _, ok := pod.Labels[kruisev1alpha1.SpecifiedDeleteKey]; ok {
		return false, nil
	}
	if pod.Labels[appspub.LifecycleStateKey] == string(appspub.LifecycleStatePreparingDelete) {
		return false, nil
	}
	patch := fmt.Appendf(nil, `{"metadata":{"labels":{%q:"true"}}}`, kruisev1alpha1.SpecifiedDeleteKey)
	if err := g.Client.Patch(ctx, pod, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return false, err
	}
	return true, nil
}

func dryRun(req admission.Request) bool { return req.DryRun != nil && *req.DryRun }

func (g *RemovalGuard) event(pod *corev1.Pod, typ, reason, action, note string, args ...any) {
	if g.Recorder != nil {
		g.Recorder.Eventf(pod, nil, typ, reason, action, note, args...)
	}
}
