// The Network tab: TensorFlow Playground on tinygrad_mvc. The server builds the data, trains the tg.nn MLP
// (tg.compile'd steps) and sends frames; this module only draws them: the decision boundary with the points,
// the loss curves, and the network with each neuron's output over the plane.
import { call, stream } from "../lib/api.js";
import { el, field, select, input, button, readout, output, put, num } from "../lib/ui.js";
import { Plot, palettes, value } from "../lib/plot.js";

const ORANGE = "#f59322", BLUE = "#0877bd";             // class 0 and class 1, the palette's two ends
const BOUNDARY_SIDE = 380, DIAGRAM = { width: 470, height: 400 }, CURVE = { width: 380, height: 150 };
const NODE = 34;                                        // largest thumbnail side in the diagram, CSS pixels
// The map's background: the diverging palette washed towards white, so the points (full colour) stand out on it.
const WASH = 0.55;
const washed = (t) => palettes.diverging(t).map((c) => Math.round(255 - (255 - c) * WASH));
// Colour tables (256 steps) of both palettes: a frame colours ~9000 cells, so each is one look-up.
const table = (palette) => Array.from({ length: 256 }, (_, k) => palette(k / 255));
const FULL = table(palettes.diverging), WASHED = table(washed);
const GREY = [200, 200, 200];
const offscreen = new Map();  // one canvas per image size, reused frame after frame

const SETTINGS = ["dataset", "noise", "split", "points", "seed", "hidden", "activation", "optimizer", "lr", "l2",
                  "batch"];           // the controls that configure (and so restart) the network, by body key

let ui = null, boundaryPlot = null, lossPlot = null;
let setup = null;          // the last configure/reset answer: settings, points, domain, input thumbnails
let last = null;           // the last frame drawn
let framesDrawn = 0;
let live = null;           // the open training stream, if playing
let playing = false;
let hits = [];             // what the diagram's hover can read: nodes and edges in canvas pixels
let queued = null, drawId = 0;  // the newest stream frame not drawn yet, and its animation-frame request

export function build(panel) {
  ui = {
    dataset: select("net-dataset", [["moons", "two moons"], ["circles", "circles"], ["xor", "XOR"],
                                    ["spiral", "spiral"]]),
    noise: input("net-noise", "number", "", { min: 0, max: 0.5, step: 0.05 }),
    split: input("net-split", "number", "", { min: 0.1, max: 0.9, step: 0.1 }),
    points: input("net-points", "number", "", { min: 10, step: 10 }),
    seed: input("net-seed", "number", "", { min: 0, step: 1 }),
    hidden: input("net-hidden", "text", "", { spellcheck: false, autocomplete: "off" }),
    activation: select("net-activation", [["tanh", "tanh"], ["relu", "ReLU"], ["sigmoid", "sigmoid"]]),
    optimizer: select("net-optimizer", [["sgd", "SGD"], ["momentum", "SGD with momentum 0.9"], ["adam", "Adam"]]),
    lr: input("net-lr", "number", "", { min: 0, max: 10, step: "any" }),
    l2: input("net-l2", "number", "", { min: 0, max: 10, step: "any" }),
    batch: input("net-batch", "number", "", { min: 1, step: 1 }),
    play: button("net-play", "Play", togglePlay),
    step: button("net-step", "Step", stepOnce, true),
    reset: button("net-reset", "Reset", resetNetwork, true),
    stepCount: output("net-step-count"), loss: output("net-loss"), accuracy: output("net-accuracy"),
    testLoss: output("net-test-loss"), testAccuracy: output("net-test-accuracy"),
    showTest: el("input", { type: "checkbox", testid: "net-show-test", checked: true }),
    boundary: el("canvas", { testid: "net-boundary", "data-frames": "0" }),
    diagram: el("canvas", { testid: "net-diagram" }),
    curve: el("canvas", { testid: "net-loss-curve" }),
    hover: el("p", { class: "note net-hover", testid: "net-hover", text: "Point at a neuron or an edge to read it." }),
    layers: el("p", { class: "net-layers", testid: "net-layers" }),
  };
  for (const key of SETTINGS) { ui[key].addEventListener("change", () => applySetting(key)); }
  ui.showTest.addEventListener("change", () => { if (last) { drawBoundary(last); } });
  boundaryPlot = new Plot(ui.boundary, [-3, 3, -3, 3], { width: BOUNDARY_SIDE, height: BOUNDARY_SIDE });
  lossPlot = new Plot(ui.curve, [0, 1, 0, 1], CURVE);
  lossPlot.canvas.style.cursor = "default";
  sizeDiagram();
  ui.diagram.addEventListener("mousemove", hover);

  panel.append(controls(), figures());
  // Leaving the tab pauses: no training in the background, so the other tabs get the machine.
  new MutationObserver(() => { if (panel.hidden && playing) { pause(); } })
    .observe(panel, { attributes: true, attributeFilter: ["hidden"] });
}

