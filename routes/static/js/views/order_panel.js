// The order panel of a stock page: BUY/SELL, MARKET/LIMIT/SL/SL-M, quantity, prices, a live cost
// estimate against available cash, and the API's error message when the order is refused.
import { authed } from "../api.js";
import { h, note } from "../dom.js";
import { money, when } from "../format.js";
import { session } from "../session.js";
import { on } from "../socket.js";
import { onMarket } from "./status.js";

const TYPES = ["MARKET", "LIMIT", "SL", "SL-M"];

const newOrderId = () => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`);

/** Describe an order for the panel's message line. */
function orderSummary(order) {
  const what = `${order.side} ${order.quantity} ${order.symbol} (${order.order_type})`;
  if (order.status === "COMPLETE") return `${what}: filled at ${money(order.average_price)}`;
  const amo = order.is_amo ? ", after-market: executes at the next open" : "";
  const why = order.reject_reason ? `. ${order.reject_reason}` : ""; // rejected, or an IOC that could not fill
  return `${what}: ${order.status.replace("_", " ").toLowerCase()}${amo}${why}`;
}

function field(label, input) {
  return h("label", { class: "field" }, h("span", { text: label }), input);
}

/** The panel for `stock` ({symbol, currentPrice, tickSize}); `setPrice(ltp)` keeps the estimate live. */
export function orderPanel(life, stock) {
  const head = h("header", { class: "card-head" }, h("h2", { text: "Trade" }));
  if (!session.user()) {
    const el = h("section", { class: "card order-panel" }, head, note("Sign in or register to place paper orders (₹ virtual cash)."),
      h("a", { class: "button primary", href: "#/login", text: "Sign in to trade", onclick: () => sessionStorage.setItem("mdash.return", location.hash) }));
    return { el, setPrice: () => {} };
  }
  let ltp = stock.currentPrice;
  const tick = stock.tickSize || 0.05; // the price arrows step by the instrument's tick, as the server enforces
  const onTick = (v) => (Math.round(v / tick) * tick).toFixed(2);
  let side = "BUY";
  let available = null;
  let lastOrderId = null;
  const sideButtons = ["BUY", "SELL"].map((value) => h("button", {
    type: "button", class: `seg side-${value.toLowerCase()}`, text: value, "aria-pressed": String(value === side),
    onclick: () => { side = value; update(); },
  }));
  const type = h("select", { name: "order_type" }, ...TYPES.map((t) => h("option", { value: t, text: t })));
  const quantity = h("input", { name: "quantity", type: "number", min: "1", step: "1", value: "1", inputmode: "numeric" });
  const limit = h("input", { name: "price", type: "number", min: "0", step: String(tick), value: onTick(ltp) });
  const trigger = h("input", { name: "trigger_price", type: "number", min: "0", step: String(tick), value: onTick(ltp) });
  const validity = h("select", { name: "validity" }, h("option", { value: "DAY", text: "DAY" }), h("option", { value: "IOC", text: "IOC" }));
  const limitField = field("Limit price", limit);
  const triggerField = field("Trigger price", trigger);
  const estimate = h("p", { class: "estimate" });
  const closed = h("p", { class: "note note-warn", hidden: true });
  const message = h("p", { class: "order-message", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "button primary" });

  const say = (text, kind) => {
    message.textContent = text;
    message.dataset.kind = kind;
    message.hidden = false;
  };
  const update = () => {
    const t = type.value;
    limitField.hidden = !(t === "LIMIT" || t === "SL");
    triggerField.hidden = !(t === "SL" || t === "SL-M");
    sideButtons.forEach((b) => b.setAttribute("aria-pressed", String(b.textContent === side)));
    submit.textContent = `${side === "BUY" ? "Buy" : "Sell"} ${stock.symbol}`;
    submit.dataset.side = side;
    const qty = Number(quantity.value);
    const at = limitField.hidden ? ltp : Number(limit.value);
    const value = Number.isInteger(qty) && qty > 0 && at > 0 ? qty * at : null;
    const label = side === "BUY" ? "Estimated cost" : "Estimated proceeds";
    const short = side === "BUY" && value !== null && available !== null && value > available;
    estimate.replaceChildren(h("span", { text: `${label} ` }), h("strong", { class: "num", text: money(value) }),
      h("span", { class: "muted", text: available === null ? "" : ` · available ${money(available)}` }));
    estimate.dataset.short = String(short);
  };
  const send = async (event) => {
    event.preventDefault();
    const qty = Number(quantity.value);
    if (!Number.isInteger(qty) || qty < 1) return say("Enter a whole number of shares (1 or more).", "error");
    const body = { symbol: stock.symbol, side, order_type: type.value, quantity: qty, validity: validity.value, client_order_id: newOrderId() };
    if (!limitField.hidden) body.price = Number(limit.value);
    if (!triggerField.hidden) body.trigger_price = Number(trigger.value);
    if ([body.price, body.trigger_price].some((p) => p !== undefined && !(p > 0))) return say("Enter a price above zero.", "error");
    submit.disabled = true;
    try {
      const { data } = await authed("/orders", { method: "POST", body });
      lastOrderId = data.order_id;
      say(orderSummary(data), data.status === "REJECTED" ? "error" : "ok");
      loadAccount();
    } catch (err) {
      say(err.text, "error");
    } finally {
      submit.disabled = false;
    }
  };
  const loadAccount = () => authed("/account").then(({ data }) => { available = data.available; update(); }).catch(() => {});

  [type, quantity, limit].forEach((input) => input.addEventListener("input", update));
  life.add(on("account_update", (account) => { available = account.available; update(); }));
  life.add(on("order_update", (order) => {
    if (order.order_id === lastOrderId) say(orderSummary(order), order.status === "REJECTED" ? "error" : "ok");
  }));
  life.add(onMarket((status) => {
    closed.hidden = status.is_market_open;
    closed.textContent = `Market closed: orders wait as after-market orders and execute at the next open (${when(status.next_open)}).`;
  }));
  const el = h("section", { class: "card order-panel", "aria-label": "Place an order" }, head,
    h("form", { class: "order-form", novalidate: true, onsubmit: send },
      h("div", { class: "segmented sides", role: "group", "aria-label": "Side" }, ...sideButtons),
      h("div", { class: "fields" }, field("Type", type), field("Quantity", quantity), limitField, triggerField, field("Validity", validity)),
      estimate, closed, submit, message));
  update();
  loadAccount();
  return { el, setPrice: (value) => { ltp = value; update(); } };
}
