{{/*
The pod template of one zkpot service. Arguments (dict):
  ctx        root context
  component  the service: trainer, prover, validator, block-producer, ipfs-gateway
  values     that service's values block
  env        extra env entries (YAML list string), set only by this service
  keyItems   Secret items [{key, path}] to mount at /etc/zkpot/keys (empty: no keys)
  natsSeed   file under /etc/zkpot/keys holding this pod's NATS nkey seed (ZKPOT_NATS_NKEY_FILE, with nats.auth)
  resources  resources (YAML string); default: values.resources
  dataClaim  name of a volumeClaimTemplate to mount at /var/lib/zkpot-data (optional)
  index      the member's or validator's index, labelled zkpot.io/index (optional)
*/}}
{{- define "zkpot.servicePod" -}}
{{- $ctx := .ctx -}}
{{- $v := .values -}}
{{- $artifacts := ne .component "ipfs-gateway" -}}
{{- $natsCa := and $ctx.Values.nats.tls.enabled $artifacts -}}
{{- $meta := pick . "ctx" "component" "index" -}}
metadata:
  labels:
    {{- include "zkpot.labels" $meta | nindent 4 }}
  annotations:
    {{- include "zkpot.checksums" $ctx | nindent 4 }}
    {{- with $v.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  {{- include "zkpot.podCommon" $ctx | nindent 2 }}
  terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds }}
  containers:
    - name: {{ .component }}
      image: {{ include "zkpot.image" (dict "ctx" $ctx) }}
      imagePullPolicy: {{ $ctx.Values.image.pullPolicy }}
      args: ["serve", {{ .component | quote }}]
      ports:
        - name: http
          containerPort: {{ $ctx.Values.httpPort }}
          protocol: TCP
      env:
        - name: ZKPOT_SERVICE
          value: {{ .component | quote }}
        - name: ZKPOT_INSTANCE
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        - name: ZKPOT_HTTP_PORT
          value: {{ $ctx.Values.httpPort | quote }}
        - name: ZKPOT_LOG_LEVEL
          value: {{ $ctx.Values.logLevel | quote }}
        - name: ZKPOT_NATS_URL
          value: {{ include "zkpot.natsUrl" $ctx | quote }}
        {{- if and $ctx.Values.nats.auth.enabled .natsSeed }}
        - name: ZKPOT_NATS_NKEY_FILE
          value: {{ printf "/etc/zkpot/keys/%s" .natsSeed | quote }}
        {{- end }}
        {{- if $natsCa }}
        - name: ZKPOT_NATS_CA_FILE
          value: /etc/zkpot/nats-ca/ca.crt
        {{- end }}
        - name: ZKPOT_DATABASE_URL
          valueFrom:
            secretKeyRef:
              name: {{ include "zkpot.databaseSecret" $ctx }}
              key: {{ printf "%s.url" .component }}
        {{- if $artifacts }}
        - name: ZKPOT_GATEWAY_URL
          value: {{ include "zkpot.gatewayUrl" $ctx | quote }}
        {{- end }}
        - name: ZKPOT_GENESIS
          value: /var/lib/zkpot/genesis.json
        {{- with .env }}
        {{- . | nindent 8 }}
        {{- end }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        - name: artifacts
          mountPath: /var/lib/zkpot
          readOnly: true
        {{- if .keyItems }}
        - name: keys
          mountPath: /etc/zkpot/keys
          readOnly: true
        {{- end }}
        {{- if .dataClaim }}
        - name: {{ .dataClaim }}
          mountPath: /var/lib/zkpot-data
        {{- end }}
        {{- if $natsCa }}
        - name: nats-ca
          mountPath: /etc/zkpot/nats-ca
          readOnly: true
        {{- end }}
      {{- with $ctx.Values.probes }}
      startupProbe:
        httpGet: {path: /healthz, port: http}
        periodSeconds: {{ .startup.periodSeconds }}
        failureThreshold: {{ $v.startupFailureThreshold | default .startup.failureThreshold }}
      livenessProbe:
        httpGet: {path: /healthz, port: http}
        periodSeconds: {{ .liveness.periodSeconds }}
        timeoutSeconds: {{ .liveness.timeoutSeconds }}
        failureThreshold: {{ .liveness.failureThreshold }}
      readinessProbe:
        httpGet: {path: /readyz, port: http}
        periodSeconds: {{ .readiness.periodSeconds }}
        timeoutSeconds: {{ .readiness.timeoutSeconds }}
        failureThreshold: {{ .readiness.failureThreshold }}
      {{- end }}
      resources:
        {{- .resources | default (toYaml $v.resources) | nindent 8 }}
      {{- include "zkpot.containerSecurityContext" $ctx | nindent 6 }}
  volumes:
    - name: tmp
      emptyDir:
        sizeLimit: {{ $v.tmpSize }}
    - name: artifacts  # the genesis (every service) and the derived circuit (all but the gateway)
      persistentVolumeClaim:
        claimName: {{ include "zkpot.componentName" (dict "ctx" $ctx "component" "artifacts") }}
        readOnly: true
    {{- if $natsCa }}
    - name: nats-ca
      secret:
        secretName: {{ include "zkpot.natsTlsSecret" $ctx }}
        items: [{key: ca.crt, path: ca.crt}]
    {{- end }}
    {{- if .keyItems }}
    - name: keys
      secret:
        secretName: {{ include "zkpot.keysSecret" $ctx }}
        defaultMode: 0400
        items:
          {{- toYaml .keyItems | nindent 10 }}
    {{- end }}
{{- end }}

{{/*
The StatefulSet of ONE trainer (a member) or ONE validator: replicas 1, so its pod template mounts only that
identity's Secret items, <prefix>-<index>.key and with nats.auth nats-<natsRole>-<index>.nk (a StatefulSet's pods
share one template: one StatefulSet for all would mount every identity's key in every pod). Its pod is
<name>-0 under the component's headless Service. Arguments (dict): ctx, component, values, index, prefix,
natsRole, env (list of the service's own entries), persistence (optional: {size, storageClass} of a data volume
of its own at /var/lib/zkpot-data).
*/}}
{{- define "zkpot.memberStatefulSet" -}}
{{- $ctx := .ctx }}
{{- $meta := dict "ctx" $ctx "component" .component "index" .index }}
{{- $key := printf "%s-%d.key" .prefix (int .index) }}
{{- $seed := printf "nats-%s-%d.nk" .natsRole (int .index) }}
{{- $items := list (dict "key" $key "path" $key) }}
{{- if $ctx.Values.nats.auth.enabled }}
{{- $items = append $items (dict "key" $seed "path" $seed) }}
{{- end }}
{{- $env := prepend .env (dict "name" "ZKPOT_KEY_FILE" "value" (printf "/etc/zkpot/keys/%s" $key)) }}
{{- $pod := dict "ctx" $ctx "component" .component "index" .index "values" .values "env" (toYaml $env) "keyItems" $items "natsSeed" $seed }}
{{- if .persistence }}
{{- $_ := set $pod "dataClaim" "data" }}
{{- end }}
apiVersion: apps/v1
kind: StatefulSet
metadata:
  {{- include "zkpot.metadata" $meta | nindent 2 }}
  annotations:
    {{- include "zkpot.checkovServiceSkips" $ctx | nindent 4 }}
spec:
  replicas: 1
  serviceName: {{ include "zkpot.componentName" $meta }}
  selector:
    matchLabels:
      {{- include "zkpot.selectorLabels" $meta | nindent 6 }}
  template:
    {{- include "zkpot.servicePod" $pod | nindent 4 }}
  {{- with .persistence }}
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: ["ReadWriteOnce"]
        {{- with .storageClass }}
        storageClassName: {{ . }}
        {{- end }}
        resources:
          requests:
            storage: {{ .size }}
  {{- end }}
{{- end }}

{{/* The headless Service governing a member role's StatefulSets (stable pod names <name>-0.<service>). */}}
{{- define "zkpot.headlessService" -}}
apiVersion: v1
kind: Service
metadata:
  {{- include "zkpot.metadata" . | nindent 2 }}
spec:
  clusterIP: None
  selector:
    {{- include "zkpot.selectorLabels" . | nindent 4 }}
  ports:
    - name: http
      port: {{ .ctx.Values.httpPort }}
      targetPort: http
{{- end }}

{{/* The Secret item of a single-identity role's NATS seed (nats-<role>.nk mounted as nats.nk), with nats.auth. */}}
{{- define "zkpot.natsSeedItems" -}}
{{- if .ctx.Values.nats.auth.enabled -}}
{{- toYaml (list (dict "key" (printf "nats-%s.nk" .role) "path" "nats.nk")) }}
{{- else -}}
[]
{{- end -}}
{{- end }}

{{/* A PodDisruptionBudget for one service; .pdb is {enabled, maxUnavailable}. */}}
{{- define "zkpot.pdb" -}}
{{- if .pdb.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  {{- include "zkpot.metadata" (dict "ctx" .ctx "component" .component "tier" .tier) | nindent 2 }}
spec:
  maxUnavailable: {{ .pdb.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "zkpot.selectorLabels" (dict "ctx" .ctx "component" .component) | nindent 6 }}
{{- end }}
{{- end }}

{{/*
A prover Deployment: the shared pool, or with .meta.index one member's own prover. Arguments (dict): meta
({ctx, component, index?}: name and labels), replicas, pod (the zkpot.servicePod arguments).
*/}}
{{- define "zkpot.proverDeployment" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  {{- include "zkpot.metadata" .meta | nindent 2 }}
  annotations:
    {{- include "zkpot.checkovServiceSkips" .meta.ctx | nindent 4 }}
spec:
  replicas: {{ .replicas }}
  selector:
    matchLabels:
      {{- include "zkpot.selectorLabels" .meta | nindent 6 }}
  template:
    {{- include "zkpot.servicePod" .pod | nindent 4 }}
{{- end }}