export function show(first) {
  if (first) { restart("configure", {}); }  // the server's defaults, written into the controls
}

// ------------------------------------------------------------------------------------------ the controls

function pair(a, b) { return el("div", { class: "net-pair" }, a, b); }

function controls() {
  return el("div", { class: "controls net-controls" },
    el("h2", { text: "Data" }),
    field("data set", ui.dataset),
    pair(field("noise (σ, in radii)", ui.noise), field("share for training", ui.split)),
    pair(field("points", ui.points), field("seed", ui.seed)),
    el("h2", { text: "Network" }),
    field("hidden layers (neurons each)", ui.hidden, "e.g. 8,8 — empty: no hidden layer; up to 6 layers of 1-16"),
    field("activation", ui.activation),
    el("h2", { text: "Training" }),
    field("optimizer", ui.optimizer),
    pair(field("learning rate", ui.lr), field("L2 (λ, on weights)", ui.l2)),
    field("batch size", ui.batch, "one step = one batch; ≥ the training points: the full batch"),
    el("p", { class: "note net-resets", testid: "net-resets",
              text: "Changing any setting above starts again: new data, fresh weights (from the seed), step 0." }),
    el("div", { class: "row" }, ui.play, ui.step, ui.reset),
    readout([["step", ui.stepCount], ["training loss", ui.loss], ["training accuracy", ui.accuracy],
             ["test loss", ui.testLoss], ["test accuracy", ui.testAccuracy]]));
}

function swatch(cls) { return el("span", { class: `net-swatch ${cls}` }); }

function figures() {
  const diagram = el("div", { class: "figure net-diagram-figure" },
    el("p", { class: "caption", text: "The network: inputs x₁, x₂ on the left, the output on the right. Each square " +
                                      "is that neuron's output over the plane (same axes as the map)." }),
    ui.layers, ui.diagram, ui.hover,
    el("div", { class: "net-legend" },
      el("span", {}, swatch("edge-plus"), " positive weight"), el("span", {}, swatch("edge-minus"), " negative weight"),
      el("span", { text: "edge width: |weight| (relative to the largest)" })));
  const boundary = el("div", { class: "figure net-boundary-figure" },
    el("p", { class: "caption", text: "Decision boundary: the network's probability that a point is blue, over " +
                                      "the plane; the black line is where it is ½." }),
    ui.boundary,
    el("div", { class: "net-colourbar" }, el("span", { text: "0 (orange)" }),
       el("span", { class: "net-bar", style: `background: linear-gradient(90deg, ${[0, 0.25, 0.5, 0.75, 1]
         .map((t) => `rgb(${washed(t).join(",")})`).join(", ")})` }),
       el("span", { text: "1 (blue)" })),
    el("div", { class: "net-legend" },
      el("span", {}, swatch("dot-train"), " training point"), el("span", {}, swatch("dot-test"), " test point"),
      el("label", { class: "net-check" }, ui.showTest, " show test points")));
  const curve = el("div", { class: "figure net-curve-figure" },
    el("p", { class: "caption", text: "Loss against steps: the mean logistic loss (without the L2 term) over " +
                                      "the whole training set and the whole test set." }),
    ui.curve,
    el("div", { class: "net-legend" }, el("span", {}, swatch("line-train"), " training loss"),
       el("span", {}, swatch("line-test"), " test loss")));
  return el("div", { class: "figures net-figures" }, diagram, el("div", { class: "net-right" }, boundary, curve));
}

// ------------------------------------------------------------------------------------------ talking to the server

