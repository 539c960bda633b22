// app.js — the appdeploy dashboard: live deployments list (server-sent events) that always says how fresh it is, Redeploy, service details, logs, source mode, Restart.
"use strict";

const $ = (sel) => document.querySelector(sel);
const PING_MS = 5000;     // the agent sends a status event at least this often
let csrf = "";
let snapshot = { deployments: [] };
let status = null;        // the agent's last status event (ages, periods, errors, last failed sync)
let statusAt = 0;         // performance.now() when it arrived
let lastEventAt = 0;      // performance.now() of the last event of any kind from the agent
let agentDown = false;    // the event stream is broken
let selected = null;      // name of the service whose details are open
let filter = "";
const rowsByName = new Map(); // name -> <tr>, reused across snapshots (focus and selections survive)
const jobs = new Map();   // id -> job
const watched = new Map(); // job id -> callback(job) for jobs this page started
const lastState = new Map(); // name -> state, to announce changes
let lastFocusRow = null;

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props || {});
  for (const c of children) e.append(c);
  return e;
}

function setText(e, text) {
  if (e.textContent !== text) e.textContent = text;
}

function age(ts) {
  if (!ts) return "";
  return secs(Math.max(0, (Date.now() - Date.parse(ts)) / 1000));
}

function secs(s) {
  s = Math.floor(s);
  if (s < 60) return s + "s";
  if (s < 3600) return Math.floor(s / 60) + "m";
  if (s < 86400) return Math.floor(s / 3600) + "h";
  return Math.floor(s / 86400) + "d";
}

function announce(text) {
  const a = $("#announce");
  a.textContent = "";
  // a new text node each time, so that screen readers hear repeats too
  setTimeout(() => { a.textContent = text; }, 30);
}

// ---------------------------------------------------------------- session and actions

async function fetchSession() {
  const r = await fetch("api/session", { cache: "no-store" });
  if (!r.ok) throw new Error("session: HTTP " + r.status);
  const s = await r.json();
  csrf = s.csrf;
  setText($("#namespace"), "· " + s.namespace);
  return s;
}

// POSTs with the CSRF token; a 403 means the agent restarted (new token): fetch the session once and retry.
async function post(path, body) {
  for (let attempt = 0; ; attempt++) {
    const r = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {}),
    });
    const j = await r.json().catch(() => ({}));
    if (r.status === 403 && attempt === 0) {
      await fetchSession();
      continue;
    }
    if (!r.ok) throw new Error(j.error || "HTTP " + r.status);
    return j;
  }
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

// ---------------------------------------------------------------- freshness

function clusterAge() {
  if (!status || status.cluster_age == null) return null;
  return status.cluster_age + (performance.now() - statusAt) / 1000;
}

function isStale() {
  const a = clusterAge();
  return agentDown || a == null || a > 2 * status.poll || !!(status && status.error) || !!snapshot.stale;
}

// Header line and banners: how old each source is, and what is unreachable.
function renderFreshness() {
  const now = performance.now();
  const silent = lastEventAt && now - lastEventAt > 3 * PING_MS;
  const down = agentDown || silent;
  const a = clusterAge();
  const stale = isStale() || down;
  const f = $("#fresh");
  let text = "cluster: " + (a == null ? "not read yet" : "updated " + Math.floor(a) + " s ago");
  if (status && status.templates_age != null)
    text += " · templates: read " + Math.floor(status.templates_age + (now - statusAt) / 1000) + " s ago";
  setText(f, text);
  f.className = stale ? "fresh stale" : "fresh";
  const conn = $("#conn");
  setText(conn, down ? "agent unreachable" : stale ? "stale" : "live");
  conn.className = "badge " + (down ? "failed" : stale ? "queued" : "ok");
  const b = $("#banner");
  let msg = "";
  if (down)
    msg = "The agent (appdeploy serve) is not answering" + (lastEventAt ? " for " + Math.floor((now - lastEventAt) / 1000) + " s" : "") +
      "; reconnecting. What you see is the last state it sent.";
  else if (status && status.error)
    msg = "The API server cannot be read: " + status.error + ". Rows show the last known state" + (a != null ? " (" + Math.floor(a) + " s old)" : "") + ".";
  else if (a != null && status && a > 2 * status.poll)
    msg = "The API server has not answered for " + Math.floor(a) + " s (polled every " + status.poll + " s). Rows show the state from then.";
  else if (status && status.lease && !status.lease.leading)
    msg = "waiting: agent " + (status.lease.holder || "(not known yet)") + " is syncing. This agent (" + status.lease.self +
      ") shows the cluster but does not sync until it holds the lease.";
  if (b.dataset.msg !== msg) {
    b.dataset.msg = msg;
    setText(b, msg);
    b.hidden = !msg;
  }
  document.body.classList.toggle("is-stale", stale);
  const sf = status && status.sync_failed;
  const se = $("#sync-error");
  se.hidden = !sf;
  if (sf && se.dataset.id !== String(sf.id) + sf.output.length) {
    se.dataset.id = String(sf.id) + sf.output.length;
    setText($("#sync-error-title"), "The last sync failed (" + (titles[sf.kind] || sf.kind) + (sf.target || "") + ", job " + sf.id + "); the cluster keeps what was applied before. This stays until a sync succeeds.");
    setOutput($("#sync-error-output"), (sf.output || "").split("\n").slice(-12).join("\n"));
  }
  if (selected) renderActions();
}

