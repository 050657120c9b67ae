package main

import (
	"fmt"
	"os"
	"time"

	kruisev1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	"github.com/spf13/cobra"
	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/streamscaler/streamscaler/adapters/annotations"
	"github.com/streamscaler/streamscaler/adapters/kruise"
	"github.com/streamscaler/streamscaler/api/v1alpha1"
	"github.com/streamscaler/streamscaler/autoscaler/controller"
)

type controllerFlags struct {
	kubeconfig, metricsAddr, probeAddr, leaderNamespace, metricsSource string
	leaderElect                                                        bool
	sampleMaxAge                                                       time.Duration
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
	f.BoolVar(&fl.leaderElect, "leader-elect", true, "elect a leader so that only one replica acts")
	f.StringVar(&fl.leaderNamespace, "leader-election-namespace", "", "namespace of the leader election lease (default: the pod's namespace)")
	f.StringVar(&fl.metricsSource, "metrics-source", "annotations", "where per-pod samples come from: annotations")
	f.DurationVar(&fl.sampleMaxAge, "sample-max-age", 2*time.Minute, "samples older than this are missing (annotations source: streamscaler.io/metric-time)")
	f.BoolVar(&fl.zapDevel, "log-development", false, "human-readable logs instead of JSON")
	f.IntVarP(&fl.verbosity, "v", "v", 0, "log verbosity (0-4)")
	return cmd
}

func runController(fl controllerFlags) error {
	ctrl.SetLogger(zap.New(zap.UseDevMode(fl.zapDevel), zap.Level(zapLevel(fl.verbosity))))
	if fl.verbosity < 0 || fl.verbosity > 10 {
		return fmt.Errorf("--v %d: want 0 to 10", fl.verbosity)
	}
	if fl.sampleMaxAge < 0 {
		return fmt.Errorf("--sample-max-age %s: must not be negative", fl.sampleMaxAge)
	}
	var source controller.MetricsSource
	switch fl.metricsSource {
	case "annotations":
		source = &annotations.Source{MaxAge: fl.sampleMaxAge, Now: clock.RealClock{}.Now}
	default:
		return fmt.Errorf("--metrics-source %q: want annotations", fl.metricsSource)
	}
	cfg, err := restConfig(fl.kubeconfig)
	if err != nil {
		return err
	}
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, kruisev1alpha1.AddToScheme, v1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			return fmt.Errorf("building the scheme: %w", err)
		}
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsserver.Options{BindAddress: fl.metricsAddr},
		HealthProbeBindAddress:  fl.probeAddr,
		LeaderElection:          fl.leaderElect,
		LeaderElectionID:        "streamscaler.streamscaler.io",
		LeaderElectionNamespace: fl.leaderNamespace,
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	r := &controller.Reconciler{
		Client: mgr.GetClient(), Reader: mgr.GetAPIReader(),
		Target:        &kruise.CloneSets{Reader: mgr.GetAPIReader(), Writer: mgr.GetClient()},
		Sources:       map[v1alpha1.MetricsSourceType]controller.MetricsSource{v1alpha1.SourceAnnotations: source},
		DefaultSource: v1alpha1.SourceAnnotations,
		Evictors:      map[v1alpha1.EvictionAction]controller.Evictor{v1alpha1.EvictNone: controller.NoEviction{}},
		Clock:         clock.RealClock{},
		Recorder:      mgr.GetEventRecorder("streamscaler"),
	}
	ctx := ctrl.SetupSignalHandler()
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

func restConfig(path string) (*rest.Config, error) {
	if path == "" {
		cfg, err := ctrl.GetConfig()
		if err != nil {
			return nil, fmt.Errorf("finding a kubeconfig (use --kubeconfig): %w", err)
		}
		return cfg, nil
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("--kubeconfig: %w", err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("--kubeconfig %s: %w", path, err)
	}
	return cfg, nil
}

// zapLevel maps klog-style verbosity to zap's levels (V(1) is debug).
func zapLevel(v int) zapcore.Level { return zapcore.Level(-v) }
