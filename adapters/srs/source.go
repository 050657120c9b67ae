package srs

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"

	"github.com/streamscaler/streamscaler/adapters/podhttp"
	"github.com/streamscaler/streamscaler/adapters/samples"
	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

// Defaults of Config and EvictorConfig.
const (
	DefaultTimeout     = 2 * time.Second
	DefaultConcurrency = 16
	DefaultMaxBody     = 4 << 20
	DefaultPause       = 100 * time.Millisecond
	DefaultMaxClients  = 10000

	// defaultPageSize entries per list request: about 400 KB of clients, well under
	// DefaultMaxBody, and few requests for an edge with thousands of players.
	defaultPageSize = 1000
	// maxListed bounds the clients and streams the source reads from one server.
	maxListed = 100000
)

// Config configures Source.
type Config struct {
	// Port of the SRS HTTP API, default 1985; a policy's metricsSource.srs.port overrides it.
	Port int
	// Timeout bounds all the requests to one pod, default 2s.
	Timeout time.Duration
	// Concurrency is how many pods are read at once, default 16.
	Concurrency int
	// MaxBody bounds each response, default 4 MiB.
	MaxBody int64
	// Now is the clock that dates the samples, default time.Now.
	Now func() time.Time
	// Address maps a pod to the host:port of its SRS HTTP API, default
	// podhttp.PodAddress.
	Address func(pod *corev1.Pod, port int) (string, error)
	// Ceilings bound each metric per pod (samples.ParseCeilings); nil means the defaults.
	Ceilings samples.Ceilings
}

// Source reads samples from every pod's SRS HTTP API.
type Source struct {
	cfg      Config
	api      api
	pageSize int
}

// New fills in Config's defaults.
func New(cfg Config) (*Source, error) {
	if cfg.Port < 0 || cfg.Port > 65535 || cfg.Timeout < 0 || cfg.Concurrency < 0 || cfg.MaxBody < 0 {
		return nil, fmt.Errorf("configuring the SRS source: negative or out-of-range setting in %+v", cfg)
	}
	fillConnection(&cfg.Timeout, &cfg.MaxBody, &cfg.Address)
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// No timeout per request: Timeout bounds all of one pod's requests (readPod).
	return &Source{cfg: cfg, api: api{podhttp.New(0, cfg.MaxBody)}, pageSize: defaultPageSize}, nil
}

// reads says which endpoints the asked keys need.
type reads struct{ cpu, memory, bandwidth, push, pull bool }

func readsFor(keys []string) reads {
	var r reads
	for _, k := range keys {
		switch v1alpha1.MetricType(k) {
		case v1alpha1.MetricCPU:
			r.cpu = true
		case v1alpha1.MetricMemory:
			r.memory = true
		case v1alpha1.MetricBandwidth:
			r.bandwidth = true
		case v1alpha1.MetricPushStreams:
			r.push = true
		case v1alpha1.MetricPullStreams:
			r.pull = true
		}
		// packetsPerSecond and custom/<name>: SRS has nothing to offer; missing.
	}
	return r
}

func (r reads) none() bool { return r == reads{} }

