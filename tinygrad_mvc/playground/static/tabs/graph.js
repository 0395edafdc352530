// The Graph tab: an expression's computation graph (laid out by Graphviz on the server, from tg.viz.backprop's
// trace) and the forward and backward pass frame by frame, as tinygrad_mvc.viz.animate's HTML player shows it.
// The server sends the SVG and every frame's texts; this module only sets them, one frame at a time.
import { call } from "../lib/api.js";
import { el, field, select, input, button, readout, output, num } from "../lib/ui.js";

const SVG_NS = "http://www.w3.org/2000/svg";
// [value, label, expression, point]
const PRESETS = [
  ["product", "x·y + sin x", "x*y + sin(x)", "x=1 y=2"],
  ["neuron", "a neuron: tanh(w·x + b)", "tanh(w*x + b)", "w=0.5 x=-3 b=1"],
  ["fanout", "fan-out: sin x + sin x", "sin(x) + sin(x)", "x=0.5"],
  ["diamond", "a diamond: (a + b)(a − b)", "(a + b) * (a - b)", "a=3 b=2"],
  ["sigmoid", "sigmoid: 1 / (1 + e^−x)", "1 / (1 + exp(-x))", "x=0.5"],
  ["loss", "a squared error: (w·x − y)²", "(w*x - y)**2", "w=2 x=1.5 y=1"],
];
const FRAME_MS = 900;  // as the HTML player of tinygrad_mvc.viz.animate

let ui = null;
let run = null;            // the last answer the server accepted
let nodes = {}, edges = {};
let current = 0, timer = null, runSeq = 0;

export function build(panel) {
  const preset = select("graph-preset", [...PRESETS.map(([v, label]) => [v, label]), ["custom", "your own"]],
                        PRESETS[0][0]);
  const expr = input("graph-expr", "text", PRESETS[0][2], { spellcheck: false, autocomplete: "off" });
  const at = input("graph-at", "text", PRESETS[0][3], { spellcheck: false, autocomplete: "off" });
  const slider = input("graph-slider", "range", 0, { min: "0", max: "0", step: "1", "aria-label": "frame" });
  const view = document.createElementNS(SVG_NS, "svg");
  view.dataset.testid = "graph-view";
  view.setAttribute("class", "gr-view");
  view.setAttribute("role", "img");
  view.setAttribute("aria-label", "the computation graph");
  ui = {
    preset, expr, at, slider, view,
    frame: output("graph-frame"), count: output("graph-frame-count"),
    caption: el("div", { testid: "graph-caption", class: "gr-caption" }),
    play: button("graph-play", "play", togglePlay),
    value: output("graph-value"), inputs: el("div", { class: "readout gr-inputs" }),
    box: el("div", { class: "gr-box" }),
  };
  ui.box.append(view);
  preset.addEventListener("change", choosePreset);
  for (const node of [expr, at]) {
    node.addEventListener("change", () => { preset.value = "custom"; runIt(); });
  }
  slider.addEventListener("input", () => { stop(); showFrame(Number(slider.value)); });

  const controls = el("div", { class: "controls" },
    el("h2", { text: "Computation graph" }),
    el("p", { class: "note", text: "Forward, every value; backward, every gradient, by the chain rule." }),
    field("example", preset),
    field("expression", expr, "e.g. x*y + sin(x); functions such as sin, exp, tanh, log"),
    field("at the point", at, "one NAME=VALUE per variable, e.g. x=1 y=2"),
    button("graph-run", "run: build the graph", runIt),
    el("h2", { text: "Result (exact)" }),
    readout([["f", ui.value]]), ui.inputs);
  const player = el("div", { class: "gr-player" },
    button("graph-back", "◀ back", () => { stop(); showFrame(current - 1); }, true),
    ui.play,
    button("graph-step", "step ▶", () => { stop(); showFrame(current + 1); }, true),
    slider,
    el("span", { class: "gr-count" }, "frame ", ui.frame, " of ", ui.count));
  const figure = el("div", { class: "figure gr-figure" },
    el("p", { class: "caption", text: "The graph of tg.viz.backprop: each box a value (blue: an input, yellow: "
      + "the output) with its value and, in red, its gradient ∂f/∂(box); blue numbers on the edges are the local "
      + "derivatives ∂out/∂in. Orange: the step being taken. Numbers to 4 significant digits." }),
    player, ui.caption, ui.box);
  panel.append(controls, el("div", { class: "figures gr-figures" }, figure));
}

export function show(first) {
  if (first) { choosePreset(); }
}

function choosePreset() {
  const chosen = PRESETS.find(([v]) => v === ui.preset.value);
  if (!chosen) { return; }
  ui.expr.value = chosen[2];
  ui.at.value = chosen[3];
  runIt();
}

async function runIt() {
  const seq = ++runSeq;
  const data = await call("graph", "run", { expr: ui.expr.value, at: ui.at.value });
  if (seq !== runSeq || !data) { return; }  // superseded by a newer run, or refused: nothing changes
  stop();
  run = data;
  placeGraph(data);
  showInputs(data);
  ui.slider.max = String(data.frames.length - 1);
  ui.count.textContent = String(data.frames.length - 1);
  showFrame(0);
}

