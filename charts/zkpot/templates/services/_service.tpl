{{/*
The pod template of one zkpot service. Arguments (dict):
  ctx        root context
  component  the service: trainer, prover, validator, block-producer, ipfs-gateway
  values     that service's values block
  env        extra env entries (YAML list string), set only by this service
  keyItems   Secret items [{key, path}] to mount at /etc/zkpot/keys (empty: no keys)
  resources  resources (YAML string); default: values.resources
  dataClaim  name of a volumeClaimTemplate to mount at /var/lib/zkpot-data (optional)
*/}}
{{- define "zkpot.servicePod" -}}
{{- $ctx := .ctx -}}
{{- $v := .values -}}
{{- $artifacts := ne .component "ipfs-gateway" -}}
metadata:
  labels:
    {{- include "zkpot.labels" (dict "ctx" $ctx "component" .component) | nindent 4 }}
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
        - name: ZKPOT_DATABASE_URL
          valueFrom:
            secretKeyRef:
              name: {{ include "zkpot.databaseSecret" $ctx }}
              key: {{ printf "%s.url" .component }}
        {{- if $artifacts }}
        - name: ZKPOT_GATEWAY_URL
          value: {{ include "zkpot.gatewayUrl" $ctx | quote }}
        - name: ZKPOT_GENESIS
          value: /var/lib/zkpot/genesis.json
        {{- end }}
        {{- with .env }}
        {{- . | nindent 8 }}
        {{- end }}
      volumeMounts:
        - name: tmp
          mountPath: /tmp
        {{- if $artifacts }}
        - name: artifacts
          mountPath: /var/lib/zkpot
          readOnly: true
        {{- end }}
        {{- if .keyItems }}
        - name: keys
          mountPath: /etc/zkpot/keys
          readOnly: true
        {{- end }}
        {{- if .dataClaim }}
        - name: {{ .dataClaim }}
          mountPath: /var/lib/zkpot-data
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
    {{- if $artifacts }}
    - name: artifacts
      persistentVolumeClaim:
        claimName: {{ include "zkpot.componentName" (dict "ctx" $ctx "component" "artifacts") }}
        readOnly: true
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

{{/* Key items of a StatefulSet member role: <prefix>-<i>.key mounted as <pod name>.key. */}}
{{- define "zkpot.memberKeyItems" -}}
{{- $items := list -}}
{{- range $i := until (int .replicas) -}}
{{- $n := add $i $.first -}}
{{- $items = append $items (dict "key" (printf "%s-%d.key" $.prefix $n) "path" (printf "%s-%d.key" $.stsName $n)) -}}
{{- end -}}
{{- toYaml $items }}
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
