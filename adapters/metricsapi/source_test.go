package metricsapi

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"

	"github.com/streamscaler/streamscaler/adapters/samples"
	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

const podMetricsPath = "/apis/metrics.k8s.io/v1beta1/namespaces/live/pods"

// now is when the recorded list was served (its items' creationTimestamp).
var now = time.Date(2026, 7, 1, 20, 0, 0, 0, time.UTC)

// metricsServer is a stand-in for the API server proxying metrics.k8s.io, on 127.0.0.1.
type metricsServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
}

func newMetricsServer(tb testing.TB, h http.HandlerFunc) *metricsServer {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &metricsServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.Clone(context.Background()))
		s.mu.Unlock()
		h(w, r)
	}))
	s.Listener = l
	s.Start()
	tb.Cleanup(s.Close)
	return s
}

func (s *metricsServer) calls() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.requests...)
}

// serveRecorded answers the pod metrics list of namespace live from the recorded file,
// filtered by labelSelector as metrics-server filters it; every other path is a 404.
func serveRecorded(tb testing.TB) http.HandlerFunc {
	tb.Helper()
	body, err := os.ReadFile(filepath.Join("..", "..", "testdata", "metricsapi", "podmetrics.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var list struct {
		Kind       string            `json:"kind"`
		APIVersion string            `json:"apiVersion"`
		Metadata   json.RawMessage   `json:"metadata"`
		Items      []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		tb.Fatal(err)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != podMetricsPath {
			writeStatus(w, http.StatusNotFound, metav1.StatusReasonNotFound, "the server could not find the requested resource")
			return
		}
		sel, err := labels.Parse(r.URL.Query().Get("labelSelector"))
		if err != nil {
			writeStatus(w, http.StatusBadRequest, metav1.StatusReasonBadRequest, err.Error())
			return
		}
		filtered := list
		filtered.Items = nil
		for _, item := range list.Items {
			var m struct {
				Metadata struct {
					Labels map[string]string `json:"labels"`
				} `json:"metadata"`
			}
			if err := json.Unmarshal(item, &m); err != nil {
				panic(err)
			}
			if sel.Matches(labels.Set(m.Metadata.Labels)) {
				filtered.Items = append(filtered.Items, item)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(filtered)
	}
}

// writeStatus answers as the API server does when a request fails.
func writeStatus(w http.ResponseWriter, code int, reason metav1.StatusReason, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure, Message: message, Reason: reason, Code: int32(code),
	})
}

func newSource(tb testing.TB, url string) *Source {
	tb.Helper()
	// QPS -1: no client-side throttling, so the benchmark measures the source.
	s, err := New(&rest.Config{Host: url, QPS: -1}, func() time.Time { return now }, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func policy(maxAge time.Duration) *v1alpha1.ScalingPolicy {
	p := &v1alpha1.ScalingPolicy{ObjectMeta: metav1.ObjectMeta{Name: "srs-edge", Namespace: "live"}}
	if maxAge > 0 {
		p.Spec.MetricsSource = &v1alpha1.MetricsSourceSpec{MaxSampleAge: &metav1.Duration{Duration: maxAge}}
	}
	return p
}

// requests builds a container's requests; an empty quantity is no request.
func requests(name, cpu, memory string) corev1.Container {
	c := corev1.Container{Name: name, Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{}}}
	if cpu != "" {
		c.Resources.Requests[corev1.ResourceCPU] = resource.MustParse(cpu)
	}
	if memory != "" {
		c.Resources.Requests[corev1.ResourceMemory] = resource.MustParse(memory)
	}
	return c
}

// edgePod is a pod of the srs-edge CloneSet started at started, with labels as Kruise
// and streamscaler leave them: only app is shared and stable.
func edgePod(name, state string, started time.Time, containers ...corev1.Container) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "live", Labels: map[string]string{
			"app":                                 "srs-edge",
			"apps.kruise.io/cloneset-instance-id": strings.TrimPrefix(name, "srs-edge-"),
			"controller-revision-hash":            "srs-edge-6c9f7d8b5",
			"lifecycle.apps.kruise.io/state":      "Normal",
			"streamscaler.io/state":               state,
		}},
		Spec:   corev1.PodSpec{Containers: containers},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, StartTime: &metav1.Time{Time: started}},
	}
}

