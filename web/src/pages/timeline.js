// Timeline page: what ran across all jobs in a window (a day by default), to see overlaps and gaps.
import { getJson, paths } from "../api.js";
import { barOf, drawBars } from "../bars.js";
import { h } from "../dom.js";
import { href, replaceQuery } from "../router.js";
import { failure, liveReload, region } from "./common.js";

const WINDOWS = { "1h": 1, "6h": 6, "24h": 24, "3d": 72, "7d": 168 };
// Per-job requests give every run in the window; past this many jobs the list's 5 runs must do.
const DETAILED_JOBS = 200;

async function jobsWithRuns() {
  const list = await getJson("/api/jobs", { include_job_runs: 1, include_action_graph: 0, include_node_pool: 0 });
  if (list.jobs.length > DETAILED_JOBS) return list.jobs;
  const out = [];
  for (let i = 0; i < list.jobs.length; i += 8) {
    const batch = list.jobs.slice(i, i + 8).map((j) => getJson(paths.job(j.name), { include_action_graph: 0 }).catch(() => j));
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

function rowsFor(jobs, from, to) {
  return jobs
    .map((job) => ({
      label: job.name,
      href: href("job", job.name),
      bars: (job.runs || [])
        .map((run) => barOf(run, { title: run.id, href: href("job", job.name, run.run_num) }))
        .filter((bar) => bar && bar.end >= from && bar.start <= to),
    }))
    .filter((row) => row.bars.length);
}

class TimelinePage {
  constructor(main, query) {
    Object.assign(this, { main, query });
    this.chart = region("chart");
  }

  get windowKey() {
    const key = this.query.get("window");
    return key in WINDOWS ? key : "24h";
  }

  async load() {
    const to = new Date();
    const from = new Date(to - WINDOWS[this.windowKey] * 3600e3);
    const rows = rowsFor(await jobsWithRuns(), from, to);
    this.chart.replaceChildren(rows.length ? drawBars(rows, [from, to]) : h("p", { class: "muted" }, "Nothing ran in this window."));
  }

  choose(key) {
    this.query.set("window", key);
    replaceQuery(this.query);
    this.drawChooser();
    this.load().catch((error) => failure(this.main, "the timeline", error));
  }

  drawChooser() {
    this.chooser.replaceChildren(...Object.keys(WINDOWS).map((key) => h("button", { type: "button", class: "small", "aria-pressed": String(key === this.windowKey), onclick: () => this.choose(key) }, key)));
  }

  mount() {
    this.chooser = h("div", { class: "commands", role: "group", "aria-label": "Window" });
    this.drawChooser();
    this.main.append(h("h1", {}, "Timeline"), this.chooser, this.chart);
    return liveReload((type) => type === "job_run", () => this.load().catch(() => {}), 2000);
  }
}

export async function render(main, _params, query) {
  const page = new TimelinePage(main, query);
  const done = page.mount();
  try {
    await page.load();
  } catch (error) {
    failure(main, "the timeline", error);
  }
  return done;
}
