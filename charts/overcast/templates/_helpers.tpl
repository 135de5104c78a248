{{- define "overcast.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "overcast.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "overcast.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "overcast.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "overcast.apiUrl" -}}
{{- .Values.apiServer.publicUrl | default (printf "http://%s-api.%s.svc:%v" (include "overcast.fullname" .) .Release.Namespace .Values.apiServer.port) -}}
{{- end -}}

{{/* Environment shared by every program: database and bus from the Secret, log level. */}}
{{- define "overcast.commonEnv" -}}
- name: OVERCAST_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{- if or .Values.database.url .Values.database.existingSecret }}
- name: OVERCAST_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.existingSecret | default (printf "%s-connections" (include "overcast.fullname" .)) }}
      key: database-url
{{- end }}
{{- if or .Values.bus.url .Values.bus.existingSecret }}
- name: OVERCAST_BUS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.bus.existingSecret | default (printf "%s-connections" (include "overcast.fullname" .)) }}
      key: bus-url
{{- end }}
{{- end -}}
