// Config editor: a namespace's YAML with line numbers, checked by the server as you type
// (`check=1`: problems at their lines, or the summary of what would change), a diff against the
// running version, then tronfig's confirmation before applying. The upload carries the hash of
// the version the edit started from, so a change made meanwhile is refused, not overwritten.
import { ApiError, getJson, post } from "../api.js";
import { confirmAction, toast } from "../dialogs.js";
import { h } from "../dom.js";
import { href } from "../router.js";
import { diffView } from "./config.js";
import { region, show } from "./common.js";

const CHECK_DELAY_MS = 400;

// tronfig's words for what a destructive upload removes (cli/configupload.py removal_text).
export function removalText(changes) {
  const parts = [];
  if (changes.removed.length) parts.push(`jobs ${changes.removed.join(", ")}`);
  if (changes.removed_settings.length) parts.push(`MASTER settings ${changes.removed_settings.join(", ")}`);
  return parts.join(" and ");
}

class Editor {
  constructor(label, onInput) {
    this.gutter = h("div", { class: "gutter", "aria-hidden": "true" });
    this.text = h("textarea", { class: "yaml", spellcheck: false, wrap: "off", "aria-label": label, "aria-describedby": "config-problems", oninput: () => (this.numberLines(), onInput()), onscroll: () => (this.gutter.scrollTop = this.text.scrollTop) });
    this.el = h("div", { class: "editor" }, this.gutter, this.text);
    this.bad = new Map();
  }

  set value(text) {
    this.text.value = text;
    this.numberLines();
  }

  get value() {
    return this.text.value;
  }

  // Lines with a problem carry a ✗ and a title, not only a colour.
  numberLines() {
    const count = this.text.value.split("\n").length;
    this.gutter.replaceChildren(
      ...Array.from({ length: count }, (_, i) => {
        const problem = this.bad.get(i + 1);
        return h("div", { class: problem ? "ln bad" : "ln", title: problem || null, "data-line": i + 1 }, problem ? `✗ ${i + 1}` : String(i + 1));
      }),
    );
    this.gutter.scrollTop = this.text.scrollTop;
  }

  markProblems(problems) {
    this.bad = new Map(problems.filter((p) => p.line).map((p) => [p.line, p.message]));
    this.numberLines();
  }

  goToLine(line) {
    const lines = this.text.value.split("\n");
    const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
    this.text.focus();
    this.text.setSelectionRange(start, start + (lines[line - 1] || "").length);
    const lineHeight = parseFloat(getComputedStyle(this.text).lineHeight) || 18;
    this.text.scrollTop = Math.max(0, (line - 5) * lineHeight);
  }
}

class ConfigEditPage {
  constructor(main, ns) {
    Object.assign(this, { main, ns });
    this.editor = new Editor(`YAML of namespace ${ns}`, () => this.scheduleCheck());
    this.regions = { head: region("head"), verdict: region("verdict"), diff: region("diff") };
    this.applyButton = h("button", { type: "button", class: "danger", onclick: () => this.apply() }, "Apply");
    this.refuseApply("Checking…");
    this.timer = null;
    this.checked = null; // the text the verdict is about
    this.changes = null;
  }

  async load() {
    const current = await getJson("/api/config", { name: this.ns });
    this.original = current.config;
    this.hash = current.hash;
    this.editor.value = current.config;
    this.regions.head.replaceChildren(h("p", { class: "muted" }, `Editing the running version, sha1 ${current.hash.slice(0, 12)}. Changes are checked by trond as you type.`));
    await this.check();
  }

  scheduleCheck() {
    clearTimeout(this.timer);
    this.refuseApply("Wait for the check of your last change.");
    this.regions.verdict.replaceChildren(h("p", { class: "muted", role: "status" }, "Checking…"));
    this.timer = setTimeout(() => this.check(), CHECK_DELAY_MS);
  }