// ---------------------------------------------------------------- deployments list

const ORDER = { failed: 0, progressing: 1 };

function sortKey(d) {
  return [ORDER[d.state] ?? 2, d.name];
}

const collator = new Intl.Collator("en", { numeric: true }); // svc-2 before svc-10

function cmp(a, b) {
  const x = sortKey(a), y = sortKey(b);
  return x[0] - y[0] || collator.compare(x[1], y[1]);
}

function makeRow(name) {
  const a = el("a", { textContent: name, href: "#" + name, className: "name" });
  const tr = el("tr", {}, el("td", { className: "c-name" }, a), el("td", { className: "ready" }),
    el("td", { className: "c-state" }, el("span", { className: "badge state" })), el("td", { className: "mode" }),
    el("td", { className: "image" }), el("td", { className: "age" }));
  tr.dataset.name = name;
  return tr;
}

// What a row says of its mode: the CI image, or which source mode (named when the Deployment has more than one).
function modeLabel(d) {
  if (d.mode !== "source") return "CI image";
  const named = (d.source_modes || []).some((m) => m === "sync");
  if (d.source_mode === "sync") return "source · synced";
  return named ? "source · hostPath" : "source";
}

function modeOf(d) {
  return d.mode === "source" ? d.source_mode || "hostpath" : "ci";
}

function updateRow(tr, d) {
  const c = tr.children;
  setText(c[1], d.ready + "/" + d.desired);
  const badge = c[2].firstChild;
  setText(badge, d.state);
  const bc = "badge state state-" + d.state;
  if (badge.className !== bc) badge.className = bc;
  const why = d.state === "failed" || d.state === "progressing" ? [d.reason, d.message].filter(Boolean).join(": ") : "";
  let r = c[2].querySelector(".reason");
  if (why && !r) c[2].append(r = el("span", { className: "reason" }));
  if (r) { if (why) setText(r, why); else r.remove(); }
  setText(c[3], modeLabel(d));
  const mc = "mode mode-" + d.mode;
  if (c[3].className !== mc) c[3].className = mc;
  c[3].title = d.source_capable ? "runner: " + (d.runner || "?") : "";
  setText(c[4], d.image || "");
  setText(c[5], age(d.created));
}

// The row the reader is in (keyboard focus, or a text selection): moving it would drop both.
function pinnedRow(body) {
  const inRow = (n) => { const e = n && (n.nodeType === 1 ? n : n.parentElement); const tr = e && e.closest("tr"); return tr && tr.parentNode === body ? tr : null; };
  const sel = getSelection();
  return inRow(document.activeElement) || (sel && sel.rangeCount && !sel.isCollapsed ? inRow(sel.anchorNode) : null);
}

// Puts rows in order, moving only rows that are out of place, and never the pinned one: the rows
// around it move instead (so a rollout that sorts a row first keeps its focus and selection).
function placeRows(body, order) {
  const pin = pinnedRow(body);
  const k = pin ? order.indexOf(pin) : -1;
  if (k < 0) {
    let prev = null;
    for (const tr of order) {
      const want = prev ? prev.nextSibling : body.firstChild;
      if (want !== tr) body.insertBefore(tr, want);
      prev = tr;
    }
    return;
  }
  for (let i = k - 1; i >= 0; i--)
    if (order[i].nextSibling !== order[i + 1]) body.insertBefore(order[i], order[i + 1]);
  for (let i = k + 1; i < order.length; i++)
    if (order[i - 1].nextSibling !== order[i]) body.insertBefore(order[i], order[i - 1].nextSibling);
}

