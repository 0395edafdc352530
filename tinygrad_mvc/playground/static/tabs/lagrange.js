// The Lagrange tab: contours of f(x, y), the constraint curve g(x, y) = 0, the stationary points the server
// solves for (tg.optimize.lagrange_multipliers) and ∇f, ∇g at the cursor. The browser only draws what it is sent.
import { call } from "../lib/api.js";
import { el, field, select, input, button, readout, output, num, pt, short } from "../lib/ui.js";
import { Plot, contourLevels, palettes } from "../lib/plot.js";

// [value, label, f, g, domain]
const PRESETS = [
  ["bump", "x·exp(−x²−y²) on the unit circle", "x*exp(-(x**2 + y**2))", "x**2 + y**2 - 1", [-2, 2, -2, 2]],
  ["line", "x + y on the unit circle", "x + y", "x**2 + y**2 - 1", [-2, 2, -2, 2]],
  ["course", "x²y on the circle x² + y² = 3", "x**2*y", "x**2 + y**2 - 3", [-2.5, 2.5, -2.5, 2.5]],
  ["ellipse", "xy on an ellipse", "x*y", "x**2/4 + y**2 - 1", [-3, 3, -2, 2]],
  ["parabola", "distance² to (1, 0) on y = x²", "(x - 1)**2 + y**2", "y - x**2", [-2, 2, -1, 3]],
  ["waves", "sin 3x · cos 3y on a circle", "sin(3*x)*cos(3*y)", "x**2 + y**2 - 2", [-2, 2, -2, 2]],
];
const GRID = 81;           // map resolution sent for f and g (the server caps it)
const MAP_SIDE = 500;      // the map's longer side, in CSS pixels; one unit is as long on both axes
const ARROW_SHARE = 0.13;  // both cursor arrows are this share of the shorter side long (directions exact)
const KINDS = {            // marker and colour of each classification, as in tg.viz.plot_lagrange
  maximum: { shape: "up", colour: "#e03131", label: "maximum" },
  minimum: { shape: "down", colour: "#1c7ed6", label: "minimum" },
  saddle: { shape: "diamond", colour: "#f08c00", label: "saddle" },
  isolated: { shape: "square", colour: "#868e96", label: "isolated" },
  degenerate: { shape: "cross", colour: "#212529", label: "degenerate (test inconclusive)" },
};
const GRAD_F = "#d6336c", GRAD_G = "#1d4ed8", CURVE = "#ffffff";

let ui = null, plot = null;
let applied = null;          // the f, g and domain the server last accepted: what the map shows
let mapData = null, points = [], cursorData = null;
let applySeq = 0, applying = Promise.resolve();
let cursorBusy = false, cursorQueued = null;

