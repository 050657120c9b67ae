package prometheus

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/streamscaler/streamscaler/adapters/samples"
	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

// newSource returns a Source whose clock stands at the recording's evaluation time plus
// after, so that recorded samples are as old as after.
func newSource(t testing.TB, rec recording, after time.Duration, cfg Config) *Source {
	t.Helper()
	at := rec.Time.Add(after)
	cfg.Now = func() time.Time { return at }
	if cfg.RateWindow == 0 {
		cfg.RateWindow = testWindow
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSamplesReadsRecordedResponses(t *testing.T) {
	rec, bodies := loadRecording(t)
	if rec.Window != "5s" {
		t.Fatalf("recorded with window %s, the tests use %s", rec.Window, testWindow)
	}
	srv := replayByQuery(t, rec, bodies)
	s := newSource(t, rec, 2*time.Second, Config{Address: srv.URL})

	got, _, err := s.Samples(context.Background(), policyFor("live", ""), podsNamed(askedLive()...), allKeys)
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, got, livePods, allKeys)
	if len(got) != len(askedLive()) {
		t.Errorf("want an entry for each of the %d asked pods, got %v", len(askedLive()), got)
	}
	if m, ok := got[absentPod]; !ok || len(m) != 0 {
		t.Errorf("a pod Prometheus does not know must be present and empty, got %v, %v", m, ok)
	}
	if _, ok := got[decoyPod.name]; ok && got[decoyPod.name]["pullStreams"] == decoyPod.clients {
		t.Errorf("the pod of the same name in namespace %s leaked in", decoyPod.namespace)
	}
}

// TestBadResponses: every broken answer is a clear error or a missing sample, never a
// zero that the decision core could read as an idle pod and scale in.
func TestBadResponses(t *testing.T) {
	rec, bodies := loadRecording(t)
	success := bodies["success_pullStreams"]
	tests := []struct {
		name   string
		status int
		body   []byte
		// after is how long after the recording the read happens.
		after time.Duration
		// maxAge overrides the policy's maxSampleAge.
		maxAge time.Duration
		// ask overrides the asked pods.
		ask []string
		// want is the expected result; nil when an error is expected.
		want map[string]map[string]float64
		// missing is why pods were left without a sample.
		missing map[string][]v1alpha1.SampleProblem
		// errType is the Prometheus error type an error must carry; errIs a sentinel;
		// errText text the message must hold.
		errType promv1.ErrorType
		errIs   error
		errText string
	}{{
		name: "an empty vector leaves every pod missing", status: 200, body: bodies["empty"],
		want: emptyFor(askedLive()...),
	}, {
		name: "a matrix instead of a vector is an error naming the type", status: 200, body: bodies["matrix"],
		errIs: ErrNotVector, errText: "got matrix",
	}, {
		name: "a scalar is an error naming the type", status: 200, body: bodies["scalar"],
		errIs: ErrNotVector, errText: "got scalar",
	}, {
		name: "bad_data from the server is an error", status: rec.Files["bad_data"].Status, body: bodies["bad_data"],
		errType: promv1.ErrBadData, errText: "unclosed left parenthesis",
	}, {
		name: "an execution error is an error", status: rec.Files["execution_error"].Status, body: bodies["execution_error"],
		errType: promv1.ErrExec, errText: "many-to-many",
	}, {
		name: "a 503 from a proxy is an error", status: 503, body: []byte("upstream connect error or disconnect/reset before headers\n"),
		errType: promv1.ErrServer, errText: "503",
	}, {
		name: "an HTML page with status 200 is an error", status: 200, body: []byte("<html><body>Sign in</body></html>"),
		errType: promv1.ErrBadResponse,
	}, {
		name: "a truncated body is an error", status: 200, body: success[:len(success)/2],
		errType: promv1.ErrBadResponse,
	}, {
		name: "NaN and +Inf are missing, not zero", status: 200, body: bodies["nan_inf"],
		want:    map[string]map[string]float64{"srs-edge-0": {}, "srs-edge-1": {}, "srs-edge-2": {"pullStreams": 40}, absentPod: {}},
		missing: map[string][]v1alpha1.SampleProblem{"srs-edge-0": {v1alpha1.SampleNotFinite}, "srs-edge-1": {v1alpha1.SampleNotFinite}},
	}, {
		name: "negative values are missing", status: 200, body: bodies["negative"],
		want:    emptyFor(askedLive()...),
		missing: each(v1alpha1.SampleNegative, "srs-edge-0", "srs-edge-1", "srs-edge-2"),
	}, {
		name: "samples older than maxSampleAge are missing", status: 200, body: success, after: 10 * time.Minute,
		want:    emptyFor(askedLive()...),
		missing: each(v1alpha1.SampleStale, "srs-edge-0", "srs-edge-1", "srs-edge-2"),
	}, {
		name: "a longer maxSampleAge keeps the same samples", status: 200, body: success, after: 10 * time.Minute, maxAge: 15 * time.Minute,
		want: map[string]map[string]float64{"srs-edge-0": {"pullStreams": 12}, "srs-edge-1": {"pullStreams": 25}, "srs-edge-2": {"pullStreams": 40}, absentPod: {}},
	}, {
		name: "a series without the pod label goes to no pod", status: 200, body: bodies["no_pod_label"],
		want: map[string]map[string]float64{"srs-edge-0": {"pullStreams": 12}, "srs-edge-1": {}, "srs-edge-2": {}, absentPod: {}},
	}, {
		name: "series of pods not asked for are left out", status: 200, body: bodies["unknown_pods"], ask: []string{"srs-edge-0", "srs-edge-1"},
		want: map[string]map[string]float64{"srs-edge-0": {"pullStreams": 12}, "srs-edge-1": {"pullStreams": 25}},
	}, {
		name: "two different values for one pod are missing, not a guess", status: 200, body: bodies["ambiguous"],
		want:    emptyFor(askedLive()...),
		missing: each(v1alpha1.SampleAmbiguous, "srs-edge-0", "srs-edge-1", "srs-edge-2"),
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := replayFile(t, tc.status, tc.body)
			s := newSource(t, rec, 2*time.Second+tc.after, Config{Address: srv.URL})
			policy := policyFor("live", "")
			if tc.maxAge > 0 {
				policy.Spec.MetricsSource.MaxSampleAge = &metav1.Duration{Duration: tc.maxAge}
			}
			ask := tc.ask
			if ask == nil {
				ask = askedLive()
			}
			got, missing, err := s.Samples(context.Background(), policy, podsNamed(ask...), []string{"pullStreams"})
			if tc.want != nil {
				if err != nil {
					t.Fatal(err)
				}
				assertSamples(t, got, tc.want)
				if want := tc.missing; !reflect.DeepEqual(missing, want) && (len(missing) > 0 || len(want) > 0) {
					t.Errorf("missing %v, want %v (an absent series, a series without the pod label or of a pod not asked names no asked pod)", missing, want)
				}
				return
			}
			checkError(t, err, "pullStreams", tc.errType, tc.errIs, tc.errText)
			if got != nil {
				t.Errorf("a failed read must return no samples, got %v", got)
			}
		})
	}
}

