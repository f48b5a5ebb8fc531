/* policy-rag chat page: wiring. ES modules, no build step, no third-party code.
 *
 *   json.js      JSON that keeps 64-bit chunk ids exact
 *   api.js       requests, timeouts, errors carrying the server's codes, the answer stream
 *   i18n.js      the page's words; error codes → sentences
 *   store.js     localStorage: turns, draft, language; sessionStorage: where the reader was
 *   text.js      code-point offsets → UTF-16, highlight ranges
 *   dom.js       safe element helpers
 *   render.js    turns, answers with [n] markers, citation cards
 *   article.js   the full-article dialog
 *   feedback.js  the error box and the status line
 */

import { ApiError, askStream, getConfig, getStats } from "./api.js";
import { initArticlePanel } from "./article.js";
import { $, announce, el, reduceMotion } from "./dom.js";
import { hasError, hideError, hideStatus, refreshError, showError, showStatus } from "./feedback.js";
import { getLang, setLang, t } from "./i18n.js";
import { fitClamped, renderPending, renderTurn } from "./render.js";
import * as store from "./store.js";
import { cpLength } from "./text.js";

const els = {
  form: $("ask-form"),
  question: $("question"),
  send: $("send"),
  conversation: $("conversation"),
  intro: $("intro"),
  examples: $("examples"),
  clear: $("clear"),
  lang: $("lang-toggle"),
  errorClose: $("error-close"),
  undo: $("undo-clear"),
  filterSummary: $("filter-summary"),
  dateFrom: $("date-from"),
  dateTo: $("date-to"),
  account: $("account"),
  resetFilters: $("reset-filters"),
  charCount: $("char-count"),
};

// How many earlier questions go with each one: a follow-up leans on the last few (the server takes a few more).
const HISTORY_TURNS = 6;

let turns = store.loadTurns();
let busy = false;
let config = null; // GET /api/config, once it has loaded; the page works without it
let undoTurns = null;
let undoTimer = 0;

// ---------- server configuration ----------

/** The server's question limit in characters (code points), or null while unknown. */
function queryLimit() {
  const n = config && config.max_query_chars;
  return Number.isInteger(n) && n > 0 ? n : null;
}

function examples() {
  const byLang = config && config.examples && typeof config.examples === "object" ? config.examples : {};
  const list = Array.isArray(byLang[getLang()]) ? byLang[getLang()] : [];
  return list.filter((q) => typeof q === "string" && q.trim());
}

async function loadConfig() {
  try {
    config = await getConfig();
  } catch {
    config = null; // no limit shown and no example chips; asking still works
  }
  renderExamples();
  updateCharCount();
}

// ---------- static text and language ----------

function applyLanguage() {
  const anchor = scrollAnchor();
  document.documentElement.lang = t("htmlLang");
  document.title = t("docTitle");
  document.querySelectorAll("[data-i18n]").forEach((node) => {
    node.textContent = t(node.dataset.i18n);
  });
  document.querySelectorAll("[data-i18n-placeholder]").forEach((node) => {
    node.placeholder = t(node.dataset.i18nPlaceholder);
  });
  document.querySelectorAll("[data-i18n-aria]").forEach((node) => {
    node.setAttribute("aria-label", t(node.dataset.i18nAria));
  });
  els.lang.textContent = t("langButton");
  els.lang.lang = t("langButtonLang");
  els.lang.setAttribute("aria-label", t("langButtonAria"));
  renderExamples();
  updateFilterSummary();
  updateCharCount();
  renderConversation();
  refreshError();
  if (busy) els.send.setAttribute("aria-label", t("sending"));
  restoreAnchor(anchor);
}

function renderExamples() {
  const list = examples();
  els.examples.hidden = list.length === 0;
  els.examples.replaceChildren(
    ...list.map((q) => {
      const b = el("button", "example", q);
      b.type = "button";
      b.addEventListener("click", () => {
        els.question.value = q;
        onQuestionInput();
        submit();
      });
      return b;
    }),
  );
}

// ---------- the conversation ----------

function renderConversation() {
  const pending = els.conversation.querySelector(".turn.pending");
  els.conversation.replaceChildren(...turns.map(renderTurn));
  fitClamped(els.conversation);
  if (pending) els.conversation.append(pending);
  syncChrome();
}

function syncChrome() {
  els.intro.hidden = turns.length > 0 || busy;
  els.clear.disabled = turns.length === 0 || busy;
}

// ---------- keeping the reader's place ----------

/**
 * Where the reader is: the first block of the conversation (a question, an answer, a source card) still in
 * sight at the top of the window, and how far from the top it is. Re-rendering (a language switch) or a
 * reload puts that block back at the same place.
 */
