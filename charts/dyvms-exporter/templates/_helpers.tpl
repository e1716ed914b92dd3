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

{{/* The namespace of every object. */}}
{{- define "dyvms-exporter.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride }}
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
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "dyvms-exporter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "dyvms-exporter.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
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

{{/* Where the pod mounts the configuration, the credential Secret and each
account's Secret. The configuration names the secret files relative to its
own directory (../secrets/<key>, ../accounts/<name>/<key>), so the same file
checks the same on a laptop with that layout. */}}
{{- define "dyvms-exporter.configDir" -}}/etc/dyvms_exporter/config{{- end }}
{{- define "dyvms-exporter.secretDir" -}}/etc/dyvms_exporter/secrets{{- end }}
{{- define "dyvms-exporter.accountsDir" -}}/etc/dyvms_exporter/accounts{{- end }}
{{- define "dyvms-exporter.webConfigDir" -}}/etc/dyvms_exporter/web{{- end }}
{{- define "dyvms-exporter.rrsaTokenDir" -}}/var/run/secrets/ack.alibabacloud.com/rrsa-tokens{{- end }}

{{/* exactNumbers fails on a number Helm has read as floating point and
cannot carry exactly (2^53 and above): an id of a values file written
without quotes. --set keeps integers as integers, and a quoted id is a
string the exporter reads as the number. */}}
{{- define "dyvms-exporter.exactNumbers" -}}
{{- $path := index . 0 }}{{ $v := index . 1 }}
{{- if kindIs "map" $v }}
{{- range $k, $x := $v }}{{ include "dyvms-exporter.exactNumbers" (list (printf "%s.%s" $path $k) $x) }}{{ end }}
{{- else if kindIs "slice" $v }}
{{- range $i, $x := $v }}{{ include "dyvms-exporter.exactNumbers" (list (printf "%s[%d]" $path $i) $x) }}{{ end }}
{{- else if kindIs "float64" $v }}
{{- if or (ge $v 9007199254740992.0) (le $v -9007199254740992.0) }}
{{- fail (printf "%s: %v is 2^53 or more, which Helm, reading a values file's numbers as floating point, cannot carry exactly (the id would change); quote it, e.g. task_id: \"9007199254740993\"" $path $v) }}
{{- end }}
{{- end }}
{{- end }}

{{/* idInt turns the id at key of a map, when a string of digits, into the
int64 it names (exactly: Sprig's int64 parses the string), and fails on one
that is no int64. */}}
{{- define "dyvms-exporter.idInt" -}}
{{- $path := index . 0 }}{{ $m := index . 1 }}{{ $k := index . 2 }}
{{- $v := get $m $k }}
{{- if kindIs "string" $v }}
{{- if not (regexMatch "^[1-9][0-9]{0,18}$" $v) }}{{ fail (printf "%s: %q is not an id (digits, no leading zero)" $path $v) }}{{ end }}
{{- $n := int64 $v }}
{{- if ne (toString $n) $v }}{{ fail (printf "%s: %s is above the largest id, 9223372036854775807" $path $v) }}{{ end }}
{{- $_ := set $m $k $n }}
{{- end }}
{{- end }}

{{/* accountEntry is one entry of the configuration's accounts: from one
entry of .Values.accounts: the Secret's keys as files under
../accounts/<name>/, the role's settings under their configuration names.
It is set as "entry" of the dict passed third, not printed: a JSON round
trip would turn an integer id of --set into a float. */}}
{{- define "dyvms-exporter.accountEntry" -}}
{{- $i := index . 0 }}{{ $a := index . 1 }}{{ $out := index . 2 }}
{{- $at := printf "accounts[%d]" $i }}
{{- $name := get $a "name" }}
{{- if not $name }}{{ fail (printf "%s.name: required ([a-z0-9_-]+, shown in logs and in the account label)" $at) }}{{ end }}
{{- if not (regexMatch "^[a-z0-9_-]+$" (toString $name)) }}{{ fail (printf "%s.name: %q: use only lower-case letters, digits, '-' and '_'" $at $name) }}{{ end }}
{{- $e := dict "name" $name "enterprises" (get $a "enterprises" | default list) }}
{{- with get $a "endpoint" }}{{ $_ := set $e "endpoint" . }}{{ end }}
{{- with get $a "api" }}{{ $_ := set $e "api" . }}{{ end }}
{{- $c := dict }}
{{- $secret := get $a "secret" }}{{ $role := get $a "role" }}
{{- if not (or $secret $role) }}
{{- fail (printf "%s (%s): give it secret (an existing Secret with its access key) or role (a RAM role of that account, assumed with the default account's identity)" $at $name) }}
{{- end }}
{{- with $secret }}
{{- if not (get . "name") }}{{ fail (printf "%s.secret.name: required (an existing Secret in the release's namespace)" $at) }}{{ end }}
{{- $dir := printf "../accounts/%s" $name }}
{{- if get . "accessKeyId" }}
{{- $_ := set $c "access_key_id" (get . "accessKeyId") }}
{{- else }}
{{- $_ := set $c "access_key_id_file" (printf "%s/%s" $dir (get . "accessKeyIdKey" | default "access_key_id")) }}
{{- end }}
{{- $_ := set $c "access_key_secret_file" (printf "%s/%s" $dir (get . "accessKeySecretKey" | default "access_key_secret")) }}
{{- with get . "securityTokenKey" }}{{ $_ := set $c "security_token_file" (printf "%s/%s" $dir .) }}{{ end }}
{{- end }}
{{- with $role }}
{{- if not (get . "arn") }}{{ fail (printf "%s.role.arn: required: acs:ram::<account uid>:role/<role name>" $at) }}{{ end }}
{{- range $from, $to := dict "arn" "role_arn" "externalId" "external_id" "sessionName" "role_session_name" "stsEndpoint" "sts_endpoint" "region" "region" }}
{{- with get $role $from }}{{ $_ := set $c $to . }}{{ end }}
{{- end }}
{{- end }}
{{- $_ := set $e "credentials" $c }}
{{- $_ := set $out "entry" $e }}
{{- end }}

{{/* The exporter's config.yml: .Values.config plus the credentials section of
credentials.source=secret, which holds only file paths (and the key id when
given inline as credentials.secret.accessKeyId), and the accounts. */}}
{{- define "dyvms-exporter.config" -}}
{{- $cfg := deepCopy .Values.config }}
{{- if hasKey $cfg "credentials" }}
{{- fail "config.credentials: set the access key with credentials.source (secret, rrsa or none); a secret must not be written to the ConfigMap" }}
{{- end }}
{{- if hasKey $cfg "accounts" }}
{{- fail "config.accounts: list the accounts under accounts (top level of the values), which mounts their Secrets; a secret must not be written to the ConfigMap" }}
{{- end }}
{{- if not (or (get $cfg "tasks") (get $cfg "discovery") (get $cfg "enterprises") (get $cfg "call_records")) }}
{{- fail "config: nothing to monitor: add at least one task (config.tasks: [{enterprise_id: ..., task_id: ...}]), discovery entry (config.discovery: [{enterprise_id: ..., types: [...]}]), call-centre view (config.enterprises: [{enterprise_id: ..., online_agents: true}]) or call_records entry; the chart ships no example workload" }}
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
{{- if .Values.accounts }}
{{- $accounts := list }}
{{- range $i, $a := .Values.accounts }}
{{- $out := dict }}
{{- include "dyvms-exporter.accountEntry" (list $i $a $out) }}
{{- $accounts = append $accounts $out.entry }}
{{- end }}
{{- $_ := set $cfg "accounts" $accounts }}
{{- end }}
{{- /* Ids given as strings of digits (quoted, as values files should write
ids of 2^53 and more) are written as the integers they are. */}}
{{- range $i, $t := get $cfg "tasks" | default list }}
{{- range $k := list "enterprise_id" "task_id" }}{{ include "dyvms-exporter.idInt" (list (printf "config.tasks[%d].%s" $i $k) $t $k) }}{{ end }}
{{- end }}
{{- range $s := list "discovery" "call_records" }}
{{- range $i, $e := get $cfg $s | default list }}{{ include "dyvms-exporter.idInt" (list (printf "config.%s[%d].enterprise_id" $s $i) $e "enterprise_id") }}{{ end }}
{{- end }}
{{- range $i, $a := get $cfg "accounts" | default list }}
{{- $list := list }}
{{- range $j, $id := $a.enterprises }}
{{- $h := dict "id" $id }}
{{- include "dyvms-exporter.idInt" (list (printf "accounts[%d].enterprises[%d]" $i $j) $h "id") }}
{{- $list = append $list $h.id }}
{{- end }}
{{- $_ := set $a "enterprises" $list }}
{{- end }}
{{- include "dyvms-exporter.exactNumbers" (list "config" (omit $cfg "accounts")) }}
{{- include "dyvms-exporter.exactNumbers" (list "accounts" (.Values.accounts | default list)) }}
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
{{- $what := ternary "podMonitor (serviceMonitor.jobName)" "serviceMonitor.jobName" .Values.podMonitor.enabled }}
{{- include "dyvms-exporter.checkJob" (list .Values.jobSelector (default $default .Values.serviceMonitor.jobName) $what) }}
{{- end }}

{{/* The scheme the exporter serves: https with webConfig.tls. */}}
{{- define "dyvms-exporter.scheme" -}}
{{- if and .Values.webConfig.enabled .Values.webConfig.tls }}https{{ else }}http{{ end }}
{{- end }}

{{/* The endpoint of a ServiceMonitor or PodMonitor: path, interval,
timeout, scheme and TLS, basic auth, and the relabelings after the job. */}}
{{- define "dyvms-exporter.endpoint" -}}
{{- $sm := .Values.serviceMonitor }}
port: http-metrics
# With the sharded ScrapeConfig the tasks come from /probe; the
# exporter's own metrics, which some alerts read, from here.
path: {{ ternary "/exporter-metrics" "/metrics" .Values.scrapeConfig.enabled }}
interval: {{ $sm.interval }}
scrapeTimeout: {{ $sm.scrapeTimeout }}
scheme: {{ default (include "dyvms-exporter.scheme" .) $sm.scheme }}
{{- with $sm.tlsConfig }}
tlsConfig:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $sm.basicAuth }}
basicAuth:
  {{- toYaml . | nindent 2 }}
{{- end }}
relabelings:
  # The alerts select jobs by name (jobSelector); the operator's
  # default job label would be the Service's name.
  - targetLabel: job
    replacement: {{ include "dyvms-exporter.serviceMonitorJob" . }}
  {{- with $sm.relabelings }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- with $sm.metricRelabelings }}
metricRelabelings:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* The name of the ServiceMonitor or PodMonitor: the full name, prefixed
with the release's namespace when serviceMonitor.namespace puts it
elsewhere, so that releases of one name in two namespaces do not claim
one object. */}}
{{- define "dyvms-exporter.monitorName" -}}
{{- $ns := include "dyvms-exporter.namespace" . }}
{{- if and .Values.serviceMonitor.namespace (ne .Values.serviceMonitor.namespace $ns) }}
{{- printf "%s-%s" $ns (include "dyvms-exporter.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- include "dyvms-exporter.fullname" . }}
{{- end }}
{{- end }}