export function build(panel) {
  const preset = select("lagrange-preset", [...PRESETS.map(([v, label]) => [v, label]), ["custom", "your own f and g"]],
                        PRESETS[0][0]);
  const f = input("lagrange-f", "text", PRESETS[0][2], { spellcheck: false, autocomplete: "off" });
  const g = input("lagrange-g", "text", PRESETS[0][3], { spellcheck: false, autocomplete: "off" });
  const bounds = ["xmin", "xmax", "ymin", "ymax"].map((name, k) =>
    input(`lagrange-${name}`, "number", PRESETS[0][4][k], { step: "any", "aria-label": name }));
  const solveButton = button("lagrange-solve", "solve: find the stationary points", solve);
  const canvas = el("canvas", { testid: "lagrange-map" });
  ui = {
    preset, f, g, bounds, canvas,
    // API.md §12: each stationary point is one element carrying data-testid="lagrange-points"
    points: el("ol", { testid: "lagrange-point-list", class: "lg-points" }),
    solveNote: el("p", { class: "note", testid: "lagrange-solve-note", text: "" }),
    legend: el("div", { class: "lg-legend" }),
    cursor: output("lagrange-cursor"), fAt: output("lagrange-cursor-f"), gAt: output("lagrange-cursor-g"),
    gradF: output("lagrange-grad-f"), gradG: output("lagrange-grad-g"),
    parallel: el("p", { class: "lg-parallel", testid: "lagrange-parallel", text: "" }),
  };
  preset.addEventListener("change", choosePreset);
  for (const node of [f, g, ...bounds]) {
    node.addEventListener("change", () => { preset.value = "custom"; applying = apply(); });
  }
  plot = new Plot(canvas, PRESETS[0][4], { width: MAP_SIDE, height: MAP_SIDE });
  canvas.addEventListener("mousemove", (event) => moveCursor(plot.at(event)));

  const controls = el("div", { class: "controls" },
    el("h2", { text: "Lagrange multipliers" }),
    el("p", { class: "note", text: "Stationary points of f on the curve g = 0, where ∇f = λ∇g." }),
    field("example", preset),
    field("f(x, y)", f, "the function; e.g. x*exp(-(x**2 + y**2))"),
    field("g(x, y) = 0", g, "the constraint curve; e.g. x**2 + y**2 - 1"),
    el("div", { class: "field" }, el("span", { text: "domain: x from, to; y from, to" }),
       el("div", { class: "lg-domain" }, ...bounds)),
    solveButton,
    el("p", { class: "note", text: "Solving runs Newton's method on the Lagrangian (tg.optimize.lagrange_multipliers) "
      + "from 16 to 48 starts spread along the curve (more while new points keep turning up), and keeps each "
      + "distinct point it converges to." }));
  const map = el("div", { class: "figure lg-map" },
    el("p", { class: "caption", text: "f as colour and contour lines (dark low, yellow high, shaded by rank), the constraint curve "
      + "g = 0 in white, the stationary points by kind. Move the mouse: ∇f and ∇g at the cursor, drawn at one "
      + "length (their directions are exact)." }),
    canvas, ui.legend);
  const side = el("div", { class: "figure lg-side" },
    el("p", { class: "caption", text: "Stationary points found (x, y), with their kind and λ in ∇f = λ∇g" }),
    ui.points, ui.solveNote,
    el("p", { class: "caption lg-cursor-title", text: "At the cursor (from the engine)" }),
    readout([["point", ui.cursor], ["f", ui.fAt], ["g", ui.gAt], ["∇f", ui.gradF], ["∇g", ui.gradG]]),
    ui.parallel);
  panel.append(controls, el("div", { class: "figures" }, map, side));
}

export function show(first) {
  if (first) { applying = apply(); }  // the first example's map; solving waits for the student
}

function current() {
  return { f: ui.f.value, g: ui.g.value, domain: ui.bounds.map((b) => b.value) };
}

function same(a, b) {
  return a && b && a.f === b.f && a.g === b.g && a.domain.every((v, k) => v === b.domain[k]);
}

function choosePreset() {
  const chosen = PRESETS.find(([v]) => v === ui.preset.value);
  if (!chosen) { return; }
  ui.f.value = chosen[2]; ui.g.value = chosen[3];
  chosen[4].forEach((v, k) => { ui.bounds[k].value = String(v); });
  applying = apply();
  applying.then((ok) => { if (ok) { solve(); } });
}

/** Send the inputs; draw the new map if the server accepts them. Resolves true when it did. */
async function apply() {
  const want = current();
  const seq = ++applySeq;
  const data = await call("lagrange", "map", { ...want, n: GRID });
  if (seq !== applySeq || !data) { return false; }  // superseded by a newer change, or refused: nothing changes
  applied = want; mapData = data; points = []; cursorData = null;
  showPoints(null);
  showCursor(null);
  fitCanvas(data.domain);
  draw();
  return true;
}

async function solve() {
  await applying;
  if (!applied || !same(current(), applied)) { return; }  // the last change was refused: its message stays
  const seq = applySeq;
  const data = await call("lagrange", "solve", applied);
  if (!data || seq !== applySeq) { return; }
  points = data.points;
  showPoints(data);
  draw();
}

