package httphook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

var policy = &v1alpha1.ScalingPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "live", Name: "edge"}}

func pod(ip string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "live", Name: "edge-7"}, Status: corev1.PodStatus{PodIP: ip}}
}

// hook is a pod's hook on 127.0.0.1 that records what it was sent.
type hook struct {
	mu      sync.Mutex
	method  string
	path    string
	ctype   string
	body    map[string]any
	handler http.HandlerFunc
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.method, h.path, h.ctype = r.Method, r.URL.Path, r.Header.Get("Content-Type")
	h.body = nil
	json.Unmarshal(b, &h.body)
	h.mu.Unlock()
	h.handler(w, r)
}

func answer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(status)
		w.Write([]byte(body))
	}
}

// start serves h and returns an evictor pointed at it whatever the pod's IP.
func start(t *testing.T, h *hook, cfg Config) *Evictor {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	_, port, _ := strings.Cut(srv.Listener.Addr().String(), ":")
	cfg.Port, _ = strconv.Atoi(port)
	if cfg.Address == nil {
		cfg.Address = func(_ *corev1.Pod, port int) (string, error) { return "127.0.0.1:" + strconv.Itoa(port), nil }
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEvictAsksTheHookAndReturnsWhatItMoved(t *testing.T) {
	h := &hook{handler: answer(http.StatusOK, `{"moved": 12, "message": "told 12 players to reconnect"}`)}
	e := start(t, h, Config{})

	n, err := e.Evict(context.Background(), policy, pod("10.0.0.7"), 12)
	if err != nil || n != 12 {
		t.Fatalf("got %d, %v; want 12", n, err)
	}
	want := map[string]any{"policy": "live/edge", "pod": "edge-7", "streamsLeft": float64(12)}
	if h.method != http.MethodPost || h.path != DefaultPath || h.ctype != "application/json" || !equal(h.body, want) {
		t.Fatalf("hook got %s %s (%s) %v; want POST %s %v", h.method, h.path, h.ctype, h.body, DefaultPath, want)
	}
}

func TestEvictOnACustomPathAcceptsAny2xx(t *testing.T) {
	h := &hook{handler: answer(http.StatusAccepted, `{"moved":0}`)}
	e := start(t, h, Config{Path: "/drain"})
	if n, err := e.Evict(context.Background(), policy, pod("10.0.0.7"), 0); err != nil || n != 0 || h.path != "/drain" {
		t.Fatalf("got %d, %v at %s", n, err, h.path)
	}
}

func TestEvictRejectsEveryBadAnswer(t *testing.T) {
	cases := []struct {
		name    string
		handler http.HandlerFunc
		want    error
	}{
		{"HTTP 500", answer(http.StatusInternalServerError, `{"moved": 3}`), ErrStatus},
		{"HTTP 404: no hook on this pod", answer(http.StatusNotFound, "404 page not found"), ErrStatus},
		{"a redirect, not followed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://127.0.0.1:1/elsewhere", http.StatusFound)
		}, ErrStatus},
		{"not JSON", answer(http.StatusOK, "moved them all"), ErrBadResponse},
		{"JSON without moved", answer(http.StatusOK, `{"ok": true}`), ErrBadResponse},
		{"moved null", answer(http.StatusOK, `{"moved": null}`), ErrBadResponse},
		{"moved as a string", answer(http.StatusOK, `{"moved": "12"}`), ErrBadResponse},
		{"moved fractional", answer(http.StatusOK, `{"moved": 1.5}`), ErrBadResponse},
		{"moved negative", answer(http.StatusOK, `{"moved": -1}`), ErrBadResponse},
		{"moved absurd", answer(http.StatusOK, `{"moved": 1121}`), ErrBadResponse}, // > 12*10+1000
		{"moved beyond int64", answer(http.StatusOK, `{"moved": 1e30}`), ErrBadResponse},
		{"trailing garbage", answer(http.StatusOK, `{"moved": 3} {"moved": 4}`), ErrBadResponse},
		{"an endless body", func(w http.ResponseWriter, _ *http.Request) {
			w.Write([]byte(`{"moved": 3, "pad": "`))
			w.Write([]byte(strings.Repeat("x", DefaultMaxBody)))
		}, ErrBodyTooLarge},
		{"a hook slower than the timeout", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		}, context.DeadlineExceeded},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := start(t, &hook{handler: tc.handler}, Config{Timeout: 300 * time.Millisecond})
			n, err := e.Evict(context.Background(), policy, pod("10.0.0.7"), 12)
			if n != 0 || !errors.Is(err, tc.want) || !strings.HasPrefix(err.Error(), "calling the eviction hook of pod edge-7: ") {
				t.Fatalf("got %d, %v; want 0 and %v", n, err, tc.want)
			}
		})
	}
}

func TestEvictBoundsTheCountByTheStreamsLeft(t *testing.T) {
	h := &hook{handler: answer(http.StatusOK, `{"moved": 1120}`)}
	e := start(t, h, Config{})
	if n, err := e.Evict(context.Background(), policy, pod("10.0.0.7"), 12); err != nil || n != 1120 {
		t.Fatalf("12*10+1000 is the most a hook may claim: got %d, %v", n, err)
	}
	// A negative streamsLeft is sent, and bounded, as zero.
	h.handler = answer(http.StatusOK, `{"moved": 1001}`)
	if n, err := e.Evict(context.Background(), policy, pod("10.0.0.7"), -5); !errors.Is(err, ErrBadResponse) || h.body["streamsLeft"] != float64(0) {
		t.Fatalf("got %d, %v; sent %v", n, err, h.body)
	}
}

func TestEvictNeedsAPodIP(t *testing.T) {
	e, err := New(Config{Port: 8088})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Evict(context.Background(), policy, pod(""), 3); !errors.Is(err, ErrNoPodIP) {
		t.Fatalf("got %v", err)
	}
}

func TestNewRejectsNonsense(t *testing.T) {
	for _, cfg := range []Config{{}, {Port: 70000}, {Port: 8088, Path: "evict"}, {Port: 8088, Timeout: -1}, {Port: 8088, MaxBody: -1}} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

func equal(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}