function setPlaying(on) {
  playing = on;
  ui.play.textContent = on ? "Pause" : "Play";
  ui.play.setAttribute("aria-pressed", String(on));
}

function openStream() {
  const mine = stream("network", "train", {}, (frame) => { if (live === mine) { drawSoon(frame); } },
                      () => { if (live === mine) { live = null; setPlaying(false); } });
  live = mine;
  setPlaying(true);
}

function closeStream() {
  const was = live;
  live = null;
  if (was) { was.close(); }
  queued = null;  // a stream frame not drawn yet is older than what the next answer says
  if (drawId) { cancelAnimationFrame(drawId); drawId = 0; }
}

/** Draw a stream frame at the next animation frame; frames that arrive meanwhile replace it, so a busy page
 *  skips frames instead of falling behind the server. */
function drawSoon(frame) {
  queued = frame;
  if (!drawId) {
    drawId = requestAnimationFrame(() => {
      drawId = 0;
      const next = queued;
      queued = null;
      if (next) { drawFrame(next); }
    });
  }
}

async function pause() {
  closeStream();
  setPlaying(false);
  const frame = await call("network", "pause", {});  // the step the server stopped at: the read-outs match it
  if (frame && !playing) { drawFrame(frame); }
}

function togglePlay() {
  if (!setup) { return; }  // nothing to train before the first configuration has arrived
  if (playing) { pause(); } else { openStream(); }
}

async function stepOnce() {
  if (!setup) { return; }
  if (playing) { await pause(); }
  const frame = await call("network", "step", { n: 1 });
  if (frame) { drawFrame(frame); }
}

/** configure or reset. `playing` is the student's choice: a running stream stops for the request and, unless
 *  Pause was pressed meanwhile, opens again after it, on the new network or (refused) on the same one. */
async function restart(action, body) {
  closeStream();
  const answer = await call("network", action, body);
  if (answer) {
    setup = answer;
    for (const key of SETTINGS) { ui[key].value = String(answer.config[key]); }
    ui.layers.textContent = `layers ${answer.config.sizes.join("-")}, ${answer.config.activation}, ` +
      `${answer.points.train_y.length} training and ${answer.points.test_y.length} test points`;
    boundaryPlot.setDomain(answer.domain);
    drawFrame(answer.frame);
  }
  if (playing && !live) { openStream(); }
  return answer;
}

/** A changed control: configure with that setting alone (the server keeps the others), so a field left with a
 *  refused value does not block the next change; an accepted answer writes every control back from the server.
 *  The control a refusal names (its message starts "key:") is marked until a configuration is accepted. */
async function applySetting(key) {
  const accepted = await restart("configure", { [key]: ui[key].value });
  const named = accepted ? null : document.querySelector('[data-testid="message"]').textContent.split(":")[0];
  for (const key of SETTINGS) {
    if (key === named) { ui[key].setAttribute("aria-invalid", "true"); } else { ui[key].removeAttribute("aria-invalid"); }
  }
}
function resetNetwork() { return restart("reset", {}); }

// ------------------------------------------------------------------------------------------ drawing

function drawFrame(frame) {
  last = frame;
  put(ui.stepCount, frame.step);
  put(ui.loss, frame.loss);
  put(ui.accuracy, frame.accuracy);
  put(ui.testLoss, frame.test_loss);
  put(ui.testAccuracy, frame.test_accuracy);
  drawBoundary(frame);
  drawCurve(frame.history);
  drawDiagram(frame);
  framesDrawn += 1;
  ui.boundary.dataset.frames = String(framesDrawn);
}

/**
 * `grid` (rows from the bottom; values in thousandths when `scale` is 1000) coloured over [lo, hi] by the
 * colour table `colours`, drawn into the box (x, y, w, h) of `ctx`. Non-finite cells are grey.
 */
