package testcluster

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	kruiseappsv1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	streamscalerv1alpha1 "github.com/streamscaler/streamscaler/api/v1alpha1"
)

// module is the main module's path; the repository root is the folder of its go.mod.
const module = "github.com/streamscaler/streamscaler"

// Where hack/controlplane.mk puts the control plane, relative to the repository root.
const (
	assetsDir          = "bin/k8s" // kube-apiserver and etcd, unless KUBEBUILDER_ASSETS is set
	kruiseManagerPath  = "bin/kruise-manager"
	kruiseCRDDir       = "bin/kruise/crd"
	kruiseWebhooksPath = "bin/kruise/webhook/manifests.yaml"
	streamscalerCRDDir = "deploy/crd"
)

// startTimeout bounds ForTest's Start; a healthy start takes seconds.
const startTimeout = 3 * time.Minute

// Cluster is a running etcd, kube-apiserver and kruise-manager.
type Cluster struct {
	// Config is the admin config for the API server.
	Config *rest.Config
	// Client talks to the API server with Scheme.
	Client client.Client
	// Scheme holds client-go's types, Kruise's apps/v1alpha1 and streamscaler's api/v1alpha1.
	Scheme *runtime.Scheme

	env    *envtest.Environment
	kruise *kruiseProcess
	// dir holds the kubeconfig, kruise-manager's certificates, protection log and log.
	dir      string
	opts     options
	stopOnce sync.Once
	stopErr  error
}

// Option changes how Start starts the cluster.
type Option func(*options)

type options struct {
	// kruiseQPS is kruise-manager's --rest-config-qps; its burst is twice that. Zero
	// keeps Kruise's own default (30 a second, burst 50).
	kruiseQPS int
}

// WithKruiseQPS sets kruise-manager's client rate (--rest-config-qps, and a burst of
// twice that). At its default of 30 requests a second, 100,000 pod creations alone take
// 55 min (reasoned, not run); a scale harness raises it, tests need not.
func WithKruiseQPS(qps int) Option {
	return func(o *options) { o.kruiseQPS = qps }
}

// paths are the files the cluster is started from.
type paths struct {
	root            string
	apiServer, etcd string
	kruiseManager   string
	kruiseCRDs      string
	kruiseWebhooks  string
	streamscalerCRD string
}

func resolvePaths() (paths, error) {
	root, err := repoRoot()
	if err != nil {
		return paths{}, err
	}
	assets := filepath.Join(root, assetsDir)
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		assets = dir
	}
	return paths{
		root:            root,
		apiServer:       filepath.Join(assets, "kube-apiserver"),
		etcd:            filepath.Join(assets, "etcd"),
		kruiseManager:   filepath.Join(root, kruiseManagerPath),
		kruiseCRDs:      filepath.Join(root, kruiseCRDDir),
		kruiseWebhooks:  filepath.Join(root, kruiseWebhooksPath),
		streamscalerCRD: filepath.Join(root, streamscalerCRDDir),
	}, nil
}

// Available reports whether the control plane's binaries and Kruise's manifests exist.
func Available() (ok bool, why string) {
	p, err := resolvePaths()
	if err != nil {
		return false, err.Error()
	}
	for _, f := range []string{p.apiServer, p.etcd, p.kruiseManager, p.kruiseCRDs, p.kruiseWebhooks} {
		if _, err := os.Stat(f); err != nil {
			why := fmt.Sprintf("the real control plane is not built (%s is missing): run `make controlplane`", f)
			if os.Getenv("KUBEBUILDER_ASSETS") != "" {
				why += " or unset KUBEBUILDER_ASSETS"
			}
			return false, why
		}
	}
	return true, ""
}

// ForTest starts a cluster for a test and stops it when the test ends. Without the
// binaries it skips the test, or fails it when CI=true.
func ForTest(t testing.TB) *Cluster {
	t.Helper()
	if ok, why := Available(); !ok {
		if os.Getenv("CI") == "true" {
			t.Fatal(why)
		}
		t.Skip(why)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	start := time.Now()
	c, err := Start(ctx)
	if err != nil {
		t.Fatalf("starting the test cluster: %v", err)
	}
	t.Logf("test cluster up in %s", time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("kruise-manager log (last lines):\n%s", c.KruiseLog())
		}
		if err := c.Stop(); err != nil {
			t.Errorf("stopping the test cluster: %v", err)
		}
	})
	return c
}

