{{/*
Labels on every object the chart renders, beside the ones deploy/ gives it. Selectors and
the pod template keep deploy/'s labels only, so that a kustomize install and a Helm one
select the same pods and can replace each other.
*/}}
{{- define "streamscaler.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/part-of: streamscaler
app.kubernetes.io/version: {{ .Chart.AppVersion | trunc 63 | quote }}
{{- end }}

{{/* The controller's image. */}}
{{- define "streamscaler.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{/*
The Secret in which the controller keeps the removal guard's CA and serving certificate
(--webhook-cert-secret), and the webhook Service's DNS name that the certificate names.
*/}}
{{- define "streamscaler.webhookCertSecret" -}}streamscaler-webhook-cert{{- end }}
{{- define "streamscaler.webhookDNSName" -}}streamscaler-webhook.{{ .Release.Namespace }}.svc{{- end }}
