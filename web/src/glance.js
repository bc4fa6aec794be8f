// Run states at a glance: each state's glyph (so state is not told by colour alone),
// coloured ticks and cells, and the compact run tuples of /api/recent and /api/grid.
import { h } from "./dom.js";
import { formatSeconds, parseDuration } from "./format.js";
import { STATE_ICONS } from "./states.js";

// The run states a legend names; their glyphs are the badges' (states.js), so a state looks
// the same on every page.
const RUN_STATES = ["succeeded", "failed", "running", "starting", "waiting", "queued", "scheduled", "cancelled", "skipped", "unknown"];

export function glyph(state) {
  return STATE_ICONS[state] || "·";
}

// [run_num, state, seconds, start_time] (the API's `fields`) as an object.
export function runOf([num, state, seconds, start]) {
  return { num, state, seconds, start };
}

// A job's runs as /api/jobs/<job> gives them, in the compact form and /api/recent's order
// (newest run time first).
export function runsFromJob(job) {
  const runs = [...(job.runs || [])].sort((a, b) => String(b.run_time).localeCompare(String(a.run_time)) || b.run_num - a.run_num);
  return runs.map((r) => runOf([r.run_num, r.state, parseDuration(r.duration), r.start_time]));
}

// Succeeded among finished runs (skipped ones aside); null when none finished. The same rule
// as /api/recent's success_rate, for a job refetched alone.
export function successRate(runs) {
  const done = runs.filter((r) => ["succeeded", "failed", "cancelled", "unknown"].includes(r.state));
  return done.length ? done.filter((r) => r.state === "succeeded").length / done.length : null;
}

export function describeRun(label, state, seconds, start) {
  const took = seconds === null || seconds === undefined ? "" : ` · ${formatSeconds(seconds)}`;
  return `${label} · ${state}${took}${start ? ` · ${start}` : ""}`;
}

// One coloured cell with its glyph; a link when `href` is given.
export function cell(state, title, href, cls = "cell") {
  const attrs = { class: `${cls} st-${state}`, "data-state": state, title, "aria-label": title };
  return href ? h("a", { ...attrs, href }, glyph(state)) : h("span", { ...attrs, role: "img" }, glyph(state));
}

// The last runs of a job as ticks, oldest on the left (newest-first input).
export function strip(jobName, runs, hrefOf) {
  const ticks = [...runs].reverse().map((r) => cell(r.state, describeRun(`run ${r.num}`, r.state, r.seconds, r.start), hrefOf(r.num), "tick"));
  // Out of the tab order: ten links a row would bury the list's own keyboard moves; each run
  // is reachable from the job's page.
  for (const tick of ticks) tick.tabIndex = -1;
  return h("span", { class: "strip", role: "group", "aria-label": `last ${runs.length} runs of ${jobName}` }, ticks);
}

export function percent(rate) {
  return rate === null || rate === undefined ? "—" : `${Math.round(rate * 100)}%`;
}

// Links from a job's page to its other views.
export function jobViews(jobName, hrefOf) {
  return h(
    "nav",
    { class: "page-links", "aria-label": "Views of this job" },
    h("a", { href: hrefOf("job", jobName) }, "Details"),
    h("a", { href: hrefOf("grid", jobName) }, "Grid"),
    h("a", { href: hrefOf("trends", jobName) }, "Trends"),
  );
}

export function legend() {
  return h("div", { class: "legend", "aria-label": "States" }, RUN_STATES.map((state) => h("span", {}, cell(state, state), state)));
}

// Buttons choosing how many runs a grid or trend shows, the current one pressed.
export function runsChooser(choices, current, onPick) {
  return h(
    "div",
    { class: "commands", role: "group", "aria-label": "Runs shown" },
    "Runs: ",
    choices.map((n) => h("button", { type: "button", class: "small", "aria-pressed": String(n === current), onclick: () => onPick(n) }, n)),
  );
}

// The `runs` query parameter when it is one of the choices, else the fallback.
export function runCount(query, choices, fallback) {
  const n = Number(query.get("runs"));
  return choices.includes(n) ? n : fallback;
}