// The bound is MaxResponseBytes; the test lowers it to 1 MiB, so that the body over it
// is not 17 MB decoded under the race detector on a busy machine, which once ran past the
// query timeout in CI.
func TestHugeBodyIsRefused(t *testing.T) {
	rec, _ := loadRecording(t)
	if s := newSource(t, rec, time.Second, Config{}); s.limit != MaxResponseBytes {
		t.Fatalf("limit %d, want MaxResponseBytes", s.limit)
	}
	const limit = 1 << 20
	for _, announce := range []bool{false, true} {
		name := "streamed"
		if announce {
			name = "announced in Content-Length"
		}
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				body := hugeVector(limit + 256<<10)
				if announce {
					w.Header().Set("Content-Length", itoa(len(body)))
				}
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(body)
			}))
			defer srv.Close()
			s := newSource(t, rec, time.Second, Config{Address: srv.URL})
			s.limit = limit
			_, _, err := s.Samples(context.Background(), policyFor("live", ""), podsNamed("srs-edge-0"), []string{"pullStreams"})
			checkError(t, err, "pullStreams", "", ErrResponseTooLarge, "")
		})
	}
}

// hugeVector is a well-formed vector response of at least n bytes.
func hugeVector(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"status":"success","data":{"resultType":"vector","result":[`)
	for i := 0; b.Len() < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"metric":{"pod":"srs-edge-`)
		b.WriteString(itoa(i))
		b.WriteString(`"},"value":[1795309033.972,"1"]}`)
	}
	b.WriteString(`]}}`)
	return b.Bytes()
}

