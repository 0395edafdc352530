// The Sandpit tab: a landscape f(x, y) as a heat map with contours, a start placed by a click, a descent path
// (gradient descent, momentum, Newton or Adam, run by the server), the gradient and the Hessian's
// eigen-directions at the current point, and a game: find the lowest point in few clicks with the map hidden.
// Every number comes from the server (tabs/sandpit.py); this module only draws them.
import { call, showMessage } from "../lib/api.js";
import { button, el, field, input, num, output, pt, put, readout, select, short } from "../lib/ui.js";
import { Plot, contourLevels, palettes, value } from "../lib/plot.js";

const TAB = "sandpit";
const SIZE = 480;            // the map's longer side, in CSS pixels
const ANIMATION_MS = 800;    // the longest a path takes to draw itself
const SAND = "#eadcb8";      // the hidden landscape of the game
const COLOURS = { path: "#ffffff", halo: "#1d2330", arrow: "#e0245e", up: "#111827", down: "#ff8c1a" };
const METHOD_NOTES = {
  gd: "x ← x − lr·∇f(x), until max |∇f| ≤ 1e-8 (at most 1000 steps): tg.optimize.gradient_descent.",
  momentum: "v ← 0.9·v − lr·∇f(x), x ← x + v: gradient_descent with momentum=0.9.",
  newton: "Newton ignores the step size: it solves H·d = −∇f (Hessian shifted where needed) and searches "
    + "along d: tg.optimize.newton_minimize.",
  adam: "tg.optim.Adam with this lr, stepped until max |∇f| ≤ 1e-8 or 1000 steps (gradient descent's rule).",
};

const ui = {};
const view = { presets: {}, land: null, run: null, at: null, index: 0, progress: 1, game: null, version: 0 };

// Requests go one after another, so answers arrive in the order the student acted.
let queue = Promise.resolve();
function ask(action, body) {
  const answer = queue.then(() => call(TAB, action, body));
  queue = answer.catch(() => null);
  return answer;
}

// ------------------------------------------------------------------------------------------------ building

export function build(panel) {
  ui.preset = select("sandpit-preset", [], undefined);
  ui.expr = input("sandpit-expr", "text", "", { spellcheck: "false", autocomplete: "off" });
  ui.apply = button("sandpit-apply", "apply f", () => applyExpr(), true);
  ui.domain = input("sandpit-domain", "text", "", { spellcheck: "false", autocomplete: "off" });
  ui.method = select("sandpit-method", [["gd", "gradient descent"], ["momentum", "momentum (0.9)"],
    ["newton", "Newton"], ["adam", "Adam"]], "gd");
  ui.lr = input("sandpit-lr", "number", "0.1", { step: "any", min: "0" });
  ui.methodNote = el("span", { class: "note" });
  ui.lrNote = el("span", { class: "note" });
  ui.start = output("sandpit-start");
  ui.run = button("sandpit-run", "run", () => run());
  ui.game = el("input", { type: "checkbox", testid: "sandpit-game" });

  ui.steps = output("sandpit-steps");
  ui.position = output("sandpit-position");
  ui.value = output("sandpit-value");
  ui.converged = output("sandpit-converged");
  ui.result = output("sandpit-result");

  ui.iterate = input("sandpit-iterate", "range", 0, { min: 0, max: 0, step: 1 });
  ui.iterateLabel = output("sandpit-iterate-label");
  ui.at = output("sandpit-at");
  ui.atValue = output("sandpit-at-value");
  ui.gradient = output("sandpit-gradient");
  ui.hessian = output("sandpit-hessian");
  ui.eigen = output("sandpit-eigenvalues");
  ui.curving = el("span", { class: "note" });
  ui.gradientNote = el("span", { class: "note" });

  ui.clicks = output("sandpit-clicks");
  ui.status = output("sandpit-game-status");
  ui.dip = output("sandpit-dip");
  ui.dipValue = output("sandpit-dip-value");
  ui.minimum = output("sandpit-minimum");

  ui.map = el("canvas", { testid: "sandpit-map", "aria-label": "the landscape: click to place the start" });
  ui.plot = new Plot(ui.map, [-1, 1, -1, 1], { width: SIZE, height: SIZE });
  ui.background = new Plot(document.createElement("canvas"), [-1, 1, -1, 1], { width: SIZE, height: SIZE });
  ui.legend = el("canvas", { testid: "sandpit-legend", class: "sandpit-legend" });
  ui.values = el("canvas", { testid: "sandpit-values" });
  ui.chart = new Plot(ui.values, [0, 1, 0, 1], { width: 300, height: 130 });
  ui.caption = el("p", { class: "caption" });
  ui.chartCaption = el("p", { class: "caption", text: "f at each iterate of the path (● the current point)" });

  panel.classList.add("sandpit");
  panel.append(controls(), mapFigure(), sideColumn());
  wire();
  loadPresets();
}

