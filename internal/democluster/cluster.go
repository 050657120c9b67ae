package democluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/streamscaler/streamscaler/internal/testcluster"
)

// Where hack/controlplane.mk puts the binaries, relative to the repository root.
const (
	schedulerPath         = "bin/k8s/kube-scheduler"
	controllerManagerPath = "bin/k8s/kube-controller-manager"
	kwokPath              = "bin/kwok"
)

// Defaults of Options.
const (
	DefaultNodes        = 3
	DefaultStartupDelay = 2 * time.Second
)

// startTimeout bounds ForTest's Start; a healthy start takes seconds.
const startTimeout = 3 * time.Minute

// logLines is how much of each process's log Logs returns.
const logLines = 100

// Options shape the cluster.
type Options struct {
	// Nodes is how many fake Nodes kwok plays (DefaultNodes if 0, at most 200). Node i is
	// kwok-node-i with InternalIP 127.0.0.(10+i) and pod CIDR 127.1.i.0/24.
	Nodes int
	// StartupDelay is how long a pod waits, once bound to a Node, before kwok marks it
	// Running and Ready and gives it an IP (DefaultStartupDelay if 0; negative means none).
	StartupDelay time.Duration
}

func (o Options) withDefaults() Options {
	if o.Nodes == 0 {
		o.Nodes = DefaultNodes
	}
	switch {
	case o.StartupDelay == 0:
		o.StartupDelay = DefaultStartupDelay
	case o.StartupDelay < 0:
		o.StartupDelay = 0
	}
	return o
}

// Cluster is a running control plane (internal/testcluster) with kube-scheduler,
// kube-controller-manager and kwok.
type Cluster struct {
	// Config is the admin config for the API server.
	Config *rest.Config
	// Client talks to the API server with Scheme.
	Client client.Client
	// Scheme holds client-go's types, Kruise's apps/v1alpha1 and streamscaler's api/v1alpha1.
	Scheme *runtime.Scheme
	// Nodes are the names of the fake Nodes, kwok-node-0 upwards.
	Nodes []string
	// Options are the options in force, defaults filled in.
	Options Options

	base *testcluster.Cluster
	// processes are kwok, kube-scheduler and kube-controller-manager, in start order.
	processes []*process
	// dir holds kwok's configuration and the three processes' logs.
	dir      string
	stopOnce sync.Once
	stopErr  error
}

// paths are the binaries the cluster adds to testcluster's.
type paths struct {
	scheduler, controllerManager, kwok string
}

func resolvePaths() (paths, error) {
	root, err := testcluster.RepoRoot()
	if err != nil {
		return paths{}, err
	}
	return paths{
		scheduler:         filepath.Join(root, schedulerPath),
		controllerManager: filepath.Join(root, controllerManagerPath),
		kwok:              filepath.Join(root, kwokPath),
	}, nil
}

// Available reports whether every binary of the demo cluster exists.
func Available() (ok bool, why string) {
	if ok, why := testcluster.Available(); !ok {
		return false, why + " (the demo cluster: `make democluster`)"
	}
	p, err := resolvePaths()
	if err != nil {
		return false, err.Error()
	}
	for _, f := range []string{p.scheduler, p.controllerManager, p.kwok} {
		if _, err := os.Stat(f); err != nil {
			return false, fmt.Sprintf("the demo cluster is not built (%s is missing): run `make democluster`", f)
		}
	}
	return true, ""
}

// ForTest starts a cluster for a test and stops it when the test ends; if the test failed,
// the end of every process's log is logged first. Without the binaries it skips the test,
// or fails it when CI=true.
func ForTest(t testing.TB, opts Options) *Cluster {
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
	c, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("starting the demo cluster: %v", err)
	}
	t.Logf("demo cluster up in %s", time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs of the demo cluster (last lines):\n%s", c.Logs())
		}
		if err := c.Stop(); err != nil {
			t.Errorf("stopping the demo cluster: %v", err)
		}
	})
	return c
}

// Start starts the control plane, creates the fake Nodes, then kwok, kube-scheduler and
// kube-controller-manager, and returns once the Nodes are Ready and a probe pod has been
// bound and, once deleted, removed. ctx bounds the start only; the cluster runs until Stop.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	opts = opts.withDefaults()
	if opts.Nodes < 0 || opts.Nodes > maxNodes {
		return nil, fmt.Errorf("%d nodes: want 1 to %d", opts.Nodes, maxNodes)
	}
	if err := checkLoopback(opts.Nodes); err != nil {
		return nil, err
	}
	if ok, why := Available(); !ok {
		return nil, errors.New(why)
	}
	p, err := resolvePaths()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "democluster-")
	if err != nil {
		return nil, fmt.Errorf("creating the cluster's folder: %w", err)
	}
	c := &Cluster{Options: opts, dir: dir}
	if err := c.start(ctx, p); err != nil {
		if logs := c.Logs(); logs != "" {
			err = fmt.Errorf("%w\nlogs (last lines):\n%s", err, logs)
		}
		if stopErr := c.Stop(); stopErr != nil {
			err = errors.Join(err, stopErr)
		}
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context, p paths) error {
	var err error
	// 1. etcd, kube-apiserver and kruise-manager.
	if c.base, err = testcluster.Start(ctx); err != nil {
		return err
	}
	c.Config, c.Client, c.Scheme = c.base.Config, c.base.Client, c.base.Scheme
	kubeconfig := c.base.KubeconfigPath()

	// 2. The fake Nodes, before kwok, so that it never sees them without their pod CIDR.
	for i := range c.Options.Nodes {
		node := newNode(i)
		if err := c.Client.Create(ctx, node); err != nil {
			return fmt.Errorf("creating node %s: %w", node.Name, err)
		}
		c.Nodes = append(c.Nodes, node.Name)
	}

	// 3. kwok, kube-scheduler and kube-controller-manager, each serving nothing.
	args, err := kwokArgs(c.dir, kubeconfig, c.Options.StartupDelay)
	if err != nil {
		return err
	}
	// HOME is the cluster's folder, so that kwok reads no ~/.kwok/kwok.yaml.
	if err := c.run("kwok", p.kwok, args, "HOME="+c.dir); err != nil {
		return err
	}
	if err := c.run("kube-scheduler", p.scheduler, []string{
		"--kubeconfig=" + kubeconfig,
		"--leader-elect=false",
		"--secure-port=0", // no HTTPS server at all
	}); err != nil {
		return err
	}
	if err := c.run("kube-controller-manager", p.controllerManager, []string{
		"--kubeconfig=" + kubeconfig,
		// Garbage collection removes the pods of a deleted CloneSet; the namespace
		// controller finishes a namespace's deletion.
		"--controllers=garbagecollector,namespace",
		"--leader-elect=false",
		"--secure-port=0", // no HTTPS server at all
	}); err != nil {
		return err
	}

	// 4. Ready when kwok has the Nodes Ready and a pod is bound and, once deleted, removed.
	if err := c.waitForNodes(ctx); err != nil {
		return err
	}
	return c.probe(ctx)
}

