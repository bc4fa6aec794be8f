// Timeline page: every job's runs in a time window, from /api/runs (paged), with runs not yet
// started as hollow bars; by default the window is where the activity is.
import { getJson } from "../api.js";
import { drawBars } from "../bars.js";
import { h } from "../dom.js";
import { href, replaceQuery } from "../router.js";
import { failure, liveReload, region, show } from "./common.js";

const WINDOWS = { auto: 0, "1h": 1, "6h": 6, "24h": 24, "3d": 72, "7d": 168 };
const STATES = ["running", "succeeded", "failed", "scheduled", "queued", "waiting", "starting", "cancelled", "skipped", "unknown"];
const PAGE = 1000;
const MAX_RUNS = 5000; // runs fetched for one drawing
const MAX_ROWS = 300; // jobs drawn; past it the namespace filter narrows
const MIN_SPAN_MS = 60e3; // a burst of seconds still fills the chart
// "auto" looks this far back for activity (a day, else a week), and this far ahead.
const AUTO_LOOKBACK_H = [24, 168];
const AUTO_AHEAD_H = 24;

function parseIso(text) {
  return text ? new Date(text) : null;
}

// Every page of /api/runs for `params`, up to MAX_RUNS runs.
export async function fetchRuns(params) {
  const runs = [];
  let offset = 0;
  let total = 0;
  while (offset !== null && runs.length < MAX_RUNS) {
    const body = await getJson("/api/runs", { ...params, limit: PAGE, offset });
    runs.push(...body.runs);
    total = body.total;
    offset = body.next_offset;
  }
  return { runs, total };
}

// The activity's extent (started runs), with now, and a quarter more ahead for what is due.
export function activityWindow(runs, now = new Date()) {
  const started = runs.filter((r) => r.start_time);
  if (!started.length) return [new Date(now - 3600e3), new Date(+now + 3600e3)];
  let from = Math.min(...started.map((r) => parseIso(r.start_time)));
  let to = Math.max(+now, ...started.map((r) => +(parseIso(r.end_time) || now)));
  if (to - from < MIN_SPAN_MS) from = to - MIN_SPAN_MS;
  const margin = (to - from) * 0.04;
  from -= margin;
  to += Math.max((to - from) * 0.25, margin);
  return [new Date(from), new Date(to)];
}

function barFor(run, [from, to], now) {
  const extra = { state: run.state, title: run.id, href: href("job", run.job, run.run_num) };
  if (run.start_time) return { ...extra, start: parseIso(run.start_time), end: parseIso(run.end_time) || now };
  const at = parseIso(run.run_time);
  if (at < from || at > to) return null;
  return { ...extra, title: `${run.id} (${run.state}, due ${run.run_time})`, hollow: true, start: at, end: new Date(+at + (to - from) / 120) };
}

export function rowsFor(runs, span, now = new Date()) {
  const byJob = new Map();
  for (const run of runs) {
    const bar = barFor(run, span, now);
    if (!bar || bar.end < span[0] || bar.start > span[1]) continue;
    if (!byJob.has(run.job)) byJob.set(run.job, { label: run.job, href: href("job", run.job), bars: [] });
    byJob.get(run.job).bars.push(bar);
  }
  return [...byJob.values()].sort((a, b) => a.label.localeCompare(b.label));
}

class TimelinePage {
  constructor(main, query) {
    Object.assign(this, { main, query });
    this.chart = region("chart");
    this.summary = h("p", { class: "muted", role: "status" });
    this.namespaces = new Set(query.get("ns") ? [query.get("ns")] : []);
  }

  get windowKey() {
    const key = this.query.get("window");
    return key in WINDOWS ? key : "auto";
  }

  // The window's runs: [since, until] is the chosen window, or for "auto" the last day (the
  // last week when the day was quiet) and the day ahead.
  async fetch(now) {
    const params = {};
    if (this.query.get("ns")) params.namespace = this.query.get("ns");
    if (this.query.get("state")) params.state = this.query.get("state");
    const iso = (hours) => new Date(+now + hours * 3600e3).toISOString();
    const hours = WINDOWS[this.windowKey];
    if (hours) return fetchRuns({ ...params, since: iso(-hours), until: iso(hours / 4) });
    let found = null;
    for (const back of AUTO_LOOKBACK_H) {
      found = await fetchRuns({ ...params, since: iso(-back), until: iso(AUTO_AHEAD_H) });
      if (found.runs.some((r) => r.start_time)) break;
    }
    return found;
  }

  async load() {
    const now = new Date();
    const hours = WINDOWS[this.windowKey];
    const { runs, total } = await this.fetch(now);
    for (const run of runs) this.namespaces.add(run.job.split(".")[0]);
    this.drawFilters();
    const span = hours ? [new Date(now - hours * 3600e3), new Date(+now + hours * 900e3)] : activityWindow(runs, now);
    const rows = rowsFor(runs, span, now);
    const shown = rows.slice(0, MAX_ROWS);
    const cut = rows.length > shown.length ? `; the first ${shown.length} jobs of ${rows.length} (filter by namespace to see others)` : "";
    const partial = runs.length < total ? ` (the newest ${runs.length} of ${total})` : "";
    this.summary.textContent = `${span[0].toLocaleString()} – ${span[1].toLocaleString()}: ${runs.length} runs${partial}${cut}. Hollow bars: runs not started yet.`;
    this.chart.replaceChildren(shown.length ? drawBars(shown, span) : h("p", { class: "muted" }, "Nothing ran in this window."));
  }

  set(key, value) {
    if (value) this.query.set(key, value);
    else this.query.delete(key);
    replaceQuery(this.query);
    this.drawChooser();
    this.load().catch((error) => failure(this.main, "the timeline", error));
  }

  drawChooser() {
    this.chooser.replaceChildren(...Object.keys(WINDOWS).map((key) => h("button", { type: "button", class: "small", "aria-pressed": String(key === this.windowKey), onclick: () => this.set("window", key === "auto" ? "" : key) }, key)));
  }

  drawFilters() {
    const select = (key, label, values) =>
      h("label", {}, label, h("select", { name: key, onchange: (e) => this.set(key, e.target.value) }, h("option", { value: "" }, "all"), values.map((v) => h("option", { value: v, selected: this.query.get(key) === v }, v))));
    this.filters.replaceChildren(select("ns", "Namespace", [...this.namespaces].sort()), select("state", "State", STATES));
  }

  mount() {
    this.chooser = h("div", { class: "commands", role: "group", "aria-label": "Window" });
    this.filters = h("form", { class: "filters", role: "search", onsubmit: (e) => e.preventDefault() });
    this.drawChooser();
    this.drawFilters();
    this.main.append(h("h1", {}, "Timeline"), this.chooser, this.filters, this.summary, this.chart);
    return liveReload((type) => type === "job_run", () => this.load().catch(() => {}), 2000);
  }
}

export async function render(main, _params, query) {
  const page = new TimelinePage(main, query);
  return show(main, page, "the timeline");
}
