// Load generator for bench/fanout.py: N Socket.IO clients (WebSocket transport) in one Node process.
// Usage: node fanout_client.js <config.json> <result.json>; writes a JSON summary when done.
// config: {url, clients, mode: "symbol"|"batch", symbols: [[...], ...] (one list per client),
//          measureFrom, measureTo (epoch ms), tokens?: [access token or null, ...] (one per client: signed-in
//          clients also record `alert_triggered`, latency = receipt - trigger.triggered_at, for bench/alerts.py)}
"use strict";
const fs = require("fs");
const { io } = require("socket.io-client");

const config = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const latency = new Uint32Array(20001); // ms histogram; the last bucket holds >= 20 s
const alertLatency = new Uint32Array(20001); // ms histogram of alert_triggered (tick time -> receipt)
const counts = { price_update: 0, price_updates: 0, indices_update: 0, prices_batch: 0, movers_update: 0,
  market_status: 0, alert_triggered: 0 };
let quotes = 0; // price updates delivered (one per symbol, whether alone or in a batch)
const lastPrices = []; // per client: {symbol: {ltp, as_of}}
let connected = 0, subscribed = 0, errors = 0, disconnects = 0;
const sockets = [];

function inWindow(now) {
  return now >= config.measureFrom && now <= config.measureTo;
}

function start(index) {
  const token = (config.tokens || [])[index];
  const socket = io(config.url, { transports: ["websocket"], reconnection: false, forceNew: true, timeout: 20000,
    auth: token ? { token } : {} });
  const last = {};
  lastPrices.push(last);
  sockets.push(socket);
  socket.on("connect", () => {
    connected++;
    const request = { symbols: config.symbols[index], mode: config.mode };
    if (index < (config.pricesBatchClients || 0)) request.prices_batch = true;
    socket.emit("subscribe", request, (ack) => {
      if (ack && ack.subscribed && ack.subscribed.length === config.symbols[index].length) subscribed++;
      else errors++;
    });
  });
  socket.on("connect_error", () => { errors++; });
  socket.on("disconnect", () => { disconnects++; });
  const onQuote = (quote, now, measured) => {
    const previous = last[quote.symbol];
    if (!previous || previous.as_of <= quote.as_of) last[quote.symbol] = { ltp: quote.ltp, as_of: quote.as_of };
    if (measured) {
      quotes++;
      latency[Math.min(Math.max(now - Date.parse(quote.as_of), 0), 20000)]++;
    }
  };
  socket.on("price_update", (quote) => {
    const now = Date.now(), measured = inWindow(now);
    if (measured) counts.price_update++;
    onQuote(quote, now, measured);
  });
  socket.on("price_updates", (list) => {
    const now = Date.now(), measured = inWindow(now);
    if (measured) counts.price_updates++;
    for (const quote of list) onQuote(quote, now, measured);
  });
  socket.on("alert_triggered", (payload) => {
    const now = Date.now();
    if (!inWindow(now)) return;
    counts.alert_triggered++;
    alertLatency[Math.min(Math.max(now - Date.parse(payload.trigger.triggered_at), 0), 20000)]++;
  });
  for (const event of ["indices_update", "prices_batch", "movers_update", "market_status"]) {
    socket.on(event, () => { if (inWindow(Date.now())) counts[event]++; });
  }
}

// Connect gradually (a burst of handshakes would measure the accept queue, not the fan-out).
let next = 0;
const opener = setInterval(() => {
  for (let i = 0; i < 25 && next < config.clients; i++) start(next++);
  if (next >= config.clients) clearInterval(opener);
}, 50);

// bench/fanout.py sends SIGUSR2 once the simulator has stopped and the last updates had time to arrive.
process.on("SIGUSR2", () => {
  const dropped = disconnects; // before our own close below
  for (const socket of sockets) socket.close();
  const cpu = process.cpuUsage();
  fs.writeFileSync(process.argv[3], JSON.stringify({
    connected, subscribed, errors, disconnects: dropped, counts, quotes, latency: Array.from(latency), lastPrices,
    alertLatency: Array.from(alertLatency),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  }));
  process.exit(0);
});
