/* Turns of the conversation: the question, the answer with clickable [n] markers, and the citation cards
 * with the quoted spans (the API's ``highlights``) marked in each passage.
 */

import { openArticle } from "./article.js";
import { appendMarked, el, flash, reduceMotion, safeUrl } from "./dom.js";
import { t } from "./i18n.js";
import { quotedRanges, str } from "./text.js";

/** The question bubble, with the filters it was asked with. A long question shows four lines and a toggle. */
export function questionBlock(question, filters) {
  const wrap = el("div", "q-row");
  const bubble = el("div", "question-bubble");
  bubble.dataset.testid = "question-text";
  const badge = el("span", "q-badge", t("you"));
  badge.setAttribute("aria-hidden", "true");
  const text = el("p", "q-text clamped", question);
  const body = el("div", "q-body");
  const toggle = el("button", "q-toggle btn-link", t("showQuestion"));
  toggle.type = "button";
  toggle.hidden = true;
  toggle.setAttribute("aria-expanded", "false");
  toggle.addEventListener("click", () => {
    const expand = text.classList.contains("clamped");
    text.classList.toggle("clamped", !expand);
    toggle.setAttribute("aria-expanded", String(expand));
    toggle.textContent = expand ? t("hideQuestion") : t("showQuestion");
  });
  body.append(text, toggle);
  bubble.append(badge, body);
  wrap.append(bubble);
  if (filters) {
    const parts = [];
    if (filters.date_from || filters.date_to) parts.push(t("dateRange", filters.date_from, filters.date_to));
    if (filters.account) parts.push(filters.account);
    wrap.append(el("p", "q-filters", `${t("filtered")}${t("filterSep")}${parts.join(" · ")}`));
  }
  return wrap;
}

/** A question on its way: the bubble and a loading line that counts the seconds after the third. */
export function renderPending(question, filters) {
  const li = el("li", "turn pending");
  li.dataset.testid = "pending";
  li.setAttribute("aria-busy", "true");
  li.append(questionBlock(question, filters));
  const box = el("div", "answer loading");
  box.dataset.testid = "loading";
  const dots = el("span", "dots");
  dots.setAttribute("aria-hidden", "true");
  dots.append(el("span"), el("span"), el("span"));
  const waited = el("span", "waited");
  box.append(dots, el("span", "loading-text", t("loading")), waited);
  li.append(box);
  const started = Date.now();
  const timer = window.setInterval(() => {
    if (!li.isConnected) return window.clearInterval(timer);
    const s = Math.round((Date.now() - started) / 1000);
    if (s >= 3) waited.textContent = ` ${t("waited", s)}`;
  }, 1000);
  li.stopTimer = () => window.clearInterval(timer);
  return li;
}

const citationsOf = (r) => (Array.isArray(r.citations) ? r.citations : []);

// The answer record's confidence is calibrated: among answers given at p, about p hold a correct answer (README).
const percent = (p) => Math.round(p * 100);

/** One answered (or abstained) turn. */
export function renderTurn(turn) {
  const li = el("li", "turn");
  li.id = `turn-${turn.id}`;
  li.dataset.turnId = turn.id;
  li.dataset.testid = "turn";
  const r = turn.response;
  const citations = citationsOf(r);
  li.append(questionBlock(turn.question, turn.filters));

  const abstained = r.abstained === true;
  const streaming = r.streaming === true;
  const confidence = typeof r.confidence === "number" && Number.isFinite(r.confidence) ? r.confidence : null;
  const answer = el("div", abstained ? "answer abstained" : streaming ? "answer streaming" : "answer");
  answer.dataset.testid = abstained ? "abstained" : "answer";
  if (streaming) {
    // The sources are known; the text arrives piece by piece (setText below).
    const text = el("p", "answer-text");
    const note = el("p", "streaming-note");
    note.dataset.testid = "streaming";
    const dots = el("span", "dots");
    dots.setAttribute("aria-hidden", "true");
    dots.append(el("span"), el("span"), el("span"));
    note.append(dots, el("span", null, t("answering")));
    answer.append(text, note);
    li.setText = (value) => {
      text.replaceChildren();
      appendAnswerText(text, value, citations, turn.id);
    };
  } else if (abstained) {
    // The server's own sentence, in the question's language, is the abstention message.
    const head = el("p", "abstain-title");
    const icon = el("span", "abstain-icon"); // the "i" is drawn by CSS
    icon.setAttribute("aria-hidden", "true");
    head.append(icon, el("span", "abstain-text", r.answer));
    answer.append(head);
    if (!citations.length) answer.append(el("p", "abstain-help", t("noPassages")));
    if (turn.filters) {
      const hint = el("p", "abstain-filter", t("filterMayExclude"));
      hint.dataset.testid = "filter-hint";
      answer.append(hint);
    }
  } else {
    const text = el("p", "answer-text");
    appendAnswerText(text, r.answer, citations, turn.id);
    answer.append(text);
    // The server's cautions, in the question's language, where the answer is read (not only in the figures
    // below it): an answer more likely wrong than right; terms of the question the passages found do not mention.
    const cautions = Array.isArray(r.cautions) ? r.cautions.filter((x) => typeof x === "string" && x) : [];
    for (const text of cautions) {
      const note = el("p", "caution", text);
      note.dataset.testid = "caution";
      answer.append(note);
    }
  }
  if (r.notice) answer.append(el("p", "notice", str(r.notice)));
  const interpretation = interpretationLine(r);
  if (interpretation) answer.append(interpretation);

  const meta = [];
  if (!abstained && !streaming) meta.push(r.generator === "llm" ? t("genLlm") : t("genExtractive"));
  if (!abstained && !streaming && confidence !== null) meta.push(t("confidence", percent(confidence)));
  const took = typeof r.took_ms === "number" && Number.isFinite(r.took_ms) ? r.took_ms : 0;
  if (took > 0) meta.push(t("took", (took / 1000).toFixed(took < 10000 ? 2 : 1)));
  if (meta.length) answer.append(el("p", "answer-meta", meta.join(" · ")));
  li.append(answer);

  const section = el("section", "citations");
  const headingId = `cites-${turn.id}`;
  section.setAttribute("aria-labelledby", headingId);
  const h = el("h3", "citations-title", abstained ? t("closest", citations.length) : t("sources", citations.length));
  h.id = headingId;
  section.append(h);
  if (citations.length === 0) {
    section.append(el("p", "empty", t("noPassages")));
  } else {
    const list = el("ol", "citation-list");
    citations.forEach((c) => list.append(renderCard(c, turn.id)));
    section.append(list);
  }
  li.append(section);
  return li;
}

