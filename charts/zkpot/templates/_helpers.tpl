{{/*
Names, labels and the pieces every workload shares. Templates that take arguments are called with
(dict "ctx" $ "component" "prover" ...); "ctx" is the root context.
*/}}

{{- define "zkpot.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-scoped base name; a release already named like the chart is not repeated. */}}
{{- define "zkpot.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 40 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Name of one component's objects: <fullname>-<component>. */}}
{{- define "zkpot.componentName" -}}
{{- printf "%s-%s" (include "zkpot.fullname" .ctx) .component | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Name of one member's (trainer) or validator's objects: <fullname>-<component>-<index>, at most 52 characters so
its StatefulSet's controller-revision-hash label (the name, "-" and a 10-character hash) fits in 63.
*/}}
{{- define "zkpot.indexedName" -}}
{{- $suffix := printf "-%d" (int .index) }}
{{- printf "%s%s" (include "zkpot.componentName" . | trunc (sub 52 (len $suffix) | int) | trimSuffix "-") $suffix }}
{{- end }}

{{/* With .index (a member's or validator's objects), also zkpot.io/index: the client or validator index. */}}
{{- define "zkpot.selectorLabels" -}}
app.kubernetes.io/name: {{ include "zkpot.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- if hasKey . "index" }}
zkpot.io/index: {{ .index | toString | quote }}
{{- end }}
{{- end }}

{{/* tier: "service" for the five zkpot services, "infra" for NATS/PostgreSQL/Kubo, "setup" for the Job. */}}
{{- define "zkpot.labels" -}}
{{ include "zkpot.selectorLabels" . }}
app.kubernetes.io/part-of: zkpot
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | replace "+" "_" }}
zkpot.io/tier: {{ .tier | default "service" }}
{{- end }}

{{/* Name, namespace and labels of one component's object, or with .index of one member's or validator's. */}}
{{- define "zkpot.metadata" -}}
name: {{ include (ternary "zkpot.indexedName" "zkpot.componentName" (hasKey . "index")) . }}
namespace: {{ .ctx.Release.Namespace }}
labels:
  {{- include "zkpot.labels" . | nindent 2 }}
{{- end }}

{{- define "zkpot.image" -}}
{{- $img := .ctx.Values.image -}}
{{- if $img.digest }}
{{- printf "%s@%s" $img.repository $img.digest }}
{{- else }}
{{- printf "%s:%s" $img.repository (default .ctx.Chart.AppVersion $img.tag) }}
{{- end }}
{{- end }}

{{/* An image value {repository, tag} of a dependency. */}}
{{- define "zkpot.depImage" -}}
{{- printf "%s:%s" .repository .tag }}
{{- end }}

{{/*
checkov skips shared by every workload, each with its reason (checkov reads checkov.io/skipN annotations).
*/}}
{{- define "zkpot.checkovSkips" -}}
checkov.io/skip1: CKV_K8S_43=Images are pinned by tag in values; set image.digest to pin the zkpot image by digest.
checkov.io/skip2: CKV_K8S_15=IfNotPresent by default so images side-loaded into kind/minikube are used; values set pullPolicy.
{{- end }}

{{/* The zkpot services' skips: the shared ones and the database URL in the environment. */}}
{{- define "zkpot.checkovServiceSkips" -}}
{{ include "zkpot.checkovSkips" . }}
checkov.io/skip3: CKV_K8S_35=zkpot.config reads ZKPOT_DATABASE_URL from the environment; it comes from a Secret by secretKeyRef, never from plain values.
{{- end }}

{{/* Pod-level settings shared by every pod of the release. */}}
{{- define "zkpot.podCommon" -}}
automountServiceAccountToken: false
{{- with .Values.serviceAccountName }}
serviceAccountName: {{ . }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{- define "zkpot.containerSecurityContext" -}}
securityContext:
  {{- toYaml .Values.containerSecurityContext | nindent 2 }}
{{- end }}

{{/* URLs of the dependencies, in-cluster or external. */}}
{{- define "zkpot.natsUrl" -}}
{{- if .Values.nats.enabled }}
{{- printf "%s://%s:4222" (ternary "tls" "nats" .Values.nats.tls.enabled) (include "zkpot.componentName" (dict "ctx" . "component" "nats")) }}
{{- else }}
{{- required "nats.externalUrl is required when nats.enabled is false" .Values.nats.externalUrl }}
{{- end }}
{{- end }}

{{- define "zkpot.gatewayUrl" -}}
{{- printf "http://%s:%d" (include "zkpot.componentName" (dict "ctx" . "component" "ipfs-gateway")) (int .Values.httpPort) }}
{{- end }}

{{- define "zkpot.kuboApi" -}}
{{- printf "http://%s:5001" (include "zkpot.componentName" (dict "ctx" . "component" "kubo")) }}
{{- end }}

{{/*
Secret holding each account's database URL, one key per account (<account>.url: the five services and the
read-only reader): the release's own, or an external database's (written by `zkpot db provision --out DIR`).
*/}}
{{- define "zkpot.databaseSecret" -}}
{{- if .Values.postgresql.enabled }}
{{- include "zkpot.componentName" (dict "ctx" . "component" "database") }}
{{- else }}
{{- required "postgresql.external.existingSecret is required when postgresql.enabled is false: run `zkpot db provision --out DIR` as the database's superuser, then `kubectl create secret generic NAME --from-file=DIR`" .Values.postgresql.external.existingSecret }}
{{- end }}
{{- end }}

{{/* Each account's schema (JSON), as zkpot.db.tables.SCHEMA_OF_SERVICE; its role is <prefix>_<schema>. */}}
{{- define "zkpot.databaseAccounts" -}}
{{- dict "trainer" "trainer" "prover" "prover" "validator" "validator" "block-producer" "producer" "ipfs-gateway" "gateway" "reader" "reader" | toJson }}
{{- end }}

{{/* A password of the in-cluster PostgreSQL (dict ctx, key, given): given, else kept from the live Secret, else random. */}}
{{- define "zkpot.databasePassword" -}}
{{- if .given }}
{{- .given }}
{{- else }}
{{- $name := include "zkpot.componentName" (dict "ctx" .ctx "component" "database") }}
{{- $live := lookup "v1" "Secret" .ctx.Release.Namespace $name }}
{{- if and $live $live.data (index $live.data .key) }}
{{- index $live.data .key | b64dec }}
{{- else }}
{{- randAlphaNum 32 }}
{{- end }}
{{- end }}
{{- end }}

{{- define "zkpot.keysSecret" -}}
{{- if .Values.keys.existingSecret }}
{{- .Values.keys.existingSecret }}
{{- else if .Values.keys.inline }}
{{- include "zkpot.componentName" (dict "ctx" . "component" "keys") }}
{{- else }}
{{- fail "keys: set keys.existingSecret (production) or keys.inline (development only)" }}
{{- end }}
{{- end }}

{{/*
Prover memory, derived from the proving key size when prover.resources is empty. Measured (ezkl 23,
mlp-64-32-10): pk 0.5 GB -> prove RSS 1.3 GB, pk 2.5 GB -> 5.5 GB, pk 4.2 GB -> 9.9 GB. Request = 2 x pk
+ 0.5 GiB runtime, limit = 2.5 x pk + 0.5 GiB; one worker. More workers multiply the pk term.
*/}}
{{- define "zkpot.proverResources" -}}
{{- if .Values.prover.resources }}
{{- toYaml .Values.prover.resources }}
{{- else }}
{{- $pk := float64 .Values.prover.provingKeyGiB }}
{{- $w := float64 .Values.prover.workers }}
{{- $request := addf (mulf $pk 2.0 $w) 0.5 | mulf 1024.0 | ceil | int }}
{{- $limit := addf (mulf $pk 2.5 $w) 0.5 | mulf 1024.0 | ceil | int }}
requests:
  cpu: {{ .Values.prover.cpu.request | quote }}
  memory: {{ printf "%dMi" $request }}
limits:
  cpu: {{ .Values.prover.cpu.limit | quote }}
  memory: {{ printf "%dMi" $limit }}
{{- end }}
{{- end }}

{{/* Byzantine validators tolerated (f, with n >= 3f + 1) and the quorum 2f + 1. */}}
{{- define "zkpot.validatorFaults" -}}
{{- div (sub (int .Values.validator.replicas) 1) 3 }}
{{- end }}

{{- define "zkpot.validatorQuorum" -}}
{{- add (mul 2 (int (include "zkpot.validatorFaults" .))) 1 }}
{{- end }}

{{/* Annotations whose change rolls the pods: config the pods read at start. */}}
{{- define "zkpot.checksums" -}}
checksum/database: {{ list .Values.postgresql.roles.prefix .Values.postgresql.roles.passwords .Values.postgresql.external.existingSecret | toJson | sha256sum }}
checksum/setup: {{ list .Values.genesis .Values.keys.publicJson .Values.srs .Values.image | toJson | sha256sum }}
checksum/keys: {{ list .Values.keys.existingSecret .Values.keys.inline | toJson | sha256sum }}
checksum/deps: {{ list .Values.nats.enabled .Values.nats.externalUrl .Values.postgresql.enabled .Values.postgresql.external .Values.postgresql.auth.username .Values.postgresql.auth.database | toJson | sha256sum }}
{{- end }}

{{/* A NetworkPolicy peer: the pods of one component of this release. */}}
{{- define "zkpot.peer" -}}
podSelector:
  matchLabels:
    {{- include "zkpot.selectorLabels" . | nindent 4 }}
{{- end }}

{{/* Secret holding the NATS server's TLS certificate (tls.crt, tls.key, ca.crt). */}}
{{- define "zkpot.natsTlsSecret" -}}
{{- .Values.nats.tls.secretName | default (include "zkpot.componentName" (dict "ctx" . "component" "nats-tls")) }}
{{- end }}
