"""The extractive reader: which sentence answers the question, whether any does, and how sure it is.

1. Candidates are the embedded sentences of the best passages (``candidates``).
2. Each is scored by a small logistic model over its features (``features``, ``model``).
3. A second model decides from the question's evidence whether the passages answer at all; when they do not,
   the reader abstains and names the focus terms no passage mentions.
4. A third gives the calibrated confidence that the answer shown holds a correct answer; a fourth, from
   P(answerable), that an abstention is right.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from rag.dates import (
    DateRange,
    names_festival,
    numeral_value,
    published_on,
    without_document_years,
    years_asked,
    years_named,
    years_spanned,
)
from rag.index import Index
from rag.query import NUMBERED_NAME, PROJECT, Query, counted, lettered, names, same_kind
from rag.reader.candidates import Candidate, candidates
from rag.reader.entities import ANSWERED_BY, ASIDE, names_from, of_another_institution
from rag.reader.features import (
    CANDIDATE_FEATURES,
    FIRST_ITEM,
    ITEM,
    QUESTION_LIKE,
    TermWeights,
    candidate_features,
    evidence_text,
    question_features,
)
from rag.reader.model import Logistic, ReaderModel, default_model
from rag.records import Hit
from rag.tokenize import is_noun

__all__ = ["Evidence", "PartReading", "Reading", "ReaderModel", "choose_sentences", "collect", "default_model", "read",
           "read_apart", "read_parts", "ruled_out", "sentence_probabilities", "unreported_days"]

MAX_ANSWER_SENTENCES = 3
MAX_ANSWER_CHARS = 240
# A marked enumeration is quoted whole (分为四大类：一是…二是…三是…四是…), up to this many sentences (its items and
# the sentences between them) and characters: a list cut after its third item answers "which four?" with three.
MAX_LIST_SENTENCES = 10
MAX_LIST_CHARS = 600
# An item may run on for this many unmarked sentences before the next marker; past that the list has ended.
ITEM_RUN_ON = 2
# Missing terms named to the reader must be at least this specialised (rag.tokenize.specificity).
NAMED_SPECIFICITY = 0.2
# A sentence that announces an enumeration: 六方面重点任务, 三大显著特点 (two words may stand between 大 and the
# noun), 以下三种. Its count is the group "count" or "following" (not 3 in 下午3点: 点 needs 个/大/项).
_ANNOUNCES = re.compile(r"(?P<count>[一二三四五六七八九十两\d]+)(?:(?:(?:大|个|项)[\u4e00-\u9fff]{0,2}?)?"
                        r"(?:方面|类|条|种|件|举措|任务|亮点|特点|重点|措施|方向|领域|板块|部分|环节)|(?:大|个|项)点)|"
                        r"以下(?P<following>[几一二三四五六七八九十两\d]+)|如下")
# A sentence opens with its subject: at most this many characters before it (地铁8号线…, 天津地铁8号线…).
SUBJECT_CHARS = 4
# Two sentences sharing this share of their character pairs say the same thing: one is quoted.
NEAR_DUPLICATE = 0.8
# How far back a sentence's own context reaches (to its heading or the question it answers, at most this many
# sentences) when two sentences of one article read alike.
CONTEXT_SENTENCES = 3
# Words that speak of the others of a kind besides those named: 除J口外，其余出入口…; 可从其他出入口进出.
_THE_REST = re.compile(r"除|其余|其他|其它|另外的")
# A sentence opening with these refers back to the one before it (其中，… "of these, …").
_REFERS_BACK = re.compile(r"\s*其中")
_FIGURE = re.compile(r"\d+(?:\.\d+)?")
# Characters (a line break, a space) that may stand between a sentence and the next one of its article.
CONTIGUOUS_GAP = 2
# Two further sentences within this ratio of each other's probability are about as likely (the one that continues
# the best sentence is then tried first).
NEAR_TIE = 0.9
# A further sentence joins the answer when it is at least this likely relative to the best one (chosen by
# cross-validation: one more sentence often completes an answer that the best sentence only begins).
SECOND_SENTENCE_RATIO = 0.6


@dataclass
class Evidence:
    """Everything the reader measured for one question (also what ``eval.train_reader`` fits on)."""

    query: Query
    hits: list[Hit]
    candidates: list[Candidate]
    candidate_x: np.ndarray
    weights: TermWeights
    dense_margin: float | None


@dataclass
class Reading:
    """The reader's decision."""

    chosen: list[Candidate]  # the quoted sentences, in reading order
    answerable: float  # P(the passages answer the question)
    confidence: float  # P(the answer shown holds a correct answer); abstaining, P(the passages do not answer)
    abstain: bool
    missing: list[str] = field(default_factory=list)  # focus terms no passage mentions, rarest first
    present: list[str] = field(default_factory=list)  # focus terms the passages name whole
    unanswered: list[str] = field(default_factory=list)  # the parts of a question of several that nothing answers


