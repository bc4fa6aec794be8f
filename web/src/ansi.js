// ANSI SGR colour codes to styled spans; every other escape sequence is dropped.
const BASIC = ["#000", "#c33", "#3a3", "#c90", "#36c", "#a3a", "#3aa", "#ccc"];
const BRIGHT = ["#666", "#f55", "#5d5", "#fd5", "#59f", "#e5e", "#5ee", "#fff"];
const PATTERN = /\x1b\[([0-9;]*)m|\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07/g;

function color256(n) {
  if (n < 8) return BASIC[n];
  if (n < 16) return BRIGHT[n - 8];
  if (n >= 232) {
    const v = 8 + (n - 232) * 10;
    return `rgb(${v},${v},${v})`;
  }
  const i = n - 16;
  const c = (x) => (x ? 55 + x * 40 : 0);
  return `rgb(${c(Math.floor(i / 36))},${c(Math.floor(i / 6) % 6)},${c(i % 6)})`;
}

function extended(codes, i) {
  if (codes[i + 1] === 5) return [color256(codes[i + 2] ?? 0), i + 2];
  if (codes[i + 1] === 2) return [`rgb(${codes[i + 2] ?? 0},${codes[i + 3] ?? 0},${codes[i + 4] ?? 0})`, i + 4];
  return [null, i];
}

function applyCode(style, codes, i) {
  const c = codes[i];
  if (c === 0) return [{}, i];
  if (c === 1) return [{ ...style, bold: true }, i];
  if (c === 3) return [{ ...style, italic: true }, i];
  if (c === 4) return [{ ...style, underline: true }, i];
  if (c === 22) return [{ ...style, bold: false }, i];
  if (c === 39) return [{ ...style, fg: null }, i];
  if (c === 49) return [{ ...style, bg: null }, i];
  if (c >= 30 && c <= 37) return [{ ...style, fg: BASIC[c - 30] }, i];
  if (c >= 90 && c <= 97) return [{ ...style, fg: BRIGHT[c - 90] }, i];
  if (c >= 40 && c <= 47) return [{ ...style, bg: BASIC[c - 40] }, i];
  if (c >= 100 && c <= 107) return [{ ...style, bg: BRIGHT[c - 100] }, i];
  if (c === 38 || c === 48) {
    const [value, next] = extended(codes, i);
    return [{ ...style, [c === 38 ? "fg" : "bg"]: value }, next];
  }
  return [style, i];
}

export function nextStyle(style, params) {
  const codes = params === "" ? [0] : params.split(";").map((x) => Number(x || 0));
  let current = style;
  for (let i = 0; i < codes.length; i++) [current, i] = applyCode(current, codes, i);
  return current;
}

function span(text, style) {
  if (!style.fg && !style.bg && !style.bold && !style.italic && !style.underline) {
    return document.createTextNode(text);
  }
  const el = document.createElement("span");
  el.textContent = text;
  if (style.fg) el.style.color = style.fg;
  if (style.bg) el.style.backgroundColor = style.bg;
  if (style.bold) el.style.fontWeight = "bold";
  if (style.italic) el.style.fontStyle = "italic";
  if (style.underline) el.style.textDecoration = "underline";
  return el;
}

// Returns [nodes, style at the end] so that a following chunk continues the same colours.
export function renderAnsi(text, style = {}) {
  const nodes = [];
  let last = 0;
  let current = style;
  for (const match of text.matchAll(PATTERN)) {
    if (match.index > last) nodes.push(span(text.slice(last, match.index), current));
    if (match[1] !== undefined) current = nextStyle(current, match[1]);
    last = match.index + match[0].length;
  }
  if (last < text.length) nodes.push(span(text.slice(last), current));
  return [nodes, current];
}
