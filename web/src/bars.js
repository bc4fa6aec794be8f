// Time bars in SVG: run history, a run's Gantt of action runs, and the all-jobs timeline.
import { h, s } from "./dom.js";
import { formatSeconds, parseTime } from "./format.js";

const ROW_H = 24;
const LABEL_W = 180;
const AXIS_H = 22;
const STEPS = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400];

function pad(n) {
  return String(n).padStart(2, "0");
}

function tickLabel(date, step) {
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  if (step < 60) return `${time}:${pad(date.getSeconds())}`;
  if (step >= 86400) return `${date.getMonth() + 1}/${date.getDate()}`;
  return time;
}

function ticks(from, to, width) {
  const span = (to - from) / 1000;
  const step = STEPS.find((x) => span / x <= Math.max(2, width / 90)) || STEPS.at(-1);
  const out = [];
  const first = Math.ceil(from / 1000 / step) * step * 1000;
  for (let t = first; t <= to; t += step * 1000) out.push({ at: t, label: tickLabel(new Date(t), step) });
  return out;
}

// A bar from an API record: {start_time, end_time, state}; running ones end now.
export function barOf(record, extra = {}) {
  const start = parseTime(record.start_time);
  if (!start) return null;
  const end = parseTime(record.end_time) || new Date();
  return { start, end, state: record.state, ...extra };
}

export function spanOf(rows, now = new Date()) {
  const bars = rows.flatMap((r) => r.bars);
  if (!bars.length) return [new Date(now - 3600e3), now];
  const from = Math.min(...bars.map((b) => b.start));
  const to = Math.max(...bars.map((b) => b.end));
  const margin = Math.max((to - from) * 0.03, 1000);
  return [new Date(from - margin), new Date(to + margin)];
}

function barShape(bar, x, y, width) {
  const seconds = (bar.end - bar.start) / 1000;
  const label = `${bar.title || ""} ${bar.state} ${formatSeconds(seconds)}`.trim();
  const rect = s(
    "rect",
    // Hollow: a run not started yet (scheduled, queued), drawn at its run time.
    { class: `bar st-${bar.state}${bar.hollow ? " hollow" : ""}`, x, y: y + 4, width: Math.max(width, 3), height: ROW_H - 8, rx: 3, "data-state": bar.state },
    s("title", {}, label),
  );
  return bar.href ? s("a", { href: bar.href, "aria-label": label }, rect) : rect;
}

function rowLabel(row, y) {
  const text = s("text", { class: "row-label", x: 6, y: y + ROW_H / 2 + 4 }, row.label);
  return row.href ? s("a", { href: row.href }, text) : text;
}

// The width of the page's content area, so that text in the chart keeps its real size.
export function availableWidth() {
  return Math.max((document.getElementById("main")?.clientWidth || 900) - 64, 480);
}

// rows: [{label, href?, bars: [{start, end, state, title?, href?}]}]
export function drawBars(rows, [from, to], width = availableWidth()) {
  const plotW = width - LABEL_W - 10;
  const x = (t) => LABEL_W + ((t - from) / (to - from)) * plotW;
  const height = AXIS_H + rows.length * ROW_H + 4;
  const parts = ticks(from, to, plotW).map((t) => [
    s("line", { class: "tick", x1: x(t.at), x2: x(t.at), y1: AXIS_H - 4, y2: height }),
    x(t.at) < width - 28 ? s("text", { class: "tick-label", x: x(t.at), y: 14, "text-anchor": "middle" }, t.label) : null,
  ]);
  rows.forEach((row, i) => {
    const y = AXIS_H + i * ROW_H;
    if (i % 2) parts.push(s("rect", { class: "stripe", x: 0, y, width, height: ROW_H }));
    parts.push(rowLabel(row, y));
    for (const bar of row.bars) {
      const left = Math.max(x(bar.start), LABEL_W);
      parts.push(barShape(bar, left, y, Math.min(x(bar.end), width) - left));
    }
  });
  const svg = s("svg", { class: "bars", viewBox: `0 0 ${width} ${height}`, width, height, role: "group", "aria-label": "Timeline" }, ...parts.flat());
  return h("div", { class: "bars-wrap" }, svg);
}
