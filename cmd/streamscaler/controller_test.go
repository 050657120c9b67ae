package main

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/streamscaler/streamscaler/adapters/samples"
	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/autoscaler/controller"
)

func defaultControllerFlags() controllerFlags {
	return controllerFlags{
		metricsSource: "annotations", promTimeout: 10 * time.Second, promWindow: time.Minute,
		srsTimeout: 2 * time.Second, srsConcurrency: 16, hookPort: 8090, hookPath: "/streamscaler/evict", hookTimeout: 10 * time.Second,
		kubeQPS: 50, kubeBurst: 100, workers: 4, evictionSlots: 16, statusFigures: time.Minute,
	}
}

func TestControllerWiringBuildsEverySourceAndEvictor(t *testing.T) {
	fl := defaultControllerFlags()
	sources, histories, err := metricsSources(fl, &rest.Config{Host: "https://127.0.0.1:1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if histories[v1alpha1.SourcePrometheus] == nil {
		t.Error("the Prometheus source should also rebuild history")
	}
	if _, ok := sources[v1alpha1.SourcePrometheus].(controller.MeasuredSource); !ok {
		t.Error("the Prometheus source lags the pods: it must date its readings (controller.MeasuredSource)")
	}
	for _, typ := range []v1alpha1.MetricsSourceType{v1alpha1.SourceAnnotations, v1alpha1.SourcePrometheus, v1alpha1.SourceSRS, v1alpha1.SourceMetricsAPI} {
		if sources[typ] == nil {
			t.Errorf("no %s source", typ)
		}
	}
	evictors, err := buildEvictors(fl)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []v1alpha1.EvictionAction{v1alpha1.EvictNone, v1alpha1.EvictSRSKick, v1alpha1.EvictHTTPHook} {
		if evictors[a] == nil {
			t.Errorf("no evictor for %s", a)
		}
	}
}

// TestSampleCeilingReachesEverySource: --sample-ceiling replaces the named metrics'
// ceilings in every source, and the others keep their defaults.
func TestSampleCeilingReachesEverySource(t *testing.T) {
	fl := defaultControllerFlags()
	fl.sampleCeiling = "pullStreams=2e5"
	sources, _, err := metricsSources(fl, &rest.Config{Host: "https://127.0.0.1:1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for typ, src := range sources {
		c, ok := ceilingsIn(reflect.ValueOf(src))
		if !ok {
			t.Errorf("%s source holds no ceilings", typ)
			continue
		}
		if got := c.MapIndex(reflect.ValueOf(v1alpha1.MetricPullStreams)); !got.IsValid() || got.Float() != 2e5 {
			t.Errorf("%s source: pullStreams ceiling %v, want 2e5", typ, got)
		}
		if got := c.MapIndex(reflect.ValueOf(v1alpha1.MetricBandwidth)); !got.IsValid() || got.Float() != 1e12 {
			t.Errorf("%s source: bandwidth ceiling %v, want the default 1e12", typ, got)
		}
	}
}

// ceilingsIn finds the samples.Ceilings a source holds, in its fields or in those of a
// struct it embeds by value (srs.Source keeps its Config).
func ceilingsIn(v reflect.Value) (reflect.Value, bool) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	want := reflect.TypeOf(samples.Ceilings(nil))
	for i := range v.NumField() {
		f := v.Field(i)
		switch {
		case f.Type() == want && !f.IsNil():
			return f, true
		case f.Kind() == reflect.Struct:
			for j := range f.NumField() {
				if g := f.Field(j); g.Type() == want && !g.IsNil() {
					return g, true
				}
			}
		}
	}
	return v, false
}

func TestControllerFlagErrors(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*controllerFlags)
		msg    string
	}{
		{"unknown source", func(f *controllerFlags) { f.metricsSource = "graphite" }, `--metrics-source "graphite"`},
		{"prometheus without an address", func(f *controllerFlags) { f.metricsSource = "prometheus" }, "needs --prometheus-address"},
		{"prometheus address without a scheme", func(f *controllerFlags) { f.promAddress = "prometheus:9090" }, "--prometheus-*"},
		{"missing CA file", func(f *controllerFlags) { f.promAddress = "https://p:9090"; f.promCAFile = "/nonexistent/ca.pem" }, "--prometheus-*"},
		{"negative SRS concurrency", func(f *controllerFlags) { f.srsConcurrency = -1 }, "--srs-"},
		{"hook port out of range", func(f *controllerFlags) { f.hookPort = 0 }, "--eviction-hook-port"},
		{"a sample ceiling for an unknown metric", func(f *controllerFlags) { f.sampleCeiling = "bandwidth=1e12,viewers=5" },
			`--sample-ceiling: ceiling "viewers=5": unknown metric "viewers"`},
		{"a sample ceiling that is not a number", func(f *controllerFlags) { f.sampleCeiling = "pullStreams=2e5,cpu=lots" },
			`--sample-ceiling: ceiling "cpu=lots": "lots" is not a positive finite number`},
		{"a sample ceiling for a custom metric", func(f *controllerFlags) { f.sampleCeiling = "custom/viewers=5" },
			`--sample-ceiling: ceiling "custom/viewers=5": a custom metric's unit is unknown`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fl := defaultControllerFlags()
			c.mutate(&fl)
			_, err := defaultSource(fl)
			if err == nil {
				_, _, err = metricsSources(fl, &rest.Config{Host: "https://127.0.0.1:1"}, nil)
			}
			if err == nil {
				_, err = buildEvictors(fl)
			}
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("error %v, want one naming %q", err, c.msg)
			}
		})
	}
}

func TestClientLimits(t *testing.T) {
	fl := defaultControllerFlags()
	cfg := &rest.Config{}
	if err := clientLimits(fl, cfg); err != nil || cfg.QPS != 50 || cfg.Burst != 100 {
		t.Fatalf("defaults: err %v, QPS %v, burst %d; want 50 and 100", err, cfg.QPS, cfg.Burst)
	}
	for _, c := range []struct {
		set  func(*controllerFlags)
		want string
	}{
		{func(f *controllerFlags) { f.kubeQPS = 0 }, "--kube-api-qps 0"},
		{func(f *controllerFlags) { f.kubeQPS = math.NaN() }, "--kube-api-qps NaN"},
		{func(f *controllerFlags) { f.kubeBurst = 0 }, "--kube-api-burst 0"},
		{func(f *controllerFlags) { f.workers = 0 }, "--max-concurrent-reconciles 0"},
		{func(f *controllerFlags) { f.evictionSlots = 0 }, "--max-concurrent-evictions 0"},
		{func(f *controllerFlags) { f.statusFigures = -time.Second }, "--status-figures-interval -1s"},
		{func(f *controllerFlags) { f.statusFigures = 2 * time.Hour }, "--status-figures-interval 2h0m0s"},
	} {
		f := defaultControllerFlags()
		c.set(&f)
		if err := clientLimits(f, &rest.Config{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err %v, want it to name %q", err, c.want)
		}
	}
}
