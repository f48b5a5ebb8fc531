"""What the reader measures: features of each candidate sentence, and of the question's evidence as a whole.

Candidate features say whether a sentence answers *this* question: its meaning's closeness to the question
(e5 vectors), how much of the question's focus it covers (idf-weighted; alone, and with the sentences just before
it), whether it holds the kind of thing asked for (a date, an amount, a body…) and how close that sits to the focus
terms, and where it stands.
Question features say whether the passages answer the question at all: the best candidates, and which rare
focus terms no passage mentions (a near miss: 公积金贷款 is there, 最高额度 is not).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.conversation import question_parts
from rag.dates import published_on, weekday_forms, years_named
from rag.index.base import bm25_idf, unseen_idf
from rag.query import Query, names
from rag.reader.candidates import Candidate
from rag.reader.entities import asked_units, cue_positions, entities, names_from
from rag.records import Hit
from rag.tokenize import SPECIALISED, specificity, tokenize, word_at
from rag.translate import grade_forms

CANDIDATE_FEATURES = (
    "similarity", "similarity_gap", "coverage", "coverage_gap", "context_coverage", "has_type",
    "typed_without_type", "proximity", "rank", "passage_score", "first", "heading", "question_like", "length",
    "english", "english_similarity", "key_coverage", "key_proximity", "item", "novelty", "entities", "year_match",
    "year_conflict", "local_coverage",
)
QUESTION_FEATURES = (
    "best", "second", "best_coverage", "best_has_type", "top_coverage", "missing_max", "missing_share",
    "missing_count", "dense_margin", "english", "focus_count", "best_similarity", "typed_coverage",
    "typed_best", "proximity", "missing_specific", "missing_specific_count", "english_missing", "key_context",
    "key_best", "key_typed", "key_missing_specific", "list_counted",
)
# What the abstention model reads: P(answerable) alone (how often an abstention is right, given it).
ABSTENTION_FEATURES = ("answerable",)
# Passages whose words count as "mentioned" for the missing-term check.
EVIDENCE_PASSAGES = 3
# A sentence is read with this many sentences before it in its passage for its local coverage: a short one takes
# its topic from them (市委常委、常务副市长王旭主持。 after …出席市政府第四次廉政工作会议并讲话。). (Its context
# coverage is the whole passage's, the same for each of its sentences.)
LOCAL_SENTENCES = 2
QUESTION_LIKE = re.compile(r"[？?]$|^问[:：]")
# An enumerated item: 一是…, 其二，…, （二）…, 3.… (not 3.5亿元), ②…, 第四条…; and the first of a list.
ITEM = re.compile(r"^\s*(?:[一二三四五六七八九十]+是|其[一二三四五六七八九十][，,、]|"
                  r"[（(][一二三四五六七八九十\d]+[)）]|\d+[.、．](?!\d)|[①-⑩]|第[一二三四五六七八九十\d]+[条项点])")
FIRST_ITEM = re.compile(r"^\s*(?:一是|其一[，,、]|[（(][一1][)）]|1[.、．](?!\d)|①|第[一1][条项点])")
_CLAUSE = re.compile(r"[^，,。；;：:！？!?\n]+")
# A count of things: a number (not a lone 一: 一家…企业 names the one) and its measure word, not after 第 (第3个 orders)
# and not a span (3个月, 2个工作日) or a rate (5个百分点).
_NUMBER = r"(?:\d+|[二两三四五六七八九十百千万][一二两三四五六七八九十百千万]*|一[一二两三四五六七八九十百千万]+)"
_COUNT = rf"(?<!第){_NUMBER}(?:个(?!月|多月|工作日|小时|百分点)|座|家|项|条|大|部|所|名|位|批|处|类|种|场|套|台)"
# A count of the asked kind (8个老旧高层住宅小区, 十大进展, 共设车站21座), or words that speak of some without saying
# which (到有关企业, 研究了其他事项, 一批项目).
_COUNTED = re.compile(rf"(?P<count>{_COUNT})|(?<!第)(?:有关|相关|其他|其它|一批|多家|多个|多项|突出|若干|一系列|各类|"
                      r"各项|部分)")
# What may stand between a count and its kind: up to eight characters of one phrase (老旧高层住宅, 5G).
_BETWEEN = re.compile(r"[\w“”\"\s]{0,8}")
# How far after the kind its count may stand (车站21座). A vague word after it speaks of something else
# (《…办法》等其他事项).
_COUNT_AFTER = 2
# Members named: joined by 、 (香港站、硅谷站, H、G出入口), one before others counted (元宝岛等3个特色公园), two titles
# (《…》…《…》), two joined before their count (电化学储能与氢能储能两大核心方向; not 和平区五个小区 nor 涉及).
_MEMBERS = re.compile(rf"[^、，,。；;：:\s]、[^、，,。；;：:\s]|等\s*{_COUNT}|《[^》]+》.*《|"
                      r"(?:与|和(?!平)|(?<!涉)及)[^，,。；;]{1,12}?[两二三四五六七八九十](?:大|个|项|类|种|家|所)")


@dataclass(frozen=True)
class TermWeights:
    """The focus terms of a question with their weights (idf; the rarest possible for unseen terms) and their
    parts (公积金贷款 → 公积金, 贷款), so a text that names a term in pieces still counts as naming it."""

    terms: tuple[str, ...]
    weights: tuple[float, ...]
    parts: tuple[tuple[str, ...], ...]
    specific: tuple[float, ...]  # how specialised each term is in general Chinese (rag.tokenize.specificity)
    rarest: float
    # Other renderings of a translated term (subsidy → 补助, also 补贴): a text naming one names the term.
    alternatives: tuple[tuple[str, ...], ...]

    @classmethod
    def of(cls, query: Query, document_frequency: Sequence[int], documents: int) -> TermWeights:
        """Weights from document frequencies (BM25's idf); a term no chunk contains weighs as the rarest."""
        n = max(documents, 1)
        rarest = unseen_idf(n)
        weights = tuple(bm25_idf(df, n) if df else rarest for df in document_frequency)
        parts = tuple(tuple(p for p in dict.fromkeys(tokenize(t)) if p != t and len(p) >= 2) for t in query.focus)
        # Only a phrase translated to exactly this term (not 全国 inside 全国重点实验室). A one-character rendering
        # counts too: car → 汽车 or 车, and a passage on 乘用车 is about cars (without them English answer text falls
        # back by two questions).
        # A weekday or a grade by any of its names: 周六 is named by 2月14日（星期六）, 二级 by Ⅱ级应急响应.
        alternatives = tuple(tuple(dict.fromkeys([*(a for m in query.translations if m.chinese[0] == t
                                                    for a in m.chinese[1:] if a != t), *weekday_forms(t),
                                                  *grade_forms(t)]))
                             for t in query.focus)
        return cls(query.focus, weights, parts, tuple(specificity(t) for t in query.focus), rarest, alternatives)

    def presence(self, i: int, text: str) -> float:
        """1 when ``text`` names term ``i`` (or, translated, another rendering of it), else the share of its parts
        it names."""
        if names(text, self.terms[i]) or (self.terms[i].isascii() and self.terms[i] in text.lower()):
            return 1.0
        if any(a in text for a in self.alternatives[i]):
            return 1.0
        parts = self.parts[i]
        return sum(p in text for p in parts) / len(parts) if parts else 0.0

    def coverage(self, text: str) -> float:
        """The idf-weighted share of focus terms that ``text`` names."""
        total = sum(self.weights)
        return sum(w * self.presence(i, text) for i, w in enumerate(self.weights)) / total if total else 0.0

    def share(self, indices: Sequence[int], text: str) -> float:
        """The idf-weighted share of the terms at ``indices`` that ``text`` names (1 when there are none): a
        word every article uses (天津) says little about whether the asked detail is there."""
        total = sum(self.weights[i] for i in indices)
        return sum(self.weights[i] * self.presence(i, text) for i in indices) / total if total else 1.0

    def presences(self, text: str) -> list[float]:
        """Each focus term's :meth:`presence` in ``text``."""
        return [self.presence(i, text) for i in range(len(self.terms))]

    def missing(self, text: str) -> list[tuple[str, float]]:
        """Focus terms ``text`` does not name at all, with their weights, rarest first."""
        return self.unnamed(self.presences(text))

    def unnamed(self, presences: Sequence[float]) -> list[tuple[str, float]]:
        """The focus terms whose ``presences`` (from :meth:`presences`) are 0, with their weights, rarest first."""
        out = [(t, w) for t, w, p in zip(self.terms, self.weights, presences, strict=True) if p == 0.0]
        return sorted(out, key=lambda tw: -tw[1])


def counts_without_naming(texts: Sequence[str], kinds: Sequence[str]) -> bool:
    """True when a sentence of ``texts`` (an answer's) counts one of ``kinds`` (the focus terms of a "which" question,
    its key terms first), or speaks of it vaguely, within a clause, and names no members of anything:
    对8个老旧高层住宅小区实施消防安全改造 and 到有关企业和海河实验室等调研 do not say which estates or firms
    (串联西青、南开…五个行政区 may). An answer listing item by item (一是…；二是…, in one sentence or several) names
    its members."""
    clauses = [list(_CLAUSE.finditer(t)) for t in texts]  # each sentence's, found once
    if sum(bool(ITEM.search(c.group())) for own in clauses for c in own) >= 2:
        return False
    return any(_counts(text, own, kind) for text, own in zip(texts, clauses, strict=True)
               if not any(_MEMBERS.search(c.group()) for c in own) for kind in kinds if kind)


def _counts(text: str, clauses: Sequence[re.Match[str]], kind: str) -> bool:
    """True when ``text`` (cut into ``clauses``) counts ``kind``, or speaks of some of it, in the clause that names
    it (see ``_COUNTED``): the count right before it across a few characters of its phrase, or just after it."""
    for m in re.finditer(re.escape(kind), text):
        clause = next((c for c in clauses if c.start() <= m.start() < c.end()), None)
        if clause is None:
            continue
        for c in _COUNTED.finditer(text, clause.start(), clause.end()):
            before = c.end() <= m.start() and _BETWEEN.fullmatch(text, c.end(), m.start())
            after = bool(c.group("count")) and m.end() <= c.start() <= m.end() + _COUNT_AFTER
            if (before or after) and (not c.group("count") or _opens_count(text, c)):
                return True
    return False


def _opens_count(text: str, count: re.Match[str]) -> bool:
    """True when the numeral of ``count`` opens a word no longer than the count: a numeral inside a word counts
    nothing (统一部署, 三位一体)."""
    word = word_at(text, count.start())
    return 0 < len(word) <= len(count.group())


def evidence_text(hits: Sequence[Hit], quoted: Sequence[str] = ()) -> str:
    """What the best passages (and any sentences quoted from lower ones) say: the text in which a focus term
    counts as mentioned, for the missing-term check."""
    return " ".join([*(f"{h.title} {h.text}" for h in hits[:EVIDENCE_PASSAGES]), *quoted])


def _proximity(text: str, terms: Sequence[str], cues: list[int]) -> float:
    """1 when an expected-type cue sits right by a focus term, falling with the distance in characters."""
    spots = [m.start() for t in terms for m in re.finditer(re.escape(t), text)]
    if not spots or not cues:
        return 0.0
    distance = min(abs(a - b) for a in spots for b in cues)
    return 1.0 / (1.0 + distance / 10.0)


def _years(query: Query, text: str, hit: Hit) -> tuple[float, float]:
    """(names a year the question asks about, names years but none of them): 2025年GDP增长多少 is not answered by
    a sentence about 2026's target. Both 0 when the question or the sentence names no year."""
    published = published_on(hit.date)
    named = set(years_named(text, published.year)) if query.years and published is not None else set()
    if not named:
        return 0.0, 0.0
    asked = bool(named & set(query.years))
    return float(asked), float(not asked)


def _window(so_far: list[str]) -> str:
    """The last of ``so_far`` (a passage's sentences read so far) with the ``LOCAL_SENTENCES`` just before it."""
    return " ".join(so_far[-LOCAL_SENTENCES - 1:])


def _asked_clauses(query: Query) -> list[tuple[frozenset[str], str]]:
    """The units each question of ``query`` asks for, and its text, one pair per question it asks
    (``rag.conversation.question_parts``): a sentence holds the asked kind of thing when it answers any of them
    (10辆 answers 多少辆？, not the 每百公里 rate the question asks next)."""
    written = query.text if query.language == "en" else query.search_text
    parts = [p.asked for p in question_parts(written)]
    return [(asked_units(p), p if len(parts) > 1 else f"{query.text}\n{query.search_text}") for p in parts]


_COLON = re.compile(r"[：:]")


def _list_head(so_far: list[str]) -> str:
    """What the colon heads when the last of ``so_far`` (a passage's sentences read so far) is an item of a list
    whose items end in semicolons (今年经济社会发展主要预期目标是 for 城镇新增就业28万人；), the head in the first item
    or on a line of its own; else ""."""
    for before in reversed(so_far[:-1]):
        text = before.rstrip()
        if text.endswith(("：", ":")):  # the head on a line of its own
            return text[:-1]
        if not text.endswith(("；", ";")):
            return ""
        if (colon := _COLON.search(text)) is not None:
            return text[:colon.start()]
    return ""


def _dated(text: str, window: str) -> str:
    """What dates a sentence: itself, or when it names no year, its ``window`` (it with the sentences just before
    it: 今年经济社会发展主要预期目标是：… then 一般公共预算收入增长2%；, a target for 2026, and the head of the list it
    is an item of, however far back: 城镇调查失业率5.5%左右； is that target too)."""
    # Whether it names a year, written out or relative (今年): any reference year tells, 0 will do.
    return text if years_named(text, 0) else window


def asks_a_kind(query: Query) -> bool:
    """True when the question asks for a kind of thing (a time, a number, a place…); 什么 or "what" alone asks none,
    so any sentence may hold its answer."""
    return query.answer_type != "other"


def candidate_features(query: Query, qvec: np.ndarray | None, cands: list[Candidate], hits: list[Hit],
                       weights: TermWeights) -> np.ndarray:
    """One row of ``CANDIDATE_FEATURES`` per candidate."""
    if not cands:
        return np.zeros((0, len(CANDIDATE_FEATURES)), dtype=np.float32)
    sims = np.array([float(qvec @ c.vector) if qvec is not None and c.vector is not None else c.similarity or 0.0
                     for c in cands], dtype=np.float32)
    covs = np.array([weights.coverage(c.text) for c in cands], dtype=np.float32)
    typed = asks_a_kind(query)
    clauses = _asked_clauses(query)
    stated = f"{query.text}\n{query.search_text}"
    names = names_from(query.focus) if query.language == "en" else None
    english = float(query.language == "en")
    keys = [weights.terms.index(t) for t in query.key if t in weights.terms]
    asked = set(query.search_text)
    rows = []
    so_far: dict[int, list[str]] = {}  # each passage's sentences read so far (candidates come in reading order)
    for c, sim, cov in zip(cands, sims, covs, strict=True):
        passage = so_far.setdefault(c.n, [])
        passage.append(c.text)
        window = _window(passage)  # joined once, for its local coverage and for its year
        local = weights.coverage(window) if len(passage) > 1 else cov
        hit = hits[c.n - 1]
        # What the whole message states answers none of its questions (2月5日 in 2月5日发布了什么预警？什么时候解除？).
        cues = sorted({at for units, one in clauses
                       for at in cue_positions(c.text, query.answer_type, units, one, stated=stated, names=names,
                                               before=passage[-2] if len(passage) > 1 else "")}
                      ) if typed else []
        has_type = float(bool(cues))
        # An item of a list that opens with a colon (主要预期目标是：…；…；城镇新增就业28万人；) is said of what the
        # colon heads: 目标 is named for every item, not only the first, and its 今年 dates every item.
        head = _list_head(passage)
        key_cov = weights.share(keys, head + c.text) if keys else cov
        novelty = sum(ch not in asked for ch in c.text) / max(len(c.text), 1)
        rows.append([
            sim, sim - sims.max(), cov, cov - covs.max(), weights.coverage(f"{hit.title}\n{hit.text}"),
            has_type, float(typed) * (1 - has_type), _proximity(c.text, weights.terms, cues),
            1.0 / c.n, hit.score, float(c.first), float(c.heading), float(bool(QUESTION_LIKE.search(c.text))),
            math.log1p(len(c.text)) / 6, english, english * sim, key_cov,
            _proximity(c.text, [weights.terms[i] for i in keys], cues), float(bool(ITEM.search(c.text))), novelty,
            math.log1p(len(entities(c.text))), *_years(query, _dated(c.text, f"{head}\n{window}"), hit), local,
        ])
    return np.asarray(rows, dtype=np.float32)


def question_features(query: Query, hits: list[Hit], cands: list[Candidate], cand_x: np.ndarray,
                      cand_p: np.ndarray, weights: TermWeights, dense_margin: float | None,
                      chosen: Sequence[Candidate]) -> np.ndarray:
    """One row of ``QUESTION_FEATURES``: how well the passages, the best candidates and the answer ``chosen`` from
    them answer the question."""
    order = np.argsort(-cand_p) if len(cand_p) else np.array([], dtype=int)
    best = float(cand_p[order[0]]) if len(order) else 0.0
    second = float(cand_p[order[1]]) if len(order) > 1 else 0.0
    col = {name: i for i, name in enumerate(CANDIDATE_FEATURES)}
    # A sentence ruled out (probability 0: line 8's 共设车站21座 for line 6) holds nothing that answers.
    possible = cand_p > 0
    top = cand_x[order[0]] if best > 0 else np.zeros(len(CANDIDATE_FEATURES), dtype=np.float32)
    context = evidence_text(hits)
    missing = weights.missing(context)
    specific = dict(zip(weights.terms, weights.specific, strict=True))
    missing_specific = [w * specific[t] for t, w in missing]
    english = float(query.language == "en")
    total = sum(weights.weights) or 1.0
    # The best a sentence holding the asked kind of thing does: a near miss has the topic, not the detail. (Every
    # sentence holds what an untyped question asks.)
    typed_rows = ((cand_x[:, col["has_type"]] > 0) | (not asks_a_kind(query))) & possible if len(cand_x) \
        else np.zeros(0, bool)
    typed_cov = float(cand_x[typed_rows, col["coverage"]].max()) if typed_rows.any() else 0.0
    typed_best = float(cand_p[typed_rows].max()) if typed_rows.any() else 0.0
    proximity = float(cand_x[possible, col["proximity"]].max()) if possible.any() else 0.0
    # The detail asked about (the key terms): is it named in the passages, in the best sentence, and together
    # with something of the asked type?
    keys = [weights.terms.index(t) for t in query.key if t in weights.terms]

    key_context = weights.share(keys, context)
    key_best = weights.share(keys, cands[order[0]].text) if best > 0 else 0.0
    key_typed = max((weights.share(keys, c.text) for c, typed in zip(cands, typed_rows, strict=True) if typed),
                    default=0.0)
    key_specific = max((weights.specific[i] for i in keys), default=0.0) * (1.0 - key_context)
    # Asked which ones, an answer that only counts them (or says 有关, 其他) is a near miss.
    counted_only = query.answer_type == "list" and counts_without_naming([c.text for c in chosen],
                                                                          query.key or query.focus)
    return np.asarray([
        best, second, top[col["coverage"]], float(best > 0 and typed_rows[order[0]]),
        weights.coverage(context), max((w for _, w in missing), default=0.0) / weights.rarest,
        sum(w for _, w in missing) / total, math.log1p(len(missing)), (dense_margin or 0.0) * 10, english,
        math.log1p(len(weights.terms)), top[col["similarity"]], typed_cov, typed_best, proximity,
        max(missing_specific, default=0.0) / weights.rarest,
        float(sum(specific[t] >= SPECIALISED for t, _ in missing)),
        english * max((w for _, w in missing), default=0.0) / weights.rarest, key_context, key_best, key_typed,
        key_specific, float(counted_only),
    ], dtype=np.float32)
