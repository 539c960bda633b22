"""template_bench.py — renders a Helm-style chart of 50 manifests with a large values file in `appdeploy template`
and in the Go text/template + sprig oracle (tests/template/helmtmpl, a built binary), in the same run.

Each engine renders the whole chart RUNS times (one process per render, as a deploy would); the figure is
the median wall time, throughput is values+templates rendered per second and output MB/s, peak RSS comes
from wait4(). Both outputs must be identical. VALGRIND=1 also runs appdeploy once under memcheck.
Prints figures and ratios; asserts nothing else."""
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
ORACLE_SRC = os.path.join(ROOT, "tests", "template", "helmtmpl", "helmtmpl.go")
RUNS = int(os.environ.get("RUNS", "7"))
SERVICES = int(os.environ.get("SERVICES", "50"))

HELPERS = """\
{{- define "chart.fullname" -}}
{{- $name := default .name .nameOverride -}}
{{- printf "%s-%s" $.release $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "chart.labels" -}}
app.kubernetes.io/name: {{ .svc.name }}
app.kubernetes.io/instance: {{ .release }}
app.kubernetes.io/version: {{ .svc.image.tag | default "latest" | quote }}
app.kubernetes.io/managed-by: appdeploy
{{- with .svc.labels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "chart.selector" -}}
app.kubernetes.io/name: {{ .svc.name }}
app.kubernetes.io/instance: {{ .release }}
{{- end -}}

{{- define "chart.env" -}}
{{- range .svc.env }}
- name: {{ .name }}
  {{- if .value }}
  value: {{ .value | quote }}
  {{- else }}
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: {{ .key | default .name | lower }}
  {{- end }}
{{- end }}
{{- range $k, $v := .global.env }}
- name: {{ $k | upper }}
  value: {{ $v | quote }}
{{- end }}
{{- end -}}
"""

# One manifest per service; the kind cycles so every file differs in shape.
DEPLOYMENT = """\
{{- $svc := index .Variables.services "%(name)s" }}
{{- $ctx := dict "svc" $svc "release" .Variables.release "name" $svc.name "global" .Variables.global }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "chart.fullname" $ctx }}
  namespace: {{ .Namespace | default "default" }}
  labels:
    {{- include "chart.labels" $ctx | nindent 4 }}
  annotations:
    checksum/config: {{ toYaml $svc.config | sha256sum }}
spec:
  replicas: {{ $svc.replicas | default 1 }}
  selector:
    matchLabels:
      {{- include "chart.selector" $ctx | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "chart.selector" $ctx | nindent 8 }}
      {{- with $svc.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
    spec:
      {{- with .Variables.global.imagePullSecrets }}
      imagePullSecrets:
        {{- range . }}
        - name: {{ . }}
        {{- end }}
      {{- end }}
      containers:
        - name: {{ $svc.name }}
          image: {{ printf "%%s/%%s:%%s" .Variables.global.registry $svc.image.repository ($svc.image.tag | toString) | quote }}
          imagePullPolicy: {{ $svc.image.pullPolicy | default "IfNotPresent" }}
          {{- with $svc.args }}
          args:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          ports:
            {{- range $svc.ports }}
            - name: {{ .name }}
              containerPort: {{ .port }}
              protocol: {{ .protocol | default "TCP" }}
            {{- end }}
          env:
            {{- include "chart.env" $ctx | indent 12 }}
          resources:
            {{- toYaml $svc.resources | nindent 12 }}
          {{- if $svc.probes }}
          livenessProbe:
            httpGet:
              path: {{ $svc.probes.path }}
              port: {{ (first $svc.ports).name }}
            initialDelaySeconds: {{ $svc.probes.delay | default 10 }}
          {{- end }}
          volumeMounts:
            {{- range $i, $v := $svc.volumes }}
            - name: {{ $v.name }}
              mountPath: {{ $v.path }}
              readOnly: {{ ternary "true" "false" (eq (mod $i 2) 0) }}
            {{- end }}
      volumes:
        {{- range $svc.volumes }}
        - name: {{ .name }}
          configMap:
            name: {{ printf "%%s-%%s" $svc.name .name }}
        {{- end }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "chart.fullname" $ctx }}-config
  labels:
    {{- include "chart.labels" $ctx | nindent 4 }}
data:
  {{- range $k, $v := $svc.config }}
  {{ $k }}: {{ $v | toString | quote }}
  {{- end }}
  settings.yaml: |
    {{- toYaml $svc.settings | nindent 4 }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "chart.fullname" $ctx }}
  labels:
    {{- include "chart.labels" $ctx | nindent 4 }}
spec:
  type: {{ $svc.serviceType | default "ClusterIP" }}
  selector:
    {{- include "chart.selector" $ctx | nindent 4 }}
  ports:
  {{- range $svc.ports }}
  - name: {{ .name }}
    port: {{ .port }}
    targetPort: {{ .name }}
  {{- end }}
{{- if $svc.ingress }}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ include "chart.fullname" $ctx }}
  annotations:
    {{- toYaml .Variables.global.ingressAnnotations | nindent 4 }}
spec:
  rules:
  {{- range $svc.ingress.hosts }}
  - host: {{ printf "%%s.%%s" . $.Variables.global.domain }}
    http:
      paths:
      - path: {{ $svc.ingress.path | default "/" }}
        pathType: Prefix
        backend:
          service:
            name: {{ include "chart.fullname" $ctx }}
            port:
              name: {{ (first $svc.ports).name }}
  {{- end }}
{{- end }}
"""


