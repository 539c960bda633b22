{{/* shop's names: the library's helpers do the work */}}
{{- define "shop.fullname" -}}
{{- include "common.fullname" . -}}
{{- end -}}
{{- define "shop.image" -}}
{{ .Values.global.registry.host }}/{{ .Values.image.repository | base }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- define "shared.tag" -}}the parent's definition{{- end -}}
