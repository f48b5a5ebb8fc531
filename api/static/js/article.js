/* The full-article dialog: the article text with the cited passage marked, the quoted sentences inside it
 * marked more strongly, and the passage scrolled into view.
 */

import { ApiError, getArticle } from "./api.js";
import { $, appendMarked, el, flash, reduceMotion, safeUrl } from "./dom.js";
import { describeError, t } from "./i18n.js";
import { cpLength, cpToUtf16, int, quotedRanges, str } from "./text.js";

const els = {
  panel: $("article-panel"),
  title: $("article-title"),
  meta: $("article-meta"),
  body: $("article-body"),
  close: $("article-close"),
  jump: $("article-jump"),
  link: $("article-link"),
};

const cache = new Map();
let request = 0;
let opener = null;
let fallbackFocus = null;

/** Wire the dialog; ``focusBack`` is where the focus goes when the element that opened it is gone. */
export function initArticlePanel(focusBack) {
  fallbackFocus = focusBack;
  els.close.addEventListener("click", closeArticle);
  els.jump.addEventListener("click", () => scrollToCited("smooth"));
  els.panel.addEventListener("click", (e) => {
    // A click on the backdrop (outside the dialog box) closes it.
    if (e.target !== els.panel) return;
    const r = els.panel.getBoundingClientRect();
    if (e.clientX < r.left || e.clientX > r.right || e.clientY < r.top || e.clientY > r.bottom) closeArticle();
  });
  els.panel.addEventListener("close", () => {
    request++;
    const back = opener && opener.isConnected ? opener : fallbackFocus;
    opener = null;
    if (back) back.focus({ preventScroll: true });
  });
}

export function closeArticle() {
  if (els.panel.open) els.panel.close();
}

function setLink(url) {
  const href = safeUrl(url);
  els.link.hidden = !href;
  if (href) els.link.href = href;
  else els.link.removeAttribute("href");
}

/** Open the article of citation ``c``; ``from`` gets the focus back when the dialog closes. */
export async function openArticle(c, from) {
  opener = from || null;
  const req = ++request;
  const aid = str(c.aid);
  els.title.textContent = str(c.title) || aid;
  els.meta.textContent = [str(c.date), str(c.account)].filter(Boolean).join(" · ");
  setLink(str(c.url));
  els.jump.hidden = true;
  els.body.replaceChildren(el("p", "panel-loading", t("articleLoading")));
  if (!els.panel.open) els.panel.showModal();
  els.title.focus(); // the heading first, so a screen reader reads which article opened
  try {
    let article = cache.get(aid);
    if (!article) {
      article = await getArticle(aid);
      cache.set(aid, article);
    }
    if (req !== request || !els.panel.open) return;
    renderArticle(article, c);
  } catch (err) {
    if (req !== request) return;
    const { title, lines, tech } = describeError(err instanceof ApiError ? err : new ApiError("network"));
    const box = el("div", "error panel-error");
    box.setAttribute("role", "alert");
    box.dataset.code = err instanceof ApiError ? err.code : "network";
    box.append(el("p", "error-title", title));
    lines.forEach((line) => box.append(el("p", "error-detail", line)));
    if (tech) box.append(el("p", "error-tech", tech));
    els.body.replaceChildren(box);
  }
}

/** Where the passage of ``c`` is in ``text``, as UTF-16 [s, e]: its offsets if they hold, else a search. */
function locate(text, c) {
  const passage = str(c.text);
  const start = int(c.start);
  const end = int(c.end);
  if (start >= 0 && end > start && end <= cpLength(text)) {
    const s = cpToUtf16(text, start);
    const e = cpToUtf16(text, end);
    if (!passage || text.slice(s, e) === passage) return [s, e];
  }
  if (passage) {
    const found = text.indexOf(passage);
    if (found >= 0) return [found, found + passage.length];
  }
  return null;
}

function renderArticle(article, c) {
  const text = str(article.text);
  els.title.textContent = str(article.title) || str(c.title) || str(c.aid);
  els.meta.textContent = [str(article.date), str(article.account)].filter(Boolean).join(" · ");
  setLink(str(article.url) || str(c.url));
  const body = els.body;
  body.replaceChildren();
  if (!text) {
    body.append(el("p", "panel-note", t("articleEmpty")));
    if (article.source) body.append(el("p", "article-source", t("sourceLine", str(article.source))));
    return;
  }

  const span = locate(text, c);
  if (!span) body.append(el("p", "panel-note", t("articleMissing")));
  const node = el("div", "article-text");
  node.lang = "zh-CN";
  if (!span) {
    node.append(document.createTextNode(text));
  } else {
    const [s, e] = span;
    if (s > 0) node.append(document.createTextNode(text.slice(0, s)));
    const mark = el("mark", "cited");
    mark.id = "cited-span";
    mark.dataset.testid = "article-highlight";
    // The span is the passage itself, so the citation's highlights (relative to the passage) apply unchanged.
    const cited = text.slice(s, e);
    appendMarked(mark, cited, quotedRanges(cited, c.highlights), () => {
      const strong = el("strong", "quoted");
      strong.title = t("quoted");
      return strong;
    });
    node.append(mark);
    if (e < text.length) node.append(document.createTextNode(text.slice(e)));
  }
  body.append(node);
  if (article.source) body.append(el("p", "article-source", t("sourceLine", str(article.source))));
  body.scrollTop = 0;
  if (span) {
    els.jump.hidden = false;
    window.requestAnimationFrame(() => scrollToCited("auto"));
  }
}

function scrollToCited(behavior) {
  const mark = document.getElementById("cited-span");
  if (!mark) return;
  const body = els.body;
  const top = mark.offsetTop - body.offsetTop - Math.max(24, (body.clientHeight - mark.offsetHeight) / 3);
  body.scrollTo({ top: Math.max(0, top), behavior: reduceMotion() ? "auto" : behavior });
  flash(mark);
}
