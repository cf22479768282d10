// #/stock/<SYMBOL>: price header, candlestick chart (1 minute … 1 month), day stats, ranges and
// circuit band, fundamentals with quarterly results, the order panel and the stock's news, following the live price.
import { api } from "../api.js";
import { card, h, lifetime, note } from "../dom.js";
import { pct, price, signedPrice, stamp, trend, updateNumber, volume } from "../format.js";
import { on, watch } from "../socket.js";
import { activeAlerts, alertMenu } from "./alerts.js";
import { candleChart } from "./chart.js";
import { fundamentalsCard } from "./fundamentals.js";
import { newsList } from "./news.js";
import { orderPanel } from "./order_panel.js";
import { markUpdated } from "./status.js";
import { watchlistMenu } from "./watchlists.js";

const INTERVALS = [["1minute", "1m"], ["5minute", "5m"], ["15minute", "15m"], ["30minute", "30m"], ["day", "1D"], ["week", "1W"], ["month", "1M"]];
const INTERVAL_KEY = "mdash.interval";

/** A labelled low–high bar with a marker at `value` (day range, 52 weeks, circuit band). */
function rangeBar(label) {
  const marker = h("span", { class: "range-marker" });
  const low = h("span", { class: "range-end" });
  const high = h("span", { class: "range-end" });
  const el = h("div", { class: "range" }, h("div", { class: "range-label", text: label }),
    h("div", { class: "range-row" }, low, h("div", { class: "range-track" }, marker), high));
  return {
    el,
    set(lo, hi, value) {
      low.textContent = price(lo);
      high.textContent = price(hi);
      const share = hi > lo ? Math.min(1, Math.max(0, (value - lo) / (hi - lo))) : 0.5;
      marker.style.setProperty("--at", `${(share * 100).toFixed(1)}%`);
    },
  };
}

function statsGrid() {
  const cells = {};
  const names = [["open", "Open"], ["prevClose", "Prev. close"], ["high", "Day high"], ["low", "Day low"], ["volume", "Volume"],
    ["upper", "Upper circuit"], ["lower", "Lower circuit"], ["w52h", "52W high"], ["w52l", "52W low"]];
  const el = h("dl", { class: "stats" }, ...names.map(([key, label]) => {
    cells[key] = h("dd", { class: "num" });
    return h("div", {}, h("dt", { text: label }), cells[key]);
  }));
  return { el, cells };
}

/** Render the stock page for `symbol` into `view`; returns its clean-up. */
export function renderStock(view, rawSymbol, focusDay) {
  const symbol = rawSymbol.toUpperCase();
  const life = lifetime();
  view.append(note(`Loading ${symbol}…`));
  api(`/stocks/detail/${encodeURIComponent(symbol)}`).then(({ data }) => {
    if (life.alive) build(view, life, data, focusDay);
  }).catch((err) => {
    view.replaceChildren(card(symbol, note(err.status === 404 ? `No stock called “${symbol}”. Try the search box.` : err.message, "error")));
  });
  return life.dispose;
}

