"""template_chart_bench.py — chart mode: `appdeploy template --chart` vs the real `helm template` (3.17.2, from
scripts/get-helm.sh) on the same generated chart (60 templates: a Deployment, a Service and a ConfigMap for each
of 20 services, helpers, a values file), in the same run.

Each tool renders the chart RUNS times, one process per render, alternating; the figure is the median wall time;
throughput is templates rendered per second; peak RSS comes from wait4(). Both outputs must be identical.
Prints figures and the ratio; asserts nothing else."""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.environ.get("BUILD") or os.path.join(ROOT, "build")
APPDEPLOY = os.path.join(BUILD, "appdeploy")
HELM = os.environ.get("SOURCEMODE_HELM", os.path.join(ROOT, "build", "tools", "helm"))
RUNS = int(os.environ.get("RUNS", "9"))
SERVICES = int(os.environ.get("SERVICES", "20"))

HELPERS = """\
{{- define "bench.fullname" -}}
{{- printf "%s-%s" .root.Release.Name .svc.name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- define "bench.labels" -}}
app.kubernetes.io/name: {{ .svc.name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/version: {{ .svc.tag | default .root.Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- with .svc.labels }}
{{ toYaml . }}
{{- end }}
{{- end -}}
"""

DEPLOYMENT = """\
{{- $svc := index .Values.services "NAME" }}
{{- $ctx := dict "root" $ "svc" $svc }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "bench.fullname" $ctx }}
  labels:
    {{- include "bench.labels" $ctx | nindent 4 }}
  annotations:
    checksum/config: {{ include (print $.Template.BasePath "/NAME-configmap.yaml") . | sha256sum }}
spec:
  replicas: {{ $svc.replicas | default .Values.defaults.replicas }}
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ $svc.name }}
  template:
    metadata:
      labels:
        {{- include "bench.labels" $ctx | nindent 8 }}
    spec:
      containers:
        - name: {{ $svc.name }}
          image: "{{ .Values.registry }}/{{ $svc.name }}:{{ $svc.tag | default "latest" }}"
          ports:
            {{- range $svc.ports }}
            - containerPort: {{ . }}
            {{- end }}
          env:
            {{- range $k, $v := $svc.env }}
            - name: {{ $k | upper | replace "-" "_" }}
              value: {{ $v | quote }}
            {{- end }}
          resources:
            {{- toYaml (default .Values.defaults.resources $svc.resources) | nindent 12 }}
"""

SERVICE = """\
{{- $svc := index .Values.services "NAME" }}
apiVersion: v1
kind: Service
metadata:
  name: {{ printf "%s-%s" .Release.Name $svc.name | trunc 63 }}
spec:
  selector:
    app.kubernetes.io/name: {{ $svc.name }}
  ports:
    {{- range $i, $p := $svc.ports }}
    - name: port-{{ $i }}
      port: {{ $p }}
      targetPort: {{ $p | int }}
    {{- end }}
"""

CONFIGMAP = """\
{{- $svc := index .Values.services "NAME" }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-{{ $svc.name }}-config
data:
  settings.json: {{ toJson $svc.env | quote }}
  {{- range $k, $v := $svc.env }}
  {{ $k }}: {{ $v | toString | quote }}
  {{- end }}
  tags: {{ join "," (sortAlpha $svc.tags) | quote }}
  region: {{ regexReplaceAll "[^a-z0-9-]+" ($.Values.region | lower) "-" }}
"""