function paint(ctx, grid, { lo, hi, scale = 1, colours = FULL }, x, y, w, h) {
  const rows = grid.length, cols = grid[0].length, key = `${cols}x${rows}`;
  if (!offscreen.has(key)) {
    const canvas = document.createElement("canvas");
    canvas.width = cols; canvas.height = rows;
    offscreen.set(key, { canvas, image: new ImageData(cols, rows) });
  }
  const { canvas, image } = offscreen.get(key), data = image.data;
  const span = hi > lo ? (hi - lo) * scale : 1, low = lo * scale;
  for (let i = 0; i < rows; i++) {
    const row = grid[i];
    for (let j = 0; j < cols; j++) {
      const v = typeof row[j] === "number" ? row[j] : value(row[j]);
      const t = Math.round(((v - low) / span) * 255);
      const [r, g, b] = Number.isFinite(t) ? colours[t < 0 ? 0 : t > 255 ? 255 : t] : GREY;
      const k = ((rows - 1 - i) * cols + j) * 4;  // image rows go downwards
      data[k] = r; data[k + 1] = g; data[k + 2] = b; data[k + 3] = 255;
    }
  }
  canvas.getContext("2d").putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(canvas, x, y, w, h);
}

function drawBoundary(frame) {
  const p = boundaryPlot;
  paint(p.ctx, frame.boundary, { lo: 0, hi: 1, scale: 1000, colours: WASHED }, 0, 0, p.width, p.height);
  p.contours(frame.boundary, [500], { colour: "rgba(0,0,0,0.85)", width: 1.5 });  // P = ½ (in thousandths)
  p.axes({ xlabel: "x₁", ylabel: "x₂", grid: false, zero: false });
  const pts = setup.points;
  const colour = (label) => (label === 1 ? BLUE : ORANGE);
  pts.train_x.forEach((x, k) => p.dot(x, { r: 4, fill: colour(pts.train_y[k]), stroke: "#ffffff", width: 1 }));
  if (ui.showTest.checked) {
    pts.test_x.forEach((x, k) => p.dot(x, { r: 4, fill: colour(pts.test_y[k]), stroke: "#000000", width: 1.5 }));
  }
}

function drawCurve(history) {
  const p = lossPlot;
  const steps = history.step, all = [...history.loss, ...history.test_loss].map(value).filter(Number.isFinite);
  const top = Math.max(1e-9, ...all) * 1.1, end = steps.length - 1;
  // Below zero, a strip for the tick labels, so the curves (which fall towards 0) never run under them.
  p.setDomain([0, Math.max(10, steps[end]), -0.2 * top, top]);
  p.clear();
  p.axes({ xlabel: "step", ylabel: "loss", grid: true, zero: true });
  p.curve(steps, history.test_loss, { colour: "#8a8f98", width: 2, dash: [5, 4] });
  p.curve(steps, history.loss, { colour: "#1d2330", width: 2 });
  for (const [values, fill] of [[history.test_loss, "#8a8f98"], [history.loss, "#1d2330"]]) {
    const y = value(values[end]);
    if (Number.isFinite(y)) { p.dot([steps[end], y], { r: 3, fill, stroke: null }); }  // where each curve is now
  }
}

function sizeDiagram() {
  const ratio = window.devicePixelRatio || 1, c = ui.diagram;
  c.style.width = `${DIAGRAM.width}px`; c.style.height = `${DIAGRAM.height}px`;
  c.width = Math.round(DIAGRAM.width * ratio); c.height = Math.round(DIAGRAM.height * ratio);
  c.getContext("2d").setTransform(ratio, 0, 0, ratio, 0, 0);
}

/** A neuron's thumbnail: `grid` coloured over [lo, hi] (see paint) in the square (x, y, side), framed. */
function thumbnail(ctx, grid, range, x, y, side) {
  paint(ctx, grid, range, x, y, side, side);
  ctx.strokeStyle = "#5b6474"; ctx.lineWidth = 1;
  ctx.strokeRect(x - 0.5, y - 0.5, side + 1, side + 1);
}

/** Node boxes of every layer: [{x, y, side}] per layer, centred in columns across the canvas. */
function layout(sizes) {
  const { width, height } = DIAGRAM, top = 26, bottom = 8;
  const most = Math.max(...sizes);
  const side = Math.min(NODE, Math.floor((height - top - bottom) / most) - 4);
  const gap = (height - top - bottom) / most;
  const left = 26, right = width - 26 - side;
  return sizes.map((n, l) => {
    const x = sizes.length > 1 ? left + ((right - left) * l) / (sizes.length - 1) : left;
    const y0 = top + (height - top - bottom - gap * n) / 2 + (gap - side) / 2;
    return Array.from({ length: n }, (_, k) => ({ x, y: y0 + k * gap, side }));
  });
}

