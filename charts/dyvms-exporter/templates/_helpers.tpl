{{/* Object names: release-chart, truncated to 63 characters. */}}
{{- define "dyvms-exporter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "dyvms-exporter.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "dyvms-exporter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dyvms-exporter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "dyvms-exporter.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "dyvms-exporter.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "dyvms-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "dyvms-exporter.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Where the pod mounts the configuration and the credential Secret. The
configuration names the secret files relative to its own directory
(../secrets/<key>), so the same file checks the same on a laptop with that
layout. */}}
{{- define "dyvms-exporter.configDir" -}}/etc/dyvms_exporter/config{{- end }}
{{- define "dyvms-exporter.secretDir" -}}/etc/dyvms_exporter/secrets{{- end }}
{{- define "dyvms-exporter.rrsaTokenDir" -}}/var/run/secrets/ack.alibabacloud.com/rrsa-tokens{{- end }}

{{/* The exporter's config.yml: .Values.config plus the credentials section of
credentials.source=secret, which holds only file paths (and the key id when
given inline as credentials.secret.accessKeyId). */}}
{{- define "dyvms-exporter.config" -}}
{{- $cfg := deepCopy .Values.config }}
{{- if hasKey $cfg "credentials" }}
{{- fail "config.credentials: set the access key with credentials.source (secret, rrsa or none); a secret must not be written to the ConfigMap" }}
{{- end }}
{{- if not (or $cfg.tasks $cfg.discovery) }}
{{- fail "config: list at least one task (config.tasks) or discovery entry (config.discovery)" }}
{{- end }}
{{- $c := .Values.credentials }}
{{- if eq $c.source "secret" }}
{{- if not $c.secret.name }}{{ fail "credentials.secret.name: required with credentials.source=secret (an existing Secret)" }}{{ end }}
{{- if not $c.secret.accessKeySecretKey }}{{ fail "credentials.secret.accessKeySecretKey: required with credentials.source=secret (the Secret's key holding the AccessKey secret)" }}{{ end }}
{{- $creds := dict "access_key_secret_file" (printf "../secrets/%s" $c.secret.accessKeySecretKey) }}
{{- if $c.secret.accessKeyId }}
{{- $_ := set $creds "access_key_id" $c.secret.accessKeyId }}
{{- else if $c.secret.accessKeyIdKey }}
{{- $_ := set $creds "access_key_id_file" (printf "../secrets/%s" $c.secret.accessKeyIdKey) }}
{{- else }}
{{- fail "credentials.secret.accessKeyIdKey: set the Secret's key holding the AccessKey id (or the id itself as credentials.secret.accessKeyId)" }}
{{- end }}
{{- if $c.secret.securityTokenKey }}
{{- $_ := set $creds "security_token_file" (printf "../secrets/%s" $c.secret.securityTokenKey) }}
{{- end }}
{{- $_ := set $cfg "credentials" $creds }}
{{- else if eq $c.source "rrsa" }}
{{- if not (or $c.rrsa.roleName (and $c.rrsa.roleArn $c.rrsa.oidcProviderArn)) }}
{{- fail "credentials.rrsa: set roleName (ACK pod-identity webhook) or both roleArn and oidcProviderArn" }}
{{- end }}
{{- else if ne $c.source "none" }}
{{- fail (printf "credentials.source: %q is none of none, secret, rrsa" $c.source) }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}

{{/* jobName checks that a job name matches jobSelector (fully anchored, as
Prometheus matches =~), so that DyvmsExporterDown watches it. */}}
{{- define "dyvms-exporter.checkJob" -}}
{{- $sel := index . 0 }}{{ $job := index . 1 }}{{ $what := index . 2 }}
{{- if not (regexMatch (printf "^(?:%s)$" $sel) $job) }}
{{- fail (printf "%s: job name %q does not match jobSelector %q, so DyvmsExporterDown would never fire for it" $what $job $sel) }}
{{- end }}
{{- $job }}
{{- end }}

{{- define "dyvms-exporter.serviceMonitorJob" -}}
{{- $default := ternary "dyvms_exporter" "dyvms" .Values.scrapeConfig.enabled }}
{{- include "dyvms-exporter.checkJob" (list .Values.jobSelector (default $default .Values.serviceMonitor.jobName) "serviceMonitor.jobName") }}
{{- end }}

{{/* The image: registry/repository, then @digest when set, else :tag
(default the chart's appVersion). */}}
{{- define "dyvms-exporter.image" -}}
{{- $img := .Values.image }}
{{- $ref := $img.repository }}
{{- if $img.registry }}{{ $ref = printf "%s/%s" $img.registry $img.repository }}{{ end }}
{{- if $img.digest }}
{{- printf "%s@%s" $ref $img.digest }}
{{- else }}
{{- printf "%s:%s" $ref (default .Chart.AppVersion $img.tag) }}
{{- end }}
{{- end }}
