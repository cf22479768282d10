// Charts (TradingView lightweight-charts): candles with volume that live ticks extend, and an equity line.
// Intraday bars come as epoch seconds and are shifted to IST wall-clock time, because the library shows UTC.
import { AreaSeries, CandlestickSeries, ColorType, HistogramSeries, createChart } from "../../vendor/lightweight-charts.js";

const IST_OFFSET_S = 19_800;
const BAR_SECONDS = { "1minute": 60, "5minute": 300, "15minute": 900, "30minute": 1800 };

function palette() {
  const css = getComputedStyle(document.documentElement);
  const v = (name) => css.getPropertyValue(name).trim();
  return { text: v("--text-muted"), surface: v("--surface"), grid: v("--grid"), border: v("--border"), up: v("--up"), down: v("--down"), accent: v("--accent") };
}

function chartOptions(colors) {
  return {
    // The logo injects a <style> element, which the page's CSP refuses; the footer credits TradingView instead.
    layout: { background: { type: ColorType.Solid, color: colors.surface }, textColor: colors.text, fontFamily: "inherit", attributionLogo: false },
    grid: { vertLines: { color: colors.grid }, horzLines: { color: colors.grid } },
    rightPriceScale: { borderColor: colors.border },
    timeScale: { borderColor: colors.border },
  };
}

function themedChart(container, extra, restyle) {
  const chart = createChart(container, { autoSize: true, ...chartOptions(palette()), ...extra });
  const onTheme = () => {
    const colors = palette();
    chart.applyOptions(chartOptions(colors));
    restyle(colors);
  };
  document.addEventListener("themechange", onTheme);
  return { chart, remove: () => { document.removeEventListener("themechange", onTheme); chart.remove(); } };
}

/** The bar a quote time falls in: its start in IST-shifted seconds (intraday) or its first day (YYYY-MM-DD). */
function barTime(interval, isoTime) {
  const seconds = Date.parse(isoTime) / 1000 + IST_OFFSET_S;
  const size = BAR_SECONDS[interval];
  if (size) return Math.floor(seconds / size) * size;
  const day = new Date(seconds * 1000); // IST wall-clock date in the UTC fields
  if (interval === "week") day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7)); // back to Monday
  if (interval === "month") day.setUTCDate(1);
  return day.toISOString().slice(0, 10);
}

/** A candlestick + volume chart in `container`: setBars(interval, bars), tick(quote), setLevels(levels), remove(). */
export function candleChart(container) {
  let candles, volumes;
  const styleSeries = (colors) => {
    candles.applyOptions({ upColor: colors.up, downColor: colors.down, wickUpColor: colors.up, wickDownColor: colors.down, borderVisible: false });
    volumes.applyOptions({ color: colors.grid });
  };
  const { chart, remove } = themedChart(container, { timeScale: { secondsVisible: false } }, (c) => styleSeries(c));
  candles = chart.addSeries(CandlestickSeries, {});
  volumes = chart.addSeries(HistogramSeries, { priceFormat: { type: "volume" }, priceScaleId: "" });
  volumes.priceScale().applyOptions({ scaleMargins: { top: 0.82, bottom: 0 } });
  styleSeries(palette());
  let interval = "day";
  let last = null;
  let lastVolume = null;
  let ticks = 0;
  let lines = [];
  const mark = () => {  // the last bar and how many live prices it took, readable from the page (and by tests)
    container.dataset.lastTime = last ? String(last.time) : "";
    container.dataset.lastClose = last ? String(last.close) : "";
    container.dataset.ticks = String(ticks);
  };

  return {
    setBars(nextInterval, bars) {
      interval = nextInterval;
      chart.applyOptions({ timeScale: { timeVisible: interval in BAR_SECONDS } });
      const shift = (t) => (typeof t === "number" ? t + IST_OFFSET_S : t);
      const data = bars.map((b) => ({ time: shift(b.time), open: b.open, high: b.high, low: b.low, close: b.close }));
      candles.setData(data);
      volumes.setData(bars.map((b) => ({ time: shift(b.time), value: b.volume })));
      last = data.length ? { ...data[data.length - 1], volume: bars[bars.length - 1].volume } : null;
      lastVolume = null;
      ticks = 0;
      mark();
      chart.timeScale().fitContent();
    },
    /** Extend the last candle with a live price (a new bar when the quote starts the next period). */
    tick(quote) {
      if (!last || !quote.ltp) return;
      const time = barTime(interval, quote.as_of);
      const traded = lastVolume === null ? 0 : Math.max(0, quote.volume - lastVolume);
      lastVolume = quote.volume;
      if (time === last.time) {
        last = { ...last, high: Math.max(last.high, quote.ltp), low: Math.min(last.low, quote.ltp), close: quote.ltp, volume: last.volume + traded };
      } else if (time > last.time) {
        last = { time, open: quote.ltp, high: quote.ltp, low: quote.ltp, close: quote.ltp, volume: traded };
      } else {
        return;
      }
      if (interval === "day") last.volume = quote.volume;
      candles.update({ time: last.time, open: last.open, high: last.high, low: last.low, close: last.close });
      volumes.update({ time: last.time, value: last.volume });
      ticks += 1;
      mark();
    },
    /** Show the bars around one day ("YYYY-MM-DD"): about three months before it and a few weeks after. */
    focus(day) {
      const at = Date.parse(day);
      const iso = (ms) => new Date(ms).toISOString().slice(0, 10);
      chart.timeScale().setVisibleRange({ from: iso(at - 90 * 86400000), to: iso(at + 20 * 86400000) });
      container.dataset.focus = day;
    },
    /** Dashed price lines at these levels ([{price, title}]), replacing the previous ones (the user's alerts). */
    setLevels(levels) {
      lines.forEach((line) => candles.removePriceLine(line));
      const color = palette().accent;
      lines = levels.map((level) => candles.createPriceLine({ price: level.price, title: level.title, color, lineWidth: 1, lineStyle: 2, axisLabelVisible: true }));
      container.dataset.alertLines = levels.map((level) => level.price).join(",");
    },
    remove,
  };
}

/** An area chart of a time series ([{time: ISO 8601, value}], shown in IST): setPoints(points, intraday), remove(). */
export function equityChart(container) {
  let area;
  const style = (colors) => area.applyOptions({ lineColor: colors.accent, topColor: `${colors.accent}55`, bottomColor: `${colors.accent}05` });
  const { chart, remove } = themedChart(container, {}, (c) => style(c));
  area = chart.addSeries(AreaSeries, { lineWidth: 2, priceFormat: { type: "price", precision: 2, minMove: 0.01 } });
  style(palette());
  return {
    setPoints(points, intraday) {
      const byTime = new Map(); // one value per second, the latest wins (the chart needs strictly rising times)
      for (const p of points) byTime.set(Math.floor(Date.parse(p.time) / 1000) + IST_OFFSET_S, p.value);
      const data = [...byTime].sort((a, b) => a[0] - b[0]).map(([time, value]) => ({ time, value }));
      chart.applyOptions({ timeScale: { timeVisible: intraday } });
      area.setData(data);
      container.dataset.points = String(data.length);
      chart.timeScale().fitContent();
    },
    remove,
  };
}