def collect(query: Query, hits: list[Hit], qvec: np.ndarray | None, dense_margin: float | None,
            index: Index, sentences: list[Candidate] | None = None) -> Evidence:
    """Candidates and their features for one question; ``sentences``, when given, are the candidates of ``hits``
    already read for another question (a part of one is measured on the passages found for the whole)."""
    weights = TermWeights.of(query, index.document_frequency(list(query.focus)), index.documents())
    cands = candidates(index, hits) if sentences is None else sentences
    return Evidence(query, hits, cands, candidate_features(query, qvec, cands, hits, weights), weights,
                    dense_margin)


def read(evidence: Evidence, model: ReaderModel | None = None, *, abstain_below: float | None = None) -> Reading:
    """Choose the answer sentences, decide whether to abstain, and say what is missing.

    ``abstain_below`` overrides the model's threshold on P(answerable).
    """
    model = model or default_model()
    threshold = model.abstain_below if abstain_below is None else abstain_below
    p = sentence_probabilities(evidence, model.candidate)
    chosen = choose_sentences(evidence, p)
    qx = question_features(evidence.query, evidence.hits, evidence.candidates, evidence.candidate_x, p,
                           evidence.weights, evidence.dense_margin, chosen)
    answerable = float(model.answerable.probability(qx)[0])
    # What the best passages and the quoted sentences name (a quote may come from a lower passage).
    context = evidence_text(evidence.hits, [c.text for c in chosen])
    weights = evidence.weights
    specific = dict(zip(weights.terms, weights.specific, strict=True))
    # Only a term named whole counts as mentioned: 最低工资 is not, when the passages name 最低 and 工资 apart.
    presences = weights.presences(context)
    present = [t for t, share in zip(weights.terms, presences, strict=True) if share == 1.0]
    # The terms not named whole, those named in no part first (rarest first): the count a question word asks is
    # none of them (哪两家 → 两家: the passage naming the two firms need not say 两家).
    absent = [t for t, _ in weights.unnamed(presences)]
    unnamed = [t for t in [*absent, *(t for t in weights.terms if t not in present and t not in absent)]
               if not counted(t, evidence.query.search_text)]
    # Everyday words (用来, 之前) missing from the passages say nothing about what the articles lack.
    missing = [t for t in unnamed if t in absent and specific[t] >= NAMED_SPECIFICITY]
    # A question that names nothing to look for (hello, thanks) is answered by no passage, however close. Its
    # search terms decide, not its focus terms: those leave out a Latin name (5G) or a one-character word (犬).
    nothing_asked = evidence.query.names_nothing
    # Nor is a question about days no passage reports or names (明天, 2月12日: after the newest article).
    undated = unreported_days(evidence)
    # Nor a question about a year no passage names (2024年…是多少？ when the articles give 2025's figure).
    unnamed_years = unreported_years(evidence)
    abstain = not chosen or answerable < threshold or nothing_asked or undated or bool(unnamed_years)
    # Abstaining, the service says "the articles do not answer": its confidence is the probability of that, not
    # of an answer it does not give (an abstention at 0.68 read as "probably answered" was a contradiction).
    # Withheld by a rule (days or years nothing reports), it is withheld at least as surely as a question at the
    # threshold: P(answerable), from features that never see the rule, is high for 2024年…是多少？ when the passages
    # give 2025's figure, and would make the abstention look like a guess.
    ruled = bool(undated or unnamed_years)
    confidence = 1.0 if nothing_asked else model.confidence_in(qx, min(answerable, threshold) if ruled else answerable,
                                                               abstain)
    if nothing_asked:
        missing = []  # 好好好 names nothing, so nothing it names is missing
    elif abstain and not missing:
        # Nothing specialised is missing, yet the articles lack a thing the question names (办狗证 → 狗), or name it
        # only in part (养老金: they name 养老): say so.
        missing = [t for t in unnamed if is_noun(t)]
    if undated and not nothing_asked:
        missing = [evidence.query.dates.source, *missing]  # the days come first: they are what nothing reports
    if unnamed_years and not nothing_asked:
        # First: they are what nothing reports. A Chinese question's as 2024年 (没有提到2024年), not the bare term.
        written = [str(y) for y in unnamed_years]
        years = written if evidence.query.language == "en" else [f"{y}年" for y in written]
        missing = [*years, *(t for t in missing if t not in written)]
    return Reading(chosen, answerable, confidence, abstain, missing, present)


@dataclass
class PartReading:
    """One part of a question that asks several things: as asked, what the reader measured for it (on the
    sentences found for the whole question), and its reading."""

    asked: str
    evidence: Evidence
    reading: Reading


