// Modal dialogs (native <dialog>, so Escape and focus trapping come from the browser).
import { h } from "./dom.js";

function modal(content, onClose) {
  const dialog = h("dialog", { class: "modal" }, content);
  dialog.addEventListener("close", () => {
    onClose(dialog.returnValue);
    dialog.remove();
  });
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

export function confirmAction(title, explanation, verb) {
  return new Promise((resolve) => {
    const form = h(
      "form",
      { method: "dialog" },
      h("h2", {}, title),
      h("p", {}, explanation),
      h(
        "menu",
        {},
        h("button", { value: "cancel", type: "submit" }, "Cancel"),
        h("button", { value: "ok", type: "submit", class: "danger", autofocus: true }, verb),
      ),
    );
    modal(form, (value) => resolve(value === "ok"));
  });
}

export function askToken() {
  return new Promise((resolve) => {
    const input = h("input", {
      type: "password",
      name: "token",
      autocomplete: "current-password",
      "aria-label": "API token",
      required: true,
    });
    const form = h(
      "form",
      { method: "dialog" },
      h("h2", {}, "Token required"),
      h("p", {}, "This trond asks for an API token. It is kept for this browser session only."),
      input,
      h("menu", {}, h("button", { value: "ok", type: "submit" }, "Use token")),
    );
    const dialog = modal(form, () => resolve(input.value.trim()));
    input.focus();
    return dialog;
  });
}

let toastTimer = null;

export function toast(message, isError = false) {
  let el = document.getElementById("toast");
  if (!el) {
    el = h("div", { id: "toast", role: "status", "aria-live": "polite" });
    document.body.append(el);
  }
  el.textContent = message;
  el.className = isError ? "show error" : "show";
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.className = ""), 6000);
}
