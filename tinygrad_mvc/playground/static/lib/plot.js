// Drawing the numbers the server sends: a canvas that maps a domain (y upwards) onto its whole box.
// The canvas has no border or padding, so a click at a fraction of its box is that fraction of the domain,
// which is what `data-domain="xmin xmax ymin ymax"` promises. Tick labels are drawn inside the edges.

/** Plain numbers from the server's JSON ("NaN"/"Infinity" strings for non-finite values). */
export function value(v) { return typeof v === "number" ? v : Number(v); }

/** About `n` round tick values covering [lo, hi]. */
export function ticks(lo, hi, n = 5) {
  if (!(hi > lo)) { return [lo]; }
  const raw = (hi - lo) / n;
  const step0 = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * step0).find((s) => s >= raw) || step0 * 10;
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) { out.push(Math.abs(t) < step * 1e-9 ? 0 : t); }
  return out;
}

function tickText(t) { return String(Number(t.toPrecision(6))); }

/** Colour maps from a value in [0, 1] to [r, g, b]. */
export const palettes = {
  // light yellow to deep blue, for landscapes: low values dark, so minima stand out
  landscape: (t) => mix([[253, 231, 37], [94, 201, 98], [33, 145, 140], [59, 82, 139], [68, 1, 84]], 1 - t),
  // orange (negative) through white to blue (positive), for classifier outputs, as TensorFlow Playground does
  diverging: (t) => mix([[245, 147, 34], [255, 255, 255], [8, 119, 189]], t),
};

function mix(stops, t) {
  const s = Math.min(Math.max(t, 0), 1) * (stops.length - 1);
  const i = Math.min(Math.floor(s), stops.length - 2);
  const f = s - i;
  return stops[i].map((c, k) => Math.round(c + (stops[i + 1][k] - c) * f));
}

/** `n` contour levels spread over the finite values of `grid` by quantile (so steep and flat parts both show). */
export function contourLevels(grid, n = 12) {
  const vals = grid.flat().map(value).filter(Number.isFinite).sort((a, b) => a - b);
  if (!vals.length) { return []; }
  const out = [];
  for (let k = 1; k <= n; k++) {
    const v = vals[Math.min(vals.length - 1, Math.floor((k / (n + 1)) * vals.length))];
    if (!out.length || v > out[out.length - 1]) { out.push(v); }
  }
  return out;
}

export class Plot {
  /** A plot on `canvas` (CSS size width × height) over `domain = [xmin, xmax, ymin, ymax]`. */
  constructor(canvas, domain, { width = 480, height = 480 } = {}) {
    this.canvas = canvas;
    canvas.classList.add("plot");
    this.resize(width, height);
    this.setDomain(domain);
  }

  resize(width, height) {
    const ratio = window.devicePixelRatio || 1;
    this.width = width; this.height = height;
    this.canvas.style.width = `${width}px`; this.canvas.style.height = `${height}px`;
    this.canvas.width = Math.round(width * ratio); this.canvas.height = Math.round(height * ratio);
    this.ctx = this.canvas.getContext("2d");
    this.ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  }

  setDomain(domain) {
    this.domain = domain.map(value);
    this.canvas.dataset.domain = this.domain.map(String).join(" ");
  }

  X(x) { const [a, b] = this.domain; return ((x - a) / (b - a)) * this.width; }
  Y(y) { const [, , c, d] = this.domain; return ((d - y) / (d - c)) * this.height; }

  /** The domain point under a mouse event. */
  at(event) {
    const box = this.canvas.getBoundingClientRect();
    const [a, b, c, d] = this.domain;
    const fx = (event.clientX - box.left) / box.width, fy = (event.clientY - box.top) / box.height;
    return [a + fx * (b - a), d - fy * (d - c)];
  }

  /** Call `fn([x, y], event)` on each click. */
  onClick(fn) { this.canvas.addEventListener("click", (event) => fn(this.at(event), event)); }

  clear(colour = "#ffffff") {
    this.ctx.fillStyle = colour; this.ctx.fillRect(0, 0, this.width, this.height);
  }