function scrollAnchor() {
  const blocks = els.conversation.querySelectorAll(".turn[data-turn-id] :is(.q-row, .answer, .citation-card)");
  for (const node of blocks) {
    const r = node.getBoundingClientRect();
    if (r.bottom > 0) {
      const turn = node.closest(".turn");
      const index = Array.from(turn.querySelectorAll(":is(.q-row, .answer, .citation-card)")).indexOf(node);
      return { turn: turn.dataset.turnId, index, top: r.top };
    }
  }
  return null;
}

function restoreAnchor(anchor) {
  if (!anchor || typeof anchor.turn !== "string") return false;
  const turn = document.getElementById(`turn-${anchor.turn}`);
  const node = turn && turn.querySelectorAll(":is(.q-row, .answer, .citation-card)")[anchor.index];
  if (!node) return false;
  window.scrollBy(0, node.getBoundingClientRect().top - anchor.top);
  return true;
}

let anchorFrame = 0;
function rememberPlace() {
  if (anchorFrame) return;
  anchorFrame = window.requestAnimationFrame(() => {
    anchorFrame = 0;
    store.saveScroll(scrollAnchor());
  });
}

// ---------- asking ----------

function currentFilters() {
  const f = {};
  if (els.dateFrom.value) f.date_from = els.dateFrom.value;
  if (els.dateTo.value) f.date_to = els.dateTo.value;
  if (els.account.value) f.account = els.account.value;
  return Object.keys(f).length ? f : null;
}

function setBusy(on) {
  busy = on;
  els.send.disabled = on;
  els.send.classList.toggle("is-busy", on);
  els.send.setAttribute("aria-busy", on ? "true" : "false");
  if (on) els.send.setAttribute("aria-label", t("sending"));
  else els.send.removeAttribute("aria-label");
  els.form.setAttribute("aria-busy", on ? "true" : "false");
  syncChrome();
}

/** What the page itself can tell before sending: an empty question, or one over the server's limit. */
function checkQuestion(question) {
  if (!question.trim()) return new ApiError("empty_question");
  const limit = queryLimit();
  const length = cpLength(question);
  if (limit !== null && length > limit) {
    // The same shape as the server's 422, so the same sentence explains it.
    return new ApiError("invalid_request", {
      errors: [{ loc: ["body", "question"], code: "too_long", ctx: { length, limit } }],
    });
  }
  return null;
}

async function submit() {
  if (busy) return;
  const question = els.question.value;
  const problem = checkQuestion(question);
  if (problem) {
    showError(problem);
    els.question.focus();
    return;
  }
  hideError();
  hideStatus();
  const filters = currentFilters();
  const id = store.newId();
  // The turn on its way: a loading line until the sources arrive, then the sources and the growing answer.
  let live = renderPending(question, filters);
  els.conversation.append(live);
  setBusy(true);
  live.scrollIntoView({ behavior: reduceMotion() ? "auto" : "smooth", block: "end" });
  let text = "";
  const replaceLive = (node) => {
    if (live.stopTimer) live.stopTimer();
    live.replaceWith(node);
    live = node;
  };
  const showSources = (citations) => {
    const node = renderTurn({ id, question, filters, response: { answer: "", citations, streaming: true } });
    node.classList.add("pending");
    node.setAttribute("aria-busy", "true");
    replaceLive(node);
    fitClamped(node);
    node.setText(text);
  };
  const showText = (value) => {
    text = value;
    if (live.setText) live.setText(text);
  };
  try {
    // The questions before this one that the server would take, so it can read a follow-up (那手机呢？) with them.
    const history = turns
      .slice(-HISTORY_TURNS)
      .map((turn) => turn.question)
      .filter((q) => checkQuestion(q) === null);
    const response = await askStream(
      question,
      filters,
      { citations: showSources, delta: (piece) => showText(text + piece), reset: () => showText("") },
      history,
    );
    const turn = { id, question, filters, response };
    turns = turns.concat(turn).slice(-store.MAX_TURNS);
    store.saveTurns(turns);
    const node = renderTurn(turn);
    replaceLive(node);
    fitClamped(node);
    // Clear the box only if it still holds what was sent (the user may have typed on meanwhile).
    if (els.question.value === question) {
      els.question.value = "";
      onQuestionInput();
    }
    node.scrollIntoView({ behavior: reduceMotion() ? "auto" : "smooth", block: "start" });
    announce(response.abstained === true ? response.answer : t("announceAnswer", response.citations.length));
  } catch (err) {
    if (live.stopTimer) live.stopTimer();
    live.remove();
    showError(err instanceof ApiError ? err : new ApiError("network"));
    els.question.focus();
  } finally {
    setBusy(false);
  }
}

// ---------- the question box ----------