function renderList() {
  const t0 = performance.now();
  const body = $("#deployments tbody");
  const list = (snapshot.deployments || []).slice().sort(cmp);
  const seen = new Set();
  const counts = { failed: 0, progressing: 0, running: 0, stopped: 0 };
  let shown = 0;
  const order = [];
  for (const d of list) {
    seen.add(d.name);
    counts[d.state] = (counts[d.state] || 0) + 1;
    let tr = rowsByName.get(d.name);
    if (!tr) rowsByName.set(d.name, tr = makeRow(d.name));
    updateRow(tr, d);
    const hide = !!filter && !d.name.includes(filter);
    if (tr.hidden !== hide) tr.hidden = hide;
    if (!hide) shown++;
    order.push(tr);
    const was = lastState.get(d.name);
    if (was && was !== d.state) announce(d.name + " is now " + d.state + (d.reason ? " (" + d.reason + ")" : ""));
    lastState.set(d.name, d.state);
  }
  for (const [name, tr] of rowsByName)
    if (!seen.has(name)) { tr.remove(); rowsByName.delete(name); lastState.delete(name); }
  placeRows(body, order);
  const parts = [];
  if (counts.failed) parts.push(counts.failed + " failed");
  if (counts.progressing) parts.push(counts.progressing + " progressing");
  parts.push(counts.running + " running");
  if (counts.stopped) parts.push(counts.stopped + " stopped");
  setText($("#counts"), list.length ? parts.join(" · ") + (filter ? " · " + shown + " shown" : "") : "");
  $("#counts").className = counts.failed ? "counts has-failed" : "counts";
  $("#empty").hidden = list.length > 0 || !!snapshot.error;
  if (snapshot.namespace) setText($("#namespace"), "· " + snapshot.namespace);
  const first = document.body.dataset.ready !== "1";
  document.body.dataset.ready = "1";
  if (selected) renderDetails();
  // a deep link opened the details before the rows existed: bring them into view now
  if (first && selected && list.length) $("#details").scrollIntoView({ block: "start" });
  renderFreshness();
  performance.measure("render-list", { start: t0 }); // read by bench/dashboard.sh
}

// ---------------------------------------------------------------- jobs (redeploy, source toggles, restarts)

const titles = { redeploy: "Redeploy", "auto-sync": "Templates changed: sync", "initial-sync": "Sync on start",
  "source-on": "Source mode on: ", "source-sync": "Synced source mode on: ", "source-off": "Source mode off: ", restart: "Restart: " };

function showJob(job) {
  const p = $("#job");
  p.hidden = false;
  p.dataset.id = job.id;
  setText($("#job-title"), (titles[job.kind] || job.kind) + (job.target || ""));
  const st = $("#job-status");
  setText(st, job.state);
  st.className = "badge " + job.state;
  $("#job-cancel").hidden = !(job.id && (job.state === "queued" || job.state === "running"));
  setOutput($("#job-output"), job.output || "");
}

function onJob(job) {
  jobs.set(job.id, job);
  const cb = watched.get(job.id);
  if (cb) cb(job);
  const shown = $("#job").dataset.id === String(job.id) && !$("#job").hidden;
  // syncs are everyone's business; restarts show in the details panel
  if (job.kind !== "restart" && (cb || shown || job.kind === "auto-sync" || job.kind === "initial-sync" || job.state === "failed"))
    showJob(job);
  if (job.kind === "restart" && job.target === selected) showRestart(job);
  renderHistory();
  if (job.state === "ok" || job.state === "failed" || job.state === "cancelled") watched.delete(job.id);
}

async function redeploy() {
  const b = $("#redeploy");
  b.disabled = true;
  try {
    const { job } = await post("api/redeploy");
    watched.set(job, (j) => { if (j.state !== "queued" && j.state !== "running") b.disabled = false; });
    showJob(jobs.get(job) || { id: job, kind: "redeploy", state: "queued", output: "" });
  } catch (e) {
    b.disabled = false;
    showJob({ id: 0, kind: "redeploy", state: "failed", output: String(e.message) });
  }
}

