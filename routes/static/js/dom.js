// A tiny element builder: text is always set as text (never parsed as HTML).

/**
 * h("a", {class: "x", href: "#/", onclick: fn, dataset: {symbol}}, "text", child) -> element.
 * Props starting with "on" add listeners; `class`, `text`, `dataset`, `hidden`, `disabled`, `value` are set directly.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (["hidden", "disabled", "value", "checked", "selected"].includes(key)) el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

/** A card: title bar (with optional actions) and a body. */
export function card(title, body, ...actions) {
  return h("section", { class: "card" }, h("header", { class: "card-head" }, h("h2", { text: title }), ...actions), body);
}

/** A muted placeholder line: loading, empty or error states. */
export const note = (text, kind = "muted") => h("p", { class: `note note-${kind}`, text });

/** Link to a stock's page. */
export const stockLink = (symbol, text = symbol) => h("a", { class: "symbol", href: `#/stock/${encodeURIComponent(symbol)}`, text });

/** Collects clean-up functions of a view; `alive` turns false once the view is left. */
export function lifetime() {
  const disposers = [];
  const life = {
    alive: true,
    add(fn) {
      disposers.push(fn);
      return fn;
    },
    every(ms, fn) {
      const id = setInterval(fn, ms);
      disposers.push(() => clearInterval(id));
    },
    dispose() {
      life.alive = false;
      disposers.splice(0).forEach((fn) => fn());
    },
  };
  return life;
}
