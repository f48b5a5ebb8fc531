/* The page's own words in Chinese and English, and the mapping from the API's error codes to them.
 *
 * The server's English ``detail`` is never parsed: a 422 is explained from each item's stable ``code`` and
 * its ``ctx`` values. Only a code the page does not know falls back to a general sentence plus ``detail``.
 */

export const LANGS = ["zh", "en"];

const TEXTS = {
  zh: {
    htmlLang: "zh-CN",
    docTitle: "政务文章问答",
    skip: "跳到提问框",
    title: "政务文章问答",
    tagline: "根据政务公众号文章回答问题，每个答案都标明出处",
    clear: "清空对话",
    langButton: "English",
    langButtonLang: "en",
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
    placeholder: "请输入问题，例如：汽车以旧换新补贴最高多少钱？",
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
    sources: (n) => `出处（${n}）`,
    closest: (n) => `最接近的段落（${n}）`,
    noPassages: "没有找到相关段落。",
    passageEmpty: "这篇文章除标题外没有正文，请阅读原文。",
    genExtractive: "答案摘自文章原句",
    genLlm: "答案由语言模型根据出处撰写",
    took: (s) => `用时 ${s} 秒`,
    searchedDate: (from, to, source) => `优先 ${to ? `${from} 至 ${to}` : from}${source ? `（${source}）` : ""} 发布的文章`,
    searchedTerms: (terms) => `检索词：${terms}`,
    followUp: (terms, asking) => `接上文：${terms.join("、")}${asking ? `（${asking}）` : ""}`,
    confidence: (p) => `把握 ${p}%`,
    filtered: "筛选",
    filterSep: "：",
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
    answering: "正在撰写答案…",
    filterMayExclude: "本次提问设置了筛选条件，答案所在的文章可能被筛选排除了。可以清除筛选后再问一次。",
    showQuestion: "展开问题",
    hideQuestion: "收起问题",
    serverSaid: "服务器说明：",
    httpStatus: (s) => `HTTP ${s}`,
    // Top-level error codes: [title, help]. The server's codes first, then the page's own.
    errors: {
      invalid_request: ["问题没有提交成功，请修改后再试。", ""],
      body_too_large: ["提交的内容太长，服务器拒绝接收。", "请缩短问题后再试。"],
      not_found: ["找不到请求的内容。", "文章可能已被删除。"],
      no_index: ["服务还没有建立文章索引，暂时无法回答。", "请管理员先运行 rag ingest 导入文章，然后再试。"],
      index_incompatible: ["文章索引与当前的模型或分词方式不匹配，暂时无法回答。", "请管理员运行 rag ingest 重建索引，然后再试。"],
      index_damaged: ["文章索引文件已损坏，暂时无法回答。", "请管理员运行 rag ingest --rebuild 重建索引，然后再试。"],
      overloaded: ["服务器正忙，请稍后再试。", "你的问题还保留在输入框里。"],
      rate_limited: ["提问太频繁了，请稍等片刻再试。", "你的问题还保留在输入框里。"],
      index_unavailable: ["暂时无法连接文章索引所在的数据库。", "请稍后再试；若一直如此，请联系管理员。"],
      request_timeout: ["问题没有及时送达服务器。", "请检查网络后再试，你的问题还保留在输入框里。"],
      unauthorized: ["这个服务需要访问令牌，本页面无法提问。", "请联系管理员。"],
      forbidden: ["访问令牌无效，本页面无法提问。", "请联系管理员。"],
      host_not_allowed: ["服务器不接受以这个地址访问。", "请使用管理员提供的网址。"],
      ingest_running: ["文章正在导入，请稍后再试。", ""],
      bad_request: ["请求有误，请修改后再试。", ""],
      method_not_allowed: ["请求方式不被接受。", "请刷新页面后再试。"],
      http_error: ["请求没有成功。", "请稍后再试。"],
      internal: ["服务器出错了，请稍后再试。", ""],
      empty_question: ["请先输入问题。", ""],
      network: ["无法连接到服务器。", "请检查网络连接或稍后再试，你的问题还保留在输入框里。"],
      timeout: ["服务器太久没有响应。", "请稍后再试，你的问题还保留在输入框里。"],
      bad_response: ["服务器返回了无法识别的内容。", "请稍后再试。"],
      unknown: ["请求没有成功。", "请稍后再试。"],
    },
    // Names of request fields, as error sentences mention them.
    fields: {
      question: "问题",
      date_from: "起始日期",
      date_to: "截止日期",
      account: "公众号",
      filters: "筛选条件",
      top_k: "出处数量",
      history: "之前的问题",
      aids: "文章范围",
      body: "请求",
    },
    // Codes of the items of a 422: (field name, ctx) => sentence.
    problems: {
      empty: (f) => `${f}是空的，请输入几个字。`,
      no_words: (f) => `${f}里没有文字或数字，无法检索，请用文字提问。`,
      too_long: (f, c) =>
        c.length !== undefined && c.limit !== undefined
          ? `${f}共有 ${c.length} 个字符，超过了 ${c.limit} 个字符的上限，请缩短后再提交。`
          : `${f}太长了，请缩短后再提交。`,
      date_format: (f) => `${f}的格式应为 年-月-日，例如 2026-02-01。`,
      date_invalid: (f, c) => `${c.value || f}不是日历上的日期，请检查月份和日。`,
      date_order: (f, c) =>
        c.date_from && c.date_to
          ? `起始日期（${c.date_from}）晚于截止日期（${c.date_to}），请调整筛选条件。`
          : "起始日期晚于截止日期，请调整筛选条件。",
      missing: (f) => `缺少${f}。`,
      unknown_field: (f) => `服务器不接受“${f}”这一项。`,
      out_of_range: (f, c) =>
        c.ge !== undefined ? `${f}不能小于 ${c.ge}。` : c.le !== undefined ? `${f}不能大于 ${c.le}。` : `${f}超出了允许的范围。`,
      invalid_json: () => "页面发送的内容格式有误，请刷新页面后再试。",
      invalid_unicode: (f) => `${f}里有无法识别的字符（可能是粘贴时损坏的表情符号），请删掉后再试。`,
      not_allowed: (f) => `${f}的取值不在允许的范围内。`,
      not_an_integer: (f) => `${f}应为整数。`,
      not_a_string: (f) => `${f}应为文字。`,
      not_an_object: () => "页面发送的内容格式有误，请刷新页面后再试。",
      too_short: (f) => `${f}不能为空。`,
      not_a_list: (f) => `${f}应为列表。`,
      not_a_boolean: (f) => `${f}应为 true 或 false。`,
    },
    problem: (f) => `${f}不符合要求。`,
  },
  en: {
    htmlLang: "en",
    docTitle: "Government articles Q&A",
    skip: "Skip to the question box",
    title: "Government articles Q&A",
    tagline: "Answers from government WeChat articles, every one with its sources",
    clear: "Clear conversation",
    langButton: "中文",
    langButtonLang: "zh-CN",
    langButtonAria: "切换到中文",
    introTitle: "Try asking",
    introText:
      "Ask about a policy, public service or government notice. Answers quote the collected articles; click a number to see the source passage, and a source to read the whole article.",
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
    placeholder: "Type a question, e.g. How many livelihood projects are there this year?",
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
    sources: (n) => `Sources (${n})`,
    closest: (n) => `Closest passages (${n})`,
    noPassages: "No related passages were found.",
    passageEmpty: "This article has no text beyond its title; see the original.",
    genExtractive: "Answer quoted from the articles",
    genLlm: "Answer written by a language model from the sources",
    took: (s) => `answered in ${s} s`,
    searchedDate: (from, to, source) => `Articles published ${to ? `${from} to ${to}` : from}${source ? ` (${source})` : ""} ranked first`,
    searchedTerms: (terms) => `Searched for: ${terms}`,
    followUp: (terms, asking) => `Read with the earlier question: ${terms.join(", ")}${asking ? ` (${asking})` : ""}`,
    confidence: (p) => `confidence ${p}%`,
    filtered: "Filters",
    filterSep: ": ",
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
    answering: "Writing the answer…",
    filterMayExclude:
      "This question was asked with filters on; they may have excluded the article that answers it. Reset the filters and ask again.",
    showQuestion: "Show the whole question",
    hideQuestion: "Show less",
    serverSaid: "Server message: ",
    httpStatus: (s) => `HTTP ${s}`,
    errors: {
      invalid_request: ["The question was not sent. Please change it and try again.", ""],
      body_too_large: ["The request was too large for the server.", "Please shorten the question and try again."],
      not_found: ["The requested item was not found.", "The article may have been deleted."],
      no_index: ["The service has no article index yet, so it cannot answer.", "Ask the administrator to run rag ingest, then try again."],
      index_incompatible: [
        "The article index does not match the current model or tokenizer, so the service cannot answer.",
        "Ask the administrator to rebuild it with rag ingest, then try again.",
      ],
      index_damaged: [
        "The article index is damaged, so questions cannot be answered right now.",
        "An administrator needs to run rag ingest --rebuild; then try again.",
      ],
      overloaded: ["The server is busy. Please try again in a moment.", "Your question is still in the box."],
      rate_limited: ["Too many questions in a short time. Please wait a moment.", "Your question is still in the box."],
      index_unavailable: ["The database that holds the article index cannot be reached.", "Please try again later; if it persists, contact the administrator."],
      request_timeout: ["The question did not reach the server in time.", "Check your connection and try again. Your question is still in the box."],
      unauthorized: ["This service needs an access token; the page cannot ask it.", "Please contact the administrator."],
      forbidden: ["The access token is not valid; the page cannot ask this service.", "Please contact the administrator."],
      host_not_allowed: ["The server does not answer at this address.", "Please use the address the administrator gave."],
      ingest_running: ["Articles are being imported. Please try again shortly.", ""],
      bad_request: ["The request was not valid. Please change it and try again.", ""],
      method_not_allowed: ["The request method is not accepted.", "Please reload the page and try again."],
      http_error: ["The request did not succeed.", "Please try again later."],
      internal: ["Something went wrong on the server. Please try again later.", ""],
      empty_question: ["Please type a question first.", ""],
      network: ["Could not reach the server.", "Check your connection or try again later. Your question is still in the box."],
      timeout: ["The server took too long to answer.", "Please try again later. Your question is still in the box."],
      bad_response: ["The server sent a reply the page could not read.", "Please try again later."],
      unknown: ["The request did not succeed.", "Please try again later."],
    },
    fields: {
      question: "the question",
      date_from: "the start date",
      date_to: "the end date",
      account: "the account",
      filters: "the filters",
      top_k: "the number of sources",
      history: "an earlier question",
      aids: "the article list",
      body: "the request",
    },
    problems: {
      empty: (f) => `${cap(f)} is empty; type a few words.`,
      no_words: (f) => `${cap(f)} has no letters or digits to search for; please ask in words.`,
      too_long: (f, c) =>
        c.length !== undefined && c.limit !== undefined
          ? `${cap(f)} is ${c.length} characters long; the limit is ${c.limit}. Please shorten it.`
          : `${cap(f)} is too long. Please shorten it.`,
      date_format: (f) => `${cap(f)} should be written YYYY-MM-DD, e.g. 2026-02-01.`,
      date_invalid: (f, c) => `${c.value || cap(f)} is not a day of the calendar; check the month and day.`,
      date_order: (f, c) =>
        c.date_from && c.date_to
          ? `The start date (${c.date_from}) is after the end date (${c.date_to}); please adjust the filters.`
          : "The start date is after the end date; please adjust the filters.",
      missing: (f) => `${cap(f)} is missing.`,
      unknown_field: (f) => `The server does not accept “${f}”.`,
      out_of_range: (f, c) =>
        c.ge !== undefined
          ? `${cap(f)} must be at least ${c.ge}.`
          : c.le !== undefined
            ? `${cap(f)} must be at most ${c.le}.`
            : `${cap(f)} is out of range.`,
      invalid_json: () => "The page sent a malformed request; please reload the page and try again.",
      invalid_unicode: (f) => `${cap(f)} contains a broken character (perhaps a damaged emoji); please delete it and try again.`,
      not_allowed: (f) => `${cap(f)} has a value that is not allowed.`,
      not_an_integer: (f) => `${cap(f)} must be a whole number.`,
      not_a_string: (f) => `${cap(f)} must be text.`,
      not_an_object: () => "The page sent a malformed request; please reload the page and try again.",
      too_short: (f) => `${cap(f)} must not be empty.`,
      not_a_list: (f) => `${cap(f)} must be a list.`,
      not_a_boolean: (f) => `${cap(f)} must be true or false.`,
    },
    problem: (f) => `${cap(f)} is not acceptable.`,
  },
};

