"""Short answers: the reader's quoted sentences with their [n] markers, or an abstention that says what is
missing — in the question's language; optionally written by an LLM from the same passages."""

from __future__ import annotations

import logging

from rag.dates import published_on, relative_days, relative_years, years_named, years_spanned, years_written
from rag.llm import LLMClient, LLMError, fallback_notice
from rag.query import Query, simplified, traditional
from rag.reader import Reading
from rag.records import Answer, Citation, Hit

log = logging.getLogger(__name__)

ABSTAIN_TEXT = "现有文章没有回答这个问题。"
ABSTAIN_TEXT_EN = "The articles do not answer this question."
CLOSEST_TEXT = "以下是最接近的段落，供参考。"
CLOSEST_TEXT_EN = "The closest passages are listed below."
# When no passage is left to read: the filters (dates, account) excluded every article, or (a lexical search)
# no passage shares a word with the question.
NO_MATCH_TEXT = "没有符合筛选条件（日期、公众号）的文章。"
NO_MATCH_TEXT_EN = "No article matches the filters (dates, account)."
NO_PASSAGE_TEXT = "没有找到与问题相关的段落。"
NO_PASSAGE_TEXT_EN = "No passage matches the question."
# A question that names nothing to look for (hello, thanks).
NOTHING_ASKED_TEXT = "问题里没有可以在文章中查找的内容，请问一个关于政策、通知或事件的具体问题。"
NOTHING_ASKED_TEXT_EN = "The question names nothing to look for in the articles; ask about a policy, notice or event."
# How many missing and present terms an abstention (or a caution) names.
NAMED_TERMS = 3
# An answer under this confidence is more likely wrong than right, and says so where it is read.
LOW_CONFIDENCE = 0.5
# What an abstention says was not found, by the kind of thing asked for (rag.query.AnswerType), when no specialised
# focus term is missing from the passages: 文章提到了寒潮、预警、发布，但没有找到所问的具体时间。
ASKED_KIND = {
    "time": ("具体时间", "date or time"), "duration": ("时长或期限", "length of time"),
    "quantity": ("具体数字", "figure"), "contact": ("联系电话", "phone number"),
    "place": ("具体地点", "place"), "body": ("负责单位", "body responsible"), "person": ("具体人员", "person"),
    "list": ("具体清单", "list"),  # 都有哪些小区？ answered by 100个小区: the members are what is missing
}


def to_citations(hits: list[Hit]) -> list[Citation]:
    """Number the hits as citations ``[1]``, ``[2]``, …"""
    return [Citation.of(i, h) for i, h in enumerate(hits, start=1)]


def _english_names(query: Query, terms: list[str], *, keep: bool = False) -> list[str]:
    """The English phrases of the question that ``terms`` (Chinese) translate; with ``keep``, a term no phrase
    translates (a name read by pinyin) is named as it is rather than left out. A term in Latin letters (5G, FT,
    tomorrow: the days nothing reports) is the question's own and is always named as it is."""
    out = []
    for term in terms:
        phrase = next((m.english for m in query.translations if any(term in c for c in m.chinese)), None)
        phrase = phrase or (term if keep or term.isascii() else None)
        if phrase and phrase not in out:
            out.append(phrase)
    return out


def _in_order(text: str, terms: list[str]) -> list[str]:
    """``terms`` in the order the question ``text`` names them (those it does not name as such, last)."""
    return sorted(terms, key=lambda t: text.find(t) if t in text else len(text))  # stable: ties keep their order


def _named_only_by(parts: list[str], message: str, terms: list[str]) -> list[str]:
    """The ``terms`` that ``parts`` of ``message`` name and no other part of it does (in either script)."""
    named = [simplified(part).lower() for part in parts]
    rest = simplified(message).lower()
    for part in named:
        rest = rest.replace(part, " ")
    return [t for t in terms if t.lower() not in rest and any(t.lower() in part for part in named)]


