package testcluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	kruiseappsv1alpha1 "github.com/openkruise/kruise-api/apps/v1alpha1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const (
	// kruiseNamespace is where kruise-manager believes it runs (POD_NAMESPACE).
	kruiseNamespace = "kruise-system"
	// kruiseWebhookService is the service name kustomize gives Kruise's webhook service.
	kruiseWebhookService = "kruise-webhook-service"
	// kruiseNamePrefix is kustomize's namePrefix in Kruise's config/default.
	kruiseNamePrefix = "kruise-"
)

// kruiseWebhooks are the webhooks kept from Kruise's manifests: the CloneSet defaulting and
// validation. The full set also holds fail-closed webhooks on pods and namespaces, whose
// handlers are off here (PodWebhook=false) and would then block every pod create.
var kruiseWebhooks = map[string]bool{"mcloneset.kb.io": true, "vcloneset.kb.io": true}

// kruiseFeatureGates keeps kruise-manager to the controllers that need no node agent.
const kruiseFeatureGates = "PodWebhook=false,KruiseDaemon=false"

// installKruisePrerequisites creates what kruise-manager reads before it starts: its
// namespace and the webhook configurations it fills with its own URL and CA bundle.
func installKruisePrerequisites(ctx context.Context, c client.Client, manifests string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: kruiseNamespace}}
	if err := c.Create(ctx, ns); err != nil {
		return fmt.Errorf("creating namespace %s: %w", kruiseNamespace, err)
	}
	objs, err := kruiseWebhookConfigurations(manifests)
	if err != nil {
		return err
	}
	for _, obj := range objs {
		if err := c.Create(ctx, obj); err != nil {
			return fmt.Errorf("creating webhook configuration %s: %w", obj.GetName(), err)
		}
	}
	return nil
}

// kruiseWebhookConfigurations reads Kruise's config/webhook/manifests.yaml and returns its
// two configurations as kustomize would name them, with only the kruiseWebhooks.
func kruiseWebhookConfigurations(manifests string) ([]client.Object, error) {
	data, err := os.ReadFile(manifests)
	if err != nil {
		return nil, fmt.Errorf("reading kruise webhook manifests: %w", err)
	}
	service := func(cc *admissionregistrationv1.WebhookClientConfig) {
		if cc.Service != nil {
			cc.Service.Namespace = kruiseNamespace
			cc.Service.Name = kruiseWebhookService
		}
	}
	var objs []client.Object
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var raw runtime.RawExtension
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("decoding %s: %w", manifests, err)
		}
		if len(raw.Raw) == 0 {
			continue
		}
		var meta metav1.TypeMeta
		if err := json.Unmarshal(raw.Raw, &meta); err != nil {
			return nil, fmt.Errorf("decoding %s: %w", manifests, err)
		}
		switch meta.Kind {
		case "MutatingWebhookConfiguration":
			var cfg admissionregistrationv1.MutatingWebhookConfiguration
			if err := json.Unmarshal(raw.Raw, &cfg); err != nil {
				return nil, fmt.Errorf("decoding %s: %w", manifests, err)
			}
			var kept []admissionregistrationv1.MutatingWebhook
			for _, wh := range cfg.Webhooks {
				if kruiseWebhooks[wh.Name] {
					service(&wh.ClientConfig)
					kept = append(kept, wh)
				}
			}
			cfg.Name, cfg.Webhooks = kruiseNamePrefix+cfg.Name, kept
			objs = append(objs, &cfg)
		case "ValidatingWebhookConfiguration":
			var cfg admissionregistrationv1.ValidatingWebhookConfiguration
			if err := json.Unmarshal(raw.Raw, &cfg); err != nil {
				return nil, fmt.Errorf("decoding %s: %w", manifests, err)
			}
			var kept []admissionregistrationv1.ValidatingWebhook
			for _, wh := range cfg.Webhooks {
				if kruiseWebhooks[wh.Name] {
					service(&wh.ClientConfig)
					kept = append(kept, wh)
				}
			}
			cfg.Name, cfg.Webhooks = kruiseNamePrefix+cfg.Name, kept
			objs = append(objs, &cfg)
		}
	}
	if len(objs) != 2 {
		return nil, fmt.Errorf("%s holds %d webhook configurations, want a mutating and a validating one", manifests, len(objs))
	}
	return objs, nil
}

// kruiseProcess is a running kruise-manager.
type kruiseProcess struct {
	cmd     *exec.Cmd
	logPath string
	log     *os.File
	// exited is closed when the process has exited; err is then its exit error.
	exited chan struct{}
	err    error
}