def read_parts(evidence: Evidence, whole: Reading, parts: Sequence[PartReading]) -> Reading:
    """The reading of a question that asks several things (``rag.conversation.question_parts``), from ``whole``
    (its reading as one question, on ``evidence``) and each part's own.

    Whether to answer, and how sure, stay the whole question's: the models were fitted on questions as asked.
    The answer is made of the parts' answers, not the whole question's (which holds one part's answer at most:
    南开大学…固液电池 for 电量提升了多少？ and 和哪家企业合作的？ alike): in reading order, each answered part's best
    sentence, and its further ones that complete it. It names the parts no quoted sentence answers.
    """
    answered = [(p.evidence, p.reading) for p in parts if _quotes_an_answer(p.reading)]
    if whole.abstain or not answered:
        return whole
    chosen: list[Candidate] = []
    for e, r in answered:
        # A further sentence nearly as likely often completes a part's answer (the second case's amount); one
        # without the asked kind of thing, or not naming what the part asks about, is another part's or nobody's
        # (安全生产 for "when do we go back to work", 货物贸易…增长24% for 今年的目标是多少？).
        for c in r.chosen:
            if (c is r.chosen[0] or _completes(e, c)) and not any(c is o for o in chosen):
                chosen.append(c)
    # A part is left unanswered when it is not answered on its own and its best sentence is not quoted for another
    # part (举办约3万场次文旅消费活动 stands in the sentence that says when the month runs).
    unanswered = [p for p in parts if not _quotes_an_answer(p.reading)
                  and not (p.reading.chosen and any(p.reading.chosen[0] is c for c in chosen))]
    missing = _unquoted([*whole.missing, *(t for p in unanswered for t in p.reading.missing)], chosen)
    return replace(whole, chosen=_in_reading_order(evidence, chosen), missing=missing,
                   unanswered=[p.asked for p in unanswered])


def read_apart(questions: Sequence[PartReading], citations: int) -> tuple[list[Hit], Reading]:
    """The passages to cite and the reading of a message that asks unrelated things (天津动物园几点开门？地铁8号线有多少
    座车站？), from each question's own search and reading: it is answered where any of them is, and says which are
    not.

    The passages each quoted sentence comes from are cited first, in the order quoted, then the others in turn
    from each question's best, up to ``citations`` (more only when more are quoted); a passage found for two
    questions, or a sentence quoted for two, is cited once. The answer is as sure as the least sure question it
    answers (each answer shown may be the wrong one); an abstention as the least sure question (each must be one
    the articles do not answer).
    """
    answered = [q for q in questions if _quotes_an_answer(q.reading)]
    placed: dict[str, int] = {}  # chunk id → 1-based citation number
    hits: list[Hit] = []

    def place(hit: Hit) -> int:
        if hit.chunk_id not in placed:
            hits.append(hit.model_copy(update={"rank": len(hits) + 1}))
            placed[hit.chunk_id] = len(hits)
        return placed[hit.chunk_id]

    chosen: list[Candidate] = []
    for q in answered:
        for c in q.reading.chosen:
            cited = replace(c, n=place(q.evidence.hits[c.n - 1]))
            if not any(o.n == cited.n and o.span == cited.span for o in chosen):  # quoted for two questions: once
                chosen.append(cited)
    for rank in range(max(len(q.evidence.hits) for q in questions)):
        for q in questions:
            if rank < len(q.evidence.hits) and len(hits) < citations:
                place(q.evidence.hits[rank])
    # A question nothing answers is named; an answered one names its own parts that nothing answers.
    unanswered = [u for q in questions
                  for u in (q.reading.unanswered if _quotes_an_answer(q.reading) else [q.asked])]
    return hits, Reading(
        chosen=chosen,
        answerable=max(q.reading.answerable for q in questions),  # some question is answerable
        confidence=min(q.reading.confidence for q in (answered or questions)),
        abstain=not answered,
        missing=_unquoted((t for q in questions for t in q.reading.missing), chosen),
        present=list(dict.fromkeys(t for q in questions for t in q.reading.present)),
        unanswered=unanswered if answered else [],
    )


def _unquoted(terms: Iterable[str], chosen: Sequence[Candidate]) -> list[str]:
    """``terms`` (once each) that no quoted sentence names: a part's or a question's answer may come from a passage
    the missing terms were not looked for in (春节假期 is named by the sentence quoted for it)."""
    return [t for t in dict.fromkeys(terms) if not any(names(c.text, t) for c in chosen)]


def _completes(part: Evidence, c: Candidate) -> bool:
    """True when a further sentence of a part's answer holds the kind of thing it asks for (when it asks for a
    kind) and names what it asks about (its key terms)."""
    typed = part.query.answer_type in ANSWERED_BY
    return (not typed or _holds_type(part, c)) and _feature(part, c, "key_coverage") > 0


def _quotes_an_answer(part: Reading) -> bool:
    """True when a part's own reading gives an answer: it quotes something and does not abstain. Its confidence
    is not asked for too: a part read alone is often unsure of a right answer (上部组块有多重？ is under 0.5 for
    约1100吨)."""
    return not part.abstain and bool(part.chosen)


def sentence_probabilities(evidence: Evidence, candidate: Logistic) -> np.ndarray:
    """How likely each candidate sentence answers, by the ``candidate`` model, with 0 for those that cannot
    whatever their features say (:func:`ruled_out`): the one way both the reader and its training weigh them."""
    return ruled_out(evidence, candidate.probability(evidence.candidate_x))


