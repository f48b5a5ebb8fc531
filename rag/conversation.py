"""Follow-up questions in a conversation: "那明年呢？" after "今年民心工程有多少项？" asks about 民心工程 again.

A follow-up leaves out what the previous question already named. It is told apart by a cue ("那…", "…呢",
"what about …") or by naming at most one thing the previous question did not, and is resolved by carrying
the previous question's focus terms — its content words, as :func:`rag.tokenize.tokenize` cuts them, without
question words — over to it. A time word in the follow-up ("明年", "next year") replaces the previous one
instead of joining it. A follow-up with no word that asks ("那手机呢？" after "汽车以旧换新补贴多少钱？") asks what
the previous one asked: its asking phrase ("多少钱") is carried too, so the answer is again an amount. Chains
resolve in order: a third question builds on the resolved second one. A question in the other language starts
afresh.

One question may ask several things in turn ("天津港有多少条集装箱航线？一年吞吐量多少？", "When was the plan approved,
and how large is its area?"): :func:`question_parts` splits it, each later part carrying the earlier parts'
content words as a follow-up carries the previous question's, so each part can be answered on its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from rag import query
from rag.records import ResolvedQuestion
from rag.tokenize import dictionary_words, has_chinese, tokenize

# Words that ask rather than name: rag.query's, and a few more that follow-ups use ("一共几次？", "怎么办？") and
# English ones (English focus terms are carried too: the follow-up is resolved before it is analysed).
_ASKING = """
何时 何地 问题 时候 几次 一共 总共 多少钱 怎么办 处理 能够 多少项
what which who whom whose when where why how many much does did do is are was were can could should would will
there their about tell please know have has had this that these those get any some
"""
QUESTION_WORDS = query.QUESTION_WORDS | frozenset(_ASKING.split())
# Words of time: a follow-up that names one asks about another time, so the previous one is not carried.
_TIMES = """
今年 明年 去年 前年 后年 今天 明天 昨天 今日 明日 本月 下月 上月 本周 下周 上周 当前 目前 现在 以前 以后
this next last year years month week today tomorrow yesterday now
"""
TIME_WORDS = frozenset(_TIMES.split())
_YEARISH = re.compile(r"^(\d{2,4}年?|\d{1,2}月|\d{1,2}日|\d{4})$")
_CUE_START = re.compile(r"^\s*(那如果|那么|那|还有|另外|再问|如果是|如果|要是|and\b|what about\b|how about\b|"
                        r"what if\b|also\b)[\s,，]*", re.I)
_HYPHENATED = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)+")
_CUE_END = re.compile(r"(呢|呢吗)\s*[？?。.!！]*\s*$")
# Where one asked part ends and the next begins: after a question mark outside a title, quotation or bracket
# (these open and close them), in English before ", and how…" (", and is…", ", and tell me…"), and in Chinese
# after a comma between two clauses that ask (see _clauses_asking).
_OPENING, _CLOSING = "《“‘「『（(【", "》”’」』）)】"
_EN_ASKS = (r"(?:how|what|when|which|who|whom|where|why|is|are|was|were|does|do|did|can|could|will|would|should|"
            r"has|have)")
# The next part may open with a request (", and tell me about…") or with a clause before its question word (", and
# if the family doesn't pick up, who follows up?", ", and according to the press conference, how many…").
_ENGLISH_PART = re.compile(rf",\s*and\s+(?={_EN_ASKS}\b|(?:tell|give|{query.ACCOUNT_VERBS})\b|"
                           rf"(?:if|according to|besides|while|apart from|under|after|before)\b[^,?]{{0,120}},\s*"
                           rf"{_EN_ASKS}\b)", re.I)
_CLAUSE_BREAK = re.compile(r"(?<=[，,；;])")  # a comma or a semicolon
# A number of one or two digits, alone: a piece of a date (2 and 6 of 2月6日), which a later part does not carry.
_BARE_NUMBER = re.compile(r"^\d{1,2}$")


# Words that point back at something named before: 它, 其, 该, 这款, 这次; it, its, they. Whole words only: not 应该,
# 其他, 因此, nor "this year" or "are there".
_POINTER = re.compile(r"^(?:它们?|其|该|此|[这那][款个些次项家所位种座条只批里])$")
_POINTER_EN = re.compile(r"\b(?:it|its|they|their|them)\b", re.I)


def points_back(question: str) -> bool:
    """True when ``question`` points back at something named before it ("how large is its area?", 会先装在这款车上？):
    it is no question of its own."""
    if query.is_english(question):
        return _POINTER_EN.search(question) is not None
    words = dictionary_words(query.simplified(question))
    # jieba keeps 这次 whole but cuts 这款 in two: a demonstrative is read with the word after it.
    return any(_POINTER.match(w) or _POINTER.match(w + after) for w, after in zip(words, [*words[1:], ""], strict=True))


def is_time(term: str) -> bool:
    """True when ``term`` names a time (今年, 2026年, next, 3月): a later question may ask about another one."""
    return term in TIME_WORDS or _YEARISH.match(term) is not None


def content_words(question: str) -> list[str]:
    """The content words of ``question`` in order, longest first where jieba's search mode cut overlapping ones.

    Chinese words of two or more characters (Traditional ones simplified) and Latin words of three or more
    letters (or any number), less :data:`QUESTION_WORDS`; a word inside a longer kept word ("民心" in "民心工程")
    is left out. Unlike ``rag.query.focus_terms`` it keeps English words: an English follow-up carries them, a
    hyphenated one whole ("trade-in", not "trade": that is another word).
    """
    text = query.without_particles(query.simplified(question))
    compounds = [m.group().lower() for m in _HYPHENATED.finditer(text)]
    words = []
    for t in dict.fromkeys([*query.numbered(tokenize(_HYPHENATED.sub(" ", text))), *compounds]):
        if t in QUESTION_WORDS:
            continue
        if has_chinese(t) and len(t) < 2:
            continue
        if not has_chinese(t) and not t.isdigit() and len(t) < 3:
            continue
        words.append(t)
    kept: list[str] = []
    for t in sorted(words, key=len, reverse=True):
        if not any(t in k for k in kept):
            kept.append(t)
    lowered = text.lower()
    return sorted(kept, key=lambda t: (lowered.find(t), words.index(t)))  # in the question's order


def is_follow_up(question: str, context: Sequence[str] = ()) -> bool:
    """True when ``question`` leans on the one before: it has a cue ("那…", "…呢", "what about"), or names at
    most one focus term that is not already among the earlier question's ``context`` terms."""
    if _CUE_START.search(question) or _CUE_END.search(question):
        return True
    return len([t for t in content_words(question) if t not in context]) <= 1


