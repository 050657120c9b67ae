package metricsapi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"k8s.io/metrics/pkg/client/clientset/versioned"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned/typed/metrics/v1beta1"

	"github.com/streamscaler/streamscaler/adapters/samples"
	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

// served pairs a key this source serves with the resource metrics-server measures for it.
type served struct {
	key  string
	name corev1.ResourceName
}

// resources are the keys this source serves.
var resources = []served{
	{string(v1alpha1.MetricCPU), corev1.ResourceCPU},
	{string(v1alpha1.MetricMemory), corev1.ResourceMemory},
}

// Source reads per-pod CPU and memory utilisation from metrics.k8s.io/v1beta1.
type Source struct {
	// podMetrics lists PodMetrics, once per decision.
	podMetrics metricsclient.PodMetricsesGetter
	// now is the clock for the policy's staleness bound.
	now func() time.Time
	// ceilings bound cpu and memory per pod.
	ceilings samples.Ceilings
}

// New returns a Source that talks to the API server (which proxies metrics.k8s.io to
// metrics-server) as cfg says. now is the clock for sample ages; nil means time.Now.
// ceilings bound each metric per pod (samples.ParseCeilings); nil means the defaults.
func New(cfg *rest.Config, now func() time.Time, ceilings samples.Ceilings) (*Source, error) {
	if cfg == nil {
		return nil, errors.New("creating metrics.k8s.io client: no rest config")
	}
	cs, err := versioned.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("creating metrics.k8s.io client: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	return &Source{podMetrics: cs.MetricsV1beta1(), now: now, ceilings: ceilings}, nil
}

// Samples returns, per asked pod, its cpu and memory utilisation (percent of requests)
// for those of keys it serves; every other key is left missing, and every asked pod is
// in the result, with an empty map when nothing valid was measured. A pod without a
// request for a resource (noRequest), with a container missing from the metrics or
// measured partly before it started (partial), or measured longer ago than the policy's
// maxSampleAge (stale) has no sample for it, and the second result says so. It lists the
// policy's namespace once, narrowed by the labels the asked pods share; keys without cpu
// or memory make no call at all.
func (s *Source) Samples(ctx context.Context, policy *v1alpha1.ScalingPolicy, pods []*corev1.Pod, keys []string) (map[string]map[string]float64, map[string][]v1alpha1.SampleProblem, error) {
	names := make([]string, 0, len(pods))
	asked := make(map[string]*corev1.Pod, len(pods))
	for _, p := range pods {
		names = append(names, p.Name)
		asked[p.Name] = p
	}
	wanted := servedResources(keys)
	if len(wanted) == 0 || len(pods) == 0 {
		out, _ := samples.Collect(nil, names, time.Time{}, 0, s.ceilings)
		return out, nil, nil
	}
	if policy == nil {
		return nil, nil, errors.New("listing pod metrics: no policy, so no namespace")
	}
	ns := policy.Namespace
	list, err := s.podMetrics.PodMetricses(ns).List(ctx, metav1.ListOptions{LabelSelector: sharedLabels(pods)})
	if err != nil {
		return nil, nil, listError(ns, err)
	}

	var raw []samples.Sample
	notAsked := 0
	for i := range list.Items {
		m := &list.Items[i]
		pod, ok := asked[m.Name]
		if !ok {
			notAsked++
			continue
		}
		for _, r := range wanted {
			sample := samples.Sample{Pod: m.Name, Key: r.key, Time: m.Timestamp.Time}
			switch {
			case m.Timestamp.IsZero():
				sample.Problem = v1alpha1.SampleUndated
			case !measuredInPodLife(pod, m):
				sample.Problem = v1alpha1.SamplePartial
			default:
				sample.Value, sample.Problem = utilization(pod, m, r.name)
			}
			raw = append(raw, sample)
		}
	}
	out, dropped := samples.Collect(raw, names, s.now(), policy.Spec.SampleMaxAge(), s.ceilings)

	if dropped.Total() > 0 {
		logr.FromContextOrDiscard(ctx).V(1).Info("Left pod metrics out", append([]any{
			"policy", klog.KObj(policy), "listed", len(list.Items), "notAsked", notAsked}, dropped.KeysAndValues()...)...)
	}
	dropped.LogImplausible(logr.FromContextOrDiscard(ctx).WithValues("metricsSource", "metrics-api", "policy", klog.KObj(policy)))
	return out, dropped.Pods, nil
}

// servedResources picks, once each, the asked keys this source serves.
func servedResources(keys []string) []served {
	var out []served
	for _, r := range resources {
		for _, k := range keys {
			if k == r.key {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// sharedLabels is an equality selector on the labels every asked pod carries, less
// those that change during a pod's life (a stale copy of the pod would then hide it from
// the list). metrics-server filters on it, so the list holds the fleet and not the whole
// namespace; pods it lets through that were not asked are skipped by name. Empty when
// the pods share nothing.
func sharedLabels(pods []*corev1.Pod) string {
	shared := labels.Set{}
	for k, v := range pods[0].Labels {
		if !changesInLife(k) {
			shared[k] = v
		}
	}
	for _, p := range pods[1:] {
		for k, v := range shared {
			if got, ok := p.Labels[k]; !ok || got != v {
				delete(shared, k)
			}
		}
	}
	if len(shared) == 0 {
		return ""
	}
	return labels.SelectorFromValidatedSet(shared).String()
}

// changesInLife reports whether a label is one that is rewritten on a running pod:
// streamscaler's own state, OpenKruise's lifecycle and in-place update labels, and the
// revision hashes that in-place updates change.
func changesInLife(key string) bool {
	return strings.HasPrefix(key, "streamscaler.io/") || strings.Contains(key, "kruise.io/") ||
		key == "controller-revision-hash" || key == "pod-template-hash"
}

// listError says what went wrong in words an operator can act on; the API error stays
// wrapped for apierrors.IsNotFound and friends.
func listError(ns string, err error) error {
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("listing pod metrics in namespace %s: metrics.k8s.io/v1beta1 is not served (is metrics-server installed?): %w", ns, err)
	case apierrors.IsServiceUnavailable(err):
		return fmt.Errorf("listing pod metrics in namespace %s: metrics.k8s.io/v1beta1 is unavailable (is metrics-server running?): %w", ns, err)
	}
	return fmt.Errorf("listing pod metrics in namespace %s: %w", ns, err)
}
