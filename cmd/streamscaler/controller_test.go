package main

import (
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/streamscaler/streamscaler/api/v1alpha1"
)

func defaultControllerFlags() controllerFlags {
	return controllerFlags{
		metricsSource: "annotations", promTimeout: 10 * time.Second, promWindow: time.Minute,
		srsTimeout: 2 * time.Second, srsConcurrency: 16, hookPort: 8090, hookPath: "/streamscaler/evict", hookTimeout: 10 * time.Second,
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