// fleet is the asked pods, matching the recorded list: srs-edge-unasked and the
// transcoder are in the namespace but not asked; srs-edge-new is asked but not measured.
func fleet() []*corev1.Pod {
	hourAgo := now.Add(-time.Hour)
	srs, exporter := requests("srs", "500m", "256Mi"), requests("exporter", "100m", "64Mi")
	always := corev1.ContainerRestartPolicyAlways
	sidecar := requests("log-shipper", "100m", "64Mi")
	sidecar.RestartPolicy = &always
	podLevel := edgePod("srs-edge-podlvl", "init", hourAgo, requests("srs", "", ""), requests("exporter", "", ""))
	podLevel.Spec.Resources = &corev1.ResourceRequirements{Requests: corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("1Gi"),
	}}
	sidecarPod := edgePod("srs-edge-sidecar", "allocated", hourAgo, srs)
	sidecarPod.Spec.InitContainers = []corev1.Container{requests("fetch-config", "", ""), sidecar}
	return []*corev1.Pod{
		edgePod("srs-edge-7xk2p", "allocated", hourAgo, srs, exporter),
		edgePod("srs-edge-norq", "allocated", hourAgo, srs, requests("exporter", "", "64Mi")),
		edgePod("srs-edge-part", "allocated", hourAgo, srs, exporter),
		edgePod("srs-edge-stale", "tombstone", hourAgo, srs, exporter),
		// Recreated under the same name at 19:59:40; the listed window opened at 19:59:34.997.
		edgePod("srs-edge-reborn", "init", now.Add(-20*time.Second), srs, exporter),
		sidecarPod,
		podLevel,
		edgePod("srs-edge-nomem", "allocated", hourAgo, srs, exporter),
		edgePod("srs-edge-new", "init", now.Add(-5*time.Second), srs, exporter),
	}
}

