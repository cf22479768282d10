// Top gainers, losers and most active: /stocks/movers-all, then live `movers_update`.
import { api } from "../api.js";
import { card, h, note, stockLink } from "../dom.js";
import { flash, pct, price, trend, volume } from "../format.js";
import { on } from "../socket.js";

const ROWS = 8;
const KINDS = [["gainers", "Top gainers"], ["losers", "Top losers"], ["mostActive", "Most active"]];

function row(item, kind, previous) {
  const priceCell = h("td", { class: "num", text: price(item.priceNum) });
  const last = previous.get(`${kind}:${item.symbol}`);
  if (last !== undefined && last !== item.priceNum) flash(priceCell, item.priceNum > last ? "up" : "down");
  previous.set(`${kind}:${item.symbol}`, item.priceNum);
  // a volume is no change: only the change column is coloured up or down
  const figure = kind === "mostActive"
    ? h("td", { class: "num", text: volume(item.volume), title: `Change ${pct(item.changePercentNum)}` })
    : h("td", { class: `num ${trend(item.changePercentNum)}`, text: pct(item.changePercentNum) });
  return h("tr", { dataset: { symbol: item.symbol } },
    h("td", {}, stockLink(item.symbol), h("div", { class: "company", text: item.name })),
    priceCell,
    figure);
}

/** The movers card; follows the socket until `life` ends. */
export function moversCard(life) {
  const bodies = {};
  const previous = new Map();
  const columns = KINDS.map(([kind, title]) => {
    bodies[kind] = h("tbody", {}, h("tr", {}, h("td", { colspan: "3" }, note("Loading…"))));
    return h("div", { class: "movers-col", dataset: { kind } }, h("h3", { text: title }),
      h("table", { class: "table" },
        h("thead", {}, h("tr", {}, h("th", { text: "Stock" }), h("th", { class: "num", text: "Price" }),
          h("th", { class: "num", text: kind === "mostActive" ? "Volume" : "Change" }))),
        bodies[kind]));
  });
  const show = (data) => {
    for (const [kind] of KINDS) {
      const items = (data[kind] ?? []).slice(0, ROWS);
      bodies[kind].replaceChildren(...(items.length ? items.map((item) => row(item, kind, previous))
        : [h("tr", {}, h("td", { colspan: "3" }, note("Nothing to show")))]));
    }
  };
  api(`/stocks/movers-all?limit=${ROWS}`).then((body) => life.alive && show(body.data)).catch((err) => {
    Object.values(bodies).forEach((tb) => tb.replaceChildren(h("tr", {}, h("td", { colspan: "3" }, note(err.message, "error")))));
  });
  life.add(on("movers_update", show));
  return card("Movers", h("div", { class: "movers" }, ...columns), h("span", { class: "live-tag", text: "LIVE" }));
}