func TestSlowServerTimesOut(t *testing.T) {
	rec, bodies := loadRecording(t)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
		serve(w, 200, bodies["success_pullStreams"])
	}))
	defer srv.Close()
	defer close(release)
	s := newSource(t, rec, time.Second, Config{Address: srv.URL, Timeout: 200 * time.Millisecond})

	began := time.Now()
	_, _, err := s.Samples(context.Background(), policyFor("live", ""), podsNamed(askedLive()...), []string{"pullStreams", "cpu"})
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("the read took %s with a 200ms timeout", took)
	}
	checkError(t, err, "pullStreams", "", nil, "")
	checkError(t, err, "cpu", "", nil, "")
	var netErr net.Error
	if !errors.Is(err, context.DeadlineExceeded) && !(errors.As(err, &netErr) && netErr.Timeout()) {
		t.Errorf("want a timeout, got %v", err)
	}

	// The caller's own deadline is honoured too.
	s = newSource(t, rec, time.Second, Config{Address: srv.URL, Timeout: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, _, err = s.Samples(ctx, policyFor("live", ""), podsNamed(askedLive()...), []string{"pullStreams"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("want the caller's deadline, got %v", err)
	}
}

func TestQueries(t *testing.T) {
	rec, bodies := loadRecording(t)

	t.Run("a custom metric without a query fails naming the key, before any request", func(t *testing.T) {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			hits.Add(1)
			serve(w, 200, bodies["empty"])
		}))
		defer srv.Close()
		s := newSource(t, rec, time.Second, Config{Address: srv.URL})
		_, _, err := s.Samples(context.Background(), policyFor("live", ""), podsNamed("srs-edge-0"), []string{"pullStreams", "custom/viewers"})
		if !errors.Is(err, ErrNoQuery) || !strings.Contains(err.Error(), `"custom/viewers"`) {
			t.Fatalf("want ErrNoQuery naming custom/viewers, got %v", err)
		}
		if hits.Load() != 0 {
			t.Errorf("%d queries sent for a policy that cannot be read whole", hits.Load())
		}
	})

	t.Run("a policy's query overrides the default and serves a custom metric", func(t *testing.T) {
		srv := replayByQuery(t, rec, bodies)
		s := newSource(t, rec, time.Second, Config{Address: srv.URL})
		policy := policyFor("live", "")
		policy.Spec.MetricsSource.Prometheus.Queries = map[string]string{
			"custom/viewers": defaultQueries["pullStreams"],
			"pushStreams":    `sum by ($podLabel) (srs_clients{namespace="$namespace",$podLabel=~"$pods"})`,
		}
		got, _, err := s.Samples(context.Background(), policy, podsNamed(askedLive()...), []string{"custom/viewers", "pushStreams"})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range livePods {
			if got[p.name]["custom/viewers"] != p.clients || got[p.name]["pushStreams"] != p.clients {
				t.Errorf("%s: got %v, want the clients (%g) under both keys", p.name, got[p.name], p.clients)
			}
		}
	})

	t.Run("the query names the pod label, the namespace, the pods and the time", func(t *testing.T) {
		var mu sync.Mutex
		var form map[string]string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			form = map[string]string{"path": r.URL.Path, "method": r.Method, "query": r.FormValue("query"), "time": r.FormValue("time")}
			mu.Unlock()
			serve(w, 200, []byte(`{"status":"success","data":{"resultType":"vector","result":[`+
				`{"metric":{"kubernetes_pod_name":"srs-edge.a"},"value":[1795309035,"7"]},`+
				`{"metric":{"kubernetes_pod_name":"srs-edgeXa"},"value":[1795309035,"8"]}]}}`))
		}))
		defer srv.Close()
		s := newSource(t, rec, time.Second, Config{Address: srv.URL + "/prometheus"})
		policy := policyFor(`live"ns`, "")
		policy.Spec.MetricsSource.Prometheus.PodLabel = "kubernetes_pod_name"
		got, _, err := s.Samples(context.Background(), policy, podsNamed("srs-edge.a"), []string{"pullStreams"})
		if err != nil {
			t.Fatal(err)
		}
		assertSamples(t, got, map[string]map[string]float64{"srs-edge.a": {"pullStreams": 7}})
		mu.Lock()
		defer mu.Unlock()
		want := `sum by (kubernetes_pod_name) (srs_clients{namespace="live\"ns",kubernetes_pod_name=~"srs-edge\\.a"})`
		if form["query"] != want {
			t.Errorf("query\n got %s\nwant %s", form["query"], want)
		}
		if form["path"] != "/prometheus/api/v1/query" {
			t.Errorf("path %s: only /api/v1/query under the address is used", form["path"])
		}
		if wantTime := "1795309034.972"; form["time"] != wantTime {
			t.Errorf("time %s, want the source's clock %s", form["time"], wantTime)
		}
	})

	t.Run("a pod label that is not a label name is refused", func(t *testing.T) {
		s := newSource(t, rec, time.Second, Config{Address: "http://127.0.0.1:1"})
		policy := policyFor("live", "")
		policy.Spec.MetricsSource.Prometheus.PodLabel = "pod) or vector(1"
		if _, _, err := s.Samples(context.Background(), policy, podsNamed("srs-edge-0"), []string{"pullStreams"}); err == nil {
			t.Fatal("want an error")
		}
	})

	t.Run("every failing key is named", func(t *testing.T) {
		srv := replayFile(t, 400, bodies["bad_data"])
		s := newSource(t, rec, time.Second, Config{Address: srv.URL})
		_, _, err := s.Samples(context.Background(), policyFor("live", ""), podsNamed("srs-edge-0"), []string{"cpu", "memory", "cpu"})
		checkError(t, err, "cpu", promv1.ErrBadData, nil, "")
		checkError(t, err, "memory", promv1.ErrBadData, nil, "")
		if n := strings.Count(err.Error(), "querying prometheus for cpu"); n != 1 {
			t.Errorf("a key asked twice is queried once; cpu failed %d times", n)
		}
	})

	t.Run("no pods or no keys asks nothing", func(t *testing.T) {
		s := newSource(t, rec, time.Second, Config{Address: "http://127.0.0.1:1"})
		got, _, err := s.Samples(context.Background(), policyFor("live", ""), nil, []string{"cpu"})
		if err != nil || len(got) != 0 {
			t.Errorf("no pods: got %v, %v", got, err)
		}
		got, _, err = s.Samples(context.Background(), policyFor("live", ""), podsNamed("a"), nil)
		if err != nil {
			t.Fatal(err)
		}
		assertSamples(t, got, emptyFor("a"))
	})
}