// The server's SVG goes in as a nested <svg> of the view, parsed as SVG (never as HTML), so no markup of its
// own can run; then each node's value and gradient <text> is found by the texts it was laid out with.
function placeGraph(data) {
  const parsed = new DOMParser().parseFromString(data.svg, "image/svg+xml").documentElement;
  const inner = document.importNode(parsed, true);
  const width = parseFloat(inner.getAttribute("width")) * 4 / 3;  // Graphviz gives pt; 1 CSS px = 0.75 pt
  const height = parseFloat(inner.getAttribute("height")) * 4 / 3;
  const room = Math.max(320, ui.box.clientWidth - 4);
  const scale = Math.max(0.85, Math.min(1.5, room / width));  // as the HTML player: too wide scrolls sideways
  ui.view.setAttribute("width", String(Math.round(width * scale)));
  ui.view.setAttribute("height", String(Math.round(height * scale)));
  inner.setAttribute("width", "100%");
  inner.setAttribute("height", "100%");
  for (const t of inner.querySelectorAll("title")) { t.remove(); }  // Graphviz's ids ("n0->n2") as tooltips
  ui.view.replaceChildren(inner);
  nodes = {}; edges = {};
  for (const [i, [valueText, gradText]] of Object.entries(data.layout)) {
    const g = inner.querySelector(`#n${i}`);
    if (!g) { continue; }
    let value = null, grad = null;
    for (const t of g.querySelectorAll("text")) {
      if (value === null && t.textContent === valueText) { value = t; }
      else if (grad === null && t.textContent === gradText) { grad = t; }
    }
    const outline = g.querySelector("path, polygon");
    if (outline) {  // the value and grad rows change length from frame to frame: centre them in the box
      const box = outline.getBBox(), middle = String(box.x + box.width / 2);
      for (const t of [value, grad]) { if (t) { t.setAttribute("text-anchor", "middle"); t.setAttribute("x", middle); } }
    }
    nodes[i] = { g, value, grad, outline, stroke: outline ? outline.getAttribute("stroke") : null };
  }
  for (const g of inner.querySelectorAll("g.edge")) {
    const path = g.querySelector("path");
    edges[(g.id || "").replace(/^e/, "")] = { label: g.querySelector("text"), path,
                                              stroke: path ? path.getAttribute("stroke") : null };
  }
}

function showInputs(data) {
  ui.value.textContent = num(data.value);
  ui.inputs.replaceChildren();
  for (const v of data.inputs) {
    ui.inputs.append(el("span", { text: v.name }), el("span", { testid: `graph-input-${v.name}`, text: num(v.value) }),
                     el("span", { text: `∂f/∂${v.name}` }), el("span", { testid: `graph-grad-${v.name}`, text: num(v.grad) }));
  }
}

function showFrame(k) {
  if (!run) { return; }
  current = Math.max(0, Math.min(run.frames.length - 1, k));
  const f = run.frames[current], colours = run.colours;
  for (const [i, n] of Object.entries(nodes)) {
    const v = f.values[i], gr = f.grads[i];
    if (n.value) { n.value.textContent = v === undefined ? "" : v; }
    if (n.grad) { n.grad.textContent = gr === undefined ? "" : `grad ${gr}`; }
    n.g.classList.toggle("gr-pending", v === undefined);
    if (n.outline) {
      const here = f.current !== null && String(f.current) === i;
      n.outline.setAttribute("stroke", here ? colours.current : n.stroke);
      n.outline.setAttribute("stroke-width", here ? "3" : "1.2");
    }
  }
  const active = new Set(f.active);
  for (const [key, e] of Object.entries(edges)) {
    if (e.label) { e.label.textContent = f.edges[key] === undefined ? "" : f.edges[key]; }
    if (e.path) {
      e.path.setAttribute("stroke", active.has(key) ? colours.current : e.stroke);
      e.path.setAttribute("stroke-width", active.has(key) ? "2.5" : "1");
    }
  }
  if (f.current !== null && nodes[f.current]) { follow(nodes[f.current].g); }
  ui.caption.textContent = f.caption;
  ui.caption.className = `gr-caption gr-${f.phase}`;
  ui.slider.value = String(current);
  ui.frame.textContent = String(current);
}

// A graph wider than its box scrolls sideways: keep the node being worked on in view.
function follow(g) {
  const box = ui.box;
  if (box.scrollWidth <= box.clientWidth) { return; }
  const r = g.getBoundingClientRect(), c = box.getBoundingClientRect();
  if (r.left < c.left || r.right > c.right) { box.scrollLeft += (r.left + r.right - c.left - c.right) / 2; }
}

function stop() {
  if (timer !== null) { clearInterval(timer); timer = null; }
  ui.play.textContent = "play";
}

function togglePlay() {
  if (!run) { return; }
  if (timer !== null) { stop(); return; }
  if (current >= run.frames.length - 1) { showFrame(0); }
  ui.play.textContent = "pause";
  timer = setInterval(() => {
    if (current >= run.frames.length - 1) { stop(); } else { showFrame(current + 1); }
  }, FRAME_MS);
}
