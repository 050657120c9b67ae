package prometheus

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

// testdataDir holds the responses recorded from a real Prometheus (TestRealPrometheus -record).
var testdataDir = filepath.Join("..", "..", "testdata", "prometheus")

// testWindow is the rate() range of the real run and of the recordings: five 1s scrapes.
const testWindow = 5 * time.Second

// recording is testdata/prometheus/index.json: what was asked to make each file.
type recording struct {
	// Prometheus is the server's version.
	Prometheus string `json:"prometheus"`
	// Time is the evaluation time of every query.
	Time time.Time `json:"time"`
	// Window is the rate() range of the default queries.
	Window string `json:"window"`
	// Files maps a file's name (without .json) to its query and HTTP status.
	Files map[string]recordedQuery `json:"files"`
}

type recordedQuery struct {
	Query  string `json:"query"`
	Status int    `json:"status"`
}

// loadRecording reads the index and every file it names.
func loadRecording(t testing.TB) (recording, map[string][]byte) {
	t.Helper()
	var rec recording
	b, err := os.ReadFile(filepath.Join(testdataDir, "index.json"))
	if err != nil {
		t.Fatalf("reading the recordings' index: %v (record them with go test -run TestRealPrometheus -record)", err)
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	bodies := make(map[string][]byte, len(rec.Files))
	for name := range rec.Files {
		body, err := os.ReadFile(filepath.Join(testdataDir, name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		bodies[name] = body
	}
	return rec, bodies
}

// replayByQuery answers each recorded query with its recorded response, as the real
// server did; a query that was never recorded gets Prometheus's bad_data answer.
func replayByQuery(t testing.TB, rec recording, bodies map[string][]byte) *httptest.Server {
	t.Helper()
	byQuery := map[string]string{}
	for name, q := range rec.Files {
		byQuery[q.Query] = name
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query" {
			http.NotFound(w, r)
			return
		}
		name, ok := byQuery[r.FormValue("query")]
		if !ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"status":"error","errorType":"bad_data","error":"query not recorded"}`))
			return
		}
		serve(w, rec.Files[name].Status, bodies[name])
	}))
	t.Cleanup(srv.Close)
	return srv
}

// replayFile answers every query with one body and status.
func replayFile(t testing.TB, status int, body []byte) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { serve(w, status, body) }))
	t.Cleanup(srv.Close)
	return srv
}

func serve(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// policyFor is a policy of namespace ns reading from address.
func policyFor(ns, address string) *v1alpha1.ScalingPolicy {
	return &v1alpha1.ScalingPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "srs-edge"},
		Spec: v1alpha1.ScalingPolicySpec{MetricsSource: &v1alpha1.MetricsSourceSpec{
			Type:       v1alpha1.SourcePrometheus,
			Prometheus: &v1alpha1.PrometheusSource{Address: address},
		}},
	}
}

// podsNamed returns bare pods with these names.
func podsNamed(names ...string) []*corev1.Pod {
	pods := make([]*corev1.Pod, len(names))
	for i, n := range names {
		pods[i] = &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: n}}
	}
	return pods
}

// askedLive are the pods the recorded default queries asked for, in order.
func askedLive() []string {
	names := make([]string, 0, len(livePods)+1)
	for _, p := range livePods {
		names = append(names, p.name)
	}
	return append(names, absentPod)
}

func namesOf(pods []fakePod) []string {
	names := make([]string, len(pods))
	for i, p := range pods {
		names[i] = p.name
	}
	return names
}
