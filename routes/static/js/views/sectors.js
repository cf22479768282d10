// Sectors: the market page's heatmap (tiles sized by traded value, coloured by change; a squarified treemap) and
// #/sector/<name>, a sector's stocks by traded value.
import { api } from "../api.js";
import { card, h, lifetime, note, stockLink } from "../dom.js";
import { crores, pct, price, trend, volume } from "../format.js";

const REFRESH_MS = 30_000;
const FULL_COLOUR_PCT = 3; // a 3% move (or more) shows the strongest colour

/** The worst aspect ratio of a row of areas laid along a side of length `side`. */
function worst(row, side) {
  const sum = row.reduce((a, b) => a + b, 0);
  return Math.max((side * side * Math.max(...row)) / (sum * sum), (sum * sum) / (side * side * Math.min(...row)));
}

/** Squarified treemap (Bruls, Huizing, van Wijk): rectangles {x, y, w, h} for `values` (largest first) in w × h. */
export function squarify(values, width, height) {
  const total = values.reduce((a, b) => a + b, 0) || 1;
  const areas = values.map((v) => (v / total) * width * height);
  const rects = [];
  let box = { x: 0, y: 0, w: width, h: height };
  const place = (row) => {
    const sum = row.reduce((a, b) => a + b, 0);
    if (box.w >= box.h) {  // a column on the left
      const w = sum / box.h;
      let y = box.y;
      row.forEach((a) => { rects.push({ x: box.x, y, w, h: a / w }); y += a / w; });
      box = { x: box.x + w, y: box.y, w: box.w - w, h: box.h };
    } else {  // a row on top
      const rowH = sum / box.w;
      let x = box.x;
      row.forEach((a) => { rects.push({ x, y: box.y, w: a / rowH, h: rowH }); x += a / rowH; });
      box = { x: box.x, y: box.y + rowH, w: box.w, h: box.h - rowH };
    }
  };
  let row = [];
  for (let i = 0; i < areas.length;) {
    const side = Math.min(box.w, box.h);
    if (!row.length || worst([...row, areas[i]], side) <= worst(row, side)) row.push(areas[i++]);
    else { place(row); row = []; }
  }
  if (row.length) place(row);
  return rects;
}

function tile(sector, rect, width, height) {
  const el = h("a", {
    class: "heat-tile", href: `#/sector/${encodeURIComponent(sector.sector)}`,
    title: `${sector.sector}: ${pct(sector.changePercent)}, traded ${crores(sector.tradedValue)} (${sector.advances} up, ${sector.declines} down)`,
    dataset: { sector: sector.sector, tradedValue: String(sector.tradedValue), trend: trend(sector.changePercent) },
  }, h("span", { class: "heat-name", text: sector.sector }), h("span", { class: "heat-change num", text: pct(sector.changePercent) }));
  Object.assign(el.style, {
    left: `${(rect.x / width) * 100}%`, top: `${(rect.y / height) * 100}%`,
    width: `${(rect.w / width) * 100}%`, height: `${(rect.h / height) * 100}%`,
  });
  el.style.setProperty("--strength", String(Math.min(Math.abs(sector.changePercent) / FULL_COLOUR_PCT, 1).toFixed(2)));
  return el;
}

/** The sector heatmap card of the market page (refreshed every 30 s until `life` ends). */
export function sectorHeatmap(life) {
  const map = h("div", { class: "heatmap", role: "list", "aria-label": "Sectors by traded value" }, note("Loading sectors…"));
  const show = (rows) => {
    const sectors = rows.filter((s) => s.tradedValue > 0).sort((a, b) => b.tradedValue - a.tradedValue);
    const width = map.clientWidth || 1000;
    const height = map.clientHeight || 300;
    const rects = squarify(sectors.map((s) => s.tradedValue), width, height);
    map.replaceChildren(...sectors.map((s, i) => tile(s, rects[i], width, height)));
  };
  const load = () => api("/stocks/sectors").then((body) => life.alive && show(body.data))
    .catch((err) => map.replaceChildren(note(err.message, "error")));
  load();
  life.every(REFRESH_MS, load);
  return card("Sectors", map, h("span", { class: "muted heat-legend", text: "size: traded value · colour: change" }));
}

/** Render #/sector/<name>: the sector's stocks, largest traded value first. */
export function renderSector(view, rawName) {
  const life = lifetime();
  const tbody = h("tbody", {}, h("tr", {}, h("td", { colspan: "5" }, note("Loading…"))));
  const heading = card(rawName, h("div", { class: "table-wrap" }, h("table", { class: "table sector-stocks" },
    h("thead", {}, h("tr", {}, ...["Stock", "Price", "Change", "Volume", "Traded value"].map((t, i) => h("th", { class: i ? "num" : "", text: t })))),
    tbody)), h("a", { class: "button", href: "#/", text: "All sectors" }));
  view.append(heading);
  api(`/stocks/sectors/${encodeURIComponent(rawName)}`).then((body) => {
    if (!life.alive) return;
    heading.querySelector("h2").textContent = `${body.sector} · ${body.count} stocks`;
    tbody.replaceChildren(...body.data.map((row) => h("tr", { dataset: { symbol: row.symbol } },
      h("td", {}, stockLink(row.symbol), h("div", { class: "company", text: row.name })),
      h("td", { class: "num", text: price(row.priceNum) }),
      h("td", { class: `num ${trend(row.changePercentNum)}`, text: pct(row.changePercentNum) }),
      h("td", { class: "num", text: volume(row.volume) }),
      h("td", { class: "num", text: crores(row.priceNum * row.volume) }))));
  }).catch((err) => tbody.replaceChildren(h("tr", {}, h("td", { colspan: "5" },
    note(err.status === 404 ? `No sector called “${rawName}”.` : err.message, "error")))));
  return life.dispose;
}