// auditPolicyYAML records every request once, when its response is complete, without
// bodies.
const auditPolicyYAML = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived", "ResponseStarted"]
rules:
- level: Metadata
`

// AuditLogPath is the API server's audit log: a JSON line per request, with its user
// agent, verb and resource.
func (c *Cluster) AuditLogPath() string { return filepath.Join(c.dir, "audit.log") }

// Start starts etcd and kube-apiserver with the CRDs installed, then kruise-manager, and
// returns once Kruise's CloneSet controller reconciles. ctx bounds the start only; the
// cluster runs until Stop.
func Start(ctx context.Context, opts ...Option) (*Cluster, error) {
	if ok, why := Available(); !ok {
		return nil, errors.New(why)
	}
	p, err := resolvePaths()
	if err != nil {
		return nil, err
	}
	scheme, err := newScheme()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "testcluster-")
	if err != nil {
		return nil, fmt.Errorf("creating the cluster's folder: %w", err)
	}
	c := &Cluster{Scheme: scheme, dir: dir}
	for _, o := range opts {
		o(&c.opts)
	}
	if err := c.start(ctx, p); err != nil {
		if tail := c.KruiseLog(); tail != "" {
			err = fmt.Errorf("%w\nkruise-manager log (last lines):\n%s", err, tail)
		}
		if stopErr := c.Stop(); stopErr != nil {
			err = errors.Join(err, stopErr)
		}
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context, p paths) error {
	c.env = &envtest.Environment{
		BinaryAssetsDirectory: filepath.Dir(p.apiServer),
		CRDDirectoryPaths:     []string{p.streamscalerCRD, p.kruiseCRDs},
		ErrorIfCRDPathMissing: true,
		Scheme:                c.Scheme,
	}
	auditPolicy := filepath.Join(c.dir, "audit-policy.yaml")
	if err := os.WriteFile(auditPolicy, []byte(auditPolicyYAML), 0o600); err != nil {
		return fmt.Errorf("writing the audit policy: %w", err)
	}
	c.env.ControlPlane.GetAPIServer().Path = p.apiServer
	args := c.env.ControlPlane.GetAPIServer().Configure().
		// No node lifecycle controller runs to lift a new Node's not-ready taint.
		Set("disable-admission-plugins", "ServiceAccount,TaintNodesByCondition").
		// One line per request, with its user agent: who asked the API server for what.
		Set("audit-policy-file", auditPolicy).
		Set("audit-log-path", c.AuditLogPath()).
		Set("audit-log-format", "json")
	// The aggregation layer, as in a cluster (frontproxy.go).
	proxy, err := frontProxyFlags(c.dir)
	if err != nil {
		return err
	}
	for k, v := range proxy {
		args.Set(k, v)
	}
	c.env.ControlPlane.Etcd = &envtest.Etcd{Path: p.etcd}

	cfg, err := c.env.Start()
	if err != nil {
		return fmt.Errorf("starting etcd and kube-apiserver: %w", err)
	}
	c.Config = cfg
	c.Client, err = client.New(cfg, client.Options{Scheme: c.Scheme})
	if err != nil {
		return fmt.Errorf("creating the client: %w", err)
	}

	if err := installKruisePrerequisites(ctx, c.Client, p.kruiseWebhooks); err != nil {
		return err
	}
	kubeconfig := filepath.Join(c.dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, c.env.KubeConfig, 0o600); err != nil {
		return fmt.Errorf("writing the kubeconfig: %w", err)
	}
	c.kruise, err = startKruiseManager(p.kruiseManager, kubeconfig, c.dir, c.opts.kruiseQPS)
	if err != nil {
		return err
	}
	return waitForKruise(ctx, c.Client, c.kruise)
}

// Stop kills kruise-manager, stops the API server and etcd and removes the cluster's
// folders. It may be called more than once.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		var errs []error
		if c.kruise != nil {
			errs = append(errs, c.kruise.stop())
		}
		if c.env != nil {
			if err := c.env.Stop(); err != nil {
				errs = append(errs, fmt.Errorf("stopping etcd and kube-apiserver: %w", err))
			}
		}
		if err := os.RemoveAll(c.dir); err != nil {
			errs = append(errs, fmt.Errorf("removing %s: %w", c.dir, err))
		}
		c.stopErr = errors.Join(errs...)
	})
	return c.stopErr
}

// KubeconfigPath is the admin kubeconfig of the running cluster, for processes that join
// it (internal/democluster's scheduler, controller manager and kwok); Stop removes it.
func (c *Cluster) KubeconfigPath() string {
	return filepath.Join(c.dir, "kubeconfig")
}

// kruiseLogLines is how much of kruise-manager's log KruiseLog returns.
const kruiseLogLines = 200

// KruiseLog returns the last lines of kruise-manager's log, for failure messages; it is
// empty once the cluster has stopped.
func (c *Cluster) KruiseLog() string {
	if c.kruise == nil {
		return ""
	}
	f, err := os.Open(c.kruise.logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	lines := make([]string, 0, kruiseLogLines)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		if len(lines) == kruiseLogLines {
			lines = lines[1:]
		}
		lines = append(lines, sc.Text())
	}
	return strings.Join(lines, "\n")
}

func newScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for name, add := range map[string]func(*runtime.Scheme) error{
		"client-go":             clientgoscheme.AddToScheme,
		"kruise apps/v1alpha1":  kruiseappsv1alpha1.AddToScheme,
		"streamscaler v1alpha1": streamscalerv1alpha1.AddToScheme,
	} {
		if err := add(s); err != nil {
			return nil, fmt.Errorf("adding %s to the scheme: %w", name, err)
		}
	}
	return s, nil
}

// RepoRoot is the repository's folder, found by walking up from the working directory to
// the main module's go.mod; bin/ is below it.
func RepoRoot() (string, error) { return repoRoot() }

// repoRoot walks up from the working directory to the main module's folder.
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the repository root: %w", err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if modulePath(filepath.Join(dir, "go.mod")) == module {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no go.mod of module %s above %s", module, wd)
		}
	}
}

// modulePath returns the module path a go.mod declares, or "" if there is none.
func modulePath(goMod string) string {
	data, err := os.ReadFile(goMod)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module"); ok {
			rest, _, _ = strings.Cut(rest, "//")
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}
