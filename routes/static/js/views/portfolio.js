// #/portfolio: account summary, holdings with live P&L, and the equity curve.
import { authed } from "../api.js";
import { card, h, lifetime, note, stockLink } from "../dom.js";
import { count, money, pct, price, signedMoney, trend, updateNumber } from "../format.js";
import { session } from "../session.js";
import { on, watch } from "../socket.js";
import { signInPrompt } from "./auth.js";
import { equityChart } from "./chart.js";

const SUMMARY = [["equity", "Equity"], ["cash", "Cash"], ["available", "Available"], ["reserved", "Reserved"],
  ["holdings_value", "Holdings value"], ["unrealized_pnl", "Unrealised P&L"], ["realized_pnl", "Realised P&L"], ["starting_cash", "Starting cash"]];
const PNL_KEYS = new Set(["unrealized_pnl", "realized_pnl"]);
const todayIst = () => new Date(Date.now() + 19_800_000).toISOString().slice(0, 10);

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

  const showAccount = (account) => {
    summary.replaceChildren(...SUMMARY.map(([key, label]) => h("div", {}, h("dt", { text: label }),
      h("dd", { class: PNL_KEYS.has(key) ? trend(account[key]) : "", dataset: { field: key }, text: PNL_KEYS.has(key) ? signedMoney(account[key]) : money(account[key]) }))));
    const points = history.filter((p) => p.time !== todayIst()).concat({ time: todayIst(), value: account.equity });
    chart?.setPoints(points);
    chartNote.textContent = history.length ? "Daily equity (closing snapshots) and today's live value." : "The curve grows by one point each trading day; today's live equity is shown.";
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
      tbody))),
    card("Equity", h("div", {}, chartBox, chartNote)),
  );
  chart = equityChart(chartBox);
  life.add(chart.remove);
  authed("/portfolio/history").then(({ data }) => {
    history = data.map((p) => ({ time: p.date, value: p.equity }));
    loadAccount();
  }).catch(() => loadAccount());
  loadHoldings();
  life.add(on("quote", (q) => rows.get(q.symbol)?.show(q.ltp, q.change)));
  life.add(on("account_update", (account) => life.alive && showAccount(account)));
  life.add(on("order_update", (order) => { if (order.status === "COMPLETE") loadHoldings(); }));
  life.add(() => release());
  return life.dispose;
}
