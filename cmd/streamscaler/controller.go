package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/open-policy-agent/cert-controller/pkg/rotator"
	kruisev1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	"github.com/spf13/cobra"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/streamscaler/streamscaler/adapters/annotations"
	"github.com/streamscaler/streamscaler/adapters/externalmetrics"
	"github.com/streamscaler/streamscaler/adapters/httphook"
	"github.com/streamscaler/streamscaler/adapters/kruise"
	"github.com/streamscaler/streamscaler/adapters/metricsapi"
	"github.com/streamscaler/streamscaler/adapters/prometheus"
	"github.com/streamscaler/streamscaler/adapters/samples"
	"github.com/streamscaler/streamscaler/adapters/srs"
	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/autoscaler/controller"
)

type controllerFlags struct {
	extPort                                                            int
	extCertDir, extHost                                                string
	webhookPort                                                        int
	webhookHost, webhookCertDir, webhookCertSecret, webhookConfig      string
	webhookDNSName                                                     string
	promAddress, promTokenFile, promCAFile                             string
	promInsecure                                                       bool
	promTimeout, promWindow                                            time.Duration
	srsTimeout, hookTimeout                                            time.Duration
	srsConcurrency, hookPort                                           int
	hookPath                                                           string
	kubeconfig, metricsAddr, probeAddr, leaderNamespace, metricsSource string
	pprofAddr                                                          string
	sampleCeiling                                                      string
	leaderElect                                                        bool
	kubeQPS                                                            float64
	kubeBurst, workers, evictionSlots                                  int
	shardIndex, shardCount                                             int
	statusFigures                                                      time.Duration
	zapDevel                                                           bool
	verbosity                                                          int
}

