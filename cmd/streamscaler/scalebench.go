package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/streamscaler/streamscaler/internal/demo"
)

func newScaleBenchCommand() *cobra.Command {
	var cfg demo.BenchConfig
	var controllerBinary string
	cmd := &cobra.Command{
		Use:   "scale-bench",
		Short: "Measure the controller on the real API server: N policies of M pods, metric samples rewritten every period",
		Long: `scale-bench starts the real kube-apiserver, etcd and kruise-manager (make controlplane),
creates --policies CloneSets of --pods-per-policy pods with a ScalingPolicy each, runs this
binary's controller on them while every pod's stream count changes once a period, and
prints one JSON line of what the controller used per period.

--source says where the controller reads the stream counts:
  annotations  a sidecar-like writer PATCHes every pod's streamscaler.io/metric.* annotations
               once a period; the controller reads them from its pod watch.
  prometheus   an exporter on 127.0.0.1 publishes srs_clients{namespace,pod} of every pod,
               changed once a period; a real Prometheus (bin/prometheus: run
               make demo-prometheus first) scrapes it every period, and the controller
               runs with --metrics-source prometheus and queries it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bin := controllerBinary
			if bin == "" {
				var err error
				if bin, err = os.Executable(); err != nil {
					return err
				}
			} else if fi, err := os.Stat(bin); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
				return fmt.Errorf("--controller-binary %s: not an executable file (%v)", bin, err)
			}
			cfg.Binary, cfg.Progress = bin, cmd.ErrOrStderr()
			res, err := demo.ScaleBench(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			line, err := json.Marshal(res)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), string(line))
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Policies, "policies", 1000, "ScalingPolicies, each over its own CloneSet")
	f.IntVar(&cfg.PodsPerPolicy, "pods-per-policy", 100, "pods of each CloneSet")
	f.DurationVar(&cfg.Period, "period", 15*time.Second, "the policies' syncPeriod, the sidecar's rewrite interval and, with --source prometheus, the scrape interval")
	f.IntVar(&cfg.Periods, "periods", 4, "sync periods measured, after one of warm-up")
	f.IntVar(&cfg.Workers, "workers", 4, "the controller's --max-concurrent-reconciles")
	f.StringVar(&cfg.Source, "source", "annotations", "where the controller reads the samples: annotations (a writer PATCHes the pods) or prometheus (an exporter scraped by a real Prometheus; needs bin/prometheus from make demo-prometheus)")
	f.StringVar(&cfg.CPUProfile, "cpu-profile", "", "write a CPU profile of the controller over the measured periods here (go tool pprof reads it)")
	f.IntVar(&cfg.OtherPods, "other-pods", 0, "pods of no CloneSet beside the fleets, in their own namespace, each rewritten once a period: the rest of a shared cluster")
	f.Float64Var(&cfg.KubeQPS, "kube-api-qps", 0, "the controller's --kube-api-qps (0: its default, 50); the controller labels each new pod with two writes, so at 50 a second 100,000 pods take over an hour to label")
	f.IntVar(&cfg.KubeBurst, "kube-api-burst", 0, "the controller's --kube-api-burst (0: its default, 100)")
	f.IntVar(&cfg.KruiseQPS, "kruise-qps", 0, "kruise-manager's --rest-config-qps, with a burst of twice that (0: Kruise's default, 30), which bounds how fast the pods are created")
	f.StringVar(&controllerBinary, "controller-binary", "", "run this streamscaler build as the controller instead of this binary, to measure two builds on the same harness (it must take the controller flags this one passes)")
	return cmd
}
