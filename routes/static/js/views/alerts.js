// #/alerts: the user's alerts (with their distance from the price, disable/enable, delete) and the trigger
// history (read state, CSV); and the "Add alert" form of the stock page and watchlist rows.
import { authed } from "../api.js";
import { card, h, lifetime, note, stockLink } from "../dom.js";
import { count, pct, price, stamp } from "../format.js";
import { session } from "../session.js";
import { on } from "../socket.js";
import { askToNotify, bellIcon, condition, markRead, orderOutcome } from "./alert_bell.js";
import { signInPrompt } from "./auth.js";

// kind, label, default value (a function of the current price; null: the kind takes no value)
const KINDS = [
  ["price_above", "Price rises above", (ltp) => ltp],
  ["price_below", "Price falls below", (ltp) => ltp],
  ["change_pct_above", "Day change above %", () => 2],
  ["change_pct_below", "Day change below %", () => -2],
  ["volume_above", "Volume above", () => 1_000_000],
  ["new_high_52w", "New 52-week high", null],
  ["new_low_52w", "New 52-week low", null],
  ["near_upper_circuit", "Within % of upper circuit", () => 1],
  ["near_lower_circuit", "Within % of lower circuit", () => 1],
];
const round2 = (v) => Math.round(v * 100) / 100;

function field(label, input) {
  return h("label", { class: "field" }, h("span", { text: label }), input);
}

/** The form that creates an alert on `symbol`, its value prefilled from `currentPrice()`; onCreated(alert). */
export function alertForm(symbol, currentPrice, onCreated = () => {}) {
  const kind = h("select", { name: "kind", "aria-label": "Alert when" }, ...KINDS.map(([value, label]) => h("option", { value, text: label })));
  const value = h("input", { name: "value", type: "number", step: "any", "aria-label": "Level" });
  const repeat = h("select", { name: "repeat" }, h("option", { value: "once", text: "Once" }), h("option", { value: "every", text: "Every time (5 min apart)" }));
  const noteInput = h("input", { name: "note", type: "text", maxlength: "200", placeholder: "Note (optional)" });
  const already = h("input", { name: "fire_if_already", type: "checkbox" });
  const withOrder = h("input", { name: "with_order", type: "checkbox" });
  const side = h("select", { name: "side" }, h("option", { value: "BUY", text: "BUY" }), h("option", { value: "SELL", text: "SELL" }));
  const quantity = h("input", { name: "quantity", type: "number", min: "1", step: "1", value: "1", "aria-label": "Quantity" });
  const orderFields = h("div", { class: "fields", hidden: true }, field("Side", side), field("Quantity (MARKET)", quantity));
  const message = h("p", { class: "note", role: "alert", hidden: true });
  const say = (text, kind = "error") => { message.textContent = text; message.className = `note note-${kind}`; message.hidden = false; };
  const prefill = () => {
    const make = KINDS.find(([k]) => k === kind.value)[2];
    value.disabled = make === null;
    value.value = make === null ? "" : String(round2(make(currentPrice() ?? 0)));
  };
  kind.addEventListener("change", prefill);
  withOrder.addEventListener("change", () => { orderFields.hidden = !withOrder.checked; });
  const submit = async (event) => {
    event.preventDefault();
    const body = { symbol, kind: kind.value, repeat: repeat.value, fire_if_already: already.checked };
    if (!value.disabled) body.value = Number(value.value);
    if (noteInput.value.trim()) body.note = noteInput.value.trim();
    if (withOrder.checked) body.action = { side: side.value, order_type: "MARKET", quantity: Number(quantity.value) };
    try {
      const { data } = await authed("/alerts", { method: "POST", body });
      say(`✓ Alert set: ${condition(data)}`, "ok");
      onCreated(data);
    } catch (err) {
      say(err.text);
    }
  };
  prefill();
  const form = h("form", { class: "alert-form", novalidate: true, onsubmit: submit },
    h("div", { class: "fields" }, field("Alert when", kind), field("Level", value), field("Repeat", repeat), field("Note", noteInput)),
    h("label", { class: "check" }, already, h("span", { text: "Fire on the next tick if already beyond the level" })),
    h("label", { class: "check" }, withOrder, h("span", { text: "Place a paper order when it fires" })), orderFields,
    h("button", { type: "submit", class: "button primary", text: "Create alert" }), message);
  return { el: form, prefill };
}

/** The stock page's "Add alert" menu for `symbol` (prefilled with the current price when opened). */
export function alertMenu(symbol, currentPrice, onCreated) {
  const body = h("div", { class: "menu-body alert-menu-body" });
  const details = h("details", { class: "menu alert-menu" }, h("summary", { class: "button" }, bellIcon(), "Add alert"), body);
  let form = null;
  details.addEventListener("toggle", () => {
    if (!details.open) return;
    if (!session.user()) return body.replaceChildren(h("a", { href: "#/login", text: "Sign in to set alerts" }));
    form ??= alertForm(symbol, currentPrice, onCreated);
    form.prefill();
    body.replaceChildren(form.el);
  });
  return details;
}

/** The user's active alerts on `symbol` (for the chart's price lines); [] when signed out. */
export function activeAlerts(symbol) {
  if (!session.user()) return Promise.resolve([]);
  return authed(`/alerts?status=active&symbol=${encodeURIComponent(symbol)}`).then(({ data }) => data).catch(() => []);
}