function moveCursor(p) {
  if (!applied) { return; }
  cursorQueued = p;
  if (!cursorBusy) { pumpCursor(); }
}

// One cursor request in flight at a time; a move meanwhile replaces the queued point, so the latest is sent next.
async function pumpCursor() {
  cursorBusy = true;
  try {
    while (cursorQueued) {
      const at = cursorQueued, seq = applySeq;
      cursorQueued = null;
      const data = await call("lagrange", "cursor", { f: applied.f, g: applied.g, at }, { quiet: true });
      if (data && seq === applySeq) { cursorData = data; showCursor(data); draw(); }
    }
  } finally {
    cursorBusy = false;
  }
}

function fitCanvas(domain) {
  const [a, b, c, d] = domain;
  const ratio = (b - a) / (d - c);
  const width = ratio >= 1 ? MAP_SIDE : Math.round(MAP_SIDE * ratio);
  const height = ratio >= 1 ? Math.round(MAP_SIDE / ratio) : MAP_SIDE;
  plot.resize(width, height);
  plot.setDomain(domain);
}

function showPoints(data) {
  ui.points.replaceChildren();
  ui.solveNote.textContent = data ? data.note : "press solve to find the stationary points";
  for (const p of data ? data.points : []) {
    const kind = KINDS[p.kind] ? p.kind : "other";
    ui.points.append(el("li", { testid: "lagrange-points", class: `lg-kind-${kind}`, "data-lambda": num(p.lambda),
                                "data-kind": p.kind,
                                title: `f = ${num(p.f)}`, text: pt(p.x) }));
  }
}

function showCursor(data) {
  ui.cursor.textContent = data ? pt(data.at) : "";
  ui.fAt.textContent = data ? num(data.f) : "";
  ui.gAt.textContent = data ? num(data.g) : "";
  ui.gradF.textContent = data ? pt(data.grad_f) : "";
  ui.gradG.textContent = data ? pt(data.grad_g) : "";
  ui.parallel.textContent = data ? data.note : "move the mouse over the map";
  ui.parallel.classList.toggle("lg-holds", Boolean(data && data.parallel));
}

function draw() {
  if (!mapData) { return; }
  plot.clear();
  const [lo, hi] = mapData.f_range;
  plot.heatmap(mapData.f, { lo, hi, palette: byRank(mapData.colour_levels, lo, hi) });
  plot.contours(mapData.f, contourLevels(mapData.f, 14), { colour: "rgba(255,255,255,0.45)" });
  plot.axes();
  plot.contours(mapData.g, [0], { colour: "#111111", width: 5 });
  plot.contours(mapData.g, [0], { colour: CURVE, width: 2.5 });
  for (const p of points) { marker(p.x, KINDS[p.kind]); }
  if (cursorData) { cursorArrows(cursorData); }
  drawLegend();
}

function marker(p, kind = { shape: "circle", colour: "#7048e8" }) {
  const ctx = plot.ctx, x = plot.X(p[0]), y = plot.Y(p[1]), r = 7;
  ctx.beginPath();
  if (kind.shape === "up") { ctx.moveTo(x, y - r); ctx.lineTo(x + r, y + r * 0.75); ctx.lineTo(x - r, y + r * 0.75); }
  else if (kind.shape === "down") { ctx.moveTo(x, y + r); ctx.lineTo(x + r, y - r * 0.75); ctx.lineTo(x - r, y - r * 0.75); }
  else if (kind.shape === "diamond") { ctx.moveTo(x, y - r); ctx.lineTo(x + r, y); ctx.lineTo(x, y + r); ctx.lineTo(x - r, y); }
  else if (kind.shape === "square") { ctx.rect(x - r * 0.8, y - r * 0.8, r * 1.6, r * 1.6); }
  else if (kind.shape === "cross") {
    ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r); ctx.moveTo(x + r, y - r); ctx.lineTo(x - r, y + r);
    ctx.strokeStyle = "#ffffff"; ctx.lineWidth = 5; ctx.stroke();
    ctx.strokeStyle = kind.colour; ctx.lineWidth = 2.5; ctx.stroke();
    return;
  } else { ctx.arc(x, y, r * 0.8, 0, 2 * Math.PI); }
  ctx.closePath();
  ctx.fillStyle = kind.colour; ctx.fill();
  ctx.strokeStyle = "#ffffff"; ctx.lineWidth = 1.8; ctx.stroke();
}