function build(view, life, stock, focusDay) {
  const { symbol } = stock;
  const quote = { ltp: stock.currentPrice, high: stock.dayHigh, low: stock.dayLow, volume: stock.volume, as_of: stock.asOf };
  const priceEl = h("span", { class: "quote-price num" });
  const changeEl = h("span", { class: "quote-change num" });
  const asOfEl = h("span", { class: "muted" });
  const chartBox = h("div", { class: "chart" });
  let chart = null; // created once the box is in the page, so it knows its size
  const { el: statsEl, cells } = statsGrid();
  const dayRange = rangeBar("Day range");
  const yearRange = rangeBar("52-week range");
  const circuit = rangeBar("Circuit band");
  const panel = orderPanel(life, stock);

  const showQuote = (q) => {
    updateNumber(priceEl, q.ltp, price);
    changeEl.textContent = `${signedPrice(q.change)} (${pct(q.changePct)})`;
    changeEl.dataset.trend = trend(q.change);
    cells.high.textContent = price(q.high);
    cells.low.textContent = price(q.low);
    cells.volume.textContent = volume(q.volume);
    dayRange.set(q.low, q.high, q.ltp);
    yearRange.set(Math.min(stock.week52Low, q.low), Math.max(stock.week52High, q.high), q.ltp);
    circuit.set(stock.lowerCircuit, stock.upperCircuit, q.ltp);
    asOfEl.textContent = `As of ${stamp(q.as_of)} IST`;
    panel.setPrice(q.ltp);
  };
  cells.open.textContent = price(stock.dayOpen);
  cells.prevClose.textContent = price(stock.previousClose);
  cells.upper.textContent = price(stock.upperCircuit);
  cells.lower.textContent = price(stock.lowerCircuit);
  cells.w52h.textContent = price(stock.week52High);
  cells.w52l.textContent = price(stock.week52Low);
  showQuote({ ...quote, change: stock.changeValue, changePct: stock.changePercent });
  markUpdated(stock.asOf, stock.priceSource);

  let interval = focusDay ? "day" : localStorage.getItem(INTERVAL_KEY) ?? "day"; // a scan row opens its day's chart
  const buttons = INTERVALS.map(([value, label]) => h("button", {
    type: "button", class: "seg", text: label, dataset: { interval: value }, "aria-pressed": String(value === interval),
    onclick: () => loadBars(value),
  }));
  const chartNote = h("p", { class: "note note-muted chart-note", hidden: true });
  const loadBars = (value) => {
    interval = value;
    localStorage.setItem(INTERVAL_KEY, value);
    buttons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.interval === value)));
    chartBox.dataset.state = "loading";
    api(`/stocks/history/${encodeURIComponent(symbol)}?interval=${value}`).then(({ data: bars }) => {
      if (!life.alive || value !== interval) return;
      chart.setBars(value, bars);
      chart.tick(quote); // the stored bars end at the last write; the latest quote may be newer
      if (focusDay && value === "day") chart.focus(focusDay);
      chartBox.dataset.state = bars.length ? "ready" : "empty";
      chartBox.dataset.interval = value;
      chartNote.hidden = bars.length > 0;
      chartNote.textContent = "No candles for this interval yet.";
    }).catch((err) => {
      chartBox.dataset.state = "error";
      chartNote.hidden = false;
      chartNote.textContent = err.message;
    });
  };

  life.add(on("quote", (q) => {
    if (q.symbol !== symbol) return;
    Object.assign(quote, { ltp: q.ltp, high: q.day_high, low: q.day_low, volume: q.volume, as_of: q.as_of });
    showQuote({ ...quote, change: q.change, changePct: q.change_pct });
    chart.tick(q);
  }));

  view.replaceChildren(
    h("section", { class: "stock-head", dataset: { symbol } },
      h("div", {},
        h("h1", {}, h("span", { class: "symbol", text: symbol }), " ", h("span", { class: "company", text: stock.companyName })),
        h("div", { class: "muted", text: `${stock.exchange} · ${stock.sector ?? "—"}` })),
      h("div", { class: "quote" }, priceEl, changeEl, asOfEl),
      watchlistMenu(symbol)),
    h("div", { class: "grid grid-main" },
      h("div", { class: "stack" },
        card("Chart", h("div", {}, chartBox, chartNote), h("div", { class: "segmented", role: "group", "aria-label": "Interval" }, ...buttons),
          alertMenu(symbol, () => quote.ltp, () => drawAlerts())),
        card("Today", h("div", {}, statsEl, dayRange.el, yearRange.el, circuit.el)),
        fundamentalsCard(life, symbol)),
      h("div", { class: "stack" }, panel.el, card(`News · ${symbol}`, newsList(life, { symbol, limit: 5 })))),
  );
  chart = candleChart(chartBox);
  life.add(chart.remove);
  const drawAlerts = () => activeAlerts(symbol).then((alerts) => {
    if (!life.alive) return;
    const priced = alerts.filter((a) => a.level !== null && a.kind !== "volume_above");
    chart.setLevels(priced.map((a) => ({ price: a.level, title: `alert · ${a.note ?? a.kind.replaceAll("_", " ")}` })));
  });
  drawAlerts();
  life.add(on("alert_triggered", ({ alert }) => alert.symbol === symbol && drawAlerts()));
  loadBars(interval);
  life.add(watch([symbol]));
}
