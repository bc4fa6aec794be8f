// Jobs page: every job, filtered and sorted instantly, virtualised, updated live from the stream.
import { AlertsPanel } from "../alerts.js";
import { getJson, paths, splitRunId, subscribe } from "../api.js";
import { h } from "../dom.js";
import { describeSchedule, formatSeconds, relative } from "../format.js";
import { href, replaceQuery } from "../router.js";
import { VirtualList } from "../vlist.js";
import { percent, runOf, runsFromJob, strip, successRate } from "../glance.js";

const RECENT_RUNS = 10;

const ROW_H = 34;
const COLUMNS = [
  ["short", "Name"],
  ["ns", "Namespace"],
  ["status", "Status"],
  ["schedule", "Schedule"],
  ["lastStart", "Last run"],
  ["lastDuration", "Duration"],
  ["recent", `Last ${RECENT_RUNS} runs`],
  ["rate", "Success"],
  ["nextRun", "Next run"],
  ["node", "Node"],
];

// `runs`: the job's newest runs in /api/recent's form (glance.js), newest first.
export function rowOf(job, runs = runsFromJob(job), rate = successRate(runs)) {
  const [ns, ...rest] = job.name.split(".");
  const last = runs.find((r) => r.start);
  return {
    name: job.name,
    ns,
    short: rest.join("."),
    status: job.status,
    schedule: describeSchedule(job.scheduler),
    lastState: last?.state || "",
    lastRun: last?.num,
    lastStart: last?.start || "",
    lastDuration: last?.seconds ?? -1,
    recent: runs,
    rate: rate ?? -1,
    nextRun: job.next_run || "",
    node: job.node_pool?.name || "",
    stamp: Math.random(),
  };
}

function badge(state) {
  return state ? h("span", { class: `badge st-${state}` }, state) : "";
}

function cell(content, attrs = {}) {
  return h("div", { role: "cell", ...attrs }, content);
}

function renderRow(row) {
  return h(
    "div",
    { class: "vrow", role: "row", "data-job": row.name },
    cell(h("a", { href: href("job", row.name) }, row.short), { class: "name", title: row.name }),
    cell(h("a", { href: href("grid", row.ns), title: `${row.ns}: jobs by their last runs` }, row.ns)),
    cell(badge(row.status)),
    cell(row.schedule, { title: row.schedule }),
    cell(
      row.lastStart
        ? h("a", { href: href("job", row.name, row.lastRun), title: row.lastStart }, badge(row.lastState), " ", relative(row.lastStart))
        : "—",
    ),
    cell(row.lastDuration >= 0 ? formatSeconds(row.lastDuration) : ""),
    cell(strip(row.name, row.recent, (num) => href("job", row.name, num)), { class: "recent" }),
    cell(percent(row.rate >= 0 ? row.rate : null), { class: "rate" }),
    cell(row.nextRun ? relative(row.nextRun) : "—", { title: row.nextRun }),
    cell(row.node),
  );
}

function matches(row, f) {
  const text = f.get("q")?.toLowerCase();
  if (text && !row.name.toLowerCase().includes(text)) return false;
  if (f.get("ns") && row.ns !== f.get("ns")) return false;
  if (f.get("node") && row.node !== f.get("node")) return false;
  const state = f.get("state");
  return !state || row.status === state || row.lastState === state;
}

function compare(key, desc) {
  const sign = desc ? -1 : 1;
  return (a, b) => {
    const x = a[key];
    const y = b[key];
    const order = typeof x === "number" ? x - y : String(x).localeCompare(String(y));
    return sign * (order || a.name.localeCompare(b.name));
  };
}

class JobsPage {
  constructor(main, query) {
    this.main = main;
    this.query = query;
    this.rows = new Map();
    this.dirty = new Set();
    this.epoch = 0;
    this.list = new VirtualList({
      rowHeight: ROW_H,
      renderRow,
      keyOf: (row) => row.name,
      versionOf: (row) => `${row.stamp}/${this.epoch}`,
      label: "Jobs",
    });
    this.count = h("span", { class: "count", role: "status" });
    this.filters = h("form", { class: "filters", role: "search", onsubmit: (e) => e.preventDefault() });
    this.header = h("div", { class: "vhead", role: "row" });
    this.note = h("p", { class: "list-note", role: "status", "aria-busy": "true" }, "Loading jobs…");
  }

  // The job list without runs is cached by trond; the runs come compact from /api/recent.
  async load() {
    const [body, recent] = await Promise.all([
      getJson("/api/jobs", { include_job_runs: 0, include_action_graph: 0 }),
      getJson("/api/recent", { num_runs: RECENT_RUNS }).catch(() => ({ jobs: {} })),
    ]);
    const rowFor = (job) => {
      const found = recent.jobs[job.name];
      return found ? rowOf(job, found.runs.map(runOf), found.success_rate) : rowOf(job);
    };
    this.rows = new Map(body.jobs.map((job) => [job.name, rowFor(job)]));
    this.drawFilters();
    this.refresh();
  }

