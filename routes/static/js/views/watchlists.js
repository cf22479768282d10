// #/watchlists: create, rename, delete lists; add and remove stocks; live quotes. Also the
// "add to watchlist" menu of the stock page.
import { api, authed } from "../api.js";
import { card, h, lifetime, note, stockLink } from "../dom.js";
import { pct, price, signedPrice, trend, updateNumber } from "../format.js";
import { session } from "../session.js";
import { on, watch } from "../socket.js";
import { bellIcon } from "./alert_bell.js";
import { alertForm } from "./alerts.js";
import { signInPrompt } from "./auth.js";

/** An input with stock suggestions from /stocks/search (a datalist). */
function symbolInput(placeholder) {
  const id = `symbols-${Math.random().toString(36).slice(2)}`;
  const options = h("datalist", { id });
  const input = h("input", { type: "text", placeholder, list: id, autocomplete: "off", "aria-label": placeholder });
  input.addEventListener("input", () => {
    const q = input.value.trim();
    if (!q) return;
    api(`/stocks/search?q=${encodeURIComponent(q)}&limit=8`).then(({ data }) => {
      options.replaceChildren(...data.map((s) => h("option", { value: s.symbol, text: s.companyName })));
    }).catch(() => {});
  });
  return { input, el: h("span", { class: "symbol-input" }, input, options) };
}

function itemRow(list, item, reload, say) {
  const ltp = h("td", { class: "num ltp", text: price(item.ltp), dataset: item.ltp === null ? {} : { value: String(item.ltp) } });
  const change = h("td", { class: `num ${trend(item.change)}`, text: signedPrice(item.change) });
  const changePct = h("td", { class: `num ${trend(item.change)}`, text: pct(item.change_pct) });
  const drop = () => authed(`/watchlists/${list.watchlist_id}/items/${encodeURIComponent(item.symbol)}`, { method: "DELETE" })
    .then(reload).catch((e) => say(e.text));
  let alerting = null; // the row under this one with the "Add alert" form, while it is open
  const addAlert = () => {
    if (alerting) {
      alerting.remove();
      alerting = null;
      return;
    }
    const current = () => (ltp.dataset.value === undefined ? item.ltp : Number(ltp.dataset.value));
    alerting = h("tr", { class: "alert-row", dataset: { alertFor: item.symbol } },
      h("td", { colspan: "5" }, alertForm(item.symbol, current).el));
    row.after(alerting);
  };
  const row = h("tr", { dataset: { symbol: item.symbol } },
    h("td", {}, stockLink(item.symbol), h("div", { class: "company", text: item.company_name })), ltp, change, changePct,
    h("td", { class: "actions" },
      h("button", { type: "button", class: "icon-button", title: `Add an alert on ${item.symbol}`,
        "aria-label": `Add an alert on ${item.symbol}`, onclick: addAlert }, bellIcon()),
      h("button", { type: "button", class: "icon-button", text: "✕", title: `Remove ${item.symbol}`,
        "aria-label": `Remove ${item.symbol}`, onclick: drop })));
  const live = (q) => {
    updateNumber(ltp, q.ltp, price);
    change.textContent = signedPrice(q.change);
    changePct.textContent = pct(q.change_pct);
    change.className = changePct.className = `num ${trend(q.change)}`;
  };
  return { row, live };
}

function listCard(list, reload, rows) {
  const path = `/watchlists/${list.watchlist_id}`;
  const message = h("p", { class: "note note-error", role: "alert", hidden: true });
  const say = (text) => { message.textContent = text; message.hidden = false; };
  const title = h("h2", { text: list.name });
  let editor = null;
  const save = () => authed(path, { method: "PATCH", body: { name: editor.value.trim() } }).then(reload).catch((e) => say(e.text));
  const rename = h("button", { type: "button", class: "button", text: "Rename", onclick: () => {
    if (editor) return save();
    editor = h("input", { type: "text", value: list.name, "aria-label": "New name", maxlength: "64" });
    editor.addEventListener("keydown", (e) => { if (e.key === "Enter") save(); if (e.key === "Escape") reload(); });
    title.replaceChildren(editor);
    rename.textContent = "Save";
    editor.focus();
  } });
  const remove = h("button", { type: "button", class: "button danger", text: "Delete", onclick: () => {
    if (confirm(`Delete the watchlist “${list.name}”?`)) authed(path, { method: "DELETE" }).then(reload).catch((e) => say(e.text));
  } });
  const adder = symbolInput("Add a stock (symbol)");
  const add = () => {
    const symbol = adder.input.value.trim().toUpperCase();
    if (symbol) authed(`${path}/items`, { method: "POST", body: { symbol } }).then(reload).catch((e) => say(e.text));
  };
  adder.input.addEventListener("keydown", (e) => { if (e.key === "Enter") add(); });
  const head = h("thead", {}, h("tr", {}, ...["Stock", "LTP", "Change", "%", ""].map((t, i) => h("th", { class: i && i < 4 ? "num" : "", text: t }))));
  const body = list.items.length
    ? h("table", { class: "table" }, head, h("tbody", {}, ...list.items.map((item) => {
      const r = itemRow(list, item, reload, say);
      rows.push([item.symbol, r.live]);
      return r.row;
    })))
    : note("Empty list: add a stock below or from a stock's page.");
  return h("section", { class: "card watchlist", dataset: { watchlistId: String(list.watchlist_id), name: list.name } },
    h("header", { class: "card-head" }, title, rename, remove),
    body, h("div", { class: "toolbar" }, adder.el, h("button", { type: "button", class: "button", text: "Add", onclick: add })), message);
}

