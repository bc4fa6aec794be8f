// Trends page: a job's run durations over its history, its expected_runtime as a line, the
// runs that took longer marked late.
import { getJson } from "../api.js";
import { availableWidth } from "../bars.js";
import { h, s } from "../dom.js";
import { formatSeconds } from "../format.js";
import { describeRun, glyph, jobViews, runCount, runOf, runsChooser } from "../glance.js";
import { href, replaceQuery } from "../router.js";
import { crumbs, failure, liveReload, newestLoad, region, show } from "./common.js";

const CHOICES = [50, 200, 1000];
const HEIGHT = 260;
const PAD = { left: 64, right: 12, top: 14, bottom: 26 };

function scale(runs, expected) {
  const top = Math.max(expected, ...runs.map((r) => r.seconds)) * 1.1 || 1;
  return (seconds) => PAD.top + (HEIGHT - PAD.top - PAD.bottom) * (1 - seconds / top);
}

// Gridlines at quarters of the chart's top value.
function yAxis(y, top, width) {
  const marks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * (top > 0 ? top : 1));
  return marks.map((v) => [s("line", { class: "axis", x1: PAD.left, x2: width - PAD.right, y1: y(v), y2: y(v) }), s("text", { x: PAD.left - 6, y: y(v) + 4, "text-anchor": "end" }, formatSeconds(v))]);
}

// runs: oldest first, started ones only ({num, state, seconds, start}).
export function trendChart(job, runs, expected, width = availableWidth()) {
  const y = scale(runs, expected);
  const step = (width - PAD.left - PAD.right) / Math.max(runs.length, 1);
  const barW = Math.max(Math.min(step - 1, 14), 1);
  const highest = Math.max(expected, ...runs.map((r) => r.seconds));
  const parts = [yAxis(y, highest * 1.1, width)];
  runs.forEach((run, i) => {
    const x = PAD.left + i * step + (step - barW) / 2;
    const late = run.seconds > expected;
    const label = describeRun(`run ${run.num}`, run.state, run.seconds, run.start) + (late ? " · late" : "");
    const bar = s("rect", { class: `dot st-${run.state}`, x, y: y(run.seconds), width: barW, height: Math.max(y(0) - y(run.seconds), 1), "data-run": run.num, "data-late": late ? "true" : null }, s("title", {}, label));
    const mark = late ? s("text", { class: "late-mark", x: x + barW / 2, y: y(run.seconds) - 3, "text-anchor": "middle" }, "!") : null;
    parts.push(s("a", { href: href("job", job, run.num), "aria-label": label }, bar, mark));
  });
  const ey = y(expected);
  parts.push(s("line", { class: "expected", x1: PAD.left, x2: width - PAD.right, y1: ey, y2: ey }), s("text", { x: width - PAD.right, y: ey - 4, "text-anchor": "end" }, `expected_runtime ${formatSeconds(expected)}`));
  // A group, not an image: each run is a link inside it.
  const svg = s("svg", { class: "trend", viewBox: `0 0 ${width} ${HEIGHT}`, width, height: HEIGHT, role: "group", "aria-label": `Durations of ${runs.length} runs of ${job}` }, ...parts.flat());
  return h("div", { class: "bars-wrap" }, svg);
}

function summary(job, runs, expected) {
  const late = runs.filter((r) => r.seconds > expected);
  const sorted = runs.map((r) => r.seconds).sort((a, b) => a - b);
  const median = sorted.length ? sorted[Math.floor(sorted.length / 2)] : null;
  const lateLinks = late.slice(-20).reverse().map((r, i) => [i ? " " : "", h("a", { href: href("job", job, r.num), class: "late-run" }, `${glyph(r.state)} ${r.num}`)]);
  return h(
    "p",
    { class: "trend-summary" },
    `${runs.length} runs; median ${formatSeconds(median)}; expected_runtime ${formatSeconds(expected)}; `,
    h("strong", { "data-late-count": late.length }, `${late.length} late`),
    late.length ? [" (newest: ", lateLinks, ")"] : "",
  );
}

class TrendsPage {
  constructor(main, name, query) {
    Object.assign(this, { main, name, query });
    this.body = region("trend");
    this.controls = region("controls");
    this.loads = newestLoad();
  }

  get count() {
    return runCount(this.query, CHOICES, 200);
  }

  async load() {
    const isNewest = this.loads();
    const body = await getJson("/api/grid", { job: this.name, num_runs: this.count });
    if (!isNewest()) return;
    const runs = body.runs
      .map((e) => runOf(e.run))
      .filter((r) => r.seconds !== null)
      .reverse();
    const expected = body.expected_runtime;
    if (!runs.length) return this.body.replaceChildren(h("p", { class: "muted" }, `${this.name} has no started runs yet.`));
    this.body.replaceChildren(summary(this.name, runs, expected), trendChart(this.name, runs, expected));
  }

  pick(n) {
    this.query.set("runs", n);
    replaceQuery(this.query);
    this.drawControls();
    this.load().catch((error) => failure(this.main, this.name, error));
  }

  drawControls() {
    this.controls.replaceChildren(runsChooser(CHOICES, this.count, (n) => this.pick(n)));
  }

  mount() {
    this.drawControls();
    this.main.append(crumbs(this.name), h("h1", {}, `${this.name} · trends`), jobViews(this.name, href), this.controls, this.body);
    return liveReload((type, e) => type === "job_run" && e.id.startsWith(`${this.name}.`), () => this.load(), 1000);
  }
}

export async function render(main, [name], query) {
  const page = new TrendsPage(main, name, query);
  return show(main, page, name);
}
