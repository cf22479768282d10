// Header stock search: results as you type, ↑/↓ to move, Enter to open, Escape to close.
import { api } from "../api.js";
import { h } from "../dom.js";
import { pct, price, trend } from "../format.js";

const DEBOUNCE_MS = 150;

/** Wire the search box inside `root` (an input and a listbox). */
export function startSearch(root) {
  const input = root.querySelector("input");
  const list = root.querySelector("[role=listbox]");
  let results = [];
  let shownQuery = "";
  let active = -1;
  let timer = null;
  let latest = 0;

  const close = () => {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const open = (symbol) => {
    close();
    input.value = "";
    input.blur();
    location.hash = `#/stock/${encodeURIComponent(symbol)}`;
  };
  const highlight = (index) => {
    active = index;
    [...list.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
    if (index >= 0) {
      input.setAttribute("aria-activedescendant", list.children[index].id);
      list.children[index].scrollIntoView({ block: "nearest" });
    }
  };
  const show = (rows, query) => {
    results = rows;
    shownQuery = query;
    list.replaceChildren(...(rows.length ? rows.map((row, i) => h("li", {
      id: `search-option-${i}`, role: "option", class: "search-option", "aria-selected": "false", dataset: { symbol: row.symbol },
      onmousedown: (event) => { event.preventDefault(); open(row.symbol); },
    }, h("span", { class: "symbol", text: row.symbol }), h("span", { class: "company", text: row.companyName }),
      h("span", { class: "num", text: price(row.currentPrice) }),
      h("span", { class: `num ${trend(row.changePercent)}`, text: pct(row.changePercent) })))
      : [h("li", { class: "search-empty", text: `No stock matches “${query}”` })]));
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    highlight(rows.length ? 0 : -1);
  };
  const search = async () => {
    const query = input.value.trim();
    if (!query) return close();
    const ticket = ++latest;
    try {
      const body = await api(`/stocks/search?q=${encodeURIComponent(query)}&limit=8`);
      if (ticket === latest) show(body.data, query);
    } catch (err) {
      if (ticket === latest) list.replaceChildren(h("li", { class: "search-empty", text: err.message }));
    }
  };

  const enter = async () => {
    if (shownQuery !== input.value.trim()) {  // typed faster than the debounce: search first
      clearTimeout(timer);
      await search();
    }
    const chosen = results[Math.max(active, 0)];
    if (chosen && shownQuery === input.value.trim()) open(chosen.symbol);
  };

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, DEBOUNCE_MS);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (list.hidden || !results.length) return;
      const step = event.key === "ArrowDown" ? 1 : -1;
      highlight((active + step + results.length) % results.length);
    } else if (event.key === "Enter") {
      event.preventDefault();
      enter();
    } else if (event.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 100));
  document.addEventListener("keydown", (event) => {  // "/" focuses the search box
    if (event.key === "/" && document.activeElement?.tagName !== "INPUT") {
      event.preventDefault();
      input.focus();
    }
  });
}
