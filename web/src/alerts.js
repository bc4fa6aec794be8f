// Open alerts (issue 13) with their ack and silence buttons, for the jobs list and a job page.
import { getJson, paths, post } from "./api.js";
import { sendAndTell } from "./commands.js";
import { confirmAction } from "./dialogs.js";
import { h } from "./dom.js";
import { href } from "./router.js";

const SILENCE_SPANS = ["1h", "2h", "8h", "1d"];

function since(text) {
  return text ? new Date(text).toLocaleString() : "—";
}

async function ack(alert, onDone) {
  const ok = await confirmAction(`Acknowledge ${alert.id}?`, `${alert.reason} Acknowledging stops repeats of this alert; it stays open until the condition clears.`, "Acknowledge");
  if (ok) await sendAndTell("Acknowledge", () => post("/api/alerts/ack", { alert: alert.id }), onDone);
}

function silence(job, span, onDone) {
  return sendAndTell("Silence", () => post(paths.silence(job), { for: span }), onDone);
}

// A "Silence for …" control: a labelled duration picker and its button.
export function silenceControl(job, onDone) {
  const picker = h("select", { "aria-label": `Silence ${job} for` }, SILENCE_SPANS.map((span) => h("option", { value: span }, span)));
  return h(
    "span",
    { class: "silence" },
    h("button", { type: "button", class: "small", "data-silence": job, onclick: () => silence(job, picker.value, onDone) }, "Silence for"),
    " ",
    picker,
  );
}

function alertRow(alert, showJob, onDone) {
  const acked = alert.acked_at ? ` (acknowledged by ${alert.acked_by || "someone"})` : "";
  return h(
    "li",
    { class: `alert sev-${alert.severity}`, "data-alert": alert.id },
    h("span", { class: "alert-kind" }, `⚠ ${alert.kind}`),
    " ",
    showJob ? [h("a", { href: href("job", alert.job) }, alert.job), ": "] : "",
    alert.reason,
    h("span", { class: "muted" }, ` · since ${since(alert.since || alert.opened_at)}${acked}`),
    " ",
    alert.acked_at ? "" : h("button", { type: "button", class: "small", "data-ack": alert.id, onclick: () => ack(alert, onDone) }, "Acknowledge"),
    " ",
    showJob ? silenceControl(alert.job, onDone) : "",
  );
}

// The open alerts (of one job, or all); empty when there are none, so pages show nothing.
export class AlertsPanel {
  constructor(job = null, onChange = null) {
    this.job = job;
    this.onChange = onChange; // after an ack or a silence, for the page's other panels
    this.el = h("div", { class: "alerts", "data-region": "alerts", role: "region", "aria-label": "Open alerts" });
  }

  async load() {
    const params = { state: "open", limit: 200 };
    if (this.job) params.job = this.job;
    const { alerts } = await getJson("/api/alerts", params);
    this.draw(alerts);
  }

  // Alerts open on trond's own checks, not only on run events: poll while the page is shown.
  watch(everyMs = 5000) {
    this.load().catch(() => {});
    const timer = setInterval(() => this.load().catch(() => {}), everyMs);
    return () => clearInterval(timer);
  }

  draw(alerts) {
    if (!alerts.length) return this.el.replaceChildren();
    const title = `${alerts.length} open alert${alerts.length === 1 ? "" : "s"}`;
    this.el.replaceChildren(
      h("h2", {}, `⚠ ${title}`),
      h("ul", { class: "alert-list" }, alerts.map((a) => alertRow(a, !this.job, () => (this.load().catch(() => {}), this.onChange?.())))),
    );
  }
}
