// The not-found page, in plain words: which of job, run or action the URL names does not exist.
import { getJson, paths } from "../api.js";
import { clear, h } from "../dom.js";
import { href } from "../router.js";

async function exists(path, params) {
  try {
    await getJson(path, params);
    return true;
  } catch (error) {
    if (error.status === 404) return false;
    throw error;
  }
}

// segments: the route, e.g. ["job", "MASTER.nope", "3", "build"]; the first missing part wins.
export async function explain([head, name, run, action]) {
  if (!name) return "there is no page at this address";
  if (!(await exists(paths.job(name), { num_runs: 1, include_action_graph: 0 }))) return `no job named ${name}`;
  if (head !== "job" || run === undefined) return `${name} was not found`;
  if (!(await exists(paths.run(name, run)))) return `job ${name} has no run ${run} (runs past its run_limit are removed)`;
  if (action !== undefined) return `run ${name}.${run} has no action named ${action}`;
  return `${name}.${run} was not found`;
}

export function draw(main, sentence, name) {
  const last = (name || "").split(".").at(-1);
  clear(main).append(
    h("h1", {}, "Not found"),
    h("p", { class: "not-found", role: "alert" }, sentence[0].toUpperCase() + sentence.slice(1), "."),
    h(
      "p",
      {},
      last ? [h("a", { href: `${href("jobs")}?q=${encodeURIComponent(last)}` }, `Jobs whose name has “${last}”`), " · "] : "",
      h("a", { href: href("jobs") }, "All jobs"),
      " · press / to find a job, run or action",
    ),
  );
}