  async check() {
    const text = this.editor.value;
    let body;
    try {
      body = await post("/api/config", { name: this.ns, config: text, hash: this.hash, check: 1 });
    } catch (error) {
      if (text === this.editor.value) this.refused(error);
      return;
    }
    if (text !== this.editor.value) return; // typed on meanwhile: a newer check follows
    this.checked = text;
    this.changes = body.changes;
    this.editor.markProblems([]);
    const empty = text === this.original;
    this.regions.verdict.replaceChildren(
      h("p", { class: "ok", role: "status" }, empty ? "✓ Valid; no change from the running version." : "✓ Valid. Applying it would do this:"),
      empty ? "" : h("pre", { class: "summary", "data-summary": "" }, (body.summary || []).join("\n")),
    );
    if (empty) this.refuseApply("Nothing to apply: this is the running version.");
    else this.allowApply();
    this.regions.diff.replaceChildren(diffView(this.original, text));
  }

  refused(error) {
    const problems = error instanceof ApiError ? error.body.problems || [] : [];
    this.editor.markProblems(problems);
    this.refuseApply(error.status === 409 ? "Reload the running version first." : "Fix the problems first.");
    const stale = error.status === 409;
    this.regions.verdict.replaceChildren(
      h("p", { class: "error", role: "alert" }, stale ? `✗ ${error.message} Someone changed ${this.ns} since you opened it; reload to edit the new version (your text is lost).` : `✗ ${problems.length || 1} problem${problems.length > 1 ? "s" : ""}:`),
      stale ? h("button", { type: "button", onclick: () => this.load() }, "Reload the running version") : "",
      problems.length
        ? h(
            "ul",
            { class: "problems", id: "config-problems" },
            problems.map((p) => h("li", {}, p.line ? h("button", { type: "button", class: "link", "data-line": p.line, onclick: () => this.editor.goToLine(p.line) }, `line ${p.line}`) : "", p.line ? ": " : "", p.key_path ? `${p.key_path}: ` : "", p.message)),
          )
        : stale
          ? ""
          : h("p", { id: "config-problems" }, error.message),
    );
    this.regions.diff.replaceChildren(diffView(this.original, this.editor.value));
  }

  // Like the command buttons: a refused Apply stays focusable and says why.
  refuseApply(why) {
    this.applyButton.setAttribute("aria-disabled", "true");
    this.applyButton.title = why;
  }

  allowApply() {
    this.applyButton.removeAttribute("aria-disabled");
    this.applyButton.title = `Apply this version to ${this.ns}, after a confirmation.`;
  }

  async apply() {
    if (this.applyButton.getAttribute("aria-disabled")) return toast(this.applyButton.title, true);
    if (this.checked !== this.editor.value || !this.changes) return;
    const removing = removalText(this.changes);
    const question = removing ? `This removes ${removing} from the running config. Apply?` : `Apply these changes to ${this.ns}?`;
    const ok = await confirmAction(question, this.regions.verdict.querySelector(".summary")?.textContent || "", "Apply");
    if (!ok) return;
    try {
      const body = await post("/api/config", { name: this.ns, config: this.editor.value, hash: this.hash });
      toast(`Applied to namespace ${this.ns} as config version ${body.changes?.version ?? "?"}`);
      location.hash = href("config", this.ns);
    } catch (error) {
      this.refused(error);
      toast(`Not applied: ${error.message}`, true);
    }
  }

  mount() {
    const r = this.regions;
    this.main.append(
      h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: href("config") }, "Config"), " / ", h("a", { href: href("config", this.ns) }, this.ns), " / edit"),
      h("h1", {}, `Edit ${this.ns}`),
      r.head,
      h("section", { class: "panel" }, this.editor.el, h("div", { class: "commands" }, this.applyButton, h("a", { href: href("config", this.ns) }, "Discard and go back"))),
      h("section", { class: "panel", "aria-label": "Check" }, h("h2", {}, "Check"), r.verdict),
      h("section", { class: "panel", "aria-label": "Diff" }, h("h2", {}, "Diff against the running version"), r.diff),
    );
    return () => clearTimeout(this.timer);
  }
}

export async function render(main, [ns]) {
  const page = new ConfigEditPage(main, ns);
  return show(main, page, `config ${ns}`);
}
