package srs

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/streamscaler/streamscaler/adapters/podhttp"
)

// recorded returns a response from testdata/srs.
func recorded(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "srs", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeSRS answers from the responses in testdata/srs. By default its lists are paged as
// SRS 7's develop source reads (start, then count entries, count at least 1) and carry a
// total it adds itself. v6 pages like SRS 4-6 and the recorded SRS 7.0.18 instead (count
// at least 10, no total: testdata/srs/real-7.0.18); ignorePaging answers the whole list
// every time, like SRS 3's streams.
type fakeSRS struct {
	summaries    []byte
	streams      recordedList
	clients      recordedList
	v6           bool
	ignorePaging bool
	// kick answers DELETE /api/v1/clients/{id}; default: the recorded success.
	kick func(id string) (int, []byte)

	mu       sync.Mutex
	requests []string
	deletes  []string
	times    []time.Time
}

// recordedList is a recorded list response split into its envelope and its entries.
type recordedList struct {
	key      string
	envelope map[string]json.RawMessage
	entries  []json.RawMessage
}

func splitList(t testing.TB, body []byte, key string) recordedList {
	t.Helper()
	l := recordedList{key: key}
	if err := json.Unmarshal(body, &l.envelope); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(l.envelope[key], &l.entries); err != nil {
		t.Fatal(err)
	}
	return l
}

func newFakeSRS(t testing.TB) *fakeSRS {
	return &fakeSRS{
		summaries: recorded(t, "summaries.json"),
		streams:   splitList(t, recorded(t, "streams.json"), "streams"),
		clients:   splitList(t, recorded(t, "clients.json"), "clients"),
	}
}

// serve starts the fake on 127.0.0.1.
func (f *fakeSRS) serve(t testing.TB) *httptest.Server {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv
}

func (f *fakeSRS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == pathSummaries:
		w.Write(f.summaries)
	case r.Method == http.MethodGet && r.URL.Path == pathStreams:
		w.Write(f.page(f.streams, r))
	case r.Method == http.MethodGet && r.URL.Path == pathClients:
		w.Write(f.page(f.clients, r))
	case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, pathClients):
		id := strings.TrimPrefix(r.URL.Path, pathClients)
		f.mu.Lock()
		f.deletes = append(f.deletes, r.URL.Path)
		f.times = append(f.times, time.Now())
		f.mu.Unlock()
		status, body := http.StatusOK, []byte(`{"code":0,"server":"vid-0x19kr2","service":"k3n8m0q1","pid":"1"}`)
		if f.kick != nil {
			status, body = f.kick(id)
		}
		w.WriteHeader(status)
		w.Write(body)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeSRS) page(l recordedList, r *http.Request) []byte {
	start, _ := strconv.Atoi(r.URL.Query().Get("start"))
	count, _ := strconv.Atoi(r.URL.Query().Get("count"))
	start, count = max(0, start), max(1, count)
	if f.v6 {
		count = max(10, count)
	}
	entries := l.entries[min(start, len(l.entries)):min(start+count, len(l.entries))]
	if f.ignorePaging {
		entries = l.entries
	}
	out := map[string]json.RawMessage{}
	for k, v := range l.envelope {
		out[k] = v
	}
	out[l.key], _ = json.Marshal(entries)
	if f.v6 {
		delete(out, "total")
	} else {
		out["total"] = json.RawMessage(strconv.Itoa(len(l.entries)))
	}
	b, _ := json.Marshal(out)
	return b
}

func (f *fakeSRS) gets() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.requests {
		if strings.HasPrefix(r, "GET ") {
			out = append(out, strings.TrimPrefix(r, "GET "))
		}
	}
	return out
}

func (f *fakeSRS) kicks() ([]string, []time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.deletes...), append([]time.Time(nil), f.times...)
}

func pod(name, ip string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "live"},
		Status:     corev1.PodStatus{PodIP: ip},
	}
}

// addresses points pods at test servers by name; a pod not in the map goes through
// podhttp.PodAddress, so one without an IP fails as in production.
func addresses(byPod map[string]string, ports *[]int) func(*corev1.Pod, int) (string, error) {
	var mu sync.Mutex
	return func(p *corev1.Pod, port int) (string, error) {
		if ports != nil {
			mu.Lock()
			*ports = append(*ports, port)
			mu.Unlock()
		}
		if a, ok := byPod[p.Name]; ok {
			return a, nil
		}
		return podhttp.PodAddress(p, port)
	}
}
