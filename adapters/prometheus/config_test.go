package prometheus

import (
	"context"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

func TestAddressAndToken(t *testing.T) {
	rec, bodies := loadRecording(t)
	srv, lastAuth := authServer(t, bodies["success_pullStreams"])
	read := func(s *Source, policy *v1alpha1.ScalingPolicy) error {
		_, _, err := s.Samples(context.Background(), policy, podsNamed("srs-edge-0"), []string{"pullStreams"})
		return err
	}

	t.Run("the policy's address overrides the controller's", func(t *testing.T) {
		s := newSource(t, rec, time.Second, Config{Address: "http://127.0.0.1:1"})
		if err := read(s, policyFor("live", srv.URL)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("no address anywhere is an error", func(t *testing.T) {
		s := newSource(t, rec, time.Second, Config{})
		if err := read(s, policyFor("live", "")); !errors.Is(err, ErrNoAddress) {
			t.Fatalf("want ErrNoAddress, got %v", err)
		}
	})
	t.Run("a static token is sent", func(t *testing.T) {
		s := newSource(t, rec, time.Second, Config{Address: srv.URL, BearerToken: "s3cret"})
		if err := read(s, policyFor("live", "")); err != nil || lastAuth() != "Bearer s3cret" {
			t.Fatalf("got %q, %v", lastAuth(), err)
		}
	})
	t.Run("a token file is read at each request, so rotation works", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "token")
		if err := os.WriteFile(file, []byte("first\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		s := newSource(t, rec, time.Second, Config{Address: srv.URL, BearerTokenFile: file})
		if err := read(s, policyFor("live", "")); err != nil || lastAuth() != "Bearer first" {
			t.Fatalf("got %q, %v", lastAuth(), err)
		}
		if err := os.WriteFile(file, []byte("second"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := read(s, policyFor("live", "")); err != nil || lastAuth() != "Bearer second" {
			t.Fatalf("after rotation got %q, %v", lastAuth(), err)
		}
		if err := os.Remove(file); err != nil {
			t.Fatal(err)
		}
		if err := read(s, policyFor("live", "")); err == nil {
			t.Fatal("a vanished token file must fail the read")
		}
	})
	t.Run("a projected ServiceAccount token rotated by the kubelet is used at the next query", func(t *testing.T) {
		// The kubelet writes each token into a new directory and swaps the ..data symlink
		// to it atomically; the path the pod reads goes through ..data.
		dir := t.TempDir()
		rotate := func(token, version string) {
			t.Helper()
			if err := os.Mkdir(filepath.Join(dir, version), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, version, "token"), []byte(token), 0o600); err != nil {
				t.Fatal(err)
			}
			tmp := filepath.Join(dir, "..data_tmp")
			if err := os.Symlink(version, tmp); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
				t.Fatal(err)
			}
		}
		rotate("eyJ.first", "..2026_01_01_00_00_00.1")
		file := filepath.Join(dir, "token")
		if err := os.Symlink(filepath.Join("..data", "token"), file); err != nil {
			t.Fatal(err)
		}
		s := newSource(t, rec, time.Second, Config{Address: srv.URL, BearerTokenFile: file})
		if err := read(s, policyFor("live", "")); err != nil || lastAuth() != "Bearer eyJ.first" {
			t.Fatalf("got %q, %v", lastAuth(), err)
		}
		rotate("eyJ.second", "..2026_01_01_00_50_00.2")
		if err := read(s, policyFor("live", "")); err != nil || lastAuth() != "Bearer eyJ.second" {
			t.Fatalf("after rotation got %q, %v", lastAuth(), err)
		}
	})
	t.Run("a policy's Secret overrides the controller's token", func(t *testing.T) {
		var asked string
		s := newSource(t, rec, time.Second, Config{Address: srv.URL, BearerToken: "controller",
			TokenFor: func(_ context.Context, ns string, ref *v1alpha1.SecretKeyRef) (string, error) {
				asked = ns + "/" + ref.Name + "/" + ref.Key
				if ref.Name == "missing" {
					return "", errors.New("secrets \"missing\" not found")
				}
				return "from-secret", nil
			}})
		policy := policyFor("live", "")
		policy.Spec.MetricsSource.Prometheus.BearerTokenSecretRef = &v1alpha1.SecretKeyRef{Name: "prom", Key: "token"}
		if err := read(s, policy); err != nil || lastAuth() != "Bearer from-secret" || asked != "live/prom/token" {
			t.Fatalf("got %q for %s, %v", lastAuth(), asked, err)
		}
		policy.Spec.MetricsSource.Prometheus.BearerTokenSecretRef.Name = "missing"
		if err := read(s, policy); err == nil || !strings.Contains(err.Error(), "not found") {
			t.Fatalf("want the Secret's error, got %v", err)
		}
	})
	t.Run("an empty token in a policy's Secret is an error", func(t *testing.T) {
		s := newSource(t, rec, time.Second, Config{Address: srv.URL,
			TokenFor: func(context.Context, string, *v1alpha1.SecretKeyRef) (string, error) { return "", nil }})
		policy := policyFor("live", "")
		policy.Spec.MetricsSource.Prometheus.BearerTokenSecretRef = &v1alpha1.SecretKeyRef{Name: "prom", Key: "token"}
		if err := read(s, policy); err == nil || !strings.Contains(err.Error(), "live/prom key token is empty") {
			t.Fatalf("want the empty Secret named, got %v", err)
		}
	})
	t.Run("a policy's Secret without a Secret reader is an error", func(t *testing.T) {
		s := newSource(t, rec, time.Second, Config{Address: srv.URL})
		policy := policyFor("live", "")
		policy.Spec.MetricsSource.Prometheus.BearerTokenSecretRef = &v1alpha1.SecretKeyRef{Name: "prom", Key: "token"}
		if err := read(s, policy); err == nil {
			t.Fatal("want an error")
		}
	})
}

func TestRedirectsKeepTheTokenOnTheHostAsked(t *testing.T) {
	rec, bodies := loadRecording(t)
	target, lastAuth := authServer(t, bodies["success_pullStreams"])
	_, port, _ := strings.Cut(target.Listener.Addr().String(), ":")
	for _, tc := range []struct {
		name, host, want string
	}{
		{"to the same host: the token follows", "127.0.0.1", "Bearer s3cret"},
		// localhost is another host name for the same test server.
		{"to another host: the token stays behind", "localhost", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				// 307 keeps the POST and its query.
				http.Redirect(w, r, "http://"+tc.host+":"+port+r.URL.RequestURI(), http.StatusTemporaryRedirect)
			}))
			defer front.Close()
			s := newSource(t, rec, time.Second, Config{Address: front.URL, BearerToken: "s3cret"})
			if _, _, err := s.Samples(context.Background(), policyFor("live", ""), podsNamed("srs-edge-0"), []string{"pullStreams"}); err != nil {
				t.Fatal(err)
			}
			if got := lastAuth(); got != tc.want {
				t.Fatalf("the target saw Authorization %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTLS(t *testing.T) {
	rec, bodies := loadRecording(t)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		serve(w, 200, bodies["success_pullStreams"])
	}))
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, certPEM(srv), 0o600); err != nil {
		t.Fatal(err)
	}
	read := func(cfg Config) error {
		cfg.Address = srv.URL
		s := newSource(t, rec, time.Second, cfg)
		_, _, err := s.Samples(context.Background(), policyFor("live", ""), podsNamed("srs-edge-0"), []string{"pullStreams"})
		return err
	}
	if err := read(Config{}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("an unknown CA must fail verification, got %v", err)
	}
	if err := read(Config{CAFile: ca}); err != nil {
		t.Errorf("with the CA file: %v", err)
	}
	if err := read(Config{InsecureSkipVerify: true}); err != nil {
		t.Errorf("with verification off: %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	token := filepath.Join(dir, "token")
	for _, f := range []string{notPEM, token} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	bad := map[string]Config{
		"an ftp address":            {Address: "ftp://prometheus:9090"},
		"an address without a host": {Address: "http://"},
		"a bare host":               {Address: "prometheus:9090"},
		"credentials in the URL":    {Address: "http://user:pw@prometheus:9090"},
		"a query in the URL":        {Address: "http://prometheus:9090/?x=1"},
		"a negative timeout":        {Address: "http://prometheus:9090", Timeout: -time.Second},
		"a rate window under 1s":    {Address: "http://prometheus:9090", RateWindow: 500 * time.Millisecond},
		"a missing CA file":         {Address: "https://prometheus:9090", CAFile: filepath.Join(dir, "nope.pem")},
		"a CA file without PEM":     {Address: "https://prometheus:9090", CAFile: notPEM},
		"both token and token file": {Address: "http://prometheus:9090", BearerToken: "x", BearerTokenFile: token},
		"a missing token file":      {Address: "http://prometheus:9090", BearerTokenFile: filepath.Join(dir, "nope")},
	}
	for name, cfg := range bad {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
	good := map[string]Config{
		"no default address (policies bring their own)": {},
		"a path prefix (Mimir, Thanos behind a proxy)":  {Address: "https://mimir.example/prometheus"},
		"a token file": {Address: "http://prometheus:9090", BearerTokenFile: token},
	}
	for name, cfg := range good {
		s, err := New(cfg)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if s.timeout != DefaultTimeout || s.window != DefaultRateWindow {
			t.Errorf("%s: defaults not applied: timeout %s, window %s", name, s.timeout, s.window)
		}
	}
}

// authServer answers body to every query and tells the Authorization header of the
// last one ("<no request>" before any).
func authServer(t *testing.T, body []byte) (*httptest.Server, func() string) {
	var mu sync.Mutex
	last := "<no request>"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		last = r.Header.Get("Authorization")
		mu.Unlock()
		serve(w, 200, body)
	}))
	t.Cleanup(srv.Close)
	return srv, func() string {
		mu.Lock()
		defer mu.Unlock()
		return last
	}
}

// certPEM is the test server's certificate as a CA bundle.
func certPEM(srv *httptest.Server) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}
