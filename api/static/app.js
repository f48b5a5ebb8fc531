/* policy-rag chat page. Plain JavaScript, no build step, no third-party code.
 *
 * Safety rule for this file: every piece of text that comes from the user, the API or localStorage is
 * inserted with textContent / createTextNode. Nothing here uses innerHTML, insertAdjacentHTML or
 * document.write, and links only ever get http(s) URLs.
 */
(() => {
  "use strict";

  const KEYS = { turns: "policy-rag.turns.v1", lang: "policy-rag.lang", draft: "policy-rag.draft" };
  const MAX_TURNS = 50;
  const MAX_CHARS = 1000; // api/schemas.py MAX_QUERY_CHARS
  const TOP_K = 5;
  const ASK_TIMEOUT_MS = 120000;
  const EXAMPLES = ["公积金贷款最高额度是多少？", "今年民心工程有多少项？", "以旧换新补贴有哪些？", "天津地铁8号线有什么进展？"];

  // rag/answer.py ABSTAIN_TEXT and ABSTAIN_TEXT_EN.
  const STOCK_ABSTENTIONS = [
    "现有文章没有回答这个问题。以下是最接近的段落，供参考。",
    "The articles do not answer this question. The closest passages are listed below.",
  ];

  const I18N = {
    zh: {
      docTitle: "政务文章问答",
      skip: "跳到提问框",
      title: "政务文章问答",
      tagline: "根据政务公众号文章回答问题，每个答案都标明出处",
      clear: "清空对话",
      langButton: "English",
      langButtonAria: "Switch to English",
      introTitle: "可以这样问",
      introText: "输入一个关于政策、民生或政务信息的问题。答案摘自已收录的文章，点击编号可查看出处段落，点击出处可阅读全文。",
      conversation: "对话记录",
      undo: "撤销",
      cleared: "对话已清空。",
      restored: "对话已恢复。",
      dismiss: "关闭提示",
      filters: "筛选条件",
      filterCount: (n) => `（已设 ${n} 项）`,
      dateFrom: "起始日期",
      dateTo: "截止日期",
      account: "公众号",
      allAccounts: "全部公众号",
      resetFilters: "清除筛选",
      questionLabel: "你的问题",
      placeholder: "请输入问题，例如：公积金贷款最高额度是多少？",
      send: "提问",
      sending: "正在回答",
      hint: "按 Enter 发送，Shift + Enter 换行",
      charCount: (n, max) => `${n} / ${max} 字`,
      close: "关闭",
      jump: "跳到引用处",
      original: "阅读原文",
      you: "问",
      loading: "正在检索文章并整理答案…",
      waited: (s) => `已等待 ${s} 秒`,
      abstainTitle: "现有文章没有回答这个问题",
      abstainHelp: "下面列出的是最接近的段落，仅供参考，并不能回答这个问题。",
      sources: (n) => `出处（${n}）`,
      closest: (n) => `最接近的段落（${n}）`,
      noPassages: "没有找到相关段落。",
      genExtractive: "答案摘自文章原句",
      genLlm: "答案由语言模型根据出处撰写",
      took: (s) => `用时 ${s} 秒`,
      filtered: "筛选",
      dateRange: (a, b) => (a && b ? `${a} 至 ${b}` : a ? `${a} 起` : `截至 ${b}`),
      cite: (n, title) => `出处 ${n}：${title}`,
      openFull: "查看全文",
      more: "展开段落",
      less: "收起段落",
      originalLink: "原文链接",
      newTab: "（在新标签页打开）",
      quoted: "答案引用",
      articleLoading: "正在载入全文…",
      articleMissing: "无法在全文中定位这段引用（文章可能已更新），下面显示全文。",
      articleEmpty: "这篇文章没有正文。",
      sourceLine: (s) => `来源：${s}`,
      announceAnswer: (n) => `已回答，附 ${n} 个出处。`,
      announceAbstain: "现有文章没有回答这个问题。",
      err: {
        empty: ["请先输入问题。", ""],
        invalid: ["问题没有提交成功，请修改后再试。", ""],
        noindex: ["服务还没有建立文章索引，暂时无法回答。", "请管理员先运行 rag ingest 导入文章，然后再试。"],
        network: ["无法连接到服务器。", "请检查网络连接或稍后再试，你的问题还保留在输入框里。"],
        timeout: ["服务器太久没有响应。", "请稍后再试，你的问题还保留在输入框里。"],
        toolarge: ["提交的内容太长，服务器拒绝接收。", "请缩短问题后再试。"],
        notfound: ["找不到请求的内容。", ""],
        server: ["服务器出错了，请稍后再试。", ""],
        badresponse: ["服务器返回了无法识别的内容。", "请稍后再试。"],
      },
      tooLong: (n, max) => `问题共有 ${n} 个字符，超过了 ${max} 个字符的上限，请缩短后再提交。`,
      emptyQuestion: "问题是空的，请输入几个字。",
      datesOrder: (a, b) => `起始日期（${a}）晚于截止日期（${b}），请调整筛选条件。`,
      dateFormat: "日期格式应为 年-月-日，例如 2026-02-01。",
      serverSaid: "服务器说明：",
      httpStatus: (s) => `HTTP ${s}`,
      retry: "重试",
    },
    en: {
      docTitle: "Government articles Q&A",
      skip: "Skip to the question box",
      title: "Government articles Q&A",
      tagline: "Answers from government WeChat articles, every one with its sources",
      clear: "Clear conversation",
      langButton: "中文",
      langButtonAria: "切换到中文",
      introTitle: "Try asking",
      introText: "Ask about a policy, public service or government notice. Answers quote the collected articles; click a number to see the source passage, and a source to read the whole article.",
      conversation: "Conversation",
      undo: "Undo",
      cleared: "Conversation cleared.",
      restored: "Conversation restored.",
      dismiss: "Dismiss",
      filters: "Filters",
      filterCount: (n) => `(${n} set)`,
      dateFrom: "From",
      dateTo: "To",
      account: "Account",
      allAccounts: "All accounts",
      resetFilters: "Reset filters",
      questionLabel: "Your question",
      placeholder: "Type a question, e.g. 公积金贷款最高额度是多少？",
      send: "Ask",
      sending: "Answering",
      hint: "Enter to send, Shift + Enter for a new line",
      charCount: (n, max) => `${n} / ${max} characters`,
      close: "Close",
      jump: "Go to the quote",
      original: "Original article",
      you: "Q",
      loading: "Searching the articles and composing an answer…",
      waited: (s) => `waiting for ${s} s`,
      abstainTitle: "The articles do not answer this question",
      abstainHelp: "The passages below are the closest ones found. They are listed for reference only and do not answer the question.",
      sources: (n) => `Sources (${n})`,
      closest: (n) => `Closest passages (${n})`,
      noPassages: "No related passages were found.",
      genExtractive: "Answer quoted from the articles",
      genLlm: "Answer written by a language model from the sources",
      took: (s) => `answered in ${s} s`,
      filtered: "Filters",
      dateRange: (a, b) => (a && b ? `${a} to ${b}` : a ? `from ${a}` : `until ${b}`),
      cite: (n, title) => `Source ${n}: ${title}`,
      openFull: "Read the whole article",
      more: "Show the whole passage",
      less: "Show less",
      originalLink: "Original",
      newTab: " (opens in a new tab)",
      quoted: "Quoted in the answer",
      articleLoading: "Loading the article…",
      articleMissing: "The quoted passage could not be found in the article (it may have changed); the whole article is shown.",
      articleEmpty: "This article has no body text.",
      sourceLine: (s) => `Source: ${s}`,
      announceAnswer: (n) => `Answered, with ${n} sources.`,
      announceAbstain: "The articles do not answer this question.",
      err: {
        empty: ["Please type a question first.", ""],
        invalid: ["The question was not sent. Please change it and try again.", ""],
        noindex: ["The service has no article index yet, so it cannot answer.", "Ask the administrator to run rag ingest, then try again."],
        network: ["Could not reach the server.", "Check your connection or try again later. Your question is still in the box."],
        timeout: ["The server took too long to answer.", "Please try again later. Your question is still in the box."],
        toolarge: ["The request was too large for the server.", "Please shorten the question and try again."],
        notfound: ["The requested item was not found.", ""],
        server: ["Something went wrong on the server. Please try again later.", ""],
        badresponse: ["The server sent a reply the page could not read.", "Please try again later."],
      },
      tooLong: (n, max) => `The question is ${n} characters long; the limit is ${max}. Please shorten it.`,
      emptyQuestion: "The question is empty; type a few words.",
      datesOrder: (a, b) => `The start date (${a}) is after the end date (${b}); please adjust the filters.`,
      dateFormat: "Dates are written YYYY-MM-DD, e.g. 2026-02-01.",
      serverSaid: "Server message: ",
      httpStatus: (s) => `HTTP ${s}`,
      retry: "Try again",
    },
  };

  // ---------- small helpers ----------

  const $ = (id) => document.getElementById(id);
  const els = {
    form: $("ask-form"),
    question: $("question"),
    send: $("send"),
    conversation: $("conversation"),
    intro: $("intro"),
    examples: $("examples"),
    clear: $("clear"),
    lang: $("lang-toggle"),
    error: $("error"),
    errorTitle: $("error-title"),
    errorDetail: $("error-detail"),
    errorClose: $("error-close"),
    status: $("status"),
    statusText: $("status-text"),
    undo: $("undo-clear"),
    filters: $("filters"),
    filterSummary: $("filter-summary"),
    dateFrom: $("date-from"),
    dateTo: $("date-to"),
    account: $("account"),
    resetFilters: $("reset-filters"),
    charCount: $("char-count"),
    panel: $("article-panel"),
    panelTitle: $("article-title"),
    panelMeta: $("article-meta"),
    panelBody: $("article-body"),
    panelClose: $("article-close"),
    panelJump: $("article-jump"),
    panelLink: $("article-link"),
  };

  function storageGet(key) {
    try {
      return window.localStorage.getItem(key);
    } catch {
      return null;
    }
  }
  function storageSet(key, value) {
    try {
      window.localStorage.setItem(key, value);
      return true;
    } catch {
      return false;
    }
  }
  function storageRemove(key) {
    try {
      window.localStorage.removeItem(key);
    } catch {
      /* storage unavailable: nothing to remove */
    }
  }

  let lang = storageGet(KEYS.lang) === "en" ? "en" : "zh";
  function t(key, ...args) {
    const v = I18N[lang][key] ?? I18N.zh[key];
    return typeof v === "function" ? v(...args) : v;
  }

  /** Create an element with optional class and text (always via textContent). */
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /** Only http(s) URLs become links: no javascript:, data: or relative surprises. */
  function safeUrl(url) {
    if (typeof url !== "string") return null;
    try {
      const u = new URL(url, window.location.href);
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
    } catch {
      return null;
    }
  }

  /**
   * Python offsets count code points; JS strings count UTF-16 units. Convert a code-point offset into a
   * UTF-16 index of ``str`` so that astral characters (emoji, rare CJK) never shift a highlight.
   */
  function cpToUtf16(str, cp) {
    let i = 0;
    let seen = 0;
    while (i < str.length && seen < cp) {
      const c = str.charCodeAt(i);
      i += c >= 0xd800 && c <= 0xdbff && i + 1 < str.length ? 2 : 1;
      seen += 1;
    }
    return i;
  }
  function cpLength(str) {
    let n = 0;
    for (let i = 0; i < str.length; i++) {
      const c = str.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < str.length) i++;
      n++;
    }
    return n;
  }

  const reduceMotion = () => window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  const newId = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 7)}`;

  // ---------- data from the API / storage, coerced to the documented shapes ----------

  const str = (v) => (typeof v === "string" ? v : v === null || v === undefined ? "" : String(v));
  const num = (v, d = 0) => (typeof v === "number" && Number.isFinite(v) ? v : d);

  function cleanCitation(c) {
    if (!c || typeof c !== "object") return null;
    const hl = Array.isArray(c.highlight) && c.highlight.length === 2 ? [num(c.highlight[0]), num(c.highlight[1])] : null;
    return {
      n: num(c.n),
      chunk_id: num(c.chunk_id),
      aid: str(c.aid),
      title: str(c.title),
      url: str(c.url),
      date: str(c.date),
      account: str(c.account),
      text: str(c.text),
      start: num(c.start),
      end: num(c.end),
      score: num(c.score),
      highlight: hl,
    };
  }

  function cleanResponse(r) {
    if (!r || typeof r !== "object" || typeof r.answer !== "string") return null;
    return {
      question: str(r.question),
      answer: r.answer,
      abstained: r.abstained === true,
      confidence: num(r.confidence),
      generator: str(r.generator),
      notice: r.notice ? str(r.notice) : null,
      citations: (Array.isArray(r.citations) ? r.citations : []).map(cleanCitation).filter(Boolean),
      took_ms: num(r.took_ms),
    };
  }

  function cleanFilters(f) {
    if (!f || typeof f !== "object") return null;
    const out = {};
    if (f.date_from) out.date_from = str(f.date_from);
    if (f.date_to) out.date_to = str(f.date_to);
    if (f.account) out.account = str(f.account);
    return Object.keys(out).length ? out : null;
  }

  function cleanTurn(turn) {
    if (!turn || typeof turn !== "object" || typeof turn.question !== "string") return null;
    const response = cleanResponse(turn.response);
    if (!response) return null;
    return { id: str(turn.id) || newId(), question: turn.question, filters: cleanFilters(turn.filters), response };
  }

  function loadTurns() {
    const raw = storageGet(KEYS.turns);
    if (!raw) return [];
    try {
      const parsed = JSON.parse(raw);
      return Array.isArray(parsed) ? parsed.map(cleanTurn).filter(Boolean).slice(-MAX_TURNS) : [];
    } catch {
      return [];
    }
  }

  function saveTurns() {
    let keep = turns.slice(-MAX_TURNS);
    // On a full storage quota, drop the oldest turns until the rest fits.
    while (!storageSet(KEYS.turns, JSON.stringify(keep)) && keep.length > 0) keep = keep.slice(1);
  }

  // ---------- API ----------

  class ApiError extends Error {
    constructor(kind, status, detail) {
      super(detail || kind);
      this.kind = kind;
      this.status = status;
      this.detail = detail || "";
    }
  }

  async function api(path, options = {}, timeoutMs = 30000) {
    const controller = new AbortController();
    const timer = window.setTimeout(() => controller.abort(), timeoutMs);
    let res;
    try {
      res = await fetch(path, {
        ...options,
        signal: controller.signal,
        headers: { Accept: "application/json", ...(options.body ? { "Content-Type": "application/json" } : {}) },
      });
    } catch (e) {
      throw new ApiError(e && e.name === "AbortError" ? "timeout" : "network", 0, "");
    } finally {
      window.clearTimeout(timer);
    }
    let body = null;
    try {
      body = await res.json();
    } catch {
      body = null;
    }
    if (!res.ok) {
      const detail = body && typeof body.detail === "string" ? body.detail : "";
      const kind =
        res.status === 422 || res.status === 400 ? "invalid"
          : res.status === 503 ? "noindex"
            : res.status === 413 ? "toolarge"
              : res.status === 404 ? "notfound"
                : "server";
      throw new ApiError(kind, res.status, detail);
    }
    if (body === null) throw new ApiError("badresponse", res.status, "");
    return body;
  }

  // ---------- state ----------

  let turns = loadTurns();
  let busy = false;
  let lastError = null; // {kind, status, detail} so a language switch can re-render it
  let undoTurns = null;
  let undoTimer = 0;
  const articleCache = new Map();
  let articleRequest = 0;
  let panelOpener = null;

  // ---------- static text and language ----------

  function applyLanguage() {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
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
    els.lang.lang = lang === "zh" ? "en" : "zh-CN";
    els.lang.setAttribute("aria-label", t("langButtonAria"));
    renderExamples();
    updateFilterSummary();
    updateCharCount();
    renderConversation();
    if (lastError) showError(lastError);
    if (busy) els.send.setAttribute("aria-label", t("sending"));
  }

  function renderExamples() {
    els.examples.replaceChildren(
      ...EXAMPLES.map((q) => {
        const b = el("button", "example", q);
        b.type = "button";
        b.lang = "zh-CN";
        b.addEventListener("click", () => {
          els.question.value = q;
          onQuestionInput();
          submit();
        });
        return b;
      }),
    );
  }

  // ---------- rendering turns ----------

  function renderConversation() {
    const nodes = turns.map(renderTurn);
    els.conversation.replaceChildren(...nodes);
    fitPassages(els.conversation);
    const pending = document.querySelector(".turn.pending");
    if (pending) els.conversation.append(pending);
    syncChrome();
  }

  function syncChrome() {
    const hasTurns = turns.length > 0 || busy;
    els.intro.hidden = hasTurns;
    els.clear.disabled = turns.length === 0 || busy;
  }

  function questionBlock(question, filters) {
    const wrap = el("div", "q-row");
    const bubble = el("div", "question-bubble");
    bubble.dataset.testid = "question-text";
    const badge = el("span", "q-badge", t("you"));
    badge.setAttribute("aria-hidden", "true");
    const text = el("p", "q-text", question);
    bubble.append(badge, text);
    wrap.append(bubble);
    if (filters) {
      const parts = [];
      if (filters.date_from || filters.date_to) parts.push(t("dateRange", filters.date_from, filters.date_to));
      if (filters.account) parts.push(filters.account);
      wrap.append(el("p", "q-filters", `${t("filtered")}：${parts.join(" · ")}`));
    }
    return wrap;
  }

  function renderTurn(turn) {
    const li = el("li", "turn");
    li.id = `turn-${turn.id}`;
    li.dataset.turnId = turn.id;
    li.dataset.testid = "turn";
    const r = turn.response;
    li.append(questionBlock(turn.question, turn.filters));

    const answer = el("div", r.abstained ? "answer abstained" : "answer");
    answer.dataset.testid = r.abstained ? "abstained" : "answer";
    if (r.abstained) {
      const head = el("p", "abstain-title");
      const icon = el("span", "abstain-icon"); // the "i" is drawn by CSS
      icon.setAttribute("aria-hidden", "true");
      head.append(icon, document.createTextNode(t("abstainTitle")));
      answer.append(head);
    }
    // The service's stock abstention sentence repeats the heading above, so only other wording is shown.
    if (!(r.abstained && STOCK_ABSTENTIONS.includes(r.answer.trim()))) {
      const text = el("p", "answer-text");
      appendAnswerText(text, r.answer, r.citations, turn.id);
      answer.append(text);
    }
    if (r.abstained) answer.append(el("p", "abstain-help", r.citations.length ? t("abstainHelp") : t("noPassages")));
    if (r.notice) answer.append(el("p", "notice", r.notice));

    const meta = [];
    if (!r.abstained) meta.push(r.generator === "llm" ? t("genLlm") : t("genExtractive"));
    if (r.took_ms > 0) meta.push(t("took", (r.took_ms / 1000).toFixed(r.took_ms < 10000 ? 2 : 1)));
    if (meta.length) answer.append(el("p", "answer-meta", meta.join(" · ")));
    li.append(answer);

    const section = el("section", "citations");
    const headingId = `cites-${turn.id}`;
    section.setAttribute("aria-labelledby", headingId);
    const h = el("h3", "citations-title", r.abstained ? t("closest", r.citations.length) : t("sources", r.citations.length));
    h.id = headingId;
    section.append(h);
    if (r.citations.length === 0) {
      section.append(el("p", "empty", t("noPassages")));
    } else {
      const list = el("ol", "citation-list");
      const quotes = r.abstained ? new Map() : quotedBy(r.answer, r.citations);
      r.citations.forEach((c) => list.append(renderCard(c, turn.id, quotes.get(c.n) || [])));
      section.append(list);
    }
    li.append(section);
    return li;
  }

  /** The answer text with each [n] (or [1, 2]) turned into a button that jumps to card n. */
  function appendAnswerText(parent, answer, citations, turnId) {
    const byN = new Map(citations.map((c) => [c.n, c]));
    const re = /\[(\d+(?:\s*[,，、]\s*\d+)*)\]/g;
    let last = 0;
    let m;
    while ((m = re.exec(answer)) !== null) {
      const ns = m[1].split(/\s*[,，、]\s*/).map(Number);
      if (!ns.every((n) => byN.has(n))) continue; // not a citation marker: leave it as text
      if (m.index > last) parent.append(document.createTextNode(answer.slice(last, m.index)));
      ns.forEach((n) => parent.append(markerButton(byN.get(n), turnId)));
      last = m.index + m[0].length;
    }
    if (last < answer.length) parent.append(document.createTextNode(answer.slice(last)));
  }

  function markerButton(c, turnId) {
    const b = el("button", "cite-marker", String(c.n));
    b.type = "button";
    b.dataset.n = String(c.n);
    b.dataset.testid = "cite-marker";
    b.setAttribute("aria-label", t("cite", c.n, c.title));
    b.title = c.title;
    b.addEventListener("click", (e) => {
      e.preventDefault();
      focusCard(turnId, c.n);
    });
    return b;
  }

  function cardId(turnId, n) {
    return `cite-${turnId}-${n}`;
  }

  function focusCard(turnId, n) {
    const card = document.getElementById(cardId(turnId, n));
    if (!card) return;
    card.scrollIntoView({ behavior: reduceMotion() ? "auto" : "smooth", block: "center" });
    card.classList.remove("flash");
    void card.offsetWidth; // restart the animation
    card.classList.add("flash");
    window.setTimeout(() => card.classList.remove("flash"), 2000);
    const target = card.querySelector(".card-title");
    if (target) target.focus({ preventScroll: true });
  }

  function renderCard(c, turnId, quoted) {
    const li = el("li", "citation-card");
    li.id = cardId(turnId, c.n);
    li.dataset.n = String(c.n);
    li.dataset.aid = c.aid;
    li.dataset.testid = "citation-card";

    const head = el("div", "card-head");
    const num = el("span", "card-n", String(c.n));
    num.setAttribute("aria-hidden", "true");
    const title = el("button", "card-title", c.title || c.aid);
    title.type = "button";
    title.setAttribute("aria-label", `${t("cite", c.n, c.title || c.aid)} — ${t("openFull")}`);
    head.append(num, title);

    const meta = el("p", "card-meta");
    if (c.date) {
      const time = el("time", null, c.date);
      time.dateTime = c.date;
      meta.append(time);
    }
    if (c.date && c.account) meta.append(el("span", "sep", " · "));
    if (c.account) meta.append(el("span", "card-account", c.account));

    const passage = el("blockquote", "passage clamped");
    passage.id = `${li.id}-text`;
    passage.lang = "zh-CN";
    appendMarked(passage, c.text, quoted, () => {
      const mark = el("mark");
      mark.title = t("quoted");
      return mark;
    });

    const actions = el("div", "card-actions");
    const open = el("button", "card-open btn-link", t("openFull"));
    open.type = "button";
    actions.append(open);
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
      if (!expand) fitPassage(passage);
    });
    actions.append(more);
    const href = safeUrl(c.url);
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

    li.append(head, meta, passage, actions);
    li.addEventListener("click", (e) => {
      if (e.target.closest("a, .passage-toggle")) return; // the link opens the original in a new tab
      const sel = window.getSelection();
      if (sel && !sel.isCollapsed && li.contains(sel.anchorNode) && !e.target.closest("button")) return; // selecting text
      openArticle(c, e.target.closest("button") || title, quoted);
    });
    return li;
  }

  /**
   * Long passages show about seven lines, scrolled so that the first quoted sentence is in sight; the
   * "more" button shows the whole passage. The text itself is always complete in the page.
   */
  function fitPassages(root) {
    root.querySelectorAll(".passage").forEach(fitPassage);
  }

  function fitPassage(passage) {
    const toggle = passage.closest(".citation-card")?.querySelector(".passage-toggle");
    if (!passage.classList.contains("clamped")) {
      passage.classList.remove("scrolled");
      return;
    }
    passage.scrollTop = 0;
    const overflows = passage.scrollHeight > passage.clientHeight + 4;
    passage.classList.toggle("overflows", overflows);
    if (toggle) toggle.hidden = !overflows;
    const mark = passage.querySelector("mark");
    let top = 0;
    if (overflows && mark) {
      const line = parseFloat(getComputedStyle(passage).lineHeight) || 28;
      const markTop = mark.getBoundingClientRect().top - passage.getBoundingClientRect().top;
      if (markTop + line > passage.clientHeight - line) top = Math.max(0, markTop - line);
    }
    passage.scrollTop = top;
    passage.classList.toggle("scrolled", passage.scrollTop > 0);
  }

  /**
   * For each citation n, the UTF-16 ranges of its text that the answer quotes: the API's ``highlight`` span
   * (code points) plus every answer sentence that ends in [n] and occurs word for word in the passage
   * (an extractive answer may quote several sentences of one passage; the API marks the first).
   */
  function quotedBy(answer, citations) {
    const out = new Map();
    const add = (n, range) => {
      if (!out.has(n)) out.set(n, []);
      out.get(n).push(range);
    };
    const byN = new Map(citations.map((c) => [c.n, c]));
    citations.forEach((c) => {
      const hl = c.highlight;
      if (hl && hl[0] >= 0 && hl[1] > hl[0] && hl[1] <= cpLength(c.text)) {
        add(c.n, [cpToUtf16(c.text, hl[0]), cpToUtf16(c.text, hl[1])]);
      }
    });
    const re = /\[(\d+(?:\s*[,，、]\s*\d+)*)\]/g;
    let last = 0;
    let m;
    while ((m = re.exec(answer)) !== null) {
      const ns = m[1].split(/\s*[,，、]\s*/).map(Number);
      if (!ns.every((n) => byN.has(n))) continue;
      const sentence = answer.slice(last, m.index).trim();
      last = m.index + m[0].length;
      if (cpLength(sentence) < 4) continue;
      ns.forEach((n) => {
        const at = byN.get(n).text.indexOf(sentence);
        if (at >= 0) add(n, [at, at + sentence.length]);
      });
    }
    out.forEach((ranges, n) => out.set(n, mergeRanges(ranges)));
    return out;
  }

  function mergeRanges(ranges) {
    const sorted = ranges.filter((r) => r[1] > r[0]).sort((a, b) => a[0] - b[0]);
    const merged = [];
    sorted.forEach((r) => {
      const prev = merged[merged.length - 1];
      if (prev && r[0] < prev[1]) prev[1] = Math.max(prev[1], r[1]);
      else merged.push([r[0], r[1]]);
    });
    return merged;
  }

  /** Append ``text`` to ``parent`` with the UTF-16 ``ranges`` (sorted, disjoint) wrapped in ``makeMark()``. */
  function appendMarked(parent, text, ranges, makeMark) {
    let at = 0;
    ranges.forEach(([s, e]) => {
      if (s < at || e > text.length) return;
      if (s > at) parent.append(document.createTextNode(text.slice(at, s)));
      const mark = makeMark();
      mark.textContent = text.slice(s, e);
      parent.append(mark);
      at = e;
    });
    if (at < text.length) parent.append(document.createTextNode(text.slice(at)));
  }

  function renderPending(question, filters) {
    const li = el("li", "turn pending");
    li.dataset.testid = "pending";
    li.setAttribute("aria-busy", "true");
    li.append(questionBlock(question, filters));
    const box = el("div", "answer loading");
    box.dataset.testid = "loading";
    const dots = el("span", "dots");
    dots.setAttribute("aria-hidden", "true");
    dots.append(el("span"), el("span"), el("span"));
    const label = el("span", "loading-text", t("loading"));
    const waited = el("span", "waited");
    box.append(dots, label, waited);
    li.append(box);
    const started = Date.now();
    const timer = window.setInterval(() => {
      if (!li.isConnected) return window.clearInterval(timer);
      const s = Math.round((Date.now() - started) / 1000);
      if (s >= 3) waited.textContent = ` ${t("waited", s)}`;
    }, 1000);
    li._stop = () => window.clearInterval(timer);
    return li;
  }

  // ---------- errors and status ----------

  function explainInvalid(detail) {
    let m = /the question is (\d+) characters long; the limit is (\d+)/.exec(detail);
    if (m) return t("tooLong", m[1], m[2]);
    if (/the question is empty/.test(detail)) return t("emptyQuestion");
    m = /date_from \(([^)]*)\) is after date_to \(([^)]*)\)/.exec(detail);
    if (m) return t("datesOrder", m[1], m[2]);
    if (/YYYY-MM-DD/.test(detail)) return t("dateFormat");
    return "";
  }

  function showError(err) {
    lastError = { kind: err.kind || "server", status: err.status || 0, detail: err.detail || "" };
    const [title, help] = t("err")[lastError.kind] || t("err").server;
    els.errorTitle.textContent = title;
    const lines = [];
    if (lastError.kind === "invalid") {
      const plain = explainInvalid(lastError.detail);
      if (plain) lines.push(plain);
    } else if (help) {
      lines.push(help);
    }
    els.errorDetail.replaceChildren();
    lines.forEach((line) => els.errorDetail.append(el("span", "error-line", line)));
    if (lastError.detail) {
      const tech = el("span", "error-tech", `${t("serverSaid")}${lastError.detail}`);
      els.errorDetail.append(tech);
    } else if (lastError.status && lastError.kind === "server") {
      els.errorDetail.append(el("span", "error-tech", t("httpStatus", lastError.status)));
    }
    els.error.dataset.kind = lastError.kind;
    els.error.hidden = false;
  }

  function hideError() {
    lastError = null;
    els.error.hidden = true;
  }

  function showStatus(text, withUndo) {
    els.statusText.textContent = text;
    els.undo.hidden = !withUndo;
    els.status.hidden = false;
  }

  function announce(text) {
    // A polite live region outside the conversation, so screen readers hear a short summary only.
    let live = document.getElementById("announcer");
    if (!live) {
      live = el("div", "visually-hidden");
      live.id = "announcer";
      live.setAttribute("aria-live", "polite");
      document.body.append(live);
    }
    live.textContent = "";
    window.setTimeout(() => {
      live.textContent = text;
    }, 50);
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

  async function submit() {
    if (busy) return;
    const question = els.question.value;
    if (!question.trim()) {
      showError({ kind: "empty" });
      els.question.focus();
      return;
    }
    hideError();
    els.status.hidden = true;
    const filters = currentFilters();
    const pending = renderPending(question, filters);
    els.conversation.append(pending);
    setBusy(true);
    pending.scrollIntoView({ behavior: reduceMotion() ? "auto" : "smooth", block: "end" });
    try {
      const body = { question, top_k: TOP_K };
      if (filters) body.filters = filters;
      const raw = await api("/api/ask", { method: "POST", body: JSON.stringify(body) }, ASK_TIMEOUT_MS);
      const response = cleanResponse(raw);
      if (!response) throw new ApiError("badresponse", 200, "");
      const turn = { id: newId(), question, filters, response };
      turns.push(turn);
      if (turns.length > MAX_TURNS) turns = turns.slice(-MAX_TURNS);
      saveTurns();
      pending._stop();
      const node = renderTurn(turn);
      pending.replaceWith(node);
      fitPassages(node);
      // Clear the box only if it still holds what was sent (the user may have typed on meanwhile).
      if (els.question.value === question) {
        els.question.value = "";
        storageRemove(KEYS.draft);
        onQuestionInput();
      }
      node.scrollIntoView({ behavior: reduceMotion() ? "auto" : "smooth", block: "start" });
      announce(response.abstained ? t("announceAbstain") : t("announceAnswer", response.citations.length));
    } catch (err) {
      pending._stop();
      pending.remove();
      showError(err instanceof ApiError ? err : new ApiError("network", 0, ""));
      els.question.focus();
    } finally {
      setBusy(false);
    }
  }

  // ---------- input box ----------

  function autoGrow() {
    const q = els.question;
    q.style.height = "auto";
    q.style.height = `${Math.min(q.scrollHeight + 2, Math.round(window.innerHeight * 0.4))}px`;
  }

  function updateCharCount() {
    const n = cpLength(els.question.value);
    els.charCount.textContent = n >= MAX_CHARS * 0.8 ? t("charCount", n, MAX_CHARS) : "";
    els.charCount.classList.toggle("over", n > MAX_CHARS);
  }

  function onQuestionInput() {
    autoGrow();
    updateCharCount();
    if (els.question.value) storageSet(KEYS.draft, els.question.value);
    else storageRemove(KEYS.draft);
  }

  // ---------- filters ----------

  function updateFilterSummary() {
    const f = currentFilters();
    const n = f ? Object.keys(f).length : 0;
    els.filterSummary.textContent = n ? t("filterCount", n) : "";
  }

  async function loadAccounts() {
    try {
      const stats = await api("/api/stats", {}, 15000);
      const accounts = Array.isArray(stats.accounts) ? stats.accounts.filter((a) => typeof a === "string" && a) : [];
      const keep = els.account.value;
      const first = els.account.options[0];
      els.account.replaceChildren(first);
      accounts.forEach((a) => {
        const o = el("option", null, a);
        o.value = a;
        els.account.append(o);
      });
      if (accounts.includes(keep)) els.account.value = keep;
    } catch (err) {
      // Without stats the account filter only offers "all". A missing index is worth saying at once.
      if (err instanceof ApiError && err.kind === "noindex" && !lastError) showError(err);
    }
  }

  // ---------- article panel ----------

  async function openArticle(c, opener, quoted = []) {
    panelOpener = opener || null;
    const req = ++articleRequest;
    els.panelTitle.textContent = c.title || c.aid;
    els.panelMeta.textContent = [c.date, c.account].filter(Boolean).join(" · ");
    setPanelLink(c.url);
    els.panelJump.hidden = true;
    els.panelBody.replaceChildren(el("p", "panel-loading", t("articleLoading")));
    if (!els.panel.open) els.panel.showModal();
    els.panelTitle.focus(); // the heading first, so a screen reader reads which article opened
    try {
      let art = articleCache.get(c.aid);
      if (!art) {
        art = await api(`/api/articles/${encodeURIComponent(c.aid)}`, {}, 30000);
        articleCache.set(c.aid, art);
      }
      if (req !== articleRequest || !els.panel.open) return;
      renderArticle(art, c, quoted);
    } catch (err) {
      if (req !== articleRequest) return;
      const e = err instanceof ApiError ? err : new ApiError("network", 0, "");
      const [title, help] = t("err")[e.kind] || t("err").server;
      const box = el("div", "error panel-error");
      box.setAttribute("role", "alert");
      box.append(el("p", "error-title", title));
      if (help) box.append(el("p", "error-detail", help));
      if (e.detail) box.append(el("p", "error-tech", `${t("serverSaid")}${e.detail}`));
      els.panelBody.replaceChildren(box);
    }
  }

  function setPanelLink(url) {
    const href = safeUrl(url);
    els.panelLink.hidden = !href;
    if (href) els.panelLink.href = href;
    else els.panelLink.removeAttribute("href");
  }

  /** The article text with the cited span [start, end) marked, and the quoted sentence inside it stronger. */
  function renderArticle(art, c, quoted) {
    const text = str(art.text);
    els.panelTitle.textContent = str(art.title) || c.title;
    els.panelMeta.textContent = [str(art.date), str(art.account)].filter(Boolean).join(" · ");
    setPanelLink(str(art.url) || c.url);
    const body = els.panelBody;
    body.replaceChildren();
    if (!text) {
      body.append(el("p", "panel-note", t("articleEmpty")));
      return;
    }

    // Locate the span: trust the offsets when they match the passage, else search for the passage.
    let s = -1;
    let e = -1;
    const total = cpLength(text);
    if (c.start >= 0 && c.end > c.start && c.end <= total) {
      const s16 = cpToUtf16(text, c.start);
      const e16 = cpToUtf16(text, c.end);
      if (!c.text || text.slice(s16, e16) === c.text) {
        s = s16;
        e = e16;
      }
    }
    if (s < 0 && c.text) {
      const found = text.indexOf(c.text);
      if (found >= 0) {
        s = found;
        e = found + c.text.length;
      }
    }
    if (s < 0) body.append(el("p", "panel-note", t("articleMissing")));

    const article = el("div", "article-text");
    article.lang = "zh-CN";
    if (s < 0) {
      article.append(document.createTextNode(text));
    } else {
      if (s > 0) article.append(document.createTextNode(text.slice(0, s)));
      const mark = el("mark", "cited");
      mark.id = "cited-span";
      mark.dataset.testid = "article-highlight";
      // The span is the passage itself, so the passage's quoted ranges apply to it unchanged.
      appendMarked(mark, text.slice(s, e), quoted, () => {
        const strong = el("strong", "quoted");
        strong.title = t("quoted");
        return strong;
      });
      article.append(mark);
      if (e < text.length) article.append(document.createTextNode(text.slice(e)));
    }
    body.append(article);
    if (art.source) body.append(el("p", "article-source", t("sourceLine", str(art.source))));
    body.scrollTop = 0;
    if (s >= 0) {
      els.panelJump.hidden = false;
      window.requestAnimationFrame(() => scrollToCited("auto"));
    }
  }

  function scrollToCited(behavior) {
    const mark = document.getElementById("cited-span");
    if (!mark) return;
    const body = els.panelBody;
    const top = mark.offsetTop - body.offsetTop - Math.max(24, (body.clientHeight - mark.offsetHeight) / 3);
    body.scrollTo({ top: Math.max(0, top), behavior: reduceMotion() ? "auto" : behavior });
    mark.classList.remove("flash");
    void mark.offsetWidth;
    mark.classList.add("flash");
  }

  function closePanel() {
    if (els.panel.open) els.panel.close();
  }

  // ---------- clear / undo ----------

  function clearConversation() {
    if (busy || turns.length === 0) return;
    undoTurns = turns;
    turns = [];
    saveTurns();
    renderConversation();
    hideError();
    showStatus(t("cleared"), true);
    window.clearTimeout(undoTimer);
    undoTimer = window.setTimeout(() => {
      undoTurns = null;
      els.status.hidden = true;
    }, 10000);
    els.question.focus();
  }

  function undoClear() {
    if (!undoTurns) return;
    turns = undoTurns.concat(turns).slice(-MAX_TURNS);
    undoTurns = null;
    window.clearTimeout(undoTimer);
    saveTurns();
    renderConversation();
    showStatus(t("restored"), false);
    undoTimer = window.setTimeout(() => {
      els.status.hidden = true;
    }, 4000);
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
    lang = lang === "zh" ? "en" : "zh";
    storageSet(KEYS.lang, lang);
    applyLanguage();
  });
  [els.dateFrom, els.dateTo, els.account].forEach((node) => node.addEventListener("change", updateFilterSummary));
  els.resetFilters.addEventListener("click", () => {
    els.dateFrom.value = "";
    els.dateTo.value = "";
    els.account.value = "";
    updateFilterSummary();
  });

  els.panelClose.addEventListener("click", closePanel);
  els.panelJump.addEventListener("click", () => scrollToCited("smooth"));
  els.panel.addEventListener("click", (e) => {
    // A click on the backdrop (outside the dialog box) closes it.
    if (e.target !== els.panel) return;
    const r = els.panel.getBoundingClientRect();
    if (e.clientX < r.left || e.clientX > r.right || e.clientY < r.top || e.clientY > r.bottom) closePanel();
  });
  els.panel.addEventListener("close", () => {
    articleRequest++;
    const back = panelOpener && panelOpener.isConnected ? panelOpener : els.question;
    panelOpener = null;
    back.focus({ preventScroll: true });
  });
  let resizeTimer = 0;
  window.addEventListener("resize", () => {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(() => fitPassages(els.conversation), 150);
  });
  window.addEventListener("storage", (e) => {
    // Another tab changed the conversation: follow it.
    if (e.key === KEYS.turns && !busy) {
      turns = loadTurns();
      renderConversation();
    }
  });

  // ---------- start ----------

  const draft = storageGet(KEYS.draft);
  if (draft && !els.question.value) els.question.value = draft;
  applyLanguage();
  onQuestionInput();
  loadAccounts();
  if (turns.length) {
    const last = els.conversation.lastElementChild;
    if (last) last.scrollIntoView({ block: "start" });
  }
  document.documentElement.classList.add("js-ready");
})();
