// Start a run at a chosen run time, and backfill a date range the way `tronctl backfill` does:
// one manual run per date (`start` with `run_time`), at most N at once, each watched to its end;
// "Cancel all" stops queueing and cancels the runs in flight.
import { getJson, paths, post } from "./api.js";
import { confirmAction, toast } from "./dialogs.js";
import { h } from "./dom.js";
import { href } from "./router.js";
import { badge } from "./pages/common.js";

const END_STATES = new Set(["succeeded", "failed", "cancelled", "skipped", "unknown"]);
const OK_STATES = new Set(["succeeded", "cancelled", "skipped"]);
const CREATED = /^Created JobRun:(\S+)$/;
const MAX_PARALLEL = 10;
const MAX_DATES = 1000;
const POLL_MS = 1000;

function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

// Every date from `start` to `end` inclusive (YYYY-MM-DD strings; days counted in UTC).
export function dateRange(start, end) {
  const days = [];
  const last = new Date(`${end}T00:00:00Z`);
  for (let day = new Date(`${start}T00:00:00Z`); day <= last && days.length <= MAX_DATES; day.setUTCDate(day.getUTCDate() + 1)) {
    days.push(isoDay(day));
  }
  return days;
}

async function startRun(job, runTime) {
  const body = await post(paths.job(job), { command: "start", run_time: runTime });
  const found = CREATED.exec(body.result || "");
  if (!found) throw new Error(body.result || "no run was created");
  return found[1];
}

// "Start at…": a manual run with the run time given (what `tronctl start JOB --run-date` does).
export function startAtControl(job) {
  const input = h("input", { type: "datetime-local", step: 1, "aria-label": "Run time of the new run", "data-run-time": "" });
  const go = async (event) => {
    event.preventDefault();
    if (!input.value) return toast("Pick a run time first.", true);
    const runTime = input.value.replace("T", " ");
    const ok = await confirmAction(`Start ${job} for ${runTime}?`, `Create a manual run of ${job} with run time ${runTime} (its commands see this date) and start it now.`, "Start");
    if (!ok) return;
    try {
      const id = await startRun(job, runTime);
      toast(`Created run ${id}`);
    } catch (error) {
      toast(`Start failed: ${error.message}`, true);
    }
  };
  return h("form", { class: "start-at", onsubmit: go }, h("label", {}, "Start with run time ", input), " ", h("button", { type: "submit" }, "Start at this time"));
}

// A backfill outlives its page: coming back to the job shows the same one still going.
const running = new Map();

export class BackfillPanel {
  static of(job) {
    return running.get(job) || new BackfillPanel(job);
  }

  constructor(job) {
    this.job = job;
    this.rows = new Map(); // day -> {id, state}
    this.active = new Map(); // day -> run id
    this.stopped = false;
    const today = isoDay(new Date());
    this.from = h("input", { type: "date", name: "from", value: today, required: true });
    this.to = h("input", { type: "date", name: "to", value: today, required: true });
    this.parallel = h("input", { type: "number", name: "parallel", min: 1, max: MAX_PARALLEL, value: 3, required: true });
    this.cancelButton = h("button", { type: "button", class: "danger", hidden: true, onclick: () => this.cancelAll() }, "Cancel all");
    this.progress = h("p", { class: "backfill-progress", role: "status", "aria-live": "polite" });
    this.list = h("div", { class: "backfill-list" });
    this.el = h(
      "form",
      { class: "backfill", onsubmit: (e) => this.submit(e) },
      h(
        "div",
        { class: "filters" },
        h("label", {}, "From ", this.from),
        h("label", {}, "To ", this.to),
        h("label", {}, "At once ", this.parallel),
        h("button", { type: "submit", value: "dry", "data-dry-run": "" }, "Dry run"),
        h("button", { type: "submit", value: "run" }, "Backfill"),
        this.cancelButton,
      ),
      this.progress,
      this.list,
    );
  }

  dates() {
    const days = dateRange(this.from.value, this.to.value);
    if (!days.length) throw new Error("the end date is before the start date");
    if (days.length > MAX_DATES) throw new Error(`at most ${MAX_DATES} dates at once`);
    return days;
  }

  async submit(event) {
    event.preventDefault();
    let days;
    try {
      days = this.dates();
    } catch (error) {
      return toast(`Backfill: ${error.message}`, true);
    }
    if (event.submitter?.value === "dry") return this.dryRun(days);
    const ok = await confirmAction(`Backfill ${this.job}?`, `A run of ${this.job} will be created for each of these ${days.length} dates, at most ${this.parallel.value} at once: ${days.join(", ")}.`, "Backfill");
    if (ok) this.run(days);
  }

  dryRun(days) {
    this.progress.textContent = `Dry run: ${days.length} run${days.length === 1 ? "" : "s"} would be created; nothing was started.`;
    this.list.replaceChildren(h("ol", { class: "dry-run" }, days.map((day) => h("li", {}, h("code", {}, `tronctl start ${this.job} --run-date ${day}`)))));
  }

  async run(days) {
    this.stopped = false;
    this.rows = new Map(days.map((day) => [day, { id: null, state: "waiting" }]));
    this.cancelButton.hidden = false;
    running.set(this.job, this);
    this.draw();
    const queue = [...days];
    const limit = Math.min(Math.max(Number(this.parallel.value) || 1, 1), MAX_PARALLEL);
    const worker = async () => {
      while (queue.length && !this.stopped) await this.one(queue.shift());
    };
    await Promise.all(Array.from({ length: limit }, worker));
    for (const day of queue) this.rows.get(day).state = "not started";
    this.cancelButton.hidden = true;
    running.delete(this.job);
    this.draw(true);
  }

  async one(day) {
    const row = this.rows.get(day);
    try {
      row.id = await startRun(this.job, `${day} 00:00:00`);
    } catch (error) {
      row.state = "failed";
      row.error = error.message;
      return this.draw();
    }
    this.active.set(day, row.id);
    const num = row.id.split(".").pop();
    while (!END_STATES.has(row.state)) {
      try {
        row.state = (await getJson(paths.run(this.job, num))).state;
      } catch {
        // A failed poll keeps the last state; the next one tries again.
      }
      this.draw();
      if (!END_STATES.has(row.state)) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    this.active.delete(day);
    this.draw();
  }

  async cancelAll() {
    this.stopped = true;
    for (const [, id] of this.active) {
      try {
        await post(paths.run(this.job, id.split(".").pop()), { command: "cancel" });
      } catch (error) {
        toast(`Could not cancel ${id}: ${error.message}`, true);
      }
    }
  }

  draw(finished = false) {
    const rows = [...this.rows.entries()];
    const done = rows.filter(([, r]) => END_STATES.has(r.state));
    const failed = done.filter(([, r]) => !OK_STATES.has(r.state)).length;
    const verb = finished ? "Backfill finished" : this.stopped ? "Backfill cancelling" : "Backfill progress";
    this.progress.textContent = `${verb}: ${done.length}/${rows.length} done, ${failed} failed, ${this.active.size} running`;
    this.list.replaceChildren(
      h(
        "ol",
        { class: "backfill-runs" },
        rows.map(([day, r]) => h("li", { "data-day": day }, h("code", {}, day), " ", r.id ? h("a", { href: href("job", this.job, r.id.split(".").pop()) }, r.id) : "", " ", badge(r.state), r.error ? ` ${r.error}` : "")),
      ),
    );
  }
}
