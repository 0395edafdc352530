// The page: a session with the server, six tabs, one module each. Every number comes from the server.
import { clearMessage, startSession } from "./lib/api.js";
import * as network from "./tabs/network.js";
import * as sandpit from "./tabs/sandpit.js";
import * as taylor from "./tabs/taylor.js";
import * as newton from "./tabs/newton.js";
import * as lagrange from "./tabs/lagrange.js";
import * as graph from "./tabs/graph.js";

const TABS = { network, sandpit, taylor, newton, lagrange, graph };
const shown = new Set();

function show(name) {
  if (!(name in TABS)) { name = "network"; }
  for (const button of document.querySelectorAll("nav [data-tab]")) {
    button.setAttribute("aria-selected", String(button.dataset.tab === name));
  }
  for (const panel of document.querySelectorAll("[data-panel]")) {
    panel.hidden = panel.dataset.panel !== name;
  }
  document.body.dataset.tab = name;
  const first = !shown.has(name);
  shown.add(name);
  if (TABS[name].show) { TABS[name].show(first); }
}

async function main() {
  await startSession();
  for (const [name, module] of Object.entries(TABS)) {
    module.build(document.querySelector(`[data-panel="${name}"]`));
  }
  for (const button of document.querySelectorAll("nav [data-tab]")) {
    button.addEventListener("click", () => {
      if (document.body.dataset.tab !== button.dataset.tab) { clearMessage(); }  // another tab's refusal is stale
      history.replaceState(null, "", `#${button.dataset.tab}`);
      show(button.dataset.tab);
    });
  }
  show(location.hash.slice(1) || "network");
  document.body.dataset.ready = "true";
}

main();