function controls() {
  const gameLabel = el("label", { class: "sandpit-check" }, ui.game,
    el("span", { text: "play: find the lowest point in few clicks (the map is hidden)" }));
  return el("div", { class: "controls" },
    el("h2", { text: "Landscape" }),
    field("preset", ui.preset),
    field("f(x, y) =", ui.expr, "a formula in x and y: + − * / **, sin, exp, log, sqrt, …"),
    ui.apply,
    field("map (xmin xmax ymin ymax)", ui.domain),
    el("h2", { text: "Descent" }),
    field("method", ui.method), ui.methodNote,
    field("step size lr", ui.lr), ui.lrNote,
    readout([["start", ui.start]]),
    el("span", { class: "note", text: "click the map to move the start" }),
    ui.run,
    el("h2", { text: "Game" }),
    gameLabel,
    readout([["clicks", ui.clicks], ["status", ui.status], ["last dip", ui.dip], ["f there", ui.dipValue],
      ["lowest point", ui.minimum]]));
}

function mapFigure() {
  ui.key = el("div", { class: "sandpit-key" },
    swatch("line", COLOURS.path, "path (start ○, end ●)"), swatch("arrow", COLOURS.arrow, "−∇f: downhill"),
    swatch("dash", COLOURS.up, "curving up (λ > 0)"), swatch("dash", COLOURS.down, "curving down (λ < 0)"));
  ui.gameKey = el("div", { class: "sandpit-key", hidden: true },
    swatch("dot", "#1d2330", "a dip, labelled with f there (numbered once found)"),
    swatch("arrow", COLOURS.arrow, "−∇f: downhill from the dip"), swatch("star", "#ffd400", "the lowest point"));
  ui.legendBox = el("div", { class: "sandpit-legend-box" }, el("span", { class: "note", text: "f(x, y)" }), ui.legend);
  return el("div", { class: "figure sandpit-map-figure" }, ui.caption,
    el("div", { class: "sandpit-map-row" }, ui.map, ui.legendBox), ui.key, ui.gameKey);
}

function swatch(kind, colour, label) {
  return el("span", { class: "sandpit-swatch" },
    el("span", { class: `sandpit-mark ${kind}`, style: `--c: ${colour}`, text: kind === "star" ? "★" : "" }), label);
}

function sideColumn() {
  return el("div", { class: "sandpit-side" },
    el("div", { class: "figure" }, el("p", { class: "caption", text: "The run" }),
      readout([["steps n", ui.steps], ["iterate n", ui.position], ["f there", ui.value],
        ["converged", ui.converged], ["why it stopped", ui.result]])),
    el("div", { class: "figure" }, el("p", { class: "caption", text: "At the current point" }),
      field("current point on the path", ui.iterate), ui.iterateLabel,
      readout([["point", ui.at], ["f", ui.atValue], ["∇f", ui.gradient], ["Hessian", ui.hessian],
        ["eigenvalues", ui.eigen]]), ui.gradientNote, ui.curving),
    el("div", { class: "figure" },
      ui.chartCaption, ui.values));
}

