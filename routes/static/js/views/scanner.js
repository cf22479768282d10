// #/scanner: build a scan (a preset or conditions from /scans/universe, dates, filters), run it with a live progress
// bar (Socket.IO scan_progress / scan_done), sort and page its results, download them as CSV, and reuse past scans
// and saved definitions.
import { authed } from "../api.js";
import { card, h, lifetime, note, stockLink } from "../dom.js";
import { count, pct, price, stamp } from "../format.js";
import { session } from "../session.js";
import { on } from "../socket.js";
import { signInPrompt } from "./auth.js";
import { watchlistMenu } from "./watchlists.js";

const PAGE = 50;
const COLUMNS = [ // [field, label, formatter]
  ["symbol", "Stock", null], ["date", "Date", null], ["close", "Close", price], ["change_pct", "Chg %", pct],
  ["gap_pct", "Gap %", pct], ["rel_volume", "Rel vol", (v) => (v ?? "—")], ["high_chg_atr", "High/ATR", (v) => (v ?? "—")],
  ["dist_h_9ema_atr", "Dist 9EMA/ATR", (v) => (v ?? "—")], ["rsi14", "RSI", (v) => (v ?? "—")],
  ["dollar_volume", "Value ₹", count], ["parabolic_score", "Score", (v) => (v ?? "—")],
];
const select = (name, options, value) => h("select", { name, "aria-label": name },
  ...options.map(([v, label]) => h("option", { value: v, text: label, selected: v === value })));

