// The job page's operator panels (issue 13): "why is this job not running?", open alerts with
// ack and silence, and the audit history of commands sent to the job.
import { AlertsPanel, silenceControl } from "../alerts.js";
import { getJson, paths } from "../api.js";
import { dl, h, table } from "../dom.js";

const EVIDENCE_LABELS = {
  disabled_since: "Disabled since",
  run: "Queued behind",
  slot: "Skipped slot",
  next_run: "Next run",
  reason: "Reason",
  action: "Action",
  timeout_at: "Times out at",
};

export class WhyPanel {
  constructor(job, onChange) {
    this.job = job;
    this.onChange = onChange; // after a silence: the history has a new line
    this.el = h("div", { class: "why", "data-region": "why", "aria-live": "polite" });
  }

  async load() {
    const why = await getJson(paths.why(this.job));
    const evidence = Object.entries(why.evidence || {}).map(([key, value]) => [EVIDENCE_LABELS[key] || key, value]);
    const silenced = why.silenced_until ? `Alerts silenced until ${new Date(why.silenced_until).toLocaleString()}.` : "";
    this.el.replaceChildren(
      h("p", { class: "why-sentence", "data-state": why.state }, why.sentence),
      evidence.length ? dl(evidence) : "",
      h("p", { class: "muted" }, silenced, " ", silenceControl(this.job, this.onChange)),
    );
  }
}

export class AuditPanel {
  constructor(job) {
    this.job = job;
    this.el = h("div", { class: "audit", "data-region": "audit" });
  }

  async load() {
    const { history } = await getJson(paths.audit(this.job), { limit: 50 });
    if (!history.length) return this.el.replaceChildren(h("p", { class: "muted" }, "No command has been sent to this job yet."));
    const rows = history.map((e) =>
      h("tr", { "data-seq": e.seq }, h("td", {}, new Date(e.at).toLocaleString()), h("td", {}, e.who), h("td", {}, h("code", {}, e.command)), h("td", {}, e.target), h("td", {}, e.ok ? "✓ ok" : "✗ refused", " ", h("span", { class: "muted" }, e.result))),
    );
    this.el.replaceChildren(table(["When", "Who", "Command", "Target", "Result"], rows));
  }
}

// The three panels; `load` refreshes the why and the history (the alerts panel polls itself)
// and never throws: a panel that fails says so in place.
export function jobCare(job) {
  const panels = { alerts: new AlertsPanel(job, () => load()), audit: new AuditPanel(job) };
  panels.why = new WhyPanel(job, () => load());
  const load = () =>
    Promise.all(
      [panels.why, panels.audit].map((panel) => panel.load().catch((error) => panel.el.replaceChildren(h("p", { class: "error" }, `Could not load: ${error.message}`)))),
    );
  return { ...panels, load };
}