func TestWarningsAreLoggedNotFatal(t *testing.T) {
	rec, _ := loadRecording(t)
	srv := replayFile(t, 200, []byte(`{"status":"success","warnings":["remote read of store-gateway-2 failed: partial response"],`+
		`"data":{"resultType":"vector","result":[{"metric":{"pod":"srs-edge-0"},"value":[1795309033.972,"12"]}]}}`))
	var logged strings.Builder
	ctx := logr.NewContext(context.Background(), funcr.New(func(prefix, args string) { logged.WriteString(args + "\n") }, funcr.Options{}))
	s := newSource(t, rec, time.Second, Config{Address: srv.URL})
	got, _, err := s.Samples(ctx, policyFor("live", ""), podsNamed("srs-edge-0"), []string{"pullStreams"})
	if err != nil {
		t.Fatal(err)
	}
	assertSamples(t, got, map[string]map[string]float64{"srs-edge-0": {"pullStreams": 12}})
	if !strings.Contains(logged.String(), "partial response") || !strings.Contains(logged.String(), `"key"="pullStreams"`) {
		t.Errorf("the warning was not logged with its key:\n%s", logged.String())
	}
}

// emptyFor is the result of a read that found nothing valid for these pods.
// each gives every pod the one problem.
func each(p v1alpha1.SampleProblem, pods ...string) map[string][]v1alpha1.SampleProblem {
	out := make(map[string][]v1alpha1.SampleProblem, len(pods))
	for _, pod := range pods {
		out[pod] = []v1alpha1.SampleProblem{p}
	}
	return out
}

