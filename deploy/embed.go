// Package deploy embeds the install manifests the binary needs itself: the demo installs
// the removal guard's webhook configuration exactly as deploy/ ships it.
package deploy

import _ "embed"

// Webhook is webhook.yaml: the removal guard's Secret, Service and
// ValidatingWebhookConfiguration.
//
//go:embed webhook.yaml
var Webhook []byte
