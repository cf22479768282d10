// "Export CSV" buttons: the signed-in exports, fetched with the token and saved as a file.
import { download } from "../api.js";
import { h } from "../dom.js";

/** A button that saves `path` (e.g. /orders/export.csv) as `filename`; `what` names it for screen readers. */
export function exportButton(what, path, filename) {
  const button = h("button", {
    type: "button", class: "button", text: "Export CSV", "aria-label": `Export ${what} as CSV`, dataset: { export: what },
    onclick: async () => {
      button.disabled = true;
      try {
        await download(path, filename);
        button.title = "";
      } catch (err) {
        button.title = err.text;
        button.dataset.error = err.text;
      } finally {
        button.disabled = false;
      }
    },
  });
  return button;
}