def ruled_out(evidence: Evidence, p: np.ndarray) -> np.ndarray:
    """``p`` with 0 for the sentences that cannot answer, whatever their features say: those about another
    numbered or lettered thing of a kind the question names by number or letter (:func:`_another_numbered`,
    :func:`_another_lettered`), those of a passage naming no numbered project asked about (:func:`_unnumbered`) or
    only other universities or hospitals than the asked one (``of_another_institution``),
    those reporting another day than the one it asks about, or items of a list opened by such a sentence
    (:func:`_of_another_day`; unless it asks when), and, asked
    what a document or speech says, those saying only that it was issued or given (:func:`_only_mentions`)."""
    asked: dict[str, set[str]] = {}
    for term in evidence.query.focus:
        if (m := NUMBERED_NAME.match(term)) is not None:
            asked.setdefault(m["kind"], set()).add(m["number"])
    letters = lettered(evidence.query.search_text) if evidence.query.language == "zh" else []
    # A question asking when (2月5日发布的预警什么时候解除？) is answered by another day: its own date only qualifies.
    dates = _asked_days(evidence.query) if evidence.query.answer_type not in ("time", "duration") else None
    # Asked what a document or speech says, a sentence saying only that it was issued or given (_only_mentions).
    content = evidence.query.language == "zh" and bool(_ASKS_CONTENT.search(evidence.query.search_text)) \
        and bool(_A_DOCUMENT.search(evidence.query.search_text))
    # A passage about another university or hospital than the one the question names (an English question's names
    # are its Chinese terms from its first name on, see names_from).
    named = evidence.query.search_text if evidence.query.language == "zh" else names_from(evidence.query.focus)
    another = [bool(named) and of_another_institution(f"{h.title}\n{h.text}", named) for h in evidence.hits]
    if not asked and not letters and dates is None and not content and not any(another):
        return p
    out = p.copy()
    # Decided once per passage, whichever of its sentences is read.
    passage_out = [_unnumbered(h, asked) or other for h, other in zip(evidence.hits, another, strict=True)]
    for i, c in enumerate(evidence.candidates):
        if _another_numbered(c.text, asked) or passage_out[c.n - 1] \
                or _another_lettered(c.text, letters) \
                or (dates and _of_another_day(evidence, c, dates)) \
                or (content and _only_mentions(c.text)):
            out[i] = 0.0
    return out


# A question for the content of a document or a speech: 主要讲了什么, 规定了什么, 具体内容是什么.
_ASKS_CONTENT = re.compile(r"(?:讲|说|规定|提出|明确|涉及|包括|部署)了?(?:什么|哪些|啥)|内容(?:是什么|有哪些|是啥)")
# What names a document or a speech in such a question (not a meeting: 会议讲了什么 is answered by what it decided).
_A_DOCUMENT = re.compile(r"《[^《》]+》|办法|条例|细则|意见|通知|方案|规划|报告|讲话|发言")
# A title in book-title marks or quotes, and asides: a sentence that names a document says nothing of it by that.
_TITLED = re.compile(r"《[^《》]*》|“[^“”]*”|（[^（）]*）|\([^()]*\)")
# A sentence that merely reports a document, a speech or an event (会议还审议了《…》等其他事项; 关于印发《…》的通知;
# …负责同志作了发言; 陈敏尔出席会议并作重要讲话; 市领导出席并讲话): one clause whose act is reporting it, with a
# subject or a time before the act (no content: 将补偿标准提高到…并印发) and a few characters after it at most (none
# after a bare 讲话: 他在讲话中指出… has content; the 作 of 工作报告 is no act, that of 张工作政府工作报告 is).
_REPORTS_ONLY = re.compile(r"(?:(?!将|提高|调整|明确|规定|要求|包括|为)[^，,；;：:])*?"
                           r"(?:(?:审议(?:通过)?|印发|发布|出台|揭晓|召开|(?!(?<=工)作报告)作[^，,。；;]{0,4}?(?:发言|讲话|报告))"
                           r"了?[^，,；;：:]{0,8}|并?讲话)[。！!]?\s*")


def _only_mentions(text: str) -> bool:
    """True when ``text`` says no more of a document or speech than that it was issued or given (``_REPORTS_ONLY``):
    it does not say what it says."""
    return _REPORTS_ONLY.fullmatch(_TITLED.sub("", text).strip()) is not None


def _another_numbered(text: str, asked: dict[str, set[str]]) -> bool:
    """True for a sentence about another numbered thing of a kind the question names by number (``asked``: kind →
    numbers): opening with it, as its subject, and naming none of the asked ones (地铁8号线…共设车站21座 for
    6号线有多少座车站？; 该线路…将与6号线二期贯通 still answers about 8号线, and 16号线 is not 6号线)."""
    for kind, numbers in asked.items():
        first = re.search(rf"(?<![\d.])(\d+){kind}", text)
        if first is not None and first.start() <= SUBJECT_CHARS and first.group(1) not in numbers \
                and not any(names(text, n + kind) for n in numbers):
            return True
    return False