/** Render #/scanner into `view`. */
export function renderScanner(view) {
  const life = lifetime();
  if (!session.user()) {
    view.append(signInPrompt("Scanner", "run technical scans over the whole market"));
    return life.dispose;
  }
  const message = h("p", { class: "note note-error", role: "alert", hidden: true });
  const say = (text) => { message.textContent = text; message.hidden = !text; };
  const formBox = h("div", {}, note("Loading the scan universe…"));
  const bar = h("progress", { max: "100", value: "0", class: "scan-progress", "aria-label": "Scan progress" });
  const barText = h("span", { class: "muted", "data-testid": "scan-status", text: "No scan running" });
  const resultsBox = h("div", { class: "table-wrap" }, note("Run a scan to see its results."));
  const pastBox = h("div", { class: "table-wrap" });
  const savedBox = h("div", {});
  const state = { scanId: null, sort: "parabolic_score:desc", offset: 0, universe: null };

  const progress = (data) => {
    if (data.scan_id !== state.scanId) return;
    bar.value = data.progress_percent ?? 0;
    barText.textContent = `${data.status} · ${count(data.processed_symbols)}/${count(data.total_symbols)} stocks · ` +
      `${count(data.results_found)} found${data.current_symbol ? ` · ${data.current_symbol}` : ""}`;
  };
  const done = (data) => {
    loadPast();
    if (data.scan_id !== state.scanId) return;
    bar.value = data.status === "completed" ? 100 : bar.value;
    barText.textContent = `${data.status} · ${count(data.results_found)} rows · ${data.execution_time_s ?? "—"} s · ${data.message ?? ""}`;
    barText.dataset.status = data.status;
    if (data.status === "completed") showResults(data.scan_id, 0);
  };
  life.add(on("scan_progress", progress));
  life.add(on("scan_done", done));

  const showResults = (scanId, offset, sort = state.sort) => {
    Object.assign(state, { scanId, offset, sort });
    authed(`/scans/${scanId}/results?sort=${encodeURIComponent(sort)}&limit=${PAGE}&offset=${offset}`).then((page) => {
      if (!life.alive) return;
      const [field, direction] = sort.split(":");
      const head = h("tr", {}, ...COLUMNS.map(([f, label]) => h("th", {
        class: "sortable", dataset: { field: f }, "aria-sort": f === field ? (direction === "asc" ? "ascending" : "descending") : "none",
        text: f === field ? `${label} ${direction === "asc" ? "▲" : "▼"}` : label,
        onclick: () => showResults(scanId, 0, `${f}:${f === field && direction === "desc" ? "asc" : "desc"}`),
      })), h("th", { text: "" }));
      const rows = page.data.map((r) => h("tr", { class: "clickable", dataset: { symbol: r.symbol, date: r.date },
        onclick: (event) => { if (!event.target.closest("a, details")) location.hash = `#/stock/${encodeURIComponent(r.symbol)}/${r.date}`; },
      }, ...COLUMNS.map(([f, , fmt]) => h("td", { class: f === "symbol" || f === "date" ? "" : "num" },
        f === "symbol" ? stockLink(r.symbol) : String(fmt ? fmt(r[f]) : r[f]))), h("td", {}, watchlistMenu(r.symbol))));
      const pager = h("div", { class: "toolbar" },
        h("span", { class: "muted", text: `${offset + 1}–${offset + page.count} of ${count(page.total)}${page.truncated ? " (truncated)" : ""}` }),
        h("button", { type: "button", class: "button", text: "◀ Prev", disabled: offset === 0, onclick: () => showResults(scanId, Math.max(0, offset - PAGE)) }),
        h("button", { type: "button", class: "button", text: "Next ▶", disabled: offset + PAGE >= page.total, onclick: () => showResults(scanId, offset + PAGE) }),
        h("button", { type: "button", class: "button", text: "⬇ CSV", onclick: () => downloadCsv(scanId, sort).catch((err) => say(err.message)) }));
      resultsBox.replaceChildren(pager, page.total ? h("table", { class: "table scan-results" }, h("thead", {}, head), h("tbody", {}, ...rows))
        : note("No rows matched."));
    }).catch((err) => say(err.text));
  };

  const run = (body) => {
    say("");
    authed("/scans", { method: "POST", body }).then(({ data }) => {
      state.scanId = data.scan_id;
      bar.value = 0;
      barText.textContent = `queued${data.clamped_range?.clamped ? ` · range clamped to ${data.clamped_range.start_date} – ${data.clamped_range.end_date}` : ""}`;
      delete barText.dataset.status;
      loadPast();
    }).catch((err) => say(err.text));
  };

  const loadPast = () => authed("/scans?limit=20").then(({ data }) => {
    if (!life.alive) return;
    pastBox.replaceChildren(data.length ? h("table", { class: "table" }, h("tbody", {}, ...data.map((s) => h("tr", { dataset: { scanId: String(s.scan_id) } },
      h("td", { text: `#${s.scan_id}` }), h("td", { text: stamp(s.created_at) }), h("td", { text: s.request.preset ?? `${(s.request.conditions ?? []).length} conditions` }),
      h("td", {}, h("span", { class: `chip status-${s.status}`, text: s.status })), h("td", { class: "num", text: count(s.results_found) }),
      h("td", { class: "actions" },
        h("button", { type: "button", class: "button", text: "View", disabled: s.status !== "completed", onclick: () => showResults(s.scan_id, 0) }),
        h("button", { type: "button", class: "button danger", text: s.status === "queued" || s.status === "running" ? "Cancel" : "Delete",
          onclick: () => authed(`/scans/${s.scan_id}`, { method: "DELETE" }).catch(() => {}).then(loadPast) }))))))
      : note("No scans yet."));
  }).catch((err) => say(err.text));

  const loadSaved = (fill) => authed("/scans/definitions").then(({ data }) => {
    if (!life.alive) return;
    savedBox.replaceChildren(...(data.length ? data.map((d) => h("div", { class: "toolbar", dataset: { definitionId: String(d.definition_id) } },
      h("strong", { text: d.name }), h("span", { class: "muted", text: d.scan.preset ?? `${(d.scan.conditions ?? []).length} conditions` }),
      h("button", { type: "button", class: "button primary", text: "Run", onclick: () => run(d.scan) }),
      h("button", { type: "button", class: "button", text: "Edit", onclick: () => fill(d.scan) }),
      h("button", { type: "button", class: "button danger", text: "Delete", onclick: () => authed(`/scans/definitions/${d.definition_id}`, { method: "DELETE" }).then(() => loadSaved(fill)) })))
      : [note("No saved scans.")]));
  }).catch((err) => say(err.text));

  authed("/scans/universe").then(({ data }) => {
    if (!life.alive) return;
    state.universe = data;
    const form = scanForm(data, run, (name, body) => authed("/scans/definitions", { method: "POST", body: { name, scan: body } })
      .then(() => loadSaved(form.fill)).catch((err) => say(err.text)));
    formBox.replaceChildren(form.el);
    loadSaved(form.fill);
  }).catch((err) => formBox.replaceChildren(note(err.text, "error")));
  loadPast();

  view.append(
    card("Scanner", h("div", {}, formBox, message)),
    card("Progress", h("div", { class: "toolbar" }, bar, barText)),
    card("Results", resultsBox),
    h("div", { class: "grid grid-main" }, card("Past scans", pastBox), card("Saved scans", savedBox)),
  );
  return life.dispose;
}

