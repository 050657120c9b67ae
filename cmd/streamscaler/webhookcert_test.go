//go:build unix

package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/streamscaler/streamscaler/adapters/policyfile"
	"github.com/streamscaler/streamscaler/internal/testcluster"
)

// TestWebhookCertificatesFromTheSecret runs the controller binary as deploy/ runs it
// (--webhook-cert-secret) against the real API server with deploy/webhook.yaml applied:
// the controller fills the Secret with a CA and serving certificate, writes the CA into
// the webhook configuration's caBundle, and serves the removal guard with a certificate
// that this CA signed for the Service's DNS name, from a replica that does not lead, once
// the Secret's keys are in the cert dir.
func TestWebhookCertificatesFromTheSecret(t *testing.T) {
	cluster := testcluster.ForTest(t)
	ctx := context.Background()
	c := cluster.Client
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "streamscaler-system"}}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../../deploy/webhook.yaml")
	if err != nil {
		t.Fatal(err)
	}
	docs, err := policyfile.Split(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range docs {
		var u unstructured.Unstructured
		if err := yaml.Unmarshal(doc, &u.Object); err != nil {
			t.Fatal(err)
		}
		if len(u.Object) > 0 {
			if err := c.Create(ctx, &u); err != nil {
				t.Fatal(err)
			}
		}
	}

	ports, err := freeLocalPorts(1)
	if err != nil {
		t.Fatal(err)
	}
	webhookPort := ports[0]
	certDir := t.TempDir()
	// A lease held by someone else: this replica stands by and must serve all the same.
	if err := holdLease(ctx, c, "streamscaler-system"); err != nil {
		t.Fatal(err)
	}
	startControllerBinary(t, cluster, "--leader-elect", "--leader-election-namespace", "streamscaler-system",
		"--webhook-port", webhookPort, "--webhook-host", "127.0.0.1", "--webhook-cert-dir", certDir,
		"--webhook-cert-secret", "streamscaler-system/streamscaler-webhook-cert")

	var caBundle []byte
	deadline := time.Now().Add(60 * time.Second)
	for {
		var cfg admissionv1.ValidatingWebhookConfiguration
		if err := c.Get(ctx, client.ObjectKey{Name: "streamscaler-pod-removals"}, &cfg); err != nil {
			t.Fatal(err)
		}
		caBundle = cfg.Webhooks[0].ClientConfig.CABundle
		if len(caBundle) > 0 && string(caBundle) == string(cfg.Webhooks[1].ClientConfig.CABundle) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the CA was not written into both webhooks' caBundle within 60s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	var secret corev1.Secret
	if err := c.Get(ctx, client.ObjectKey{Namespace: "streamscaler-system", Name: "streamscaler-webhook-cert"}, &secret); err != nil {
		t.Fatal(err)
	}
	if len(secret.Data["tls.crt"]) == 0 || len(secret.Data["tls.key"]) == 0 {
		t.Fatalf("the Secret holds %d keys, want the serving certificate and key", len(secret.Data))
	}
	// The test stands in for the kubelet, which keeps the Secret's keys in the pod's
	// secret volume at the cert dir (deploy/manager/deployment.yaml).
	for _, k := range []string{"tls.crt", "tls.key"} {
		if err := os.WriteFile(filepath.Join(certDir, k), secret.Data[k], 0o600); err != nil {
			t.Fatal(err)
		}
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caBundle) {
		t.Fatal("caBundle is not a PEM certificate")
	}
	var handshake error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var conn *tls.Conn
		conn, handshake = tls.Dial("tcp", "127.0.0.1:"+webhookPort, &tls.Config{RootCAs: pool, ServerName: "streamscaler-webhook.streamscaler-system.svc", MinVersion: tls.VersionTLS12})
		if handshake == nil {
			conn.Close()
			break
		}
	}
	if handshake != nil {
		t.Fatalf("the removal guard does not serve a certificate the caBundle verifies: %v", handshake)
	}
}

// holdLease takes the controller's leader lease for someone else, for an hour.
func holdLease(ctx context.Context, c client.Client, namespace string) error {
	holder, secs, now := "someone-else", int32(3600), metav1.NewMicroTime(time.Now())
	return c.Create(ctx, &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "streamscaler.streamscaler.io"},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &secs, AcquireTime: &now, RenewTime: &now},
	})
}