function wire() {
  ui.preset.addEventListener("change", () => choosePreset());
  ui.expr.addEventListener("change", () => applyExpr());
  ui.domain.addEventListener("change", () => applyExpr(ui.domain.value));
  ui.method.addEventListener("change", () => { noteMethod(); if (!view.game) { run(); } });
  ui.lr.addEventListener("change", () => { if (!view.game) { run(); } });
  ui.iterate.addEventListener("input", () => inspect(Number(ui.iterate.value)));
  ui.game.addEventListener("change", () => toggleGame());
  ui.plot.onClick((p) => clickMap(p));
  noteMethod();
}

export function show() { draw(); }

// ------------------------------------------------------------------------------------------------ actions

async function loadPresets() {
  const data = await ask("presets", {});
  if (!data) { return; }
  for (const p of data.presets) {
    view.presets[p.name] = p;
    ui.preset.append(el("option", { value: p.name, text: p.label }));
  }
  ui.preset.append(el("option", { value: "custom", text: "(your own f)", disabled: true }));
  ui.preset.value = data.default;
  await choosePreset();
}

async function choosePreset() {
  const preset = view.presets[ui.preset.value];
  if (!preset) { return; }
  ui.expr.value = preset.formula;  // at once, so the field shows the preset's formula while the map loads
  const data = await ask("landscape", { preset: preset.name });
  if (data) { newLand(data); }
}

async function applyExpr(domain) {
  const body = { expr: ui.expr.value };
  if (domain !== undefined) { body.domain = domain; }
  const data = await ask("landscape", body);
  if (data) { newLand(data); }
}

function newLand(data) {
  view.version += 1;
  view.land = { ...data, ...colouring(data.grid) };
  view.run = null;
  view.game = null;
  ui.game.checked = false;
  ui.expr.value = data.expr;
  ui.preset.value = data.preset || "custom";
  ui.domain.value = data.domain.map(num).join(" ");
  const preset = view.presets[data.preset];
  ui.lrNote.textContent = preset ? `a step size that works here: ${num(preset.lr)}` : "";
  resizeMap(data.domain);
  paintBackground();
  for (const node of [ui.steps, ui.position, ui.value, ui.converged, ui.result]) { node.textContent = ""; }
  setStart(data.start, data.at);
  resetGameReadouts();
  draw();
}

async function clickMap(p) {
  if (!view.land) { return; }
  const [a, b, c, d] = view.land.domain;
  const q = [Math.min(b, Math.max(a, p[0])), Math.min(d, Math.max(c, p[1]))];
  if (view.game) { await dip(q); return; }  // once won, the server says how to go back
  const data = await ask("start", { start: q });
  if (!data) { return; }
  view.run = null;
  for (const node of [ui.steps, ui.position, ui.value, ui.converged, ui.result]) { node.textContent = ""; }
  setStart(data.start, data.at);
  draw();
}

function setStart(start, at) {
  view.land.start = start;
  lastRun = null;  // the server dropped its path: a run from here must be asked for again
  put(ui.start, start);
  setPathControls();
  showLocal(at, null);
}

// The same run asked twice in a row (a change of lr, then a click on run) is sent once and drawn again.
let lastRun = null;
async function run() {
  if (!view.land) { return; }
  const body = { method: ui.method.value, lr: ui.lr.value, start: view.land.start };
  const key = JSON.stringify([view.version, body]);
  const same = lastRun && lastRun.key === key;
  const answer = same ? lastRun.answer : ask("run", body);
  if (!same) { lastRun = { key, answer }; }
  const data = await answer;
  if (!data) { if (lastRun && lastRun.answer === answer) { lastRun = null; } return; }
  showRun(data);
}

function showRun(data) {
  put(ui.steps, data.n);
  put(ui.position, data.position);
  put(ui.value, data.value);
  ui.converged.textContent = String(data.converged);
  ui.result.textContent = data.message;
  view.run = data;
  view.land.start = data.start;
  put(ui.start, data.start);
  setPathControls();
  showLocal(data.at, data.iterates[data.iterates.length - 1]);
  animate();
}