/** What the server understood, unobtrusively: the earlier question a follow-up was read with, the date it
 * searched, and for an English question the Chinese terms its words were translated to (all from the answer
 * record: conversation, interpreted, language, query_terms). */
function interpretationLine(r) {
  const parts = [];
  const c = r.conversation;
  const carried = c && Array.isArray(c.carried) ? c.carried.filter((x) => typeof x === "string" && x) : [];
  if (carried.length) parts.push(t("followUp", carried, typeof c.asking === "string" ? c.asking : ""));
  const d = r.interpreted;
  if (d && typeof d === "object" && typeof d.date_from === "string" && d.date_from) {
    const to = typeof d.date_to === "string" && d.date_to && d.date_to !== d.date_from ? d.date_to : null;
    parts.push(t("searchedDate", d.date_from, to, typeof d.source === "string" ? d.source : ""));
  }
  const terms = Array.isArray(r.query_terms) ? r.query_terms.filter((x) => typeof x === "string" && x) : [];
  if (terms.length && r.language === "en") parts.push(t("searchedTerms", terms.slice(0, 8).join("、")));
  if (!parts.length) return null;
  const p = el("p", "interpretation", parts.join(" · "));
  p.dataset.testid = "interpretation";
  return p;
}

const MARKER = /\[(\d+(?:\s*[,，、]\s*\d+)*)\]/g;

/** The answer text with each [n] (or [1, 2]) turned into a button that jumps to card n. */
function appendAnswerText(parent, answer, citations, turnId) {
  const byN = new Map(citations.map((c) => [c.n, c]));
  let last = 0;
  for (const m of answer.matchAll(MARKER)) {
    const ns = m[1].split(/\s*[,，、]\s*/).map(Number);
    if (!ns.every((n) => byN.has(n))) continue; // not a citation marker: leave it as text
    if (m.index > last) parent.append(document.createTextNode(answer.slice(last, m.index)));
    ns.forEach((n) => parent.append(markerButton(byN.get(n), turnId)));
    last = m.index + m[0].length;
  }
  if (last < answer.length) parent.append(document.createTextNode(answer.slice(last)));
}

function markerButton(c, turnId) {
  const title = str(c.title) || str(c.aid);
  const b = el("button", "cite-marker", String(c.n));
  b.type = "button";
  b.dataset.n = String(c.n);
  b.dataset.testid = "cite-marker";
  b.setAttribute("aria-label", t("cite", c.n, title));
  b.title = title;
  b.addEventListener("click", (e) => {
    e.preventDefault();
    focusCard(turnId, c.n);
  });
  return b;
}

const cardId = (turnId, n) => `cite-${turnId}-${n}`;

function focusCard(turnId, n) {
  const card = document.getElementById(cardId(turnId, n));
  if (!card) return;
  card.scrollIntoView({ behavior: reduceMotion() ? "auto" : "smooth", block: "center" });
  flash(card);
  window.setTimeout(() => card.classList.remove("flash"), 2000);
  const target = card.querySelector(".card-title");
  if (target) target.focus({ preventScroll: true });
}