def make_chart(d):
    chart = os.path.join(d, "bench")
    os.makedirs(os.path.join(chart, "templates"))
    with open(os.path.join(chart, "Chart.yaml"), "w") as f:
        f.write("apiVersion: v2\nname: bench\nversion: 1.0.0\nappVersion: \"3.1\"\n")
    with open(os.path.join(chart, "templates", "_helpers.tpl"), "w") as f:
        f.write(HELPERS)
    lines = ["registry: registry.example.com/team", "region: EU West (1)", "defaults:", "  replicas: 2",
             "  resources:", "    limits: {cpu: 500m, memory: 256Mi}", "    requests: {cpu: 100m, memory: 64Mi}",
             "services:"]
    for i in range(SERVICES):
        name = f"svc{i:02d}"
        lines += [f"  {name}:", f"    name: {name}", f"    tag: \"1.{i}.0\"", f"    replicas: {1 + i % 4}",
                  f"    ports: [{8000 + i}, {9000 + i}]", "    labels:", f"      team: team-{i % 5}",
                  "      tier: backend", "    tags: [b, a, c]", "    env:"]
        lines += [f"      var-{k}: value-{i}-{k}" for k in range(8)]
        for kind, text in (("deployment", DEPLOYMENT), ("service", SERVICE), ("configmap", CONFIGMAP)):
            with open(os.path.join(chart, "templates", f"{name}-{kind}.yaml"), "w") as f:
                f.write(text.replace("NAME", name))
    with open(os.path.join(chart, "values.yaml"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return chart


def measure(cmd, env):
    """One render: wall seconds, output, and peak RSS in KiB (wait4's ru_maxrss)."""
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        fd = os.open(os.devnull, os.O_WRONLY)
        out = os.open(env["_OUT"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(out, 1)
        os.dup2(fd, 2)
        os.execve(cmd[0], cmd, {k: v for k, v in env.items() if k != "_OUT"})
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    with open(env["_OUT"], "rb") as f:
        data = f.read()
    return wall, data, ru.ru_maxrss, os.waitstatus_to_exitcode(status)


def main():
    for tool in (APPDEPLOY, HELM):
        if not os.access(tool, os.X_OK):
            print(f"template_chart_bench: {tool} is missing (make; scripts/get-helm.sh)", file=sys.stderr)
            return 1
    d = tempfile.mkdtemp(prefix="chartbench-")
    try:
        chart = make_chart(d)
        ntemplates = len(os.listdir(os.path.join(chart, "templates"))) - 1
        env = dict(os.environ, HOME=d, KUBECONFIG=os.path.join(d, "none"), HELM_CACHE_HOME=os.path.join(d, "c"),
                   HELM_CONFIG_HOME=os.path.join(d, "cf"), HELM_DATA_HOME=os.path.join(d, "dt"))
        ours_cmd = [APPDEPLOY, "template", "--chart", chart, "--name", "bench"]
        helm_cmd = [HELM, "template", "bench", chart]
        res = {"appdeploy": [], "helm": []}
        outs = {}
        for _ in range(RUNS):
            for name, cmd in (("appdeploy", ours_cmd), ("helm", helm_cmd)):
                e = dict(env, _OUT=os.path.join(d, name + ".out"))
                wall, out, rss, rc = measure(cmd, e)
                if rc != 0:
                    print(f"template_chart_bench: {name} failed (exit {rc})", file=sys.stderr)
                    return 1
                res[name].append((wall, rss))
                outs[name] = out
        same = outs["appdeploy"] == outs["helm"]
        print(f"chart: {ntemplates} templates ({SERVICES} services), output {len(outs['helm'])} bytes, "
              f"identical output: {'yes' if same else 'NO'}")
        fig = {}
        for name in ("appdeploy", "helm"):
            med = statistics.median(w for w, _ in res[name])
            rss = max(r for _, r in res[name])
            fig[name] = (med, rss)
            print(f"  {name:10s} median {med * 1000:8.1f} ms  {ntemplates / med:8.0f} templates/s  peak RSS {rss / 1024:6.1f} MB")
        print(f"  throughput appdeploy/helm: {fig['helm'][0] / fig['appdeploy'][0]:.1f}x; "
              f"peak RSS helm/appdeploy: {fig['helm'][1] / fig['appdeploy'][1]:.1f}x")
        return 0 if same else 1
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
