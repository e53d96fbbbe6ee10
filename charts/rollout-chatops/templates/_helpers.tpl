{{/* The chart name, or nameOverride. */}}
{{- define "rollout-chatops.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name of the release's objects: fullnameOverride, else the release name with the chart name in it once. */}}
{{- define "rollout-chatops.fullname" -}}
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

{{/* Name of cluster-scoped objects: the namespace is part of it, so two releases of the same name don't collide. */}}
{{- define "rollout-chatops.clusterName" -}}
{{- printf "%s-%s" .Release.Namespace (include "rollout-chatops.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "rollout-chatops.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "rollout-chatops.selectorLabels" -}}
app.kubernetes.io/name: {{ include "rollout-chatops.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "rollout-chatops.labels" -}}
helm.sh/chart: {{ include "rollout-chatops.chart" . }}
{{ include "rollout-chatops.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "rollout-chatops.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "rollout-chatops.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret with the Slack, GitHub and AWS credentials. */}}
{{- define "rollout-chatops.secretName" -}}
{{- default (include "rollout-chatops.fullname" .) .Values.secrets.name }}
{{- end }}

{{/* The config file's text, as written in `config`. */}}
{{- define "rollout-chatops.configText" -}}
{{- .Values.config }}
{{- end }}

{{- define "rollout-chatops.configMapName" -}}
{{- default (printf "%s-config" (include "rollout-chatops.fullname" .)) .Values.existingConfigMap }}
{{- end }}

{{- define "rollout-chatops.claimName" -}}
{{- default (printf "%s-data" (include "rollout-chatops.fullname" .)) .Values.store.embedded.persistence.existingClaim }}
{{- end }}

{{/* The Secret and key holding DATABASE_URL: the existing one, else the one the chart creates from store.postgres.url. */}}
{{- define "rollout-chatops.databaseSecretName" -}}
{{- default (printf "%s-database" (include "rollout-chatops.fullname" .)) .Values.store.postgres.existingSecret }}
{{- end }}
{{- define "rollout-chatops.databaseSecretKey" -}}
{{- if .Values.store.postgres.existingSecret }}{{ .Values.store.postgres.existingSecretKey }}{{ else }}DATABASE_URL{{ end }}
{{- end }}

{{- define "rollout-chatops.postgres" -}}
{{- if eq .Values.store.mode "postgres" }}true{{ end }}
{{- end }}

{{/* Replicas: replicaCount, else 1 (embedded) or 2 (postgres). */}}
{{- define "rollout-chatops.replicas" -}}
{{- if kindIs "invalid" .Values.replicaCount }}
{{- if include "rollout-chatops.postgres" . }}2{{ else }}1{{ end }}
{{- else }}
{{- int .Values.replicaCount }}
{{- end }}
{{- end }}

{{- define "rollout-chatops.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag | toString) }}
{{- end }}
{{- end }}

{{/* Namespaces that get a Role with rbac.clusterWide false: rbac.namespaces, else those of the config's environments in this cluster. */}}
{{- define "rollout-chatops.rbacNamespaces" -}}
{{- $namespaces := list }}
{{- if .Values.rbac.namespaces }}
{{- $namespaces = .Values.rbac.namespaces }}
{{- else if not .Values.existingConfigMap }}
{{- $config := include "rollout-chatops.configText" . | fromYaml }}
{{- range $app := ($config.apps | default list) }}
{{- range $env := ($app.environments | default list) }}
{{- if and $env.namespace (not $env.cluster) }}
{{- $namespaces = append $namespaces $env.namespace }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- toJson (uniq $namespaces) }}
{{- end }}

{{/* Refuses values that would run the bot wrongly, each with what to do instead. */}}
{{- define "rollout-chatops.validate" -}}
{{- $mode := .Values.store.mode }}
{{- if not (has $mode (list "embedded" "postgres")) }}
{{- fail (printf "store.mode must be embedded or postgres, not %q" (toString $mode)) }}
{{- end }}
{{- $replicas := include "rollout-chatops.replicas" . | int }}
{{- if and (eq $mode "embedded") (gt $replicas 1) }}
{{- fail (printf "store.mode=embedded runs exactly one replica (the embedded store has one writer, and two pods would both post to Slack), but replicaCount is %d. For several replicas set store.mode=postgres with store.postgres.existingSecret or store.postgres.url." $replicas) }}
{{- end }}
{{- if lt $replicas 1 }}
{{- fail (printf "replicaCount must be at least 1, not %d" $replicas) }}
{{- end }}
{{- if and (eq $mode "postgres") (not .Values.store.postgres.existingSecret) (not .Values.store.postgres.url) }}
{{- fail "store.mode=postgres needs DATABASE_URL: set store.postgres.existingSecret (and existingSecretKey) to a Secret holding it, or store.postgres.url for the chart to create one." }}
{{- end }}
{{- if and (eq $mode "postgres") .Values.store.postgres.existingSecret (not .Values.store.postgres.existingSecretKey) }}
{{- fail "store.postgres.existingSecretKey must name the key of store.postgres.existingSecret that holds the URL." }}
{{- end }}
{{- if not (has .Values.podAntiAffinity (list "soft" "hard" "none")) }}
{{- fail (printf "podAntiAffinity must be soft, hard or none, not %q" (toString .Values.podAntiAffinity)) }}
{{- end }}
{{- if and .Values.rbac.create (not .Values.rbac.clusterWide) }}
{{- $namespaces := include "rollout-chatops.rbacNamespaces" . | fromJsonArray }}
{{- if not $namespaces }}
{{- fail "rbac.clusterWide=false needs rbac.namespaces (the namespaces of the config's environments), or the config in `config`." }}
{{- end }}
{{- if gt (len $namespaces) 20 }}
{{- fail (printf "rbac.clusterWide=false with %d namespaces: the bot watches cluster-wide above 20 namespaces, so it needs rbac.clusterWide=true." (len $namespaces)) }}
{{- end }}
{{- end }}
{{- if and (not .Values.existingConfigMap) (not .Values.config) }}
{{- fail "config (the content of rollout-chatops.yml) or existingConfigMap is required." }}
{{- end }}
{{- end }}
