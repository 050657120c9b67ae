package prometheus

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

// maxHistoryPoints bounds one range read (Prometheus itself refuses more than 11000).
const maxHistoryPoints = 11000

// History returns a metric's total over the fleet at every step of [end-span, end), from
// one range query: the per-pod query of key summed over the pods whose names match
// podsRegex (a regular expression, such as the CloneSet's name followed by Kruise's
// suffix). Steps with no data repeat the previous value (the first ones take the first
// value seen); a series with no data at all is an error.
func (s *Source) History(ctx context.Context, policy *v1alpha1.ScalingPolicy, key, podsRegex string, end time.Time, span, step time.Duration) ([]float64, error) {
	if step <= 0 || span < step {
		return nil, fmt.Errorf("prometheus history of %s: span %s and step %s make no series", key, span, step)
	}
	n := int(span / step)
	if n > maxHistoryPoints {
		return nil, fmt.Errorf("prometheus history of %s: %d points, more than %d: use a larger step", key, n, maxHistoryPoints)
	}
	conn, err := s.connect(ctx, policy)
	if err != nil {
		return nil, err
	}
	tmpl, err := queryFor(key, conn.src.Queries)
	if err != nil {
		return nil, err
	}
	vars := templateVars{namespace: policy.Namespace, podLabel: conn.podLabel, window: max(s.window, step)}.replacer()
	// $pods is the caller's pattern here, not a list of names.
	query := "sum(" + strings.ReplaceAll(vars.Replace(strings.ReplaceAll(tmpl, VarPods, "\x00")), "\x00", promQLEscape(podsRegex)) + ")"
	start := end.Add(-time.Duration(n) * step)
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	value, _, _, err := conn.api.QueryRange(ctx, query, promv1.Range{Start: start, End: end.Add(-step), Step: step}, promv1.WithTimeout(s.timeout))
	if err != nil {
		return nil, fmt.Errorf("querying prometheus history of %s: %w", key, err)
	}
	matrix, ok := value.(model.Matrix)
	if !ok {
		got := "no result"
		if value != nil {
			got = value.Type().String()
		}
		return nil, fmt.Errorf("querying prometheus history of %s: want a matrix, got %s", key, got)
	}
	out := make([]float64, n)
	seen := make([]bool, n)
	for _, series := range matrix {
		for _, p := range series.Values {
			i := int(p.Timestamp.Time().Sub(start) / step)
			v := float64(p.Value)
			if i < 0 || i >= n || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				continue
			}
			out[i], seen[i] = v, true
		}
	}
	first := -1
	for i := range out {
		if seen[i] {
			first = i
			break
		}
	}
	if first < 0 {
		return nil, fmt.Errorf("querying prometheus history of %s: no data in the last %s", key, span)
	}
	for i := range out {
		switch {
		case i < first:
			out[i] = out[first]
		case !seen[i]:
			out[i] = out[i-1]
		}
	}
	return out, nil
}