async function cancelJob() {
  const id = $("#job").dataset.id;
  try {
    await post("api/jobs/" + id + "/cancel");
  } catch (e) {
    announce("cancel: " + e.message);
  }
}

// ---------------------------------------------------------------- details

function openDetails(name) {
  if (selected === name) return;
  closeLog();
  selected = name;
  const box = $("#details");
  box.hidden = false;
  setText($("#details-name"), name);
  $("#log").textContent = "";
  setText($("#log-pod"), "");
  $("#restart-result").hidden = true;
  $("#exec-cmd").textContent = "";
  setText($("#copy-status"), "");
  $("#log-pick").replaceChildren(el("option", { value: "", textContent: "current pod" }));
  renderDetails();
  renderHistory();
  const last = [...jobs.values()].filter((j) => j.kind === "restart" && j.target === name).pop();
  if (last) showRestart(last);
  fetch("api/services/" + encodeURIComponent(name)).then((r) => r.json()).then((d) => {
    if (d.exec && selected === name) $("#exec-cmd").textContent = d.exec;
  }).catch(() => {});
  openLog();
  // the panel opens where the reader is looking, and takes the keyboard
  box.scrollIntoView({ block: "start" });
  $("#details-name").focus({ preventScroll: true });
}

function closeDetails() {
  closeLog();
  const was = selected;
  selected = null;
  $("#details").hidden = true;
  if (location.hash) history.replaceState(null, "", location.pathname);
  const tr = was && rowsByName.get(was);
  if (tr) tr.querySelector("a.name").focus();
}

function renderActions() {
  const d = (snapshot.deployments || []).find((x) => x.name === selected);
  if (!d) return;
  const stale = isStale() || (lastEventAt && performance.now() - lastEventAt > 3 * PING_MS);
  const box = $("#source-box");
  for (const t of box.querySelectorAll("input")) t.disabled = stale || !!box.dataset.pending;
  // Restart pokes the reloader in the running pod: only once that pod is up, and while the data is fresh
  const r = $("#restart");
  r.hidden = d.mode !== "source" || d.state !== "running" || stale;
  const ds = $("#details-stale");
  ds.hidden = !stale;
  if (stale) setText(ds, "This is the last known state: the " + (agentDown || (lastEventAt && performance.now() - lastEventAt > 3 * PING_MS) ? "agent" : "cluster") +
    " is not answering now, so actions are off.");
}

