// The Taylor tab: f and its Taylor polynomial around x0 (order 0-10), the error, the coefficients; and a 2-D mode
// with the tangent plane and the quadratic model over f's contours. The server (tabs/taylor.py) computes every
// number with tg.taylor, tg.grad and tg.hessian; this module draws them.
import { call, limits } from "../lib/api.js";
import { el, field, input, num, pt, readout, output, select, short } from "../lib/ui.js";
import { Plot, contourLevels, palettes, value } from "../lib/plot.js";

const PRESETS = [
  ["sin(x)", "sin(x)"], ["exp(x)", "exp(x)"], ["log(1+x)", "log(1 + x)"], ["1/(1-x)", "1/(1 - x)"],
  ["cos(x)*exp(-x/3)", "cos(x) exp(-x/3)"], ["tanh(x)", "tanh(x)"], ["sqrt(1+x**2)", "sqrt(1 + x²)"],
];
const PRESETS_2D = [
  ["sin(x)*cos(y)", "sin(x) cos(y)"], ["x**2 + 3*y**2", "bowl x² + 3y²"], ["x**2 - y**2", "saddle x² − y²"],
  ["exp(-(x**2 + y**2)/2)", "bump exp(−(x² + y²)/2)"], ["(1 - x)**2 + 5*(y - x**2)**2", "banana (Rosenbrock-like)"],
  ["x*y + sin(2*x)", "x y + sin(2x)"],
];
const COLOURS = { f: "#1d2330", p: "#e8590c", x0: "#b42318", error: "#7048e8", linear: "#1f6feb", quadratic: "#e8590c",
                  arrow: "#d6336c" };

/** Number text for an input: a click at x is rounded to about a thousandth of the window it is in. */
export function tidy(x, span) {
  const digits = Math.max(0, Math.min(12, Math.ceil(-Math.log10(span / 1000))));
  return Number(x.toFixed(digits));
}

/** A legend (outside the picture): [[colour, label, kind]] with kind "line", "dash" or "dot". */
export function legend(items) {
  const box = el("div", { class: "tn-legend" });
  for (const [colour, label, kind = "line"] of items) {
    box.append(el("span", { class: "tn-key" }, el("i", { class: `tn-swatch ${kind}`, style: `--c: ${colour}` }), label));
  }
  return box;
}

/** Write an answer's value into a control, unless the student is in it (typing, or moving the slider). */
export function setInput(control, text) {
  if (document.activeElement !== control) { control.value = text; }
}

/**
 * A preset `<select>` (test id PREFIX-preset) and a formula input (PREFIX-expr): choosing a preset writes its
 * formula into the input; either sends `{expr}` through `send`.
 */
export function formula(prefix, presets, send) {
  const preset = select(`${prefix}-preset`, [["", "choose a function…"], ...presets]);
  const expr = input(`${prefix}-expr`, "text", "", { spellcheck: "false", autocomplete: "off" });
  preset.addEventListener("change", () => {
    if (!preset.value) { return; }
    expr.value = preset.value;
    send({ expr: preset.value });
  });
  expr.addEventListener("change", () => send({ expr: expr.value }));
  return { preset, expr };
}

/** A click on `plot` writes its x (rounded to the window) into the input `box` and sends it as `{x0}`. */
export function clickSetsX0(plot, box, send) {
  plot.onClick(([x]) => {
    const [a, b] = plot.domain;
    const x0 = tidy(x, b - a);
    box.value = String(x0);
    send({ x0 });
  });
}

/**
 * Requests of one action, one at a time and in order; while one is in flight, later bodies are merged into the
 * next (the latest value of each field wins), so a slider dragged across ten orders costs few requests.
 * `render(answer, stale)`: stale when a newer request follows at once (do not move the controls under the
 * student's hands then: its answer is on the way).
 */
export function channel(tab, action, render) {
  let busy = false, waiting = null;
  async function send(body) {
    if (busy) { waiting = { ...(waiting || {}), ...body }; return; }
    busy = true;
    const answer = await call(tab, action, body);
    busy = false;
    render(answer, waiting !== null);
    if (waiting) { const next = waiting; waiting = null; send(next); }
  }
  return send;
}

const ui = {};
let accepted = null;     // the last 1-D answer (what the server holds)
let mode = "1d";
let planeShown = false;

export function build(panel) {
  const controls = el("div", { class: "controls tn-controls" });
  const m1 = el("button", { type: "button", class: "tn-mode", testid: "taylor-mode-1d", text: "1-D: f(x)",
                            onclick: () => setMode("1d") });
  const m2 = el("button", { type: "button", class: "tn-mode", testid: "taylor-mode-2d", text: "2-D: f(x, y)",
                            onclick: () => setMode("2d") });
  ui.modes = { "1d": m1, "2d": m2 };
  controls.append(el("div", { class: "tn-modes", role: "group", "aria-label": "mode" }, m1, m2));
  ui.one = buildOne();
  ui.two = buildTwo();
  controls.append(ui.one.controls, ui.two.controls);
  panel.append(controls, ui.one.figures, ui.two.figures);
  setMode("1d", false);
}