// Slider moves are sent one at a time; only the latest position is asked for after each answer.
let wanted = null, asking = false;
async function inspect(index) {
  wanted = index;
  if (asking || !view.run) { return; }
  asking = true;
  try {
    while (wanted !== null) {
      const i = wanted; wanted = null;
      const data = await ask("inspect", { index: i });
      if (data && view.run) { view.index = data.index; showLocal(data.at, data.iterate); view.progress = 1; draw(); }
    }
  } finally { asking = false; }
}

function setPathControls() {
  const points = view.run ? view.run.path.length : 1;
  ui.iterate.max = String(points - 1);
  ui.iterate.value = String(points - 1);
  view.index = points - 1;
}

function showLocal(at, iterate) {
  view.at = at;
  const n = view.run ? view.run.n : 0;
  ui.iterateLabel.textContent = view.run ? `iterate ${iterate} of ${n}` : "the start (no path yet)";
  put(ui.at, at.point);
  put(ui.atValue, at.value);
  put(ui.gradient, at.gradient);
  ui.gradientNote.textContent = at.stationary ? "∇f ≈ 0 here (max |∇f| ≤ 1e-8): a stationary point" : "";
  const H = at.hessian;
  ui.hessian.textContent = `${num(H[0][0])}, ${num(H[0][1])}; ${num(H[1][0])}, ${num(H[1][1])}`;
  put(ui.eigen, at.eigenvalues);
  const [u, w] = at.curving;
  ui.curving.textContent = u === w ? `curving ${u} in every direction` : `curving ${u} along one eigen-direction, `
    + `${w} along the other${u !== "flat" && w !== "flat" ? ": a saddle" : ""}`;
}

// ------------------------------------------------------------------------------------------------ the game

function playing() { return Boolean(view.game && !view.game.won); }

async function toggleGame() {
  const on = ui.game.checked;
  const data = await ask("game", { on });
  if (!data) { ui.game.checked = !on; return; }
  view.game = on ? { dips: [], won: false, minima: null, tolerance: data.tolerance } : null;
  resetGameReadouts();
  if (on) {
    ui.status.textContent = "playing";
    showMessage("The landscape is hidden: click the map to dip there and read f; find the lowest point.", "info");
  }
  ui.run.disabled = Boolean(view.game);
  draw();
}

async function dip(p) {
  const data = await ask("dip", { point: p });
  if (!data || !view.game) { return; }
  view.game.dips.push(data);
  put(ui.clicks, data.clicks);
  put(ui.dip, data.point);
  put(ui.dipValue, data.value);
  if (data.won) {
    view.game.won = true;
    view.game.minima = data.minima;
    ui.status.textContent = "won";
    ui.minimum.textContent = data.minima.map(pt).join("; ");
    showMessage(`Found in ${data.clicks} click${data.clicks === 1 ? "" : "s"}: the lowest point is at `
      + `${data.minima.map((q) => `(${short(q[0])}, ${short(q[1])})`).join(", ")}, f = ${short(data.minimum_value)}.`,
    "info");
  }
  draw();
}

function resetGameReadouts() {
  for (const node of [ui.clicks, ui.status, ui.dip, ui.dipValue, ui.minimum]) { node.textContent = ""; }
  if (view.game) { put(ui.clicks, 0); }
  ui.run.disabled = Boolean(view.game);
}

// ------------------------------------------------------------------------------------------------ drawing

/** Colours by rank (each colour band holds as many grid cells), so steep and flat ground both show. */
function colouring(grid) {
  const sorted = grid.flat().map(value).filter(Number.isFinite).sort((p, q) => p - q);
  const rank = (v) => {
    if (!Number.isFinite(v)) { return v; }
    let lo = 0, hi = sorted.length - 1;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (sorted[mid] < v) { lo = mid + 1; } else { hi = mid; } }
    return sorted.length > 1 ? lo / (sorted.length - 1) : 0.5;
  };
  return { ranks: grid.map((row) => row.map((v) => rank(value(v)))), sorted, levels: contourLevels(grid, 14) };
}