// Samples reads the pods' APIs, at most Concurrency at once and each within Timeout, and
// returns every pod, with an empty map where nothing valid came back, and per pod why
// samples were left out (a pod whose API failed, or that has no IP, is unreadable). It
// fails only when every pod failed, with the first pod's error.
func (s *Source) Samples(ctx context.Context, policy *v1alpha1.ScalingPolicy, pods []*corev1.Pod, keys []string) (map[string]map[string]float64, map[string][]v1alpha1.SampleProblem, error) {
	log := logr.FromContextOrDiscard(ctx)
	names := make([]string, len(pods))
	for i, p := range pods {
		names[i] = p.Name
	}
	maxAge := v1alpha1.DefaultMaxSampleAge
	if policy != nil {
		maxAge = policy.Spec.SampleMaxAge()
	}
	want := readsFor(keys)
	if want.none() || len(pods) == 0 {
		out, _ := samples.Collect(nil, names, s.cfg.Now(), maxAge, s.cfg.Ceilings)
		return out, nil, nil
	}

	port := apiPort(policy, s.cfg.Port)
	raws := make([][]samples.Sample, len(pods))
	errs := make([]error, len(pods))
	sem := make(chan struct{}, s.cfg.Concurrency)
	var wg sync.WaitGroup
	for i, pod := range pods {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			errs[i] = ctx.Err()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			raws[i], errs[i] = s.readPod(ctx, pod, port, want)
		}()
	}
	wg.Wait()

	var raw []samples.Sample
	var first error
	failed := 0
	for i, err := range errs {
		if err == nil {
			raw = append(raw, raws[i]...)
			continue
		}
		failed++
		raw = append(raw, samples.Sample{Pod: names[i], Problem: v1alpha1.SampleUnreadable})
		err = fmt.Errorf("reading SRS API of pod %s: %w", names[i], err)
		if first == nil {
			first = err
		}
		log.V(1).Info("SRS API unreadable; the pod's samples are missing", "pod", klog.KObj(pods[i]), "err", err)
	}
	out, dropped := samples.Collect(raw, names, s.cfg.Now(), maxAge, s.cfg.Ceilings)
	if dropped.Total() > 0 {
		log.V(1).Info("SRS samples dropped", dropped.KeysAndValues()...)
	}
	dropped.LogImplausible(log.WithValues("metricsSource", "srs"))
	if failed == len(pods) {
		return out, dropped.Pods, first
	}
	return out, dropped.Pods, nil
}

// readPod reads what want needs from one pod's API; any failure voids the pod.
func (s *Source) readPod(ctx context.Context, pod *corev1.Pod, port int, want reads) ([]samples.Sample, error) {
	addr, err := s.cfg.Address(pod, port)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()

	values := map[v1alpha1.MetricType]float64{}
	if want.cpu || want.memory {
		body, err := s.api.get(ctx, addr, pathSummaries)
		if err != nil {
			return nil, err
		}
		sum, err := parseSummaries(body)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", pathSummaries, err)
		}
		if want.cpu && sum.cpu != nil {
			values[v1alpha1.MetricCPU] = *sum.cpu
		}
		if want.memory && sum.memory != nil {
			values[v1alpha1.MetricMemory] = *sum.memory
		}
	}
	if want.bandwidth {
		// Per stream, SRS averages over 30 s the bytes of every connection on it, and each
		// connection counts on one stream only: the sum is this server's in+out rate from
		// a single read. The summaries' srs_*_bytes are lifetime counters (a rate needs two
		// reads and survives no restart) and net_* count whole network devices.
		streams, truncated, err := list(ctx, s.api, addr, pathStreams, s.pageSize, maxListed, parseStreams, streamID)
		if err != nil {
			return nil, err
		}
		if truncated {
			return nil, fmt.Errorf("%w: more than %d streams", ErrListTooLong, maxListed)
		}
		kbps := 0.0
		for _, st := range streams {
			kbps += st.kbps
		}
		bps := kbps * 1000
		if math.IsInf(bps, 0) {
			return nil, fmt.Errorf("%w: bandwidth overflows", ErrBadResponse)
		}
		values[v1alpha1.MetricBandwidth] = bps
	}
	if want.push || want.pull {
		clients, truncated, err := list(ctx, s.api, addr, pathClients, s.pageSize, maxListed, parseClients, clientID)
		if err != nil {
			return nil, err
		}
		if truncated {
			return nil, fmt.Errorf("%w: more than %d clients", ErrListTooLong, maxListed)
		}
		push := 0
		for _, c := range clients {
			if c.publisher {
				push++
			}
		}
		if want.push {
			values[v1alpha1.MetricPushStreams] = float64(push)
		}
		if want.pull {
			values[v1alpha1.MetricPullStreams] = float64(len(clients) - push)
		}
	}

	at := s.cfg.Now()
	raw := make([]samples.Sample, 0, len(values))
	for k, v := range values {
		raw = append(raw, samples.Sample{Pod: pod.Name, Key: string(k), Value: v, Time: at})
	}
	return raw, nil
}
