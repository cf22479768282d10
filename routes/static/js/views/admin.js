// #/admin (administrators): crawler jobs with their last run; create one, enable or disable it, run it now, delete it,
// and watch a run's progress live (Socket.IO crawler_run_progress, sent to the admins' room).
import { authed } from "../api.js";
import { card, h, lifetime, note } from "../dom.js";
import { count, stamp } from "../format.js";
import { session } from "../session.js";
import { on } from "../socket.js";
import { signInPrompt } from "./auth.js";

const TERMINAL = ["completed", "failed", "cancelled"];

/** Render #/admin into `view`; returns its clean-up. */
export function renderAdmin(view) {
  const life = lifetime();
  if (!session.user()) {
    view.append(signInPrompt("Admin", "manage crawler jobs"));
    return life.dispose;
  }
  if (session.user().role !== "admin") {
    view.append(card("Admin", note("Administrators only.", "error")));
    return life.dispose;
  }
  const message = h("p", { class: "note note-error", role: "alert", hidden: true });
  const say = (text) => { message.textContent = text; message.hidden = !text; };
  const listBox = h("div", { class: "table-wrap" }, note("Loading crawler jobs…"));
  const progress = new Map(); // job id -> {bar, text}

  const runText = (run) => `${run.status} · ${count(run.processed)}/${count(run.total)} · ${count(run.updated)} updated · ${count(run.failed)} failed`;
  const load = () => authed("/admin/crawler-jobs").then(({ data }) => {
    if (!life.alive) return;
    progress.clear();
    listBox.replaceChildren(data.length ? h("table", { class: "table crawler-jobs" },
      h("thead", {}, h("tr", {}, ...["Job", "Target", "Source", "Schedule", "Next run", "Enabled", "Last run", ""].map((t) => h("th", { text: t })))),
      h("tbody", {}, ...data.map((job) => jobRow(job)))) : note("No crawler jobs yet."));
  }).catch((err) => say(err.text));

  const act = (promise) => promise.then(() => { say(""); load(); }).catch((err) => say(err.text));
  const jobRow = (job) => {
    const run = job.last_run;
    const bar = h("progress", { max: "100", value: String(run?.progress_percent ?? 0), class: "scan-progress", "aria-label": `Progress of ${job.name}` });
    const text = h("span", { class: "muted run-status", text: run ? `${runText(run)} · ${stamp(run.finished_at ?? run.created_at)}` : "never run", dataset: { status: run?.status ?? "" } });
    progress.set(job.job_id, { bar, text });
    const toggle = h("input", { type: "checkbox", checked: job.enabled, "aria-label": `Enable ${job.name}`,
      onchange: () => act(authed(`/admin/crawler-jobs/${job.job_id}`, { method: "PATCH", body: { enabled: toggle.checked } })) });
    const metadata = Object.entries(job.metadata).map(([k, v]) => `${k}=${v}`).join(", ");
    return h("tr", { dataset: { jobId: String(job.job_id) } },
      h("td", {}, h("strong", { text: job.name }), metadata ? h("div", { class: "company", text: metadata, title: metadata }) : null),
      h("td", { text: job.universe === "all" ? "whole universe" : job.symbols.join(", ") }),
      h("td", { text: job.source }), h("td", { text: job.schedule ?? "—" }), h("td", { text: stamp(job.next_run_at) }),
      h("td", {}, toggle), h("td", {}, bar, " ", text),
      h("td", { class: "actions" },
        h("button", { type: "button", class: "button primary", text: "Run now", onclick: () => act(authed(`/admin/crawler-jobs/${job.job_id}/run`, { method: "POST" })) }),
        h("button", { type: "button", class: "button danger", text: "Delete", onclick: () => act(authed(`/admin/crawler-jobs/${job.job_id}`, { method: "DELETE" })) })));
  };

  life.add(on("crawler_run_progress", (event) => {
    const shown = progress.get(event.job_id);
    if (shown) {
      shown.bar.value = event.total ? (100 * event.processed) / event.total : 0;
      shown.text.textContent = runText(event);
      shown.text.dataset.status = event.status;
    }
    if (TERMINAL.includes(event.status)) setTimeout(load, 300);
  }));
  load();
  view.append(card("Crawler jobs", h("div", {}, listBox, message)), card("New crawler job", jobForm((body) => act(authed("/admin/crawler-jobs", { method: "POST", body })))));
  return life.dispose;
}

/** The create form; `create(body)` gets a POST /admin/crawler-jobs body. */
function jobForm(create) {
  const name = h("input", { name: "name", required: true, maxlength: "100", placeholder: "Name", "aria-label": "Name" });
  const symbols = h("input", { name: "symbols", placeholder: "Symbols, comma-separated", "aria-label": "Symbols" });
  const universe = h("input", { type: "checkbox", name: "universe", onchange: () => { symbols.disabled = universe.checked; } });
  const source = h("select", { name: "source", "aria-label": "Source" }, h("option", { value: "simulator", text: "simulator" }), h("option", { value: "eodhd", text: "eodhd" }));
  const schedule = h("input", { name: "schedule", placeholder: "Cron, e.g. 0 16 * * 1-5 (IST)", "aria-label": "Schedule" });
  const metadata = h("textarea", { name: "metadata", rows: "2", placeholder: "key=value per line", "aria-label": "Metadata" });
  const enabled = h("input", { type: "checkbox", name: "enabled", checked: true });
  return h("form", { class: "stack crawler-form", onsubmit: (event) => {
    event.preventDefault();
    const body = { name: name.value.trim(), source: source.value, enabled: enabled.checked, metadata: {} };
    if (universe.checked) body.universe = "all";
    else body.symbols = symbols.value.split(",").map((s) => s.trim().toUpperCase()).filter(Boolean);
    if (schedule.value.trim()) body.schedule = schedule.value.trim();
    for (const line of metadata.value.split("\n")) {
      const [key, ...rest] = line.split("=");
      if (key.trim()) body.metadata[key.trim()] = rest.join("=").trim();
    }
    create(body);
  } },
  h("div", { class: "toolbar" }, name, source, h("label", {}, enabled, " Enabled")),
  h("div", { class: "toolbar" }, symbols, h("label", {}, universe, " Whole universe")),
  h("div", { class: "toolbar" }, schedule), metadata,
  h("div", { class: "toolbar" }, h("button", { type: "submit", class: "button primary", text: "Create job" })));
}