function resizeMap(domain) {
  const [a, b, c, d] = domain;
  const aspect = Math.min(3, Math.max(1 / 3, (d - c) / (b - a)));  // equal scales, within 1:3 and 3:1
  const width = aspect > 1 ? Math.round(SIZE / aspect) : SIZE, height = aspect > 1 ? SIZE : Math.round(SIZE * aspect);
  for (const plot of [ui.plot, ui.background]) {
    if (plot.width !== width || plot.height !== height) { plot.resize(width, height); }
    plot.setDomain(domain);
  }
  drawLegend(height);
}

function paintBackground() {
  const land = view.land, bg = ui.background;
  bg.heatmap(land.ranks, { lo: 0, hi: 1, palette: palettes.landscape });
  bg.contours(land.grid, land.levels, { colour: "rgba(255,255,255,0.45)" });
  bg.axes();
}

function drawLegend(height) {
  const canvas = ui.legend, ratio = window.devicePixelRatio || 1, width = 78;
  canvas.width = width * ratio; canvas.height = height * ratio;
  canvas.style.width = `${width}px`; canvas.style.height = `${height}px`;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const land = view.land;
  if (!land || !land.sorted.length || playing()) { return; }
  const top = 8, bottom = height - 8, bar = 14;
  for (let y = top; y < bottom; y++) {
    const [r, g, b] = palettes.landscape(1 - (y - top) / (bottom - top));
    ctx.fillStyle = `rgb(${r},${g},${b})`; ctx.fillRect(2, y, bar, 1);
  }
  ctx.fillStyle = "#1d2330"; ctx.font = "11px 'DejaVu Sans', sans-serif"; ctx.textBaseline = "middle";
  const s = land.sorted;
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    const y = bottom - t * (bottom - top);
    ctx.fillRect(bar + 2, y, 4, 1);
    ctx.fillText(short(s[Math.round(t * (s.length - 1))], 3), bar + 9, y);
  }
}

function draw() {
  if (!view.land) { return; }
  const plot = ui.plot;
  const hidden = playing();
  ui.map.classList.toggle("hidden-land", hidden);
  ui.legendBox.style.visibility = hidden ? "hidden" : "visible";
  ui.key.hidden = Boolean(view.game);
  ui.gameKey.hidden = !view.game;
  drawLegend(plot.height);
  if (hidden) {
    plot.clear(SAND);
    plot.axes();
  } else {
    plot.ctx.drawImage(ui.background.canvas, 0, 0, plot.width, plot.height);
  }
  if (view.game) { drawGame(plot); } else { drawDescent(plot); }
  ui.map.dataset.drawn = view.progress >= 1 ? "all" : "partly";
  drawChart();
  ui.caption.textContent = caption();
}

function caption() {
  if (playing()) {
    return "The game: the landscape is hidden. Each click dips there and shows f (and an arrow downhill); "
      + "the dip that lands close enough to the lowest point wins.";
  }
  if (view.game) {
    return "Found it! The landscape revealed: your dips (numbered) and the lowest point (★). "
      + "Untick play to descend again.";
  }
  return "f(x, y) over the map: colour and contour lines by level (low is dark). Click to place the start; "
    + "run draws the path. At the current point: −∇f and the Hessian's eigen-directions, each as long as its |λ|.";
}

