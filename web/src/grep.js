// Search in an action's output: the API's `output?grep=` lists the matching lines (with their
// numbers) of each stream; the loaded output highlights them and Next/Previous jump between.
import { getJson } from "./api.js";
import { h } from "./dom.js";
import { replaceQuery } from "./router.js";

const LIMIT = 1000;

// The same pattern in JavaScript, when it compiles there too (Python's syntax differs a little).
function jsRegex(pattern) {
  try {
    return new RegExp(pattern, "gu");
  } catch {
    return null;
  }
}

// Text nodes of `pre` with their start offsets, so character offsets become DOM Ranges.
function textIndex(pre) {
  const nodes = [];
  let text = "";
  const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    nodes.push({ node, start: text.length });
    text += node.data;
  }
  return { nodes, text };
}

function rangeAt({ nodes }, from, to) {
  const locate = (offset) => {
    let lo = 0;
    let hi = nodes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (nodes[mid].start <= offset) lo = mid;
      else hi = mid - 1;
    }
    const entry = nodes[lo];
    return [entry.node, Math.min(offset - entry.start, entry.node.data.length)];
  };
  const range = document.createRange();
  range.setStart(...locate(from));
  range.setEnd(...locate(to));
  return range;
}

// Character offset where each line starts (1-based line numbers, as the API gives them).
function lineStarts(text) {
  const starts = [0, 0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

function marked(text, regex) {
  if (!regex) return [text];
  const parts = [];
  let last = 0;
  for (const m of text.matchAll(regex)) {
    if (!m[0]) continue;
    parts.push(text.slice(last, m.index), h("mark", {}, m[0]));
    last = m.index + m[0].length;
  }
  parts.push(text.slice(last));
  return parts;
}

export class OutputSearch {
  // panes(): the OutputPanes shown ({stream, attempt, url, pre, follow}).
  constructor(panes, query) {
    Object.assign(this, { panes, query });
    this.matches = [];
    this.current = -1;
    this.input = h("input", { type: "search", name: "grep", "aria-label": "Search the output (regular expression)", placeholder: "regular expression…", value: query.get("grep") || "", onkeydown: (e) => this.onKey(e) });
    this.status = h("span", { class: "muted", role: "status" });
    this.list = h("ol", { class: "grep-matches", "aria-label": "Matching lines" });
    const button = (label, onclick) => h("button", { type: "button", class: "small", onclick }, label);
    this.el = h(
      "div",
      { class: "grep" },
      h("form", { class: "grep-bar", role: "search", onsubmit: (e) => (e.preventDefault(), this.run()) }, this.input, h("button", { type: "submit", class: "small" }, "Search"), button("‹ Previous match", () => this.step(-1)), button("Next match ›", () => this.step(1)), this.status),
      this.list,
    );
    this.observer = new MutationObserver(() => this.highlightSoon());
  }

  // Called when the panes change (another attempt): a standing search follows them.
  attach() {
    this.observer.disconnect();
    for (const pane of this.panes()) this.observer.observe(pane.pre, { childList: true, characterData: true, subtree: true });
    if (this.input.value) this.run();
  }

  onKey(event) {
    if (event.key !== "Enter") return;
    event.preventDefault();
    if (this.input.value !== this.pattern) this.run();
    else this.step(event.shiftKey ? -1 : 1);
  }

  async run() {
    const pattern = this.input.value;
    this.pattern = pattern;
    if (pattern) this.query.set("grep", pattern);
    else this.query.delete("grep");
    replaceQuery(this.query);
    this.matches = [];
    this.current = -1;
    this.revealed = -1;
    if (!pattern) return this.draw("");
    this.status.textContent = "Searching…";
    try {
      const found = await Promise.all(this.panes().map((pane) => this.fetch(pane, pattern)));
      if (pattern !== this.pattern) return;
      this.matches = found.flatMap((x) => x.matches);
      const more = found.some((x) => x.more) ? " (first ones only)" : "";
      this.draw(`${this.matches.length} matching line${this.matches.length === 1 ? "" : "s"}${more}`);
      if (this.matches.length) this.step(1);
    } catch (error) {
      this.draw(error.message);
    }
  }

  async fetch(pane, pattern) {
    const params = { stream: pane.stream, grep: pattern, limit: LIMIT };
    if (pane.attempt) params.attempt = pane.attempt;
    const body = await getJson(pane.url, params);
    const more = body.truncated || body.timed_out;
    return { more, matches: body.matches.map((m) => ({ ...m, stream: pane.stream })) };
  }

  draw(text) {
    this.status.textContent = text;
    const regex = jsRegex(this.pattern);
    this.list.replaceChildren(
      ...this.matches.map((m, i) => h("li", { "data-stream": m.stream, "data-line": m.line, onclick: () => this.jump(i) }, h("span", { class: "ln" }, `${m.stream}:${m.line}`), ...marked(m.text, regex))),
    );
    this.highlight();
  }

  step(delta) {
    if (!this.matches.length) return;
    this.jump((this.current + delta + this.matches.length) % this.matches.length);
  }

  jump(i) {
    this.current = i;
    this.revealed = -1;
    for (const [k, li] of [...this.list.children].entries()) li.setAttribute("aria-current", String(k === i));
    this.list.children[i]?.scrollIntoView({ block: "nearest" });
    const m = this.matches[i];
    this.status.textContent = `match ${i + 1} of ${this.matches.length}: ${m.stream} line ${m.line}`;
    this.highlight();
    // Output past the first megabyte is paged: the line may not be in the page shown.
    if (this.revealed !== i) this.status.textContent += " (not in the page shown: see the pager)";
  }

  highlightSoon() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.highlight(), 100);
  }

  // Marks every match in the loaded output; the current one apart, scrolled into view.
  highlight() {
    if (!globalThis.CSS?.highlights) return;
    const all = new Highlight();
    const current = new Highlight();
    const regex = jsRegex(this.pattern || "");
    const wanted = this.matches[this.current];
    for (const pane of this.panes()) {
      const index = textIndex(pane.pre);
      const starts = lineStarts(index.text);
      for (const m of this.matches.filter((x) => x.stream === pane.stream)) {
        const from = starts[m.line];
        if (from === undefined) continue; // past the page of output loaded
        const end = index.text.indexOf("\n", from);
        const line = index.text.slice(from, end === -1 ? undefined : end);
        const spans = regex ? [...line.matchAll(regex)].filter((x) => x[0]).map((x) => [x.index, x.index + x[0].length]) : [[0, line.length]];
        for (const [a, b] of spans) {
          const range = rangeAt(index, from + a, from + b);
          (m === wanted ? current : all).add(range);
          if (m === wanted && a === spans[0][0]) this.reveal(pane, range);
        }
      }
    }
    CSS.highlights.set("grep", all);
    CSS.highlights.set("grep-current", current);
  }

  reveal(pane, range) {
    if (this.revealed === this.current) return;
    this.revealed = this.current;
    pane.follow.checked = false;
    const box = range.getBoundingClientRect();
    const frame = pane.pre.getBoundingClientRect();
    pane.pre.scrollTop += box.top - frame.top - pane.pre.clientHeight / 2;
  }

  stop() {
    this.observer.disconnect();
    clearTimeout(this.timer);
    CSS.highlights?.delete("grep");
    CSS.highlights?.delete("grep-current");
  }
}