func emptyFor(pods ...string) map[string]map[string]float64 {
	out := make(map[string]map[string]float64, len(pods))
	for _, p := range pods {
		out[p] = map[string]float64{}
	}
	return out
}

func assertSamples(t *testing.T, got, want map[string]map[string]float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d pods %v, want %d %v", len(got), got, len(want), want)
	}
	for pod, w := range want {
		g, ok := got[pod]
		if !ok {
			t.Errorf("pod %s missing from the result", pod)
			continue
		}
		if len(g) != len(w) {
			t.Errorf("%s: got %v, want %v", pod, g, w)
			continue
		}
		for k, v := range w {
			if gv, ok := g[k]; !ok || gv != v {
				t.Errorf("%s %s: got %v (present %v), want %v", pod, k, gv, ok, v)
			}
		}
	}
}

// checkError checks that err names key in the house format and matches the rest.
func checkError(t *testing.T, err error, key string, errType promv1.ErrorType, is error, text string) {
	t.Helper()
	if err == nil {
		t.Fatal("want an error, got none")
	}
	if !strings.Contains(err.Error(), "querying prometheus for "+key+": ") {
		t.Errorf("the error does not name %s: %v", key, err)
	}
	if errType != "" {
		var perr *promv1.Error
		if !errors.As(err, &perr) || perr.Type != errType {
			t.Errorf("want a %s error, got %v", errType, err)
		}
	}
	if is != nil && !errors.Is(err, is) {
		t.Errorf("want %v, got %v", is, err)
	}
	if text != "" && !strings.Contains(err.Error(), text) {
		t.Errorf("want %q in %v", text, err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestSamplesHonourConfiguredCeilings(t *testing.T) {
	rec, bodies := loadRecording(t)
	ceilings, err := samples.ParseCeilings("pullStreams=30")
	if err != nil {
		t.Fatal(err)
	}
	srv := replayFile(t, 200, bodies["success_pullStreams"])
	s := newSource(t, rec, 2*time.Second, Config{Address: srv.URL, Ceilings: ceilings})
	got, missing, err := s.Samples(context.Background(), policyFor("live", ""), podsNamed(askedLive()...), []string{"pullStreams"})
	if err != nil {
		t.Fatal(err)
	}
	// srs-edge-2 reports 40 players, above a ceiling of 30.
	assertSamples(t, got, map[string]map[string]float64{"srs-edge-0": {"pullStreams": 12}, "srs-edge-1": {"pullStreams": 25}, "srs-edge-2": {}, absentPod: {}})
	if want := each(v1alpha1.SampleImplausible, "srs-edge-2"); !reflect.DeepEqual(missing, want) {
		t.Fatalf("missing %v, want %v", missing, want)
	}
}