func newControllerCommand() *cobra.Command {
	var fl controllerFlags
	cmd := &cobra.Command{
		Use:   "controller",
		Short: "Reconcile ScalingPolicies against OpenKruise CloneSets",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runController(fl) },
	}
	f := cmd.Flags()
	f.StringVar(&fl.kubeconfig, "kubeconfig", "", "kubeconfig file (default: in-cluster config, then $KUBECONFIG, then ~/.kube/config)")
	f.StringVar(&fl.metricsAddr, "metrics-bind-address", ":8080", "address of the Prometheus metrics endpoint (0 disables it)")
	f.StringVar(&fl.probeAddr, "health-probe-bind-address", ":8081", "address of /healthz and /readyz")
	f.StringVar(&fl.pprofAddr, "pprof-bind-address", "", "address of Go's /debug/pprof profiles, for sizing and debugging (default: off)")
	f.BoolVar(&fl.leaderElect, "leader-elect", true, "elect a leader so that only one replica acts")
	f.StringVar(&fl.leaderNamespace, "leader-election-namespace", "", "namespace of the leader election lease (default: the pod's namespace in a cluster, else the kubeconfig context's, else default)")
	f.StringVar(&fl.metricsSource, "metrics-source", "annotations", "default source of per-pod samples (a policy's spec.metricsSource.type overrides): annotations, prometheus, srs, metrics-api")
	f.StringVar(&fl.sampleCeiling, "sample-ceiling", "", "per-pod ceilings above which a sample is implausible and left out as missing, as metric=value pairs over the defaults ("+samples.DefaultCeilings().String()+"), such as pullStreams=2e5,bandwidth=4e11")
	f.StringVar(&fl.promAddress, "prometheus-address", "", "Prometheus-compatible query API (Prometheus, Thanos, Mimir, VictoriaMetrics), such as http://prometheus.monitoring:9090; a policy's metricsSource.prometheus.address overrides it")
	f.StringVar(&fl.promTokenFile, "prometheus-bearer-token-file", "", "bearer token for the query API, read at every request")
	f.StringVar(&fl.promCAFile, "prometheus-ca-file", "", "PEM CA bundle for an https query API, re-read when it changes")
	f.BoolVar(&fl.promInsecure, "prometheus-insecure-skip-verify", false, "do not verify the query API's certificate")
	f.DurationVar(&fl.promTimeout, "prometheus-timeout", 10*time.Second, "time allowed per query")
	f.DurationVar(&fl.promWindow, "prometheus-rate-window", time.Minute, "range of rate() in the built-in queries; at least 4 scrape intervals")
	f.DurationVar(&fl.srsTimeout, "srs-timeout", 2*time.Second, "SRS HTTP API: time allowed per pod")
	f.IntVar(&fl.srsConcurrency, "srs-concurrency", 16, "SRS HTTP API: pods read at once")
	f.IntVar(&fl.hookPort, "eviction-hook-port", 8090, "httpHook evictor: port of the hook in the pod")
	f.StringVar(&fl.hookPath, "eviction-hook-path", "/streamscaler/evict", "httpHook evictor: path of the hook")
	f.DurationVar(&fl.hookTimeout, "eviction-hook-timeout", 10*time.Second, "httpHook evictor: time allowed for one call")
	f.IntVar(&fl.extPort, "external-metrics-port", 6443, "port of the external metrics API (external.metrics.k8s.io), served by the leader; 0 turns it off")
	f.StringVar(&fl.extHost, "external-metrics-host", "", "IP address the external metrics API listens on (default: all)")
	f.StringVar(&fl.extCertDir, "external-metrics-cert-dir", "", "directory with tls.crt and tls.key for the external metrics API (generated there, or in memory when empty)")
	f.IntVar(&fl.webhookPort, "webhook-port", 0, "port of the removal guard, the admission webhook that makes pod deletions and evictions from outside the CloneSet drain first; 0 (the default) turns it off")
	f.StringVar(&fl.webhookHost, "webhook-host", "", "address the removal guard listens on (default: all)")
	f.StringVar(&fl.webhookCertDir, "webhook-cert-dir", "", "directory with the removal guard's tls.crt and tls.key (required with --webhook-port; written there with --webhook-cert-secret)")
	f.StringVar(&fl.webhookCertSecret, "webhook-cert-secret", "", "namespace/name of a Secret in which the controller keeps a self-signed CA and serving certificate for the removal guard, rotated before expiry, and whose CA it writes into the webhook configuration's caBundle (default: use the files in --webhook-cert-dir as they are)")
	f.StringVar(&fl.webhookConfig, "webhook-configuration", "streamscaler-pod-removals", "ValidatingWebhookConfiguration that --webhook-cert-secret writes the CA into")
	f.StringVar(&fl.webhookDNSName, "webhook-dns-name", "streamscaler-webhook.streamscaler-system.svc", "name in the serving certificate --webhook-cert-secret makes: the webhook Service's DNS name")
	f.Float64Var(&fl.kubeQPS, "kube-api-qps", 50, "requests per second to the Kubernetes API, in and out of the cluster")
	f.IntVar(&fl.kubeBurst, "kube-api-burst", 100, "requests allowed above --kube-api-qps in a burst")
	f.IntVar(&fl.workers, "max-concurrent-reconciles", 4, "policies reconciled at once; one slow policy holds only its own worker")
	f.DurationVar(&fl.statusFigures, "status-figures-interval", time.Minute, "how often a policy's status is written when only the figures of currentMetrics changed (totals, averages, forecasts); pod counts, desired replicas and conditions are written when they change; 0 writes the figures at every pass")
	f.IntVar(&fl.evictionSlots, "max-concurrent-evictions", controller.DefaultEvictionSlots, "drain-timeout evictions run at once, in the background, off the reconcile workers; more wait their turn with their pods in tombstone")
	f.IntVar(&fl.shardCount, "shard-count", 1, "shards the policies are split into by the CloneSet they name (FNV-1a of namespace/name), one controller Deployment each, for more policies than one process serves; each shard elects its own leader")
	f.IntVar(&fl.shardIndex, "shard-index", 0, "the shard this controller acts on, 0 to --shard-count - 1")
	f.BoolVar(&fl.zapDevel, "log-development", false, "human-readable logs instead of JSON")
	f.IntVarP(&fl.verbosity, "v", "v", 0, "log verbosity (0-4)")
	return cmd
}