def _unnumbered(hit: Hit, asked: dict[str, set[str]]) -> bool:
    """True for a passage that names none of the numbered projects the question asks about (``asked``: kind →
    numbers): its sentences are about another (该多式联运项目总投资约25.7亿元 for 117项目总投资多少？). Only projects,
    whose numbers are codes written alike everywhere: a line or a session may be written 六号线, 第十五届."""
    text = f"{hit.title}\n{hit.text}"
    return bool(asked.get(PROJECT)) and not any(names(text, n + PROJECT) for n in asked[PROJECT])


def _another_lettered(text: str, asked: list[tuple[frozenset[str], str]]) -> bool:
    """True for a sentence about other lettered things of a kind the question names by letter (``asked``, from
    :func:`rag.query.lettered`): naming some of that kind, and none of the asked ones (H、G出入口将恢复运营 for
    文化中心站J口哪天恢复？; J出入口…另行通知 answers it). Not one that speaks of the rest (除J口外，其余出入口…)."""
    if not asked or _THE_REST.search(text):
        return False
    named = lettered(text)
    return any(
        any(same_kind(kind, k) for _, k in named)
        and not any(same_kind(kind, k) and letters & ls for ls, k in named)
        for letters, kind in asked)


def _asked_days(query: Query) -> DateRange | None:
    """The days a question asks about, when it names a few (2月5日, 昨天, 上周; not 今年 or 2026年2月): those are
    what a passage must report. A festival is not such a day: its news comes before it, and it is also a topic."""
    d = query.dates
    return d if d is not None and d.few_days and not names_festival(d.source) else None


def _another_day(text: str, hit: Hit, dates: DateRange) -> bool:
    """True for a sentence reporting other days than the ones asked about: it names days, none of them asked, in
    an article that is not the news of the asked days (2月5日天津发布了什么预警？ is not answered by the 2月2日 alert),
    or only days before them (news published on 2月6日 of 2月5日's meetings does not say what met on the 6th). The
    news of the asked days may name a later day (a 2月5日 meeting decided on 3月1日); 2月15日至23日 names 2月18日."""
    named = dates.days_in(text, published_on(hit.date))
    if not named or any(r.overlaps(dates) for r in named):
        return False
    return not dates.reported(hit.date) or all(r.date_to < dates.date_from for r in named)


def _of_another_day(evidence: Evidence, c: Candidate, dates: DateRange) -> bool:
    """True for a sentence reporting other days than the ones asked about (:func:`_another_day`), or for an item of
    a list whose opening sentence does: an item says what its list is of (1.对工业企业管控… under …从2月2日14时起启动
    Ⅱ级应急响应，具体措施如下： is no answer to 2月5日天津发布了什么预警？)."""
    hit = evidence.hits[c.n - 1]
    if _another_day(c.text, hit, dates):
        return True
    opener = _opener(evidence, c) if ITEM.search(c.text) else None
    return opener is not None and _another_day(opener.text, hit, dates)


def unreported_days(evidence: Evidence) -> bool:
    """True when the question asks about a few days (:func:`_asked_days`) and no passage found is their news or
    names any of them (``DateRange.named_in``): the articles cannot say what happened, or will happen, then
    (北京明天天气怎么样？)."""
    dates = _asked_days(evidence.query)
    return dates is not None and not any(
        dates.reported(h.date) or dates.named_in(f"{h.title}\n{h.text}", published_on(h.date)) for h in evidence.hits)


def unreported_years(evidence: Evidence) -> list[int]:
    """The years the question asks about (``rag.dates.years_asked``) that no passage found names, written out, in a
    span (2021—2025年) or relative to its article's date (去年), nor is published in: the articles hold no figure
    for them (2024年天津跨境人民币结算量是多少？ when they give 2025's). A document's number (〔2023〕) names none."""
    asked = years_asked(evidence.query.text)
    if not asked:
        return []
    named: set[int] = set()
    for h in evidence.hits:
        published = published_on(h.date)
        text = without_document_years(f"{h.title}\n{h.text}")
        named |= {*years_named(text, published.year if published else 0), *years_spanned(text)}
        if published is not None:
            named.add(published.year)  # its news is of its year, said or not
    return [y for y in asked if y not in named]