function drawDescent(plot) {
  const run = view.run;
  if (run) {
    const shown = Math.max(1, Math.ceil(view.progress * run.path.length));
    const path = run.path.slice(0, shown);
    plot.line(path, { colour: COLOURS.halo, width: 4 });
    plot.line(path, { colour: COLOURS.path, width: 2 });
    if (run.path.length <= 120) { for (const p of path) { plot.dot(p, { r: 2, fill: COLOURS.path, stroke: null }); } }
    plot.dot(run.path[0], { r: 5, fill: "rgba(0,0,0,0)", stroke: COLOURS.path, width: 2.5 });
    if (view.progress >= 1) { plot.dot(run.path[run.path.length - 1], { r: 5, fill: COLOURS.path, stroke: COLOURS.halo }); }
  } else {
    plot.dot(view.land.start, { r: 6, fill: "rgba(0,0,0,0)", stroke: COLOURS.path, width: 2.5 });
    plot.label("start", view.land.start, { dx: 8, dy: -8 });
  }
  if (view.at && view.progress >= 1) { drawLocal(plot, view.at); }
}

/** −∇f (direction only: its size is in the read-out) and the eigen-directions, as long as |λ| allows. */
function drawLocal(plot, at) {
  const [a, b, c, d] = plot.domain;
  const p = at.point.map(value), g = at.gradient.map(value);
  if (!(p[0] >= a && p[0] <= b && p[1] >= c && p[1] <= d)) {  // e.g. a diverged run: its numbers are read-outs
    plot.text("the current point is off the map", plot.width / 2, 18, { align: "center", colour: COLOURS.arrow });
    return;
  }
  const reach = 0.14 * Math.min(b - a, d - c);
  const lam = at.eigenvalues.map(value), vec = at.eigenvectors.map((row) => row.map(value));
  const big = Math.max(...lam.map(Math.abs));
  if (Number.isFinite(big) && big > 0) {
    for (let k = 0; k < 2; k++) {
      const len = reach * Math.max(0.2, Math.abs(lam[k]) / big);  // a floor, so a small |λ| still shows
      const u = [vec[0][k] * len, vec[1][k] * len];
      const colour = lam[k] < 0 ? COLOURS.down : COLOURS.up;
      const ends = [[p[0] - u[0], p[1] - u[1]], [p[0] + u[0], p[1] + u[1]]];
      plot.line(ends, { colour: "#ffffff", width: 4.5 });
      plot.line(ends, { colour, width: 2.5, dash: [6, 4] });
      const words = lam[k] > 0 ? "curving up" : lam[k] < 0 ? "curving down" : "flat";
      eigenLabel(plot, `λ = ${short(lam[k])} (${words})`, p, k ? ends : [ends[1], ends[0]], colour);
    }
  }
  const size = Math.hypot(g[0], g[1]);
  if (!at.stationary && Number.isFinite(size) && size > 0) {
    const q = [p[0] - (g[0] / size) * reach, p[1] - (g[1] / size) * reach];
    plot.arrow(p, q, { colour: "#ffffff", width: 5, head: 11 });
    plot.arrow(p, q, { colour: COLOURS.arrow, width: 2.5, head: 9 });
  }
  plot.dot(p, { r: 5, fill: COLOURS.arrow, stroke: "#ffffff", width: 2 });
}

/** A label just beyond one end of an eigen-line (the first of `ends` whose label fits inside the map). */
function eigenLabel(plot, text, p, ends, colour) {
  plot.ctx.font = "12px 'DejaVu Sans', sans-serif";
  const w = plot.ctx.measureText(text).width;
  const spots = ends.map((end) => {
    const px = plot.X(end[0]) - plot.X(p[0]), py = plot.Y(end[1]) - plot.Y(p[1]);
    const r = Math.hypot(px, py) || 1, push = 12 + Math.max(0, 26 - r);
    const x = plot.X(end[0]) + (px / r) * push, y = plot.Y(end[1]) + (py / r) * push + 4;
    const left = px < 0 ? x - w : x;
    return { x, y, align: px < 0 ? "right" : "left", fits: left >= 2 && left + w <= plot.width - 2 && y >= 14 && y <= plot.height - 3 };
  });
  const spot = spots.find((s) => s.fits) || spots[0];
  plot.text(text, spot.x, spot.y, { colour, align: spot.align });
}

