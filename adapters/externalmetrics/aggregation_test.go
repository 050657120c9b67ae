package externalmetrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	externalclient "k8s.io/metrics/pkg/client/external_metrics"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/streamscaler/streamscaler/internal/testcluster"
)

// TestThroughTheAggregationLayer registers the server as the cluster's external metrics
// API, as deploy/apiservice.yaml does (a Service and an APIService), and reads
// streamscaler_recommended_replicas through the kube-apiserver, with the k8s.io/metrics
// client an HPA controller or KEDA uses. The kube-apiserver authenticates the caller,
// proxies with its front-proxy client certificate and the caller's name in headers; the
// server trusts those headers only from that certificate (the request-header CA it reads
// from kube-system/extension-apiserver-authentication) and asks the kube-apiserver
// whether the caller may read external metrics: a service account is refused until RBAC
// grants it.
func TestThroughTheAggregationLayer(t *testing.T) {
	c := testcluster.ForTest(t)
	ctx, cancel := context.WithCancel(t.Context())
	const namespace = "live"
	at := time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)
	store := NewStore()
	store.Publish(namespace, "edge", map[string]float64{"streamscaler_recommended_replicas": 7}, at)

	// The Service's cluster IP is on the loopback range the test cluster gives Services:
	// the kube-apiserver dials it, and reaches this server.
	const clusterIP = "127.0.100.53"
	port := freePort(t, clusterIP)
	srv, err := NewServer(store, ServerOptions{BindAddress: clusterIP, Port: port, CertDir: t.TempDir(), Kubeconfig: writeKubeconfig(t, c.Config)})
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	serve(t, srv, ctx, cancel)

	register(t, c, clusterIP, port)
	kube := kubernetes.NewForConfigOrDie(c.Config)
	token := serviceAccountToken(t, kube, namespace, "horizontal-pod-autoscaler")
	// Through the kube-apiserver: its address, its CA, the service account's token.
	caller := rest.AnonymousClientConfig(c.Config)
	caller.BearerToken = token
	metrics := externalclient.NewForConfigOrDie(caller).NamespacedMetrics(namespace)
	edge := labels.SelectorFromSet(labels.Set{PolicyLabel: "edge"})

	// Until the grant the kube-apiserver refuses, or, once the APIService is available,
	// the server does; a NotFound or 503 means the APIService is not routed yet.
	err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		_, err := metrics.List("streamscaler_recommended_replicas", edge)
		switch {
		case apierrors.IsForbidden(err):
			return true, nil
		case err == nil:
			return false, errors.New("read before any grant: authorization is not enforced")
		default:
			t.Logf("waiting for the aggregation layer: %v", err)
			return false, nil
		}
	})
	if err != nil {
		t.Fatalf("before the grant: %v", err)
	}
	admin := externalclient.NewForConfigOrDie(c.Config).NamespacedMetrics(namespace)
	got, err := admin.List("streamscaler_recommended_replicas", edge)
	if err != nil {
		t.Fatalf("the admin through the aggregation layer: %v", err)
	}
	if len(got.Items) != 1 || got.Items[0].Value.Value() != 7 {
		t.Fatalf("the admin read %+v, want the edge policy's 7", got.Items)
	}

	grantExternalMetrics(t, kube, namespace, "horizontal-pod-autoscaler")
	// The server's delegated authorizer caches a denial for 10 s.
	err = wait.PollUntilContextTimeout(ctx, time.Second, time.Minute, true, func(context.Context) (bool, error) {
		list, err := metrics.List("streamscaler_recommended_replicas", edge)
		if apierrors.IsForbidden(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if len(list.Items) != 1 || list.Items[0].Value.Value() != 7 || !list.Items[0].Timestamp.Time.Equal(at) {
			return false, fmt.Errorf("read %+v, want 7 at %s", list.Items, at)
		}
		return true, nil
	})
	if err != nil {
		t.Errorf("after the grant: %v", err)
	}
}

// register creates the Service and the APIService that route external.metrics.k8s.io to
// clusterIP:port, as deploy/apiservice.yaml does, and waits until the kube-apiserver
// reports the APIService Available.
func register(t *testing.T, c *testcluster.Cluster, clusterIP string, port int) {
	t.Helper()
	ctx := t.Context()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "streamscaler-system"}}
	if err := c.Client.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns.Name, Name: "streamscaler-external-metrics"},
		Spec:       corev1.ServiceSpec{ClusterIP: clusterIP, Ports: []corev1.ServicePort{{Name: "https", Port: int32(port), TargetPort: intstr.FromInt32(int32(port))}}},
	}
	if err := c.Client.Create(ctx, svc); err != nil {
		t.Fatalf("creating the Service at %s: %v", clusterIP, err)
	}
	// No endpoint-slice controller runs here, and the aggregator reports an APIService
	// available only when its Service has a ready endpoint with the port. It dials the
	// cluster IP, never the endpoint's address; an IP address on the loopback range is
	// refused by validation, so the endpoint is written as the Service's DNS name.
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns.Name, Name: svc.Name + "-test", Labels: map[string]string{discoveryv1.LabelServiceName: svc.Name}},
		AddressType: discoveryv1.AddressTypeFQDN,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{svc.Name + "." + ns.Name + ".svc"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("https"), Port: ptr.To(int32(port))}},
	}
	if err := c.Client.Create(ctx, slice); err != nil {
		t.Fatalf("creating the EndpointSlice: %v", err)
	}
	// Unstructured: the apiregistration types are not worth a dependency of their own.
	apiSvc := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
		"metadata": map[string]any{"name": "v1beta1.external.metrics.k8s.io"},
		"spec": map[string]any{
			"group": "external.metrics.k8s.io", "version": "v1beta1",
			"service":              map[string]any{"namespace": ns.Name, "name": svc.Name, "port": int64(port)},
			"groupPriorityMinimum": int64(100), "versionPriority": int64(100),
			"insecureSkipTLSVerify": true, // as deploy/apiservice.yaml: the serving certificate is self-signed
		},
	}}
	if err := c.Client.Create(ctx, apiSvc); err != nil {
		t.Fatalf("creating the APIService: %v", err)
	}
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(apiSvc.GroupVersionKind())
		if err := c.Client.Get(ctx, client.ObjectKeyFromObject(apiSvc), got); err != nil {
			return false, err
		}
		conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
		for _, x := range conds {
			cond, _ := x.(map[string]any)
			if cond["type"] == "Available" {
				t.Logf("APIService Available=%v: %v", cond["status"], cond["message"])
				return cond["status"] == "True", nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("the APIService did not become Available: %v", err)
	}
}

// freePort finds a free port on ip.
func freePort(t *testing.T, ip string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, p, _ := net.SplitHostPort(l.Addr().String())
	n, _ := strconv.Atoi(p)
	return n
}