def choose_sentences(evidence: Evidence, p: np.ndarray) -> list[Candidate]:
    """The best sentence, then the items it introduces (一是…、二是…) or, failing those, up to two more
    sentences nearly as likely, within ``MAX_ANSWER_CHARS``; quoted in reading order. Two more may go past that
    budget, by at most ``MAX_ANSWER_CHARS`` again: the sentence that opens a quoted item's list, the sentence a
    quoted 其中… refers back to, and the sentence after the best one when only it holds the asked kind of thing."""
    # A heading or label is never quoted: it names a topic and answers nothing. Nor is a sentence that opens a
    # list none of whose items was retrieved (重点抓好以下工作： at the end of a passage, its next one not found).
    order = [i for i in np.argsort(-p, kind="stable")
             if not evidence.candidates[i].heading and not _opens_nothing(evidence, evidence.candidates[i])]
    if not order:
        return []
    best, other_cases = _in_context(evidence, p, order)
    opens_list = _ends_in_colon(best)
    following = in_passage = _following(evidence, best)
    if opens_list and not following:
        # The list it opens begins in the next passage of its article (重点抓好以下工作： ends one chunk): read on there
        # when that passage was retrieved too, right after it.
        following = _continued(evidence, best)
    count = _announced(best.text)
    if count and FIRST_ITEM.search(re.split(r"[：:]", best.text)[-1]):
        count -= 1  # its first item is in the sentence itself (分为四大类：一是…；二是…)
    items: list[Candidate] = []
    # The enumeration the best sentence opens (…：一是…二是…, 具有三大显著特点。其一…) or begins (一是…；二是…), whole;
    # not the next section of a document the best sentence merely stands before (…1个工作日内完成贷款审批。(四)…).
    opens = opens_list or bool(count) or FIRST_ITEM.search(best.text) is not None
    marked = opens and bool(following) and ITEM.search(following[0].text) is not None
    if marked:
        items = _enumeration(following, count)
    elif opens_list:  # a colon, then sentences without markers: as many as an ordinary answer holds
        items = following
    elif evidence.query.answer_type == "list" and _ANNOUNCES.search(best.text):
        # "which tasks?" answered by "六方面重点任务": the items are what was asked, wherever the article lists them.
        # From its first item on (not another section's 三是…).
        after = _after(evidence, best)
        first = next((i for i, c in enumerate(after) if FIRST_ITEM.search(c.text)), len(after))
        items = [c for c in after[first:] if ITEM.search(c.text)][:count]
        marked = bool(items)
    likely = [evidence.candidates[i] for i in order if p[i] >= SECOND_SENTENCE_RATIO * p[order[0]]]
    pool = items or [c for c in likely if c is not best and not any(c is o for o in other_cases)]
    if not items and pool and following and any(c is following[0] for c in pool) \
            and p[_index(evidence, following[0])] >= NEAR_TIE * p[_index(evidence, pool[0])]:
        # Of further sentences about as likely (其中，购买…最高2万元 right after the scrapping case, and
        # 其中，换购…最高1.5万元 after the trade-in case), the one right after the best sentence continues it.
        pool.sort(key=lambda c: c is not following[0])
    most, budget = (1 + MAX_LIST_SENTENCES, MAX_LIST_CHARS) if marked else (MAX_ANSWER_SENTENCES, MAX_ANSWER_CHARS)
    chosen, length = [best], len(best.text)
    for c in pool:
        if len(chosen) >= most or length + len(c.text) > budget:
            break
        # Items of the list being quoted are its parts, headings too ((一)持续发挥京津冀协同发展效能 is the first thing
        # 重点抓好以下工作： names); a further sentence that opens a list of its own is not.
        if (c.heading and not marked) or (not items and _opens_list(evidence, c)) \
                or any(_repeats(evidence, c, o) for o in chosen):
            continue
        chosen.append(c)
        length += len(c.text)
    # An item quoted without the sentence that opens its list says a part as if it were the whole ((三)多子女家庭…
    # without 借款人家庭符合以下情形之一的，按照购首套住房发放住房公积金贷款：, which is what the items qualify for).
    if ITEM.search(best.text) and (opener := _opener(evidence, best)) is not None \
            and not any(o is opener for o in chosen) and length + len(opener.text) <= budget + MAX_ANSWER_CHARS:
        chosen.append(opener)
        length += len(opener.text)
    # A sentence that opens with 其中 ("of these") says which part of what the sentence before it names: it comes
    # with that sentence (quoted alone, 其中，购买新能源乘用车的…最高2万元 does not say it is the scrapping case's).
    for c in list(chosen):
        before = (_context(evidence, c) or [None])[-1] if _REFERS_BACK.match(c.text) else None
        if before is not None and not before.heading and not any(o is before for o in chosen) \
                and length + len(before.text) <= budget + MAX_ANSWER_CHARS:
            chosen.append(before)
            length += len(before.text)
    # A question for a time, an amount, a place… that the quoted sentences do not hold is often answered by the
    # sentence right after the best one (…可享一次性补贴。 then 其中，…最高2万元): it joins the answer.
    if evidence.query.answer_type in ANSWERED_BY and not any(_holds_type(evidence, c) for c in chosen):
        after = in_passage[:1]
        if after and _holds_type(evidence, after[0]) and p[_index(evidence, after[0])] > 0 and not after[0].heading \
                and not _opens_list(evidence, after[0]) and length + len(after[0].text) <= budget + MAX_ANSWER_CHARS:
            chosen.append(after[0])
    return _in_reading_order(evidence, chosen)