def _replaced(term: str, own: Sequence[str]) -> bool:
    """True when the follow-up's own words replace ``term``, as a time word replaces a time word: a numbered name
    one of its kind (那6号线呢？ after 地铁8号线…: line 6, not lines 6 and 8), a bare number a bare number."""
    m = query.NUMBERED_NAME.match(term)
    if m is not None:
        return any((o := query.NUMBERED_NAME.match(t)) is not None and o["kind"] == m["kind"] for t in own)
    return term.isdigit() and any(t.isdigit() for t in own)


def _carried(context: Sequence[str], asked: str, own: Sequence[str]) -> list[str]:
    """The terms of ``context`` that ``asked`` (with its content words ``own``) leans on without naming: not those
    it names, inside a word or not, nor a time when it names another, nor a number or numbered name it replaces."""
    lowered = asked.lower()
    replaces_time = any(is_time(t) for t in own)
    return [t for t in context
            if t not in lowered and not (replaces_time and is_time(t)) and not _replaced(t, own)
            and not any(t in o for o in own)]


def _without_cue(question: str) -> str:
    """``question`` without the words that mark it a follow-up ("And what about trucks?" → "trucks?")."""
    while (m := _CUE_START.match(question)) is not None and m.end() > 0:
        question = question[m.end():]
    return question


def resolve(questions: Sequence[str]) -> ResolvedQuestion:
    """The last of ``questions`` (the user's turns, oldest first) as a question that stands on its own.

    A follow-up gets the earlier focus terms it does not already name, in front of it:
    ``["今年民心工程有多少项？", "那明年呢？"]`` → ``"民心工程 那明年呢？ 多少项"``.
    """
    if not questions:
        raise ValueError("no question to resolve")
    context: list[str] = []
    resolved = ResolvedQuestion(question=questions[0], asked=questions[0])
    # What the question in force asks for (多少项), which a follow-up that asks nothing of its own asks again, and
    # whether the conversation is in English.
    asking, english_chain = "", False
    for i, asked in enumerate(questions):
        own, english = content_words(asked), query.is_english(asked)
        # A question in the other language starts afresh: English words carried into a Chinese question (or the
        # reverse) would change the language it is read, and answered, in.
        if i == 0 or english != english_chain or not is_follow_up(asked, context):
            resolved = ResolvedQuestion(question=asked, asked=asked)
            context = own
            asking, english_chain = query.asking(asked) or "", english
            continue
        carried = _carried(context, asked, own)
        own_asking = query.asking(_without_cue(asked))
        inherited = asking if own_asking is None else ""
        question = f"{' '.join(carried)} {asked}" if carried else asked
        if inherited:  # where each language asks: Chinese at the end (…多少钱), English first (How much …)
            question = f"{inherited} {question}" if english else f"{question} {inherited}"
        resolved = ResolvedQuestion(question=question, asked=asked, carried=carried, asking=inherited)
        context = carried + own
        if own_asking is not None:  # a question of its own, even yes/no (那手机能领吗？): the old phrase is over
            asking = own_asking
    return resolved


