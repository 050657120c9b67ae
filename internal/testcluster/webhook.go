package testcluster

import (
	"context"
	"errors"
	"fmt"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	"github.com/streamscaler/streamscaler/adapters/policyfile"
)

// Webhooks is a webhook configuration installed on the API server and pointed at a local
// server: Host:Port, serving the certificate in CertDir (tls.crt, tls.key), which a fresh
// CA signed for Host.
type Webhooks struct {
	Host    string
	Port    int
	CertDir string
	opts    envtest.WebhookInstallOptions
	c       client.Client
}

// InstallWebhooks installs the ValidatingWebhookConfigurations of manifests (other
// documents are skipped), with each webhook's Service reference rewritten to
// https://127.0.0.1:PORT/PATH and its caBundle set, as controller-runtime's envtest does.
// Uninstall deletes them with c.
func InstallWebhooks(cfg *rest.Config, c client.Client, manifests []byte) (*Webhooks, error) {
	docs, err := policyfile.Split(manifests)
	if err != nil {
		return nil, err
	}
	w := &Webhooks{c: c, opts: envtest.WebhookInstallOptions{LocalServingHost: "127.0.0.1"}}
	for i, doc := range docs {
		var meta struct{ Kind string }
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		if meta.Kind != "ValidatingWebhookConfiguration" {
			continue
		}
		var vwc admissionv1.ValidatingWebhookConfiguration
		if err := yaml.UnmarshalStrict(doc, &vwc); err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		w.opts.ValidatingWebhooks = append(w.opts.ValidatingWebhooks, &vwc)
	}
	if len(w.opts.ValidatingWebhooks) == 0 {
		return nil, errors.New("no ValidatingWebhookConfiguration in the manifests")
	}
	if err := w.opts.Install(cfg); err != nil {
		return nil, fmt.Errorf("installing the webhooks: %w", err)
	}
	w.Host, w.Port, w.CertDir = w.opts.LocalServingHost, w.opts.LocalServingPort, w.opts.LocalServingCertDir
	return w, nil
}

// Configurations are the installed configurations, as sent to the API server.
func (w *Webhooks) Configurations() []*admissionv1.ValidatingWebhookConfiguration {
	return w.opts.ValidatingWebhooks
}

// Uninstall deletes the configurations and the certificate folder.
func (w *Webhooks) Uninstall() error {
	var errs []error
	for _, h := range w.opts.ValidatingWebhooks {
		if err := w.c.Delete(context.Background(), h); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(append(errs, w.opts.Cleanup())...)
}
