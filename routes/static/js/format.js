// Number, money and time formatting for India (en-IN: lakh/crore grouping, ₹, IST).

const rupees = new Intl.NumberFormat("en-IN", { style: "currency", currency: "INR", minimumFractionDigits: 2, maximumFractionDigits: 2 });
const decimals = new Intl.NumberFormat("en-IN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const whole = new Intl.NumberFormat("en-IN", { maximumFractionDigits: 0 });
const clock = new Intl.DateTimeFormat("en-IN", { timeZone: "Asia/Kolkata", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
const dayTime = new Intl.DateTimeFormat("en-IN", { timeZone: "Asia/Kolkata", weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hour12: false });
const shortDate = new Intl.DateTimeFormat("en-IN", { timeZone: "Asia/Kolkata", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hour12: false });

const isNum = (v) => typeof v === "number" && Number.isFinite(v);

/** ₹1,23,456.78 (em dash when unknown). */
export const money = (v) => (isNum(v) ? rupees.format(v) : "—");
/** 1,23,456.78 without the currency sign. */
export const price = (v) => (isNum(v) ? decimals.format(v) : "—");
/** 12,34,567 (whole number). */
export const count = (v) => (isNum(v) ? whole.format(v) : "—");
/** +1.23% / −0.45%. */
export const pct = (v) => (isNum(v) ? `${v > 0 ? "+" : ""}${v.toFixed(2)}%` : "—");
/** +₹1,234.50 / −₹12.00. */
export const signedMoney = (v) => (isNum(v) ? `${v > 0 ? "+" : v < 0 ? "−" : ""}${rupees.format(Math.abs(v))}` : "—");
/** +12.35 / −4.10. */
export const signedPrice = (v) => (isNum(v) ? `${v > 0 ? "+" : v < 0 ? "−" : ""}${decimals.format(Math.abs(v))}` : "—");

/** Volumes the Indian way: 4.2 Cr, 35.1 L, 12,400. */
export function volume(v) {
  if (!isNum(v)) return "—";
  if (v >= 1e7) return `${(v / 1e7).toFixed(2)} Cr`;
  if (v >= 1e5) return `${(v / 1e5).toFixed(2)} L`;
  return whole.format(v);
}

/** 14:05:09 (IST) of an ISO timestamp or Date. */
export const time = (t) => (t ? clock.format(new Date(t)) : "—");
/** Mon, 23 Nov, 09:15 (IST). */
export const when = (t) => (t ? dayTime.format(new Date(t)) : "—");
/** 23 Nov, 09:15 (IST). */
export const stamp = (t) => (t ? shortDate.format(new Date(t)) : "—");

/** "up", "down" or "flat" for a signed change. */
export const trend = (v) => (!isNum(v) || v === 0 ? "flat" : v > 0 ? "up" : "down");

/** Briefly flash an element green or red (restarts the animation on every call). */
export function flash(el, direction) {
  if (!el || direction === "flat") return;
  el.classList.remove("flash-up", "flash-down");
  void el.offsetWidth; // restart the CSS animation
  el.classList.add(direction === "up" ? "flash-up" : "flash-down");
}

/** Set an element's text to a formatted value, flashing when the number moved. */
export function updateNumber(el, value, formatter) {
  const before = el.dataset.value === undefined ? null : Number(el.dataset.value);
  el.textContent = formatter(value);
  if (!isNum(value)) return;
  el.dataset.value = String(value);
  if (before !== null && before !== value) flash(el, value > before ? "up" : "down");
}

/** Rupee amounts in crores: ₹1,234 Cr (traded values). */
export const crores = (v) => (isNum(v) ? `₹${whole.format(v / 1e7)} Cr` : "—");
