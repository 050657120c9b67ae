package prometheus

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"

	"github.com/streamscaler/streamscaler/adapters/samples"
	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

const (
	// DefaultTimeout bounds one query.
	DefaultTimeout = 10 * time.Second
	// DefaultRateWindow is the range of rate() in the default queries: at least four scrape
	// intervals of a 15s scrape, short enough to follow a flash crowd.
	DefaultRateWindow = time.Minute
)

var (
	// ErrNoQuery means a metric key has neither a policy query nor a default one.
	ErrNoQuery = errors.New("no PromQL query")
	// ErrNotVector means a query answered with something other than an instant vector.
	ErrNotVector = errors.New("query result is not a vector")
	// ErrResponseTooLarge means a response body passed MaxResponseBytes.
	ErrResponseTooLarge = errors.New("prometheus response too large")
	// ErrNoAddress means neither the policy nor the controller names a query API.
	ErrNoAddress = errors.New("no prometheus address")
)

// Config configures a Source. Only Address, or each policy's own address, is needed.
type Config struct {
	// Address is the default query API, such as http://prometheus.monitoring:9090 (a path
	// prefix is kept: https://mimir.example/prometheus); a policy's address overrides it.
	// Empty means every policy must name its own.
	Address string
	// BearerToken is sent on every query; BearerTokenFile instead is read at each
	// request, so a rotated token is used at once. Set at most one.
	BearerToken     string
	BearerTokenFile string
	// CAFile is a PEM bundle of the CAs to trust for https, re-read when it changes;
	// empty uses the system's.
	CAFile string
	// InsecureSkipVerify skips TLS certificate verification.
	InsecureSkipVerify bool
	// Timeout bounds each query (and is passed to the server as its evaluation timeout).
	// Default DefaultTimeout.
	Timeout time.Duration
	// RateWindow is the range of rate() in the default queries ($window): keep it at least
	// four scrape intervals. Default DefaultRateWindow.
	RateWindow time.Duration
	// Now is the clock of the query time and of staleness. Default time.Now.
	Now func() time.Time
	// Ceilings bound each metric per pod (samples.ParseCeilings); nil means the defaults.
	Ceilings samples.Ceilings
	// TokenFor resolves a policy's bearerTokenSecretRef in the policy's namespace (the
	// controller wires a Secret reader). Nil fails policies that name a Secret.
	TokenFor func(ctx context.Context, namespace string, ref *v1alpha1.SecretKeyRef) (string, error)
}

// Source reads per-pod samples from a Prometheus-compatible query API. It is safe for
// concurrent use.
type Source struct {
	// address is the default query API; a policy's address overrides it.
	address string
	// tokenFor resolves a policy's Secret reference.
	tokenFor func(ctx context.Context, namespace string, ref *v1alpha1.SecretKeyRef) (string, error)
	// transport is the connection pool every query shares, with TLS and the
	// controller-wide token (newTransport).
	transport http.RoundTripper
	// timeout bounds each query.
	timeout time.Duration
	// window is the range of rate() in the default queries.
	window time.Duration
	// now is the clock.
	now func() time.Time
	// ceilings bound each metric per pod.
	ceilings samples.Ceilings
	// limit bounds a response body (MaxResponseBytes; smaller in tests).
	limit int64
}

