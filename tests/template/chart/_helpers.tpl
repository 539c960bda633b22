{{/* _helpers.tpl — named templates shared by the chart fixture, Helm style. */}}
{{- define "app.name" -}}
{{- default "app" .Variables.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end }}

{{- define "app.labels" -}}
app.kubernetes.io/name: {{ include "app.name" . }}
app.kubernetes.io/version: {{ .Variables.image.tag | quote }}
{{- range $k, $v := .Variables.extraLabels }}
{{ $k }}: {{ $v | quote }}
{{- end }}
{{- end }}
