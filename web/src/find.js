// Quick find (key "/" on any page): jobs, namespaces, runs typed as ns.job.123 and actions,
// from the API's index of job names and their actions.
import { getJson } from "./api.js";
import { h } from "./dom.js";
import { href } from "./router.js";

const MAX_RESULTS = 30;
const INDEX_TTL_MS = 30_000;
let index = null;
let fetchedAt = 0;

async function loadIndex() {
  if (index && Date.now() - fetchedAt < INDEX_TTL_MS) return index;
  const body = await getJson("/api");
  index = {
    jobs: Object.entries(body.jobs).map(([name, actions]) => ({ name, lower: name.toLowerCase(), actions: actions.map((a) => a.name) })),
    namespaces: body.namespaces,
  };
  fetchedAt = Date.now();
  return index;
}

// "ns.job.12" or "ns.job.12.action" (names have no dots; "HEAD" is the newest run).
function runResults(idx, text) {
  const m = /^([^.]+\.[^.]+)\.(\d+|HEAD)(?:\.(.*))?$/i.exec(text);
  const job = m && idx.jobs.find((j) => j.name === m[1]);
  if (!job) return [];
  const run = m[2].toUpperCase() === "HEAD" ? "HEAD" : m[2];
  const out = [];
  if (m[3] === undefined) out.push({ kind: "run", label: `${job.name}.${run}`, href: href("job", job.name, run) });
  const prefix = (m[3] || "").toLowerCase();
  for (const action of job.actions) {
    if (action.toLowerCase().startsWith(prefix)) out.push({ kind: "action", label: `${job.name}.${run}.${action}`, href: href("job", job.name, run, action) });
  }
  return out;
}

export function search(idx, raw) {
  const text = raw.trim();
  const q = text.toLowerCase();
  if (!q) return [];
  const out = runResults(idx, text);
  for (const ns of idx.namespaces) {
    if (ns.toLowerCase().includes(q)) out.push({ kind: "namespace", label: ns, href: href("grid", ns) });
  }
  const jobs = idx.jobs.filter((j) => j.lower.includes(q));
  // Names whose job part starts with the text come first.
  jobs.sort((a, b) => Number(!a.lower.split(".")[1].startsWith(q)) - Number(!b.lower.split(".")[1].startsWith(q)) || a.lower.localeCompare(b.lower));
  for (const job of jobs.slice(0, MAX_RESULTS)) out.push({ kind: "job", label: job.name, href: href("job", job.name) });
  for (const job of idx.jobs) {
    if (out.length >= MAX_RESULTS * 2) break;
    for (const action of job.actions) {
      const label = `${job.name}.${action}`;
      if (label.toLowerCase().includes(q)) out.push({ kind: "action", label: `${label} (newest run)`, href: href("job", job.name, "HEAD", action) });
    }
  }
  return out.slice(0, MAX_RESULTS);
}

class FindDialog {
  constructor() {
    this.selected = 0;
    this.results = [];
    this.list = h("ul", { id: "find-results", role: "listbox", "aria-label": "Results" });
    this.note = h("p", { class: "muted", role: "status" });
    this.input = h("input", {
      type: "search",
      role: "combobox",
      "aria-expanded": "true",
      "aria-controls": "find-results",
      "aria-label": "Find a job, run or action",
      placeholder: "job name, ns.job.123, action…",
      autocomplete: "off",
      oninput: () => this.update(),
      onkeydown: (e) => this.onKey(e),
    });
    this.el = h("dialog", { class: "modal find", "aria-label": "Quick find" }, h("h2", {}, "Find"), this.input, this.note, this.list);
    this.el.addEventListener("click", (e) => e.target === this.el && this.el.close());
    document.body.append(this.el);
  }

  async open() {
    this.input.value = "";
    this.el.showModal();
    this.input.focus();
    this.note.textContent = "Loading names…";
    try {
      this.index = await loadIndex();
      this.update();
    } catch (error) {
      this.note.textContent = `Could not load the names: ${error.message}`;
    }
  }

  update() {
    if (!this.index) return;
    const text = this.input.value.trim();
    this.results = search(this.index, text);
    this.selected = 0;
    this.note.textContent = !text ? `${this.index.jobs.length} jobs; type a name, or ns.job.123 for a run` : this.results.length ? `${this.results.length} found` : `nothing matches '${text}'`;
    this.draw();
  }

  draw() {
    this.list.replaceChildren(
      ...this.results.map((r, i) =>
        h("li", { id: `find-${i}`, role: "option", "aria-selected": String(i === this.selected), "data-kind": r.kind, onclick: () => this.go(i) }, h("span", { class: "kind" }, r.kind), h("span", {}, r.label)),
      ),
    );
    this.input.setAttribute("aria-activedescendant", this.results.length ? `find-${this.selected}` : "");
    this.list.children[this.selected]?.scrollIntoView({ block: "nearest" });
  }

  onKey(event) {
    const delta = { ArrowDown: 1, ArrowUp: -1 }[event.key];
    if (delta && this.results.length) {
      event.preventDefault();
      this.selected = (this.selected + delta + this.results.length) % this.results.length;
      this.draw();
    } else if (event.key === "Enter") {
      event.preventDefault();
      this.go(this.selected);
    }
  }

  go(i) {
    const result = this.results[i];
    if (!result) return;
    this.el.close();
    location.hash = result.href;
  }
}

let dialog = null;

export function openFind() {
  dialog ||= new FindDialog();
  if (!dialog.el.open) dialog.open();
}