function cap(s) {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}

let lang = "zh";

export function getLang() {
  return lang;
}

export function setLang(next) {
  lang = LANGS.includes(next) ? next : "zh";
}

/** The text for ``key`` in the current language; functions are called with ``args``. */
export function t(key, ...args) {
  const v = TEXTS[lang][key] ?? TEXTS.zh[key];
  return typeof v === "function" ? v(...args) : v;
}

/** The field an error item is about: the last name in its ``loc`` other than "body". */
function fieldName(loc) {
  const names = (Array.isArray(loc) ? loc : []).filter((x) => typeof x === "string" && x !== "body");
  const name = names.length ? names[names.length - 1] : "body";
  return TEXTS[lang].fields[name] ?? name;
}

/** One 422 item in the page's words, or null when the page does not know its code. */
function describeItem(item) {
  const explain = TEXTS[lang].problems[item.code];
  const ctx = item.ctx && typeof item.ctx === "object" ? item.ctx : {};
  return explain ? explain(fieldName(item.loc), ctx) : null;
}

/**
 * What to show for an error ({code, status, detail, errors}): a title, lines that say what to do, and a
 * technical line (the server's ``detail`` when a code is unknown to the page, or the HTTP status).
 */
export function describeError(err) {
  const messages = TEXTS[lang].errors;
  const code = err && typeof err.code === "string" ? err.code : "unknown";
  const known = Object.hasOwn(messages, code);
  const [title, help] = known ? messages[code] : messages.unknown;
  const lines = [];
  let unknownItem = false;
  (Array.isArray(err.errors) ? err.errors : []).forEach((item) => {
    const line = describeItem(item);
    if (line === null) {
      unknownItem = true;
      lines.push(t("problem", fieldName(item.loc)));
    } else {
      lines.push(line);
    }
  });
  if (!lines.length && help) lines.push(help);
  let tech = "";
  if ((!known || unknownItem) && err.detail) tech = `${t("serverSaid")}${err.detail}`;
  else if (err.status >= 500 && code === "internal") tech = t("httpStatus", err.status);
  else if (!known && err.status) tech = t("httpStatus", err.status);
  return { title, lines: [...new Set(lines)], tech };
}
