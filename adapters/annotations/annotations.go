package annotations

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

const (
	// Prefix starts the annotation of each metric; the metric key follows.
	Prefix = "streamscaler.io/metric."
	// TimeAnnotation is when the samples were taken (RFC 3339). Optional.
	TimeAnnotation = "streamscaler.io/metric-time"
)

// Source reads samples from the pods' annotations.
type Source struct {
	// MaxAge makes samples older than this missing; zero keeps every sample.
	MaxAge time.Duration
	// Now is the clock for MaxAge.
	Now func() time.Time
}

// Samples returns, per pod name, the valid samples of the given metric keys. A value
// that does not parse, is NaN, infinite or negative, or is older than MaxAge is left
// out, which the decision core treats as missing.
func (s *Source) Samples(_ context.Context, _ *v1alpha1.ScalingPolicy, pods []*corev1.Pod, keys []string) (map[string]map[string]float64, error) {
	out := make(map[string]map[string]float64, len(pods))
	for _, p := range pods {
		if s.MaxAge > 0 && s.Now != nil {
			at, err := time.Parse(time.RFC3339, p.Annotations[TimeAnnotation])
			if err != nil || s.Now().Sub(at) > s.MaxAge {
				continue
			}
		}
		values := map[string]float64{}
		for _, k := range keys {
			raw, ok := p.Annotations[Prefix+k]
			if !ok {
				continue
			}
			v, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				continue
			}
			values[k] = v
		}
		out[p.Name] = values
	}
	return out, nil
}
