// #/peg: the PEG table (GET /fundamentals/peg): every stock's P/E, EPS growth and PEG at the current price, sorted
// by any column (nulls last), filtered by sector and thresholds, paged, refreshed while open, and downloadable as CSV.
import { api } from "../api.js";
import { card, h, lifetime, note, stockLink } from "../dom.js";
import { count, price, stamp } from "../format.js";
import { markUpdated } from "./status.js";

const PAGE = 50;
const REFRESH_MS = 5000;
const CRORE = 1e7;
const REASONS = { negative_earnings: "loss-making (EPS ≤ 0)", negative_growth: "earnings not growing", negative_book_value: "negative book value", no_data: "no data" };
const plain = (v) => (typeof v === "number" ? v.toFixed(2) : "—");
const crore = (v) => (typeof v === "number" ? count(v / CRORE) : "—");
export const COLUMNS = [ // [field, label, formatter, ratio whose reason explains a null]
  ["symbol", "Stock"], ["sector", "Sector"], ["price", "Price", price], ["pe", "P/E", plain, "pe"],
  ["eps_ttm", "EPS TTM", price], ["eps_growth_yoy_pct", "EPS YoY %", plain], ["eps_cagr_3y_pct", "EPS 3y CAGR %", plain],
  ["peg", "PEG", plain, "peg"], ["market_cap", "Mkt cap ₹ Cr", crore, "market_cap"], ["pb", "P/B", plain, "pb"],
  ["dividend_yield", "Yield %", plain, "dividend_yield"], ["roe", "ROE %", plain],
];

/** A number cell; a null ratio says why in its tooltip. */
function cell(row, [field, , format, ratio]) {
  const value = row[field];
  const reason = value === null && ratio ? REASONS[row.reasons[ratio]] : null;
  const el = h("td", { class: "num", text: format(value), title: reason ?? undefined, dataset: { field } });
  if (field === "peg" && row.peg_basis === "eps_growth_yoy") el.append(h("span", { class: "chip basis", text: "YoY", title: "PEG on year-on-year growth (no 3-year figure)" }));
  return el;
}

/** Render #/peg into `view`; returns its clean-up. */
export function renderPeg(view) {
  const life = lifetime();
  const state = { sort: "peg:asc", offset: 0, filters: {} };
  const message = h("p", { class: "note note-error", role: "alert", hidden: true });
  const tableBox = h("div", { class: "table-wrap" }, note("Loading the PEG table…"));
  const summary = h("span", { class: "muted", "data-testid": "peg-summary" });
  const simulated = h("span", { class: "badge badge-sim", text: "SIMULATED FUNDAMENTALS", hidden: true, title: "Figures from the offline simulator" });
  const csv = h("a", { class: "button", text: "⬇ CSV", download: "peg.csv", href: "/fundamentals/peg.csv" });

  const query = (extra = {}) => new URLSearchParams({ ...state.filters, sort: state.sort, ...extra }).toString();
  const load = () => api(`/fundamentals/peg?${query({ limit: PAGE, offset: state.offset })}`).then((body) => {
    if (!life.alive) return;
    message.hidden = true;
    simulated.hidden = !body.simulated;
    csv.href = `/fundamentals/peg.csv?${query()}`;
    summary.textContent = body.total ? `${state.offset + 1}–${state.offset + body.count} of ${count(body.total)} · priced ${stamp(body.priced_at)}` : "No stock matches.";
    markUpdated(body.priced_at, body.price_source);
    const [sortField, direction] = body.sort.split(":");
    const head = h("tr", {}, ...COLUMNS.map(([field, label]) => h("th", {
      class: `sortable${field === "symbol" || field === "sector" ? "" : " num"}`, dataset: { field },
      "aria-sort": field === sortField ? (direction === "asc" ? "ascending" : "descending") : "none",
      text: field === sortField ? `${label} ${direction === "asc" ? "▲" : "▼"}` : label,
      onclick: () => { state.sort = `${field}:${field === sortField && direction === "asc" ? "desc" : "asc"}`; state.offset = 0; load(); },
    })));
    const rows = body.data.map((row) => h("tr", { class: "clickable", dataset: { symbol: row.symbol },
      onclick: (event) => { if (!event.target.closest("a")) location.hash = `#/stock/${encodeURIComponent(row.symbol)}`; },
    }, h("td", {}, stockLink(row.symbol), h("div", { class: "company", text: row.company_name })),
    h("td", { class: "company", text: row.sector }), ...COLUMNS.slice(2).map((column) => cell(row, column))));
    const pager = h("div", { class: "toolbar" },
      h("button", { type: "button", class: "button", text: "◀ Prev", disabled: state.offset === 0, onclick: () => { state.offset = Math.max(0, state.offset - PAGE); load(); } }),
      h("button", { type: "button", class: "button", text: "Next ▶", disabled: state.offset + PAGE >= body.total, onclick: () => { state.offset += PAGE; load(); } }));
    tableBox.replaceChildren(h("table", { class: "table peg-table" }, h("thead", {}, head), h("tbody", {}, ...rows)), pager);
  }).catch((err) => {
    message.textContent = err.text;
    message.hidden = false;
  });

  const form = filterForm((filters) => { state.filters = filters; state.offset = 0; load(); });
  api("/stocks/sectors").then(({ data }) => life.alive && form.setSectors(data.map((s) => s.sector).sort())).catch(() => {});
  load();
  life.every(REFRESH_MS, load); // P/E and PEG move with the live price
  view.append(card("PEG table", h("div", {}, note("P/E ÷ EPS growth (3-year CAGR, else year on year) at the current price; below 1 is cheap for its growth."),
    form.el, message, h("div", { class: "toolbar" }, summary, simulated, csv), tableBox)));
  return life.dispose;
}

/** The filter form: {el, setSectors(names)}; `apply(filters)` gets the query parameters that are set. */
function filterForm(apply) {
  const sector = h("select", { name: "sector", "aria-label": "Sector" }, h("option", { value: "", text: "All sectors" }));
  const number = (name, label) => h("input", { type: "number", step: "any", name, placeholder: label, "aria-label": label });
  const inputs = [number("peg_max", "PEG ≤"), number("pe_max", "P/E ≤"), number("growth_min", "Growth % ≥"), number("min_market_cap", "Mkt cap ≥ ₹ Cr")];
  const excludeNull = h("input", { type: "checkbox", name: "exclude_null" });
  const el = h("form", { class: "toolbar peg-filters", onsubmit: (event) => {
    event.preventDefault();
    const filters = {};
    if (sector.value) filters.sector = sector.value;
    for (const input of inputs) if (input.value !== "") filters[input.name] = input.name === "min_market_cap" ? Number(input.value) * CRORE : input.value;
    if (excludeNull.checked) filters.exclude_null = "true";
    apply(filters);
  } }, sector, ...inputs, h("label", {}, excludeNull, " Only with a PEG"), h("button", { type: "submit", class: "button primary", text: "Apply" }));
  return {
    el,
    setSectors: (names) => sector.append(...names.map((name) => h("option", { value: name, text: name }))),
  };
}