export function show(first) {
  if (first) { expand({}); }
}

function setMode(next, load = true) {
  mode = next;
  for (const [name, button] of Object.entries(ui.modes)) { button.setAttribute("aria-pressed", String(name === mode)); }
  ui.one.controls.hidden = ui.one.figures.hidden = mode !== "1d";
  ui.two.controls.hidden = ui.two.figures.hidden = mode !== "2d";
  if (load && mode === "2d" && !planeShown) { plane({}); }
}

// --------------------------------------------------------------------------- 1-D

let drawn = null;          // the answer the page shows (a stale one is skipped)
const expand = channel("taylor", "expand", (answer, stale) => {
  if (answer) { accepted = answer; }
  if (stale) { return; }
  if (answer) { drawOne(answer); return; }
  // refused: the message says why. The text the student typed stays (to be corrected); the page shows what the
  // server holds, and the slider goes back to the order shown.
  if (accepted && accepted !== drawn) {
    const typed = [ui.expr.value, ui.x0.value, ui.window.value];
    drawOne(accepted);
    [ui.expr.value, ui.x0.value, ui.window.value] = typed;
  }
  if (accepted) { ui.order.value = String(accepted.order); ui.orderValue.textContent = String(accepted.order); }
});

function buildOne() {
  const one = {};
  ({ preset: ui.preset, expr: ui.expr } = formula("taylor", PRESETS, expand));
  ui.x0 = input("taylor-x0", "number", "", { step: "any" });
  ui.order = input("taylor-order", "range", 3, { min: 0, max: limits.max_order ?? 10, step: 1 });
  ui.orderValue = el("b", { testid: "taylor-order-value", text: "3" });
  ui.window = input("taylor-window", "number", "", { step: "any", min: 0.001 });
  ui.x0.addEventListener("change", () => expand({ x0: ui.x0.value }));
  ui.window.addEventListener("change", () => expand({ half_width: ui.window.value }));
  const onOrder = () => { ui.orderValue.textContent = ui.order.value; expand({ order: ui.order.value }); };
  ui.order.addEventListener("input", onOrder);
  ui.order.addEventListener("change", onOrder);
  const orderLabel = el("label", { class: "field" }, el("span", {}, "order N = ", ui.orderValue), ui.order,
                        el("span", { class: "note", text: "drag: the polynomial follows at once" }));
  ui.fx0 = output("taylor-fx0");
  one.controls = el("div", { class: "tn-group" },
    el("h2", { text: "Function" }),
    field("preset", ui.preset),
    field("f(x) =", ui.expr, "Enter applies it; use x, + - * / **, sin, exp, log, sqrt, tanh, ..."),
    field("x₀ (or click the plot)", ui.x0),
    orderLabel,
    field("plot window: half-width in x", ui.window),
    readout([["f(x₀)", ui.fx0]]),
  );

  const canvas = el("canvas", { testid: "taylor-plot" });
  ui.plot = new Plot(canvas, [-4, 4, -1.5, 1.5], { width: 540, height: 340 });
  clickSetsX0(ui.plot, ui.x0, expand);
  ui.caption = el("p", { class: "caption" });
  ui.legend = el("div");
  const errCanvas = el("canvas", { testid: "taylor-error" });
  ui.errPlot = new Plot(errCanvas, [-4, 4, -16, 0], { width: 540, height: 150 });
  ui.note = el("p", { class: "note tn-note" });
  ui.table = el("table", { class: "tn-table", testid: "taylor-table" });
  ui.coefficients = el("div", { class: "tn-coefficients", testid: "taylor-coefficients" });
  one.figures = el("div", { class: "figures" },
    el("div", { class: "figure tn-figure" }, ui.caption, ui.legend, canvas, ui.note,
       el("p", { class: "caption tn-gap", text: "The error |f(x) − p(x)| on a log scale: log₁₀ of it (−6 is an error of 10⁻⁶). It is 0 at x₀ and grows with the distance from x₀; a higher order keeps it small further out — as far as the series converges." }),
       legend([[COLOURS.error, "log₁₀ |f − p|"], [COLOURS.x0, "x₀", "dash"]]), errCanvas),
    el("div", { class: "figure tn-side" },
       el("p", { class: "caption", text: "The coefficients cₖ = f⁽ᵏ⁾(x₀)/k! of p(x) = Σ cₖ (x − x₀)ᵏ, from tg.taylor" }),
       ui.table,
       el("p", { class: "caption tn-gap", text: "The same coefficients as text (k = 0 first):" }),
       ui.coefficients),
  );
  return one;
}

