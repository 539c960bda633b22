// dashboard.e2e.js — drives the appdeploy dashboard in headless Chromium (playwright-core, Debian's browser), one scenario per run.
// Usage: node dashboard.e2e.js SCENARIO URL   (params in $E2E_PARAMS as JSON; screenshots into $E2E_OUT)
// Exits 0 when the scenario's expectations held, 1 with the reason otherwise. Every wait has a deadline.
// A scenario that needs the test to act (stop the API server, restart the agent) prints "STEP name" and
// waits for a line on stdin; lines "RESULT {json}" are what it measured, for the test to check.
"use strict";
const { chromium } = require("playwright-core");
const fs = require("fs");
const os = require("os");
const path = require("path");
const readline = require("readline");

const [scenario, url] = process.argv.slice(2);
const params = JSON.parse(process.env.E2E_PARAMS || "{}");
const outDir = process.env.E2E_OUT || path.join(__dirname, "..", "..", "build", "e2e");
const T = params.timeout_ms || 30000; // per-expectation deadline (ms)

const stdinLines = [];
let stdinWaiter = null;
readline.createInterface({ input: process.stdin }).on("line", (l) => {
  stdinLines.push(l);
  if (stdinWaiter) stdinWaiter();
});

// Asks the test to do something, and waits until it says it is done.
async function step(name) {
  console.log("STEP " + name);
  const deadline = Date.now() + 120000;
  while (!stdinLines.length) {
    if (Date.now() > deadline) throw new Error("the test did not answer STEP " + name);
    await new Promise((res) => { stdinWaiter = res; setTimeout(res, 500); });
  }
  stdinLines.shift();
}

function result(obj) {
  console.log("RESULT " + JSON.stringify(obj));
}

async function shot(page, name) {
  fs.mkdirSync(outDir, { recursive: true });
  await page.screenshot({ path: path.join(outDir, name + ".png"), fullPage: params.full_page !== false });
}

const row = (page, name) => page.locator(`#deployments tr[data-name="${name}"]`);

async function openService(page, name) {
  await row(page, name).locator("a.name").click();
  await page.locator("#details").waitFor({ state: "visible", timeout: T });
}

async function waitText(locator, re, what) {
  try {
    await locator.filter({ hasText: re }).first().waitFor({ timeout: T });
  } catch (e) {
    const have = await locator.first().textContent().catch(() => "?");
    throw new Error(`${what}: want ${re}, have ${JSON.stringify(have)}`);
  }
}

// Polls fn (run in the test, not in the page: the page's CSP forbids eval) until it returns truthy.
async function until(fn, what, ms) {
  const deadline = Date.now() + (ms || T);
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("timed out waiting for " + what + " (last: " + JSON.stringify(last) + ")");
}

const visible = (loc) => loc.isVisible().catch(() => false);
const text = (loc) => loc.textContent().catch(() => "");
const focused = (page) => page.evaluate(() => {
  const a = document.activeElement;
  return a ? (a.id ? "#" + a.id : a.tagName + (a.closest("tr") ? "@" + a.closest("tr").dataset.name : "")) : "";
});
// where an element is against the viewport
const place = (page, sel) => page.evaluate((s) => {
  const r = document.querySelector(s).getBoundingClientRect();
  return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, vh: innerHeight, vw: innerWidth, scrollY };
}, sel);

async function axe(page, name) {
  // injected through the DevTools protocol (not a <script>), so the page's CSP stays as it is
  const src = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
  await page.evaluate(src);
  const r = await page.evaluate(async () => {
    const res = await window.axe.run(document, { resultTypes: ["violations"] });
    return res.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5) }));
  });
  const bad = r.filter((v) => v.impact === "serious" || v.impact === "critical");
  result({ axe: name, violations: r });
  if (bad.length) throw new Error("axe (" + name + "): " + JSON.stringify(bad));
}

