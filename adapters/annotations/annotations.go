package annotations

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"

	"github.com/streamscaler/streamscaler/adapters/samples"
	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

const (
	// Prefix starts the annotation of each metric; the metric key follows.
	Prefix = v1alpha1.MetricAnnotationPrefix
	// TimeAnnotation is when the samples were taken (RFC 3339). Optional.
	TimeAnnotation = v1alpha1.MetricTimeAnnotation
)

// Source reads samples from the pods' annotations.
type Source struct {
	// Now is the clock for the policy's maxSampleAge; nil keeps samples of any age.
	Now func() time.Time
	// Ceilings bound each metric per pod (samples.ParseCeilings); nil means the defaults.
	Ceilings samples.Ceilings
}

// Samples returns, per pod name, the valid samples of the given metric keys, and per pod
// why samples were left out. A value that does not parse, is NaN, infinite, negative or
// above its per-pod ceiling, or is older than MaxAge (by TimeAnnotation; a sample without
// a readable time is undated, and left out when MaxAge is set) is left out, which the
// decision core treats as missing. The age bound is the policy's
// spec.metricsSource.maxSampleAge (default 2m).
func (s *Source) Samples(ctx context.Context, policy *v1alpha1.ScalingPolicy, pods []*corev1.Pod, keys []string) (map[string]map[string]float64, map[string][]v1alpha1.SampleProblem, error) {
	var raw []samples.Sample
	names := make([]string, 0, len(pods))
	var now time.Time
	maxAge := time.Duration(0)
	if s.Now != nil && policy != nil {
		now, maxAge = s.Now(), policy.Spec.SampleMaxAge()
	}
	for _, p := range pods {
		names = append(names, p.Name)
		var at time.Time
		undated := false
		if maxAge > 0 {
			t, err := time.Parse(time.RFC3339, p.Annotations[TimeAnnotation])
			undated = err != nil // undated samples cannot be shown to be fresh
			at = t
		}
		for _, k := range keys {
			text, ok := p.Annotations[Prefix+k]
			if !ok {
				continue
			}
			sample := samples.Sample{Pod: p.Name, Key: k, Time: at}
			v, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
			switch {
			case err != nil && !errors.Is(err, strconv.ErrRange): // 1e400 parses as +Inf: not finite
				sample.Problem = v1alpha1.SampleNonNumeric
			case undated:
				sample.Problem = v1alpha1.SampleUndated
			}
			sample.Value = v
			raw = append(raw, sample)
		}
	}
	out, dropped := samples.Collect(raw, names, now, maxAge, s.Ceilings)
	dropped.LogImplausible(logr.FromContextOrDiscard(ctx).WithValues("metricsSource", "annotations"))
	return out, dropped.Pods, nil
}