function cursorArrows(data) {
  const [a, b, c, d] = plot.domain;
  const length = ARROW_SHARE * Math.min(b - a, d - c);
  plot.dot(data.at, { r: 3.5, fill: "#111111" });
  for (const [v, colour, name] of [[data.grad_g, GRAD_G, "∇g"], [data.grad_f, GRAD_F, "∇f"]]) {
    const norm = Math.hypot(v[0], v[1]);
    if (!(norm > 0) || !Number.isFinite(norm)) { continue; }
    const tip = (k) => [data.at[0] + (k * length * v[0]) / norm, data.at[1] + (k * length * v[1]) / norm];
    plot.arrow(data.at, tip(1), { colour: "#ffffff", width: 6, head: 12 });
    plot.arrow(data.at, tip(1), { colour, width: 3, head: 10 });
    // the names sit beside the tips, ∇f on one side and ∇g on the other: parallel arrows keep them apart
    const side = name === "∇f" ? 1 : -1, [dx, dy] = [-v[1] / norm, -v[0] / norm];
    plot.label(name, tip(1.15), { colour, align: "center", dx: side * 14 * dx, dy: 5 + side * 14 * dy,
                                  font: "bold 13px 'DejaVu Sans', sans-serif" });
  }
}

// Colour by rank: heatmap hands the palette t = (f - lo) / (hi - lo); the shade is f's place among the
// server's quantiles, so each shade covers about the same share of the map.
function byRank(levels, lo, hi) {
  const last = levels.length - 1;
  if (last < 1) { return palettes.landscape; }
  return (t) => {
    const v = lo + t * (hi - lo);
    let k = 0;
    while (k < last - 1 && levels[k + 1] < v) { k++; }
    const span = levels[k + 1] - levels[k];
    const within = span > 0 ? Math.min(1, Math.max(0, (v - levels[k]) / span)) : 0;
    return palettes.landscape((k + within) / last);
  };
}

function drawLegend() {
  const levels = mapData.colour_levels;
  const bar = el("canvas", { class: "lg-bar", width: 160, height: 12 });
  const ctx = bar.getContext("2d");
  for (let i = 0; i < 160; i++) {
    const [r, g, b] = palettes.landscape(i / 159);
    ctx.fillStyle = `rgb(${r},${g},${b})`; ctx.fillRect(i, 0, 1, 12);
  }
  const at = (share) => short(levels[Math.round(share * (levels.length - 1))]);
  const scale = levels.length ? el("span", { class: "lg-scale" }, bar,
    el("span", { class: "lg-ticks" }, ...[0, 0.5, 1].map((s) => el("span", { text: at(s) })))) : bar;
  const item = (swatch, text) => el("span", { class: "lg-item" }, swatch, el("span", { text }));
  const kinds = [...new Set(points.map((p) => p.kind))].filter((k) => KINDS[k]);
  ui.legend.replaceChildren(
    item(scale, "f by rank: each shade covers as much of the map (ticks: f's least, median and greatest value)"),
    item(el("span", { class: "lg-swatch lg-curve" }), "g = 0"),
    ...kinds.map((k) => item(el("span", { class: `lg-swatch lg-mark lg-kind-${k}` }), KINDS[k].label)),
    item(el("span", { class: "lg-swatch lg-arrow-f" }), "∇f at the cursor"),
    item(el("span", { class: "lg-swatch lg-arrow-g" }), "∇g at the cursor"));
}
