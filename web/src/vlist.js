// A virtualised list: only the rows in view exist in the DOM, reused by key across renders.
import { h } from "./dom.js";

export class VirtualList {
  // renderRow(item, index) -> element; keyOf(item) -> string; versionOf(item) -> any
  constructor({ rowHeight, renderRow, keyOf, versionOf, label }) {
    this.rowHeight = rowHeight;
    this.renderRow = renderRow;
    this.keyOf = keyOf;
    this.versionOf = versionOf;
    this.items = [];
    this.live = new Map();
    this.spacer = h("div", { class: "vspacer", role: "rowgroup", "aria-label": label });
    this.el = h("div", { class: "vlist" }, this.spacer);
    this.el.addEventListener("scroll", () => this.schedule());
    this.el.addEventListener("keydown", (event) => this.onKey(event));
    this.frame = 0;
  }

  setItems(items) {
    this.items = items;
    this.spacer.style.height = `${items.length * this.rowHeight}px`;
    this.render();
  }

  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.render());
  }

  range() {
    const top = this.el.scrollTop;
    const height = this.el.clientHeight || 800;
    const first = Math.max(0, Math.floor(top / this.rowHeight) - 8);
    const last = Math.min(this.items.length, Math.ceil((top + height) / this.rowHeight) + 8);
    return [first, last];
  }

  render() {
    this.frame = 0;
    const [first, last] = this.range();
    const wanted = new Map();
    for (let i = first; i < last; i++) wanted.set(this.keyOf(this.items[i]), i);
    for (const [key, entry] of this.live) {
      if (!wanted.has(key)) {
        entry.el.remove();
        this.live.delete(key);
      }
    }
    for (const [key, index] of wanted) this.place(key, index);
  }

  place(key, index) {
    const item = this.items[index];
    const version = this.versionOf(item);
    let entry = this.live.get(key);
    if (!entry || entry.version !== version) {
      const el = this.renderRow(item, index);
      if (entry) entry.el.replaceWith(el);
      else this.spacer.append(el);
      entry = { el, version };
      this.live.set(key, entry);
    }
    entry.el.style.transform = `translateY(${index * this.rowHeight}px)`;
    entry.el.dataset.index = index;
    entry.el.setAttribute("aria-rowindex", index + 2);
  }

  // Arrow keys move between rows, scrolling rows into existence as needed.
  onKey(event) {
    const delta = { ArrowDown: 1, ArrowUp: -1, PageDown: 10, PageUp: -10 }[event.key];
    const row = event.target.closest?.("[data-index]");
    if (!delta || !row) return;
    event.preventDefault();
    const index = Math.min(this.items.length - 1, Math.max(0, Number(row.dataset.index) + delta));
    this.focusIndex(index);
  }

  focusIndex(index) {
    const top = index * this.rowHeight;
    if (top < this.el.scrollTop) this.el.scrollTop = top;
    const bottom = top + this.rowHeight - this.el.clientHeight;
    if (bottom > this.el.scrollTop) this.el.scrollTop = bottom;
    this.render();
    this.live.get(this.keyOf(this.items[index]))?.el.querySelector("a")?.focus();
  }
}
