"""Chinese-aware lexical tokens for BM25: jieba search-mode words, a domain dictionary, stop words."""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata, resources
from typing import Any

import jieba

from rag.records import is_encodable

jieba.setLogLevel(logging.WARNING)

# Document numbers such as 津政发〔2026〕3号 are one term to a reader; jieba splits them, so they are
# matched first and kept whole (their parts are still indexed by the search-mode cut below). The issuer
# prefix is the last jieba word before the bracket ("根据津政发〔…" → 津政发).
DOC_NUMBER = re.compile(r"([\u4e00-\u9fff]{1,12})([〔\[［(（]\d{4}[〕\]］)）]\d+号)")
# A token is kept when it has at least one letter, digit or CJK character.
_WORDLIKE = re.compile(r"[0-9A-Za-z\u3400-\u9fff\uf900-\ufaff]")
_CHINESE = re.compile(r"[\u3400-\u9fff]")
_lock = threading.Lock()
# Bump when tokenize() itself changes what it emits; an index made with other tokens must be rebuilt.
TOKENIZER_VERSION = 1


def has_chinese(text: str) -> bool:
    """True when ``text`` contains a CJK ideograph (so BM25 over Chinese articles can match it)."""
    return _CHINESE.search(text) is not None


def has_words(text: str) -> bool:
    """True when ``text`` has a letter or a digit, in any script: something to search for ("？？？" has none)."""
    return any(ch.isalnum() for ch in text)


# The longest query or question served, in characters (every surface: API, OpenAI endpoint, MCP, CLI).
MAX_QUERY_CHARS = 1000


@dataclass(frozen=True)
class TextProblem:
    """Why a query or question cannot be served: a stable ``code`` and a message (``template`` filled from
    ``context``, which the API also returns so the page can say it in the reader's language)."""

    code: str  # empty, too_long, invalid_unicode or no_words
    template: str
    context: dict[str, Any]

    @property
    def message(self) -> str:
        """The message in words."""
        return self.template.format(**self.context)


def text_problem(text: str, what: str) -> TextProblem | None:
    """What is wrong with ``text`` as a ``what`` (a query, a question), or None. Every surface refuses with this,
    each in its own error shape: empty, over ``MAX_QUERY_CHARS``, a lone surrogate (which no encoder can
    write), or no letter or digit in any script ("？？？": nothing to search for)."""
    context: dict[str, Any] = {"what": what}
    if not text.strip():
        return TextProblem("empty", "the {what} is empty; type a few words", context)
    if len(text) > MAX_QUERY_CHARS:
        return TextProblem("too_long", "the {what} is {length} characters long; the limit is {limit}",
                           context | {"length": len(text), "limit": MAX_QUERY_CHARS})
    if not is_encodable(text):
        return TextProblem("invalid_unicode", "the {what} contains invalid Unicode (a lone surrogate)", context)
    if not has_words(text):
        return TextProblem("no_words", "the {what} has no words (letters or digits) to search for", context)
    return None


