// The Newton-Raphson tab: f, x0 (typed or clicked), one step at a time. The server (tabs/newton.py) runs
// tg.optimize.newton_raphson once and reveals its iterates; this module draws the curve, the tangents (or the
// secant's chords) and the history table.
import { call, showMessage } from "../lib/api.js";
import { el, field, input, num, output, readout, short } from "../lib/ui.js";
import { Plot, value } from "../lib/plot.js";
import { clickSetsX0, formula, legend, setInput } from "./taylor.js";

const PRESETS = [
  ["x**3 - 2*x - 5", "x³ − 2x − 5 (Newton's example)"],
  ["(x-1)*(x-2)*(x-3)*(x+1)", "(x−1)(x−2)(x−3)(x+1)"],
  ["x**3 - 2*x + 2", "x³ − 2x + 2 (cycles from 0)"],
  ["arctan(x)", "arctan(x) (diverges from 1.5)"],
  ["x**2 + 1", "x² + 1 (no real root)"],
  ["cos(x) - x", "cos(x) − x"],
  ["x**2 - 2", "x² − 2 (root √2)"],
];
const COLOURS = { f: "#1d2330", used: "#e8590c", current: "#1f6feb", iterate: "#b42318" };
const SUB = "₀₁₂₃₄₅₆₇₈₉";
const sub = (k) => String(k).split("").map((d) => SUB[Number(d)]).join("");

const ui = {};
let queue = Promise.resolve();  // requests in click order: two quick steps are two steps, in turn

function send(action, body = {}) {
  queue = queue.then(async () => {
    const answer = await call("newton", action, body);
    if (answer) { draw(answer); }
    if (answer && action === "step" && answer.stopped && ui.wasStopped) {
      showMessage("Newton-Raphson has stopped (see the status); change f or x₀ to start again.", "info");
    }
    if (answer) { ui.wasStopped = answer.stopped; }
  });
  return queue;
}

export function build(panel) {
  const restart = (body) => send("start", body);
  ({ preset: ui.preset, expr: ui.expr } = formula("newton", PRESETS, restart));
  ui.x0 = input("newton-x0", "number", "", { step: "any" });
  ui.secant = el("input", { type: "checkbox", testid: "newton-secant" });
  ui.x0.addEventListener("change", () => send("start", { x0: ui.x0.value }));
  ui.secant.addEventListener("change", () => send("start", { method: ui.secant.checked ? "secant" : "newton" }));
  ui.close = el("input", { type: "checkbox", testid: "newton-close" });
  ui.close.addEventListener("change", () => send("view", { close: ui.close.checked }));
  const stepButton = el("button", { type: "button", class: "action", testid: "newton-step", text: "Step",
                                    onclick: () => send("step") });
  const finishButton = el("button", { type: "button", class: "action secondary", testid: "newton-finish",
                                      text: "Run to the end", onclick: () => send("finish") });
  const restartButton = el("button", { type: "button", class: "action secondary", testid: "newton-restart",
                                       text: "Restart", onclick: () => send("start") });
  ui.k = output("newton-iteration");
  ui.x = output("newton-x");
  ui.fx = output("newton-fx");
  ui.status = el("div", { class: "nr-status", testid: "newton-status", role: "status" });
  const controls = el("div", { class: "controls" },
    el("h2", { text: "Find a root of f" }),
    field("preset", ui.preset),
    field("f(x) =", ui.expr, "Enter applies it and restarts"),
    field("x₀ (or click the plot)", ui.x0),
    el("label", { class: "tn-check" }, ui.secant, " secant method (no derivative)"),
    el("label", { class: "tn-check" }, ui.close, " close-up of the current step"),
    el("div", { class: "row" }, stepButton, finishButton),
    restartButton,
    readout([["iterate k", ui.k], ["xₖ", ui.x], ["f(xₖ)", ui.fx]]),
    el("span", { class: "note", text: "status" }),
    ui.status,
  );
  const canvas = el("canvas", { testid: "newton-plot" });
  ui.plot = new Plot(canvas, [-1, 5, -10, 50], { width: 560, height: 420 });
  clickSetsX0(ui.plot, ui.x0, restart);
  ui.caption = el("p", { class: "caption" });
  ui.legend = el("div");
  ui.table = el("table", { class: "tn-table", testid: "newton-history" });
  ui.tableBox = el("div", { class: "nr-scroll" }, ui.table);
  panel.append(controls, el("div", { class: "figures" },
    el("div", { class: "figure" }, ui.caption, ui.legend, canvas),
    el("div", { class: "figure nr-side" },
       el("p", { class: "caption", text: "The iterates so far, from tg.optimize.newton_raphson" }), ui.tableBox)));
}