  /**
   * `grid[i][j]` = f at row i (from ymin upwards), column j (from xmin rightwards), over the whole domain,
   * coloured by `palette` between `lo` and `hi` (default the finite range). Non-finite cells stay grey.
   */
  heatmap(grid, { lo, hi, palette = palettes.landscape, smooth = true } = {}) {
    const rows = grid.length, cols = grid[0].length;
    const vals = grid.flat().map(value).filter(Number.isFinite);
    lo = lo ?? Math.min(...vals); hi = hi ?? Math.max(...vals);
    const image = new ImageData(cols, rows);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const v = value(grid[i][j]);
        const [r, g, b] = Number.isFinite(v) ? palette(hi > lo ? (v - lo) / (hi - lo) : 0.5) : [200, 200, 200];
        const k = ((rows - 1 - i) * cols + j) * 4;  // image rows go downwards
        image.data[k] = r; image.data[k + 1] = g; image.data[k + 2] = b; image.data[k + 3] = 255;
      }
    }
    const off = document.createElement("canvas");
    off.width = cols; off.height = rows;
    off.getContext("2d").putImageData(image, 0, 0);
    this.ctx.imageSmoothingEnabled = smooth;
    this.ctx.drawImage(off, 0, 0, this.width, this.height);
  }

  /** Contour lines of `grid` (as for heatmap) at `levels`, by marching squares. */
  contours(grid, levels, { colour = "rgba(20,20,20,0.55)", width = 1 } = {}) {
    const rows = grid.length, cols = grid[0].length;
    const [a, b, c, d] = this.domain;
    const gx = (j) => a + (j / (cols - 1)) * (b - a), gy = (i) => c + (i / (rows - 1)) * (d - c);
    const ctx = this.ctx;
    ctx.strokeStyle = colour; ctx.lineWidth = width;
    ctx.beginPath();
    for (const level of levels) {
      for (let i = 0; i < rows - 1; i++) {
        for (let j = 0; j < cols - 1; j++) {
          const v = [grid[i][j], grid[i][j + 1], grid[i + 1][j + 1], grid[i + 1][j]].map(value);
          if (!v.every(Number.isFinite)) { continue; }
          const corners = [[gx(j), gy(i)], [gx(j + 1), gy(i)], [gx(j + 1), gy(i + 1)], [gx(j), gy(i + 1)]];
          const cuts = [];
          for (let e = 0; e < 4; e++) {
            const p = v[e], q = v[(e + 1) % 4];
            if ((p < level) !== (q < level)) {
              const t = (level - p) / (q - p);
              const [x0, y0] = corners[e], [x1, y1] = corners[(e + 1) % 4];
              cuts.push([x0 + t * (x1 - x0), y0 + t * (y1 - y0)]);
            }
          }
          for (let k = 0; k + 1 < cuts.length; k += 2) {
            ctx.moveTo(this.X(cuts[k][0]), this.Y(cuts[k][1]));
            ctx.lineTo(this.X(cuts[k + 1][0]), this.Y(cuts[k + 1][1]));
          }
        }
      }
    }
    ctx.stroke();
  }

  /** A polyline through `points` ([[x, y], ...]); a non-finite point breaks it. */
  line(points, { colour = "#1f6feb", width = 2, dash = [] } = {}) {
    const ctx = this.ctx;
    ctx.strokeStyle = colour; ctx.lineWidth = width; ctx.setLineDash(dash);
    ctx.beginPath();
    let down = false;
    for (const [x0, y0] of points) {
      const x = value(x0), y = value(y0);
      if (!Number.isFinite(x) || !Number.isFinite(y)) { down = false; continue; }
      const px = this.X(x), py = Math.max(-1e4, Math.min(1e4, this.Y(y)));
      if (down) { ctx.lineTo(px, py); } else { ctx.moveTo(px, py); down = true; }
    }
    ctx.stroke();
    ctx.setLineDash([]);
  }

  /** The curve through (xs[k], ys[k]). */
  curve(xs, ys, style) { this.line(xs.map((x, k) => [x, ys[k]]), style); }

  /** An arrow from p to q (domain coordinates). */
  arrow(p, q, { colour = "#b42318", width = 2, head = 8 } = {}) {
    const ctx = this.ctx;
    const x0 = this.X(p[0]), y0 = this.Y(p[1]), x1 = this.X(q[0]), y1 = this.Y(q[1]);
    const angle = Math.atan2(y1 - y0, x1 - x0);
    ctx.strokeStyle = colour; ctx.fillStyle = colour; ctx.lineWidth = width;
    ctx.beginPath(); ctx.moveTo(x0, y0); ctx.lineTo(x1, y1); ctx.stroke();
    if (Math.hypot(x1 - x0, y1 - y0) < 1) { return; }
    ctx.beginPath();
    ctx.moveTo(x1, y1);
    ctx.lineTo(x1 - head * Math.cos(angle - 0.4), y1 - head * Math.sin(angle - 0.4));
    ctx.lineTo(x1 - head * Math.cos(angle + 0.4), y1 - head * Math.sin(angle + 0.4));
    ctx.closePath(); ctx.fill();
  }

  /** A marker at p. */
  dot(p, { r = 4, fill = "#1f6feb", stroke = "#ffffff", width = 1.5 } = {}) {
    const ctx = this.ctx;
    ctx.beginPath(); ctx.arc(this.X(p[0]), this.Y(p[1]), r, 0, 2 * Math.PI);
    ctx.fillStyle = fill; ctx.fill();
    if (stroke) { ctx.strokeStyle = stroke; ctx.lineWidth = width; ctx.stroke(); }
  }

  /** Text at p (domain coordinates) on a pale box, so it reads over any colour. */
  label(text, p, { colour = "#1d2330", align = "left", dx = 6, dy = -6, font = "12px 'DejaVu Sans', sans-serif" } = {}) {
    this.text(text, this.X(p[0]) + dx, this.Y(p[1]) + dy, { colour, align, font });
  }

  /** Text at pixel (px, py) on a pale box. */
  text(text, px, py, { colour = "#1d2330", align = "left", font = "12px 'DejaVu Sans', sans-serif" } = {}) {
    const ctx = this.ctx;
    ctx.font = font;
    const w = ctx.measureText(text).width;
    const left = align === "right" ? px - w : align === "center" ? px - w / 2 : px;
    const x = Math.max(2, Math.min(this.width - w - 2, left));
    const y = Math.max(14, Math.min(this.height - 3, py));
    ctx.fillStyle = "rgba(255,255,255,0.8)"; ctx.fillRect(x - 2, y - 12, w + 4, 15);
    ctx.fillStyle = colour; ctx.textAlign = "left"; ctx.textBaseline = "alphabetic";
    ctx.fillText(text, x, y);
  }

  /** Light grid lines and tick labels inside the edges; axis names at the ends. */
  axes({ xlabel = "x", ylabel = "y", grid = true, zero = true } = {}) {
    const ctx = this.ctx;
    const [a, b, c, d] = this.domain;
    const font = "11px 'DejaVu Sans', sans-serif";
    ctx.lineWidth = 1;
    for (const t of ticks(a, b)) {
      if (grid) { ctx.strokeStyle = "rgba(0,0,0,0.08)"; ctx.beginPath(); ctx.moveTo(this.X(t), 0); ctx.lineTo(this.X(t), this.height); ctx.stroke(); }
      if (this.X(t) > 18 && this.X(t) < this.width - 30) { this.text(tickText(t), this.X(t), this.height - 3, { align: "center", font }); }
    }
    for (const t of ticks(c, d)) {
      if (grid) { ctx.strokeStyle = "rgba(0,0,0,0.08)"; ctx.beginPath(); ctx.moveTo(0, this.Y(t)); ctx.lineTo(this.width, this.Y(t)); ctx.stroke(); }
      if (this.Y(t) > 16 && this.Y(t) < this.height - 18) { this.text(tickText(t), 3, this.Y(t) + 4, { font }); }
    }
    if (zero) {
      ctx.strokeStyle = "rgba(0,0,0,0.35)";
      if (a < 0 && b > 0) { ctx.beginPath(); ctx.moveTo(this.X(0), 0); ctx.lineTo(this.X(0), this.height); ctx.stroke(); }
      if (c < 0 && d > 0) { ctx.beginPath(); ctx.moveTo(0, this.Y(0)); ctx.lineTo(this.width, this.Y(0)); ctx.stroke(); }
    }
    this.text(xlabel, this.width - 4, this.height - 16, { align: "right", font: "italic 12px 'DejaVu Sans', sans-serif" });
    this.text(ylabel, 22, 14, { font: "italic 12px 'DejaVu Sans', sans-serif" });
  }
}
