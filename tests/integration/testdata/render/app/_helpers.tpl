{{- define "shop.labels" -}}
app: {{ .Variables.name }}
tier: web
{{- end }}
