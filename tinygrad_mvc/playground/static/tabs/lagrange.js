// The lagrange tab (to be written).
import { el } from "../lib/ui.js";

export function build(panel) {
  panel.append(el("p", { text: "The lagrange tab is being built." }));
}
