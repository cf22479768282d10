// News with sentiment: a compact list (market and stock pages) and the full news view with a search.
import { api } from "../api.js";
import { card, h, lifetime, note, stockLink } from "../dom.js";
import { stamp } from "../format.js";
import { sentimentCard } from "./sentiment.js";

const REFRESH_MS = 60_000;

function item(news) {
  const external = /^https?:\/\//.test(news.url);
  const headline = external
    ? h("a", { href: news.url, target: "_blank", rel: "noopener noreferrer", text: news.headline })
    : h("span", { text: news.headline });
  const { label, score } = news.sentiment;
  return h("article", { class: "news-item" },
    h("h3", { class: "news-headline" }, headline),
    news.summary ? h("p", { class: "news-summary", text: news.summary }) : null,
    h("div", { class: "news-meta" },
      h("span", { class: `chip sentiment-${label}`, text: `${label} ${score >= 0 ? "+" : ""}${score.toFixed(2)}`, title: "VADER sentiment" }),
      h("span", { text: news.source }), h("time", { datetime: news.timestamp, text: stamp(news.timestamp) }),
      ...news.symbols.slice(0, 4).map((s) => stockLink(s))));
}

/** A news list filled from /news/latest (query: limit, symbol, q), refreshed until `life` ends. */
export function newsList(life, query = {}) {
  const list = h("div", { class: "news-list" }, note("Loading news…"));
  const params = new URLSearchParams(Object.entries({ limit: 8, ...query }).filter(([, v]) => v));
  const load = () => api(`/news/latest?${params}`).then((body) => {
    if (life.alive) list.replaceChildren(...(body.data.length ? body.data.map(item) : [note("No news yet.")]));
  }).catch((err) => list.replaceChildren(note(`News unavailable: ${err.message}`, "error")));
  load();
  life.every(REFRESH_MS, load);
  return list;
}

/** #/news: search box, headlines and the sentiment gauge. */
export function renderNews(view) {
  const life = lifetime();
  let current = lifetime();
  const slot = h("div");
  const show = (q) => {
    current.dispose();
    current = lifetime();
    slot.replaceChildren(newsList(current, { limit: 30, q }));
  };
  const input = h("input", { type: "search", placeholder: "Filter headlines (e.g. bank, RELIANCE)", "aria-label": "Filter news" });
  let timer = null;
  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => show(input.value.trim()), 300); });
  show("");
  view.append(h("div", { class: "grid grid-main" },
    card("News", h("div", {}, h("div", { class: "toolbar" }, input), slot)),
    h("div", { class: "stack" }, sentimentCard(life))));
  return () => { current.dispose(); life.dispose(); };
}