function levelText(alert) {
  if (alert.level === null) return "—";
  return alert.kind === "volume_above" ? count(alert.level) : price(alert.level);
}

function alertRow(alert, reload, say) {
  const path = `/alerts/${alert.alert_id}`;
  const act = (options) => authed(path, options).then(reload).catch((err) => say(err.text));
  const toggle = alert.status === "active"
    ? h("button", { type: "button", class: "button", text: "Disable", onclick: () => act({ method: "PATCH", body: { status: "disabled" } }) })
    : h("button", { type: "button", class: "button", text: "Enable", onclick: () => act({ method: "PATCH", body: { status: "active" } }) });
  return h("tr", { dataset: { alertId: String(alert.alert_id), status: alert.status } },
    h("td", {}, stockLink(alert.symbol), alert.note ? h("div", { class: "company", text: alert.note }) : null),
    h("td", { text: condition(alert).slice(alert.symbol.length + 1) }),
    h("td", { class: "num", text: levelText(alert) }),
    h("td", { class: "num", text: alert.kind === "volume_above" ? count(alert.current) : price(alert.current) }),
    h("td", { class: "num", text: pct(alert.distance_pct) }),
    h("td", {}, h("span", { class: `chip alert-${alert.status}`, text: alert.status, title: alert.status_reason ?? "" }),
      alert.repeat === "every" ? h("span", { class: "chip", text: "repeats" }) : null,
      alert.action ? h("span", { class: "chip", text: `${alert.action.side} ${alert.action.quantity}` }) : null),
    h("td", { class: "actions" }, toggle,
      h("button", { type: "button", class: "button danger", text: "Delete", onclick: () => act({ method: "DELETE" }) })));
}

function triggerRow(trigger) {
  return h("tr", { dataset: { triggerId: String(trigger.trigger_id), unread: String(trigger.read_at === null) } },
    h("td", { text: stamp(trigger.triggered_at) }), h("td", {}, stockLink(trigger.symbol)),
    h("td", { text: condition(trigger).slice(trigger.symbol.length + 1) }),
    h("td", { class: "num", text: price(trigger.trigger_price) }),
    h("td", { class: trigger.error ? "down" : "", text: orderOutcome(trigger) || "—" }));
}

async function downloadCsv(say) {
  try {  // a plain link cannot carry the token: fetch it, then save the blob
    const res = await fetch("/alerts/history.csv", { headers: { Authorization: `Bearer ${session.accessToken()}` } });
    if (!res.ok) throw new Error(`Download failed (${res.status})`);
    const link = h("a", { href: URL.createObjectURL(await res.blob()), download: "alert-history.csv" });
    link.click();
    URL.revokeObjectURL(link.href);
  } catch (err) {
    say(err.message);
  }
}

/** Render #/alerts into `view`. */
export function renderAlerts(view) {
  const life = lifetime();
  if (!session.user()) {
    view.append(signInPrompt("Alerts", "set price alerts that can place paper orders"));
    return life.dispose;
  }
  const message = h("p", { class: "note note-error", role: "alert", hidden: true });
  const say = (text) => { message.textContent = text; message.hidden = false; };
  const alerts = h("tbody");
  const history = h("tbody");
  let newest = null;
  const loadAlerts = () => authed("/alerts").then(({ data }) => {
    if (!life.alive) return;
    alerts.replaceChildren(...(data.length ? data.map((a) => alertRow(a, loadAlerts, say))
      : [h("tr", {}, h("td", { colspan: "7" }, note("No alerts yet: add one from a stock's page or a watchlist.")))]));
  }).catch((err) => say(err.text));
  const loadHistory = () => authed("/alerts/history?limit=100").then(({ data }) => {
    if (!life.alive) return;
    newest = data.length ? data[0].trigger_id : null;
    history.replaceChildren(...(data.length ? data.map(triggerRow) : [h("tr", {}, h("td", { colspan: "5" }, note("Nothing has fired yet.")))]));
  }).catch((err) => say(err.text));
  const notifyButton = h("button", { type: "button", class: "button", text: "Notify me in the background",
    hidden: !("Notification" in window) || Notification.permission !== "default",
    onclick: () => askToNotify().then(() => { notifyButton.hidden = true; }) });
  const readAll = h("button", { type: "button", class: "button", text: "Mark all read",
    onclick: () => newest && markRead(newest).then(loadHistory).catch((err) => say(err.text)) });
  life.add(on("alert_triggered", () => { loadAlerts(); loadHistory(); }));
  view.append(
    card("Alerts", h("div", { class: "table-wrap" }, message, h("table", { class: "table alerts" },
      h("thead", {}, h("tr", {}, ...["Stock", "When", "Level", "Now", "Distance", "Status", ""].map((c) => h("th", { text: c })))), alerts)),
    notifyButton),
    card("Triggered", h("div", { class: "table-wrap" }, h("table", { class: "table alert-history" },
      h("thead", {}, h("tr", {}, ...["Time", "Stock", "Condition", "Price", "Order"].map((c) => h("th", { text: c })))), history)),
    readAll, h("button", { type: "button", class: "button", text: "Download CSV", onclick: () => downloadCsv(say) })),
  );
  loadAlerts();
  loadHistory();
  return life.dispose;
}
