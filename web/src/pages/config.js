// Config page: each namespace's YAML with line numbers, its saved versions and a diff of any two.
import { diffLines } from "diff";
import { getJson, subscribe } from "../api.js";
import { h, section, table } from "../dom.js";
import { href, replaceQuery } from "../router.js";
import { region, show } from "./common.js";

function numbered(text, label) {
  const lines = text.replace(/\n$/, "").split("\n");
  return h("pre", { class: "code", "aria-label": label, tabindex: 0 }, lines.map((line) => h("span", { class: "line" }, line, "\n")));
}

function splitLines(value) {
  return value.replace(/\n$/, "").split("\n");
}

const CONTEXT = 3;

function diffRow(kind, a, b, line) {
  const mark = { add: "+", del: "-", same: " " }[kind];
  return h("tr", { class: `diff-${kind}` }, h("td", { class: "ln" }, a), h("td", { class: "ln" }, b), h("td", { class: "mark" }, mark), h("td", { class: "text" }, line));
}

// Long unchanged stretches fold to a few lines of context around each change.
function sameRows(lines, left, right, isFirst, isLast) {
  const keepHead = isFirst ? 0 : CONTEXT;
  const keepTail = isLast ? 0 : CONTEXT;
  const rows = [];
  lines.forEach((line, i) => {
    if (lines.length > keepHead + keepTail + 1 && i >= keepHead && i < lines.length - keepTail) {
      if (i === keepHead) rows.push(h("tr", { class: "diff-fold" }, h("td", { colspan: 4 }, `⋯ ${lines.length - keepHead - keepTail} unchanged lines`)));
      return;
    }
    rows.push(diffRow("same", left + i, right + i, line));
  });
  return rows;
}

export function diffView(before, after) {
  const parts = diffLines(before, after);
  if (!parts.some((p) => p.added || p.removed)) return h("p", { class: "muted" }, "The two versions are the same.");
  const rows = [];
  let left = 1;
  let right = 1;
  parts.forEach((part, index) => {
    const lines = splitLines(part.value);
    if (!part.added && !part.removed) {
      rows.push(...sameRows(lines, left, right, index === 0, index === parts.length - 1));
      left += lines.length;
      right += lines.length;
      return;
    }
    for (const line of lines) rows.push(part.added ? diffRow("add", "", right++, line) : diffRow("del", left++, "", line));
  });
  return h("table", { class: "diff", "aria-label": "Differences" }, h("tbody", {}, rows));
}

function radio(name, value, checked, onChange, label) {
  return h("input", { type: "radio", name, value, checked, onchange: onChange, "aria-label": label });
}

class ConfigPage {
  constructor(main, ns, query) {
    Object.assign(this, { main, ns, query });
    this.regions = { list: region("namespaces"), text: region("text"), versions: region("versions"), diff: region("diff") };
  }

  async load() {
    const index = await getJson("/api/");
    this.ns ||= index.namespaces[0];
    this.regions.list.replaceChildren(h("ul", { class: "ns-list" }, index.namespaces.map((ns) => h("li", {}, h("a", { href: href("config", ns), "aria-current": ns === this.ns ? "page" : null }, ns)))));
    if (!this.ns) return;
    const current = await getJson("/api/config", { name: this.ns });
    const edit = h("a", { href: href("config-edit", this.ns), class: "button" }, `Edit ${this.ns}`);
    this.regions.text.replaceChildren(h("h2", {}, this.ns, h("small", { class: "muted" }, ` sha1 ${current.hash.slice(0, 12)}`), " ", edit), numbered(current.config, `${this.ns} YAML`));
    this.versions = await getJson("/api/config/versions", { name: this.ns });
    this.drawVersions();
  }

  picked(key, fallback) {
    const wanted = Number(this.query.get(key));
    return this.versions.find((v) => v.version === wanted) || fallback;
  }

  drawVersions() {
    const versions = this.versions;
    if (versions.length < 2) {
      this.regions.versions.replaceChildren(h("p", { class: "muted" }, `${versions.length || "No"} saved version${versions.length === 1 ? "" : "s"} of ${this.ns}; a diff needs two (edit it here or upload one with tronfig).`));
      this.regions.diff.replaceChildren();
      return;
    }
    const a = this.picked("a", versions.at(-2));
    const b = this.picked("b", versions.at(-1));
    const rows = [...versions].reverse().map((v) =>
      h("tr", {}, h("td", {}, radio("a", v.version, v === a, () => this.pick("a", v.version), `Compare from version ${v.version}`)), h("td", {}, radio("b", v.version, v === b, () => this.pick("b", v.version), `Compare to version ${v.version}`)), h("td", {}, v.version), h("td", {}, v.saved_at.replace("T", " ").slice(0, 19)), h("td", {}, h("code", {}, v.hash.slice(0, 12)))),
    );
    this.regions.versions.replaceChildren(table(["From", "To", "Version", "Saved", "Hash"], rows));
    this.regions.diff.replaceChildren(h("h3", {}, `Version ${a.version} → ${b.version}`), diffView(a.config, b.config));
  }

  pick(key, version) {
    this.query.set(key, version);
    replaceQuery(this.query);
    this.drawVersions();
  }

  mount() {
    const r = this.regions;
    this.main.append(h("h1", {}, "Config"), h("div", { class: "config-layout" }, h("aside", { "aria-label": "Namespaces" }, r.list), h("div", {}, section("Current", r.text), section("Versions", r.versions, r.diff))));
    return subscribe((type, event) => {
      if (type === "config" && (!event.namespace || event.namespace === this.ns)) this.load().catch(() => {});
    });
  }
}

export async function render(main, [ns], query) {
  const page = new ConfigPage(main, ns, query);
  return show(main, page, "config");
}