  // The form is built once; reloads only refresh the choices, so typing is never interrupted.
  drawFilters() {
    const all = [...this.rows.values()];
    const uniq = (key) => [...new Set(all.map((r) => r[key]).filter(Boolean))].sort();
    const choices = {
      ns: uniq("ns"),
      state: [...new Set([...uniq("status"), ...uniq("lastState")])].sort(),
      node: uniq("node"),
    };
    if (!this.filters.childNodes.length) this.buildFilters();
    for (const [key, values] of Object.entries(choices)) {
      const el = this.filters.querySelector(`select[name=${key}]`);
      const wanted = this.query.get(key) || "";
      el.replaceChildren(h("option", { value: "" }, "all"), ...values.map((v) => h("option", { value: v }, v)));
      el.value = wanted;
    }
  }

  buildFilters() {
    const set = (key) => (event) => this.setFilter(key, event.target.value);
    const choice = (key, label) => h("label", {}, label, h("select", { name: key, onchange: set(key) }));
    this.filters.replaceChildren(
      h("label", {}, "Filter", h("input", { type: "search", name: "q", placeholder: "name…  (press f)", value: this.query.get("q") || "", "data-filter": true, oninput: set("q"), autocomplete: "off" })),
      choice("ns", "Namespace"),
      choice("state", "State"),
      choice("node", "Node"),
      this.count,
    );
  }

  setFilter(key, value) {
    if (value) this.query.set(key, value);
    else this.query.delete(key);
    replaceQuery(this.query);
    this.refresh();
  }

  setSort(key) {
    const same = (this.query.get("sort") || "short") === key;
    this.query.set("sort", key);
    if (same && !this.query.has("desc")) this.query.set("desc", "1");
    else this.query.delete("desc");
    replaceQuery(this.query);
    this.refresh();
  }

  drawHeader() {
    const sort = this.query.get("sort") || "short";
    const desc = this.query.has("desc");
    this.header.replaceChildren(
      ...COLUMNS.map(([key, label]) => {
        const ariaSort = key === sort ? (desc ? "descending" : "ascending") : "none";
        const arrow = key === sort ? (desc ? " ▼" : " ▲") : "";
        if (key === "recent") return h("div", { role: "columnheader", class: "plain" }, label);
        return h("div", { role: "columnheader", "aria-sort": ariaSort }, h("button", { type: "button", onclick: () => this.setSort(key) }, label + arrow));
      }),
    );
  }

  refresh() {
    const sort = this.query.get("sort") || "short";
    const shown = [...this.rows.values()].filter((row) => matches(row, this.query));
    shown.sort(compare(sort, this.query.has("desc")));
    this.count.textContent = `${shown.length} of ${this.rows.size} jobs`;
    this.drawHeader();
    this.list.setItems(shown);
    this.drawNote(shown.length);
  }

  // Says why the list is empty: nothing configured, or nothing matching the filters.
  drawNote(shown) {
    this.note.removeAttribute("aria-busy");
    this.note.hidden = shown > 0;
    if (shown) return;
    if (!this.rows.size) return (this.note.textContent = "No jobs yet: add some to a namespace in Config.");
    const q = this.query.get("q");
    const rest = [["ns", "in namespace"], ["state", "with state"], ["node", "on node"]]
      .filter(([key]) => this.query.get(key))
      .map(([key, words]) => `${words} ${this.query.get(key)}`);
    this.note.textContent = `no job matches ${[q ? `'${q}'` : "", ...rest].filter(Boolean).join(" ")}`;
  }

  onEvent(type, event) {
    if (type === "config" || type === "poll") return this.reloadSoon();
    if (type !== "job_run") return;
    const { job } = splitRunId(event.id);
    if (!this.rows.has(job)) return this.reloadSoon();
    this.dirty.add(job);
    this.timer ||= setTimeout(() => this.flush().catch(() => {}), 300);
  }

  reloadSoon() {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => this.load().catch(() => {}), 500);
  }

  // Refetch only the jobs that changed; past a hundred at once one list request is cheaper.
  async flush() {
    this.timer = null;
    const names = [...this.dirty];
    this.dirty.clear();
    if (names.length > 100) return this.load();
    const fetched = await Promise.allSettled(names.map((n) => getJson(paths.job(n), { num_runs: RECENT_RUNS, include_action_graph: 0 })));
    for (const result of fetched) {
      if (result.status === "fulfilled") this.rows.set(result.value.name, rowOf(result.value));
    }
    this.refresh();
  }

  mount() {
    const table = h("div", { class: "vtable", role: "table", "aria-label": "Jobs" }, this.header, this.list.el);
    const alerts = new AlertsPanel(); // open alerts of every job (issue 13), above the list
    this.main.append(h("h1", {}, "Jobs"), alerts.el, this.filters, this.note, table);
    const stopAlerts = alerts.watch();
    const unsubscribe = subscribe((type, event) => this.onEvent(type, event));
    // Relative times ("3m ago") age; re-render the visible rows now and then.
    const ticker = setInterval(() => {
      this.epoch++;
      this.list.render();
    }, 20000);
    return () => {
      stopAlerts();
      unsubscribe();
      clearInterval(ticker);
      clearTimeout(this.timer);
      clearTimeout(this.reloadTimer);
    };
  }
}

export async function render(main, _params, query) {
  const page = new JobsPage(main, query);
  const done = page.mount();
  try {
    await page.load();
  } catch (error) {
    page.note.hidden = true;
    main.append(h("p", { class: "error", role: "alert" }, `Could not load jobs: ${error.message}`));
  }
  return done;
}