def values_yaml(services):
    out = ["release: shop", "global:", "  registry: registry.example.com", "  domain: dev.example.com",
           "  imagePullSecrets: [regcred, mirror]", "  ingressAnnotations:",
           "    nginx.ingress.kubernetes.io/proxy-body-size: 8m", "    cert-manager.io/cluster-issuer: letsencrypt",
           "  env:"]
    out += ["    global_%02d: value-%d" % (i, i * 37) for i in range(20)]
    out.append("services:")
    for s in range(services):
        name = "svc-%02d" % s
        out += ["  %s:" % name, "    name: %s" % name, "    replicas: %d" % (1 + s % 4),
                "    image: {repository: team/%s, tag: \"1.%d.%d\", pullPolicy: Always}" % (name, s, s * 3),
                "    args: [--port=8080, --log-level=info, --name=%s]" % name,
                "    labels: {team: team-%d, tier: backend, cost-center: \"%d\"}" % (s % 7, 1000 + s),
                "    podAnnotations: {prometheus.io/scrape: \"true\", prometheus.io/port: \"9090\"}",
                "    ports:", "      - {name: http, port: 8080}", "      - {name: metrics, port: 9090, protocol: TCP}",
                "    probes: {path: /healthz, delay: %d}" % (5 + s % 10),
                "    resources:", "      limits: {cpu: %dm, memory: %dMi}" % (500 + s * 10, 256 + s * 8),
                "      requests: {cpu: 100m, memory: 128Mi}"]
        if s % 3 == 0:
            out += ["    ingress: {path: /api, hosts: [%s, %s-alt]}" % (name, name)]
        out.append("    env:")
        for e in range(40):
            if e % 5 == 4:
                out.append("      - {name: SECRET_%d, secret: %s-secrets}" % (e, name))
            else:
                out.append("      - {name: VAR_%d, value: \"value %d for %s\"}" % (e, e * s, name))
        out.append("    volumes:")
        out += ["      - {name: vol%d, path: /etc/%s/%d}" % (v, name, v) for v in range(6)]
        out.append("    config:")
        out += ["      key_%03d: %s" % (k, ["\"text %d\"" % k, str(k * 1000 + s), "true", "%d.5" % k][k % 4])
                for k in range(300)]
        out.append("    settings:")
        out += ["      section%d:" % i for i in range(1)]
        out += ["        option_%02d: {enabled: %s, limit: %d, name: opt-%d}" % (o, "true" if o % 2 else "false", o * 10, o)
                for o in range(60)]
    return "\n".join(out) + "\n"


def run(argv, cwd):
    """Returns (seconds, peak RSS in MiB, stdout) of one run; fails loudly on a non-zero exit."""
    t0 = time.monotonic()
    p = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate()
    dt = time.monotonic() - t0
    # communicate() reaped the child; its rusage is read from the accumulated children figure below
    if p.returncode:
        sys.exit("%s failed (%d):\n%s" % (" ".join(argv), p.returncode, err.decode()[-2000:]))
    return dt, out


