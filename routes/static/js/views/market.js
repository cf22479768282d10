// #/ : movers, the sector heatmap, market sentiment and the latest headlines.
import { card, h, lifetime } from "../dom.js";
import { moversCard } from "./movers.js";
import { newsList } from "./news.js";
import { sectorHeatmap } from "./sectors.js";
import { sentimentCard } from "./sentiment.js";

/** Render the market overview into `view`; returns its clean-up. */
export function renderMarket(view) {
  const life = lifetime();
  view.append(
    moversCard(life),
    sectorHeatmap(life),
    h("div", { class: "grid grid-side" }, card("Latest news", newsList(life, { limit: 6 })), sentimentCard(life)),
  );
  return life.dispose;
}