def abstention(query: Query, reading: Reading) -> str:
    """Why there is no answer, in the question's language, naming what the articles lack when it can."""
    missing, present = reading.missing[:NAMED_TERMS], reading.present[:NAMED_TERMS]
    if query.names_nothing:
        return f"{NOTHING_ASKED_TEXT_EN} {CLOSEST_TEXT_EN}" if query.language == "en" else \
            _in_script(query, f"{NOTHING_ASKED_TEXT}{CLOSEST_TEXT}")
    zh_kind, en_kind = ASKED_KIND.get(query.answer_type, ("", ""))
    if query.language == "en":
        missing, present = _english_names(query, missing), _english_names(query, present)
        why = (f" They mention {', '.join(present)}, but not {', '.join(missing)}." if missing and present
               else f" They do not mention {', '.join(missing)}." if missing
               else f" They mention {', '.join(present)}, but not the {en_kind} asked for." if en_kind and present
               else "")
        return f"{ABSTAIN_TEXT_EN}{why} {CLOSEST_TEXT_EN}"
    missing, present = _in_order(query.search_text, missing), _in_order(query.search_text, present)
    why = (f"文章提到了{'、'.join(present)}，但没有提到{'、'.join(missing)}。" if missing and present
           else f"文章没有提到{'、'.join(missing)}。" if missing
           else f"文章提到了{'、'.join(present)}，但没有找到所问的{zh_kind}。" if zh_kind and present else "")
    return _in_script(query, f"{ABSTAIN_TEXT}{why}{CLOSEST_TEXT}")


# A day or a year named relative to its article's date, in English (the quoted word stays Chinese).
_RELATIVE_EN = {-2: "the day before yesterday", -1: "yesterday", 0: "today", 1: "tomorrow", 2: "the day after tomorrow"}
_RELATIVE_YEAR_EN = {-2: "the year before last", -1: "last year", 1: "next year"}


def cautions(query: Query, reading: Reading, hits: list[Hit]) -> list[str]:
    """What a reader of an answer should know before trusting it, in the question's language: that it is more
    likely wrong than right, which terms of the question the passages found do not mention (摩托车 in
    摩托车春节走高速免费吗？: the answer may be about the rest of the question only), which part of a question of
    several it may leave unanswered (with the terms only that part names), that the quoted sentences speak of
    another year than the one asked (:func:`other_years`), and which day or year a quoted 昨天 or 去年 is
    (:func:`relative_dates`). Terms are looked for in the best passages and the quoted sentences, not in every
    article: the note says "the passages found", not "the articles"."""
    english = query.language == "en"
    out = []
    if reading.confidence < LOW_CONFIDENCE:
        p = round(reading.confidence * 100)
        out.append(f"Low confidence ({p}%): these sentences may not answer what you asked; check the sources."
                   if english else f"把握不大（{p}%）：这几句可能没有回答所问，请核对出处原文。")
    missing = reading.missing[:NAMED_TERMS]
    # Named as the question put them; in English a term no phrase of it translates (a name read by pinyin) as it is.
    named = _english_names(query, missing, keep=True) if english else _in_order(query.search_text, missing)
    # A part of a question of several that nothing found answers, and the terms only it names: said together, not
    # once as a part left unanswered and again as terms the passages lack.
    asked = [p.rstrip("？?。.！!") for p in reading.unanswered]
    its_own = _named_only_by(asked, query.text, named) if asked else []
    alone = [n for n in named if n not in its_own]
    if alone and english:
        out.append(f"The passages found do not mention {', '.join(alone)}: this answer may not cover all you asked.")
    elif alone:
        out.append(f"找到的段落没有提到：{'、'.join(alone)}。这个回答可能没有完全覆盖所问。")
    if asked:
        several = len(asked) > 1
        if english:
            lacks = f" (the passages found do not mention {', '.join(its_own)})" if its_own else ""
            out.append(f"{'These parts' if several else 'This part'} of the question may be left unanswered: "
                       + "; ".join(f'"{p}?"' for p in asked) + lacks)
        else:
            lacks = f"（找到的段落没有提到：{'、'.join(its_own)}）" if its_own else ""
            out.append(f"{'这几问' if several else '这一问'}可能没有得到回答：" + "".join(f"“{p}？”" for p in asked)
                       + lacks)
    out += other_years(query, reading, hits)
    out += relative_dates(query, reading, hits)
    return [_in_script(query, c) for c in out]


def other_years(query: Query, reading: Reading, hits: list[Hit]) -> list[str]:
    """A note when the question asks about a year and the quoted sentences that name a year name only others:
    What was Tianjin's GDP growth target for 2025? is not answered by 今年经济社会发展主要预期目标是：地区生产总值
    增长4.5% in the 2026 report, though it reads as if it were. Each sentence's years count from its article's date
    (今年 is 2026 in news of 2026), and a span names every year in it (2024—2026年 speaks of 2025); a sentence naming
    no year says nothing either way."""
    if not query.years:
        return []
    said: set[int] = set()
    for s in reading.chosen:
        published = published_on(hits[s.n - 1].date)
        # Without its article's date a sentence's relative years (今年) cannot be read; its written ones still can.
        named = set(years_named(s.text, published.year) if published else years_written(s.text))
        named |= years_spanned(s.text)
        if named & set(query.years):
            return []
        said |= named
    if not said:
        return []
    asked, spoken = query.years, sorted(said)
    if query.language == "en":
        return [f"You asked about {', '.join(map(str, asked))}, but the quoted sentences speak of "
                f"{', '.join(map(str, spoken))}: this answer may be for another year."]
    return [f"所问是{'、'.join(f'{y}年' for y in asked)}，而引用的句子说的是{'、'.join(f'{y}年' for y in spoken)}："
            "这个回答可能是别的年份的。"]


