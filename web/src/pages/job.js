// Job page: its settings, the action DAG, the run history as bars and a Gantt of one run.
import { getJson, paths, splitRunId } from "../api.js";
import { barOf, drawBars, spanOf } from "../bars.js";
import { jobButtons } from "../commands.js";
import { dl, h, section, table } from "../dom.js";
import { describeSchedule, formatDuration } from "../format.js";
import { drawGraph } from "../graph.js";
import { jobViews } from "../glance.js";
import { href, replaceQuery } from "../router.js";
import { badge, crumbs, liveReload, region, show, when } from "./common.js";
import { BackfillPanel, startAtControl } from "../backfill.js";
import { jobCare } from "./jobcare.js";

const RUNS_SHOWN = 50;

function settings(job) {
  const flags = [
    job.allow_overlap && "allow overlap",
    job.queueing && "queueing",
    job.all_nodes && "all nodes",
  ].filter(Boolean);
  const nodes = (job.node_pool?.nodes || []).map((n) => n.hostname).join(", ");
  return dl([
    ["Status", badge(job.status)],
    ["Schedule", h("span", { title: `${job.scheduler.type} ${job.scheduler.value}` }, describeSchedule(job.scheduler))],
    ["Node", job.node_pool ? `${job.node_pool.name}${nodes && nodes !== job.node_pool.name ? ` (${nodes})` : ""}` : "—"],
    ["Settings", flags.join(", ") || "none"],
    ["Max runtime", job.max_runtime === "None" ? "none" : job.max_runtime],
    ["Last success", when(job.last_success)],
    ["Next run", when(job.next_run)],
  ]);
}

function runRows(job) {
  return job.runs.map((run) =>
    h(
      "tr",
      { "data-run": run.run_num },
      h("td", {}, h("a", { href: href("job", job.name, run.run_num) }, run.run_num), run.manual ? " (manual)" : ""),
      h("td", {}, badge(run.state)),
      h("td", {}, run.node?.name || ""),
      h("td", {}, run.start_time || run.run_time),
      h("td", {}, run.end_time || ""),
      h("td", {}, formatDuration(run.duration)),
    ),
  );
}

function history(job, onSelect) {
  const rows = job.runs
    .map((run) => ({
      label: `run ${run.run_num}`,
      href: href("job", job.name, run.run_num),
      bars: [barOf(run, { title: `run ${run.run_num}`, href: `#select-${run.run_num}` })].filter(Boolean),
    }))
    .filter((row) => row.bars.length)
    .reverse();
  if (!rows.length) return h("p", { class: "muted" }, "No run has started yet.");
  const chart = drawBars(rows, spanOf(rows));
  // Bars select a run for the Gantt below instead of navigating away.
  chart.addEventListener("click", (event) => {
    const link = event.target.closest("a");
    const match = /^#select-(\d+)$/.exec(link?.getAttribute("href") || "");
    if (!match) return;
    event.preventDefault();
    onSelect(match[1]);
  });
  return chart;
}

export async function gantt(jobName, runNum) {
  const run = await getJson(paths.run(jobName, runNum), { include_action_runs: 1 });
  const rows = run.runs.map((a) => ({
    label: a.action_name,
    href: href("job", jobName, runNum, a.action_name),
    bars: [barOf(a, { title: a.action_name, href: href("job", jobName, runNum, a.action_name) })].filter(Boolean),
  }));
  if (!rows.some((r) => r.bars.length)) return h("p", { class: "muted" }, `Run ${runNum} has not started.`);
  return drawBars(rows, spanOf(rows));
}

class JobPage {
  constructor(main, name, query) {
    Object.assign(this, { main, name, query });
    this.care = jobCare(name);
    this.regions = { head: region("head"), facts: region("facts"), graph: region("graph"), history: region("history"), gantt: region("gantt"), runs: region("runs") };
  }

  async load() {
    this.job = await getJson(paths.job(this.name), { include_action_graph: 1, num_runs: RUNS_SHOWN });
    this.draw();
    this.care.load();
  }

  draw() {
    const job = this.job;
    const r = this.regions;
    r.head.replaceChildren(h("h1", {}, job.name, " ", badge(job.status)), jobButtons(paths.job(job.name), job.name, job.status !== "disabled", () => this.load()));
    r.facts.replaceChildren(settings(job));
    if (!this.graphDrawn) r.graph.replaceChildren(drawGraph(job.action_graph || []));
    this.graphDrawn = true;
    r.history.replaceChildren(history(job, (run) => this.select(run)));
    r.runs.replaceChildren(job.runs.length ? table(["Run", "State", "Node", "Start", "End", "Duration"], runRows(job)) : h("p", { class: "muted" }, "No runs."));
    const started = job.runs.find((run) => run.start_time);
    this.select(this.query.get("run") || started?.run_num, false);
  }

  async select(runNum, remember = true) {
    if (runNum === undefined || runNum === null) return this.regions.gantt.replaceChildren(h("p", { class: "muted" }, "Select a run above."));
    if (remember) {
      this.query.set("run", runNum);
      replaceQuery(this.query);
    }
    try {
      const chart = await gantt(this.name, runNum);
      this.regions.gantt.replaceChildren(h("h3", {}, h("a", { href: href("job", this.name, runNum) }, `Run ${runNum}`), " action runs"), chart);
    } catch (error) {
      this.regions.gantt.replaceChildren(h("p", { class: "error" }, error.message));
    }
  }

  mount() {
    const r = this.regions;
    const care = this.care;
    this.main.append(
      crumbs(this.name),
      jobViews(this.name, href),
      r.head,
      care.alerts.el,
      section("Why is this job not running?", care.why.el),
      section("Details", r.facts),
      section("Action graph", r.graph),
      section("Run history", r.history, r.gantt),
      section("Runs", r.runs),
      section("Start and backfill", startAtControl(this.name), BackfillPanel.of(this.name).el),
      section("Command history", care.audit.el),
    );
    const stopAlerts = care.alerts.watch();
    const stop = liveReload((type, e) => type === "job_run" && splitRunId(e.id).job === this.name, () => this.load());
    return () => (stopAlerts(), stop());
  }
}

export async function render(main, [name], query) {
  const page = new JobPage(main, name, query);
  return show(main, page, name);
}
