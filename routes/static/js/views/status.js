// Header status: market phase badge (with next open; in a simulated session, why the exchange itself is closed),
// SIMULATED label, live-connection indicator with a "disconnected" banner, the "signed out by the server" banner,
// and the footer's "last updated" time and source.
import { api } from "../api.js";
import { h } from "../dom.js";
import { time, when } from "../format.js";
import { session } from "../session.js";
import { on } from "../socket.js";

const PHASES = { open: "Market open", pre_open: "Pre-open", closed: "Market closed" };
const weekday = new Intl.DateTimeFormat("en-IN", { timeZone: "Asia/Kolkata", weekday: "long" });

/** Why the exchange is closed, for "Simulated session — NSE closed (…)": the weekday, the holiday's name, … */
function closedWhy(status) {
  switch (status.closed_reason) {
    case "weekend": return weekday.format(new Date(status.current_time_ist));
    case "holiday": return status.holiday_name ?? "holiday";
    case "before_open": return `opens ${when(status.next_open)}`;
    case "after_hours": return "after hours";
    default: return null;
  }
}
const SOURCES = { websocket_cache: "live feed", database: "database snapshot", upstox_api: "Upstox" };
const statusListeners = new Set();
/** The latest /market/status (null until loaded). */
export let market = null;
let lastSource = null; // where the newest data came from (websocket_cache, database, upstox_api)

/** Call fn(status) now (if known) and on every market status change; returns an unsubscribe function. */
export function onMarket(fn) {
  statusListeners.add(fn);
  if (market) fn(market);
  return () => statusListeners.delete(fn);
}

function showMarket(status) {
  market = { ...market, ...status };
  const badge = document.getElementById("market-badge");
  badge.dataset.phase = market.phase;
  badge.dataset.session = market.session ?? "exchange";
  const why = market.phase === "open" && market.session === "simulated" ? closedWhy(market) : null;
  if (why) badge.replaceChildren(`Simulated session — NSE closed (${why})`);
  else badge.replaceChildren(PHASES[market.phase] ?? market.phase);
  if (market.phase !== "open") badge.append(h("span", { class: "badge-detail", text: ` · opens ${when(market.next_open)}` }));
  badge.title = market.holiday_name ? `Holiday: ${market.holiday_name}` : `Now ${when(market.current_time_ist)} IST`;
  document.getElementById("sim-badge").hidden = !market.simulated;
  showSource();
  statusListeners.forEach((fn) => fn(market));
}

/** Note fresh data in the footer: its time (ISO or now) and, when known, where it came from. */
export function markUpdated(asOf, source) {
  const el = document.getElementById("last-updated");
  el.textContent = time(asOf ?? new Date());
  el.dateTime = asOf ?? new Date().toISOString();
  if (source) lastSource = source;
  showSource();
}

function showSource() {
  if (!lastSource) return;
  const live = lastSource !== "database";
  document.getElementById("data-source").textContent = market?.simulated && live ? "simulated live feed" : SOURCES[lastSource] ?? lastSource;
}

function showConnection(state) {
  const el = document.getElementById("connection");
  el.dataset.state = state;
  el.querySelector(".connection-label").textContent = state === "connected" ? "Live" : "Reconnecting…";
  const banner = document.getElementById("banner");
  clearTimeout(showConnection.timer);
  if (state === "connected") {
    if (banner.dataset.kind === "offline") banner.hidden = true;
    return;
  }
  showConnection.timer = setTimeout(() => {  // ignore blips shorter than a second and a half
    banner.dataset.kind = "offline";
    banner.className = "banner banner-warn";
    banner.textContent = "Live updates are disconnected. Reconnecting automatically; prices shown may be stale.";
    banner.hidden = false;
  }, 1500);
}

function showSessionEnded({ message }) {
  const banner = document.getElementById("banner");
  banner.dataset.kind = "session";
  banner.className = "banner banner-error";
  banner.textContent = message || "You were signed out.";
  banner.hidden = false;
}

/** Load the market status and keep the header in step with the socket. */
export function startStatus() {
  api("/market/status").then((body) => showMarket(body.data)).catch(() => {});
  on("market_status", showMarket);
  on("connection", showConnection);
  on("session_revoked", showSessionEnded);
  session.onChange((user) => {
    const banner = document.getElementById("banner");
    if (user && banner.dataset.kind === "session") banner.hidden = true; // signed in again
  });
  on("quote", (q) => markUpdated(q.as_of));
  on("indices_update", (u) => markUpdated(u.timestamp, u.status === "live" ? "websocket_cache" : "database"));
  // The phase changes at the session boundaries even when no event arrives (e.g. while disconnected).
  setInterval(() => api("/market/status").then((body) => showMarket(body.data)).catch(() => {}), 60_000);
}