const scenarios = {
  // the list shows every Deployment with ready/desired, state, mode and image
  async list(page) {
    for (const d of params.deployments) {
      await waitText(row(page, d.name).locator("td.ready"), new RegExp("^" + d.ready + "$"), d.name + " ready");
      await waitText(row(page, d.name).locator("td.mode"), new RegExp(d.mode), d.name + " mode");
      await waitText(row(page, d.name).locator("td.image"), new RegExp(d.image.replace(/[.]/g, "\\.")), d.name + " image");
    }
    await waitText(page.locator("#deployments tbody tr .state"), /running/, "state");
    await waitText(page.locator("#fresh"), /cluster: updated \d+ s ago/, "freshness");
    await shot(page, "dashboard-list");
    await axe(page, "list");
    await openService(page, params.deployments[0].name);
    await waitText(page.locator("#log"), /log line/, "log lines");
    await axe(page, "details");
  },
  // switches params.service to source mode (params.on: from a hostPath) or back (or, #18, to params.mode:
  // ci, hostpath, sync) with the mode choice, and waits for the row to show it
  async source(page) {
    await openService(page, params.service);
    const mode = params.mode || (params.on ? "hostpath" : "ci");
    const before = params.mode_before || (params.expect_before ? "hostpath" : "ci");
    await page.locator("#source-box").waitFor({ state: "visible", timeout: T });
    await until(async () => page.locator("#mode-" + before).isChecked(), "the mode before to be " + before);
    await page.locator("#mode-" + mode).check();
    const label = params.label ? new RegExp(params.label) : mode === "ci" ? /CI image/ : /^source/;
    await waitText(row(page, params.service).locator("td.mode"), label, "mode");
    await waitText(row(page, params.service).locator("td.image"), new RegExp(params.image.replace(/[.]/g, "\\.")), "image");
    await waitText(page.locator("#source-progress"), /done: rolled out/, "the switch to end");
    await shot(page, "dashboard-source-" + mode);
  },
  // #18: what the mode choice offers for params.service (visible choices, the checked one) and each row's mode label
  async modes(page) {
    await openService(page, params.service);
    await page.locator("#source-box").waitFor({ state: "visible", timeout: T });
    const offered = [];
    for (const m of ["ci", "hostpath", "sync"])
      if (await visible(page.locator("#mode-" + m))) offered.push(m);
    const labels = {};
    for (const tr of await page.locator("#deployments tbody tr").all())
      labels[await tr.getAttribute("data-name")] = await text(tr.locator("td.mode"));
    const checked = [];
    for (const m of offered) if (await page.locator("#mode-" + m).isChecked()) checked.push(m);
    result({ offered, checked, labels, choice_text: (await page.locator("#source-box").innerText()).replace(/\s+/g, " ").trim() });
    await shot(page, "dashboard-modes-" + params.service);
  },
  // #8: the toggle's job says ok only once the row shows the rollout finished; Restart only then
  async "toggle-rollout"(page) {
    await openService(page, params.service);
    await page.locator("#mode-hostpath").check();
    const seen = [];
    // sample what the user sees until the job ends
    await until(async () => {
      // until the toggle's own job is in the panel, it shows the earlier "Sync on start" (ok)
      const mine = /^Source mode on: /.test(await text(page.locator("#job-title")));
      const st = mine ? await text(page.locator("#job-status")) : "(earlier job)";
      const ready = await text(row(page, params.service).locator("td.ready"));
      const state = await text(row(page, params.service).locator("td.c-state .badge"));
      const restart = await visible(page.locator("#restart"));
      seen.push({ st, ready, state, restart });
      return st === "ok" || st === "failed";
    }, "the toggle job to end", 60000);
    const last = seen[seen.length - 1];
    const early = seen.filter((s) => s.restart && s.state !== "running");
    result({ samples: seen.length, last, early_restart: early.length,
      progressing_seen: seen.some((s) => s.state === "progressing" || s.st === "running") });
    if (last.st !== "ok") throw new Error("toggle job ended " + last.st);
    await waitText(page.locator("#source-progress"), /done: rolled out/, "toggle progress");
    // the history lists the toggle and the first sync, newest first, with their output
    await waitText(page.locator("#history li").first(), /^Source mode on: \S+ · ok · /, "history entry");
    const history = await page.locator("#history li summary").allTextContents();
    await page.locator("#history li summary").first().click();
    await waitText(page.locator("#history li pre").first(), /rolled out/, "history output");
    result({ history });
    await shot(page, "dashboard-toggle-rolled-out");
  },
  // Redeploy: the job ends as params.state, and its output matches params.output
  async redeploy(page) {
    await page.locator("#redeploy").click();
    await waitText(page.locator("#job-title"), /Redeploy/, "job title");
    await waitText(page.locator("#job-status"), new RegExp("^" + params.state + "$"), "job status");
    await waitText(page.locator("#job-output"), new RegExp(params.output), "job output");
    if (params.row)
      await waitText(row(page, params.row.name).locator("td." + params.row.col), new RegExp(params.row.text), "row");
    await shot(page, "dashboard-redeploy-" + params.state);
    // the job panel can be dismissed
    await page.locator("#job-close").click();
    await page.locator("#job").waitFor({ state: "hidden", timeout: T });
  },
  // the log view shows lines the pod writes after it opened
  async logs(page) {
    await openService(page, params.service);
    await waitText(page.locator("#log"), /fakekube log line \d+ for pod/, "first log lines");
    const first = await page.locator("#log").textContent();
    const max = (s) => Math.max(...[...s.matchAll(/log line (\d+) for pod/g)].map((m) => +m[1]));
    const seen = max(first);
    await waitText(page.locator("#log"), new RegExp("log line " + (seen + 2) + " for pod"), "new log lines");
    await waitText(page.locator("#exec-cmd"), /kubectl .*exec -it -n \S+ deploy\/\S+ .*-- sh/, "exec command");
    await shot(page, "dashboard-logs");
    console.log(JSON.stringify({ first_max: seen }));
  },
  // #13: every pod of a Deployment in one view, each line prefixed by its pod
  async "logs-all"(page) {
    await openService(page, params.service);
    await until(async () => (await page.locator("#log-pick option").count()) >= 2 + params.pods, "the pod picker to list the pods");
    await page.locator("#log-pick").selectOption("all");
    const pods = await until(async () => {
      const t = await text(page.locator("#log"));
      const names = new Set([...t.matchAll(/^\[([^\]]+)\] fakekube log line \d+ for pod \1$/gm)].map((m) => m[1]));
      return names.size >= params.pods && [...names];
    }, "lines of every pod");
    await page.locator("#log-filter").fill(pods[0]);
    const filtered = await text(page.locator("#log"));
    const others = filtered.split("\n").filter((l) => l && !l.includes(pods[0]));
    result({ pods, others_after_filter: others.length });
    await shot(page, "dashboard-logs-all-pods");
    // the previous container's log: none here (no restarts), and the view says so
    await page.locator("#log-filter").fill("");
    await page.locator("#log-pick").selectOption("");
    await page.locator("#log-prev").check();
    await waitText(page.locator("#log"), /\[no previous container log \(the container has not restarted\)\]/, "previous log note");
    result({ previous: await text(page.locator("#log")) });
  },
  // Restart pokes reloader through the pod proxy and shows the failed build's output, also in a second tab
  async restart(page, ctx) {
    const other = await ctx.newPage();
    await other.goto(url + "#" + params.service);
    await other.locator("#details").waitFor({ state: "visible", timeout: T });
    await openService(page, params.service);
    await page.locator("#restart").waitFor({ state: "visible", timeout: T });
    await page.locator("#restart").click();
    await waitText(page.locator("#restart-outcome"), new RegExp(params.outcome), "restart outcome");
    await waitText(page.locator("#restart-output"), new RegExp(params.output), "restart output");
    await waitText(other.locator("#restart-outcome"), new RegExp(params.outcome), "restart outcome in the other tab");
    await waitText(other.locator("#restart-output"), new RegExp(params.output), "restart output in the other tab");
    // the reloader's own /status, beside the pods
    await waitText(page.locator("#reloader"), new RegExp(params.reloader), "the reloader's status");
    await shot(page, "dashboard-restart");
    await shot(other, "dashboard-restart-other-tab");
  },
  // #1 and #13: the shell command names the kubeconfig; Copy says what really happened
  async exec(page, ctx) {
    await openService(page, params.service);
    const cmd = await until(async () => text(page.locator("#exec-cmd")), "the exec command");
    const origin = new URL(url).origin;
    await ctx.grantPermissions(["clipboard-read", "clipboard-write"], { origin });
    await page.locator("#copy-exec").click();
    await waitText(page.locator("#copy-status"), /^Copied$/, "copy status with permission");
    const clip = await page.evaluate(() => navigator.clipboard.readText());
    // refused: the page says so and selects the command
    await ctx.clearPermissions();
    const cdp = await ctx.newCDPSession(page);
    await cdp.send("Browser.setPermission", { permission: { name: "clipboard-write", allowWithoutSanitization: false }, setting: "denied", origin });
    await cdp.send("Browser.setPermission", { permission: { name: "clipboard-read" }, setting: "denied", origin });
    await page.locator("#copy-exec").click();
    await waitText(page.locator("#copy-status"), /^Not copied/, "copy status when refused");
    const sel = await page.evaluate(() => String(getSelection()));
    result({ cmd, clip, refused_status: await text(page.locator("#copy-status")), selection: sel });
    await shot(page, "dashboard-exec-copy-refused");
  },
  // #2 and #5: the agent restarts under the open page: actions work again, the log does not repeat
  async "agent-restart"(page) {
    await openService(page, params.service);
    await waitText(page.locator("#log"), /fakekube log line 5 for pod/, "first log lines");
    await step("stop-agent");
    await waitText(page.locator("#conn"), /^agent unreachable$/, "connection badge while the agent is down");
    await waitText(page.locator("#banner"), /The agent \(appdeploy serve\) is not answering/, "agent banner");
    await shot(page, "dashboard-agent-down");
    // the new agent answers before it has read the cluster: the log stream gets 503 and the page must try again
    const refused = page.waitForResponse((r) => /\/logs(\?|$)/.test(r.url()) && r.status() === 503, { timeout: T });
    await step("start-agent-unread");
    await refused;
    await step("release-api");
    await waitText(page.locator("#log"), /reconnected to the agent/, "the log's reconnect note");
    await waitText(page.locator("#conn"), /^live$/, "live again");
    await waitText(page.locator("#log"), /fakekube log line 5 for pod/, "log lines after the reconnect");
    const lines = (await text(page.locator("#log"))).split("\n").filter((l) => /log line \d+ for pod/.test(l));
    const dups = lines.length - new Set(lines).size;
    await page.locator("#redeploy").click();
    // the new agent's "Sync on start" (ok) is in the job panel until the redeploy's own job replaces it
    await waitText(page.locator("#job-title"), /^Redeploy$/, "the redeploy's job in the panel");
    await waitText(page.locator("#job-status"), /^ok$/, "redeploy after the agent restarted");
    await waitText(page.locator("#job-output"), /applied to namespace demo/, "the redeploy's output");
    result({ log_lines: lines.length, duplicates: dups, job_output: await text(page.locator("#job-output")) });
    await shot(page, "dashboard-agent-restarted");
  },
  // #3: the API server stops answering (SIGSTOP): the page says stale, Redeploy can be cancelled; then it resumes
  async "api-hang"(page) {
    await waitText(page.locator("#conn"), /^live$/, "live first");
    await step("stop-api");
    await waitText(page.locator("#conn"), /^stale$/, "stale badge");
    await waitText(page.locator("#banner"), /API server has not answered for \d+ s/, "hung API banner");
    const fresh = await text(page.locator("#fresh"));
    await shot(page, "dashboard-api-hung");
    await page.locator("#redeploy").click();
    await page.locator("#job-cancel").waitFor({ state: "visible", timeout: T });
    await waitText(page.locator("#job-status"), /^(queued|running)$/, "redeploy waiting on the hung API server");
    await page.locator("#job-cancel").click();
    await waitText(page.locator("#job-status"), /^cancelled$/, "redeploy cancelled");
    const out = await text(page.locator("#job-output"));
    await shot(page, "dashboard-api-hung-cancelled");
    await step("resume-api");
    await waitText(page.locator("#conn"), /^live$/, "live after resume");
    await page.locator("#banner").waitFor({ state: "hidden", timeout: T });
    result({ fresh_while_hung: fresh, cancel_output: out });
  },
  // #3: the agent itself hangs (SIGSTOP; its connections stay open): after 3 silent pings the page says so
  async "agent-hang"(page) {
    await waitText(page.locator("#conn"), /^live$/, "live first");
    await step("stop-agent");
    await waitText(page.locator("#conn"), /^agent unreachable$/, "agent unreachable");
    await waitText(page.locator("#banner"), /The agent \(appdeploy serve\) is not answering for \d+ s/, "agent banner");
    await shot(page, "dashboard-agent-hung");
    await step("resume-agent");
    await waitText(page.locator("#conn"), /^live$/, "live after resume");
    await page.locator("#banner").waitFor({ state: "hidden", timeout: T });
  },
  // #4: a new tab shows the last failed sync until one succeeds
  async "sync-failed"(page, ctx) {
    await step("break-template");
    await page.locator("#sync-error").waitFor({ state: "visible", timeout: T });
    const fresh = await ctx.newPage();
    await fresh.goto(url);
    await fresh.locator("#sync-error").waitFor({ state: "visible", timeout: T });
    await waitText(fresh.locator("#sync-error-output"), new RegExp(params.error), "the error in a new tab");
    const banner = await text(fresh.locator("#sync-error"));
    await shot(fresh, "dashboard-sync-failed-new-tab");
    await step("fix-template");
    await fresh.locator("#sync-error").waitFor({ state: "hidden", timeout: T });
    await page.locator("#sync-error").waitFor({ state: "hidden", timeout: T });
    result({ banner });
  },
  // #6 and #7: details scroll into view and take focus; rows are updated in place; Esc; keyboard
  async "long-list"(page) {
    const n = params.count;
    await until(async () => (await page.locator("#deployments tbody tr").count()) === n, n + " rows");
    // a deep link lands on the details
    const deep = await page.context().newPage();
    await deep.setViewportSize({ width: 1200, height: 800 });
    await deep.goto(url + "#" + params.deep);
    await deep.locator("#details").waitFor({ state: "visible", timeout: T });
    const dp = await until(async () => { const p = await place(deep, "#details"); return p.top >= -1 && p.top < p.vh && p; }, "the deep-linked details in view");
    await shot(deep, "dashboard-deep-link");
    await deep.close();
    // click a row far down: the panel comes into view and has the focus
    const target = params.click;
    await row(page, target).locator("a.name").click();
    await page.locator("#details").waitFor({ state: "visible", timeout: T });
    const p = await until(async () => { const q = await place(page, "#details"); return q.top >= -1 && q.top < q.vh && q; }, "the details in view");
    const f1 = await focused(page);
    if (f1 !== "#details-name") throw new Error("focus after opening details: " + f1);
    await shot(page, "dashboard-details-in-view");
    await page.keyboard.press("Escape");
    await page.locator("#details").waitFor({ state: "hidden", timeout: T });
    const f2 = await focused(page);
    // keyboard: ArrowDown moves between rows
    await page.keyboard.press("ArrowDown");
    const f3 = await focused(page);
    // select an image name and keep the focus on a row, then a change arrives: both survive
    await row(page, params.watch).locator("a.name").focus();
    await page.evaluate((name) => {
      const td = document.querySelector(`#deployments tr[data-name="${name}"] td.image`);
      const r = document.createRange();
      r.selectNodeContents(td);
      getSelection().removeAllRanges();
      getSelection().addRange(r);
    }, params.select);
    const selBefore = await page.evaluate(() => String(getSelection()));
    await step("change");
    await waitText(row(page, params.watch).locator("td.ready"), new RegExp("^" + params.watch_ready + "$"), "the changed row");
    const announced = await until(async () => text(page.locator("#announce")), "an aria-live announcement");
    const selAfter = await page.evaluate(() => String(getSelection()));
    const f4 = await focused(page);
    // the filter: "/" focuses it
    await page.locator("body").click({ position: { x: 5, y: 5 } });
    await page.keyboard.press("/");
    const f5 = await focused(page);
    await page.keyboard.type(params.filter);
    const shown = await until(async () => {
      const c = await page.locator("#deployments tbody tr:not([hidden])").count();
      return c === params.filter_count && c;
    }, "the filter to apply");
    await shot(page, "dashboard-filter");
    const countsFiltered = await text(page.locator("#counts"));
    await page.keyboard.press("Escape");
    await until(async () => (await page.locator("#deployments tbody tr:not([hidden])").count()) === n, "Esc to clear the filter");
    result({ counts_filtered: countsFiltered, deep: dp, details: p, focus_after_open: f1, focus_after_esc: f2, focus_after_arrow: f3, sel_before: selBefore,
      sel_after: selAfter, focus_after_change: f4, announced, focus_after_slash: f5, filtered_rows: shown,
      counts: await text(page.locator("#counts")) });
  },
  // #9: failed rows first, counted, with the reason; details show it and the events
  async failed(page) {
    await waitText(page.locator("#counts"), new RegExp(params.counts), "counts");
    const first = await page.locator("#deployments tbody tr").first().getAttribute("data-name");
    const reasonInRow = await text(row(page, params.service).locator(".reason"));
    await openService(page, params.service);
    await waitText(page.locator("#details-reason"), new RegExp(params.reason), "reason in details");
    await waitText(page.locator("#events tbody"), new RegExp(params.event), "event in details");
    await shot(page, "dashboard-failed-rollout");
    result({ first, reason_in_row: reasonInRow, details_reason: await text(page.locator("#details-reason")),
      events: await text(page.locator("#events tbody")) });
  },
  // #11: 400 px wide: no sideways scrolling, every column in view, the details fit
  async narrow(page) {
    await page.setViewportSize({ width: params.width, height: 800 });
    await waitText(row(page, params.service).locator("td.ready"), /\d+\/\d+/, "rows");
    const m = async () => page.evaluate(() => ({ sw: document.documentElement.scrollWidth, cw: document.documentElement.clientWidth,
      age: (() => { const r = document.querySelector("#deployments tbody tr td.age").getBoundingClientRect(); return { left: r.left, right: r.right }; })() }));
    const list = await m();
    await shot(page, "dashboard-400px");
    await openService(page, params.service);
    await waitText(page.locator("#pods tbody"), /Running/, "pods");
    const details = await m();
    await shot(page, "dashboard-400px-details");
    await axe(page, "400px");
    result({ list, details });
  },
  // #12: the cluster goes away: rows and details say "last known", no Restart; it comes back empty: re-applied
  async "api-gone"(page) {
    await openService(page, params.service);
    await page.locator("#restart").waitFor({ state: "visible", timeout: T });
    await step("stop-api");
    await waitText(page.locator("#banner"), /cannot be read|has not answered/, "unreachable banner");
    await page.locator("#details-stale").waitFor({ state: "visible", timeout: T });
    await page.locator("#restart").waitFor({ state: "hidden", timeout: T });
    const rows = await page.locator("#deployments tbody tr").count();
    const pods = await text(page.locator("#pods tbody"));
    const toggle = await page.locator("#mode-hostpath").isDisabled();
    await shot(page, "dashboard-api-gone");
    await step("start-empty-api");
    await page.locator("#banner").waitFor({ state: "hidden", timeout: T });
    await waitText(row(page, params.service).locator("td.c-state .badge"), /^running$/, "re-applied and running");
    await page.locator("#details-stale").waitFor({ state: "hidden", timeout: T });
    // the source-mode state lived in the cluster that was lost: the truth now is the CI image
    await waitText(row(page, params.service).locator("td.mode"), /^CI image$/, "mode after the empty API server");
    const toggleAfter = await page.locator("#mode-hostpath").isChecked();
    result({ rows_while_gone: rows, pods_while_gone: pods, toggle_disabled_while_gone: toggle, toggle_after: toggleAfter,
      restart_after: await visible(page.locator("#restart")) });
  },
  // many rows: the first complete render, then one snapshot applied (no eval: the page's CSP forbids it)
  // #16: the agent's page under the API server's service proxy path: every request stays under it
  async "agent-subpath"(page) {
    const outside = [];
    page.on("request", (r) => { if (!r.url().startsWith(url)) outside.push(r.url()); });
    await page.goto(url);
    for (const n of params.names) await row(page, n).waitFor({ timeout: T });
    await waitText(page.locator("#conn"), /^live$/, "the event stream through the sub-path");
    if (params.waiting) await waitText(page.locator("#banner"), new RegExp(params.waiting), "the lease banner");
    await shot(page, "dashboard-agent-subpath" + (params.waiting ? "-waiting" : ""));
    result({ outside, banner: await text(page.locator("#banner")) });
  },
  async load(page) {
    await page.locator("#deployments tbody tr").nth(params.count - 1).waitFor({ state: "attached", timeout: T });
    const loadMs = Date.now() - t0;
    const renders = () => page.evaluate(() => performance.getEntriesByName("render-list").map((e) => e.duration));
    const first = await renders();
    // where the time went, in ms since the navigation started (bench/dashboard.sh prints it), by the page's own
    // clock: the locator above polls (Playwright's retry steps are 100-1000 ms), so loadMs says as much about
    // those steps as about the page; the first "render-list" measure ends when the rows are all in the DOM
    // (the agent's first snapshot is complete), and the largest contentful paint follows it
    const tl = await page.evaluate(() => new Promise((resolve) => {
      const nav = performance.getEntriesByType("navigation")[0];
      const res = (n) => performance.getEntriesByType("resource").find((e) => e.name.endsWith(n));
      const r = performance.getEntriesByName("render-list");
      const out = { html: nav.responseEnd, js: res("/app.js") && res("/app.js").responseEnd,
        dom: nav.domContentLoadedEventEnd, render_start: r[0] && r[0].startTime,
        render_end: r[0] && r[0].startTime + r[0].duration, renders: r.length, origin: performance.timeOrigin };
      new PerformanceObserver((l) => { out.paint = l.getEntries().pop().startTime; resolve(out); })
        .observe({ type: "largest-contentful-paint", buffered: true });
      setTimeout(() => resolve(out), 2000); // no paint entry: the figures without it
    }));
    result({ load_ms: loadMs, first_render_ms: first[0], complete_render_ms: tl.render_end,
      timeline: { goto: Math.round(tl.origin - t0), html: tl.html, js: tl.js, dom: tl.dom, render_start: tl.render_start,
        render_end: tl.render_end, paint: tl.paint, renders: tl.renders, seen: Date.now() - tl.origin } });
    if (params.counts) await waitText(page.locator("#counts"), new RegExp(params.counts), "counts");
    if (params.shot) await shot(page, params.shot);
    if (params.change) {
      // one Deployment changes: how long applying that snapshot to the page takes
      const n = (await renders()).length;
      await step("change");
      await waitText(row(page, params.change.name).locator("td.ready"), new RegExp("^" + params.change.ready + "$"), "the change");
      const all = await renders();
      result({ update_render_ms: Math.max(...all.slice(n)), updates: all.length - n });
    }
    if (params.idle) await step("idle"); // the page stays open while the test measures the agent
  },
};

let t0 = 0;

(async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-chromium-"));
  // a fresh profile each run; playwright wants it as launchPersistentContext's first argument
  const ctx = await chromium.launchPersistentContext(dataDir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    viewport: { width: params.width || 1200, height: 800 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  let rc = 0;
  try {
    const page = ctx.pages()[0] || (await ctx.newPage());
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    t0 = Date.now();
    await page.goto(url);
    await page.waitForSelector("body[data-ready='1']", { timeout: T });
    if (!scenarios[scenario]) throw new Error("no scenario " + scenario);
    await scenarios[scenario](page, ctx);
    if (errors.length) throw new Error("page errors: " + errors.join("; "));
  } catch (e) {
    console.error("e2e " + scenario + ": " + e.message);
    rc = 1;
  } finally {
    await ctx.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  process.exit(rc);
})();