def _in_reading_order(evidence: Evidence, chosen: list[Candidate]) -> list[Candidate]:
    """``chosen`` in reading order: articles as first cited, sentences as they stand in their article."""
    places = {id(c): _place(evidence, c) for c in chosen}
    article_order: dict[str, int] = {}
    for c in sorted(chosen, key=lambda c: c.n):
        article_order.setdefault(places[id(c)][0], c.n)
    return sorted(chosen, key=lambda c: (article_order[places[id(c)][0]], places[id(c)][1]))


def _in_context(evidence: Evidence, p: np.ndarray, order: list[int]) -> tuple[Candidate, list[Candidate]]:
    """The best sentence, or the sibling it reads alike that stands under the question's focus terms; and the
    siblings that stand under fewer of them (the other cases of one template, which answer another question).

    A policy FAQ repeats one template per category ("按产品最终销售价格的15%补贴，每件最高补贴1500元" for appliances,
    "…500元" for phones): the two score alike, and what tells them apart is what comes before each (答：包含手机…).
    """
    best = evidence.candidates[order[0]]
    siblings = [evidence.candidates[i] for i in order if p[i] >= SECOND_SENTENCE_RATIO * p[order[0]]
                and _reads_alike(evidence, evidence.candidates[i], best, template=True)]
    if len(siblings) < 2:
        return best, []
    # What case of the template a sibling speaks of is said before it (针对“报废旧车、买新车”的情况…其中，购买…): the
    # question's terms there decide, and those in the sibling itself only between cases that tie (报废旧车换购新能源车
    # is the scrapping case's, though the trade-in case's sentence is the one that says 换购).
    # A sibling is no part of another's case: 购买燃油乘用车的… right after 购买新能源乘用车的… does not speak
    # of 新能源.
    coverage = evidence.weights.coverage
    cases = [[c for c in _context(evidence, s) if not any(c is t for t in siblings)] for s in siblings]
    covered = [(coverage(" ".join(c.text for c in case)), coverage(" ".join(c.text for c in [*case, s])))
               for s, case in zip(siblings, cases, strict=True)]
    # Ties keep the likelier sentence (siblings come in order of probability; max() keeps the first).
    chosen = max(range(len(siblings)), key=lambda i: covered[i])
    return siblings[chosen], [s for s, c in zip(siblings, covered, strict=True) if c < covered[chosen]]


def _context(evidence: Evidence, sentence: Candidate) -> list[Candidate]:
    """The sentences of ``sentence``'s passage just before it, back to its heading or the question it answers
    (问：…？), at most ``CONTEXT_SENTENCES`` (not another passage's: what stands before it there may be far off).
    A sentence that refers back (其中，…), or goes on from one that does after a semicolon (其中，购买新能源…最高2万元；
    then 购买燃油…最高1.5万元。), has the sentence before that one for context: that is the whole it names a part of
    (其中，换购…最高1.5万元 is the trade-in case's, whatever the sentences before that case name)."""
    by_start = {c.start: c for c in evidence.candidates if c.n == sentence.n and c.start < sentence.start}
    before = [by_start[at] for at in sorted(by_start)]
    first = len(before)  # the first of the clauses ending in a semicolon right before the sentence
    while first > 0 and before[first - 1].text.rstrip().endswith(("；", ";")):
        first -= 1
    if first < len(before) and _REFERS_BACK.match(before[first].text):
        return before[max(first - 1, 0):first]
    if _REFERS_BACK.match(sentence.text):
        return before[-1:]
    out: list[Candidate] = []
    for c in reversed(before[-CONTEXT_SENTENCES:]):
        out.insert(0, c)
        if c.heading or QUESTION_LIKE.search(c.text):
            break
    return out


def _ends_in_colon(c: Candidate) -> bool:
    """True for a sentence that ends in a colon: what follows it is its list (…重点抓好以下工作：)."""
    return c.text.rstrip().endswith(("：", ":"))


def _opens_list(evidence: Evidence, c: Candidate) -> bool:
    """True for a sentence that opens an enumeration (…分为四大类：一是…；, …情形之一的：, 具有三大显著特点。其一，…):
    quoted as a further sentence, without the items that follow it, it would say a part as if it were the whole."""
    text = c.text.rstrip()
    head, colon, rest = text.partition("：") if "：" in text else text.partition(":")
    if _ends_in_colon(c) or (colon and FIRST_ITEM.search(rest) and _ANNOUNCES.search(head)):
        return True
    if not _ANNOUNCES.search(text):
        return False
    after = _following(evidence, c)
    return bool(after) and FIRST_ITEM.search(after[0].text) is not None


def _following(evidence: Evidence, c: Candidate) -> list[Candidate]:
    """The sentences after ``c`` in its passage, in reading order."""
    return sorted((o for o in evidence.candidates if o.n == c.n and o.start >= c.end), key=lambda o: o.start)