// run starts a process into c.processes.
func (c *Cluster) run(name, binary string, args []string, env ...string) error {
	p, err := startProcess(name, binary, args, env, c.dir)
	if err != nil {
		return err
	}
	c.processes = append(c.processes, p)
	return nil
}

// alive returns an error naming the first process that has exited.
func (c *Cluster) alive() error {
	for _, p := range c.processes {
		if err := p.running(); err != nil {
			return err
		}
	}
	return nil
}

// poll calls cond every 100 ms until it holds, ctx ends or a process exits.
func (c *Cluster) poll(ctx context.Context, what string, cond func(ctx context.Context) (ok bool, state string, err error)) error {
	var state string
	err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		if err := c.alive(); err != nil {
			return false, err
		}
		ok, s, err := cond(ctx)
		state = s
		return ok, err
	})
	if err != nil {
		return fmt.Errorf("waiting until %s: %w (last: %s)", what, err, state)
	}
	return nil
}

func (c *Cluster) waitForNodes(ctx context.Context) error {
	return c.poll(ctx, "kwok reports the nodes Ready", func(ctx context.Context) (bool, string, error) {
		for _, name := range c.Nodes {
			node := &corev1.Node{}
			if err := c.Client.Get(ctx, client.ObjectKey{Name: name}, node); err != nil {
				return false, err.Error(), nil
			}
			if !nodeReady(node) {
				return false, name + " not Ready", nil
			}
		}
		return true, "", nil
	})
}

func nodeReady(node *corev1.Node) bool {
	for _, cond := range node.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

// probePod is the pod whose binding and removal tell that the scheduler and kwok act.
const probePod = "democluster-probe"

func (c *Cluster) probe(ctx context.Context) error {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceDefault, Name: probePod},
		Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "probe", Image: "registry.invalid/probe:1"},
		}},
	}
	if err := c.Client.Create(ctx, pod); err != nil {
		return fmt.Errorf("creating the probe pod: %w", err)
	}
	key := client.ObjectKeyFromObject(pod)
	err := c.poll(ctx, "kube-scheduler binds the probe pod", func(ctx context.Context) (bool, string, error) {
		if err := c.Client.Get(ctx, key, pod); err != nil {
			return false, err.Error(), nil
		}
		return pod.Spec.NodeName != "", "unbound", nil
	})
	if err != nil {
		return err
	}
	if err := c.Client.Delete(ctx, pod); err != nil {
		return fmt.Errorf("deleting the probe pod: %w", err)
	}
	return c.poll(ctx, "kwok removes the deleted probe pod", func(ctx context.Context) (bool, string, error) {
		err := c.Client.Get(ctx, key, &corev1.Pod{})
		if apierrors.IsNotFound(err) {
			return true, "", nil
		}
		if err != nil {
			return false, err.Error(), nil
		}
		return false, "still there", nil
	})
}

// Logs returns the last lines of kwok's, kube-scheduler's, kube-controller-manager's and
// kruise-manager's logs, for failure messages.
func (c *Cluster) Logs() string {
	var b strings.Builder
	for _, p := range c.processes {
		fmt.Fprintf(&b, "--- %s (%s)\n%s\n", p.name, p.logPath, p.tail(logLines))
	}
	if c.base != nil {
		fmt.Fprintf(&b, "--- kruise-manager\n%s\n", c.base.KruiseLog())
	}
	return b.String()
}

// Stop stops kube-controller-manager, kube-scheduler and kwok, then the control plane, and
// removes the cluster's folders. It may be called more than once.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		var errs []error
		for i := len(c.processes) - 1; i >= 0; i-- {
			errs = append(errs, c.processes[i].stop())
		}
		if c.base != nil {
			errs = append(errs, c.base.Stop())
		}
		if err := os.RemoveAll(c.dir); err != nil {
			errs = append(errs, fmt.Errorf("removing %s: %w", c.dir, err))
		}
		c.stopErr = errors.Join(errs...)
	})
	return c.stopErr
}