def peak_rss(argv, cwd):
    """Peak resident set (MiB) of one run, from wait4()."""
    p = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, ru = os.wait4(p.pid, 0)
    return ru.ru_maxrss / 1024.0


def build_oracle(dest):
    env = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode", GOFLAGS="",
               GOCACHE=os.path.join(BUILD, "gocache"))
    env.setdefault("HOME", BUILD)
    subprocess.run(["go", "build", "-o", dest, ORACLE_SRC], check=True, env=env)


def main():
    if not shutil.which("go") or not os.path.exists("/usr/share/gocode/src/github.com/Masterminds/sprig"):
        print("template: skipped (needs golang-go and golang-github-masterminds-sprig-dev: scripts/deps.sh test)")
        return
    oracle = os.path.join(BUILD, "helmtmpl")
    if not os.path.exists(oracle) or os.path.getmtime(oracle) < os.path.getmtime(ORACLE_SRC):
        build_oracle(oracle)
    d = tempfile.mkdtemp(prefix="tmplbench")
    try:
        with open(os.path.join(d, "values.yaml"), "w") as f:
            f.write(values_yaml(SERVICES))
        with open(os.path.join(d, "_helpers.tpl"), "w") as f:
            f.write(HELPERS)
        files = ["_helpers.tpl"]
        for s in range(SERVICES):
            name = "svc-%02d.yaml" % s
            with open(os.path.join(d, name), "w") as f:
                f.write(DEPLOYMENT % {"name": "svc-%02d" % s})
            files.append(name)
        ours = [APPDEPLOY, "template", "-f", "values.yaml", "-n", "shop"] + files
        theirs = [oracle, "-values", "values.yaml", "-n", "shop"] + files
        vsize = os.path.getsize(os.path.join(d, "values.yaml"))

        _, out_ours = run(ours, d)
        _, out_go = run(theirs, d)
        same = out_ours == out_go
        times = {"appdeploy": [], "go": []}
        for _ in range(RUNS):  # interleaved, so both see the same machine load
            times["appdeploy"].append(run(ours, d)[0])
            times["go"].append(run(theirs, d)[0])
        rss = {"appdeploy": peak_rss(ours, d), "go": peak_rss(theirs, d)}
        med = {k: statistics.median(v) for k, v in times.items()}
        mb = len(out_ours) / 1e6
        print("template: %d manifests (%d services), values %.1f MB, output %.1f MB (%d lines), outputs %s"
              % (len(files) - 1, SERVICES, vsize / 1e6, mb, out_ours.count(b"\n"),
                 "identical" if same else "DIFFER"))
        print("  %-22s %10s %12s %12s %12s" % ("engine", "median s", "renders/s", "output MB/s", "peak RSS MiB"))
        for k, label in (("appdeploy", "appdeploy template"), ("go", "Go text/template+sprig")):
            print("  %-22s %10.3f %12.1f %12.1f %12.1f" % (label, med[k], 1 / med[k], mb / med[k], rss[k]))
        print("  throughput ratio appdeploy/Go: %.2fx (goal >= 3x); peak RSS ratio Go/appdeploy: %.2fx"
              % (med["go"] / med["appdeploy"], rss["go"] / rss["appdeploy"]))
        if not same:
            a, b = out_ours.decode(errors="replace"), out_go.decode(errors="replace")
            i = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
            print("  first difference at byte %d:\n    ours: %r\n    go:   %r" % (i, a[max(0, i - 80):i + 80],
                                                                             b[max(0, i - 80):i + 80]))
        if os.environ.get("VALGRIND") and shutil.which("valgrind"):
            p = subprocess.run(["valgrind", "--leak-check=full", "--show-leak-kinds=all", "--errors-for-leak-kinds=all",
                                "--error-exitcode=99", "-q"] + ours, cwd=d, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
            print("  valgrind memcheck: exit %d, %s" % (p.returncode, "clean" if p.returncode == 0 and not p.stderr
                                                        else p.stderr.decode()[-3000:]))
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
