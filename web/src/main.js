// Entry point: the page chrome, the router loop and the global keyboard shortcuts.
import { getJson } from "./api.js";
import { clear } from "./dom.js";
import * as action from "./pages/action.js";
import * as config from "./pages/config.js";
import * as configedit from "./pages/configedit.js";
import * as job from "./pages/job.js";
import * as jobs from "./pages/jobs.js";
import * as run from "./pages/run.js";
import * as timeline from "./pages/timeline.js";
// At a glance and find anything (issue 16).
import { openFind } from "./find.js";
import * as grid from "./pages/grid.js";
import * as notFoundPage from "./pages/notfound.js";
import * as trends from "./pages/trends.js";
import { current, match } from "./router.js";

const ROUTES = [
  { head: "", min: 0, max: 0, page: jobs, nav: "jobs" },
  { head: "jobs", min: 0, max: 0, page: jobs, nav: "jobs" },
  { head: "job", min: 1, max: 1, page: job, nav: "jobs" },
  { head: "job", min: 2, max: 2, page: run, nav: "jobs" },
  { head: "job", min: 3, max: 3, page: action, nav: "jobs" },
  { head: "timeline", min: 0, max: 0, page: timeline, nav: "timeline" },
  { head: "config", min: 0, max: 1, page: config, nav: "config" },
  { head: "config-edit", min: 1, max: 1, page: configedit, nav: "config" },
  { head: "grid", min: 1, max: 1, page: grid, nav: "jobs" },
  { head: "trends", min: 1, max: 1, page: trends, nav: "jobs" },
];

let cleanup = null;
let generation = 0;

function notFound(main) {
  notFoundPage.draw(main, `there is no page at ${location.hash}`);
}

async function route() {
  const main = document.getElementById("main");
  const mine = ++generation;
  cleanup?.();
  cleanup = null;
  clear(main);
  const { segments, query } = current();
  const found = match(ROUTES, segments);
  for (const link of document.querySelectorAll("nav a[data-nav]")) {
    link.toggleAttribute("aria-current", link.dataset.nav === found?.route.nav);
  }
  if (!found) return notFound(main);
  const done = await found.route.page.render(main, found.params, query);
  if (mine === generation) cleanup = done || null;
  else done?.();
}

async function showVersion() {
  try {
    const status = await getJson("/api/status");
    const boot = new Date(status.boot_time * 1000).toLocaleString();
    document.getElementById("version").textContent = `tron ${status.version} · up since ${boot}`;
  } catch {
    // The pages show API errors themselves; the footer just stays empty.
  }
}

function isTyping(target) {
  return target.closest?.("input, textarea, select, [contenteditable]");
}

// "/" opens quick find, "f" focuses the page's filter; g then j/t/c jumps to Jobs, Timeline, Config.
let pendingG = false;
function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
  if (event.key === "/") {
    event.preventDefault();
    openFind();
    return;
  }
  if (event.key === "f") {
    const filter = document.querySelector("[data-filter]");
    if (filter) {
      event.preventDefault();
      filter.focus();
    }
    return;
  }
  if (pendingG) {
    const target = { j: "#/jobs", t: "#/timeline", c: "#/config" }[event.key];
    if (target) location.hash = target;
  }
  pendingG = event.key === "g";
}

// The header's Find button, and the skip link.
function onClick(event) {
  if (event.target.closest("[data-find]")) return openFind();
  if (!event.target.closest("[data-skip]")) return;
  document.getElementById("main").focus();
}

window.addEventListener("hashchange", route);
document.addEventListener("click", onClick);
document.addEventListener("keydown", onKey);
route();
showVersion();
