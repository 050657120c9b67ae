package externalmetrics

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/metrics/pkg/apis/external_metrics/v1beta1"
	externalclient "k8s.io/metrics/pkg/client/external_metrics"

	"github.com/streamscaler/streamscaler/internal/testcluster"
)

// TestServerDelegatesToKubeAPIServer serves the Store on 127.0.0.1 with authentication and
// authorization delegated to a real kube-apiserver, and queries it directly
// (TestThroughTheAggregationLayer goes through the kube-apiserver).
func TestServerDelegatesToKubeAPIServer(t *testing.T) {
	c := testcluster.ForTest(t)
	ctx, cancel := context.WithCancel(t.Context())
	const namespace = "live"
	// Mixed case as the controller publishes it; client-go asks for it lowercased.
	const metric = "streamscaler_metric_total_pullStreams"
	at := time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)

	store := NewStore()
	store.Publish(namespace, "edge", map[string]float64{metric: 1234.5, "streamscaler_recommended_replicas": 7}, at)
	store.Publish(namespace, "origin", map[string]float64{metric: 80}, at)

	certDir := t.TempDir()
	srv, err := NewServer(store, ServerOptions{BindAddress: "127.0.0.1", CertDir: certDir, Kubeconfig: writeKubeconfig(t, c.Config)})
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	// The generated self-signed certificate is its own CA.
	servingCert, err := os.ReadFile(filepath.Join(certDir, "tls.crt"))
	if err != nil {
		t.Fatalf("reading the generated serving certificate: %v", err)
	}
	serve(t, srv, ctx, cancel)

	served := &rest.Config{Host: "https://" + srv.Addr().String(), TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	admin := &rest.Config{Host: served.Host, TLSClientConfig: rest.TLSClientConfig{CAData: servingCert}}
	admin.CertData, admin.KeyData, admin.BearerToken = c.Config.CertData, c.Config.KeyData, c.Config.BearerToken
	edge := labels.SelectorFromSet(labels.Set{PolicyLabel: "edge"})

	t.Run("the admin gets the edge policy's published value", func(t *testing.T) {
		var list *v1beta1.ExternalMetricValueList
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
			list, err = externalclient.NewForConfigOrDie(admin).NamespacedMetrics(namespace).List(metric, edge)
			if err != nil {
				t.Logf("Waiting for the server: %v", err)
				return false, nil
			}
			return true, nil
		})
		if err != nil {
			t.Fatalf("listing %s as the admin: %v", metric, err)
		}
		if len(list.Items) != 1 {
			t.Fatalf("got %d values %+v, want the edge policy's only", len(list.Items), list.Items)
		}
		got := list.Items[0]
		if got.MetricName != strings.ToLower(metric) || got.MetricLabels[PolicyLabel] != "edge" || got.Value.MilliValue() != 1234500 || !got.Timestamp.Time.Equal(at) {
			t.Errorf("got %s %v = %s at %s, want %s {policy: edge} = 1234500m at %s", got.MetricName, got.MetricLabels, got.Value.String(), got.Timestamp, strings.ToLower(metric), at)
		}
	})

	t.Run("an unknown metric is NotFound", func(t *testing.T) {
		_, err := externalclient.NewForConfigOrDie(admin).NamespacedMetrics(namespace).List("streamscaler_metric_total_cpu", edge)
		if !apierrors.IsNotFound(err) {
			t.Errorf("got %v, want NotFound", err)
		}
	})

	t.Run("a request without credentials is refused", func(t *testing.T) {
		_, err := externalclient.NewForConfigOrDie(served).NamespacedMetrics(namespace).List(metric, edge)
		if !apierrors.IsUnauthorized(err) && !apierrors.IsForbidden(err) {
			t.Errorf("got %v, want 401 or 403", err)
		}
	})

	t.Run("a service account is refused until RBAC grants it the external metrics", func(t *testing.T) {
		kube := kubernetes.NewForConfigOrDie(c.Config)
		token := serviceAccountToken(t, kube, namespace, "keda-operator")
		reader := rest.CopyConfig(served)
		reader.BearerToken = token
		client := externalclient.NewForConfigOrDie(reader).NamespacedMetrics(namespace)

		_, err := client.List(metric, edge)
		if !apierrors.IsForbidden(err) {
			t.Fatalf("before the grant: got %v, want 403 Forbidden", err)
		}
		grantExternalMetrics(t, kube, namespace, "keda-operator")
		// The delegated authorizer caches a denial for 10s.
		err = wait.PollUntilContextTimeout(ctx, time.Second, time.Minute, true, func(context.Context) (bool, error) {
			list, err := client.List(metric, edge)
			if apierrors.IsForbidden(err) {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			if len(list.Items) != 1 || list.Items[0].Value.MilliValue() != 1234500 {
				return false, errors.New("wrong values after the grant")
			}
			return true, nil
		})
		if err != nil {
			t.Errorf("after the grant: %v", err)
		}
	})
}

// writeKubeconfig writes cfg, the test cluster's admin config, where NewServer can read it.
func writeKubeconfig(t *testing.T, cfg *rest.Config) string {
	t.Helper()
	kubeconfig := clientcmdapi.NewConfig()
	kubeconfig.Clusters["test"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kubeconfig.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	kubeconfig.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: "admin"}
	kubeconfig.CurrentContext = "test"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kubeconfig, path); err != nil {
		t.Fatalf("writing the kubeconfig: %v", err)
	}
	return path
}

// serviceAccountToken creates the namespace and service account and returns a token for it.
func serviceAccountToken(t *testing.T, kube kubernetes.Interface, namespace, name string) string {
	t.Helper()
	ctx := t.Context()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
	if _, err := kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating the namespace: %v", err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
	if _, err := kube.CoreV1().ServiceAccounts(namespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating the service account: %v", err)
	}
	tr, err := kube.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("requesting a token: %v", err)
	}
	return tr.Status.Token
}

// grantExternalMetrics lets the service account read external metrics in its namespace.
func grantExternalMetrics(t *testing.T, kube kubernetes.Interface, namespace, name string) {
	t.Helper()
	ctx := t.Context()
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "external-metrics-reader", Namespace: namespace},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{"external.metrics.k8s.io"},
			Resources: []string{"*"},
			Verbs:     []string{"get", "list", "watch"},
		}},
	}
	if _, err := kube.RbacV1().Roles(namespace).Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating the role: %v", err)
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "external-metrics-reader", Namespace: namespace},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: namespace}},
	}
	if _, err := kube.RbacV1().RoleBindings(namespace).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating the role binding: %v", err)
	}
}

// serve runs srv until the test ends, then ends ctx (cancel) and checks that Run returns
// cleanly within 30 s.
func serve(t *testing.T, srv *Server, ctx context.Context, cancel context.CancelFunc) {
	t.Helper()
	runErr := make(chan error, 1)
	go func() { runErr <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-runErr:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("Run did not return 30s after its context ended")
		}
	})
}