def _opener(evidence: Evidence, item: Candidate) -> Candidate | None:
    """The sentence that opens the list ``item`` belongs to: within ``MAX_LIST_SENTENCES`` before it in its
    passage, one ending in a colon whose next sentence is a first item (…情形之一的，…贷款： then (一)…). Headings
    between are passed over: …具体措施如下： opens 1.对工业企业管控… across 一、强制性减排措施."""
    before = sorted((c for c in evidence.candidates if c.n == item.n and c.end <= item.start and not c.heading),
                    key=lambda c: c.start)
    window = [*before[-MAX_LIST_SENTENCES:], item]
    for c, after in reversed(list(zip(window, window[1:], strict=False))):
        if _ends_in_colon(c) and FIRST_ITEM.search(after.text):
            return c
    return None


def _index(evidence: Evidence, c: Candidate) -> int:
    return next(i for i, o in enumerate(evidence.candidates) if o is c)


def _holds_type(evidence: Evidence, c: Candidate) -> bool:
    """True when ``c`` holds something of the kind the question asks for (its has_type feature)."""
    return _feature(evidence, c, "has_type") > 0


def _feature(evidence: Evidence, c: Candidate, name: str) -> float:
    """Candidate ``c``'s feature ``name`` (one of ``CANDIDATE_FEATURES``)."""
    return float(evidence.candidate_x[_index(evidence, c), CANDIDATE_FEATURES.index(name)])


def _opens_nothing(evidence: Evidence, c: Candidate) -> bool:
    """True for a sentence that ends in a colon with nothing after it in the retrieved passages."""
    return _ends_in_colon(c) and not _following(evidence, c) and not _continued(evidence, c)


def _continued(evidence: Evidence, sentence: Candidate) -> list[Candidate]:
    """The sentences of ``sentence``'s article that follow it without a gap, across the retrieved passages (empty
    when the passage after it was not retrieved)."""
    after = _after(evidence, sentence)
    _, _, end = _place(evidence, sentence)
    if not after or _place(evidence, after[0])[1] - end > CONTIGUOUS_GAP:
        return []
    return after


def _announced(text: str) -> int | None:
    """How many items a sentence announces (分为四大类 → 4, 十二个方面 → 12, 以下三种 → 3), when it says."""
    m = _ANNOUNCES.search(text)
    number = (m.group("count") or m.group("following") or "") if m else ""
    return numeral_value(number) or None


def _enumeration(following: list[Candidate], count: int | None) -> list[Candidate]:
    """The marked items that follow a sentence, with the sentences an item runs on into (一是…。全年投入…。二是…),
    up to the ``count``-th item when the sentence announced one; not what comes after the last item."""
    marks = [i for i, c in enumerate(following) if ITEM.search(c.text)]
    run = marks[:1]
    for i in marks[1:]:
        # Too far from the item before, or numbering from one again (一是… after 四是…): another list, or none.
        if i - run[-1] > ITEM_RUN_ON + 1 or FIRST_ITEM.search(following[i].text):
            break
        run.append(i)
    run = run[:count] if count else run
    return following[: run[-1] + 1] if run else []


def _place(evidence: Evidence, c: Candidate) -> tuple[str, int, int]:
    """Where a candidate sits in its article: (aid, start, end); passages of one article overlap."""
    hit = evidence.hits[c.n - 1] if c.n <= len(evidence.hits) else None
    return (hit.aid, hit.start + c.start, hit.start + c.end) if hit else (str(c.n), c.start, c.end)


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _template(text: str) -> str:
    """``text`` without its asides in brackets and with its figures masked: sentences of one template (其中，购买…
    （价税合计，下同）的12%…最高2万元 and 其中，换购…的8%…最高1.5万元) differ in little else."""
    return _FIGURE.sub("#", ASIDE.sub("", text))


def _repeats(evidence: Evidence, a: Candidate, b: Candidate) -> bool:
    """True when ``a`` quotes what ``b`` already does: the same place of one article (overlapping passages), or
    nearly the same words (two articles reporting one meeting)."""
    (aid_a, start_a, end_a), (aid_b, start_b, end_b) = _place(evidence, a), _place(evidence, b)
    if aid_a == aid_b and start_a < end_b and start_b < end_a:
        return True
    return _reads_alike(evidence, a, b)


def _reads_alike(evidence: Evidence, a: Candidate, b: Candidate, *, template: bool = False) -> bool:
    """True when ``a`` and ``b`` share nearly all their words (``NEAR_DUPLICATE`` of their character pairs); with
    ``template``, whatever their asides and figures (:func:`_template`)."""
    read = _template if template else str
    x, y = _bigrams(read(a.text)), _bigrams(read(b.text))
    return bool(x and y) and len(x & y) / min(len(x), len(y)) >= NEAR_DUPLICATE


def _after(evidence: Evidence, sentence: Candidate) -> list[Candidate]:
    """The candidates of ``sentence``'s article that come after it, in the article's reading order."""
    aid, _, end = _place(evidence, sentence)
    seen: set[int] = set()
    out = []
    for c in sorted(evidence.candidates, key=lambda c: _place(evidence, c)):
        where, start, _ = _place(evidence, c)
        if where == aid and start >= end and start not in seen:
            seen.add(start)  # overlapping passages hold the same sentence twice
            out.append(c)
    return out
