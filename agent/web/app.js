// app.js — the appdeploy dashboard: live deployments list (server-sent events), Redeploy, service details, log tail, source mode, Restart.
"use strict";

const $ = (sel) => document.querySelector(sel);
let csrf = "";
let snapshot = { deployments: [] };
let selected = null;      // name of the service whose details are open
let logSource = null;     // EventSource of the open log
const jobs = new Map();   // id -> job
const watched = new Map(); // job id -> callback(job) for jobs this page started

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props || {});
  for (const c of children) e.append(c);
  return e;
}

function age(ts) {
  if (!ts) return "";
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(ts)) / 1000));
  if (s < 60) return s + "s";
  if (s < 3600) return Math.floor(s / 60) + "m";
  if (s < 86400) return Math.floor(s / 3600) + "h";
  return Math.floor(s / 86400) + "d";
}

async function post(path, body) {
  const r = await fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body || {}),
  });
  const j = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(j.error || "HTTP " + r.status);
  return j;
}

// Marks lines that name a template position (file:line:col) or say error.
function setOutput(pre, text) {
  pre.textContent = "";
  for (const line of text.split("\n")) {
    const isErr = /:\d+:\d+:|error|failed/i.test(line);
    pre.append(isErr ? el("span", { className: "err", textContent: line }) : line, "\n");
  }
  pre.scrollTop = pre.scrollHeight;
}

// ---------------------------------------------------------------- deployments list

function renderList() {
  const body = $("#deployments tbody");
  const rows = [];
  for (const d of snapshot.deployments || []) {
    const name = el("a", { textContent: d.name, href: "#" + d.name, className: "name" });
    const mode = el("td", { className: "mode mode-" + d.mode });
    mode.append(d.mode === "source" ? "source" : "CI image");
    if (d.source_capable) mode.title = "runner: " + (d.runner || "?");
    const tr = el("tr", {},
      el("td", {}, name),
      el("td", { className: "ready", textContent: d.ready + "/" + d.desired }),
      el("td", {}, el("span", { className: "badge state state-" + d.state, textContent: d.state, title: d.message || "" })),
      mode,
      el("td", { className: "image", textContent: d.image || "" }),
      el("td", { className: "age", textContent: age(d.created) }));
    tr.dataset.name = d.name;
    rows.push(tr);
  }
  body.replaceChildren(...rows);
  $("#empty").hidden = rows.length > 0 || !!snapshot.error;
  const ce = $("#cluster-error");
  ce.hidden = !snapshot.error;
  ce.textContent = snapshot.error ? "cluster: " + snapshot.error : "";
  if (snapshot.namespace) $("#namespace").textContent = "· " + snapshot.namespace;
  document.body.dataset.ready = "1";
  if (selected) renderDetails();
}

// ---------------------------------------------------------------- jobs (redeploy, source toggles, restarts)

function showJob(job) {
  const titles = { redeploy: "Redeploy", "auto-sync": "Templates changed: sync", "initial-sync": "Sync on start",
    "source-on": "Source mode on: ", "source-off": "Source mode off: ", restart: "Restart: " };
  $("#job").hidden = false;
  $("#job").dataset.id = job.id;
  $("#job-title").textContent = (titles[job.kind] || job.kind) + (job.target || "");
  const st = $("#job-status");
  st.textContent = job.state;
  st.className = "badge " + job.state;
  setOutput($("#job-output"), job.output || "");
}

function onJob(job) {
  jobs.set(job.id, job);
  const cb = watched.get(job.id);
  if (cb) cb(job);
  // syncs are everyone's business; restarts show in the details panel
  if (job.kind !== "restart" && (cb || job.kind === "auto-sync" || job.kind === "initial-sync" || job.state === "failed"))
    showJob(job);
  if (job.state === "ok" || job.state === "failed") watched.delete(job.id);
}

async function redeploy() {
  const b = $("#redeploy");
  b.disabled = true;
  try {
    const { job } = await post("/api/redeploy");
    watched.set(job, (j) => { if (j.state === "ok" || j.state === "failed") b.disabled = false; });
    if (jobs.has(job)) onJob(jobs.get(job));
  } catch (e) {
    b.disabled = false;
    showJob({ id: 0, kind: "redeploy", state: "failed", output: String(e.message) });
  }
}

// ---------------------------------------------------------------- details

function openDetails(name) {
  if (selected === name) return;
  closeLog();
  selected = name;
  $("#details").hidden = false;
  $("#details-name").textContent = name;
  $("#log").textContent = "";
  $("#log-pod").textContent = "";
  $("#restart-result").hidden = true;
  renderDetails();
  fetch("/api/services/" + encodeURIComponent(name)).then((r) => r.json()).then((d) => {
    if (d.exec && selected === name) $("#exec-cmd").textContent = d.exec;
  });
  openLog(name);
}

function closeDetails() {
  closeLog();
  selected = null;
  $("#details").hidden = true;
  if (location.hash) history.replaceState(null, "", location.pathname);
}

