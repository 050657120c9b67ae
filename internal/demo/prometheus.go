package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"
)

// PrometheusServer is Debian's Prometheus, which `make prometheus` installs.
const PrometheusServer = "/usr/bin/prometheus"

// promProcess is a real Prometheus that scrapes the fleet's emulated exporters, found
// through the local API server (as file_sd targets the demo writes from its pod list:
// Debian's build has no kubernetes_sd_configs), and the controllers. It can be stopped and started again on the same data (chaos).
type promProcess struct {
	dir, config, targets string
	written              string // the targets last written
	port                 int
	cmd                  *exec.Cmd
	done                 chan error
	starts               int
}

// scrapeInterval is 15s of trace, but no less than 200ms of real time.
func scrapeInterval(speed float64) time.Duration {
	return max(200*time.Millisecond, time.Duration(float64(15*time.Second)/speed).Round(time.Millisecond))
}

// rateWindow spans a minute of trace and at least four scrapes.
func rateWindow(speed float64) time.Duration {
	return max(4*scrapeInterval(speed), time.Duration(float64(time.Minute)/speed).Round(time.Millisecond))
}

func newPromProcess(dir, ns string, speed float64, controllers []int) (*promProcess, error) {
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	p := &promProcess{dir: dir, config: filepath.Join(dir, "prometheus.yml"), targets: filepath.Join(dir, "targets.json"), port: ports[0]}
	if err := p.writeTargets(nil, ns); err != nil {
		return nil, err
	}
	interval := scrapeInterval(speed).String()
	var ctrl []string
	for _, port := range controllers {
		ctrl = append(ctrl, "127.0.0.1:"+strconv.Itoa(port))
	}
	cfg := map[string]any{
		"global": map[string]string{"scrape_interval": interval, "scrape_timeout": interval, "evaluation_interval": "1m"},
		"scrape_configs": []map[string]any{
			{
				// Debian's Prometheus is built without kubernetes_sd_configs, so the demo
				// writes the pods it lists from the API server as file_sd targets.
				"job_name":        "srs",
				"file_sd_configs": []map[string]any{{"files": []string{p.targets}, "refresh_interval": "1s"}},
			},
			{"job_name": "streamscaler", "static_configs": []map[string]any{{"targets": ctrl}}},
		},
	}
	b, err := json.MarshalIndent(cfg, "", "  ") // JSON is YAML
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(p.config, b, 0o600); err != nil {
		return nil, fmt.Errorf("writing Prometheus's configuration: %w", err)
	}
	return p, nil
}

func (p *promProcess) url() string { return "http://127.0.0.1:" + strconv.Itoa(p.port) }

// start runs Prometheus and waits until it is ready.
func (p *promProcess) start(ctx context.Context) error {
	if _, err := os.Stat(PrometheusServer); err != nil {
		return fmt.Errorf("the prometheus source needs %s (make prometheus): %w", PrometheusServer, err)
	}
	p.starts++
	log, err := os.Create(filepath.Join(p.dir, fmt.Sprintf("prometheus-%d.log", p.starts)))
	if err != nil {
		return err
	}
	p.cmd = exec.Command(PrometheusServer, "--config.file="+p.config, "--storage.tsdb.path="+filepath.Join(p.dir, "prometheus-data"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(p.port), "--log.level=warn", "--storage.tsdb.retention.time=1d")
	p.cmd.Stdout, p.cmd.Stderr = log, log
	if err := p.cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("starting prometheus: %w", err)
	}
	p.done = make(chan error, 1)
	go func() { p.done <- p.cmd.Wait(); log.Close() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-p.done:
			p.done <- err
			return fmt.Errorf("prometheus exited before it was ready: %v (log in %s)", err, p.dir)
		default:
		}
		if ready(ctx, p.url()+"/-/ready") {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("prometheus not ready after 30s (log in %s)", p.dir)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *promProcess) stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	p.cmd = nil
}

func ready(ctx context.Context, url string) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// writeTargets lists the pods' exporters (pod name to IP) for file_sd, when they changed;
// the file is replaced whole so Prometheus never reads half of it.
func (p *promProcess) writeTargets(pods map[string]string, ns string) error {
	type group struct {
		Targets []string          `json:"targets"`
		Labels  map[string]string `json:"labels"`
	}
	groups := []group{}
	names := make([]string, 0, len(pods))
	for name := range pods {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		groups = append(groups, group{Targets: []string{net.JoinHostPort(pods[name], "9972")}, Labels: map[string]string{"pod": name, "namespace": ns}})
	}
	b, err := json.Marshal(groups)
	if err != nil {
		return err
	}
	if string(b) == p.written {
		return nil
	}
	tmp := p.targets + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("writing Prometheus's targets: %w", err)
	}
	if err := os.Rename(tmp, p.targets); err != nil {
		return fmt.Errorf("writing Prometheus's targets: %w", err)
	}
	p.written = string(b)
	return nil
}
