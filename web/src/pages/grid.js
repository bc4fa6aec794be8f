// Grid pages: a job's last runs by action, or a namespace's jobs by their last runs; every
// cell is a run's state (colour and glyph), its duration on hover, a link to the run.
import { getJson } from "../api.js";
import { h } from "../dom.js";
import { cell, describeRun, jobViews, legend, runCount, runOf, runsChooser } from "../glance.js";
import { href, replaceQuery } from "../router.js";
import { crumbs, failure, liveReload, newestLoad, region, show } from "./common.js";

const JOB_CHOICES = [25, 50, 100, 500, 1000];
const NAMESPACE_CHOICES = [10, 25, 50, 100];
const CELL = "18px";

// Oldest run on the left, as time reads; one column per run.
export function jobGrid(body) {
  const runs = [...body.runs].reverse();
  const job = body.job;
  const grid = h("div", { class: "glance-grid", role: "group", "aria-label": `Runs of ${job} by action`, "data-runs": runs.length });
  grid.style.gridTemplateColumns = `minmax(90px, max-content) repeat(${runs.length}, ${CELL})`;
  const parts = [h("span", { class: "col-head" }, "run")];
  const heads = [h("span", { class: "row-name" }, h("strong", {}, "job run"))];
  for (const entry of runs) {
    const run = runOf(entry.run);
    parts.push(h("span", { class: "col-num" }, run.num));
    heads.push(cell(run.state, describeRun(`run ${run.num}`, run.state, run.seconds, run.start), href("job", job, run.num)));
  }
  const rows = body.actions.map((action) => [
    h("span", { class: "row-name", title: action }, action),
    runs.map((entry) => {
      const num = entry.run[0];
      const found = entry.actions[action];
      if (!found) return h("span", { class: "none", title: `run ${num} has no ${action}` });
      const [state, seconds] = found;
      return cell(state, describeRun(`${action} · run ${num}`, state, seconds), href("job", job, num, action));
    }),
  ]);
  grid.append(...parts, ...heads, ...rows.flat(2));
  return grid;
}

// Newest run on the right; jobs with fewer runs start further right.
export function namespaceGrid(namespace, jobs, count) {
  const grid = h("div", { class: "glance-grid", role: "group", "aria-label": `Jobs of ${namespace} by their last runs` });
  grid.style.gridTemplateColumns = `minmax(120px, max-content) repeat(${count}, ${CELL})`;
  for (const [name, entry] of Object.entries(jobs)) {
    const runs = entry.runs.map(runOf).reverse();
    const blanks = Array.from({ length: count - runs.length }, () => h("span", {}));
    grid.append(
      h("a", { class: "row-name", href: href("grid", name), "data-job": name }, name.slice(namespace.length + 1)),
      ...blanks,
      ...runs.map((r) => cell(r.state, describeRun(`${name} run ${r.num}`, r.state, r.seconds, r.start), href("job", name, r.num))),
    );
  }
  return grid;
}

class GridPage {
  constructor(main, name, query) {
    Object.assign(this, { main, name, query });
    this.isJob = name.includes(".");
    this.choices = this.isJob ? JOB_CHOICES : NAMESPACE_CHOICES;
    this.body = region("grid");
    this.controls = region("controls");
    this.loads = newestLoad();
  }

  get count() {
    return runCount(this.query, this.choices, this.isJob ? 50 : 25);
  }

  async load() {
    const isNewest = this.loads();
    if (this.isJob) {
      const body = await getJson("/api/grid", { job: this.name, num_runs: this.count });
      if (!isNewest()) return;
      const shown = body.runs.length ? jobGrid(body) : h("p", { class: "muted" }, `${this.name} has no runs yet.`);
      this.body.replaceChildren(h("p", { class: "muted" }, `${body.runs.length} of ${body.total_runs} runs, oldest on the left.`), shown);
    } else {
      const body = await getJson("/api/recent", { namespace: this.name, num_runs: this.count });
      if (!isNewest()) return;
      const names = Object.keys(body.jobs);
      const shown = names.length ? namespaceGrid(this.name, body.jobs, this.count) : h("p", { class: "muted" }, `no jobs in namespace ${this.name}`);
      // /api/recent answers at most 100 runs a job; a job's own grid goes further.
      const most = NAMESPACE_CHOICES.at(-1);
      const note = `${names.length} jobs, the last ${this.count} runs of each, newest on the right. A namespace grid shows at most ${most} runs a job; open a job's grid for up to ${JOB_CHOICES.at(-1)}.`;
      this.body.replaceChildren(h("p", { class: "muted", "data-note": "runs" }, note), shown);
    }
  }

  pick(n) {
    this.query.set("runs", n);
    replaceQuery(this.query);
    this.drawControls();
    this.load().catch((error) => failure(this.main, this.name, error));
  }

  drawControls() {
    this.controls.replaceChildren(runsChooser(this.choices, this.count, (n) => this.pick(n)));
  }

  mount() {
    const head = this.isJob ? [crumbs(this.name), h("h1", {}, `${this.name} · grid`), jobViews(this.name, href)] : [h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/jobs" }, "Jobs"), ` / namespace ${this.name}`), h("h1", {}, `${this.name} · grid`)];
    this.drawControls();
    this.main.append(...head, this.controls, this.body, legend());
    // Run ids start with the job's name, and job names with their namespace's.
    const mine = (type, e) => type === "job_run" && e.id.startsWith(`${this.name}.`);
    return liveReload(mine, () => this.load(), 1000);
  }
}

export async function render(main, [name], query) {
  const page = new GridPage(main, name, query);
  return show(main, page, name);
}
