package podhttp

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// serve runs h on 127.0.0.1 only.
func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, c *Client, url string) (int, []byte, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c.Do(req)
}

func TestARedirectIsNotFollowed(t *testing.T) {
	var elsewhere atomic.Int32
	other := serve(t, func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) })
	pod := serve(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/elsewhere", http.StatusFound)
	})
	status, _, err := get(t, New(time.Second, 1<<10), pod.URL+"/api")
	if err != nil || status != http.StatusFound {
		t.Fatalf("got %d, %v; want the 302 itself", status, err)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("the redirect was followed: the other server got %d requests", n)
	}
}

func TestTheBodyIsBounded(t *testing.T) {
	const limit = 1000
	for _, tc := range []struct {
		name   string
		size   int
		tooBig bool
	}{
		{"a body of exactly the limit is read", limit, false},
		{"one byte more is an error naming the limit", limit + 1, true},
		{"an endless body is an error", 64 << 20, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := serve(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Write([]byte(strings.Repeat("x", tc.size)))
			})
			status, body, err := get(t, New(5*time.Second, limit), pod.URL+"/api/v1/streams/")
			if !tc.tooBig {
				if err != nil || len(body) != tc.size {
					t.Fatalf("got %d bytes, %v", len(body), err)
				}
				return
			}
			if !errors.Is(err, ErrBodyTooLarge) || !strings.Contains(err.Error(), "more than 1000 bytes") ||
				!strings.Contains(err.Error(), "GET /api/v1/streams/") || body != nil || status != http.StatusOK {
				t.Fatalf("got %d, %d bytes, %v", status, len(body), err)
			}
		})
	}
}

func TestASlowPodTimesOut(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"no headers", func(_ http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		}},
		{"headers, then a stalled body", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"code":0,`))
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := serve(t, tc.handler)
			start := time.Now()
			_, _, err := get(t, New(200*time.Millisecond, 1<<10), pod.URL)
			if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
				t.Fatalf("got %v after %v; want a deadline after 200ms", err, time.Since(start))
			}
		})
	}
	t.Run("without a timeout the request's context decides", func(t *testing.T) {
		pod := serve(t, func(w http.ResponseWriter, _ *http.Request) {
			time.Sleep(300 * time.Millisecond)
			w.Write([]byte("late"))
		})
		_, body, err := get(t, New(0, 1<<10), pod.URL)
		if err != nil || string(body) != "late" {
			t.Fatalf("got %q, %v", body, err)
		}
	})
}

func TestNoProxyFromTheEnvironment(t *testing.T) {
	// Go never proxies loopback addresses, so a test server cannot tell; the transport can.
	if New(time.Second, 1).http.Transport.(*http.Transport).Proxy != nil {
		t.Fatal("pod requests must not read HTTP_PROXY: pod IPs are rarely in NO_PROXY")
	}
}

func TestOneClientServesManyGoroutines(t *testing.T) {
	pod := serve(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(r.URL.Path)) })
	c := New(5*time.Second, 1<<10)
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Go(func() {
			path := "/pod/" + string(rune('a'+i))
			req, _ := http.NewRequest(http.MethodGet, pod.URL+path, nil)
			if _, body, err := c.Do(req); err != nil || string(body) != path {
				errs[i] = errors.Join(err, errors.New("got "+string(body)+", want "+path))
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

func TestPodAddress(t *testing.T) {
	for ip, want := range map[string]string{"10.0.0.7": "10.0.0.7:1985", "fd00::7": "[fd00::7]:1985"} {
		pod := &corev1.Pod{Status: corev1.PodStatus{PodIP: ip}}
		if got, err := PodAddress(pod, 1985); err != nil || got != want {
			t.Errorf("%s: got %q, %v; want %q", ip, got, err, want)
		}
	}
	if _, err := PodAddress(&corev1.Pod{}, 1985); !errors.Is(err, ErrNoPodIP) {
		t.Errorf("a pod without an IP: %v", err)
	}
}
