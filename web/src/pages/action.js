// Action run page: the command as rendered, attempts, live stdout/stderr and its history.
import { getJson, paths } from "../api.js";
import { actionButtons } from "../commands.js";
import { dl, h, section, table } from "../dom.js";
import { formatDuration } from "../format.js";
import { OutputSearch } from "../grep.js";
import { OutputPane } from "../output.js";
import { href, replaceQuery } from "../router.js";
import { badge, crumbs, liveReload, region, show, when } from "./common.js";

function facts(action) {
  const exits = action.exit_statuses.length > 1 ? ` (attempts, newest first: ${[...action.exit_statuses].reverse().join(", ")})` : "";
  return dl([
    ["State", [badge(action.state), action.in_delay ? ` retry in ${Math.round(action.in_delay)}s` : ""]],
    ["Node", action.node?.name],
    ["Command", h("code", { class: "command" }, action.command)],
    action.raw_command !== action.command && ["Config command", h("code", { class: "command" }, action.raw_command)],
    ["Exit status", `${action.exit_status ?? "—"}${exits}`],
    ["Started", when(action.start_time)],
    ["Ended", when(action.end_time)],
    ["Duration", formatDuration(action.duration) || "—"],
    ["Retries left", action.retries_remaining ?? "—"],
    action.triggered_by && ["Waits for", action.triggered_by],
    action.trigger_downstreams && ["Publishes", action.trigger_downstreams],
    action.reason && ["Reason", action.reason],
  ]);
}

function attemptsTable(action) {
  const rows = (action.attempts || []).map((a) =>
    h("tr", {}, h("td", {}, a.number), h("td", {}, a.node || ""), h("td", {}, h("code", {}, a.command)), h("td", {}, a.start_time || ""), h("td", {}, a.end_time || ""), h("td", {}, a.exit_status ?? ""), h("td", {}, a.reason || "")),
  );
  return rows.length ? table(["#", "Node", "Command", "Start", "End", "Exit", "Reason"], rows) : h("p", { class: "muted" }, "Not started yet.");
}

function historyTable(job, name, runs) {
  const rows = runs.map((a) =>
    h("tr", {}, h("td", {}, h("a", { href: href("job", job, a.run_num, name) }, a.run_num)), h("td", {}, badge(a.state)), h("td", {}, a.node?.name || ""), h("td", {}, a.exit_status ?? ""), h("td", {}, a.start_time || ""), h("td", {}, a.end_time || ""), h("td", {}, formatDuration(a.duration))),
  );
  return table(["Run", "State", "Node", "Exit", "Start", "End", "Duration"], rows);
}

class ActionPage {
  constructor(main, job, run, name, query) {
    Object.assign(this, { main, job, run, name, query });
    this.panes = [];
    this.search = new OutputSearch(() => this.panes, query);
    this.regions = { head: region("head"), facts: region("facts"), attempts: region("attempts"), output: region("output"), history: region("history") };
  }

  async load() {
    this.action = await getJson(paths.action(this.job, this.run, this.name));
    const r = this.regions;
    r.head.replaceChildren(h("h1", {}, this.action.id, " ", badge(this.action.state)), actionButtons(paths.action(this.job, this.run, this.name), this.action.id, () => this.load(), this.action.commands));
    r.facts.replaceChildren(facts(this.action));
    r.attempts.replaceChildren(attemptsTable(this.action));
    const attempts = this.action.attempts?.length || 0;
    if (attempts !== this.shownAttempts) this.drawOutput(attempts);
    getJson(paths.history(this.job, this.name)).then((runs) => r.history.replaceChildren(historyTable(this.job, this.name, runs)), () => {});
  }

  // A new attempt (a retry) restarts the panes on it, unless the user picked an older one.
  drawOutput(attempts) {
    const picked = Number(this.query.get("attempt")) || 0;
    const attempt = picked && picked <= attempts ? picked : attempts;
    this.shownAttempts = attempts;
    for (const pane of this.panes) pane.stop();
    const url = paths.output(this.job, this.run, this.name);
    this.panes = ["stdout", "stderr"].map((stream) => new OutputPane(url, stream, attempt || null, this.action.id));
    const chooser = attempts > 1 ? h("label", {}, "Attempt ", h("select", { onchange: (e) => this.pickAttempt(e.target.value) }, Array.from({ length: attempts }, (_, i) => h("option", { value: i + 1, selected: i + 1 === attempt }, i + 1)))) : "";
    this.regions.output.replaceChildren(chooser, ...this.panes.map((p) => p.el));
    for (const pane of this.panes) pane.start();
    this.search.attach();
  }

  pickAttempt(value) {
    this.query.set("attempt", value);
    replaceQuery(this.query);
    this.drawOutput(this.shownAttempts);
  }

  mount() {
    const r = this.regions;
    this.main.append(crumbs(this.job, this.run, this.name), r.head, section("Details", r.facts), section("Output", this.search.el, r.output), section("Attempts", r.attempts), section("History", r.history));
    const stop = liveReload((type, e) => type === "action_run" && e.id === this.action?.id, () => this.load());
    return () => {
      stop();
      this.search.stop();
      for (const pane of this.panes) pane.stop();
    };
  }
}

export async function render(main, [job, run, name], query) {
  const page = new ActionPage(main, job, run, name, query);
  return show(main, page, `${job}.${run}.${name}`);
}
