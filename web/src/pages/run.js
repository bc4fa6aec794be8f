// Job run page: the graph coloured by live state, each action's facts, and the commands.
import { getJson, paths, splitRunId } from "../api.js";
import { actionButtons, runButtons } from "../commands.js";
import { dl, h, section, table } from "../dom.js";
import { formatDuration } from "../format.js";
import { drawGraph, setNodeState } from "../graph.js";
import { href, replaceQuery } from "../router.js";
import { gantt } from "./job.js";
import { badge, crumbs, liveReload, region, show, when } from "./common.js";

function retries(action) {
  const attempts = action.attempts?.length || action.exit_statuses.length;
  const left = action.retries_remaining;
  return `${Math.max(attempts - 1, 0)} retried${left ? `, ${left} left` : ""}`;
}

function actionRow(run, action, selected, onSelect) {
  const name = action.action_name;
  return h(
    "tr",
    { "data-action": name, class: name === selected ? "selected" : "" },
    h("td", {}, h("a", { href: href("job", run.job_name, run.run_num, name) }, name)),
    h("td", {}, badge(action.state)),
    h("td", {}, action.node?.name || ""),
    h("td", {}, action.start_time || ""),
    h("td", {}, action.end_time || ""),
    h("td", {}, formatDuration(action.duration)),
    h("td", {}, action.exit_status ?? ""),
    h("td", {}, retries(action)),
    h("td", {}, h("button", { type: "button", class: "small", "aria-pressed": String(name === selected), onclick: () => onSelect(name) }, "Commands…")),
  );
}

class RunPage {
  constructor(main, job, runRef, query) {
    Object.assign(this, { main, job, runRef, query });
    this.regions = { head: region("head"), facts: region("facts"), graph: region("graph"), actions: region("actions"), commands: region("commands"), gantt: region("gantt") };
  }

  async load() {
    this.run = await getJson(paths.run(this.job, this.runRef), { include_action_graph: 1, include_action_runs: 1 });
    this.draw();
  }

  draw() {
    const run = this.run;
    const r = this.regions;
    r.head.replaceChildren(h("h1", {}, run.id, " ", badge(run.state)), runButtons(paths.run(this.job, run.run_num), run.id, () => this.load(), run.commands));
    r.facts.replaceChildren(dl([["Run time", run.run_time], ["Started", when(run.start_time)], ["Ended", when(run.end_time)], ["Duration", formatDuration(run.duration) || "—"], ["Node", run.node?.name], ["Manual", run.manual ? "yes" : "no"]]));
    const graphHref = (name) => href("job", this.job, run.run_num, name);
    r.graph.replaceChildren(drawGraph(run.action_graph || [], graphHref));
    this.drawActions();
    gantt(this.job, run.run_num).then((chart) => r.gantt.replaceChildren(chart), () => {});
  }

  async drawActions() {
    const run = this.run;
    const selected = this.query.get("action");
    const rows = run.runs.map((a) => actionRow(run, a, selected, (name) => this.select(name)));
    this.regions.actions.replaceChildren(table(["Action", "State", "Node", "Start", "End", "Duration", "Exit", "Retries", ""], rows));
    const action = run.runs.find((a) => a.action_name === selected);
    if (!action) return this.regions.commands.replaceChildren();
    // Which commands it takes comes from the action run's own endpoint (a run leaves it out).
    const path = paths.action(this.job, run.run_num, action.action_name);
    const detail = await getJson(path).catch(() => action);
    if (this.run !== run) return; // reloaded meanwhile: the newer draw shows them
    this.regions.commands.replaceChildren(h("div", { class: "selected-action" }, h("h3", {}, `${action.id} `, badge(action.state)), actionButtons(path, action.id, () => this.load(), detail.commands)));
  }

  async select(name) {
    this.query.set("action", name);
    replaceQuery(this.query);
    await this.drawActions();
    this.regions.commands.querySelector("button")?.focus();
  }

  // Colour the node at once from the event; the debounced reload fills in times and codes.
  onActionEvent(event) {
    const { action } = splitRunId(event.id);
    setNodeState(this.regions.graph, action, event.state);
    const cell = this.regions.actions.querySelector(`tr[data-action="${CSS.escape(action)}"] td:nth-child(2)`);
    cell?.replaceChildren(badge(event.state));
  }

  mount() {
    const r = this.regions;
    this.main.append(crumbs(this.job, this.runRef), r.head, section("Details", r.facts), section("Action graph", r.graph), section("Action runs", r.actions, r.commands), section("Gantt", r.gantt));
    const mine = (e) => this.run && e.id.startsWith(`${this.run.id}.`);
    return liveReload(
      (type, e) => {
        if (type === "action_run" && mine(e)) this.onActionEvent(e);
        return (type === "action_run" && mine(e)) || (type === "job_run" && e.id === this.run?.id);
      },
      () => this.load(),
    );
  }
}

export async function render(main, [job, run], query) {
  const page = new RunPage(main, job, run, query);
  return show(main, page, `${job} run ${run}`);
}
