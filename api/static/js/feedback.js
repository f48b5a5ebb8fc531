/* The inline error box above the question box, and the status line (cleared / restored, with undo). */

import { $, el } from "./dom.js";
import { describeError } from "./i18n.js";

const els = {
  error: $("error"),
  title: $("error-title"),
  detail: $("error-detail"),
  status: $("status"),
  statusText: $("status-text"),
  undo: $("undo-clear"),
};

let shown = null; // the error on screen, so a language switch can say it again in the other language

/** Show ``err`` ({code, status, detail, errors}) in the page's words. */
export function showError(err) {
  shown = err;
  const { title, lines, tech } = describeError(err);
  els.title.textContent = title;
  els.detail.replaceChildren(...lines.map((line) => el("span", "error-line", line)));
  if (tech) els.detail.append(el("span", "error-tech", tech));
  els.error.dataset.code = typeof err.code === "string" ? err.code : "unknown";
  els.error.hidden = false;
}

export function hideError() {
  shown = null;
  els.error.hidden = true;
}

export const hasError = () => shown !== null;

/** Re-render the error on screen (after a language switch). */
export function refreshError() {
  if (shown) showError(shown);
}

export function showStatus(text, withUndo) {
  els.statusText.textContent = text;
  els.undo.hidden = !withUndo;
  els.status.hidden = false;
}

export function hideStatus() {
  els.status.hidden = true;
}