def _resource(name: str) -> str:
    return resources.files("rag").joinpath("resources", name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """The small stop-word list (Chinese function words and English ones)."""
    return frozenset(w.strip() for w in _resource("stopwords.txt").splitlines() if w.strip())


@lru_cache(maxsize=1)
def _tokenizer() -> jieba.Tokenizer:
    """A private jieba tokenizer with our user dictionary (no global jieba state is touched)."""
    tok = jieba.Tokenizer()
    tok.initialize()
    for line in _resource("userdict.txt").splitlines():
        parts = line.split()
        if parts:
            tok.add_word(parts[0], int(parts[1]) if len(parts) > 1 else None, parts[2] if len(parts) > 2 else None)
    return tok


def tokenize(text: str) -> list[str]:
    """Lower-cased search-mode tokens of ``text`` without stop words and punctuation."""
    tok = _tokenizer()
    stop = stopwords()
    # jieba's Tokenizer is not documented as thread-safe; segmenting is fast, so serialise it.
    with _lock:
        words = [list(tok.cut(m.group(1)))[-1] + m.group(2) for m in DOC_NUMBER.finditer(text)]
        cut = list(tok.cut_for_search(text))
    for w in cut:
        w = w.strip().lower()
        if w and w not in stop and _WORDLIKE.search(w):
            words.append(w)
    return words


def words(text: str) -> list[str]:
    """The words of ``text`` as a reader sees them: jieba's precise cut (公积金贷款, not 公积 + 积金), lower-cased,
    without stop words and punctuation. BM25 uses :func:`tokenize`, which adds the parts of long words."""
    tok = _tokenizer()
    stop = stopwords()
    with _lock:
        cut = list(tok.cut(text))
    return [w for w in (w.strip().lower() for w in cut) if w and w not in stop and _WORDLIKE.search(w)]


@lru_cache(maxsize=4096)
def word_ends(text: str) -> dict[int, str]:
    """jieba's precise cut of ``text`` as {end offset: word}: where its words end, and which word ends there.
    Cached, since the reader asks it of the same corpus sentences again and again."""
    tok = _tokenizer()
    with _lock:
        cut = list(tok.cut(text))
    ends, at = {}, 0
    for w in cut:
        at += len(w)
        ends[at] = w
    return ends


def word_at(text: str, at: int) -> str:
    """The word of jieba's cut of ``text`` that starts at ``at`` ("" when none does)."""
    return next((w for end, w in word_ends(text).items() if end - len(w) == at), "")


def opens_word(text: str, at: int, word: str) -> bool:
    """True when jieba's cut of ``text`` has a word starting at ``at`` that begins with ``word``: 去年 opens a word
    in 去年4月 and 去年同期, not in 过去年份; 前年 not in 提前年底 or 春节前年货."""
    return word_at(text, at).startswith(word)


def dictionary_words(text: str) -> list[str]:
    """``text`` cut into jieba dictionary words only (no HMM guesses): 后能储 → 后, 能, 储."""
    tok = _tokenizer()
    with _lock:
        cut = list(tok.cut(text, HMM=False))
    return [w for w in (w.strip() for w in cut) if w]


def in_dictionary(word: str) -> bool:
    """True when ``word`` is in jieba's dictionary (or ours), not a word its HMM made up."""
    return word_frequency(word) > 0


def part_of_speech(word: str) -> str | None:
    """jieba's part-of-speech tag of a dictionary word (t a time word, d an adverb, n a noun…), ours first
    (userdict.txt: 十四五 is a noun, not jieba's numeral); None for a word no dictionary has."""
    import jieba.posseg  # builds jieba's tag table once, on first import

    return _tokenizer().user_word_tag_tab.get(word) or jieba.posseg.dt.word_tag_tab.get(word)


# Characters that only bind words together: a word jieba's HMM made up around one of them (提了, 税能, 后能储) is
# no word at all. Their tags: particles (u…), prepositions, adverbs, conjunctions, pronouns, locatives.
_BINDING = frozenset("了着过得的地能要会可需该是有")
_BINDING_TAGS = ("u", "p", "d", "c", "r", "f")


def is_function_word(word: str) -> bool:
    """True for a word that says how, not what: a stop word, a particle or modal, or a word tagged as one."""
    return word in _BINDING or word in stopwords() or (part_of_speech(word) or "x").startswith(_BINDING_TAGS)


def is_noun(word: str) -> bool:
    """True for a word tagged as a noun of any kind (n, nr, ns, nz…): 狗, 票价, 天津."""
    return (part_of_speech(word) or "").startswith("n")


def is_verb(word: str) -> bool:
    """True for a word tagged as a verb of any kind (v, vn, vd…): 办, 关掉, 申请."""
    return (part_of_speech(word) or "").startswith("v")


def word_frequency(word: str) -> int:
    """How often jieba's dictionary (and ours) says ``word`` is used in general Chinese; 0 for a word it lacks."""
    return _tokenizer().FREQ.get(word, 0)


# A word at least this specific is specialised (低保, 容积率, 罚息); below it, everyday (大概, 孩子, 现在).
SPECIALISED = 0.5


def specificity(word: str) -> float:
    """How specialised ``word`` is in general Chinese, 0..1, from jieba's word frequencies: 0 for everyday words
    (之前, 现在, 孩子), 1 for rare or unknown ones (容积率, 罚息). A near-miss question names a specific thing the
    articles lack; an answerable one often just words itself more casually than the articles."""
    freq = word_frequency(word)
    if not freq:
        return 1.0
    # log(total / freq) runs from about 7 (现在) to 17 (容积率) for the words of questions.
    own = min(1.0, max(0.0, (math.log(_tokenizer().total / freq) - 9.0) / 5.0))
    # A verb with its result (关掉, 办完, 送到, 卖到, 改成) is rarer as a word than its verb is, yet as everyday: a
    # question says 关掉 or 办完 where an article says 暂停 or 办理.
    if len(word) == 2 and word[1] in _RESULTS and is_verb(word) and is_verb(word[0]):
        return min(own, specificity(word[0]))
    return own


# Result complements that make a verb compound (关掉, 办完, 送到).
_RESULTS = frozenset("掉到完好住走成")


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """Identifies what :func:`tokenize` emits: its version, jieba's, the user dictionary and the stop words.

    Recorded in the index manifest, so editing ``userdict.txt`` makes the index ask to be rebuilt.
    """
    h = hashlib.sha256()
    for part in (str(TOKENIZER_VERSION), metadata.version("jieba"), _resource("userdict.txt"),
                 _resource("stopwords.txt")):
        h.update(part.encode("utf-8"))
        h.update(b"\x00")
    return f"jieba-search-v{TOKENIZER_VERSION}-{h.hexdigest()[:12]}"
