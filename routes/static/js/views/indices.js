// The live index strip: one chip per index (level, change, change %), flashing as levels move.
import { api } from "../api.js";
import { h } from "../dom.js";
import { pct, price, signedPrice, trend, updateNumber } from "../format.js";
import { on } from "../socket.js";
import { markUpdated } from "./status.js";

const chips = new Map(); // index name -> {root, value, change}

/** One shape for the REST row ({valueNum, changeValueNum, changePercentNum}) and the socket row ({ltp, change_value, change_percent}). */
const normalize = (row) => ({
  name: row.name,
  value: row.valueNum ?? row.ltp,
  change: row.changeValueNum ?? row.change_value,
  percent: row.changePercentNum ?? row.change_percent,
});

function chip(name) {
  const value = h("span", { class: "index-value" });
  const change = h("span", { class: "index-change" });
  const root = h("div", { class: "index-chip", dataset: { index: name } }, h("span", { class: "index-name", text: name }), value, change);
  return { root, value, change };
}

function show(strip, rows) {
  for (const row of rows.map(normalize)) {
    let el = chips.get(row.name);
    if (!el) {
      el = chip(row.name);
      chips.set(row.name, el);
      if (chips.size === 1) strip.replaceChildren();
      strip.append(el.root);
    }
    updateNumber(el.value, row.value, price);
    el.change.textContent = `${signedPrice(row.change)} (${pct(row.percent)})`;
    el.root.dataset.trend = trend(row.change);
  }
}

/** Fill the strip from /indices/all, then follow `indices_update`. */
export function startIndexStrip(strip) {
  api("/indices/all")
    .then((body) => {
      show(strip, Object.values(body.data).flat());
      markUpdated(null, body.source);
    })
    .catch((err) => { if (!chips.size) strip.textContent = `Indices unavailable: ${err.message}`; });
  on("indices_update", (update) => show(strip, update.data ?? []));
}
