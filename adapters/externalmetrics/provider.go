package externalmetrics

import (
	"context"
	"math"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/metrics/pkg/apis/external_metrics"
	"sigs.k8s.io/custom-metrics-apiserver/pkg/provider"
)

// PolicyLabel is the metric label naming the ScalingPolicy a value belongs to; a consumer
// selects one policy with the label selector policy=<name>.
const PolicyLabel = "policy"

// externalMetricsResource names the API's resource in NotFound errors.
var externalMetricsResource = schema.GroupResource{Group: external_metrics.GroupName, Resource: "externalmetrics"}

// storeProvider answers the external metrics API from a Store.
type storeProvider struct {
	store *Store
}

// NewProvider returns the external metrics provider that serves store's values.
func NewProvider(store *Store) provider.ExternalMetricsProvider {
	return &storeProvider{store: store}
}

// GetExternalMetric returns one value per policy of namespace that published the metric
// and whose labels ({"policy": <name>}) match metricSelector, named in lowercase. A metric that no policy of
// the namespace published is NotFound; a selector that matches none of them gives an empty
// list.
func (p *storeProvider) GetExternalMetric(_ context.Context, namespace string, metricSelector labels.Selector, info provider.ExternalMetricInfo) (*external_metrics.ExternalMetricValueList, error) {
	values := p.store.metric(namespace, info.Metric)
	if len(values) == 0 {
		return nil, provider.NewMetricNotFoundError(externalMetricsResource, info.Metric)
	}
	if metricSelector == nil {
		metricSelector = labels.Everything()
	}
	list := &external_metrics.ExternalMetricValueList{Items: []external_metrics.ExternalMetricValue{}}
	for _, v := range values {
		metricLabels := map[string]string{PolicyLabel: v.policy}
		if !metricSelector.Matches(labels.Set(metricLabels)) {
			continue
		}
		list.Items = append(list.Items, external_metrics.ExternalMetricValue{
			MetricName:   strings.ToLower(info.Metric),
			MetricLabels: metricLabels,
			Timestamp:    metav1.NewTime(v.at),
			Value:        quantity(v.value),
		})
	}
	return list, nil
}

// ListAllExternalMetrics lists every metric name any policy published.
func (p *storeProvider) ListAllExternalMetrics() []provider.ExternalMetricInfo {
	names := p.store.names()
	out := make([]provider.ExternalMetricInfo, 0, len(names))
	for _, name := range names {
		out = append(out, provider.ExternalMetricInfo{Metric: name})
	}
	return out
}

// quantity keeps three decimals, as the HPA reads external values in milli-units. Where
// the milli-units would not fit int64 (beyond about 9.2e15) the value is written with an
// exponent instead, never wrapped to a negative number. The store keeps only finite values.
func quantity(v float64) resource.Quantity {
	if milli := math.Round(v * 1000); math.Abs(milli) < 0x1p63 {
		return *resource.NewMilliQuantity(int64(milli), resource.DecimalSI)
	}
	return resource.MustParse(strconv.FormatFloat(v, 'e', -1, 64))
}
