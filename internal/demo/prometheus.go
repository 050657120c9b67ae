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

	"github.com/streamscaler/streamscaler/internal/testcluster"
)

// prometheusBinary is the Prometheus that `make demo-prometheus` builds into bin/ from the
// module proxy (hack/prometheus): Debian's package has no kubernetes_sd_configs.
const prometheusBinary = "bin/prometheus"

// promProcess is a real Prometheus that finds the fleet's pods through the local API
// server (kubernetes_sd_configs, role pod, as in a real cluster), scrapes their emulated
// exporters, and scrapes the controllers. It can be stopped and started again on the same
// data (chaos).
type promProcess struct {
	binary, dir, config string
	port                int
	cmd                 *exec.Cmd
	done                chan error
	starts              int
}

// scrapeInterval is 15s of trace, but no less than 200ms of real time.
func scrapeInterval(speed float64) time.Duration {
	return max(200*time.Millisecond, time.Duration(float64(15*time.Second)/speed).Round(time.Millisecond))
}

// rateWindow spans a minute of trace and at least four scrapes.
func rateWindow(speed float64) time.Duration {
	return max(4*scrapeInterval(speed), time.Duration(float64(time.Minute)/speed).Round(time.Millisecond))
}

// newPromProcess writes the configuration: the pods of the CloneSet (label app=<app>) in
// the namespace, on their container port named "exporter", labelled pod and namespace as
// the policy's queries expect; the controllers' metrics ports; and the dispatcher's
// refusal exporter (host:port), whose series name their namespace and pod themselves.
func newPromProcess(dir, ns, app, kubeconfig string, speed float64, controllers []int, dispatcher string) (*promProcess, error) {
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
					"role":            "pod",
					"kubeconfig_file": kubeconfig,
					"namespaces":      map[string]any{"names": []string{ns}},
					"selectors":       []map[string]string{{"role": "pod", "label": "app=" + app}},
				}},
				"relabel_configs": []map[string]any{
					{"source_labels": []string{"__meta_kubernetes_pod_container_port_name"}, "regex": "exporter", "action": "keep"},
					{"source_labels": []string{"__meta_kubernetes_pod_ip"}, "regex": "", "action": "drop"},
					{"source_labels": []string{"__meta_kubernetes_pod_name"}, "target_label": "pod"},
					{"source_labels": []string{"__meta_kubernetes_namespace"}, "target_label": "namespace"},
				},
			},
			{"job_name": "streamscaler", "static_configs": []map[string]any{{"targets": ctrl}}},
			{"job_name": "dispatcher", "honor_labels": true, "static_configs": []map[string]any{{"targets": []string{dispatcher}}}},
		},
	}
	return writePromConfig(dir, cfg)
}

// newStaticPromProcess writes the configuration of a Prometheus that scrapes targets
// (host:port) every interval, with a timeout of the same, keeping the labels the targets
// expose (honor_labels): the scale harness's exporter names each series' namespace and
// pod itself.
func newStaticPromProcess(dir string, interval time.Duration, targets []string) (*promProcess, error) {
	// In milliseconds: Prometheus reads "1500ms" but not Go's "1.5s".
	every := strconv.FormatInt(max(1, interval.Milliseconds()), 10) + "ms"
	cfg := map[string]any{
		"global": map[string]string{"scrape_interval": every, "scrape_timeout": every, "evaluation_interval": "1m"},
		"scrape_configs": []map[string]any{
			{"job_name": "srs", "honor_labels": true, "static_configs": []map[string]any{{"targets": targets}}},
		},
	}
	return writePromConfig(dir, cfg)
}

// writePromConfig picks Prometheus's port on 127.0.0.1 and writes cfg as its
// configuration (prometheus.yml in dir; JSON is YAML).
func writePromConfig(dir string, cfg map[string]any) (*promProcess, error) {
	root, err := testcluster.RepoRoot()
	if err != nil {
		return nil, err
	}
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	p := &promProcess{binary: filepath.Join(root, prometheusBinary), dir: dir, config: filepath.Join(dir, "prometheus.yml"), port: ports[0]}
	b, err := json.MarshalIndent(cfg, "", "  ") // JSON is YAML
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(p.config, b, 0o600); err != nil {
		return nil, fmt.Errorf("writing Prometheus's configuration: %w", err)
	}
	return p, nil
}

// checkPrometheusBinary reports a Prometheus binary that is not there.
func checkPrometheusBinary(path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("the prometheus source needs %s (make demo-prometheus): %w", path, err)
	}
	return nil
}

func (p *promProcess) url() string { return "http://127.0.0.1:" + strconv.Itoa(p.port) }

// start runs Prometheus and waits until it is ready.
func (p *promProcess) start(ctx context.Context) error {
	if err := checkPrometheusBinary(p.binary); err != nil {
		return err
	}
	p.starts++
	log, err := os.Create(filepath.Join(p.dir, fmt.Sprintf("prometheus-%d.log", p.starts)))
	if err != nil {
		return err
	}
	p.cmd = exec.Command(p.binary, "--config.file="+p.config, "--storage.tsdb.path="+filepath.Join(p.dir, "prometheus-data"),
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