function renderDetails() {
  const d = (snapshot.deployments || []).find((x) => x.name === selected);
  if (!d) return;
  const rows = (d.pods || []).map((p) => {
    const tr = el("tr", {}, el("td", { textContent: p.name }), el("td", { textContent: p.phase }),
      el("td", { textContent: p.ready ? "yes" : "no" }), el("td", { className: "restarts", textContent: String(p.restarts) }),
      el("td", { textContent: age(p.created) }));
    tr.dataset.pod = p.name;
    return tr;
  });
  $("#pods tbody").replaceChildren(...rows);
  $("#source-box").hidden = !d.source_capable;
  const t = $("#source-toggle");
  if (!t.dataset.pending) t.checked = d.mode === "source";
  $("#source-runner").textContent = d.runner ? "(runner " + d.runner + ")" : "";
  $("#restart").hidden = d.mode !== "source";
}

async function toggleSource() {
  const t = $("#source-toggle");
  const name = selected, on = t.checked;
  t.disabled = true;
  t.dataset.pending = "1";
  const done = () => { t.disabled = false; delete t.dataset.pending; renderDetails(); };
  try {
    const { job } = await post("/api/services/" + encodeURIComponent(name) + "/source", { on });
    watched.set(job, (j) => { if (j.state === "ok" || j.state === "failed") done(); });
  } catch (e) {
    done();
    showJob({ id: 0, kind: on ? "source-on" : "source-off", target: name, state: "failed", output: e.message });
  }
}

async function restart() {
  const b = $("#restart");
  b.disabled = true;
  $("#restart-result").hidden = false;
  const oc = $("#restart-outcome");
  oc.textContent = "building…";
  oc.className = "badge running";
  $("#restart-output").textContent = "";
  const show = (j) => {
    if (j.state !== "ok" && j.state !== "failed") return;
    b.disabled = false;
    const r = j.result || {};
    oc.textContent = r.outcome || (j.ok ? "ok" : "failed");
    oc.className = "badge " + (j.ok ? "ok" : "failed");
    setOutput($("#restart-output"), r.build_output || r.error || (j.ok ? "running" : j.output || ""));
  };
  try {
    const { job } = await post("/api/services/" + encodeURIComponent(selected) + "/restart");
    watched.set(job, show);
    if (jobs.has(job)) show(jobs.get(job));
  } catch (e) {
    b.disabled = false;
    oc.textContent = "failed";
    oc.className = "badge failed";
    $("#restart-output").textContent = e.message;
  }
}

// ---------------------------------------------------------------- log tail

function closeLog() {
  if (logSource) logSource.close();
  logSource = null;
}

function openLog(name) {
  const pre = $("#log");
  logSource = new EventSource("/api/services/" + encodeURIComponent(name) + "/logs");
  logSource.addEventListener("log", (e) => {
    const m = JSON.parse(e.data);
    const stick = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    if (m.pod) {
      $("#log-pod").textContent = "(pod " + m.pod + ")";
      if (pre.textContent) pre.append("--- now following pod " + m.pod + " ---\n");
    }
    if (m.note) pre.append("[" + m.note + "]\n");
    if (m.text) pre.append(m.text);
    // keep the view bounded: a long-running tail must not grow the page without end
    while (pre.childNodes.length > 2000) pre.removeChild(pre.firstChild);
    if (stick) pre.scrollTop = pre.scrollHeight;
  });
}

// ---------------------------------------------------------------- start

function route() {
  const name = decodeURIComponent(location.hash.slice(1));
  if (name) openDetails(name); else closeDetails();
}

async function start() {
  const s = await (await fetch("/api/session")).json();
  csrf = s.csrf;
  $("#namespace").textContent = "· " + s.namespace;
  const es = new EventSource("/api/events");
  es.onopen = () => { $("#conn").textContent = "live"; $("#conn").className = "badge ok"; };
  es.onerror = () => { $("#conn").textContent = "reconnecting…"; $("#conn").className = "badge failed"; };
  es.addEventListener("snapshot", (e) => { snapshot = JSON.parse(e.data); renderList(); });
  es.addEventListener("jobs", (e) => { for (const j of JSON.parse(e.data)) jobs.set(j.id, j); });
  es.addEventListener("job", (e) => onJob(JSON.parse(e.data)));
  $("#redeploy").addEventListener("click", redeploy);
  $("#details-close").addEventListener("click", closeDetails);
  $("#source-toggle").addEventListener("change", toggleSource);
  $("#restart").addEventListener("click", restart);
  $("#copy-exec").addEventListener("click", () => {
    const text = $("#exec-cmd").textContent;
    if (navigator.clipboard) navigator.clipboard.writeText(text).catch(() => {});
    $("#copy-exec").textContent = "Copied";
    setTimeout(() => { $("#copy-exec").textContent = "Copy"; }, 1500);
  });
  window.addEventListener("hashchange", route);
  setInterval(() => { for (const td of document.querySelectorAll("#deployments td.age")) {
    const d = (snapshot.deployments || []).find((x) => x.name === td.parentNode.dataset.name);
    if (d) td.textContent = age(d.created);
  } }, 5000);
  route();
}

start();
