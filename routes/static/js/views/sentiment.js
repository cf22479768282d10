// The market sentiment gauge (/sentiment/market): breadth plus news, 0 (bearish) to 100 (bullish).
import { api } from "../api.js";
import { card, h, note } from "../dom.js";
import { count, time } from "../format.js";

const REFRESH_MS = 30_000;

/** The gauge card; refreshes until `life` ends. */
export function sentimentCard(life) {
  const needle = h("div", { class: "gauge-needle" });
  const score = h("div", { class: "gauge-score", text: "…" });
  const label = h("div", { class: "gauge-label", text: "Loading…" });
  const stats = h("dl", { class: "stats stats-3" });
  const updated = h("p", { class: "note note-muted" });
  const gauge = h("div", { class: "gauge", role: "meter", "aria-valuemin": "0", "aria-valuemax": "100", "aria-label": "Market sentiment" },
    h("div", { class: "gauge-arc" }), needle, h("div", { class: "gauge-hub" }));
  const stat = (name, value, cls = "") => h("div", {}, h("dt", { text: name }), h("dd", { class: cls, text: value }));

  const load = () => api("/sentiment/market").then(({ data }) => {
    gauge.style.setProperty("--angle", `${(data.score / 100) * 180 - 90}deg`);
    gauge.setAttribute("aria-valuenow", String(data.score));
    gauge.dataset.overall = data.overall;
    score.textContent = String(Math.round(data.score));
    label.textContent = data.overall.toUpperCase();
    label.dataset.overall = data.overall;
    stats.replaceChildren(stat("Advances", count(data.advances), "up"), stat("Declines", count(data.declines), "down"),
      stat("Unchanged", count(data.unchanged)), stat("Bullish", `${data.bullishPercent}%`),
      stat("Bearish", `${data.bearishPercent}%`), stat("News score", String(Math.round(data.newsScore))));
    updated.textContent = `As of ${time(data.timestamp)} IST · ${count(data.totalStocks)} stocks`;
  }).catch((err) => label.replaceChildren(note(err.message, "error")));
  load();
  life.every(REFRESH_MS, load);
  return card("Market sentiment", h("div", { class: "sentiment" }, gauge, score, label, stats, updated));
}