/** Render #/watchlists into `view`. */
export function renderWatchlists(view) {
  const life = lifetime();
  if (!session.user()) {
    view.append(signInPrompt("Watchlists", "keep watchlists with live quotes"));
    return life.dispose;
  }
  const lists = h("div", { class: "stack" }, note("Loading watchlists…"));
  const name = h("input", { type: "text", placeholder: "New watchlist name", maxlength: "64", "aria-label": "New watchlist name" });
  const message = h("p", { class: "note note-error", role: "alert", hidden: true });
  let release = () => {};
  let rows = [];
  const load = () => authed("/watchlists").then(({ data }) => {
    if (!life.alive) return;
    message.hidden = true;
    rows = [];
    lists.replaceChildren(...(data.length ? data.map((list) => listCard(list, load, rows)) : [note("No watchlists yet: create one above.")]));
    release();
    release = watch([...new Set(rows.map(([symbol]) => symbol))]);
  }).catch((err) => lists.replaceChildren(note(err.text, "error")));
  const create = () => {
    if (!name.value.trim()) return;
    authed("/watchlists", { method: "POST", body: { name: name.value.trim() } }).then(() => { name.value = ""; load(); })
      .catch((err) => { message.textContent = err.text; message.hidden = false; });
  };
  name.addEventListener("keydown", (e) => { if (e.key === "Enter") create(); });
  life.add(on("quote", (q) => rows.forEach(([symbol, live]) => symbol === q.symbol && live(q))));
  life.add(() => release());
  view.append(card("Watchlists", h("div", {}, h("div", { class: "toolbar" }, name,
    h("button", { type: "button", class: "button primary", text: "Create", onclick: create })), message)), lists);
  load();
  return life.dispose;
}

/** The stock page's "add to watchlist" menu for `symbol`. */
export function watchlistMenu(symbol) {
  const menu = h("div", { class: "menu-body" });
  const details = h("details", { class: "menu" }, h("summary", { class: "button", text: "☆ Add to watchlist" }), menu);
  const fill = async () => {
    if (!session.user()) return menu.replaceChildren(h("a", { href: "#/login", text: "Sign in to use watchlists" }));
    menu.replaceChildren(note("Loading…"));
    const say = (text) => menu.append(note(text, "error"));
    const addTo = (list) => authed(`/watchlists/${list.watchlist_id}/items`, { method: "POST", body: { symbol } })
      .then(fill).catch((err) => say(err.text));
    try {
      const { data } = await authed("/watchlists");
      const name = h("input", { type: "text", placeholder: "New list", maxlength: "64", "aria-label": "New watchlist name" });
      const create = () => authed("/watchlists", { method: "POST", body: { name: name.value.trim() || "My watchlist" } })
        .then(({ data: list }) => addTo(list)).catch((err) => say(err.text));
      menu.replaceChildren(...data.map((list) => {
        const has = list.items.some((i) => i.symbol === symbol);
        return h("button", { type: "button", class: "menu-item", disabled: has, dataset: { watchlistId: String(list.watchlist_id) },
          text: has ? `✓ In ${list.name}` : `Add to ${list.name}`, onclick: () => addTo(list) });
      }), h("div", { class: "toolbar" }, name, h("button", { type: "button", class: "button", text: "Create & add", onclick: create })));
    } catch (err) {
      menu.replaceChildren(note(err.text, "error"));
    }
  };
  details.addEventListener("toggle", () => details.open && fill());
  return details;
}
