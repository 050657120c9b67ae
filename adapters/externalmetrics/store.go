package externalmetrics

import (
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// Store holds the latest published values of every policy. It is safe for concurrent use:
// the controller publishes while the API server reads.
type Store struct {
	mu       sync.RWMutex
	policies map[types.NamespacedName]published
}

// published is one policy's values as of one decision.
type published struct {
	values map[string]float64
	at     time.Time
}

// policyValue is one policy's value of one metric, as the provider reads it.
type policyValue struct {
	policy string
	value  float64
	at     time.Time
}

// NewStore returns an empty Store.
func NewStore() *Store {
	return &Store{policies: map[types.NamespacedName]published{}}
}

// Publish replaces the values of one policy. Names are metric names such as
// "streamscaler_recommended_replicas", "streamscaler_metric_total_pullStreams",
// "streamscaler_metric_forecast_pullStreams". NaN and infinite values are left out: an
// HPA must see a missing metric, never a made-up number. Names are kept lowercased, as
// client-go lowercases the metric (a resource) in the request path. at is when the
// decision was made; it becomes the values' timestamp.
func (s *Store) Publish(namespace, policy string, values map[string]float64, at time.Time) {
	kept := make(map[string]float64, len(values))
	for name, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		kept[strings.ToLower(name)] = v
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.policies[types.NamespacedName{Namespace: namespace, Name: policy}] = published{values: kept, at: at}
}

// Forget drops a policy's values, for when the policy is deleted.
func (s *Store) Forget(namespace, policy string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.policies, types.NamespacedName{Namespace: namespace, Name: policy})
}

// metric returns each policy's value of one metric in a namespace, sorted by policy. The
// name is matched case-insensitively.
func (s *Store) metric(namespace, name string) []policyValue {
	name = strings.ToLower(name)
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []policyValue
	for key, p := range s.policies {
		if key.Namespace != namespace {
			continue
		}
		if v, ok := p.values[name]; ok {
			out = append(out, policyValue{policy: key.Name, value: v, at: p.at})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].policy < out[j].policy })
	return out
}

// names returns every metric name published in any namespace, lowercased and sorted.
func (s *Store) names() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	seen := map[string]bool{}
	for _, p := range s.policies {
		for name := range p.values {
			seen[name] = true
		}
	}
	out := make([]string, 0, len(seen))
	for name := range seen {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}
