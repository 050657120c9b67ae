//go:build unix

package prometheus

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"

	"github.com/streamscaler/streamscaler/internal/testprom"
)

var recordFlag = flag.Bool("record", false, "TestRealPrometheus: write the responses to testdata/prometheus")

// TestRealPrometheus scrapes a test exporter with a real Prometheus server and reads it
// back through Source with the default queries: the queries, the label mapping and the
// rate windows are checked against what the server really computes.
func TestRealPrometheus(t *testing.T) {
	testprom.Require(t)
	began := time.Now()
	defer func() { t.Logf("real Prometheus test took %s", time.Since(began).Round(time.Millisecond)) }()

	// 1. The exporters: one SRS target per pod (Kubernetes relabelling would add namespace
	// and pod; here the static config does), and the fleet-wide ones that carry them.
	start := time.Now()
	var targets []testprom.Target
	for _, p := range append([]fakePod{decoyPod}, livePods...) {
		addr := serveMetrics(t, srsCollector(start, []fakePod{p}, false))
		targets = append(targets, testprom.Target{Job: "srs", Addr: addr, Labels: map[string]string{"namespace": p.namespace, "pod": p.name}})
	}
	everyPod := append(append([]fakePod{decoyPod}, livePods...), benchPods()...)
	targets = append(targets,
		testprom.Target{Job: "srs-bench", Addr: serveMetrics(t, srsCollector(start, benchPods(), true))},
		testprom.Target{Job: "cadvisor", Addr: serveMetrics(t, cadvisorCollector(start, everyPod))},
		testprom.Target{Job: "kube-state-metrics", Addr: serveMetrics(t, ksmCollector(everyPod))},
	)

	// 2. The server, scraping every second.
	promURL := testprom.Start(t, targets)
	client, err := api.NewClient(api.Config{Address: promURL})
	if err != nil {
		t.Fatal(err)
	}
	papi := promv1.NewAPI(client)
	waitForScrapes(t, papi, len(targets), 5)

	// 3. The source, with the default queries, reads what the exporters serve.
	src, err := New(Config{Address: promURL, RateWindow: testWindow, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	got, _, err := src.Samples(ctx, policyFor("live", promURL), podsNamed(askedLive()...), allKeys)
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, got, livePods, allKeys)
	if len(got) != len(askedLive()) || len(got[absentPod]) != 0 {
		t.Errorf("want every asked pod, %s with nothing; got %v", absentPod, got)
	}
	t.Logf("read %v", got)

	// The same read dated: each live pod by its target's last scrape (the server scrapes
	// every second), the absent pod, never scraped, by the oldest a sample may be.
	asked := time.Now()
	_, _, measured, err := src.MeasuredSamples(ctx, policyFor("live", promURL), podsNamed(askedLive()...), allKeys)
	if err != nil {
		t.Fatal(err)
	}
	answered := time.Now()
	for _, p := range livePods {
		at := measured[p.name]
		if at.Before(asked.Add(-3*time.Second)) || at.After(answered) {
			t.Errorf("%s measured at %s: want its last scrape, within 3s before the read at %s", p.name, at.Format(time.StampMilli), asked.Format(time.StampMilli))
		}
	}
	oldest := policyFor("live", promURL).Spec.SampleMaxAge()
	if at := measured[absentPod]; at.After(answered.Add(-oldest)) || at.Before(asked.Add(-oldest)) {
		t.Errorf("%s (never scraped) measured at %s: want the read time less maxSampleAge (%s)", absentPod, at.Format(time.StampMilli), oldest)
	}

	bench, _, err := src.Samples(ctx, policyFor("bench", promURL), podsNamed(namesOf(benchPods())...), benchKeys)
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, bench, benchPods(), benchKeys)

	// 4. The fleet's history from one range query: the players of the live pods only
	// (the decoy of the same name in another namespace stays out), summed per step.
	hist, err := src.History(ctx, policyFor("live", promURL), "pullStreams", `srs-edge-[0-9]+`, time.Now(), 4*time.Second, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want := 0.0
	for _, p := range livePods {
		want += p.clients
	}
	if len(hist) != 4 {
		t.Fatalf("history has %d points, want 4: %v", len(hist), hist)
	}
	for i, v := range hist {
		if v != want {
			t.Errorf("history[%d] = %v, want %v (all live players)", i, v, want)
		}
	}
	if _, err := src.History(ctx, policyFor("live", promURL), "pullStreams", `nobody-[0-9]+`, time.Now(), 4*time.Second, time.Second); err == nil {
		t.Error("a history with no data must be an error, not zeros")
	}

	if *recordFlag {
		record(t, papi, promURL)
	}
}

// serveMetrics serves the collector's registry on a loopback port until the test ends.
func serveMetrics(t *testing.T, c prometheus.Collector) string {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// series is one served series: a gauge, or a counter growing at rate per second.
type series struct {
	desc   *prometheus.Desc
	labels []string
	value  float64
	rate   float64
}

// collector serves fixed series; counters are computed at scrape time so that rate()
// over any window is exactly the configured rate (the large start value keeps rate()'s
// extrapolation away from zero).
type collector struct {
	start  time.Time
	series []series
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	seen := map[*prometheus.Desc]bool{}
	for _, s := range c.series {
		if !seen[s.desc] {
			seen[s.desc] = true
			ch <- s.desc
		}
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	elapsed := time.Since(c.start).Seconds()
	for _, s := range c.series {
		if s.rate == 0 {
			ch <- prometheus.MustNewConstMetric(s.desc, prometheus.GaugeValue, s.value, s.labels...)
			continue
		}
		ch <- prometheus.MustNewConstMetric(s.desc, prometheus.CounterValue, s.value+s.rate*elapsed, s.labels...)
	}
}

// srsCollector serves SRS's exporter metrics (names and help as SRS writes them). SRS
// exposes them without labels; withPodLabels adds namespace and pod for a target that
// stands for many pods.
func srsCollector(start time.Time, pods []fakePod, withPodLabels bool) prometheus.Collector {
	var labels []string
	if withPodLabels {
		labels = []string{"namespace", "pod"}
	}
	recv := prometheus.NewDesc("srs_receive_bytes_total", "SRS total received bytes.", labels, nil)
	send := prometheus.NewDesc("srs_send_bytes_total", "SRS total sent bytes.", labels, nil)
	streams := prometheus.NewDesc("srs_streams", "The number of SRS concurrent streams.", labels, nil)
	clients := prometheus.NewDesc("srs_clients", "The number of SRS concurrent clients.", labels, nil)
	c := &collector{start: start}
	for _, p := range pods {
		var values []string
		if withPodLabels {
			values = []string{p.namespace, p.name}
		}
		c.series = append(c.series,
			series{desc: recv, labels: values, value: 1e9, rate: p.recvBytes},
			series{desc: send, labels: values, value: 3e9, rate: p.sendBytes},
			series{desc: streams, labels: values, value: p.streams},
			series{desc: clients, labels: values, value: p.clients},
		)
	}
	return c
}

// cadvisorCollector serves the kubelet's cAdvisor series: per container, the pod-level
// total (container="") that the default queries must not count twice, and the pod's
// network counted twice (pod cgroup and sandbox), as some runtimes do.
func cadvisorCollector(start time.Time, pods []fakePod) prometheus.Collector {
	cpu := prometheus.NewDesc("container_cpu_usage_seconds_total", "Cumulative cpu time consumed in seconds.", []string{"namespace", "pod", "container", "cpu"}, nil)
	mem := prometheus.NewDesc("container_memory_working_set_bytes", "Current working set in bytes.", []string{"namespace", "pod", "container"}, nil)
	rx := prometheus.NewDesc("container_network_receive_packets_total", "Cumulative count of packets received", []string{"namespace", "pod", "container", "interface"}, nil)
	tx := prometheus.NewDesc("container_network_transmit_packets_total", "Cumulative count of packets transmitted", []string{"namespace", "pod", "container", "interface"}, nil)
	c := &collector{start: start}
	for _, p := range pods {
		c.series = append(c.series,
			series{desc: cpu, labels: []string{p.namespace, p.name, "srs", "total"}, value: 1000, rate: p.srsCores},
			series{desc: cpu, labels: []string{p.namespace, p.name, "sidecar", "total"}, value: 100, rate: p.sidecarCores},
			series{desc: cpu, labels: []string{p.namespace, p.name, "", "total"}, value: 1100, rate: p.srsCores + p.sidecarCores},
			series{desc: mem, labels: []string{p.namespace, p.name, "srs"}, value: p.srsMemory},
			series{desc: mem, labels: []string{p.namespace, p.name, "sidecar"}, value: p.sidecarMem},
			series{desc: mem, labels: []string{p.namespace, p.name, ""}, value: p.srsMemory + p.sidecarMem},
		)
		for _, container := range []string{"", "POD"} {
			c.series = append(c.series,
				series{desc: rx, labels: []string{p.namespace, p.name, container, "eth0"}, value: 1e7, rate: p.rxPackets},
				series{desc: tx, labels: []string{p.namespace, p.name, container, "eth0"}, value: 2e7, rate: p.txPackets},
			)
		}
	}
	return c
}

// ksmCollector serves kube-state-metrics' container requests (cores and bytes).
func ksmCollector(pods []fakePod) prometheus.Collector {
	req := prometheus.NewDesc("kube_pod_container_resource_requests", "The number of requested request resource by a container.",
		[]string{"namespace", "pod", "uid", "container", "node", "resource", "unit"}, nil)
	c := &collector{}
	for i, p := range pods {
		uid := fmt.Sprintf("uid-%d", i)
		c.series = append(c.series,
			series{desc: req, labels: []string{p.namespace, p.name, uid, "srs", "node-a", "cpu", "core"}, value: p.srsCPURequest},
			series{desc: req, labels: []string{p.namespace, p.name, uid, "sidecar", "node-a", "cpu", "core"}, value: p.sidecarCPURequest},
			series{desc: req, labels: []string{p.namespace, p.name, uid, "srs", "node-a", "memory", "byte"}, value: p.srsMemRequest},
			series{desc: req, labels: []string{p.namespace, p.name, uid, "sidecar", "node-a", "memory", "byte"}, value: p.sidecarMemRequest},
		)
	}
	return c
}

// startPrometheus runs the real server on a free loopback port until the test ends and
// returns its URL once it is ready.
// waitForScrapes waits until every target is up and was scraped at least n times.
func waitForScrapes(t *testing.T, papi promv1.API, targets, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	query := `count(up == 1) and on() min(count_over_time(up[1m])) >= ` + strconv.Itoa(n)
	for {
		v, _, _, err := papi.Query(context.Background(), query, time.Now())
		if vec, ok := v.(model.Vector); err == nil && ok && len(vec) == 1 && int(vec[0].Value) == targets {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("targets not scraped %d times in 30s (last answer %v, %v)", n, v, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// record writes the real server's answers to testdata/prometheus, with index.json saying
// what was asked. Every file is evaluated at the same instant.
func record(t *testing.T, papi promv1.API, promURL string) {
	t.Helper()
	build, err := papi.Buildinfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().UTC().Truncate(time.Millisecond)
	rec := recording{Prometheus: build.Version, Time: at, Window: model.Duration(testWindow).String(), Files: map[string]recordedQuery{}}
	add := func(name, query string, status int) {
		form := url.Values{"query": {query}, "time": {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)}}
		resp, err := http.PostForm(promURL+"/api/v1/query", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != status {
			t.Fatalf("recording %s: status %d, want %d: %s", name, resp.StatusCode, status, body)
		}
		if err := os.WriteFile(filepath.Join(testdataDir, name+".json"), append(bytes.TrimSpace(body), '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		rec.Files[name] = recordedQuery{Query: query, Status: status}
	}

	live := templateVars{namespace: "live", pods: askedLive(), podLabel: "pod", window: testWindow}.replacer()
	for _, k := range allKeys {
		add("success_"+k, live.Replace(defaultQueries[k]), http.StatusOK)
	}
	bench := templateVars{namespace: "bench", pods: namesOf(benchPods()), podLabel: "pod", window: testWindow}.replacer()
	for _, k := range benchKeys {
		add("bench_"+k, bench.Replace(defaultQueries[k]), http.StatusOK)
	}
	sel := func(pod string) string { return `srs_clients{namespace="live",pod="` + pod + `"}` }
	add("empty", sel("nobody"), http.StatusOK)
	add("matrix", `srs_clients{namespace="live"}[5s]`, http.StatusOK)
	add("scalar", `scalar(sum(srs_streams{namespace="live"}))`, http.StatusOK)
	add("bad_data", `sum by (pod) (srs_clients{namespace="live"}`, http.StatusBadRequest)
	add("execution_error", `srs_clients{namespace="live"} + on(namespace) srs_streams{namespace="live"}`, http.StatusUnprocessableEntity)
	add("nan_inf", `(`+sel("srs-edge-0")+` / 0) or ((`+sel("srs-edge-1")+` - `+sel("srs-edge-1")+`) / 0) or `+sel("srs-edge-2"), http.StatusOK)
	add("negative", `-srs_clients{namespace="live"}`, http.StatusOK)
	add("no_pod_label", `sum(srs_clients{namespace="live"}) or `+sel("srs-edge-0"), http.StatusOK)
	add("ambiguous", `{__name__=~"srs_clients|srs_streams",namespace="live"}`, http.StatusOK)
	add("unknown_pods", `sum by (pod) (srs_clients{namespace="live"})`, http.StatusOK)

	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(testdataDir, "index.json"), append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %d responses of Prometheus %s at %s", len(rec.Files), rec.Prometheus, at.Format(time.RFC3339Nano))
}