/** The question box grows with its text up to eight lines (less on a short screen), then scrolls. */
function autoGrow() {
  const q = els.question;
  q.style.height = "auto";
  const cap = parseFloat(getComputedStyle(q).maxHeight) || Math.round(window.innerHeight * 0.3);
  q.style.height = `${Math.min(q.scrollHeight + 2, cap)}px`;
}

function updateCharCount() {
  const limit = queryLimit();
  const n = cpLength(els.question.value);
  els.charCount.textContent = limit !== null && n >= limit * 0.8 ? t("charCount", n, limit) : "";
  els.charCount.classList.toggle("over", limit !== null && n > limit);
}

function onQuestionInput() {
  autoGrow();
  updateCharCount();
  store.saveDraft(els.question.value);
}

// ---------- filters ----------

function updateFilterSummary() {
  const f = currentFilters();
  const n = f ? Object.keys(f).length : 0;
  els.filterSummary.textContent = n ? t("filterCount", n) : "";
}

async function loadAccounts() {
  try {
    const stats = await getStats();
    const accounts = Array.isArray(stats.accounts) ? stats.accounts.filter((a) => typeof a === "string" && a) : [];
    const keep = els.account.value;
    els.account.replaceChildren(els.account.options[0]);
    accounts.forEach((a) => {
      const o = el("option", null, a);
      o.value = a;
      els.account.append(o);
    });
    if (accounts.includes(keep)) els.account.value = keep;
  } catch (err) {
    // Without stats the account filter only offers "all". An unusable index is worth saying at once.
    if (err instanceof ApiError && ["no_index", "index_incompatible", "index_damaged", "index_unavailable"].includes(err.code) && !hasError()) {
      showError(err);
    }
  }
}

// ---------- clear / undo ----------

function clearConversation() {
  if (busy || turns.length === 0) return;
  undoTurns = turns;
  turns = [];
  store.saveTurns(turns);
  renderConversation();
  hideError();
  showStatus(t("cleared"), true);
  window.clearTimeout(undoTimer);
  undoTimer = window.setTimeout(() => {
    undoTurns = null;
    hideStatus();
  }, 10000);
  els.question.focus();
}

function undoClear() {
  if (!undoTurns) return;
  turns = undoTurns.concat(turns).slice(-store.MAX_TURNS);
  undoTurns = null;
  window.clearTimeout(undoTimer);
  store.saveTurns(turns);
  renderConversation();
  showStatus(t("restored"), false);
  undoTimer = window.setTimeout(hideStatus, 4000);
}

// ---------- wiring ----------

els.form.addEventListener("submit", (e) => {
  e.preventDefault();
  submit();
});
els.question.addEventListener("keydown", (e) => {
  // Enter sends; Shift+Enter is a new line; Enter that confirms an IME composition does neither.
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
    e.preventDefault();
    submit();
  }
});
els.question.addEventListener("input", onQuestionInput);
els.errorClose.addEventListener("click", () => {
  hideError();
  els.question.focus();
});
els.clear.addEventListener("click", clearConversation);
els.undo.addEventListener("click", undoClear);
els.lang.addEventListener("click", () => {
  setLang(getLang() === "zh" ? "en" : "zh");
  store.saveLang(getLang());
  applyLanguage();
});
[els.dateFrom, els.dateTo, els.account].forEach((node) => node.addEventListener("change", updateFilterSummary));
els.resetFilters.addEventListener("click", () => {
  els.dateFrom.value = "";
  els.dateTo.value = "";
  els.account.value = "";
  updateFilterSummary();
});
initArticlePanel(els.question);
let resizeTimer = 0;
window.addEventListener("resize", () => {
  window.clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(() => fitClamped(els.conversation), 150);
});
window.addEventListener("scroll", rememberPlace, { passive: true });
window.addEventListener("pagehide", () => store.saveScroll(scrollAnchor()));
window.addEventListener("storage", (e) => {
  // Another tab changed the conversation: follow it.
  if (e.key === store.KEYS.turns && !busy) {
    const anchor = scrollAnchor();
    turns = store.loadTurns();
    renderConversation();
    restoreAnchor(anchor);
  }
});

// ---------- start ----------

// The page puts the reader back itself (restoreAnchor), after the conversation is rendered from storage.
if ("scrollRestoration" in window.history) window.history.scrollRestoration = "manual";
setLang(store.loadLang());
const draft = store.loadDraft();
if (draft && !els.question.value) els.question.value = draft;
applyLanguage();
onQuestionInput();
loadConfig();
loadAccounts();
if (turns.length && !restoreAnchor(store.loadScroll())) {
  const last = els.conversation.lastElementChild; // a new visit starts at the latest answer
  if (last) last.scrollIntoView({ block: "start" });
}
document.documentElement.classList.add("js-ready");
