// The graph tab (to be written).
import { el } from "../lib/ui.js";

export function build(panel) {
  panel.append(el("p", { text: "The graph tab is being built." }));
}
