// Pieces several pages share: state badges, breadcrumbs, error notes, live refetching.
import { subscribe } from "../api.js";
import { h } from "../dom.js";
import { relative } from "../format.js";
import { current, href } from "../router.js";
import * as notFound from "./notfound.js";

export function badge(state) {
  return state ? h("span", { class: `badge st-${state}`, "data-state": state }, state) : "—";
}

export function when(text) {
  return text ? h("time", { title: text, datetime: text.replace(" ", "T") }, `${text} (${relative(text)})`) : "—";
}

export function crumbs(job, run, action) {
  const parts = [h("a", { href: "#/jobs" }, "Jobs"), " / ", h("a", { href: href("job", job) }, job)];
  if (run !== undefined) parts.push(" / ", h("a", { href: href("job", job, run) }, `run ${run}`));
  if (action !== undefined) parts.push(" / ", h("a", { href: href("job", job, run, action) }, action));
  return h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, parts);
}

/** Mount a page, then load it; a load that fails says so in the page (a 404 in plain words). */
export async function show(main, page, what) {
  const done = page.mount();
  try {
    await page.load();
  } catch (error) {
    failure(main, what, error);
  }
  return done;
}

export function failure(main, what, error) {
  if (error.status === 404) return showNotFound(main);
  main.append(h("p", { class: "error", role: "alert" }, `Could not load ${what}: ${error.message}`));
}

// Replaces the page with a plain sentence on what is missing, unless the user moved on.
async function showNotFound(main) {
  const shown = location.hash;
  const { segments } = current();
  const sentence = await notFound.explain(segments).catch((error) => error.message);
  if (location.hash === shown) notFound.draw(main, sentence, segments[1]);
}

// Calls `reload` (debounced) whenever an event passes `wanted`; returns the unsubscribe.
export function liveReload(wanted, reload, delay = 300) {
  let timer = null;
  const stop = subscribe((type, event) => {
    if (type !== "poll" && !wanted(type, event)) return;
    clearTimeout(timer);
    // A failed refetch keeps what is shown; the next event or poll tries again.
    timer = setTimeout(() => Promise.resolve(reload()).catch(() => {}), delay);
  });
  return () => {
    clearTimeout(timer);
    stop();
  };
}

// For a page whose loads can overlap (a click, a live reload): `const isNewest = loads();`
// before fetching, and draw only while `isNewest()`, so a slower earlier load never draws
// over a newer one.
export function newestLoad() {
  let count = 0;
  return () => {
    const mine = ++count;
    return () => mine === count;
  };
}

// Replaces a page region in place, so that focus and scroll elsewhere stay where they were.
export function region(name) {
  return h("div", { class: `region ${name}`, "data-region": name });
}
