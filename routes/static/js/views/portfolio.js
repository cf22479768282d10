// #/portfolio: account summary, holdings with live P&L (and their CSV export), and the equity curve over a day,
// a week, a month or everything (intraday points every 5 minutes and at each fill; daily closes before).
import { authed } from "../api.js";
import { card, h, lifetime, note, stockLink } from "../dom.js";
import { count, money, pct, price, signedMoney, trend, updateNumber } from "../format.js";
import { session } from "../session.js";
import { on, watch } from "../socket.js";
import { signInPrompt } from "./auth.js";
import { equityChart } from "./chart.js";
import { exportButton } from "./exports.js";

const SUMMARY = [["equity", "Equity"], ["cash", "Cash"], ["available", "Available"], ["reserved", "Reserved"],
  ["holdings_value", "Holdings value"], ["unrealized_pnl", "Unrealised P&L"], ["realized_pnl", "Realised P&L"], ["starting_cash", "Starting cash"]];
const PNL_KEYS = new Set(["unrealized_pnl", "realized_pnl"]);
const RANGES = [["1d", "1D"], ["1w", "1W"], ["1m", "1M"], ["all", "All"]];
const RANGE_KEY = "mdash.equityRange";

function holdingRow(holding) {
  const cells = { ltp: h("td", { class: "num" }), value: h("td", { class: "num" }), pnl: h("td", { class: "num" }), day: h("td", { class: "num" }) };
  const row = h("tr", { dataset: { symbol: holding.symbol } },
    h("td", {}, stockLink(holding.symbol), h("div", { class: "company", text: holding.company_name })),
    h("td", { class: "num", text: count(holding.quantity) }), h("td", { class: "num", text: price(holding.avg_buy_price) }),
    cells.ltp, h("td", { class: "num", text: money(holding.invested) }), cells.value, cells.pnl, cells.day);
  const show = (ltp, dayChangePerShare) => {
    const value = holding.quantity * ltp;
    const pnl = value - holding.invested;
    updateNumber(cells.ltp, ltp, price);
    cells.value.textContent = money(value);
    cells.pnl.textContent = `${signedMoney(pnl)} (${pct(holding.invested ? (pnl / holding.invested) * 100 : 0)})`;
    cells.pnl.className = `num ${trend(pnl)}`;
    cells.day.textContent = signedMoney(holding.quantity * dayChangePerShare);
    cells.day.className = `num ${trend(dayChangePerShare)}`;
    return { value, pnl };
  };
  show(holding.current_price, holding.quantity ? holding.day_change / holding.quantity : 0);
  return { row, show };
}

/** Render #/portfolio into `view`. */
export function renderPortfolio(view) {
  const life = lifetime();
  if (!session.user()) {
    view.append(signInPrompt("Portfolio", "see your paper holdings and P&L"));
    return life.dispose;
  }
  const summary = h("dl", { class: "stats stats-4" });
  const tbody = h("tbody", {}, h("tr", {}, h("td", { colspan: "8" }, note("Loading holdings…"))));
  const chartBox = h("div", { class: "chart chart-small" });
  const chartNote = h("p", { class: "note note-muted" });
  let rows = new Map();
  let release = () => {};
  let history = [];
  let chart = null;
  let range = localStorage.getItem(RANGE_KEY) ?? "1d";
  let live = null; // the account's equity now: the curve's last point

  const showCurve = () => {
    const points = history.concat(live === null ? [] : [{ time: new Date().toISOString(), value: live }]);
    chartBox.dataset.history = String(history.length); // the server's points among them
    chart?.setPoints(points, range === "1d" || range === "1w");
    chartNote.textContent = history.length
      ? "Equity every 5 minutes while the market is open and at each fill (daily closes before), and now."
      : "No equity points yet in this range: one is recorded every 5 minutes while the market is open and at each fill.";
  };
  const showAccount = (account) => {
    summary.replaceChildren(...SUMMARY.map(([key, label]) => h("div", {}, h("dt", { text: label }),
      h("dd", { class: PNL_KEYS.has(key) ? trend(account[key]) : "", dataset: { field: key }, text: PNL_KEYS.has(key) ? signedMoney(account[key]) : money(account[key]) }))));
    live = account.equity;
    showCurve();
  };
  const rangeButtons = RANGES.map(([value, label]) => h("button", {
    type: "button", class: "seg", text: label, dataset: { range: value }, "aria-pressed": String(value === range),
    onclick: () => loadCurve(value),
  }));
  const loadCurve = (value, retries = 3) => {
    range = value;
    localStorage.setItem(RANGE_KEY, value);
    rangeButtons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.range === value)));
    chartBox.dataset.range = value;
    return authed(`/portfolio/history?range=${value}`).then(({ data }) => {
      if (!life.alive || value !== range) return;
      history = data.map((p) => ({ time: p.time, value: p.equity }));
      showCurve();
    }).catch(() => {  // a busy server (503): try again shortly
      if (retries > 0) setTimeout(() => life.alive && value === range && loadCurve(value, retries - 1), 2000);
    });
  };
  const loadAccount = () => authed("/account").then(({ data }) => life.alive && showAccount(data)).catch(() => {});
  const loadHoldings = () => authed("/portfolio/holdings").then(({ data }) => {
    if (!life.alive) return;
    rows = new Map(data.holdings.map((holding) => [holding.symbol, holdingRow(holding)]));
    tbody.replaceChildren(...(rows.size ? [...rows.values()].map((r) => r.row)
      : [h("tr", {}, h("td", { colspan: "8" }, note("No holdings yet: buy a stock from its page.")))]));
    release();
    release = watch([...rows.keys()]);
  }).catch((err) => tbody.replaceChildren(h("tr", {}, h("td", { colspan: "8" }, note(err.text, "error")))));

  const reset = h("button", { type: "button", class: "button danger", text: "Reset account", onclick: () => {
    if (!confirm("Reset the paper account? Holdings and open orders are cleared and cash goes back to the start.")) return;
    authed("/account/reset", { method: "POST", body: { confirm: "RESET" } }).then(({ data }) => {
      history = [];
      showAccount(data);
      loadHoldings();
    }).catch((err) => summary.append(note(err.text, "error")));
  } });
  view.append(
    card("Account", summary, reset),
    card("Holdings", h("div", { class: "table-wrap" }, h("table", { class: "table holdings" },
      h("thead", {}, h("tr", {}, ...["Stock", "Qty", "Avg. price", "LTP", "Invested", "Value", "P&L", "Day"].map((t, i) => h("th", { class: i ? "num" : "", text: t })))),
      tbody)), exportButton("holdings", "/portfolio/export.csv", "holdings.csv")),
    card("Equity", h("div", {}, chartBox, chartNote), h("div", { class: "segmented", role: "group", "aria-label": "Range" }, ...rangeButtons)),
  );
  chart = equityChart(chartBox);
  life.add(chart.remove);
  loadCurve(range).finally(loadAccount);
  life.every(60_000, () => loadCurve(range)); // new points every 5 minutes while the market is open
  loadHoldings();
  life.add(on("quote", (q) => rows.get(q.symbol)?.show(q.ltp, q.change)));
  life.add(on("account_update", (account) => life.alive && showAccount(account)));
  life.add(on("order_update", (order) => { if (order.status === "COMPLETE") loadHoldings(); }));
  life.add(() => release());
  return life.dispose;
}