/** The scan form: {el, fill(body)}; `run(body)` and `save(name, body)` are called with a POST /scans body. */
function scanForm(universe, run, save) {
  const presets = universe.presets.map((p) => [p.name, p.name]);
  const fields = universe.fields.map((f) => [f.name, f.name]);
  const ops = universe.operators.map((o) => [o.op, o.op]);
  const mode = select("mode", [["preset", "Preset"], ["conditions", "Conditions"]], "preset");
  const preset = select("preset", presets, presets[0][0]);
  const presetInfo = h("p", { class: "muted" });
  const showPreset = () => { presetInfo.textContent = universe.presets.find((p) => p.name === preset.value)?.description ?? ""; };
  preset.addEventListener("change", showPreset);
  showPreset();
  const conditionRows = h("div", { class: "stack" });
  const addCondition = (c = { field: "close", op: ">", ref: "ema20" }) => {
    const kind = select("kind", [["value", "number"], ["ref", "field"]], c.ref ? "ref" : "value");
    const value = h("input", { type: "number", step: "any", name: "value", "aria-label": "value", value: c.value ?? "", hidden: Boolean(c.ref) });
    const ref = select("ref", fields, c.ref ?? "ema20");
    ref.hidden = !c.ref;
    kind.addEventListener("change", () => { value.hidden = kind.value !== "value"; ref.hidden = kind.value !== "ref"; });
    const row = h("div", { class: "toolbar condition" }, select("field", fields, c.field), select("op", ops, c.op), kind, value, ref,
      h("button", { type: "button", class: "button", text: "✕", "aria-label": "Remove condition", onclick: () => row.remove() }));
    conditionRows.append(row);
  };
  const end = h("input", { type: "date", name: "end_date", "aria-label": "End date", value: universe.last_date ?? "" });
  const startDefault = universe.last_date ? new Date(Date.parse(universe.last_date) - 365 * 86400000).toISOString().slice(0, 10) : "";
  const start = h("input", { type: "date", name: "start_date", "aria-label": "Start date", value: startDefault });
  const number = (name, label) => h("input", { type: "number", min: "0", step: "any", name, placeholder: label, "aria-label": label });
  const minPrice = number("min_price", "Min price"), minVolume = number("min_volume", "Min volume"), minValue = number("min_dollar_volume", "Min value ₹");
  const sectors = h("select", { multiple: true, name: "sectors", "aria-label": "Sectors", size: "4" }, ...universe.sectors.map((s) => h("option", { value: s, text: s })));
  const include = h("input", { type: "text", name: "include_symbols", placeholder: "Only symbols (comma-separated)", "aria-label": "Only symbols" });
  const exclude = h("input", { type: "text", name: "exclude_symbols", placeholder: "Exclude symbols", "aria-label": "Exclude symbols" });
  const saveName = h("input", { type: "text", name: "definition_name", placeholder: "Name to save as", maxlength: "100", "aria-label": "Definition name" });
  const presetBox = h("div", {}, preset, presetInfo);
  const conditionsBox = h("div", { hidden: true }, conditionRows,
    h("button", { type: "button", class: "button", text: "+ Condition", onclick: () => addCondition() }));
  const toggle = () => { presetBox.hidden = mode.value !== "preset"; conditionsBox.hidden = mode.value === "preset"; };
  mode.addEventListener("change", toggle);
  addCondition();
  const symbols = (input) => input.value.split(",").map((s) => s.trim().toUpperCase()).filter(Boolean);

  const body = () => {
    const out = { start_date: start.value || undefined, end_date: end.value || undefined };
    if (mode.value === "preset") out.preset = preset.value;
    else {
      out.conditions = [...conditionRows.querySelectorAll(".condition")].map((row) => {
        const get = (n) => row.querySelector(`[name=${n}]`).value;
        return get("kind") === "ref" ? { field: get("field"), op: get("op"), ref: get("ref") }
          : { field: get("field"), op: get("op"), value: get("value") === "" ? null : Number(get("value")) };
      });
    }
    for (const input of [minPrice, minVolume, minValue]) if (input.value !== "") out[input.name] = Number(input.value);
    const chosen = [...sectors.selectedOptions].map((o) => o.value);
    if (chosen.length) out.sectors = chosen;
    if (symbols(include).length) out.include_symbols = symbols(include);
    if (symbols(exclude).length) out.exclude_symbols = symbols(exclude);
    return out;
  };
  const fill = (scan) => {
    mode.value = scan.preset ? "preset" : "conditions";
    if (scan.preset) preset.value = scan.preset;
    showPreset();
    conditionRows.replaceChildren();
    (scan.conditions ?? []).forEach(addCondition);
    start.value = scan.start_date ?? startDefault;
    end.value = scan.end_date ?? universe.last_date ?? "";
    for (const input of [minPrice, minVolume, minValue]) input.value = scan[input.name] ?? "";
    [...sectors.options].forEach((o) => { o.selected = (scan.sectors ?? []).includes(o.value); });
    include.value = (scan.include_symbols ?? []).join(", ");
    exclude.value = (scan.exclude_symbols ?? []).join(", ");
    toggle();
  };
  const el = h("form", { class: "scan-form stack", onsubmit: (e) => { e.preventDefault(); run(body()); } },
    h("div", { class: "toolbar" }, mode, h("span", { class: "muted", text: `${count(universe.instrument_count)} stocks · data ${universe.first_date} – ${universe.last_date}` })),
    presetBox, conditionsBox,
    h("div", { class: "toolbar" }, h("label", {}, "From ", start), h("label", {}, "To ", end)),
    h("div", { class: "toolbar" }, minPrice, minVolume, minValue),
    h("div", { class: "toolbar" }, sectors, include, exclude),
    h("div", { class: "toolbar" }, h("button", { type: "submit", class: "button primary", text: "Run scan" }), saveName,
      h("button", { type: "button", class: "button", text: "Save", onclick: () => save(saveName.value.trim() || "My scan", body()) })));
  return { el, fill };
}

/** Fetch the scan's CSV with the Bearer header and save it (a plain link could not send the header). */
async function downloadCsv(scanId, sort) {
  const res = await fetch(`/scans/${scanId}/results.csv?sort=${encodeURIComponent(sort)}`, {
    headers: { Authorization: `Bearer ${session.accessToken()}` },
  });
  if (!res.ok) throw new Error(`CSV download failed (${res.status})`);
  const url = URL.createObjectURL(await res.blob());
  const link = h("a", { href: url, download: `scan-${scanId}.csv` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