func runController(fl controllerFlags) error {
	ctx := ctrl.SetupSignalHandler() // done on SIGTERM or SIGINT
	ctrl.SetLogger(withStopSink(zap.New(zap.UseDevMode(fl.zapDevel), zap.Level(zapLevel(fl.verbosity))), ctx))
	if fl.verbosity < 0 || fl.verbosity > 10 {
		return fmt.Errorf("--v %d: want 0 to 10", fl.verbosity)
	}
	def, err := defaultSource(fl)
	if err != nil {
		return err
	}
	cfg, err := restConfig(fl.kubeconfig)
	if err != nil {
		return err
	}
	if err := clientLimits(fl, cfg); err != nil {
		return err
	}
	reader, err := client.New(cfg, client.Options{Scheme: clientgoscheme.Scheme})
	if err != nil {
		return fmt.Errorf("creating a client: %w", err)
	}
	sources, histories, err := metricsSources(fl, cfg, reader)
	if err != nil {
		return err
	}
	evictors, err := buildEvictors(fl)
	if err != nil {
		return err
	}

	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, kruisev1alpha1.AddToScheme, v1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			return fmt.Errorf("building the scheme: %w", err)
		}
	}
	shard := controller.Shard{Index: fl.shardIndex, Count: fl.shardCount}
	if err := shard.Validate(); err != nil {
		return fmt.Errorf("--shard-index/--shard-count: %w", err)
	}
	leaseNS := fl.leaderNamespace
	if fl.leaderElect {
		if leaseNS, err = leaseNamespace(fl.leaderNamespace, fl.kubeconfig); err != nil {
			return err
		}
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsserver.Options{BindAddress: fl.metricsAddr},
		HealthProbeBindAddress:  fl.probeAddr,
		Cache:                   controller.CacheOptions(),
		PprofBindAddress:        fl.pprofAddr,
		LeaderElection:          fl.leaderElect,
		LeaderElectionID:        shard.LeaseName("streamscaler.streamscaler.io"),
		LeaderElectionNamespace: leaseNS,
		// A clean stop hands the lease over at once: the process exits when Start
		// returns, so nothing acts after the release. Without it, a standby waited
		// about 18 s after a SIGTERM.
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	r := &controller.Reconciler{
		// Reads from the informer cache: steady state costs no API reads. A pass that
		// would read its own write stale waits for the cache, then reads Fresh.
		Client: mgr.GetClient(), Reader: mgr.GetClient(), Fresh: mgr.GetAPIReader(),
		// Event schedules: a GET a minute per policy that names one, rather than a
		// cache of every ConfigMap in the cluster.
		ConfigMaps:    mgr.GetAPIReader(),
		Target:        &kruise.CloneSets{Reader: mgr.GetClient(), Writer: mgr.GetClient()},
		Sources:       sources,
		Histories:     histories,
		DefaultSource: def,
		Evictors:      evictors,
		Clock:         clock.RealClock{},
		Recorder:      mgr.GetEventRecorder("streamscaler"),
		Workers:       fl.workers,
		EvictionSlots: fl.evictionSlots,
		Shard:         shard,

		StatusFiguresEvery: fl.statusFigures,
	}
	if fl.extPort < 0 || fl.extPort > 65535 {
		return fmt.Errorf("--external-metrics-port %d: want 0 to 65535", fl.extPort)
	}
	if fl.extPort > 0 {
		store := externalmetrics.NewStore()
		srv, err := externalmetrics.NewServer(store, externalmetrics.ServerOptions{BindAddress: fl.extHost, Port: fl.extPort, CertDir: fl.extCertDir, Kubeconfig: fl.kubeconfig})
		if err != nil {
			return fmt.Errorf("--external-metrics-*: %w", err)
		}
		r.Publisher = store
		// Only the leader decides, so only the leader serves; every replica is Ready
		// all the same (the removal guard is served by all of them, and a Deployment
		// whose standby is never Ready cannot roll). The leader labels its pod, and the
		// API's Service selects that label (leaderLabel).
		if err := mgr.Add(manager.RunnableFunc(srv.Run)); err != nil {
			return err
		}
	}
	if l, ok := newLeaderLabel(mgr.GetClient()); ok {
		// A leader killed without a clean stop left the label on its pod: every replica
		// clears its own first, and sets it once elected.
		clearCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := l.set(clearCtx, false)
		cancel()
		if err != nil {
			ctrl.Log.Error(err, "Could not clear the leader label from this replica's pod")
		}
		if err := mgr.Add(l); err != nil {
			return err
		}
	}
	if err := addRemovalGuard(fl, mgr); err != nil {
		return err
	}
	if err := r.SetupWithManager(ctx, mgr); err != nil {
		return fmt.Errorf("setting up the controller: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	ctrl.Log.Info("Starting", "metricsSource", fl.metricsSource, "leaderElect", fl.leaderElect)
	return mgr.Start(ctx)
}

// addRemovalGuard serves the removal guard webhook from every replica (its verdict reads
// only the pod, so a standby answers as well as the leader). With --webhook-cert-secret
// the certificates come from open-policy-agent/cert-controller's rotator, and the server
// starts once they are on disk.
func addRemovalGuard(fl controllerFlags, mgr manager.Manager) error {
	if fl.webhookPort < 0 || fl.webhookPort > 65535 {
		return fmt.Errorf("--webhook-port %d: want 0 to 65535", fl.webhookPort)
	}
	if fl.webhookPort == 0 {
		if fl.webhookCertSecret != "" {
			return errors.New("--webhook-cert-secret needs --webhook-port")
		}
		return nil
	}
	if fl.webhookCertDir == "" {
		return errors.New("--webhook-cert-dir: required with --webhook-port")
	}
	srv := webhook.NewServer(webhook.Options{Host: fl.webhookHost, Port: fl.webhookPort, CertDir: fl.webhookCertDir})
	srv.Register(controller.RemovalGuardPath, &admission.Webhook{Handler: &controller.RemovalGuard{
		Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), Recorder: mgr.GetEventRecorder("streamscaler"),
	}})
	if fl.webhookCertSecret == "" {
		return mgr.Add(srv)
	}
	ns, name, ok := strings.Cut(fl.webhookCertSecret, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return fmt.Errorf("--webhook-cert-secret %q: want namespace/name", fl.webhookCertSecret)
	}
	ready := make(chan struct{})
	if err := rotator.AddRotator(mgr, &rotator.CertRotator{
		SecretKey:      types.NamespacedName{Namespace: ns, Name: name},
		CertDir:        fl.webhookCertDir,
		CAName:         "streamscaler-webhook-ca",
		CAOrganization: "streamscaler",
		DNSName:        fl.webhookDNSName,
		IsReady:        ready,
		Webhooks:       []rotator.WebhookInfo{{Name: fl.webhookConfig, Type: rotator.Validating}},
	}); err != nil {
		return fmt.Errorf("--webhook-cert-secret: %w", err)
	}
	return mgr.Add(&afterCerts{ready: ready, Server: srv})
}

// afterCerts starts the webhook server once the rotator has written its certificates, on
// every replica.
type afterCerts struct {
	ready chan struct{}
	webhook.Server
}

func (a *afterCerts) Start(ctx context.Context) error {
	select {
	case <-a.ready:
	case <-ctx.Done():
		return nil
	}
	return a.Server.Start(ctx)
}

func (a *afterCerts) NeedLeaderElection() bool { return false }

// metricsSources builds every source the flags allow; a policy picks one by type.
// The Prometheus source also rebuilds load history for prediction after a restart.
func metricsSources(fl controllerFlags, cfg *rest.Config, secrets client.Reader) (map[v1alpha1.MetricsSourceType]controller.MetricsSource, map[v1alpha1.MetricsSourceType]controller.HistorySource, error) {
	now := clock.RealClock{}.Now
	ceilings, err := samples.ParseCeilings(fl.sampleCeiling)
	if err != nil {
		return nil, nil, fmt.Errorf("--sample-ceiling: %w", err)
	}
	out := map[v1alpha1.MetricsSourceType]controller.MetricsSource{
		v1alpha1.SourceAnnotations: &annotations.Source{Now: now, Ceilings: ceilings},
	}
	m, err := metricsapi.New(cfg, now, ceilings)
	if err != nil {
		return nil, nil, fmt.Errorf("metrics API source: %w", err)
	}
	out[v1alpha1.SourceMetricsAPI] = m
	sr, err := srs.New(srs.Config{Timeout: fl.srsTimeout, Concurrency: fl.srsConcurrency, Now: now, Ceilings: ceilings})
	if err != nil {
		return nil, nil, fmt.Errorf("--srs-timeout/--srs-concurrency: %w", err)
	}
	out[v1alpha1.SourceSRS] = sr
	prom, err := prometheus.New(prometheus.Config{
		Address: fl.promAddress, BearerTokenFile: fl.promTokenFile, CAFile: fl.promCAFile, InsecureSkipVerify: fl.promInsecure,
		Timeout: fl.promTimeout, RateWindow: fl.promWindow, Now: now, Ceilings: ceilings,
		TokenFor: func(ctx context.Context, namespace string, ref *v1alpha1.SecretKeyRef) (string, error) {
			var sec corev1.Secret
			if err := secrets.Get(ctx, types.NamespacedName{Namespace: namespace, Name: ref.Name}, &sec); err != nil {
				return "", fmt.Errorf("reading bearer token Secret %s/%s: %w", namespace, ref.Name, err)
			}
			tok, ok := sec.Data[ref.Key]
			if !ok {
				return "", fmt.Errorf("bearer token Secret %s/%s has no key %q", namespace, ref.Name, ref.Key)
			}
			return strings.TrimSpace(string(tok)), nil
		},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("--prometheus-*: %w", err)
	}
	out[v1alpha1.SourcePrometheus] = prom
	return out, map[v1alpha1.MetricsSourceType]controller.HistorySource{v1alpha1.SourcePrometheus: prom}, nil
}

// buildEvictors builds the evictor of every eviction action.
func buildEvictors(fl controllerFlags) (map[v1alpha1.EvictionAction]controller.Evictor, error) {
	kick, err := srs.NewEvictor(srs.EvictorConfig{Timeout: fl.srsTimeout})
	if err != nil {
		return nil, fmt.Errorf("SRS evictor: %w", err)
	}
	hook, err := httphook.New(httphook.Config{Port: fl.hookPort, Path: fl.hookPath, Timeout: fl.hookTimeout})
	if err != nil {
		return nil, fmt.Errorf("--eviction-hook-port/--eviction-hook-path: %w", err)
	}
	return map[v1alpha1.EvictionAction]controller.Evictor{
		v1alpha1.EvictNone:     controller.NoEviction{},
		v1alpha1.EvictSRSKick:  kick,
		v1alpha1.EvictHTTPHook: hook,
	}, nil
}

// clientLimits checks --kube-api-qps, --kube-api-burst, --max-concurrent-reconciles and
// --max-concurrent-evictions
// and sets the client's rate limit: the same in and out of the cluster (client-go's
// default of 5 requests/s took 10.8 s to label 30 new pods).
func clientLimits(fl controllerFlags, cfg *rest.Config) error {
	switch {
	case !(fl.kubeQPS > 0) || math.IsInf(fl.kubeQPS, 1):
		return fmt.Errorf("--kube-api-qps %v: want a number greater than zero", fl.kubeQPS)
	case fl.kubeBurst < 1:
		return fmt.Errorf("--kube-api-burst %d: want at least 1", fl.kubeBurst)
	case fl.workers < 1 || fl.workers > 1000:
		return fmt.Errorf("--max-concurrent-reconciles %d: want 1 to 1000", fl.workers)
	case fl.evictionSlots < 1 || fl.evictionSlots > 10000:
		return fmt.Errorf("--max-concurrent-evictions %d: want 1 to 10000", fl.evictionSlots)
	case fl.statusFigures < 0 || fl.statusFigures > time.Hour:
		return fmt.Errorf("--status-figures-interval %s: want 0 to 1h", fl.statusFigures)
	}
	cfg.QPS, cfg.Burst = float32(fl.kubeQPS), fl.kubeBurst
	return nil
}

// defaultSource checks --metrics-source before anything is started.
func defaultSource(fl controllerFlags) (v1alpha1.MetricsSourceType, error) {
	switch fl.metricsSource {
	case "annotations", "srs":
		return v1alpha1.MetricsSourceType(fl.metricsSource), nil
	case "metrics-api":
		return v1alpha1.SourceMetricsAPI, nil
	case "prometheus":
		if fl.promAddress == "" {
			return "", fmt.Errorf("--metrics-source prometheus needs --prometheus-address")
		}
		return v1alpha1.SourcePrometheus, nil
	}
	return "", fmt.Errorf("--metrics-source %q: want annotations, prometheus, srs or metrics-api", fl.metricsSource)
}

// restConfig reads the kubeconfig at path (in-cluster or the usual places when empty).
// The controller's requests carry its own user agent, whatever the binary's file name
// (client-go's default is that name), so that an API server's audit log tells them apart.
func restConfig(path string) (*rest.Config, error) {
	var cfg *rest.Config
	if path == "" {
		c, err := ctrl.GetConfig()
		if err != nil {
			return nil, fmt.Errorf("finding a kubeconfig (use --kubeconfig): %w", err)
		}
		cfg = c
	} else {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("--kubeconfig: %w", err)
		}
		c, err := clientcmd.BuildConfigFromFlags("", path)
		if err != nil {
			return nil, fmt.Errorf("--kubeconfig %s: %w", path, err)
		}
		cfg = c
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = userAgent()
	}
	return cfg, nil
}

// zapLevel maps klog-style verbosity to zap's levels (V(1) is debug).
func zapLevel(v int) zapcore.Level { return zapcore.Level(-v) }
