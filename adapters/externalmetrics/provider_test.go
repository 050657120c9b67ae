package externalmetrics

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"
)

func TestProvider(t *testing.T) {
	at := time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)
	later := at.Add(30 * time.Second)
	policy := func(name string) labels.Selector { return labels.SelectorFromSet(labels.Set{PolicyLabel: name}) }

	type want struct {
		policy string
		milli  int64
		at     time.Time
	}
	tests := []struct {
		name      string
		publish   func(s *Store)
		namespace string
		metric    string
		selector  labels.Selector
		want      []want
		notFound  bool
	}{
		{
			name: "the edge policy's recommendation is selected by its policy label",
			publish: func(s *Store) {
				s.Publish("live", "edge", map[string]float64{"streamscaler_recommended_replicas": 12}, at)
				s.Publish("live", "origin", map[string]float64{"streamscaler_recommended_replicas": 3}, at)
			},
			namespace: "live", metric: "streamscaler_recommended_replicas", selector: policy("edge"),
			want: []want{{"edge", 12000, at}},
		},
		{
			name: "without a selector every policy of the namespace answers, sorted by name",
			publish: func(s *Store) {
				s.Publish("live", "origin", map[string]float64{"streamscaler_recommended_replicas": 3}, at)
				s.Publish("live", "edge", map[string]float64{"streamscaler_recommended_replicas": 12}, at)
				s.Publish("other", "edge", map[string]float64{"streamscaler_recommended_replicas": 99}, at)
			},
			namespace: "live", metric: "streamscaler_recommended_replicas", selector: labels.Everything(),
			want: []want{{"edge", 12000, at}, {"origin", 3000, at}},
		},
		{
			name: "a later publish replaces the policy's values, fractions kept to the milli",
			publish: func(s *Store) {
				s.Publish("live", "edge", map[string]float64{"streamscaler_metric_total_pullStreams": 100, "streamscaler_recommended_replicas": 4}, at)
				s.Publish("live", "edge", map[string]float64{"streamscaler_metric_total_pullStreams": 1234.5678}, later)
			},
			namespace: "live", metric: "streamscaler_metric_total_pullStreams", selector: policy("edge"),
			want: []want{{"edge", 1234568, later}},
		},
		{
			name: "a metric the replacing publish dropped is gone",
			publish: func(s *Store) {
				s.Publish("live", "edge", map[string]float64{"streamscaler_recommended_replicas": 4}, at)
				s.Publish("live", "edge", map[string]float64{"streamscaler_metric_total_pullStreams": 10}, later)
			},
			namespace: "live", metric: "streamscaler_recommended_replicas", selector: policy("edge"),
			notFound: true,
		},
		{
			name: "the metric name is matched case-insensitively, as client-go lowercases it",
			publish: func(s *Store) {
				s.Publish("live", "edge", map[string]float64{"streamscaler_metric_total_pullStreams": 40}, at)
			},
			namespace: "live", metric: "streamscaler_metric_total_pullstreams", selector: policy("edge"),
			want: []want{{"edge", 40000, at}},
		},
		{
			name: "an unknown metric is NotFound",
			publish: func(s *Store) {
				s.Publish("live", "edge", map[string]float64{"streamscaler_recommended_replicas": 4}, at)
			},
			namespace: "live", metric: "streamscaler_metric_forecast_pullStreams", selector: policy("edge"),
			notFound: true,
		},
		{
			name: "a metric published only in another namespace is NotFound",
			publish: func(s *Store) {
				s.Publish("other", "edge", map[string]float64{"streamscaler_recommended_replicas": 4}, at)
			},
			namespace: "live", metric: "streamscaler_recommended_replicas", selector: labels.Everything(),
			notFound: true,
		},
		{
			name: "a selector naming no publishing policy gives an empty list",
			publish: func(s *Store) {
				s.Publish("live", "edge", map[string]float64{"streamscaler_recommended_replicas": 4}, at)
			},
			namespace: "live", metric: "streamscaler_recommended_replicas", selector: policy("origin"),
			want: []want{},
		},
		{
			name: "a forgotten policy stops answering while its neighbour stays",
			publish: func(s *Store) {
				s.Publish("live", "edge", map[string]float64{"streamscaler_recommended_replicas": 4}, at)
				s.Publish("live", "origin", map[string]float64{"streamscaler_recommended_replicas": 2}, at)
				s.Forget("live", "edge")
			},
			namespace: "live", metric: "streamscaler_recommended_replicas", selector: labels.Everything(),
			want: []want{{"origin", 2000, at}},
		},
		{
			name: "NaN and infinite values are left out, never served",
			publish: func(s *Store) {
				s.Publish("live", "edge", map[string]float64{"streamscaler_metric_forecast_pullStreams": nan(), "streamscaler_recommended_replicas": 4}, at)
			},
			namespace: "live", metric: "streamscaler_metric_forecast_pullStreams", selector: labels.Everything(),
			notFound: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := NewStore()
			tt.publish(store)
			got, err := NewProvider(store).GetExternalMetric(context.Background(), tt.namespace, tt.selector, provider.ExternalMetricInfo{Metric: tt.metric})
			if tt.notFound {
				if !apierrors.IsNotFound(err) {
					t.Fatalf("got %v, %v; want a NotFound error", got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("GetExternalMetric: %v", err)
			}
			if len(got.Items) != len(tt.want) {
				t.Fatalf("got %d values %+v, want %d", len(got.Items), got.Items, len(tt.want))
			}
			for i, w := range tt.want {
				item := got.Items[i]
				if item.MetricName != strings.ToLower(tt.metric) || item.MetricLabels[PolicyLabel] != w.policy || len(item.MetricLabels) != 1 {
					t.Errorf("item %d: name %q labels %v, want %q {policy: %s}", i, item.MetricName, item.MetricLabels, strings.ToLower(tt.metric), w.policy)
				}
				if item.Value.MilliValue() != w.milli {
					t.Errorf("item %d (%s): value %s, want %dm", i, w.policy, item.Value.String(), w.milli)
				}
				if !item.Timestamp.Time.Equal(w.at) {
					t.Errorf("item %d (%s): timestamp %s, want %s", i, w.policy, item.Timestamp, w.at)
				}
			}
		})
	}
}

