package demo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// controllerProcess is the real `streamscaler controller` binary, run as a subprocess
// against the demo cluster; it can be killed and restarted (chaos).
type controllerProcess struct {
	binary, kubeconfig, source, dir string
	metricsPort, probePort          int
	// leaseNamespace, when set, runs the controller with leader election there.
	leaseNamespace string
	name           string
	extra          []string // more flags (the Prometheus source's)

	cmd       *exec.Cmd
	done      chan error
	starts    int
	cpu       time.Duration // user+system of the runs that ended
	peakRSS   int64         // bytes, the most of any run
	requests  float64       // client requests and passes of runs that ended
	passes    float64
	decisions map[string]float64 // decisions by reason, of runs that ended
}

func newControllerProcess(name, binary, kubeconfig, source, dir, leaseNamespace string) (*controllerProcess, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	return &controllerProcess{name: name, binary: binary, kubeconfig: kubeconfig, source: source, dir: dir, metricsPort: ports[0], probePort: ports[1], leaseNamespace: leaseNamespace}, nil
}

// start runs the controller; its log goes to controller-N.log in the work folder.
func (c *controllerProcess) start() error {
	c.starts++
	log, err := os.Create(filepath.Join(c.dir, fmt.Sprintf("%s-%d.log", c.name, c.starts)))
	if err != nil {
		return fmt.Errorf("creating the controller's log: %w", err)
	}
	elect := []string{"--leader-elect=false"}
	if c.leaseNamespace != "" {
		elect = []string{"--leader-elect=true", "--leader-election-namespace", c.leaseNamespace}
	}
	args := append([]string{"controller", "--kubeconfig", c.kubeconfig}, elect...)
	args = append(args, "--metrics-source", c.source, "--external-metrics-port", "0",
		"--metrics-bind-address", "127.0.0.1:"+strconv.Itoa(c.metricsPort),
		"--health-probe-bind-address", "127.0.0.1:"+strconv.Itoa(c.probePort),
		"--srs-timeout", "1s", "--log-development", "--v", "1")
	c.cmd = exec.Command(c.binary, append(args, c.extra...)...)
	c.cmd.Stdout, c.cmd.Stderr = log, log
	if err := c.cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("starting %s controller: %w", c.binary, err)
	}
	c.done = make(chan error, 1)
	go func() { c.done <- c.cmd.Wait(); log.Close() }()
	return nil
}

// alive reports a controller that exited on its own.
func (c *controllerProcess) alive() error {
	if c.cmd == nil {
		return fmt.Errorf("%s is not running", c.name)
	}
	select {
	case err := <-c.done:
		c.done <- err
		return fmt.Errorf("the controller exited: %v (log in %s)", err, c.dir)
	default:
		return nil
	}
}

// stop ends the running controller with sig (SIGTERM to stop, SIGKILL for chaos) and
// adds its CPU time, peak memory and API request figures to the totals.
func (c *controllerProcess) stop(sig syscall.Signal) {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	if sig != syscall.SIGKILL {
		c.scrape()
	}
	_ = c.cmd.Process.Signal(sig)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
	if st := c.cmd.ProcessState; st != nil {
		c.cpu += st.UserTime() + st.SystemTime()
		if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
			c.peakRSS = max(c.peakRSS, ru.Maxrss*1024)
		}
	}
	c.cmd = nil
}

// scrape reads the controller's own metrics: API requests its client made and the
// policy passes it ran.
func (c *controllerProcess) scrape() {
	families := c.metrics()
	sum := func(name, label, value string) float64 {
		total := 0.0
		f := families[name]
		if f == nil {
			return 0
		}
		for _, m := range f.GetMetric() {
			match := label == ""
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					match = true
				}
			}
			if match && m.GetCounter() != nil {
				total += m.GetCounter().GetValue()
			}
			if match && m.GetGauge() != nil {
				total += m.GetGauge().GetValue()
			}
		}
		return total
	}
	c.requests += sum("rest_client_requests_total", "", "")
	c.passes += sum("controller_runtime_reconcile_total", "controller", "scalingpolicy")
	for _, m := range families["streamscaler_decision_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "reason" {
				if c.decisions == nil {
					c.decisions = map[string]float64{}
				}
				c.decisions[l.GetValue()] += m.GetCounter().GetValue()
			}
		}
	}
}

// leading reports whether this replica holds the leader lease (always, without election).
func (c *controllerProcess) leading() bool {
	if c.cmd == nil {
		return false
	}
	if c.leaseNamespace == "" {
		return true
	}
	f := c.metrics()["leader_election_master_status"]
	for _, m := range f.GetMetric() {
		if m.GetGauge().GetValue() == 1 {
			return true
		}
	}
	return false
}

// metrics reads the controller's own metrics; nil when it does not answer.
func (c *controllerProcess) metrics() map[string]*dto.MetricFamily {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+strconv.Itoa(c.metricsPort)+"/metrics", nil)
	if err != nil {
		return nil
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil
	}
	return families
}

func freePorts(n int) ([]int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, errors.Join(fmt.Errorf("finding a free port: %w", err))
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// controllerRequests counts the requests of the controller (user agent streamscaler/...)
// in the API server's audit log, by verb.
func controllerRequests(auditLog string) (map[string]int, int, error) {
	f, err := os.Open(auditLog)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	byVerb, total := map[string]int{}, 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	for sc.Scan() {
		var ev struct {
			Stage, Verb, UserAgent string
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Stage != "ResponseComplete" || !strings.HasPrefix(ev.UserAgent, "streamscaler/") {
			continue
		}
		byVerb[ev.Verb]++
		total++
	}
	return byVerb, total, sc.Err()
}

// serverRequests sums the API server's apiserver_request_total over every label: the
// requests of all its clients (kruise-manager, the scheduler, kwok, the demo and the
// controller), since the metric has no label naming the client.
func serverRequests(ctx context.Context, cfg *rest.Config) (float64, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	body, err := cs.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading the API server's metrics: %w", err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("parsing the API server's metrics: %w", err)
	}
	total := 0.0
	if f := families["apiserver_request_total"]; f != nil {
		for _, m := range f.GetMetric() {
			total += m.GetCounter().GetValue()
		}
	}
	return total, nil
}
