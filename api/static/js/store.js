/* What the page keeps in localStorage — the conversation, the draft question and the UI language — and, in
 * sessionStorage (this tab only), where in the conversation the reader was, so a reload returns there.
 *
 * A turn is {id, question, filters, response}; ``response`` is the /api/ask record as the server sent it
 * (chunk ids kept as the exact digits, see json.js). Turns stored by the previous page are read too: their
 * citations have ``highlight`` ([s, e] or null) where the API now sends ``highlights`` ([[s, e], ...]).
 */

import { parseJson } from "./json.js";

export const KEYS = {
  turns: "policy-rag.turns.v1",
  lang: "policy-rag.lang",
  draft: "policy-rag.draft",
  scroll: "policy-rag.scroll",
};
export const MAX_TURNS = 50;

function get(key) {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function set(key, value) {
  try {
    window.localStorage.setItem(key, value);
    return true;
  } catch {
    return false;
  }
}

function remove(key) {
  try {
    window.localStorage.removeItem(key);
  } catch {
    /* storage unavailable: nothing to remove */
  }
}

export const newId = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 7)}`;

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

/** A citation as the current API shapes it; an old one's single ``highlight`` becomes one span. */
function upgradeCitation(c) {
  if (!isObject(c)) return null;
  if (Array.isArray(c.highlights)) return c;
  const { highlight, ...rest } = c;
  return { ...rest, highlights: Array.isArray(highlight) && highlight.length === 2 ? [highlight] : [] };
}

function cleanFilters(f) {
  if (!isObject(f)) return null;
  const out = {};
  ["date_from", "date_to", "account"].forEach((k) => {
    if (typeof f[k] === "string" && f[k]) out[k] = f[k];
  });
  return Object.keys(out).length ? out : null;
}

/** A stored turn the page can show, or null for anything it cannot read. */
export function upgradeTurn(turn) {
  if (!isObject(turn) || typeof turn.question !== "string") return null;
  const r = turn.response;
  if (!isObject(r) || typeof r.answer !== "string") return null;
  const citations = (Array.isArray(r.citations) ? r.citations : []).map(upgradeCitation).filter(Boolean);
  return {
    id: typeof turn.id === "string" && turn.id ? turn.id : newId(),
    question: turn.question,
    filters: cleanFilters(turn.filters),
    response: { ...r, citations },
  };
}

export function loadTurns() {
  const raw = get(KEYS.turns);
  if (!raw) return [];
  try {
    const parsed = parseJson(raw);
    return Array.isArray(parsed) ? parsed.map(upgradeTurn).filter(Boolean).slice(-MAX_TURNS) : [];
  } catch {
    return [];
  }
}

export function saveTurns(turns) {
  let keep = turns.slice(-MAX_TURNS);
  // On a full storage quota, drop the oldest turns until the rest fits.
  while (!set(KEYS.turns, JSON.stringify(keep)) && keep.length > 0) keep = keep.slice(1);
}

export function loadLang() {
  return get(KEYS.lang) === "en" ? "en" : "zh";
}

export function saveLang(lang) {
  set(KEYS.lang, lang);
}

export function loadDraft() {
  return get(KEYS.draft) || "";
}

export function saveDraft(text) {
  if (text) set(KEYS.draft, text);
  else remove(KEYS.draft);
}

/** Where the reader was ({turn, index, top}, see main.js), or null. */
export function loadScroll() {
  try {
    const v = JSON.parse(window.sessionStorage.getItem(KEYS.scroll) || "null");
    return isObject(v) && typeof v.turn === "string" && Number.isInteger(v.index) && Number.isFinite(v.top) ? v : null;
  } catch {
    return null;
  }
}

export function saveScroll(anchor) {
  try {
    if (anchor) window.sessionStorage.setItem(KEYS.scroll, JSON.stringify(anchor));
    else window.sessionStorage.removeItem(KEYS.scroll);
  } catch {
    /* storage unavailable: a reload starts at the latest answer */
  }
}
