// Timeline page: every job's runs in a time window, from /api/runs (paged), with runs not yet
// started as hollow bars; by default the window is where the activity is.
import { getJson } from "../api.js";
import { drawBars } from "../bars.js";
import { h } from "../dom.js";
import { href, replaceQuery } from "../router.js";
import { failure, liveReload, newestLoad, region, show } from "./common.js";

const WINDOWS = { auto: 0, "1h": 1, "6h": 6, "24h": 24, "3d": 72, "7d": 168 };
const STATES = ["running", "succeeded", "failed", "scheduled", "queued", "waiting", "starting", "cancelled", "skipped", "unknown"];
const PAGE = 1000;
const MAX_RUNS = 5000; // runs fetched for one drawing
const MAX_ROWS = 300; // jobs drawn at once; past it the pager (or a filter) shows the others
const MIN_SPAN_MS = 60e3; // a burst of seconds still fills the chart
// "auto" looks this far back for activity (a day, else a week), and this far ahead.
const AUTO_LOOKBACK_H = [24, 168];
const AUTO_AHEAD_H = 24;

function parseIso(text) {
  return text ? new Date(text) : null;
}

// Every page of /api/runs for `params`, up to MAX_RUNS runs from `skip` on (newest first).
export async function fetchRuns(params, skip = 0) {
  const runs = [];
  let offset = skip;
  let total = 0;
  while (offset !== null && runs.length < MAX_RUNS) {
    const body = await getJson("/api/runs", { ...params, limit: PAGE, offset });
    runs.push(...body.runs);
    total = body.total;
    offset = body.next_offset;
  }
  return { runs, total, skip };
}

// The 1-based page number a query key holds (1 when absent or nonsense).
function pageNumber(query, key) {
  const n = Number(query.get(key));
  return Number.isInteger(n) && n > 1 ? n : 1;
}

// The `page`th slice of `size` of `items` (the last one when past the end), with its number.
export function pageOf(items, page, size) {
  const last = Math.max(Math.ceil(items.length / size), 1);
  const at = Math.min(page, last);
  return { at, last, items: items.slice((at - 1) * size, at * size) };
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
    this.loads = newestLoad();
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
    const skip = (pageNumber(this.query, "runs") - 1) * MAX_RUNS;
    if (hours) return fetchRuns({ ...params, since: iso(-hours), until: iso(hours / 4) }, skip);
    let found = null;
    for (const back of AUTO_LOOKBACK_H) {
      found = await fetchRuns({ ...params, since: iso(-back), until: iso(AUTO_AHEAD_H) }, skip);
      if (found.runs.some((r) => r.start_time)) break;
    }
    return found;
  }

  async load() {
    const now = new Date();
    const hours = WINDOWS[this.windowKey];
    const isNewest = this.loads();
    const { runs, total, skip } = await this.fetch(now);
    if (!isNewest()) return;
    for (const run of runs) this.namespaces.add(run.job.split(".")[0]);
    this.drawFilters();
    const span = hours ? [new Date(now - hours * 3600e3), new Date(+now + hours * 900e3)] : activityWindow(runs, now);
    const rows = rowsFor(runs, span, now);
    const jobs = pageOf(rows, pageNumber(this.query, "jobs"), MAX_ROWS);
    const first = (jobs.at - 1) * MAX_ROWS;
    const cut = jobs.last > 1 ? `; jobs ${first + 1}–${first + jobs.items.length} of ${rows.length}` : "";
    const partial = runs.length < total ? ` (runs ${skip + 1}–${skip + runs.length} of ${total}, newest first)` : "";
    this.summary.textContent = `${span[0].toLocaleString()} – ${span[1].toLocaleString()}: ${runs.length} runs${partial}${cut}. Hollow bars: runs not started yet.`;
    this.drawPager(jobs, skip, runs.length, total);
    const filters = [["state", "state"], ["ns", "namespace"]].filter(([key]) => this.query.get(key)).map(([key, name]) => `${name} ${this.query.get(key)}`);
    const none = `Nothing ran in this window.${filters.length ? ` Filtered by ${filters.join(" and ")}: choose "all" or a longer window to see more.` : ""}`;
    this.chart.replaceChildren(jobs.items.length ? drawBars(jobs.items, span) : h("p", { class: "muted" }, none));
  }

  // Buttons to the other jobs (past MAX_ROWS) and the older runs (past MAX_RUNS); only those
  // that lead somewhere are drawn.
  drawPager(jobs, skip, fetched, total) {
    const go = (key, n, label) => h("button", { type: "button", class: "small", "data-page": key, onclick: () => this.turn(key, n) }, label);
    const runPage = skip / MAX_RUNS + 1;
    const buttons = [
      jobs.at > 1 ? go("jobs", jobs.at - 1, `‹ Jobs ${(jobs.at - 2) * MAX_ROWS + 1}–${(jobs.at - 1) * MAX_ROWS}`) : null,
      jobs.at < jobs.last ? go("jobs", jobs.at + 1, `Next ${MAX_ROWS} jobs ›`) : null,
      runPage > 1 ? go("runs", runPage - 1, "‹ Newer runs") : null,
      skip + fetched < total ? go("runs", runPage + 1, `Older runs (${total - skip - fetched} more) ›`) : null,
    ].filter(Boolean);
    this.pager.hidden = !buttons.length;
    this.pager.replaceChildren(...buttons);
  }

  // A page of jobs or runs; a new page of runs starts again at the first page of jobs.
  turn(key, n) {
    if (key === "runs") this.query.delete("jobs");
    this.set(key, n > 1 ? String(n) : "");
  }

  set(key, value) {
    // Another window or filter is another list: back to the first pages.
    if (key !== "jobs" && key !== "runs") for (const page of ["jobs", "runs"]) this.query.delete(page);
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
    this.pager = h("nav", { class: "commands pager", "aria-label": "Pages of the timeline", hidden: true });
    this.drawChooser();
    this.drawFilters();
    this.main.append(h("h1", {}, "Timeline"), this.chooser, this.filters, this.summary, this.pager, this.chart);
    return liveReload((type) => type === "job_run", () => this.load().catch(() => {}), 2000);
  }
}

export async function render(main, _params, query) {
  const page = new TimelinePage(main, query);
  return show(main, page, "the timeline");
}
