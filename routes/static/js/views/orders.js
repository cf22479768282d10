// #/orders: the user's orders with live status (`order_update`), why one was rejected or cancelled, cancel and a
// labelled modify form stepping by the instrument's tick; recent trades; CSV exports of both.
import { api, authed } from "../api.js";
import { card, h, lifetime, note, stockLink } from "../dom.js";
import { count, money, price, stamp } from "../format.js";
import { session } from "../session.js";
import { on } from "../socket.js";
import { signInPrompt } from "./auth.js";
import { exportButton } from "./exports.js";

const WORKING = new Set(["OPEN", "TRIGGER_PENDING"]);
const COLUMNS = ["Time", "Stock", "Side", "Type", "Qty", "Price", "Avg. price", "Status", ""];

function priceText(order) {
  const parts = [];
  if (order.price !== null) parts.push(price(order.price));
  if (order.trigger_price !== null) parts.push(`trg ${price(order.trigger_price)}`);
  return parts.join(" · ") || "MKT";
}

/** A labelled number input of the modify form. */
function modifyField(name, label, value, step) {
  const input = h("input", { name, type: "number", min: "0", step, value: String(value) });
  return { input, el: h("label", { class: "field field-inline" }, h("span", { text: label }), input) };
}

function modifyForm(order, done, say) {
  const quantity = modifyField("quantity", "Quantity", order.quantity, "1");
  const limit = order.price !== null ? modifyField("price", "Limit price", order.price, "0.05") : null;
  const trigger = order.trigger_price !== null ? modifyField("trigger_price", "Trigger price", order.trigger_price, "0.05") : null;
  // the price arrows step by the instrument's tick size (0.10 for RELIANCE), as the server enforces
  api(`/stocks/detail/${encodeURIComponent(order.symbol)}`).then(({ data }) => {
    [limit, trigger].forEach((f) => f?.input.setAttribute("step", String(data.tickSize)));
  }).catch(() => {});
  const save = () => {
    const body = { quantity: Number(quantity.input.value) };
    if (limit) body.price = Number(limit.input.value);
    if (trigger) body.trigger_price = Number(trigger.input.value);
    authed(`/orders/${order.order_id}`, { method: "PATCH", body }).then(({ data }) => done(data)).catch((err) => say(err.text));
  };
  return h("td", { colspan: String(COLUMNS.length), class: "modify" },
    h("div", { class: "toolbar" }, h("span", { text: `Modify #${order.order_id}` }), quantity.el, limit?.el, trigger?.el,
      h("button", { type: "button", class: "button primary", text: "Save", onclick: save }),
      h("button", { type: "button", class: "button", text: "Back", onclick: () => done(order) })));
}

/** Render #/orders into `view`. */
export function renderOrders(view) {
  const life = lifetime();
  if (!session.user()) {
    view.append(signInPrompt("Orders", "see and manage your paper orders"));
    return life.dispose;
  }
  const tbody = h("tbody", {}, h("tr", {}, h("td", { colspan: String(COLUMNS.length) }, note("Loading orders…"))));
  const trades = h("tbody");
  const message = h("p", { class: "note note-error", role: "alert", hidden: true });
  const say = (text) => { message.textContent = text; message.hidden = false; };
  const rows = new Map(); // order_id -> tr

  const row = (order) => {
    const working = WORKING.has(order.status);
    const tr = h("tr", { dataset: { orderId: String(order.order_id), status: order.status } },
      h("td", { text: stamp(order.created_at) }), h("td", {}, stockLink(order.symbol)),
      h("td", { class: `side-${order.side.toLowerCase()}`, text: order.side }), h("td", { text: order.order_type }),
      h("td", { class: "num", text: `${count(order.filled_quantity)}/${count(order.quantity)}` }),
      h("td", { class: "num", text: priceText(order) }), h("td", { class: "num", text: price(order.average_price) }),
      h("td", {}, h("span", { class: `chip status-${order.status.toLowerCase()}`, text: order.status.replace("_", " ") }),
        order.is_amo ? h("span", { class: "chip", text: "AMO", title: "After-market order: executes at the next open" }) : null,
        order.reject_reason ? h("div", { class: "order-reason", text: order.reject_reason }) : null),
      h("td", { class: "actions" }, working ? [
        h("button", { type: "button", class: "button", text: "Modify", onclick: () => tr.replaceChildren(modifyForm(order, put, say)) }),
        h("button", { type: "button", class: "button danger", text: "Cancel", onclick: () => authed(`/orders/${order.order_id}`, { method: "DELETE" }).then(({ data }) => put(data)).catch((err) => say(err.text)) }),
      ] : []));
    return tr;
  };
  const put = (order) => {
    const fresh = row(order);
    const old = rows.get(order.order_id);
    if (old) old.replaceWith(fresh);
    else if (rows.size) tbody.prepend(fresh);
    else tbody.replaceChildren(fresh);
    rows.set(order.order_id, fresh);
  };
  const tradeRow = (t) => h("tr", {}, h("td", { text: stamp(t.executed_at) }), h("td", {}, stockLink(t.symbol)),
    h("td", { class: `side-${t.side.toLowerCase()}`, text: t.side }), h("td", { class: "num", text: count(t.quantity) }),
    h("td", { class: "num", text: money(t.price) }));

  authed("/orders?limit=100").then(({ data }) => {
    if (!life.alive) return;
    if (!data.length) tbody.replaceChildren(h("tr", {}, h("td", { colspan: String(COLUMNS.length) }, note("No orders yet: open a stock and place one."))));
    [...data].reverse().forEach(put);
  }).catch((err) => say(err.text));
  authed("/trades?limit=20").then(({ data }) => {
    if (life.alive) trades.replaceChildren(...(data.length ? data.map(tradeRow) : [h("tr", {}, h("td", { colspan: "5" }, note("No trades yet.")))]));
  }).catch(() => {});
  life.add(on("order_update", put));
  life.add(on("trade", (t) => { trades.querySelector(".note")?.closest("tr")?.remove(); trades.prepend(tradeRow(t)); }));

  view.append(
    card("Orders", h("div", { class: "table-wrap" }, message,
      h("table", { class: "table orders" }, h("thead", {}, h("tr", {}, ...COLUMNS.map((c) => h("th", { text: c })))), tbody)),
    exportButton("orders", "/orders/export.csv", "orders.csv")),
    card("Recent trades", h("div", { class: "table-wrap" }, h("table", { class: "table trades" },
      h("thead", {}, h("tr", {}, ...["Time", "Stock", "Side", "Qty", "Price"].map((c) => h("th", { text: c })))), trades)),
    exportButton("trades", "/trades/export.csv", "trades.csv")),
  );
  return life.dispose;
}