func assertSamples(t *testing.T, got map[string]float64, want map[string]float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok || math.Abs(g-w) > 1e-9 {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestSamplesFromRecordedList(t *testing.T) {
	srv := newMetricsServer(t, serveRecorded(t))
	got, missing, err := newSource(t, srv.URL).Samples(context.Background(), policy(0), fleet(),
		[]string{"cpu", "memory", "pullStreams", "bandwidth", "custom/rtt"})
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		story, pod string
		want       map[string]float64
	}{
		// cpu: srs 249000001n rounds up to 250m and exporter 19500000n to 20m, as the HPA's
		// MilliValue does: 270m / (500m + 100m) = 45%.
		// memory: 196608Ki = 192Mi and 32768Ki = 32Mi: 224Mi / (256Mi + 64Mi) = 70%.
		{"a two-container pod sums usage and requests over its containers", "srs-edge-7xk2p",
			map[string]float64{"cpu": 45, "memory": 70}},
		// memory: (128Mi + 32Mi) / (256Mi + 64Mi) = 50%.
		{"an exporter without a cpu request leaves cpu missing while memory still counts", "srs-edge-norq",
			map[string]float64{"memory": 50}},
		{"a container left out of the metrics would understate usage, so the pod has no samples", "srs-edge-part",
			map[string]float64{}},
		{"metrics measured five minutes ago are past the default 2m maxSampleAge", "srs-edge-stale",
			map[string]float64{}},
		{"metrics whose window opened before the pod started belong to its namesake and are ignored", "srs-edge-reborn",
			map[string]float64{}},
		// cpu: (300m + 60m) / (500m + 100m) = 60%; memory: (128Mi + 32Mi) / (256Mi + 64Mi) = 50%.
		// fetch-config, a plain init container with no requests, neither counts nor spoils the pod.
		{"a sidecar init container counts like a container", "srs-edge-sidecar",
			map[string]float64{"cpu": 60, "memory": 50}},
		// cpu: (1200m + 300m) / 2000m = 75%; memory: (768Mi + 32Mi) / 1024Mi = 78.125%.
		{"pod-level requests stand in for containers that request nothing", "srs-edge-podlvl",
			map[string]float64{"cpu": 75, "memory": 78.125}},
		// cpu: (100m + 20m) / (500m + 100m) = 20%.
		{"an exporter reporting no memory leaves memory missing while cpu still counts", "srs-edge-nomem",
			map[string]float64{"cpu": 20}},
		{"a pod metrics-server has not measured yet is present with nothing", "srs-edge-new",
			map[string]float64{}},
	}
	for _, c := range cases {
		t.Run(c.story, func(t *testing.T) {
			values, asked := got[c.pod]
			if !asked {
				t.Fatalf("%s is missing from the result", c.pod)
			}
			assertSamples(t, values, c.want)
		})
	}
	t.Run("each pod left without a sample says why, and a pod not measured yet is merely absent", func(t *testing.T) {
		want := map[string][]v1alpha1.SampleProblem{
			"srs-edge-norq":   {v1alpha1.SampleNoRequest},
			"srs-edge-part":   {v1alpha1.SamplePartial},
			"srs-edge-stale":  {v1alpha1.SampleStale},
			"srs-edge-reborn": {v1alpha1.SamplePartial},
			"srs-edge-nomem":  {v1alpha1.SamplePartial},
		}
		if !reflect.DeepEqual(missing, want) {
			t.Fatalf("missing %v\nwant %v", missing, want)
		}
	})
	t.Run("pods listed but not asked stay out of the result", func(t *testing.T) {
		if len(got) != len(cases) {
			t.Fatalf("got %d pods, want the %d asked: %v", len(got), len(cases), got)
		}
	})
	t.Run("one list call narrowed to the labels the fleet shares and keeps", func(t *testing.T) {
		calls := srv.calls()
		if len(calls) != 1 {
			t.Fatalf("%d calls, want 1", len(calls))
		}
		if sel := calls[0].URL.Query().Get("labelSelector"); sel != "app=srs-edge" {
			t.Fatalf("labelSelector %q, want app=srs-edge (state, lifecycle and revision labels change on a live pod)", sel)
		}
	})
}

func TestSamplesHonoursThePolicysMaxSampleAge(t *testing.T) {
	srv := newMetricsServer(t, serveRecorded(t))
	got, _, err := newSource(t, srv.URL).Samples(context.Background(), policy(10*time.Minute), fleet(), []string{"cpu", "memory"})
	if err != nil {
		t.Fatal(err)
	}
	// cpu: (300m + 30m) / (500m + 100m) = 55%; memory: (128Mi + 32Mi) / 320Mi = 50%.
	assertSamples(t, got["srs-edge-stale"], map[string]float64{"cpu": 55, "memory": 50})
}

func TestSamplesAsksOnlyForWhatItServes(t *testing.T) {
	srv := newMetricsServer(t, serveRecorded(t))
	src := newSource(t, srv.URL)

	t.Run("stream keys alone make no call and leave every pod empty", func(t *testing.T) {
		got, _, err := src.Samples(context.Background(), policy(0), fleet(), []string{"pullStreams", "bandwidth"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(fleet()) {
			t.Fatalf("got %v, want every asked pod", got)
		}
		for name, values := range got {
			if len(values) != 0 {
				t.Fatalf("%s has %v", name, values)
			}
		}
		if n := len(srv.calls()); n != 0 {
			t.Fatalf("%d calls, want none", n)
		}
	})
	t.Run("memory alone is all that comes back when memory alone is asked", func(t *testing.T) {
		got, _, err := src.Samples(context.Background(), policy(0), fleet(), []string{"memory"})
		if err != nil {
			t.Fatal(err)
		}
		assertSamples(t, got["srs-edge-7xk2p"], map[string]float64{"memory": 70})
		assertSamples(t, got["srs-edge-nomem"], map[string]float64{})
	})
}

func TestSamplesWithoutSharedLabelsListsTheNamespaceAndPicksByName(t *testing.T) {
	srv := newMetricsServer(t, serveRecorded(t))
	pods := fleet()[:1]
	pods[0].Labels = nil
	transcoder := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "transcoder-5d8f9-qz7rl", Namespace: "live"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{requests("ffmpeg", "4", "2Gi")}},
		Status:     corev1.PodStatus{StartTime: &metav1.Time{Time: now.Add(-time.Hour)}},
	}
	got, _, err := newSource(t, srv.URL).Samples(context.Background(), policy(0), append(pods, transcoder), []string{"cpu"})
	if err != nil {
		t.Fatal(err)
	}
	if sel := srv.calls()[0].URL.Query().Get("labelSelector"); sel != "" {
		t.Fatalf("labelSelector %q, want none", sel)
	}
	assertSamples(t, got["srs-edge-7xk2p"], map[string]float64{"cpu": 45})
	// 3512000000n = 3512m of 4000m requested.
	assertSamples(t, got["transcoder-5d8f9-qz7rl"], map[string]float64{"cpu": 87.8})
	if len(got) != 2 {
		t.Fatalf("got %v, want the two asked pods only", got)
	}
}

func TestSamplesErrors(t *testing.T) {
	cases := []struct {
		story   string
		handler http.HandlerFunc
		is      func(error) bool
		says    string
	}{
		{"metrics-server not installed: the API server has no metrics.k8s.io",
			func(w http.ResponseWriter, _ *http.Request) {
				writeStatus(w, http.StatusNotFound, metav1.StatusReasonNotFound, "the server could not find the requested resource")
			},
			apierrors.IsNotFound, "is metrics-server installed?"},
		{"metrics-server failing inside",
			func(w http.ResponseWriter, _ *http.Request) {
				writeStatus(w, http.StatusInternalServerError, metav1.StatusReasonInternalError, "Internal error occurred: unable to fetch pod metrics")
			},
			apierrors.IsInternalError, "unable to fetch pod metrics"},
		{"metrics-server down behind the aggregator",
			func(w http.ResponseWriter, _ *http.Request) {
				writeStatus(w, http.StatusServiceUnavailable, metav1.StatusReasonServiceUnavailable, "the server is currently unable to handle the request")
			},
			apierrors.IsServiceUnavailable, "is metrics-server running?"},
		{"a bare 502 from a proxy in between",
			func(w http.ResponseWriter, _ *http.Request) {
				http.Error(w, "bad gateway", http.StatusBadGateway)
			},
			func(err error) bool {
				var se *apierrors.StatusError
				return errors.As(err, &se) && se.Status().Code == http.StatusBadGateway
			},
			"bad gateway"},
		{"garbage where the JSON list should be",
			func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"kind":"PodMetricsList","apiVersion":"metrics.k8s.io/v1beta1","items":[{"metadata":`))
			},
			func(err error) bool { return err != nil }, "json"},
	}
	for _, c := range cases {
		t.Run(c.story, func(t *testing.T) {
			srv := newMetricsServer(t, c.handler)
			got, _, err := newSource(t, srv.URL).Samples(context.Background(), policy(0), fleet(), []string{"cpu"})
			if err == nil {
				t.Fatalf("no error; got %v", got)
			}
			if got != nil {
				t.Fatalf("samples %v alongside error %v", got, err)
			}
			if !strings.HasPrefix(err.Error(), "listing pod metrics in namespace live: ") || !strings.Contains(err.Error(), c.says) || !c.is(err) {
				t.Fatalf("error %q does not tell what happened", err)
			}
		})
	}
}

func TestSharedLabels(t *testing.T) {
	started := now.Add(-time.Hour)
	allocated := func(name string) *corev1.Pod { return edgePod(name, "allocated", started) }
	tiered := allocated("srs-edge-b")
	tiered.Labels["tier"] = "edge"
	other := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "x", Labels: map[string]string{"app": "transcoder"}}}
	cases := []struct {
		story string
		pods  []*corev1.Pod
		want  string
	}{
		{"labels rewritten on live pods stay out even when every pod agrees on them",
			[]*corev1.Pod{allocated("srs-edge-a"), allocated("srs-edge-b")}, "app=srs-edge"},
		{"a label one pod lacks stays out", []*corev1.Pod{allocated("srs-edge-a"), tiered}, "app=srs-edge"},
		{"a label on every pod goes in", []*corev1.Pod{tiered, tiered}, "app=srs-edge,tier=edge"},
		{"pods sharing nothing list the whole namespace", []*corev1.Pod{allocated("srs-edge-a"), other}, ""},
	}
	for _, c := range cases {
		t.Run(c.story, func(t *testing.T) {
			if got := sharedLabels(c.pods); got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestSamplesHonourConfiguredCeilings(t *testing.T) {
	srv := newMetricsServer(t, serveRecorded(t))
	ceilings, err := samples.ParseCeilings("cpu=50")
	if err != nil {
		t.Fatal(err)
	}
	src, err := New(&rest.Config{Host: srv.URL, QPS: -1}, func() time.Time { return now }, ceilings)
	if err != nil {
		t.Fatal(err)
	}
	got, missing, err := src.Samples(context.Background(), policy(0), fleet(), []string{"cpu"})
	if err != nil {
		t.Fatal(err)
	}
	// 45% is within a 50% ceiling; the sidecar pod's 60% and the pod-level one's 75% are not.
	assertSamples(t, got["srs-edge-7xk2p"], map[string]float64{"cpu": 45})
	assertSamples(t, got["srs-edge-sidecar"], map[string]float64{})
	for _, pod := range []string{"srs-edge-sidecar", "srs-edge-podlvl"} {
		if want := []v1alpha1.SampleProblem{v1alpha1.SampleImplausible}; !reflect.DeepEqual(missing[pod], want) {
			t.Errorf("%s: missing %v, want %v", pod, missing[pod], want)
		}
	}
}