function renderDetails() {
  const d = (snapshot.deployments || []).find((x) => x.name === selected);
  if (!d) {
    setText($("#details-state"), "not in the cluster");
    return;
  }
  const st = $("#details-state");
  setText(st, d.state + " · " + d.ready + "/" + d.desired + " ready");
  st.className = "badge state state-" + d.state;
  setText($("#details-image"), d.image || "");
  const why = $("#details-reason");
  const reason = [d.reason, d.message].filter(Boolean).join(": ");
  why.hidden = !reason;
  setText(why, reason);
  const rows = (d.pods || []).map((p) => {
    const tr = el("tr", {}, el("td", { textContent: p.name }), el("td", { textContent: p.phase + (p.reason ? " (" + p.reason + ")" : "") }),
      el("td", { textContent: p.ready ? "yes" : "no" }), el("td", { className: "restarts", textContent: String(p.restarts) }),
      el("td", { textContent: age(p.created) }));
    tr.dataset.pod = p.name;
    return tr;
  });
  const pt = $("#pods tbody");
  const key = rows.map((r) => r.textContent).join("|");
  if (pt.dataset.key !== key) { pt.dataset.key = key; pt.replaceChildren(...rows); }
  $("#no-pods").hidden = rows.length > 0;
  // source mode: what the reloader in the pod says (GET /status through the pod proxy)
  const rl = d.mode === "source" ? d.reloader : null;
  const rb = $("#reloader");
  rb.hidden = !rl;
  if (rl) {
    let t;
    if (rl.error) t = "reloader in " + rl.pod + ": " + rl.error;
    else {
      t = "reloader in " + rl.pod + ": " + rl.state + (rl.ready ? ", ready" : "") + " · last build " +
        (rl.build.ok ? "ok" : "failed (exit " + rl.build.exit_code + ")") + " in " + rl.build.duration_ms + " ms";
      if (rl.last_restart && rl.last_restart.trigger) t += " · last restart by " + rl.last_restart.trigger;
      t += " · restarts " + rl.restarts + ", crashes " + rl.crashes;
    }
    setText(rb, t);
    rb.className = "reloader" + (rl.error || !rl.build.ok ? " bad" : "");
  }
  const evs = (d.events || []).map((e) => el("tr", { className: e.type === "Warning" ? "warn" : "" },
    el("td", { textContent: e.type || "" }), el("td", { textContent: e.reason || "" }),
    el("td", { textContent: e.object || "" }), el("td", { className: "msg", textContent: (e.message || "") + (e.count > 1 ? " (×" + e.count + ")" : "") }),
    el("td", { textContent: age(e.time) })));
  const et = $("#events tbody");
  const ekey = evs.map((r) => r.textContent).join("|");
  if (et.dataset.key !== ekey) { et.dataset.key = ekey; et.replaceChildren(...evs); }
  $("#no-events").hidden = evs.length > 0;
  // the modes the annotations allow (sourcemode.dev/source-modes): the CI image and one or both source modes
  const box = $("#source-box");
  box.hidden = !d.source_capable;
  const allowed = d.source_modes || [];
  $("#mode-hostpath-box").hidden = !allowed.includes("hostpath");
  $("#mode-sync-box").hidden = !allowed.includes("sync");
  setText($("#mode-hostpath-label"), allowed.includes("sync") ? "source from hostPath" : "source");
  if (!box.dataset.pending) { const r = $("#mode-" + modeOf(d)); if (r) r.checked = true; }
  setText($("#source-runner"), d.runner ? "(runner " + d.runner + ")" : "");
  // the log picker: the current pod, every pod interleaved, or one
  const pick = $("#log-pick");
  const names = (d.pods || []).filter((p) => !p.deleting).map((p) => p.name);
  const want = ["", ...(names.length > 1 ? ["all"] : []), ...names];
  const have = [...pick.options].map((o) => o.value);
  if (want.join(",") !== have.join(",")) {
    const cur = pick.value;
    pick.replaceChildren(...want.map((v) => el("option", { value: v, textContent: v === "" ? "current pod" : v === "all" ? "all pods (interleaved)" : v })));
    pick.value = want.includes(cur) ? cur : "";
    if (cur === "all" && logSources.length) openLog(); // the set of pods changed: follow the new set
  }
  renderActions();
}

async function toggleSource(ev) {
  const box = $("#source-box");
  const name = selected, mode = ev.target.value;
  const kind = { ci: "source-off", hostpath: "source-on", sync: "source-sync" }[mode];
  box.dataset.pending = "1";
  for (const t of box.querySelectorAll("input")) t.disabled = true;
  setText($("#source-progress"), mode === "ci" ? "switching to the CI image…" : mode === "sync" ?
    "switching to synced source mode…" : "switching to source mode…");
  const done = (j) => {
    delete box.dataset.pending;
    setText($("#source-progress"), j ? (j.state === "ok" ? "done: rolled out" : j.state + ": see the job panel") : "");
    renderDetails();
  };
  try {
    const { job } = await post("api/services/" + encodeURIComponent(name) + "/source", { mode });
    watched.set(job, (j) => { if (j.state === "ok" || j.state === "failed" || j.state === "cancelled") done(j); });
    showJob(jobs.get(job) || { id: job, kind, target: name, state: "queued", output: "" });
  } catch (e) {
    done(null);
    showJob({ id: 0, kind, target: name, state: "failed", output: e.message });
  }
}

// The service's last syncs, toggles and restarts (newest first), each with its output.
function renderHistory() {
  if (!selected) return;
  const list = [...jobs.values()].filter((j) => j.target === selected || !j.target).slice(-10).reverse();
  const key = list.map((j) => j.id + j.state + (j.output || "").length).join(",");
  const ol = $("#history");
  if (ol.dataset.key === key) return;
  ol.dataset.key = key;
  ol.replaceChildren(...list.map((j) => {
    const when = j.started ? new Date(j.started * 1000).toLocaleTimeString() : "";
    const r = j.result || {};
    const out = el("pre", {});
    setOutput(out, r.build_output || r.error || j.output || "");
    return el("li", { className: "h-" + j.state }, el("details", {},
      el("summary", {}, (titles[j.kind] || j.kind) + (j.target || "") + " · ", el("span", { className: "badge " + j.state, textContent: r.outcome || j.state }), " · " + when),
      out));
  }));
  $("#no-history").hidden = list.length > 0;
}