// startKruiseManager runs kruise-manager out of cluster on free loopback ports, with its
// certificates, protection log and log in dir; qps above zero sets its client's rate
// (--rest-config-qps, burst twice that), otherwise Kruise's default of 30 a second holds.
func startKruiseManager(binary, kubeconfig, dir string, qps int) (*kruiseProcess, error) {
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	webhookPort, metricsPort, healthPort := ports[0], ports[1], ports[2]
	certDir := filepath.Join(dir, "kruise-certs")
	protectionDir := filepath.Join(dir, "kruise-protection")
	for _, d := range []string{certDir, protectionDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("creating %s: %w", d, err)
		}
	}
	logPath := filepath.Join(dir, "kruise-manager.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating kruise-manager's log: %w", err)
	}

	args := []string{
		"--kubeconfig=" + kubeconfig,
		"--enable-leader-election=false",
		"--metrics-addr=127.0.0.1:" + strconv.Itoa(metricsPort),
		"--health-probe-addr=127.0.0.1:" + strconv.Itoa(healthPort),
		"--enable-pprof=false",
		"--protection-log-path=" + protectionDir, // defaults to /log
		"--feature-gates=" + kruiseFeatureGates,
		"--v=2",
	}
	if qps > 0 {
		args = append(args, "--rest-config-qps="+strconv.Itoa(qps), "--rest-config-burst="+strconv.Itoa(2*qps))
	}
	cmd := exec.Command(binary, args...)
	// With WEBHOOK_HOST set, kruise-manager writes its own certificates and points the
	// webhook configurations at https://WEBHOOK_HOST:WEBHOOK_PORT instead of the service.
	cmd.Env = append(os.Environ(),
		"WEBHOOK_HOST=127.0.0.1",
		"WEBHOOK_PORT="+strconv.Itoa(webhookPort),
		"WEBHOOK_CERT_DIR="+certDir,
		"POD_NAMESPACE="+kruiseNamespace,
	)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting kruise-manager: %w", err)
	}
	k := &kruiseProcess{cmd: cmd, logPath: logPath, log: logFile, exited: make(chan struct{})}
	go func() {
		k.err = cmd.Wait()
		close(k.exited)
	}()
	return k, nil
}

// stop kills kruise-manager and waits for it: nothing of it needs a graceful end.
func (k *kruiseProcess) stop() error {
	select {
	case <-k.exited:
	default:
		if err := k.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("killing kruise-manager: %w", err)
		}
		<-k.exited
	}
	return k.log.Close()
}

// probeName is the CloneSet that tells when kruise-manager is ready.
const probeName = "testcluster-probe"

// waitForKruise returns once kruise-manager's webhooks answer and its CloneSet controller
// reconciles: /readyz turns 200 before the controllers run, so a probe CloneSet (no
// replicas) is created, retried until the webhooks accept it, and watched until its
// status.observedGeneration catches up.
func waitForKruise(ctx context.Context, c client.Client, k *kruiseProcess) error {
	probe := &kruiseappsv1alpha1.CloneSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: kruiseNamespace, Name: probeName},
		Spec: kruiseappsv1alpha1.CloneSetSpec{
			Replicas: ptr.To[int32](0),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": probeName}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": probeName}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{
					{Name: "probe", Image: "registry.invalid/probe:1"},
				}},
			},
		},
	}
	var (
		created bool
		lastErr error
	)
	err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		select {
		case <-k.exited:
			return false, fmt.Errorf("kruise-manager exited: %v", k.err)
		default:
		}
		if !created {
			// Fails until kruise-manager serves its webhooks and has pointed them at itself.
			lastErr = c.Create(ctx, probe.DeepCopy())
			created = lastErr == nil || apierrors.IsAlreadyExists(lastErr)
			return false, nil
		}
		got := &kruiseappsv1alpha1.CloneSet{}
		if lastErr = c.Get(ctx, client.ObjectKeyFromObject(probe), got); lastErr != nil {
			return false, nil
		}
		return got.Status.ObservedGeneration >= got.Generation, nil
	})
	if err != nil {
		if lastErr != nil {
			err = fmt.Errorf("%w (last: %v)", err, lastErr)
		}
		return fmt.Errorf("waiting for kruise-manager's CloneSet controller: %w", err)
	}
	if err := c.Delete(ctx, probe); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting the probe CloneSet: %w", err)
	}
	return nil
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
