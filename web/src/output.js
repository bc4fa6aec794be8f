// One output stream of an action run: paged by byte offset, followed live while the action runs.
import { getJson } from "./api.js";
import { renderAnsi } from "./ansi.js";
import { h } from "./dom.js";
import { toast } from "./dialogs.js";

const PAGE_BYTES = 1024 * 1024; // the output endpoint's largest answer
const POLL_MS = 1000;

export class OutputPane {
  constructor(url, stream, attempt, fileName) {
    Object.assign(this, { url, stream, attempt, fileName });
    this.pages = [0];
    this.page = 0;
    this.stopped = false;
    this.pre = h("pre", { class: "output", "data-stream": stream, tabindex: 0, "aria-label": `${stream} output` });
    this.pager = h("span", { class: "pager" });
    this.follow = h("input", { type: "checkbox", checked: true });
    this.el = h(
      "div",
      { class: "output-pane" },
      h("div", { class: "output-bar" }, h("h3", {}, stream), this.pager, h("label", {}, this.follow, " follow"), h("button", { type: "button", class: "small", onclick: () => this.download().catch((error) => toast(`Download failed: ${error.message}`, true)) }, `Download ${stream}`)),
      this.pre,
    );
  }

  params(offset) {
    const p = { stream: this.stream, offset };
    if (this.attempt) p.attempt = this.attempt;
    return p;
  }

  async show(page) {
    this.page = page;
    this.end = this.pages[page];
    this.style = {};
    this.pre.replaceChildren();
    await this.fetchMore();
  }

  // Appends what follows `this.end`; starts a new page past PAGE_BYTES so the DOM stays bounded.
  async fetchMore() {
    const start = this.end;
    const body = await getJson(this.url, this.params(start));
    this.done = body.done;
    if (body.data) {
      const [nodes, style] = renderAnsi(body.data, this.style);
      this.style = style;
      this.pre.append(...nodes);
      this.end = body.offset;
      if (this.follow.checked) this.pre.scrollTop = this.pre.scrollHeight;
    }
    if (this.end - this.pages[this.page] >= PAGE_BYTES && this.pages.length === this.page + 1) {
      this.pages.push(this.end);
    }
    this.drawPager();
    return body.offset > start;
  }

  drawPager() {
    const last = this.pages.length - 1;
    this.pager.replaceChildren(
      ...(last
        ? [
            h("button", { type: "button", class: "small", disabled: this.page === 0, onclick: () => this.show(this.page - 1) }, "‹ Prev"),
            ` page ${this.page + 1} of ${last + 1}${this.done ? "" : "+"} `,
            h("button", { type: "button", class: "small", disabled: this.page === last, onclick: () => this.show(this.page + 1) }, "Next ›"),
          ]
        : []),
    );
    if (!this.pre.childNodes.length) this.pre.textContent = this.done ? "(empty)" : "";
  }

  async poll() {
    if (this.stopped) return;
    try {
      const grew = await this.fetchMore();
      const onLast = this.page === this.pages.length - 1;
      if (onLast && this.follow.checked && this.pages.length > 1 && this.end - this.pages[this.page] >= PAGE_BYTES) {
        await this.show(this.page + 1);
      }
      if (grew && onLast) return this.poll();
    } catch {
      // A failed poll is retried on the next tick; the page shows the last output it had.
    }
    if (!this.done && !this.stopped) this.timer = setTimeout(() => this.poll(), POLL_MS);
  }

  async start() {
    await this.show(0).catch((error) => (this.pre.textContent = `Could not load output: ${error.message}`));
    if (!this.done) this.timer = setTimeout(() => this.poll(), POLL_MS);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  // Reads the whole stream page by page only when asked, and saves it as a file.
  async download() {
    const parts = [];
    let offset = 0;
    for (;;) {
      const body = await getJson(this.url, this.params(offset));
      if (!body.data || body.offset <= offset) break;
      parts.push(body.data);
      offset = body.offset;
    }
    const link = h("a", { href: URL.createObjectURL(new Blob(parts, { type: "text/plain;charset=utf-8" })), download: `${this.fileName}.${this.stream}.txt` });
    document.body.append(link);
    link.click();
    link.remove();
    toast(`Saved ${this.stream} (${offset} bytes)`);
  }
}
