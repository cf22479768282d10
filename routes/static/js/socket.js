// The Socket.IO connection: WebSocket transport, the access token in `auth` (private events),
// reference-counted symbol subscriptions that survive reconnects, and a small event hub.
import { io } from "../vendor/socket.io.esm.min.js";
import { refreshAccess } from "./api.js";
import { session } from "./session.js";

const SERVER_EVENTS = ["indices_update", "movers_update", "market_status", "order_update", "trade", "account_update", "scan_progress", "scan_done", "alert_triggered", "crawler_run_progress"];
const handlers = new Map(); // event -> Set of callbacks
const wanted = new Map(); // symbol -> number of views watching it
/** Latest quote per symbol from price_update / prices_batch ({symbol, ltp, change, change_pct, ...}). */
export const quotes = new Map();
let socket = null;

function dispatch(event, data) {
  (handlers.get(event) ?? []).forEach((fn) => fn(data));
}

/** Listen to a server event, "quote" (any price for a symbol) or "connection" (connected|disconnected); returns an unsubscribe function. */
export function on(event, fn) {
  if (!handlers.has(event)) handlers.set(event, new Set());
  handlers.get(event).add(fn);
  return () => handlers.get(event).delete(fn);
}

function takeQuote(quote) {
  if (!quote?.symbol) return;
  quotes.set(quote.symbol, quote);
  dispatch("quote", quote);
}

function subscribe(symbols) {
  if (socket?.connected && symbols.length) socket.emit("subscribe", { symbols });
}

/** Receive `price_update` for these symbols until the returned function is called. */
export function watch(symbols) {
  const fresh = [];
  for (const symbol of symbols) {
    const n = wanted.get(symbol) ?? 0;
    wanted.set(symbol, n + 1);
    if (n === 0) fresh.push(symbol);
  }
  subscribe(fresh);
  return () => {
    const gone = [];
    for (const symbol of symbols) {
      const n = (wanted.get(symbol) ?? 1) - 1;
      if (n > 0) wanted.set(symbol, n);
      else if (wanted.delete(symbol)) gone.push(symbol);
    }
    if (socket?.connected && gone.length) socket.emit("unsubscribe", { symbols: gone });
  };
}

/** Open the connection (once); it reconnects by itself and re-joins the private room after sign-in changes. */
export function connect() {
  if (socket) return socket;
  socket = io({
    transports: ["websocket"],
    auth: (cb) => cb(session.accessToken() ? { token: session.accessToken() } : {}),
  });
  socket.on("connect", () => {
    dispatch("connection", "connected");
    subscribe([...wanted.keys()]);
  });
  socket.on("disconnect", (reason) => {
    dispatch("connection", "disconnected");
    if (reason === "io server disconnect") socket.connect();
  });
  socket.on("connect_error", async () => {
    dispatch("connection", "disconnected");
    if (socket.active) return; // a network problem: the client retries with backoff by itself
    // The server refused the connection (an expired token): refresh it, or sign out (which reconnects).
    if (!session.accessToken()) setTimeout(() => socket.connect(), 5000);
    else if (await refreshAccess()) socket.connect();
    else session.clear();
  });
  // The server ended this signed-in connection (logged out elsewhere, account blocked or deleted): say why, sign out.
  socket.on("session_revoked", (data) => {
    dispatch("session_revoked", data);
    session.clear();
  });
  socket.on("price_update", takeQuote);
  socket.on("prices_batch", (batch) => (Array.isArray(batch) ? batch : []).forEach(takeQuote));
  SERVER_EVENTS.forEach((event) => socket.on(event, (data) => dispatch(event, data)));
  session.onChange(() => socket.disconnect().connect());
  return socket;
}
