package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// PrometheusServer is Debian's Prometheus, which `make prometheus` installs.
const PrometheusServer = "/usr/bin/prometheus"

// promProcess is a real Prometheus that finds the fleet's pods through the local API
// server (kubernetes_sd_configs, as in a cluster) and scrapes their emulated exporters
// and the controllers. It can be stopped and started again on the same data (chaos).
type promProcess struct {
	dir, config string
	port        int
	cmd         *exec.Cmd
	done        chan error
	starts      int
}

// scrapeInterval is 15s of trace, but no less than 200ms of real time.
func scrapeInterval(speed float64) time.Duration {
	return max(200*time.Millisecond, time.Duration(float64(15*time.Second)/speed).Round(time.Millisecond))
}

// rateWindow spans a minute of trace and at least four scrapes.
func rateWindow(speed float64) time.Duration {
	return max(4*scrapeInterval(speed), time.Duration(float64(time.Minute)/speed).Round(time.Millisecond))
}

func newPromProcess(dir, kubeconfig, ns, app string, speed float64, controllers []int) (*promProcess, error) {
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	p := &promProcess{dir: dir, config: filepath.Join(dir, "prometheus.yml"), port: ports[0]}
	interval := scrapeInterval(speed).String()
	var ctrl []string
	for _, port := range controllers {
		ctrl = append(ctrl, "127.0.0.1:"+strconv.Itoa(port))
	}
	cfg := map[string]any{
		"global": map[string]string{"scrape_interval": interval, "scrape_timeout": interval, "evaluation_interval": "1m"},
		"scrape_configs": []map[string]any{
			{
				"job_name": "srs",
				"kubernetes_sd_configs": []map[string]any{{
					"role": "pod", "kubeconfig_file": kubeconfig, "namespaces": map[string][]string{"names": {ns}},
				}},
				"relabel_configs": []map[string]any{
					{"source_labels": []string{"__meta_kubernetes_pod_label_app"}, "regex": app, "action": "keep"},
					{"source_labels": []string{"__meta_kubernetes_pod_container_port_number"}, "regex": "9972", "action": "keep"},
					// Only loopback pod IPs: the demo never sends a packet anywhere else.
					{"source_labels": []string{"__meta_kubernetes_pod_ip"}, "regex": `127\..+`, "action": "keep"},
					{"source_labels": []string{"__meta_kubernetes_pod_name"}, "target_label": "pod"},
					{"source_labels": []string{"__meta_kubernetes_namespace"}, "target_label": "namespace"},
				},
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