def _pieces(question: str) -> list[str]:
    """``question`` cut after each question mark that stands outside a title, quotation or bracket (《如何建设…？…》
    is one name; so is "…？…" between straight quotes), in English also before ", and how…", in Chinese after a
    comma between clauses that ask (``_clauses_asking``)."""
    pieces, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(question):
        if ch in _OPENING:
            depth += 1
        elif ch in _CLOSING:
            depth = max(0, depth - 1)
        elif ch == '"':  # opens and closes alike
            quoted = not quoted
        elif ch in "？?" and depth == 0 and not quoted:
            pieces.append(question[start:i + 1])
            start = i + 1
    pieces.append(question[start:])
    english = query.is_english(question)
    mark = "?" if english else "？"
    out = []
    for piece in pieces:
        cut = _english_asking(piece) if english else _clauses_asking(piece)
        # One cut off before a comma asks as a question does, with its question mark (read without it, "How much
        # is the agreement worth" is no question to the reader).
        out += [c.rstrip().rstrip("，,；;") + mark for c in cut[:-1]] + cut[-1:]
    return [p.strip() for p in out if p.strip()]


def _english_asking(piece: str) -> list[str]:
    """``piece`` cut before each ", and how…" (", and is…", ", and tell me…", ", and if …, who…") that follows words
    asking something: "When does it open, and how much is it?" asks two things, "I bought a phone in February, and
    is the subsidy 15 percent?" one. A part cut off opens with a capital, as a question asked alone does: the
    embedding model reads "how much is…" apart from "How much is…" (P(answerable) 0.39 against 0.17 for one
    question the articles do not answer)."""
    out, start = [], 0
    for m in _ENGLISH_PART.finditer(piece):
        if query.asking(piece[start:m.start()]) is not None:
            out.append(piece[start:m.start()])
            start = m.end()
    return [p if i == 0 else p[:1].upper() + p[1:] for i, p in enumerate([*out, piece[start:]])]


def _clauses_asking(piece: str) -> list[str]:
    """``piece`` cut after each comma that ends a clause asking something (``rag.query.asks_in_chinese``) when one
    after it asks too: 天津动物园几点开门，地铁8号线有多少座车站？ asks two things; 抵押手续都办完了，公积金贷款多久能
    放下来？ one (its first clause asks nothing), and so do 如果…，有效期到什么时候？ and 无论哪个区，都能申请吗？."""
    clauses = _CLAUSE_BREAK.split(piece)
    asks = [query.asks_in_chinese(c) for c in clauses]
    out = [clauses[0]]
    asked = asks[0]  # whether the part being gathered asks yet
    for i, clause in enumerate(clauses[1:], start=1):
        if asked and any(asks[i:]):
            out.append(clause)
            asked = asks[i]
        else:
            out[-1] += clause
            asked = asked or asks[i]
    return out


def question_parts(question: str, details: Callable[[str], Sequence[str]] | None = None) -> list[ResolvedQuestion]:
    """The questions ``question`` asks one after another, each made to stand on its own; one for most questions.

    ``"天津港现在有多少条集装箱航线？一年吞吐量多少？"`` → ``"天津港现在有多少条集装箱航线？"`` and
    ``"天津港 现在 一年吞吐量多少？"`` (asked: ``"一年吞吐量多少？"``): a later part gets the earlier parts' content
    words it does not name, as a follow-up gets the previous question's (a time it names replaces theirs), in front
    of it; not what they asked about (``details``: 集装箱, 航线), nor the bare numbers of a date (2 and 6 of 2月6日).
    A piece that asks nothing (简单讲讲。) or names nothing (为什么？) belongs to the part before it; one that names
    nothing before any part does (你知道吗？) to the part after it.
    """
    whole = [ResolvedQuestion(question=question, asked=question)]
    pieces = _pieces(question)
    if len(pieces) < 2:  # most questions: no word of them need be read here
        return whole
    parts: list[str] = []
    waiting = ""  # a piece that names nothing, before any part
    space = " " if query.is_english(question) else ""
    for piece in pieces:
        names = bool(content_words(piece))
        if parts and (not names or query.asking(piece) is None):
            parts[-1] += space + piece
        elif not names:
            waiting += piece + space
        else:
            parts.append(waiting + piece)
            waiting = ""
    if len(parts) < 2:
        return whole
    words = [content_words(p) for p in parts]
    out = [ResolvedQuestion(question=parts[0], asked=parts[0])]
    earlier: list[str] = []
    for i, part in enumerate(parts[1:], start=1):
        asked_about = set(details(parts[i - 1])) if details else set()
        earlier = list(dict.fromkeys([*earlier, *(t for t in words[i - 1]
                                                  if t not in asked_about and not _BARE_NUMBER.match(t))]))
        carried = _carried(earlier, part, words[i])
        out.append(ResolvedQuestion(question=f"{' '.join(carried)} {part}" if carried else part, asked=part,
                                    carried=carried))
    return out
