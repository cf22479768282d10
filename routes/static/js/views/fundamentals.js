// The stock page's Fundamentals card (GET /stocks/fundamentals/<symbol>): ratios at the current price with the reason
// of any that is undefined, the sector's median P/E and the stock's PEG rank in it, and a chart of the last eight
// quarters' revenue and net profit (SVG bars, no library). Refreshed while the page is open, as the price moves.
import { api } from "../api.js";
import { card, h, note } from "../dom.js";
import { count, price, stamp } from "../format.js";

const REFRESH_MS = 10_000;
const CRORE = 1e7;
const SVG = "http://www.w3.org/2000/svg";
const REASONS = { negative_earnings: "loss-making", negative_growth: "earnings not growing", negative_book_value: "negative book value", no_data: "no data" };
const plain = (v) => (typeof v === "number" ? v.toFixed(2) : "—");
const crore = (v) => (typeof v === "number" ? `₹${count(v / CRORE)} Cr` : "—");
const quarterLabel = (day) => new Date(`${day}T00:00:00Z`).toLocaleDateString("en-IN", { month: "short", year: "2-digit", timeZone: "UTC" });

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  el.append(...children);
  return el;
}

/** Revenue and net profit bars per quarter (losses below the axis), oldest on the left. */
export function quarterChart(quarters) {
  const width = 640, height = 220, top = 12, bottom = 34, gap = 14;
  const values = quarters.flatMap((q) => [q.revenue ?? 0, q.net_profit ?? 0]);
  const high = Math.max(0, ...values), low = Math.min(0, ...values);
  const scale = (height - top - bottom) / ((high - low) || 1);
  const axis = top + high * scale;
  const slot = (width - gap) / Math.max(quarters.length, 1);
  const barWidth = (slot - gap) / 2;
  const bar = (x, value, kind) => svg("rect", { x: x.toFixed(1), width: barWidth.toFixed(1), y: (value >= 0 ? axis - value * scale : axis).toFixed(1),
    height: Math.max(Math.abs(value) * scale, 1).toFixed(1), class: kind });
  const groups = quarters.map((q, i) => {
    const x = gap + i * slot;
    return svg("g", { class: "quarter", "data-period": q.period_end, "data-revenue": q.revenue ?? "", "data-net-profit": q.net_profit ?? "" },
      svg("title", {}, `${quarterLabel(q.period_end)}: revenue ${crore(q.revenue)}, net profit ${crore(q.net_profit)}, EPS ${price(q.eps)}`),
      bar(x, q.revenue ?? 0, "bar-revenue"), bar(x + barWidth, q.net_profit ?? 0, (q.net_profit ?? 0) < 0 ? "bar-loss" : "bar-profit"),
      svg("text", { x: (x + barWidth).toFixed(1), y: height - 12, "text-anchor": "middle", class: "axis-label" }, quarterLabel(q.period_end)));
  });
  return svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "quarter-chart", role: "img", "aria-label": "Quarterly revenue and net profit" },
    svg("line", { x1: 0, x2: width, y1: axis.toFixed(1), y2: axis.toFixed(1), class: "axis" }), ...groups);
}

/** The Fundamentals card of `symbol`; refreshes until `life` ends. */
export function fundamentalsCard(life, symbol) {
  const body = h("div", { class: "fundamentals", dataset: { symbol } }, note("Loading fundamentals…"));
  const badge = h("span", { class: "badge badge-sim", text: "SIMULATED", hidden: true, title: "Figures from the offline simulator" });
  const stat = (label, value, reason, field) => h("div", {}, h("dt", { text: label }),
    h("dd", { class: "num", text: value, title: reason ? REASONS[reason] : undefined, dataset: { field } }));
  const show = (f) => {
    badge.hidden = !f.simulated;
    const rank = f.sector_peg_rank ? `${f.sector_peg_rank.rank} of ${f.sector_peg_rank.of}` : "—";
    const pegBasis = f.peg_basis === "eps_growth_yoy" ? " (YoY)" : "";
    body.replaceChildren(
      h("dl", { class: "stats stats-4" },
        stat("P/E", plain(f.pe), f.reasons.pe, "pe"), stat(`PEG${pegBasis}`, plain(f.peg), f.reasons.peg, "peg"),
        stat("P/B", plain(f.pb), f.reasons.pb, "pb"), stat("Dividend yield %", plain(f.dividend_yield), f.reasons.dividend_yield, "dividend_yield"),
        stat("Market cap", crore(f.market_cap), f.reasons.market_cap, "market_cap"), stat("EPS TTM", price(f.eps_ttm), null, "eps_ttm"),
        stat("EPS YoY %", plain(f.eps_growth_yoy_pct), null, "eps_growth_yoy_pct"), stat("EPS 3y CAGR %", plain(f.eps_cagr_3y_pct), null, "eps_cagr_3y_pct"),
        stat("ROE %", plain(f.roe), null, "roe"), stat("Debt / equity", plain(f.debt_to_equity), null, "debt_to_equity"),
        stat("Sector median P/E", plain(f.sector_median_pe), null, "sector_median_pe"), stat("PEG rank in sector", rank, null, "sector_peg_rank")),
      f.quarters.length ? h("div", { class: "quarter-box" }, quarterChart(f.quarters),
        h("div", { class: "legend" }, h("span", { class: "key key-revenue", text: "Revenue" }), h("span", { class: "key key-profit", text: "Net profit" })))
        : note("No quarterly results."),
      h("p", { class: "muted", text: f.source ? `Source: ${f.source} · as of ${stamp(f.as_of)} · latest quarter ${f.period_end ?? "—"}` : "No fundamentals crawled for this stock yet." }));
  };
  const load = () => api(`/stocks/fundamentals/${encodeURIComponent(symbol)}`)
    .then(({ data }) => life.alive && show(data))
    .catch((err) => life.alive && body.replaceChildren(note(err.message, "error")));
  load();
  life.every(REFRESH_MS, load);
  return card("Fundamentals", body, badge);
}