function showRestart(j) {
  $("#restart-result").hidden = false;
  const oc = $("#restart-outcome");
  const b = $("#restart");
  if (j.state !== "ok" && j.state !== "failed" && j.state !== "cancelled") {
    setText(oc, "building…");
    oc.className = "badge running";
    b.disabled = true;
    return;
  }
  b.disabled = false;
  const r = j.result || {};
  setText(oc, r.outcome || (j.ok ? "ok" : j.state));
  oc.className = "badge " + (j.ok ? "ok" : "failed");
  setOutput($("#restart-output"), r.build_output || r.error || (j.ok ? "running" : j.output || ""));
}

async function restart() {
  $("#restart-output").textContent = "";
  showRestart({ state: "queued" });
  try {
    const { job } = await post("api/services/" + encodeURIComponent(selected) + "/restart");
    if (jobs.has(job)) showRestart(jobs.get(job));
  } catch (e) {
    showRestart({ state: "failed", result: { error: e.message } });
  }
}

async function copyExec() {
  const text = $("#exec-cmd").textContent;
  const say = $("#copy-status");
  try {
    if (!navigator.clipboard || !navigator.clipboard.writeText) throw new Error("no clipboard access on this page");
    await navigator.clipboard.writeText(text);
    setText(say, "Copied");
  } catch (e) {
    // say so, and select the command so that Ctrl+C copies it
    const range = document.createRange();
    range.selectNodeContents($("#exec-cmd"));
    const sel = getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    setText(say, "Not copied (" + (e.message || "refused") + "): the command is selected, press Ctrl+C");
  }
}

// ---------------------------------------------------------------- logs

let logSources = [];
let logLines = [];   // the lines shown, for the text filter and download
const LOG_MAX = 2000;
const LOG_RETRY_MS = 2000;

function closeLog() {
  for (const s of logSources) s.close();
  logSources = [];
}

function logAppend(text) {
  const pre = $("#log");
  const stick = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  const q = $("#log-filter").value;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    logLines.push(line);
    if (!q || line.includes(q)) pre.append(line + "\n");
  }
  // keep the view bounded: a long-running tail must not grow the page without end
  if (logLines.length > LOG_MAX) logLines.splice(0, logLines.length - LOG_MAX);
  while (pre.childNodes.length > LOG_MAX) pre.removeChild(pre.firstChild);
  if (stick) pre.scrollTop = pre.scrollHeight;
}

function logRefilter() {
  const q = $("#log-filter").value;
  $("#log").textContent = logLines.filter((l) => !q || l.includes(q)).join("\n") + (logLines.length ? "\n" : "");
}

// again: true when the stream is reopened after the agent dropped it (the view says so)
function openLog(again) {
  closeLog();
  const name = selected;
  if (!name) return;
  const pod = $("#log-pick").value;
  const q = new URLSearchParams();
  if (pod) q.set("pod", pod);
  if ($("#log-prev").checked) q.set("previous", "1");
  if ($("#log-ts").checked) q.set("timestamps", "1");
  if (again !== true) {
    logLines = [];
    $("#log").textContent = "";
  }
  const src = new EventSource("api/services/" + encodeURIComponent(name) + "/logs" + (q.toString() ? "?" + q : ""));
  let opened = again === true ? 1 : 0;
  // a new agent that has not read the cluster yet answers 503, and EventSource gives up on
  // any answer but 200: while the panel shows this stream, open it again a little later
  src.onerror = () => {
    if (src.readyState !== EventSource.CLOSED) return;
    setTimeout(() => { if (logSources[0] === src && selected === name) openLog(true); }, LOG_RETRY_MS);
  };
  src.onopen = () => {
    // a reconnect would replay the last lines: start again from a clean view, and say so
    if (opened++) {
      logLines = [];
      $("#log").textContent = "";
      logAppend("[reconnected to the agent: the log starts again from its last 200 lines]");
    }
  };
  src.addEventListener("log", (e) => {
    const m = JSON.parse(e.data);
    const prefix = m.from && pod === "all" ? "[" + m.from + "] " : "";
    if (m.pod) {
      setText($("#log-pod"), pod === "all" ? "(all pods)" : "(pod " + m.pod + ")");
      if (logLines.length && !prefix) logAppend("--- now following pod " + m.pod + " ---");
    }
    if (m.note) logAppend(prefix + "[" + m.note + "]");
    if (m.text) logAppend(m.text.split("\n").map((l) => (l ? prefix + l : l)).join("\n"));
  });
  logSources = [src];
}