func TestListAllExternalMetrics(t *testing.T) {
	store := NewStore()
	store.Publish("live", "edge", map[string]float64{"streamscaler_recommended_replicas": 4, "streamscaler_metric_total_pullStreams": 10}, time.Time{})
	store.Publish("other", "origin", map[string]float64{"streamscaler_recommended_replicas": 2, "streamscaler_metric_forecast_pullStreams": 12}, time.Time{})
	store.Publish("other", "gone", map[string]float64{"streamscaler_metric_total_cpu": 1}, time.Time{})
	store.Forget("other", "gone")

	got := NewProvider(store).ListAllExternalMetrics()
	// Lowercased: the names a client can ask for.
	want := []string{"streamscaler_metric_forecast_pullstreams", "streamscaler_metric_total_pullstreams", "streamscaler_recommended_replicas"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i].Metric != want[i] {
			t.Errorf("metric %d: got %q, want %q", i, got[i].Metric, want[i])
		}
	}
}

// TestStoreConcurrent is for -race: the controller publishes while the server reads.
func TestStoreConcurrent(t *testing.T) {
	store := NewStore()
	p := NewProvider(store)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 1000 {
			store.Publish("live", "edge", map[string]float64{"streamscaler_recommended_replicas": float64(i)}, time.Time{})
			if i%10 == 0 {
				store.Forget("live", "edge")
			}
		}
	}()
	for range 1000 {
		_, _ = p.GetExternalMetric(context.Background(), "live", labels.Everything(), provider.ExternalMetricInfo{Metric: "streamscaler_recommended_replicas"})
		_ = p.ListAllExternalMetrics()
	}
	<-done
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}

func TestQuantityNeverWraps(t *testing.T) {
	cases := []struct {
		name string
		v    float64
	}{
		{"a fraction is kept to the milli", 1234.5678},
		{"the largest value whose milli-units fit int64", 9.2e15},
		{"milli-units beyond int64", 9.3e15},
		{"the operator's 1e308", 1e308},
		{"the largest float64", 1.7976931348623157e308},
		{"a huge negative value", -1e308},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := quantity(c.v)
			got := q.AsApproximateFloat64()
			if (got > 0) != (c.v > 0) || math.Abs(got-c.v) > 1e-3+1e-9*math.Abs(c.v) {
				t.Fatalf("quantity(%g) = %s, reads back as %g", c.v, q.String(), got)
			}
		})
	}
}
