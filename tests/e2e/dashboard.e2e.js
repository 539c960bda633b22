// dashboard.e2e.js — drives the appdeploy dashboard in headless Chromium (playwright-core, Debian's browser), one scenario per run.
// Usage: node dashboard.e2e.js SCENARIO URL   (params in $E2E_PARAMS as JSON; screenshots into $E2E_OUT)
// Exits 0 when the scenario's expectations held, 1 with the reason otherwise. Every wait has a deadline.
"use strict";
const { chromium } = require("playwright-core");
const fs = require("fs");
const os = require("os");
const path = require("path");

const [scenario, url] = process.argv.slice(2);
const params = JSON.parse(process.env.E2E_PARAMS || "{}");
const outDir = process.env.E2E_OUT || path.join(__dirname, "..", "..", "build", "e2e");
const T = 20000; // per-expectation deadline (ms)

async function shot(page, name) {
  fs.mkdirSync(outDir, { recursive: true });
  await page.screenshot({ path: path.join(outDir, name + ".png"), fullPage: true });
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

const scenarios = {
  // the list shows every Deployment with ready/desired, state, mode and image
  async list(page) {
    for (const d of params.deployments) {
      await waitText(row(page, d.name).locator("td.ready"), new RegExp("^" + d.ready + "$"), d.name + " ready");
      await waitText(row(page, d.name).locator("td.mode"), new RegExp(d.mode), d.name + " mode");
      await waitText(row(page, d.name).locator("td.image"), new RegExp(d.image.replace(/[.]/g, "\\.")), d.name + " image");
    }
    await waitText(page.locator("#deployments tbody tr .state"), /running/, "state");
    await shot(page, "dashboard-list");
  },
  // flips the source-mode toggle of params.service to params.on and waits for the row to show it
  async source(page) {
    await openService(page, params.service);
    const t = page.locator("#source-toggle");
    await t.waitFor({ state: "visible", timeout: T });
    if ((await t.isChecked()) !== params.expect_before) throw new Error("toggle was " + (await t.isChecked()) + " before");
    await t.setChecked(params.on);
    await waitText(row(page, params.service).locator("td.mode"), params.on ? /^source/ : /CI image/, "mode");
    await waitText(row(page, params.service).locator("td.image"), new RegExp(params.image.replace(/[.]/g, "\\.")), "image");
    await shot(page, "dashboard-source-" + (params.on ? "on" : "off"));
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
  // Restart pokes reloader through the pod proxy and shows the failed build's output
  async restart(page) {
    await openService(page, params.service);
    await page.locator("#restart").waitFor({ state: "visible", timeout: T });
    await page.locator("#restart").click();
    await waitText(page.locator("#restart-outcome"), new RegExp(params.outcome), "restart outcome");
    await waitText(page.locator("#restart-output"), new RegExp(params.output), "restart output");
    await shot(page, "dashboard-restart");
  },
};

(async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-chromium-"));
  // a fresh profile each run; playwright wants it as launchPersistentContext's first argument
  const browser = await chromium.launchPersistentContext(dataDir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1200, height: 800 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  let rc = 0;
  try {
    const page = browser.pages()[0] || (await browser.newPage());
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    const t0 = Date.now();
    await page.goto(url);
    await page.waitForSelector("body[data-ready='1']", { timeout: T });
    if (scenario === "load") {
      // the benchmark: first complete render of params.count rows
      await page.waitForFunction((n) => document.querySelectorAll("#deployments tbody tr").length >= n, params.count, { timeout: T });
      console.log(JSON.stringify({ load_ms: Date.now() - t0 }));
    } else {
      await scenarios[scenario](page);
    }
    if (errors.length) throw new Error("page errors: " + errors.join("; "));
  } catch (e) {
    console.error("e2e " + scenario + ": " + e.message);
    rc = 1;
  } finally {
    await browser.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  process.exit(rc);
})();
