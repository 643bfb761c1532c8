{{/*
Names and labels.
*/}}
{{- define "obico-api.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "obico-api.fullname" -}}
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

{{- define "obico-api.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "obico-api.labels" -}}
helm.sh/chart: {{ include "obico-api.chart" . }}
{{ include "obico-api.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "obico-api.selectorLabels" -}}
app.kubernetes.io/name: {{ include "obico-api.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Selector labels of one component: (dict "ctx" $ "component" "web"). */}}
{{- define "obico-api.componentSelectorLabels" -}}
{{ include "obico-api.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "obico-api.componentLabels" -}}
{{ include "obico-api.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "obico-api.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "obico-api.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "obico-api.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}
{{- end }}

{{/*
Hosts and the public origin.
*/}}
{{/* ALLOWED_HOSTS as a comma-separated list: the Ingress's hosts, then config.allowedHosts. */}}
{{- define "obico-api.allowedHosts" -}}
{{- $hosts := list }}
{{- if .Values.ingress.enabled }}
{{- range .Values.ingress.hosts }}
{{- $hosts = append $hosts .host }}
{{- end }}
{{- end }}
{{- $hosts = concat $hosts .Values.config.allowedHosts | uniq }}
{{- join "," $hosts }}
{{- end }}

{{/* The origin of links: config.publicBaseUrl, else https:// and the first allowed host. */}}
{{- define "obico-api.publicBaseUrl" -}}
{{- default (printf "https://%s" (first (splitList "," (include "obico-api.allowedHosts" .)))) .Values.config.publicBaseUrl }}
{{- end }}

{{/*
Storage and replicas.
*/}}
{{/* "true" when alert snapshots live on the chart's PVC (no S3). */}}
{{- define "obico-api.mediaOnPvc" -}}
{{- if and (not .Values.s3.bucket) .Values.persistence.enabled }}true{{ end }}
{{- end }}

{{- define "obico-api.mediaClaimName" -}}
{{- default (printf "%s-media" (include "obico-api.fullname" .)) .Values.persistence.existingClaim }}
{{- end }}

{{/* The most web pods this release may run: the replica count, or the HPA's maximum. */}}
{{- define "obico-api.maxWebPods" -}}
{{- if .Values.autoscaling.enabled }}{{ .Values.autoscaling.maxReplicas }}{{ else }}{{ .Values.web.replicaCount }}{{ end }}
{{- end }}

{{/*
Everything the chart refuses to render, each with what to set. Included once, by configmap.yaml.
*/}}
{{- define "obico-api.validate" -}}
{{- $v := .Values }}
{{- if not (or $v.secrets.existingSecret $v.secrets.secretKey) }}
{{- fail "Set secrets.secretKey (Django's SECRET_KEY) or secrets.existingSecret: the chart never generates one, as every OAuth client secret is keyed with it." }}
{{- end }}
{{- if and (not $v.secrets.existingSecret) (not (or $v.postgresql.url $v.postgresql.host)) }}
{{- fail "Set postgresql.url or postgresql.host (an external PostgreSQL), or DATABASE_URL in secrets.existingSecret: without one the service would fall back to SQLite on a read-only disk." }}
{{- end }}
{{- if and $v.postgresql.url $v.postgresql.host }}
{{- fail "Set postgresql.url or postgresql.host, not both." }}
{{- end }}
{{- if and $v.secrets.existingSecret (or $v.secrets.secretKey $v.secrets.secretKeyFallbacks $v.postgresql.url $v.postgresql.password $v.redis.url $v.s3.accessKeyId $v.s3.secretAccessKey) }}
{{- fail "With secrets.existingSecret, put SECRET_KEY, SECRET_KEY_FALLBACKS, DATABASE_URL (or the database password), CACHE_URL and the AWS_* keys in that Secret, not in values: the chart makes no Secret of its own." }}
{{- end }}
{{- if not (include "obico-api.allowedHosts" .) }}
{{- fail "Name the service's host: ingress.hosts (with ingress.enabled) or config.allowedHosts. It is ALLOWED_HOSTS and the default PUBLIC_BASE_URL." }}
{{- end }}
{{- $maxPods := include "obico-api.maxWebPods" . | int }}
{{- if and (gt $maxPods 1) (not $v.s3.bucket) }}
{{- fail (printf "Up to %d web pods need s3.bucket: pods share no disk, so a snapshot stored by one would be missing on the others (the PVC of persistence.* is for a single web pod)." $maxPods) }}
{{- end }}
{{- if and (gt $maxPods 1) (not $v.redis.url) (not $v.secrets.existingSecret) }}
{{- fail (printf "Up to %d web pods need redis.url: rate limits, sign-in lockouts and revoked tokens must be shared by every pod." $maxPods) }}
{{- end }}
{{- if and (not $v.s3.bucket) (not $v.persistence.enabled) }}
{{- fail "Alert snapshots need a place: s3.bucket, or persistence.enabled for a single web pod (the root filesystem is read-only)." }}
{{- end }}
{{- if and $v.autoscaling.enabled (not (dig "requests" "cpu" "" $v.web.resources)) }}
{{- fail "autoscaling needs web.resources.requests.cpu: the HPA's target is a share of it." }}
{{- end }}
{{- if and $v.autoscaling.enabled (gt (int $v.autoscaling.minReplicas) (int $v.autoscaling.maxReplicas)) }}
{{- fail "autoscaling.minReplicas is above autoscaling.maxReplicas." }}
{{- end }}
{{- if and $v.ingress.enabled (not $v.ingress.hosts) }}
{{- fail "ingress.enabled needs at least one entry in ingress.hosts." }}
{{- end }}
{{- end }}

{{/*
Configuration.
*/}}
{{- define "obico-api.secretName" -}}
{{- default (include "obico-api.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/* The ConfigMap's data: every non-secret setting. */}}
{{- define "obico-api.configData" -}}
DEBUG: "0"
ALLOWED_HOSTS: {{ include "obico-api.allowedHosts" . | quote }}
PUBLIC_BASE_URL: {{ include "obico-api.publicBaseUrl" . | quote }}
TRUSTED_PROXY_COUNT: {{ .Values.config.trustedProxyCount | toString | quote }}
LOG_FORMAT: {{ .Values.config.logFormat | quote }}
LOG_LEVEL: {{ .Values.config.logLevel | quote }}
UPLOAD_MAX_BYTES: {{ .Values.config.uploadMaxBytes | int64 | toString | quote }}
WEB_WORKERS: {{ .Values.web.workers | toString | quote }}
WEB_THREADS: {{ .Values.web.threads | toString | quote }}
DETECTION_THREADS: {{ .Values.web.detectionThreads | toString | quote }}
WEBHOOK_WORKER_THREADS: {{ .Values.worker.threads | toString | quote }}
{{- with .Values.s3 }}
{{- if .bucket }}
S3_BUCKET: {{ .bucket | quote }}
S3_PREFIX: {{ .prefix | quote }}
S3_ENDPOINT_URL: {{ .endpointUrl | quote }}
S3_REGION: {{ .region | quote }}
S3_ADDRESSING_STYLE: {{ .addressingStyle | quote }}
{{- end }}
{{- end }}
{{- range $name, $value := .Values.config.extra }}
{{ $name }}: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/* The chart's Secret's data (without existingSecret), base64-encoded. */}}
{{- define "obico-api.secretData" -}}
{{- $v := .Values -}}
SECRET_KEY: {{ $v.secrets.secretKey | b64enc | quote }}
{{- with $v.secrets.secretKeyFallbacks }}
SECRET_KEY_FALLBACKS: {{ join "," . | b64enc | quote }}
{{- end }}
{{- with $v.postgresql }}
{{- if .url }}
DATABASE_URL: {{ .url | b64enc | quote }}
{{- else }}
{{- /* Percent-encoded: Go's query escaping, whose "+" (a space) django-environ would keep as "+". */}}
{{- $user := .user | urlquery | replace "+" "%20" }}
{{- $password := .password | urlquery | replace "+" "%20" }}
{{- $auth := ternary (printf "%s:%s" $user $password) $user (ne .password "") }}
{{- $query := ternary (printf "?sslmode=%s" .sslMode) "" (ne .sslMode "") }}
DATABASE_URL: {{ printf "postgres://%s@%s:%v/%s%s" $auth .host .port .database $query | b64enc | quote }}
{{- end }}
{{- end }}
{{- with $v.redis.url }}
CACHE_URL: {{ . | b64enc | quote }}
{{- end }}
{{- with $v.s3.accessKeyId }}
AWS_ACCESS_KEY_ID: {{ . | b64enc | quote }}
{{- end }}
{{- with $v.s3.secretAccessKey }}
AWS_SECRET_ACCESS_KEY: {{ . | b64enc | quote }}
{{- end }}
{{- end }}

{{/*
The environment of every container: (dict "ctx" $ "configMap" NAME "secret" NAME).
*/}}
{{- define "obico-api.envFrom" -}}
- configMapRef:
    name: {{ .configMap }}
- secretRef:
    name: {{ .secret }}
{{- end }}

{{- define "obico-api.env" -}}
{{- $v := .Values }}
{{- if and $v.secrets.existingSecret $v.postgresql.host }}
{{- $query := ternary (printf "?sslmode=%s" $v.postgresql.sslMode) "" (ne $v.postgresql.sslMode "") }}
- name: DATABASE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $v.secrets.existingSecret }}
      key: {{ $v.postgresql.passwordKey }}
- name: DATABASE_URL
  value: {{ printf "postgres://%s:$(DATABASE_PASSWORD)@%s:%v/%s%s" ($v.postgresql.user | urlquery) $v.postgresql.host $v.postgresql.port $v.postgresql.database $query | quote }}
{{- end }}
{{- with $v.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Pods.
*/}}
{{- define "obico-api.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext }}
{{- end }}

{{- define "obico-api.securityContext" -}}
{{- toYaml .Values.securityContext }}
{{- end }}

{{- define "obico-api.tmpVolume" -}}
- name: tmp
  emptyDir:
    {{- with .Values.tmpVolume.medium }}
    medium: {{ . }}
    {{- end }}
    {{- with .Values.tmpVolume.sizeLimit }}
    sizeLimit: {{ . }}
    {{- end }}
{{- end }}

{{- define "obico-api.mediaVolume" -}}
- name: media
  persistentVolumeClaim:
    claimName: {{ include "obico-api.mediaClaimName" . }}
{{- end }}

{{/* Checksums of the settings, so that every pod rolls when they change. */}}
{{- define "obico-api.configChecksums" -}}
checksum/config: {{ include "obico-api.configData" . | sha256sum }}
{{- if not .Values.secrets.existingSecret }}
checksum/secret: {{ include "obico-api.secretData" . | sha256sum }}
{{- end }}
{{- end }}

{{/*
Scheduling: (dict "ctx" $ "own" .Values.web) picks the component's nodeSelector, tolerations and
affinity when set, else the top-level ones.
*/}}
{{- define "obico-api.scheduling" -}}
{{- $ctx := .ctx }}
{{- $own := .own | default dict -}}
{{- with (default $ctx.Values.nodeSelector $own.nodeSelector) }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with (default $ctx.Values.tolerations $own.tolerations) }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- $affinity := deepCopy (default $ctx.Values.affinity $own.affinity) }}
{{- if .besideWeb }}
{{- /* A ReadWriteOnce volume attaches to one node: run on the node of a web pod, which holds it. */}}
{{- $term := dict "topologyKey" "kubernetes.io/hostname" "labelSelector" (dict "matchLabels" (include "obico-api.componentSelectorLabels" (dict "ctx" $ctx "component" "web") | fromYaml)) }}
{{- $_ := set $affinity "podAffinity" (dict "requiredDuringSchedulingIgnoredDuringExecution" (list $term)) }}
{{- end }}
{{- with $affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Annotations of the hooks' own objects, created before the migration Job (weight 0). */}}
{{- define "obico-api.hookAnnotations" -}}
helm.sh/hook: pre-install,pre-upgrade
helm.sh/hook-weight: "-10"
helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
{{- end }}

{{/* The egress rules every pod of the release gets: DNS, PostgreSQL, Redis, and extraEgress. */}}
{{- define "obico-api.baseEgress" -}}
{{- $np := .Values.networkPolicy -}}
- to:
    {{- toYaml $np.dns.to | nindent 4 }}
  ports:
    {{- toYaml $np.dns.ports | nindent 4 }}
- to:
    {{- toYaml $np.postgresql.to | nindent 4 }}
  ports:
    {{- toYaml $np.postgresql.ports | nindent 4 }}
{{- if or .Values.redis.url .Values.secrets.existingSecret }}
- to:
    {{- toYaml $np.redis.to | nindent 4 }}
  ports:
    {{- toYaml $np.redis.ports | nindent 4 }}
{{- end }}
{{- with $np.extraEgress }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "obico-api.s3Egress" -}}
{{- $np := .Values.networkPolicy }}
{{- if .Values.s3.bucket }}
- to:
    {{- toYaml $np.s3.to | nindent 4 }}
  ports:
    {{- toYaml $np.s3.ports | nindent 4 }}
{{- end }}
{{- end }}
