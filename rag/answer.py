"""Short answers built from retrieved passages: extractive by default, optionally written by an LLM."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from rag.llm import LLMClient, LLMError, fallback_notice
from rag.records import Answer, Citation, Hit
from rag.sentences import MIN_SENTENCE_CHARS, split_sentences
from rag.settings import AnswerSettings
from rag.tokenize import has_chinese, tokenize

log = logging.getLogger(__name__)

ABSTAIN_TEXT = "现有文章没有回答这个问题。以下是最接近的段落，供参考。"
ABSTAIN_TEXT_EN = "The articles do not answer this question. The closest passages are listed below."
MAX_ANSWER_SENTENCES = 3
MAX_ANSWER_CHARS = 220
# Sentences come from the best few passages only: lower ones are cited but rarely hold the answer.
SENTENCE_POOL_PASSAGES = 3


class TermStats(Protocol):
    """Corpus statistics of lexical terms (the index implements it; tests may pass a small table)."""

    def idf(self, tokens: Sequence[str]) -> list[float]:
        """BM25 idf of each token (0 for tokens no chunk contains)."""
        ...

    def documents(self) -> int:
        """How many chunks the statistics count."""
        ...


@dataclass
class Sentence:
    """A candidate answer sentence: its citation number and its span inside that citation's text."""

    n: int
    start: int
    end: int
    text: str
    score: float = 0.0
    terms: frozenset[str] = frozenset()  # question terms the sentence contains


def is_english(text: str) -> bool:
    """True when the question is mostly Latin letters (answer boilerplate follows the question's language)."""
    letters = sum(c.isascii() and c.isalpha() for c in text)
    cjk = sum("\u4e00" <= c <= "\u9fff" for c in text)
    return letters > 2 * cjk


def score_sentences(stats: TermStats, question: str, citations: list[Citation]) -> list[Sentence]:
    """Score each sentence of the top passages by idf-weighted coverage of the question's terms.

    A passage-rank prior breaks ties and carries cross-lingual questions, which share no terms with the text.
    """
    q_tokens = list(dict.fromkeys(tokenize(question)))
    q_idf = dict(zip(q_tokens, stats.idf(q_tokens), strict=True))
    total = sum(q_idf.values()) or 1.0
    out = []
    for c in citations[:SENTENCE_POOL_PASSAGES]:
        prior = 0.15 / c.n
        for s, e in split_sentences(c.text):
            text = c.text[s:e]
            if len(text) < MIN_SENTENCE_CHARS:
                continue
            toks = set(tokenize(text))
            hit = frozenset(t for t in q_idf if t in toks)
            coverage = sum(q_idf[t] for t in hit) / total
            out.append(Sentence(c.n, s, e, text, coverage + prior, hit))
    out.sort(key=lambda x: -x.score)
    return out


def compose(sentences: list[Sentence]) -> list[Sentence]:
    """The best one to three sentences, in reading order within each passage.

    A further sentence must score at least 60 % of the best and bring question terms the chosen ones lack,
    so the answer grows only when it says something more about the question.
    """
    if not sentences:
        return []
    best = sentences[0].score
    chosen = [sentences[0]]
    covered = set(sentences[0].terms)
    length = len(sentences[0].text)
    for s in sentences[1:]:
        if len(chosen) >= MAX_ANSWER_SENTENCES or s.score < 0.6 * best:
            break
        if length + len(s.text) > MAX_ANSWER_CHARS or any(s.text in c.text or c.text in s.text for c in chosen):
            continue
        if covered and not (s.terms - covered):
            continue
        chosen.append(s)
        covered |= s.terms
        length += len(s.text)
    chosen.sort(key=lambda s: (s.n, s.start))
    return chosen


def to_citations(hits: list[Hit]) -> list[Citation]:
    """Number the hits as citations ``[1]``, ``[2]``, …"""
    return [Citation.of(i, h) for i, h in enumerate(hits, start=1)]


# Questions without Chinese terms cannot be matched lexically against Chinese articles; they get the
# median coverage of answerable Chinese gold questions instead of a zero that would always abstain.
NEUTRAL_COVERAGE = 0.7


def term_coverage(stats: TermStats, question: str, hits: list[Hit], passages: int = 3) -> float | None:
    """Share of the question's Chinese terms (idf-weighted) found in the top passages and their titles.

    Terms the corpus never uses weigh as much as the rarest term, so "火星" in a question about Mars
    counts fully against it. None when the question has no Chinese terms.
    """
    terms = [t for t in dict.fromkeys(tokenize(question)) if len(t) >= 2 and has_chinese(t)]
    if not terms:
        return None
    n = max(stats.documents(), 1)
    rarest = math.log(1 + (n + 0.5) / 0.5)
    weights = [w if w > 0 else rarest for w in stats.idf(terms)]
    seen = set(tokenize(" ".join(f"{h.title} {h.text}" for h in hits[:passages])))
    return sum(w for t, w in zip(terms, weights, strict=True) if t in seen) / sum(weights)


def evidence(stats: TermStats, question: str, hits: list[Hit], dense_margin: float | None,
             config: AnswerSettings) -> float:
    """How well the passages support an answer: the retrieval's dense margin plus weighted term coverage.

    This is the one abstention signal: answers below ``config.abstain_threshold`` abstain, and it is
    reported as the answer's ``confidence``.
    """
    coverage = term_coverage(stats, question, hits)
    return (dense_margin or 0.0) + config.lexical_evidence_weight * (
        NEUTRAL_COVERAGE if coverage is None else coverage)


def answer(
    stats: TermStats,
    question: str,
    hits: list[Hit],
    *,
    dense_margin: float | None,
    config: AnswerSettings,
    llm: LLMClient | None = None,
) -> Answer:
    """Compose the answer for ``question`` from ``hits`` (already ranked, best first).

    Abstains — says the articles do not answer this, and still returns the closest passages — when the
    :func:`evidence` is below ``config.abstain_threshold``, calibrated on the gold set by ``rag eval --sweep``.
    """
    citations = to_citations(hits)
    conf = evidence(stats, question, hits, dense_margin, config)
    english = is_english(question)
    abstention = ABSTAIN_TEXT_EN if english else ABSTAIN_TEXT
    if not citations or conf < config.abstain_threshold:
        return Answer(question=question, answer=abstention, abstained=True, confidence=conf, citations=citations)

    notice = None
    if llm is not None:
        try:
            text = llm.answer(question, citations)
            return Answer(question=question, answer=text, abstained=False, confidence=conf, generator="llm",
                          citations=citations)
        except LLMError as e:
            log.warning("LLM answer failed, falling back to extractive: %s", e)
            notice = fallback_notice(e)

    chosen = compose(score_sentences(stats, question, citations))
    if not chosen:
        return Answer(question=question, answer=abstention, abstained=True, confidence=conf, notice=notice,
                      citations=citations)
    by_n = {c.n: c for c in citations}
    for s in chosen:  # every quoted sentence is marked in its citation, so the page need not search for it
        by_n[s.n].highlights.append((s.start, s.end))
    text = "".join(f"{s.text}[{s.n}]" if not english else f"{s.text} [{s.n}] " for s in chosen).strip()
    return Answer(question=question, answer=text, abstained=False, confidence=conf, notice=notice,
                  citations=citations)