function renderCard(c, turnId) {
  const title = str(c.title) || str(c.aid);
  const li = el("li", "citation-card");
  li.id = cardId(turnId, c.n);
  li.dataset.n = String(c.n);
  li.dataset.aid = str(c.aid);
  if (c.chunk_id !== undefined && c.chunk_id !== null) li.dataset.chunkId = String(c.chunk_id); // opaque
  li.dataset.testid = "citation-card";

  const head = el("div", "card-head");
  const num = el("span", "card-n", String(c.n));
  num.setAttribute("aria-hidden", "true");
  const titleButton = el("button", "card-title", title);
  titleButton.type = "button";
  titleButton.setAttribute("aria-label", `${t("cite", c.n, title)} — ${t("openFull")}`);
  head.append(num, titleButton);

  const date = str(c.date);
  const account = str(c.account);
  const meta = el("p", "card-meta");
  if (date) {
    const time = el("time", null, date);
    time.dateTime = date;
    meta.append(time);
  }
  if (date && account) meta.append(el("span", "sep", " · "));
  if (account) meta.append(el("span", "card-account", account));

  const text = str(c.text);
  const passage = el("blockquote", "passage clamped");
  passage.id = `${li.id}-text`;
  passage.lang = "zh-CN";
  appendMarked(passage, text, quotedRanges(text, c.highlights), () => {
    const mark = el("mark");
    mark.title = t("quoted");
    return mark;
  });

  const actions = el("div", "card-actions");
  const open = el("button", "card-open btn-link", t("openFull"));
  open.type = "button";
  const more = el("button", "passage-toggle btn-link", t("more"));
  more.type = "button";
  more.hidden = true;
  more.setAttribute("aria-expanded", "false");
  more.setAttribute("aria-controls", passage.id);
  more.addEventListener("click", () => {
    const expand = passage.classList.contains("clamped");
    passage.classList.toggle("clamped", !expand);
    more.setAttribute("aria-expanded", String(expand));
    more.textContent = expand ? t("less") : t("more");
    fitPassage(passage);
  });
  actions.append(open, more);
  const href = safeUrl(str(c.url));
  if (href) {
    const a = el("a", "card-link", t("originalLink"));
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.append(el("span", "visually-hidden", t("newTab")));
    const arrow = el("span", "ext", "↗");
    arrow.setAttribute("aria-hidden", "true");
    a.append(arrow);
    actions.append(a);
  }

  // An article with no body is indexed by its title: its passage is empty, and the card says why.
  li.append(head, meta, text ? passage : el("p", "passage-empty", t("passageEmpty")), actions);
  li.addEventListener("click", (e) => {
    if (e.target.closest("a, .passage-toggle")) return; // the link opens the original in a new tab
    const sel = window.getSelection();
    if (sel && !sel.isCollapsed && li.contains(sel.anchorNode) && !e.target.closest("button")) return; // selecting text
    openArticle(c, e.target.closest("button") || titleButton);
  });
  return li;
}

/**
 * Fit what is clamped to the space it has: long questions show four lines and a toggle; long passages show
 * about seven lines with the quoted sentences fully in sight, and a "more" button for the rest.
 */
export function fitClamped(root) {
  root.querySelectorAll(".q-text").forEach(fitQuestion);
  root.querySelectorAll(".passage").forEach(fitPassage);
}

function fitQuestion(text) {
  const toggle = text.parentElement && text.parentElement.querySelector(".q-toggle");
  if (!toggle || !text.classList.contains("clamped")) return;
  toggle.hidden = text.scrollHeight <= text.clientHeight + 2;
}

/**
 * A clamped passage fades one line at its bottom (and at its top once scrolled), so the quote must lie between
 * them: it is scrolled to one line below the top, and the window grows when the quote is taller than it. The
 * text itself is always complete in the page.
 */
function fitPassage(passage) {
  const toggle = passage.closest(".citation-card")?.querySelector(".passage-toggle");
  passage.style.maxHeight = "";
  passage.scrollTop = 0;
  if (!passage.classList.contains("clamped")) {
    passage.classList.remove("scrolled", "overflows", "at-end");
    return;
  }
  const box = passage.getBoundingClientRect();
  const marks = Array.from(passage.querySelectorAll("mark")).flatMap((m) => Array.from(m.getClientRects()));
  if (marks.length && passage.scrollHeight > passage.clientHeight + 4) {
    const line = parseFloat(getComputedStyle(passage).lineHeight) || 28;
    const top = Math.min(...marks.map((r) => r.top)) - box.top;
    const bottom = Math.max(...marks.map((r) => r.bottom)) - box.top;
    const need = Math.ceil(bottom - top + 2 * line);
    if (need > passage.clientHeight) passage.style.maxHeight = `${need + 4}px`;
    const height = passage.clientHeight;
    if (bottom > height - line) passage.scrollTop = Math.max(0, Math.floor(top - line));
  }
  const overflows = passage.scrollHeight > passage.clientHeight + 4;
  passage.classList.toggle("overflows", overflows);
  passage.classList.toggle("scrolled", passage.scrollTop > 0);
  passage.classList.toggle("at-end", passage.scrollTop + passage.clientHeight >= passage.scrollHeight - 1);
  if (toggle) toggle.hidden = !overflows;
}
