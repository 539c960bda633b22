{{- define "shared.tag" -}}db's definition loses to the parent's{{- end -}}
{{- define "db.name" -}}{{ .Release.Name }}-{{ .Chart.Name }}{{- end -}}
