// The header's alert bell (unread triggers), a toast when an alert fires, and a browser notification
// when the tab is in the background and the user allowed them.
import { authed } from "../api.js";
import { h } from "../dom.js";
import { count, money, price } from "../format.js";
import { session } from "../session.js";
import { on } from "../socket.js";

const TOAST_MS = 10_000;
const CONDITIONS = {
  price_above: (a) => `crossed above ${price(a.value)}`,
  price_below: (a) => `crossed below ${price(a.value)}`,
  change_pct_above: (a) => `is up more than ${a.value}% on the day`,
  change_pct_below: (a) => `is down more than ${Math.abs(a.value)}% on the day`,
  volume_above: (a) => `traded more than ${count(a.value)} shares today`,
  new_high_52w: () => "made a new 52-week high",
  new_low_52w: () => "made a new 52-week low",
  near_upper_circuit: (a) => `is within ${a.value}% of its upper circuit`,
  near_lower_circuit: (a) => `is within ${a.value}% of its lower circuit`,
};
const SVG = "http://www.w3.org/2000/svg";
const BELL = "M12 2a6 6 0 0 0-6 6v3.6l-1.7 3.6a1 1 0 0 0 .9 1.4h13.6a1 1 0 0 0 .9-1.4L18 11.6V8a6 6 0 0 0-6-6Zm0 21a3 3 0 0 0 2.8-2H9.2a3 3 0 0 0 2.8 2Z";
const unreadListeners = new Set();
let unread = 0;
let toasts = null;

/** A bell icon (an inline SVG: emoji fonts are not everywhere). */
export function bellIcon() {
  const svg = document.createElementNS(SVG, "svg");
  const path = document.createElementNS(SVG, "path");
  for (const [name, value] of [["viewBox", "0 0 24 24"], ["width", "16"], ["height", "16"], ["aria-hidden", "true"], ["class", "bell-icon"]]) {
    svg.setAttribute(name, value);
  }
  path.setAttribute("d", BELL);
  path.setAttribute("fill", "currentColor");
  svg.append(path);
  return svg;
}

/** "RELIANCE crossed above 2,950.00" for an alert or a trigger. */
export const condition = (a) => `${a.symbol} ${(CONDITIONS[a.kind] ?? (() => a.kind))(a)}`;

/** What the alert's order did, for a trigger ("" without an order). */
export function orderOutcome(trigger) {
  if (trigger.error) return `Order refused: ${trigger.error.message}`;
  const order = trigger.order;
  if (!order) return trigger.order_state === "pending" ? "Order being placed…" : "";
  const what = `${order.side} ${order.quantity} ${order.order_type}`;
  if (order.status === "COMPLETE") return `${what} filled at ${money(order.average_price)}`;
  return `${what}: ${order.status.replace("_", " ").toLowerCase()}${order.is_amo ? " (after-market)" : ""}`;
}

/** Call fn(unread count) now and whenever it changes; returns an unsubscribe function. */
export function onUnread(fn) {
  unreadListeners.add(fn);
  fn(unread);
  return () => unreadListeners.delete(fn);
}

function setUnread(n) {
  unread = Math.max(0, n);
  unreadListeners.forEach((fn) => fn(unread));
}

/** Mark every trigger up to `triggerId` read on the server; the bell follows. */
export function markRead(triggerId) {
  return authed("/alerts/history/read", { method: "POST", body: { up_to_trigger_id: triggerId } })
    .then(({ data }) => setUnread(data.unread_count));
}

function showToast(alert, trigger) {
  toasts ??= document.body.appendChild(h("div", { id: "toasts", class: "toasts", role: "status", "aria-live": "polite" }));
  const outcome = orderOutcome(trigger);
  const close = () => el.remove();
  const el = h("div", { class: "toast", dataset: { alertId: String(alert.alert_id), triggerId: String(trigger.trigger_id) } },
    h("a", { class: "toast-body", href: "#/alerts", onclick: close },
      h("strong", {}, bellIcon(), ` ${condition(alert)}`),
      h("span", { text: `at ${price(trigger.trigger_price)}${trigger.note ? ` · ${trigger.note}` : ""}` }),
      outcome ? h("span", { class: trigger.error ? "down" : "muted", text: outcome }) : null),
    h("button", { type: "button", class: "icon-button", text: "✕", "aria-label": "Dismiss", onclick: close }));
  toasts.prepend(el);
  setTimeout(close, TOAST_MS);
}

function notify(alert, trigger) {
  if (!document.hidden || !("Notification" in window) || Notification.permission !== "granted") return;
  try {
    const shown = new Notification(`🔔 ${condition(alert)}`, {
      body: [`at ${price(trigger.trigger_price)}`, trigger.note, orderOutcome(trigger)].filter(Boolean).join(" · "),
      tag: `alert-trigger-${trigger.trigger_id}`,
    });
    shown.onclick = () => { window.focus(); location.hash = "#/alerts"; };
  } catch {
    // some browsers only show notifications from a service worker: the toast is still there
  }
}

/** Ask for permission to notify while the tab is in the background (needs a click); resolves to the answer. */
export function askToNotify() {
  if (!("Notification" in window)) return Promise.resolve("unsupported");
  return Notification.permission === "default" ? Notification.requestPermission() : Promise.resolve(Notification.permission);
}

/** The bell in `el`: hidden when signed out, the unread count, a toast (and notification) per trigger. */
export function startAlertBell(el) {
  const badge = h("span", { class: "bell-count", hidden: true });
  el.replaceChildren(h("a", { class: "icon-button bell", href: "#/alerts", title: "Alerts", "aria-label": "Alerts" }, bellIcon(), badge));
  onUnread((n) => {
    badge.hidden = n === 0;
    badge.textContent = n > 99 ? "99+" : String(n);
    el.dataset.unread = String(n);
  });
  const load = () => {
    el.hidden = !session.user();
    if (!session.user()) return setUnread(0);
    authed("/alerts/history?limit=1").then((body) => setUnread(body.unread_count)).catch(() => {});
  };
  session.onChange(load);
  load();
  on("alert_triggered", ({ alert, trigger }) => {
    setUnread(unread + 1);
    showToast(alert, trigger);
    notify(alert, trigger);
  });
}