function drawGame(plot) {
  const game = view.game;
  const [a, b] = plot.domain;
  const reach = 0.05 * (b - a);
  game.dips.forEach((d, k) => {
    const p = d.point, g = d.gradient.map(value), size = Math.hypot(g[0], g[1]);
    const down = Number.isFinite(size) && size > 0 ? [-g[0] / size, -g[1] / size] : [0, 0];
    if (down[0] || down[1]) {
      plot.arrow(p, [p[0] + down[0] * reach, p[1] + down[1] * reach], { colour: "#ffffff", width: 4, head: 8 });
      plot.arrow(p, [p[0] + down[0] * reach, p[1] + down[1] * reach], { colour: COLOURS.arrow, width: 2, head: 7 });
    }
    plot.dot(p, { r: 4, fill: "#1d2330", stroke: "#ffffff" });
    // the label on the side away from the arrow, so it never hides the direction
    plot.label(game.won ? `${k + 1}` : `f = ${short(value(d.value))}`, p,
      { align: down[0] > 0 ? "right" : "left", dx: down[0] > 0 ? -7 : 7, dy: down[1] > 0 ? 16 : -7 });
  });
  if (game.won) {
    for (const m of game.minima) { star(plot, m); }
  }
}

function star(plot, p) {
  const ctx = plot.ctx, x = plot.X(p[0]), y = plot.Y(p[1]);
  ctx.beginPath();
  for (let k = 0; k < 10; k++) {
    const r = k % 2 ? 4 : 10, t = -Math.PI / 2 + (k * Math.PI) / 5;
    ctx.lineTo(x + r * Math.cos(t), y + r * Math.sin(t));
  }
  ctx.closePath();
  ctx.fillStyle = "#ffd400"; ctx.strokeStyle = "#1d2330"; ctx.lineWidth = 1.5; ctx.fill(); ctx.stroke();
}

/** f at each kept iterate against its number; a log scale when f > 0 spans more than three decades. */
function drawChart() {
  const chart = ui.chart, run = view.run;
  chart.clear();
  if (!run) {
    ui.chartCaption.textContent = "f at each iterate of the path (● the current point)";
    chart.text("run the method to see f fall", 150, 70, { align: "center" });
    return;
  }
  const vals = run.values.map(value);
  const finite = vals.filter(Number.isFinite);
  const log = finite.length > 0 && Math.min(...finite) > 0 && Math.max(...finite) / Math.min(...finite) > 1e3;
  const ys = vals.map((v) => (log ? Math.log10(v) : v));
  const ok = ys.filter(Number.isFinite);
  let lo = ok.length ? Math.min(...ok) : 0, hi = ok.length ? Math.max(...ok) : 1;
  if (!(hi > lo)) { lo -= 1; hi += 1; }
  const pad = 0.08 * (hi - lo);
  const n = Math.max(1, run.n);
  chart.setDomain([-0.03 * n, 1.03 * n, lo - pad, hi + pad]);
  chart.axes({ xlabel: "iterate", ylabel: "", zero: false });
  ui.chartCaption.textContent = `${log ? "log₁₀ f" : "f"} at each iterate of the path (● the current point)`;
  chart.curve(run.iterates, ys, { colour: "#1f6feb", width: 2 });
  const i = Math.min(view.index, run.iterates.length - 1);
  if (Number.isFinite(ys[i])) { chart.dot([run.iterates[i], ys[i]], { r: 4, fill: COLOURS.arrow }); }
}

let frame = null;
function animate() {
  if (frame) { cancelAnimationFrame(frame); }
  const points = view.run.path.length;
  const duration = Math.min(ANIMATION_MS, 6 * points);
  const t0 = performance.now();
  const step = (now) => {
    view.progress = duration > 0 ? Math.min(1, (now - t0) / duration) : 1;
    draw();
    frame = view.progress < 1 ? requestAnimationFrame(step) : null;
  };
  view.progress = 0;
  ui.map.dataset.drawn = "partly";  // at once: a test waits for "all" before it looks
  frame = requestAnimationFrame(step);
}

function noteMethod() { ui.methodNote.textContent = METHOD_NOTES[ui.method.value] || ""; }
