// Building a tab's controls: labelled fields, buttons and read-outs with their data-testids.

/** An element `tag` with attributes (`testid` sets data-testid, `text` the text, `on*` listeners) and children. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) { continue; }
    if (key === "testid") { node.dataset.testid = value; }
    else if (key === "text") { node.textContent = value; }
    else if (key === "class") { node.className = value; }
    else if (key.startsWith("on")) { node.addEventListener(key.slice(2), value); }
    else if (key in node && typeof value !== "string") { node[key] = value; }
    else { node.setAttribute(key, value === true ? "" : value); }
  }
  node.append(...children);
  return node;
}

/** A labelled field: `<label class="field"><span>label</span>control</label>`. */
export function field(label, control, hint) {
  return el("label", { class: "field" }, el("span", { text: label }), control,
            hint ? el("span", { class: "note", text: hint }) : "");
}

/** A `<select>` of `[value, label]` pairs. */
export function select(testid, options, value) {
  const node = el("select", { testid });
  for (const [v, label] of options) { node.append(el("option", { value: v, text: label })); }
  if (value !== undefined) { node.value = value; }
  return node;
}

export function input(testid, type, value, attrs = {}) {
  return el("input", { testid, type, value: String(value), ...attrs });
}

export function button(testid, text, onclick, secondary = false) {
  return el("button", { testid, type: "button", class: secondary ? "action secondary" : "action", text, onclick });
}

/** A read-out grid of `[label, element]` rows. */
export function readout(rows) {
  const box = el("div", { class: "readout" });
  for (const [label, node] of rows) { box.append(el("span", { text: label }), node); }
  return box;
}

export function output(testid) { return el("span", { testid }); }

/** The text of a number as the contract wants it: JavaScript's String(x) (exact float64; "NaN", "Infinity"). */
export function num(x) { return String(x); }

/** A point as "x, y". */
export function pt(p) { return `${num(p[0])}, ${num(p[1])}`; }

/** Set a read-out: a number, a point, or text. */
export function put(node, value) {
  node.textContent = Array.isArray(value) ? pt(value) : num(value);
}

/** A number as a short label for pictures (never for read-outs, which use num). */
export function short(x, digits = 4) {
  if (typeof x !== "number") { return String(x); }
  if (x === 0) { return "0"; }
  const a = Math.abs(x);
  return a >= 1e5 || a < 1e-3 ? x.toExponential(digits - 1) : String(Number(x.toPrecision(digits)));
}