function drawOne(a) {
  drawn = a;
  setInput(ui.expr, a.expr);
  setInput(ui.preset, PRESETS.some(([v]) => v === a.expr) ? a.expr : "");
  setInput(ui.x0, num(a.x0));
  setInput(ui.order, String(a.order));
  ui.orderValue.textContent = String(a.order);
  setInput(ui.window, num(a.half_width));
  ui.fx0.textContent = num(a.coefficients[0]);
  ui.coefficients.textContent = a.coefficients.map(num).join(", ");
  ui.caption.textContent = `f(x) = ${a.expr} and its Taylor polynomial p of order ${a.order} around x₀ = ${num(a.x0)}. Click the plot to move x₀.`;
  ui.legend.replaceChildren(legend([[COLOURS.f, "f(x)"], [COLOURS.p, `p(x), order ${a.order}`],
                                    [COLOURS.x0, "x₀", "dot"]]));
  ui.note.textContent = a.note;
  drawTable(a);
  drawCurves(a);
  drawError(a);
}

function drawTable(a) {
  const head = el("tr", {}, el("th", { text: "k" }), el("th", { text: "cₖ = f⁽ᵏ⁾(x₀)/k!" }), el("th", { text: "f⁽ᵏ⁾(x₀)" }));
  const rows = a.coefficients.map((c, k) => el("tr", {}, el("td", { text: String(k) }), el("td", { class: "mono", text: num(c) }),
                                               el("td", { class: "mono", text: short(value(a.derivatives[k]), 6) })));
  ui.table.replaceChildren(el("thead", {}, head), el("tbody", {}, ...rows));
}

function drawCurves(a) {
  const p = ui.plot;
  p.setDomain([a.window[0], a.window[1], a.ylim[0], a.ylim[1]]);
  p.clear();
  p.axes({ xlabel: "x", ylabel: "y" });
  const x0 = value(a.x0), f0 = value(a.coefficients[0]);
  p.line([[x0, a.ylim[0]], [x0, a.ylim[1]]], { colour: "rgba(180,35,24,0.45)", width: 1, dash: [4, 4] });
  p.curve(a.xs, a.f, { colour: COLOURS.f, width: 2.5 });
  p.curve(a.xs, a.p, { colour: COLOURS.p, width: 2 });
  if (Number.isFinite(f0)) { p.dot([x0, f0], { r: 5, fill: COLOURS.x0 }); p.label(`x₀ = ${short(x0)}`, [x0, f0]); }
}

function drawError(a) {
  const p = ui.errPlot;
  p.setDomain([a.window[0], a.window[1], a.error_ylim[0], a.error_ylim[1]]);
  p.clear();
  p.axes({ xlabel: "x", ylabel: "log₁₀ |f − p|", zero: false });
  const x0 = value(a.x0);
  p.line([[x0, a.error_ylim[0]], [x0, a.error_ylim[1]]], { colour: "rgba(180,35,24,0.45)", width: 1, dash: [4, 4] });
  p.curve(a.xs, a.error, { colour: COLOURS.error, width: 2 });
}

// --------------------------------------------------------------------------- 2-D

const plane = channel("taylor", "plane", (answer, stale) => {
  if (!answer || stale) { return; }
  planeShown = true;
  ui.lastPlane = answer;
  drawTwo(answer);
});

