package demo

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsServer serves one registry's /metrics on a free port of 127.0.0.1.
type metricsServer struct {
	addr   string // host:port
	srv    *http.Server
	served chan error
}

// serveMetrics starts serving reg; what names the server in errors.
func serveMetrics(what string, reg *prometheus.Registry) (*metricsServer, error) {
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(ports[0])
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s listening on %s: %w", what, addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	m := &metricsServer{addr: addr, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, served: make(chan error, 1)}
	go func() { m.served <- m.srv.Serve(ln) }()
	return m, nil
}

// close stops the server.
func (m *metricsServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = m.srv.Shutdown(ctx)
	<-m.served
}

// refusedMetric is the demo dispatcher's count of the new streams its pods refused, by
// pod: what a platform's load balancer or stream dispatcher would count, since SRS's
// exporter has no such counter. The prometheus source reads its rate as refusedStreams.
const refusedMetric = "streamscaler_demo_refused_streams_total"

// refusalExporter publishes the dispatcher's refusals for Prometheus to scrape.
type refusalExporter struct {
	*metricsServer
	ns      string
	counter *prometheus.CounterVec
	// last is each pod's count already added to the counter.
	last map[string]float64
}

func newRefusalExporter(ns string) (*refusalExporter, error) {
	reg := prometheus.NewRegistry()
	counter := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: refusedMetric,
		Help: "New streams the demo's dispatcher could not place, shared among the eligible pods that were full (or counted to the pod whose server refused).",
	}, []string{"namespace", "pod"})
	reg.MustRegister(counter)
	ms, err := serveMetrics("the dispatcher's refusal exporter", reg)
	if err != nil {
		return nil, err
	}
	return &refusalExporter{metricsServer: ms, ns: ns, counter: counter, last: map[string]float64{}}, nil
}

// update brings the counter to the dispatcher's running counts (players.Dispatcher's
// Refused). A pod's series starts at 0 when it first takes streams, so that rate()
// reads 0, not nothing, while it refuses none. Called from one goroutine.
func (e *refusalExporter) update(refused map[string]float64) {
	for pod, v := range refused {
		c := e.counter.WithLabelValues(e.ns, pod)
		if d := v - e.last[pod]; d > 0 {
			c.Add(d)
		}
		e.last[pod] = v
	}
}