// New checks cfg and returns a Source.
func New(cfg Config) (*Source, error) {
	if cfg.Address != "" {
		if err := checkAddress(cfg.Address); err != nil {
			return nil, err
		}
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("prometheus timeout %s must be positive", cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.RateWindow == 0 {
		cfg.RateWindow = DefaultRateWindow
	}
	if cfg.RateWindow < time.Second || cfg.RateWindow%time.Millisecond != 0 {
		return nil, fmt.Errorf("prometheus rate window %s must be whole milliseconds and at least 1s", cfg.RateWindow)
	}
	s := &Source{
		address:  cfg.Address,
		tokenFor: cfg.TokenFor,
		timeout:  cfg.Timeout,
		window:   cfg.RateWindow,
		now:      cfg.Now,
		ceilings: cfg.Ceilings,
		limit:    MaxResponseBytes,
	}
	if s.now == nil {
		s.now = time.Now
	}
	t, err := newTransport(cfg)
	if err != nil {
		return nil, err
	}
	s.transport = t
	return s, nil
}

// checkAddress accepts http(s)://host[:port][/path] and nothing else: credentials in the
// URL would end up in logs, and a query string would be dropped by the client.
func checkAddress(address string) error {
	u, err := url.Parse(address)
	switch {
	case err != nil:
		return fmt.Errorf("prometheus address %q: %w", address, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("prometheus address %q must start with http:// or https://", address)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("prometheus address %q has no host", address)
	case u.User != nil:
		return fmt.Errorf("prometheus address %q must not hold credentials: use a bearer token", u.Redacted())
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("prometheus address %q must not have a query or fragment", address)
	}
	return nil
}

// Samples runs one instant query per metric key and returns, per asked pod, the valid
// samples, and per pod why samples were left out. Every asked pod is in the result, with
// an empty map when nothing valid came. A key without a query, a failed query or a result
// that is not a vector fails the whole read; a series that is stale, not finite,
// negative, above its per-pod ceiling, of a pod not asked for, without the pod label or
// ambiguous (two values for one pod) is left out, never read as zero.
func (s *Source) Samples(ctx context.Context, policy *v1alpha1.ScalingPolicy, pods []*corev1.Pod, keys []string) (map[string]map[string]float64, map[string][]v1alpha1.SampleProblem, error) {
	out, missing, _, err := s.read(ctx, policy, pods, keys, false)
	return out, missing, err
}

// MeasuredSamples is Samples plus, per asked pod, when its readings were taken: the
// last scrape of the pod's targets (min by pod of timestamp(up)), since a scraped value
// can be a scrape interval older than the pod. A pod without an up series, or every pod
// when that query fails, gets the oldest time a kept sample may have (now minus the
// policy's maxSampleAge): the decision then waits for a later reading before it calls a
// tombstoned pod drained, rather than trust one that may predate its last players.
func (s *Source) MeasuredSamples(ctx context.Context, policy *v1alpha1.ScalingPolicy, pods []*corev1.Pod, keys []string) (map[string]map[string]float64, map[string][]v1alpha1.SampleProblem, map[string]time.Time, error) {
	return s.read(ctx, policy, pods, keys, true)
}

// MeasuredQuery is the query of when each pod was last scraped: up carries the target
// labels, which the usual relabelling (and the Prometheus Operator) give namespace and pod.
const MeasuredQuery = `min by ($podLabel) (timestamp(up{` + selector + `}))`

// measuredKey names the measured query in errors and logs; it is not a metric key.
const measuredKey = "measured"

func (s *Source) read(ctx context.Context, policy *v1alpha1.ScalingPolicy, pods []*corev1.Pod, keys []string, measure bool) (map[string]map[string]float64, map[string][]v1alpha1.SampleProblem, map[string]time.Time, error) {
	log := logr.FromContextOrDiscard(ctx).WithValues("metricsSource", "prometheus")
	now := s.now()
	names := podNames(pods)
	keys = unique(keys)
	maxAge := policy.Spec.SampleMaxAge()
	var measured map[string]time.Time
	if measure {
		measured = make(map[string]time.Time, len(names))
		for _, n := range names {
			measured[n] = now.Add(-maxAge)
		}
	}
	if len(names) == 0 || len(keys) == 0 {
		out, _ := samples.Collect(nil, names, now, maxAge, s.ceilings)
		return out, nil, measured, nil
	}

	// 1. Where to ask and how to pick out the pod; then the query of every key.
	conn, err := s.connect(ctx, policy)
	if err != nil {
		return nil, nil, nil, err
	}
	templates := make([]string, len(keys))
	var missing []error
	for i, k := range keys {
		q, err := queryFor(k, conn.src.Queries)
		if err != nil {
			missing = append(missing, err)
		}
		templates[i] = q
	}
	if err := errors.Join(missing...); err != nil {
		return nil, nil, nil, err
	}
	address, podLabel := conn.address, conn.podLabel
	q := &querier{api: conn.api, timeout: s.timeout, podLabel: model.LabelName(podLabel), at: now, log: log}

	// 3. Every key at once; any failure fails the read.
	vars := templateVars{namespace: policy.Namespace, pods: names, podLabel: podLabel, window: s.window}.replacer()
	results := make([]keyResult, len(keys))
	var scraped keyResult
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Go(func() { results[i] = q.query(ctx, k, vars.Replace(templates[i])) })
	}
	if measure {
		wg.Go(func() { scraped = q.query(ctx, measuredKey, vars.Replace(MeasuredQuery)) })
	}
	wg.Wait()
	if measure {
		if scraped.err != nil {
			log.Info("Could not tell when the pods were scraped: drains wait for readings maxSampleAge younger than their tombstone", "err", scraped.err.Error())
		}
		for _, sm := range scraped.samples {
			if _, asked := measured[sm.Pod]; !asked || sm.Problem != "" || math.IsNaN(sm.Value) || math.IsInf(sm.Value, 0) {
				continue
			}
			at := time.Unix(0, int64(sm.Value*1e9))
			if at.After(now) {
				at = now // clocks a little apart must not date a reading after now
			}
			measured[sm.Pod] = at
		}
	}
	var raw []samples.Sample
	var errs []error
	noPodLabel := 0
	for _, r := range results {
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		raw = append(raw, r.samples...)
		noPodLabel += r.noPodLabel
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, nil, err
	}

	// 4. The shared hygiene: stale, not finite, negative, implausible, ambiguous and unknown pods are left out.
	out, dropped := samples.Collect(raw, names, now, maxAge, s.ceilings)
	log.V(1).Info("Read prometheus samples", append([]any{"address", address, "keys", keys, "pods", len(names),
		"samples", len(raw) - dropped.Total(), "noPodLabel", noPodLabel}, dropped.KeysAndValues()...)...)
	dropped.LogImplausible(log.WithValues("address", address))
	return out, dropped.Pods, measured, nil
}

// connection is a policy's view of the query API.
type connection struct {
	api      promv1.API
	src      v1alpha1.PrometheusSource
	address  string
	podLabel string
}

// connect resolves the policy's address, pod label and bearer token into a client.
func (s *Source) connect(ctx context.Context, policy *v1alpha1.ScalingPolicy) (*connection, error) {
	var src v1alpha1.PrometheusSource
	if ms := policy.Spec.MetricsSource; ms != nil && ms.Prometheus != nil {
		src = *ms.Prometheus
	}
	address := s.address
	if src.Address != "" {
		address = src.Address
	}
	if address == "" {
		return nil, fmt.Errorf("%w: set spec.metricsSource.prometheus.address or the controller's default", ErrNoAddress)
	}
	if err := checkAddress(address); err != nil {
		return nil, err
	}
	podLabel := src.PodLabel
	if podLabel == "" {
		podLabel = v1alpha1.DefaultPrometheusPodLabel
	}
	if !labelName.MatchString(podLabel) {
		return nil, fmt.Errorf("prometheus podLabel %q is not a label name", podLabel)
	}
	transport := s.transport
	if ref := src.BearerTokenSecretRef; ref != nil {
		if s.tokenFor == nil {
			return nil, fmt.Errorf("policy names bearer token Secret %s but this controller reads no Secrets", ref.Name)
		}
		t, err := s.tokenFor(ctx, policy.Namespace, ref)
		if err != nil {
			return nil, fmt.Errorf("reading bearer token from Secret %s/%s key %s: %w", policy.Namespace, ref.Name, ref.Key, err)
		}
		if t == "" {
			return nil, fmt.Errorf("bearer token Secret %s/%s key %s is empty", policy.Namespace, ref.Name, ref.Key)
		}
		transport = withToken(transport, t)
	}
	client, err := api.NewClient(api.Config{
		Address: address,
		// The default redirect policy: up to 10, the token kept to the host asked.
		Client: &http.Client{Transport: limitBody{next: transport, limit: s.limit}, Timeout: s.timeout},
	})
	if err != nil {
		return nil, fmt.Errorf("creating prometheus client: %w", err)
	}
	return &connection{api: promv1.NewAPI(client), src: src, address: address, podLabel: podLabel}, nil
}

// querier runs the queries of one read.
type querier struct {
	api      promv1.API
	timeout  time.Duration
	podLabel model.LabelName
	at       time.Time
	log      logr.Logger
}

// keyResult is what one key's query gave.
type keyResult struct {
	samples []samples.Sample
	// noPodLabel counts series without the pod label; ambiguous counts pods with
	// several series of different values.
	noPodLabel, ambiguous int
	err                   error
}

// query runs one instant query at q.at and turns its vector into samples of key.
func (q *querier) query(ctx context.Context, key, query string) keyResult {
	ctx, cancel := context.WithTimeout(ctx, q.timeout)
	defer cancel()
	value, warnings, infos, err := q.api.Query(ctx, query, q.at, promv1.WithTimeout(q.timeout))
	if len(warnings) > 0 {
		q.log.Info("Prometheus warned about a query", "key", key, "warnings", []string(warnings))
	}
	if len(infos) > 0 {
		q.log.V(2).Info("Prometheus noted something about a query", "key", key, "infos", []string(infos))
	}
	if err != nil {
		return keyResult{err: fmt.Errorf("querying prometheus for %s: %w", key, err)}
	}
	vector, ok := value.(model.Vector)
	if !ok {
		got := "no result"
		if value != nil {
			got = value.Type().String()
		}
		return keyResult{err: fmt.Errorf("querying prometheus for %s: %w: got %s", key, ErrNotVector, got)}
	}
	r := vectorSamples(vector, key, q.podLabel)
	if r.noPodLabel > 0 {
		q.log.Info("Series without the pod label left out: does the query keep it (sum by (pod))?",
			"key", key, "podLabel", q.podLabel, "series", r.noPodLabel)
	}
	if r.ambiguous > 0 {
		q.log.Info("Pods with several different values left out: does the query aggregate by pod?",
			"key", key, "pods", r.ambiguous)
	}
	return r
}

// vectorSamples maps each series to its pod by podLabel. Series without it are counted
// and left out; a pod with several series that disagree gets one ambiguous sample:
// picking one would be a guess.
func vectorSamples(vector model.Vector, key string, podLabel model.LabelName) keyResult {
	var r keyResult
	index := make(map[string]int, len(vector))
	conflict := map[string]bool{}
	for _, s := range vector {
		pod := string(s.Metric[podLabel])
		if pod == "" {
			r.noPodLabel++
			continue
		}
		sample := samples.Sample{Pod: pod, Key: key, Value: float64(s.Value), Time: s.Timestamp.Time()}
		if i, seen := index[pod]; seen {
			if r.samples[i].Value != sample.Value {
				conflict[pod] = true
			}
			continue
		}
		index[pod] = len(r.samples)
		r.samples = append(r.samples, sample)
	}
	for i := range r.samples {
		if s := &r.samples[i]; conflict[s.Pod] {
			s.Value, s.Problem = 0, v1alpha1.SampleAmbiguous
		}
	}
	r.ambiguous = len(conflict)
	return r
}

// podNames returns the pods' names, once each, in order.
func podNames(pods []*corev1.Pod) []string {
	names := make([]string, 0, len(pods))
	for _, p := range pods {
		if p != nil && p.Name != "" {
			names = append(names, p.Name)
		}
	}
	return unique(names)
}

// unique drops repeats and keeps the first order.
func unique(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