function drawDiagram(frame) {
  const ctx = ui.diagram.getContext("2d");
  const sizes = setup.config.sizes, boxes = layout(sizes);
  ctx.clearRect(0, 0, DIAGRAM.width, DIAGRAM.height);
  hits = [];
  const biggest = Math.max(1e-12, ...frame.layers.flatMap((layer) => layer.weight.flat().map((w) => Math.abs(value(w)))));
  frame.layers.forEach((layer, l) => {
    layer.weight.forEach((row, i) => row.forEach((w0, j) => {
      const w = value(w0), a = boxes[l][i], b = boxes[l + 1][j];
      const share = Math.min(1, Math.abs(w) / biggest);
      const x0 = a.x + a.side, y0 = a.y + a.side / 2, x1 = b.x, y1 = b.y + b.side / 2;
      ctx.strokeStyle = w >= 0 ? BLUE : ORANGE;
      ctx.globalAlpha = 0.25 + 0.75 * share;
      ctx.lineWidth = 0.4 + 4.6 * share;
      ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.stroke();
      hits.push({ kind: "edge", x0, y0, x1, y1, text: `weight from ${nodeName(sizes, l, i)} to ${nodeName(sizes, l + 1, j)}: ${num(w)}` });
    }));
  });
  ctx.globalAlpha = 1;
  const thumbs = [setup.inputs, ...frame.neurons];
  boxes.forEach((column, l) => column.forEach((box, k) => {
    if (l === 0) {
      const [lo, hi] = [setup.domain[2 * k], setup.domain[2 * k + 1]];  // x₁ or x₂ itself, across the map
      thumbnail(ctx, thumbs[0][k], { lo, hi }, box.x, box.y, box.side);
    } else if (l === sizes.length - 1) {
      thumbnail(ctx, frame.boundary, { lo: 0, hi: 1, scale: 1000 }, box.x, box.y, box.side);
    } else {
      const [lo, hi] = frame.neuron_ranges[l - 1][k].map(value);
      thumbnail(ctx, frame.neurons[l - 1][k], { lo, hi, scale: 1000 }, box.x, box.y, box.side);
    }
    const bias = l > 0 ? ` — bias ${num(value(frame.layers[l - 1].bias[k]))}` : "";
    hits.push({ kind: "node", ...box, text: `${nodeName(sizes, l, k)}${bias}` });
  }));
  ctx.fillStyle = "#5b6474"; ctx.font = "11px 'DejaVu Sans', sans-serif"; ctx.textAlign = "center";
  boxes.forEach((column, l) => {
    const title = l === 0 ? "input" : l === sizes.length - 1 ? "output" : `hidden ${l}`;
    ctx.fillText(title, column[0].x + column[0].side / 2, 14);
  });
  ctx.textAlign = "right";
  boxes[0].forEach((box, k) => ctx.fillText(k === 0 ? "x₁" : "x₂", box.x - 4, box.y + box.side / 2 + 4));
  ctx.textAlign = "left";
}

function nodeName(sizes, l, k) {
  if (l === 0) { return k === 0 ? "input x₁" : "input x₂"; }
  if (l === sizes.length - 1) { return "the output"; }
  return `hidden ${l}, neuron ${k + 1}`;
}

function hover(event) {
  const box = ui.diagram.getBoundingClientRect();
  const x = event.clientX - box.left, y = event.clientY - box.top;
  const node = hits.find((h) => h.kind === "node" && x >= h.x && x <= h.x + h.side && y >= h.y && y <= h.y + h.side);
  let best = node, bestDistance = 4;
  if (!node) {
    for (const h of hits) {
      if (h.kind !== "edge") { continue; }
      const dx = h.x1 - h.x0, dy = h.y1 - h.y0;
      const t = Math.max(0, Math.min(1, ((x - h.x0) * dx + (y - h.y0) * dy) / (dx * dx + dy * dy || 1)));
      const d = Math.hypot(x - h.x0 - t * dx, y - h.y0 - t * dy);
      if (d < bestDistance) { best = h; bestDistance = d; }
    }
  }
  ui.hover.textContent = best ? best.text : "Point at a neuron or an edge to read it.";
}