function buildTwo() {
  const two = {};
  ({ preset: ui.preset2, expr: ui.expr2 } = formula("taylor2", PRESETS_2D, plane));
  ui.point2 = input("taylor2-point", "text", "", { spellcheck: "false", autocomplete: "off" });
  ui.showLinear = el("input", { type: "checkbox", testid: "taylor2-linear", checked: true });
  ui.showQuadratic = el("input", { type: "checkbox", testid: "taylor2-quadratic", checked: true });
  ui.point2.addEventListener("change", () => plane({ point: ui.point2.value }));
  for (const box of [ui.showLinear, ui.showQuadratic]) {
    box.addEventListener("change", () => { if (ui.lastPlane) { drawMap(ui.lastPlane); } });
  }
  ui.value2 = output("taylor2-value");
  ui.gradient2 = output("taylor2-gradient");
  ui.hessian2 = output("taylor2-hessian");
  two.controls = el("div", { class: "tn-group" },
    el("h2", { text: "Function of x and y" }),
    field("preset", ui.preset2),
    field("f(x, y) =", ui.expr2, "Enter applies it"),
    field("point p = (x, y) (or click the map)", ui.point2, "two numbers: x, y"),
    el("label", { class: "tn-check" }, ui.showLinear, " linear model (tangent plane)"),
    el("label", { class: "tn-check" }, ui.showQuadratic, " quadratic model (with the Hessian)"),
  );
  const canvas = el("canvas", { testid: "taylor2-map" });
  ui.map = new Plot(canvas, [-3, 3, -3, 3], { width: 500, height: 500 });
  ui.map.onClick(([x, y]) => {
    const [a, b] = ui.map.domain;
    const point = `${tidy(x, b - a)}, ${tidy(y, b - a)}`;
    ui.point2.value = point;
    plane({ point });
  });
  ui.caption2 = el("p", { class: "caption" });
  ui.note2 = el("p", { class: "note tn-note" });
  two.figures = el("div", { class: "figures" },
    el("div", { class: "figure tn-figure" }, ui.caption2,
       legend([[COLOURS.f, "f's contours", "line"], [COLOURS.linear, "linear model", "dash"],
               [COLOURS.quadratic, "quadratic model", "line"], [COLOURS.arrow, "∇f direction", "line"]]),
       canvas, ui.note2,
       el("p", { class: "note", text: "Background: f's value (dark = low, yellow = high). Inside the dotted circle the models' contours are drawn at the same levels as f's dark contours: where the lines coincide the model is good." })),
    el("div", { class: "figure tn-side" },
       el("p", { class: "caption", text: "At p, from tg.grad and tg.hessian" }),
       readout([["f(p)", ui.value2], ["∇f(p)", ui.gradient2], ["H(p)", ui.hessian2]]),
       el("p", { class: "note", text: "H row by row: hxx, hxy; hyx, hyy." }),
       el("p", { class: "caption tn-gap", text: "The two models around p, with d = (x, y) − p" }),
       el("p", { class: "tn-formula", text: "linear:  f(p) + ∇f(p) · d" }),
       el("p", { class: "tn-formula", text: "quadratic:  f(p) + ∇f(p) · d + ½ dᵀ H(p) d" }),
       el("p", { class: "note", text: "The linear model's contours are straight lines perpendicular to ∇f; the quadratic model's are ellipses (H positive or negative definite) or hyperbolas (a saddle). Both are tg.taylor(f, p, 1) and tg.taylor(f, p, 2)." })),
  );
  return two;
}

function drawTwo(a) {
  setInput(ui.expr2, a.expr);
  setInput(ui.preset2, PRESETS_2D.some(([v]) => v === a.expr) ? a.expr : "");
  setInput(ui.point2, pt(a.point));
  ui.value2.textContent = num(a.value);
  ui.gradient2.textContent = pt(a.gradient);
  ui.hessian2.textContent = `${pt(a.hessian[0])}; ${pt(a.hessian[1])}`;
  ui.note2.textContent = a.note;
  ui.caption2.textContent = `f(x, y) = ${a.expr} near p = (${short(value(a.point[0]))}, ${short(value(a.point[1]))}): f's contours and its Taylor models. Click to move p.`;
  drawMap(a);
}

function drawMap(a) {
  const p = ui.map;
  p.setDomain(a.domain);
  p.clear();
  p.heatmap(a.grid, { palette: palettes.landscape });
  p.contours(a.grid, contourLevels(a.grid, 12), { colour: "rgba(255,255,255,0.45)", width: 1 });
  const [px, py] = a.point.map(value);
  circle(p, [px, py], a.radius);
  if (ui.showLinear.checked) { dashedContours(p, a.linear, a.levels, COLOURS.linear); }
  if (ui.showQuadratic.checked) { p.contours(a.quadratic, a.levels, { colour: COLOURS.quadratic, width: 3 }); }
  p.contours(a.grid, a.levels, { colour: "rgba(29,35,48,0.9)", width: 1.2 });  // on top: a match shows as dark on colour
  p.axes({ xlabel: "x", ylabel: "y", grid: false, zero: false });
  if (a.arrow) { p.arrow(a.arrow[0], a.arrow[1], { colour: COLOURS.arrow, width: 2.5 }); }
  p.dot([px, py], { r: 5, fill: "#b42318" });
  p.label("p", [px, py]);
}

/** The dotted circle of radius r (domain units; the map's axes have equal scales) around c. */
function circle(p, c, r) {
  const ctx = p.ctx;
  ctx.strokeStyle = "rgba(255,255,255,0.9)"; ctx.lineWidth = 1.5; ctx.setLineDash([2, 4]);
  ctx.beginPath(); ctx.arc(p.X(c[0]), p.Y(c[1]), (r / (p.domain[1] - p.domain[0])) * p.width, 0, 2 * Math.PI); ctx.stroke();
  ctx.setLineDash([]);
}

function dashedContours(p, grid, levels, colour) {
  p.ctx.setLineDash([6, 4]);
  p.contours(grid, levels, { colour, width: 2 });
  p.ctx.setLineDash([]);
}
