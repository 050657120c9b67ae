// Package testprom starts the real Prometheus server (Debian's package, installed by
// make prometheus) for tests: on a loopback port, scraping given targets every second.
package testprom

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Server is where Debian's package puts the server.
const Server = "/usr/bin/prometheus"

// Target is one static scrape target.
type Target struct {
	// Job names the scrape job.
	Job string
	// Addr is host:port of the /metrics endpoint.
	Addr string
	// Labels are target labels; none means the series keep their own (honor_labels).
	Labels map[string]string
}

// Require skips the test when the server is not installed, or fails it when CI=true.
func Require(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(Server); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing: run make prometheus", Server)
		}
		t.Skipf("%s is missing: run make prometheus", Server)
	}
}

// Start runs the Prometheus server on a free loopback port, scraping every target each
// second, until the test ends; it returns the server's URL once it is ready. The test
// must have checked Available first.
func Start(t *testing.T, targets []Target) string {
	t.Helper()
	dir := t.TempDir()
	configFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(configFile, config(targets), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	logFile, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(Server,
		"--config.file="+configFile,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--log.level=warn",
		"--storage.tsdb.retention.time=1h",
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its own group, stopped whole
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{}) // closed once the server has exited, with waitErr
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		_ = logFile.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logFile.Name()); err == nil {
				t.Logf("prometheus log:\n%s", b)
			}
		}
	})

	promURL := "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			b, _ := os.ReadFile(logFile.Name())
			t.Fatalf("prometheus exited before it was ready: %v\n%s", waitErr, b)
		default:
		}
		resp, err := http.Get(promURL + "/-/ready")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return promURL
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready after 30s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// config scrapes every target each second. It is written as JSON, which is YAML.
func config(targets []Target) []byte {
	type staticConfig struct {
		Targets []string          `json:"targets"`
		Labels  map[string]string `json:"labels,omitempty"`
	}
	type scrapeConfig struct {
		JobName       string         `json:"job_name"`
		HonorLabels   bool           `json:"honor_labels"`
		StaticConfigs []staticConfig `json:"static_configs"`
	}
	byJob := map[string]*scrapeConfig{}
	var jobs []*scrapeConfig
	for _, tg := range targets {
		sc, ok := byJob[tg.Job]
		if !ok {
			sc = &scrapeConfig{JobName: tg.Job, HonorLabels: tg.Labels == nil}
			byJob[tg.Job] = sc
			jobs = append(jobs, sc)
		}
		sc.StaticConfigs = append(sc.StaticConfigs, staticConfig{Targets: []string{tg.Addr}, Labels: tg.Labels})
	}
	b, err := json.MarshalIndent(map[string]any{
		"global":         map[string]string{"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1m"},
		"scrape_configs": jobs,
	}, "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}

// freePort returns a loopback address no one listens on right now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
