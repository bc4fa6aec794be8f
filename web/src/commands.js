// The buttons that send tronctl's commands, each confirmed with what it will do.
import { command } from "./api.js";
import { confirmAction, toast } from "./dialogs.js";
import { h } from "./dom.js";

const ACTION_COMMANDS = {
  start: "Start %s now, without waiting for its dependencies.",
  cancel: "Cancel %s: it will not run (only while it has not started yet).",
  retry: "Retry %s: run its command again as a new attempt.",
  success: "Mark %s as succeeded without running it; actions that depend on it may start.",
  fail: "Mark %s as failed; actions that depend on it will not start.",
  skip: "Skip %s: mark it skipped so that actions depending on it can go on.",
  stop: "Stop %s: send SIGTERM to its running command.",
  kill: "Kill %s: send SIGKILL to its running command at once.",
};

const RUN_COMMANDS = {
  start: "Start %s now instead of waiting for its run time.",
  rerun: "Rerun %s: create a new manual run of the job with the same run time.",
  cancel: "Cancel %s: every action run that has not started will be cancelled.",
  success: "Mark %s as succeeded: its actions not yet complete are marked succeeded.",
  fail: "Mark %s as failed: its actions are marked failed.",
};

const JOB_COMMANDS = {
  start: "Start %s now: create a manual run that starts right away.",
  enable: "Enable %s: it will be scheduled again from now on.",
  disable: "Disable %s: no new runs will be scheduled until it is enabled.",
};

function title(name) {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

async function run(path, name, target, explanation, onDone) {
  const ok = await confirmAction(`${title(name)} ${target}?`, explanation.replace("%s", target), title(name));
  if (ok) await sendAndTell(title(name), () => command(path, name), onDone);
}

// Sends a command and says in a toast what came of it; `onDone` after a success.
export async function sendAndTell(verb, send, onDone) {
  try {
    const body = await send();
    // Tron answers some refusals with 200; trond marks them `refused`.
    toast(body.result || "Done", body.refused === true);
    onDone?.();
  } catch (error) {
    toast(`${verb} failed: ${error.message}`, true);
  }
}

// `allowed` is the API's `commands` field ({name: {allowed, reason}}): a refused command stays
// focusable (aria-disabled) so keyboard users can reach its tooltip; a click says why.
function buttons(table, names, path, target, onDone, allowed = null) {
  return h(
    "div",
    { class: "commands", role: "group", "aria-label": `Commands for ${target}` },
    names.map((name) => {
      const verdict = allowed?.[name];
      const refused = verdict && !verdict.allowed;
      const why = refused ? `${title(name)} is not possible now: ${verdict.reason}` : table[name].replace("%s", target);
      return h(
        "button",
        {
          type: "button",
          "data-command": name,
          "aria-disabled": refused ? "true" : null,
          title: why,
          onclick: () => (refused ? toast(why, true) : run(path, name, target, table[name], onDone)),
        },
        title(name),
      );
    }),
  );
}

export function actionButtons(path, target, onDone, allowed = null) {
  return buttons(ACTION_COMMANDS, Object.keys(ACTION_COMMANDS), path, target, onDone, allowed);
}

export function runButtons(path, target, onDone, allowed = null) {
  return buttons(RUN_COMMANDS, Object.keys(RUN_COMMANDS), path, target, onDone, allowed);
}

export function jobButtons(path, target, enabled, onDone) {
  const names = ["start", enabled ? "disable" : "enable"];
  return buttons(JOB_COMMANDS, names, path, target, onDone);
}
