package prometheus

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

// The placeholders a query template may use.
const (
	// VarNamespace is the policy's namespace, escaped for a PromQL string: namespace="$namespace".
	VarNamespace = "$namespace"
	// VarPods is a regular expression matching exactly the asked pod names, escaped for a
	// PromQL string: pod=~"$pods".
	VarPods = "$pods"
	// VarPodLabel is the name of the label that names the pod, bare: sum by ($podLabel) (...).
	VarPodLabel = "$podLabel"
	// VarWindow is the range of rate(), a PromQL duration such as 1m: rate(x[$window]).
	VarWindow = "$window"
)

// selector picks the series of the asked pods in the policy's namespace.
const selector = `namespace="$namespace",$podLabel=~"$pods"`

// defaultQueries are written for SRS 5+'s built-in exporter (exporter { enabled on; }),
// cAdvisor (the kubelet's /metrics/cadvisor) and kube-state-metrics, scraped with the
// usual Kubernetes relabelling that puts namespace and pod on every SRS series.
// testdata/prometheus/README.md says where each metric name comes from.
var defaultQueries = map[string]string{
	// SRS counts bytes over every connection of the process: in plus out, in bits.
	string(v1alpha1.MetricBandwidth): `(sum by ($podLabel) (rate(srs_receive_bytes_total{` + selector + `}[$window]))` +
		` + sum by ($podLabel) (rate(srs_send_bytes_total{` + selector + `}[$window]))) * 8`,
	// SRS's exporter has no packet counter; the pod's network packets from cAdvisor are the
	// nearest. max by interface folds the copies some runtimes report per container.
	string(v1alpha1.MetricPacketsPerSecond): `sum by ($podLabel) (max by ($podLabel, interface) (` +
		`rate(container_network_receive_packets_total{` + selector + `}[$window])` +
		` + rate(container_network_transmit_packets_total{` + selector + `}[$window])))`,
	// SRS's exporter does not split publishers from players. srs_streams counts the
	// streams the server holds (one publisher at most each, or players waiting for one):
	// on an origin it bounds the publishers from above.
	string(v1alpha1.MetricPushStreams): `sum by ($podLabel) (srs_streams{` + selector + `})`,
	// srs_clients counts every connected client, publishers included: on an edge these are
	// the players; on an origin it over-counts by the publishers, which errs towards more
	// pods rather than fewer.
	string(v1alpha1.MetricPullStreams): `sum by ($podLabel) (srs_clients{` + selector + `})`,
	// Usage of the pod's containers (container="" is cAdvisor's pod-level total, "POD" the
	// sandbox) over their requests. max by container folds duplicate kube-state-metrics
	// replicas, which would otherwise double the request and halve the utilisation.
	string(v1alpha1.MetricCPU): `sum by ($podLabel) (rate(container_cpu_usage_seconds_total{` + selector + `,container!="",container!="POD"}[$window]))` +
		` / sum by ($podLabel) (max by ($podLabel, container) (kube_pod_container_resource_requests{` + selector + `,resource="cpu"})) * 100`,
	string(v1alpha1.MetricMemory): `sum by ($podLabel) (container_memory_working_set_bytes{` + selector + `,container!="",container!="POD"})` +
		` / sum by ($podLabel) (max by ($podLabel, container) (kube_pod_container_resource_requests{` + selector + `,resource="memory"})) * 100`,
}

// DefaultQueries returns the built-in query template of each metric key. Custom metrics
// have none: a policy asking for custom/<name> must give its query.
func DefaultQueries() map[string]string {
	out := make(map[string]string, len(defaultQueries))
	for k, q := range defaultQueries {
		out[k] = q
	}
	return out
}

// labelName is a label name that can stand bare in PromQL (by (...), selectors).
var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// queryFor returns the template for key: the policy's override, else the default.
func queryFor(key string, overrides map[string]string) (string, error) {
	if q, ok := overrides[key]; ok && strings.TrimSpace(q) != "" {
		return q, nil
	}
	if q, ok := defaultQueries[key]; ok {
		return q, nil
	}
	return "", fmt.Errorf("%w for metric %q: set spec.metricsSource.prometheus.queries[%q]", ErrNoQuery, key, key)
}

// templateVars are the values substituted into a query template.
type templateVars struct {
	namespace string
	pods      []string
	podLabel  string
	window    time.Duration
}

// replacer builds the substitution of every placeholder; build it once per read.
func (v templateVars) replacer() *strings.Replacer {
	return strings.NewReplacer(
		VarNamespace, promQLEscape(v.namespace),
		VarPods, promQLEscape(podsRegex(v.pods)),
		VarPodLabel, v.podLabel,
		VarWindow, model.Duration(v.window).String(),
	)
}

// podsRegex matches exactly the given names (PromQL anchors =~ at both ends).
func podsRegex(pods []string) string {
	quoted := make([]string, len(pods))
	for i, p := range pods {
		quoted[i] = regexp.QuoteMeta(p)
	}
	return strings.Join(quoted, "|")
}

// promQLEscape makes s safe between the double quotes of a PromQL string, whose escapes
// are Go's: a quote or backslash in a name cannot end the string or change the query.
func promQLEscape(s string) string {
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}