def relative_dates(query: Query, reading: Reading, hits: list[Hit]) -> list[str]:
    """Which day or year each day word and other-year word of the quoted sentences is, counted from its article's
    date: a quoted 于昨天举行 leaves the reader to date it (“昨天”指2026年1月30日（[1]发布于1月31日）), and 去年 a
    year (“去年”指2025年（[1]发布于2026年2月5日）), in the question's language."""
    english = query.language == "en"
    out: list[str] = []
    for s in reading.chosen:
        published = published_on(hits[s.n - 1].date)
        if published is None:
            continue
        notes = []
        for day in relative_days(s.text, published):
            d = day.date_from
            notes.append(f'"{day.source}" ({_RELATIVE_EN[(d - published).days]}) in [{s.n}] is {d:%B} {d.day}, '
                         f"{d.year}: it was published on {published:%B} {published.day}." if english else
                         f"“{day.source}”指{d.year}年{d.month}月{d.day}日（[{s.n}]发布于{published.month}月"
                         f"{published.day}日）。")
        for word, year in relative_years(s.text, published.year):
            notes.append(f'"{word}" ({_RELATIVE_YEAR_EN[year - published.year]}) in [{s.n}] is {year}: it was '
                         f"published on {published:%B} {published.day}, {published.year}." if english else
                         f"“{word}”指{year}年（[{s.n}]发布于{published.year}年{published.month}月{published.day}日）。")
        for note in notes:  # 去年…去年同期 is dated once
            if note not in out:
                out.append(note)
    return out


def fallback_text(query: Query, error: LLMError) -> str:
    """The notice of an answer the language model failed to write, in the question's language and script."""
    return _in_script(query, fallback_notice(error, query.language == "en"))


def _in_script(query: Query, text: str) -> str:
    """What the service writes itself follows the question's script; quoted passages stay as published."""
    return traditional(text) if query.traditional else text


def compose(query: Query, hits: list[Hit], reading: Reading, *, llm: LLMClient | None = None,
            filtered: bool = False) -> Answer:
    """The answer record for ``reading``: quoted sentences with [n] markers and highlights, or an abstention.

    With an LLM configured, it writes the answer from the same passages, told the reader's decision; the
    abstention stays the reader's, and on an error the extractive answer is returned with a notice.
    ``filtered``: the search was limited by filters, which are then the reason when no passage is found.
    """
    citations = to_citations(hits)
    missing = [_in_script(query, t) for t in reading.missing]
    base = {"question": query.text, "confidence": round(reading.confidence, 4), "missing": missing,
            "query_terms": list(query.terms), "language": query.language, "interpreted": query.interpreted(),
            "citations": citations}
    english = query.language == "en"
    if not citations:
        # Nothing was read, so nothing can be named as missing: the reason is the filters, or no passage matched.
        if filtered:
            text = NO_MATCH_TEXT_EN if english else NO_MATCH_TEXT
        else:
            text = NO_PASSAGE_TEXT_EN if english else NO_PASSAGE_TEXT
        return Answer(answer=_in_script(query, text), abstained=True, **{**base, "missing": [], "confidence": 1.0})
    if reading.abstain:
        return Answer(answer=abstention(query, reading), abstained=True, **base)
    base["cautions"] = cautions(query, reading, hits)
    notice = None
    if llm is not None:
        try:
            text = llm.answer(query.text, citations, missing=reading.missing)
            return Answer(answer=text, abstained=False, generator="llm", **base)
        except LLMError as e:
            log.warning("LLM answer failed, falling back to extractive: %s", e)
            notice = fallback_text(query, e)
    by_n = {c.n: c for c in citations}
    for s in reading.chosen:  # every quoted sentence is marked in its citation, so the page need not search
        if not s.title:  # a quoted title is the citation's title, not a span of its (empty) text
            by_n[s.n].highlights.append((s.start, s.end))
    text = "".join(f"{s.text} [{s.n}] " if english else f"{s.text}[{s.n}]" for s in reading.chosen).strip()
    return Answer(answer=text, abstained=False, notice=notice, **base)