export function show(first) {
  if (first) { send("view"); }
}

function draw(a) {
  setInput(ui.expr, a.expr);
  setInput(ui.preset, PRESETS.some(([v]) => v === a.expr) ? a.expr : "");
  setInput(ui.x0, num(a.x0));
  ui.secant.checked = a.method === "secant";
  ui.close.checked = a.close;
  ui.k.textContent = String(a.k);
  ui.x.textContent = num(a.x);
  ui.fx.textContent = num(a.fx);
  ui.status.textContent = a.status;
  ui.status.dataset.word = a.word;
  const line = a.method === "secant" ? "chord" : "tangent";
  const how = a.method === "secant"
    ? `the secant method from x₀ = ${num(a.x0)}: each chord through two iterates meets the x-axis at the next.`
    : `Newton-Raphson from x₀ = ${num(a.x0)}: the tangent at each iterate meets the x-axis at the next.`;
  const close = a.close ? " Close-up: three steps wide around xₖ." : "";
  ui.caption.textContent = `f(x) = ${a.expr} and ${how}${close} Click to set x₀.`;
  ui.legend.replaceChildren(legend([[COLOURS.f, "f(x)"], [COLOURS.used, `${line}s used`],
                                    [COLOURS.current, `${line} at xₖ`, "dash"], [COLOURS.iterate, "iterates xₖ", "dot"]]));
  drawTable(a);
  drawPlot(a);
}

function drawTable(a) {
  const head = el("tr", {}, el("th", { text: "k" }), el("th", { text: "xₖ" }), el("th", { text: "f(xₖ)" }));
  const rows = a.history.map((x, k) => el("tr", { class: k === a.k ? "nr-now" : "" }, el("td", { text: String(k) }),
    el("td", { class: "mono", text: num(x) }), el("td", { class: "mono", text: short(value(a.values[k]), 5) })));
  ui.table.replaceChildren(el("thead", {}, head), el("tbody", {}, ...rows));
  ui.tableBox.scrollTop = ui.tableBox.scrollHeight;  // the newest iterate in view
}

function drawPlot(a) {
  const p = ui.plot;
  const [lo, hi] = a.window.map(value);
  p.setDomain([lo, hi, a.ylim[0], a.ylim[1]]);
  p.clear();
  p.axes({ xlabel: "x", ylabel: "f(x)" });
  p.line([[lo, 0], [hi, 0]], { colour: "rgba(0,0,0,0.55)", width: 1.2 });
  p.curve(a.xs, a.ys, { colour: COLOURS.f, width: 2.5 });
  a.used.forEach((seg, i) => {
    const last = i === a.used.length - 1;
    for (const drop of seg.drops) { p.line(drop, { colour: "rgba(91,100,116,0.7)", width: 1, dash: [3, 3] }); }
    p.line(seg.points, { colour: last ? COLOURS.used : "rgba(232,89,12,0.45)", width: last ? 2.5 : 1.5 });
  });
  if (a.current) {
    p.line(a.current.points, { colour: COLOURS.current, width: 1.8, dash: [7, 5] });
    p.dot(a.current.at, { r: 4, fill: COLOURS.current });
  }
  drawIterates(p, a, lo, hi);
}

function drawIterates(p, a, lo, hi) {
  const labelled = [];
  a.history.forEach((x0, k) => {
    const x = value(x0);
    if (x < lo || x > hi) {  // off the picture: say where, at the edge it went past
      const left = x < lo;
      p.text(`x${sub(k)} = ${short(x)} ${left ? "←" : "→"}`, left ? 4 : p.width - 4, 30 + 16 * (k % 4), { align: left ? "left" : "right" });
      return;
    }
    p.dot([x, 0], { r: k === a.k ? 5 : 3.5, fill: COLOURS.iterate });
    const px = p.X(x);
    if (labelled.every((q) => Math.abs(q - px) > 18)) { labelled.push(px); p.label(`x${sub(k)}`, [x, 0], { dy: 16, align: "center", dx: 0 }); }
  });
  if (a.next !== null && a.next !== undefined) {
    const x = value(a.next);
    if (x >= lo && x <= hi) {
      p.dot([x, 0], { r: 5, fill: "#ffffff", stroke: COLOURS.current, width: 2 });
      p.label(`next: x${sub(a.k + 1)}`, [x, 0], { dy: -10, align: "center", dx: 0, colour: COLOURS.current });
    }
  }
}
