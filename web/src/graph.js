// Action graphs: dagre lays out the DAG, we draw it as SVG; cleanup is drawn apart, after a gap.
import dagre from "@dagrejs/dagre";
import { h, s } from "./dom.js";
import { stateIcon } from "./states.js";

const NODE_H = 40;
const PAD = 16;
const CLEANUP = "cleanup";
let measurer = null;

function textWidth(text) {
  measurer ||= document.createElement("canvas").getContext("2d");
  measurer.font = "600 14px system-ui, sans-serif";
  return measurer.measureText(text).width;
}

// Tron's graphs name other jobs' actions met along triggers (`ns.job.action`, command
// TRIGGER); action names cannot hold a dot.
function isTrigger(name) {
  return name.includes(".");
}

function layout(nodes) {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 18, ranksep: 48, marginx: PAD, marginy: PAD });
  g.setDefaultEdgeLabel(() => ({}));
  const known = new Set(nodes.map((n) => n.name));
  for (const node of nodes) {
    const trigger = isTrigger(node.name);
    g.setNode(node.name, { width: Math.max(90, textWidth(node.name) + 32), height: NODE_H, trigger });
  }
  for (const node of nodes) {
    for (const dep of node.dependencies || []) {
      // A dependency that is not an action is a trigger: show it as a pseudo-node.
      if (!known.has(dep)) {
        known.add(dep);
        g.setNode(dep, { width: textWidth(dep) + 32, height: NODE_H, trigger: true });
      }
      g.setEdge(dep, node.name);
    }
  }
  dagre.layout(g);
  return g;
}

function nodeBox(name, box, node, hrefFor) {
  const state = box.trigger ? "trigger" : node?.state || "none";
  const title = node?.command ? `${name}\n${node.command}` : name;
  const shape = s(
    "g",
    {
      class: `node st-${state}${box.trigger ? " trigger" : ""}`,
      "data-action": name,
      "data-state": state,
      transform: `translate(${box.x - box.width / 2},${box.y - box.height / 2})`,
    },
    s("title", {}, title),
    s("rect", { width: box.width, height: box.height, rx: 6 }),
    s("text", { x: box.width / 2, y: box.height / 2 + 5, "text-anchor": "middle" }, name),
    s("text", { class: "state-icon", x: 8, y: 14, "aria-hidden": "true" }, stateIcon(state)),
  );
  const href = node && hrefFor && !box.trigger ? hrefFor(name) : null;
  return href ? s("a", { href, "aria-label": `${name}: ${state}` }, shape) : shape;
}

function edgePath(points) {
  return points.map((p, i) => `${i ? "L" : "M"}${p.x},${p.y}`).join(" ");
}

function defs() {
  return s(
    "defs",
    {},
    s(
      "marker",
      { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto" },
      s("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }),
    ),
  );
}

// `nodes`: [{name, dependencies, state?, command?}]; `hrefFor(name)` makes nodes links.
export function drawGraph(nodes, hrefFor = null) {
  const main = nodes.filter((n) => n.name !== CLEANUP);
  const cleanup = nodes.find((n) => n.name === CLEANUP);
  const g = layout(main);
  const { width = 0, height = 0 } = g.graph();
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const edges = g.edges().map((e) => s("path", { class: "edge", d: edgePath(g.edge(e).points), "marker-end": "url(#arrow)" }));
  const boxes = g.nodes().map((name) => nodeBox(name, g.node(name), byName.get(name), hrefFor));
  let totalW = Math.max(width, 120);
  const parts = [defs(), ...edges, ...boxes];
  if (cleanup) {
    const w = Math.max(90, textWidth(CLEANUP) + 32);
    const x = totalW + 40;
    parts.push(s("line", { class: "separator", x1: totalW + 14, x2: totalW + 14, y1: 8, y2: Math.max(height, 72) - 8 }));
    parts.push(s("text", { class: "caption", x: x, y: 14 }, "runs last"));
    parts.push(nodeBox(CLEANUP, { x: x + w / 2, y: 24 + NODE_H / 2, width: w, height: NODE_H }, cleanup, hrefFor));
    totalW = x + w + PAD;
  }
  const totalH = Math.max(height, cleanup ? NODE_H + 40 : 0);
  const svg = s("svg", { class: "dag", viewBox: `0 0 ${totalW} ${totalH}`, width: totalW, height: totalH, role: "group", "aria-label": "Action graph" }, ...parts);
  return h("div", { class: "dag-wrap" }, svg);
}

export function setNodeState(container, name, state) {
  for (const node of container.querySelectorAll(`g.node[data-action="${CSS.escape(name)}"]`)) {
    node.setAttribute("class", `node st-${state}`);
    node.setAttribute("data-state", state);
    const icon = node.querySelector(".state-icon");
    if (icon) icon.textContent = stateIcon(state);
  }
}