function downloadLog() {
  const a = el("a", { href: URL.createObjectURL(new Blob([logLines.join("\n") + "\n"], { type: "text/plain" })),
    download: (selected || "log") + ".log" });
  document.body.append(a);
  a.click();
  a.remove();
}

// ---------------------------------------------------------------- keyboard

function rowLinks() {
  return [...document.querySelectorAll("#deployments tbody tr:not([hidden]) a.name")];
}

function onKey(e) {
  const tag = (e.target.tagName || "").toLowerCase();
  const typing = tag === "input" || tag === "select" || tag === "textarea";
  if (e.key === "Escape") {
    if (typing && e.target.id === "filter" && filter) { e.target.value = ""; setFilter(""); return; }
    if (selected) { e.preventDefault(); closeDetails(); }
    return;
  }
  if (typing) return;
  if (e.key === "/") { e.preventDefault(); $("#filter").focus(); return; }
  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    const links = rowLinks();
    if (!links.length) return;
    const i = links.indexOf(document.activeElement);
    const next = i < 0 ? 0 : Math.max(0, Math.min(links.length - 1, i + (e.key === "ArrowDown" ? 1 : -1)));
    e.preventDefault();
    links[next].focus();
    lastFocusRow = links[next];
  }
}

function setFilter(v) {
  filter = v.trim();
  renderList();
}

// ---------------------------------------------------------------- start

function route() {
  const name = decodeURIComponent(location.hash.slice(1));
  if (name) openDetails(name); else if (selected) closeDetails();
}

function connect() {
  const es = new EventSource("api/events");
  let everOpen = false, broken = false;
  es.onopen = () => {
    agentDown = false;
    lastEventAt = performance.now();
    // after a reconnect the agent may be a new process with a new CSRF token
    if (everOpen && broken) fetchSession().catch(() => {});
    everOpen = true;
    broken = false;
    renderFreshness();
  };
  es.onerror = () => { agentDown = true; broken = true; renderFreshness(); };
  const seen = () => { lastEventAt = performance.now(); if (agentDown) { agentDown = false; } };
  es.addEventListener("status", (e) => { seen(); status = JSON.parse(e.data); statusAt = performance.now(); renderFreshness(); });
  es.addEventListener("snapshot", (e) => { seen(); snapshot = JSON.parse(e.data); renderList(); });
  es.addEventListener("jobs", (e) => { seen(); for (const j of JSON.parse(e.data)) jobs.set(j.id, j); });
  es.addEventListener("job", (e) => { seen(); onJob(JSON.parse(e.data)); });
}

async function start() {
  $("#redeploy").addEventListener("click", redeploy);
  $("#job-cancel").addEventListener("click", cancelJob);
  $("#job-close").addEventListener("click", () => { $("#job").hidden = true; });
  $("#details-close").addEventListener("click", closeDetails);
  for (const t of $("#source-box").querySelectorAll("input")) t.addEventListener("change", toggleSource);
  $("#restart").addEventListener("click", restart);
  $("#copy-exec").addEventListener("click", copyExec);
  $("#log-pick").addEventListener("change", openLog);
  $("#log-prev").addEventListener("change", openLog);
  $("#log-ts").addEventListener("change", openLog);
  $("#log-filter").addEventListener("input", logRefilter);
  $("#log-download").addEventListener("click", downloadLog);
  $("#filter").addEventListener("input", (e) => setFilter(e.target.value));
  document.addEventListener("keydown", onKey);
  window.addEventListener("hashchange", route);
  setInterval(() => {
    for (const d of snapshot.deployments || []) {
      const tr = rowsByName.get(d.name);
      if (tr) setText(tr.children[5], age(d.created));
    }
  }, 5000);
  setInterval(renderFreshness, 1000);
  connect(); // the event stream and the session load side by side: the first render needs only the stream
  route();
  try {
    await fetchSession();
  } catch (e) {
    agentDown = true;
    renderFreshness();
  }
}

start();
