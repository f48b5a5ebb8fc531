"""Question analysis: one question in, what retrieval and the reader need out.

- the script is normalised (Traditional → Simplified, OpenCC), so every reader finds the same passages;
- English questions get Chinese search terms (``rag.translate``), since the articles are Chinese;
- the expected answer type (a time, a quantity, a place, a body, a procedure, yes/no, a list…);
- the focus terms: the content words the answer must be about, without question words;
- a date or period the question names (``rag.dates``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from rag.dates import DateRange, interpret, names_festival, years_named
from rag.records import Interpretation
from rag.tokenize import (
    dictionary_words,
    has_chinese,
    in_dictionary,
    is_function_word,
    is_noun,
    part_of_speech,
    tokenize,
    words,
)
from rag.translate import FUNCTION, PinyinIndex, Relatedness, TermMatch, headwords, latin_aliases, translate

AnswerType = Literal["time", "duration", "quantity", "contact", "place", "body", "person", "procedure", "reason",
                     "yesno", "list", "other"]

# Words that ask rather than say: never focus terms (the answer will not contain them).
QUESTION_WORDS = frozenset("""
什么 什么样 哪些 哪个 哪家 哪里 哪儿 哪天 哪一天 哪年 哪位 哪几 哪种 谁 多少 多久 多长
多大 多高 几 几个 几项 几天 几年 几月 几号 几点 怎么 怎么样 怎样 如何 为什么 为何 是否
能否 可否 能不能 可不可以 是不是 会不会 有没有 要不要 吗 呢 么 请问 一下 知道 告诉 想问
问问 具体 主要 相关 有关 情况 内容 方面 哪 呀 啊 吧 都 还 又 该 需要 要 能 可以 会
有 是 的 一共 总共 还有
""".split())

# Question words for a time, which jieba may glue to the word after them (哪天开的 → 哪 / 天开 / 的, 天开 being
# 天开园's): the question is cut around them before it is segmented, so 天开 is no focus term of 发布会是哪天开的？.
# (Not 哪几 or 哪些: 哪几类产品 would leave 类产品, 哪些地方 地方.)
_GLUED_QUESTION_WORD = re.compile(r"(哪一?[天年]|几[天年月日号点])")


def question_words(text: str) -> list[str]:
    """:func:`rag.tokenize.words` of ``text``, cut around its question words first (see ``_GLUED_QUESTION_WORD``)."""
    return [w for piece in _GLUED_QUESTION_WORD.split(text) if piece for w in words(piece)]


# 几 as a question word: not after 那, 这 or 好 (这几天 are these days, 那几个口 those few exits).
_ASKING_JI = "(?<![那这好])几"

# Chinese cues of the answer type, most specific first.
_ZH_TYPES: list[tuple[AnswerType, re.Pattern[str]]] = [
    ("reason", re.compile(r"为什么|为何|原因|为啥")),
    ("duration", re.compile(rf"多长时间|多久|多少天|多少年|{_ASKING_JI}(?:天|个月|年(?!级))|多少个?工作日|"
                            r"期限多长|时长")),
    ("time", re.compile(r"什么时候|啥时候?|多会儿|何时|哪天|哪一天|哪年|哪一年|几月|几号|几点|什么时间|几日|日期|"
                        r"哪个月|截至何时|起止")),
    # Asking for a number to call (before 多少: 电话是多少), not about a hotline (12345热线受理了多少件).
    ("contact", re.compile(r"(?:电话|热线|联系方式|号码)(?:号码)?是?(?:多少|什么)|"
                           r"(?:打|拨打?|联系)(?:什么|哪个)(?:电话|热线|号码)|(?:什么|哪个)(?:电话|热线)|联系方式")),
    ("place", re.compile(r"哪里|哪儿|在哪|什么地方|何地|哪个区|哪个地方|地点|地址|位于|哪座城市|哪个城市|"
                         r"哪个(?:村|站|镇|街道|园区|公园|场馆|场所|会场|馆)")),
    ("body", re.compile(r"哪个部门|哪些部门|哪家|什么单位|哪个单位|哪个机构|什么机构|哪些单位|哪些企业|哪个企业|"
                        r"哪个公司|由谁|哪所|哪个学校|哪个医院|哪家医院|牵头")),
    ("person", re.compile(r"谁|哪位|什么人|负责人是")),
    # 哪几个 asks which ones (a list), 几个 how many; 排第几 asks a rank, answered by a number too.
    ("quantity", re.compile(rf"多少|(?<!哪){_ASKING_JI}(?:个|项|家|条|座|所|部|辆|台|万|亿|名|人|次|倍|成|处|批|类|"
                            r"种|级|期|届|节|张|套|间|只|架|艘|件|份|位|层|轮|场|块|岁|户|趟|列|站|公里|千米|米|吨|元)|"
                            r"第几|多大|多高|多远|多重|多快|比例|占比|百分之|几成|金额|额度|标准是|增长了?多少|达到多少|"
                            r"什么水平")),
    ("procedure", re.compile(r"怎么|如何|怎样|咋(?!样)|流程|步骤|手续|需要什么|要带什么|哪些材料|什么材料|"
                             r"怎么办|办理")),
    ("list", re.compile(r"哪些|哪几|包括什么|包含哪些|都有|有哪")),
    ("yesno", re.compile(r"能不能|可不可以|是不是|会不会|有没有|能否|是否|可否|要不要|需不需要|用不用|算不算|行不行|"
                         r"(?<!什)[吗么][？?！!。]*$")),
]
# An auxiliary that opens a sentence (Does…, Can…): a yes/no question, also after a sentence of background.
_EN_AUXILIARY_FIRST = (r"(?:^|[.!?;]\s+)\W*(?:is|are|was|were|can|could|do|does|did|will|would|should|must|has|"
                       r"have|may)\b")
# "What is the ticket price…?", "What's Tianjin's minimum wage?", "What interest rate discount…?": what asks for a
# measure noun, as 多少钱 and 标准是多少 do. The noun must head its phrase (not "the price subsidy", "cost-sharing")
# and stand within a few plain words of what (not "the policy on parking fees", "what caused the growth").
_EN_MEASURE = (r"(?:prices?|costs?|fees?|fares?|rates?|amounts?|numbers?|percentages?|proportions?|ratios?|totals?|"
               r"budgets?|investment|caps?|limits?|ceilings?|maximum|minimum|sizes?|lengths?|heights?|weights?|"
               r"capacity|speeds?|distances?|temperatures?|population|salary|salaries|wages?|income|revenues?|"
               r"output|growth|discounts?|counts?|target|density|densities|"
               # a value is an amount (the contract value), not a belief (core values; what values…)
               r"(?<!what\s)(?<!core\s)(?<!moral\s)(?<!social\s)(?<!shared\s)(?<!cultural\s)(?<!family\s)values?)")
_EN_NOT_MODIFIER = (r"(?:of|on|for|in|at|to|by|with|from|about|the|a|an|my|your|our|his|her|their|its|do|does|did|is|"
                    r"are|was|were|will|can|could|should|would|has|have|had)")
_EN_MODIFIER = rf"(?!{_EN_NOT_MODIFIER}\b)[\w'’&]+(?:-[\w'’&]+)*\s+"  # R&D too
_EN_HEAD_END = (r"(?![\w-])(?=\s*(?:[?？.,;:!]|$)|\s+(?:of|for|on|in|at|per|to|under|across|by|from|with|this|that|"
                r"these|those|now|today|will|would|does|do|did|is|are|was|were|has|have|had|can|could|should|i|we|"
                r"you|they|it|he|she)\b)")
_EN_MEASURE_ASKED = (rf"\bwhat(?:'s|’s|\s+(?:is|are|was|were|will\s+be))\s+(?:(?:the|its|their|a|an)\s+)?"
                     rf"(?:{_EN_MODIFIER}){{0,3}}{_EN_MEASURE}{_EN_HEAD_END}|"
                     rf"\bwhat\s+(?:{_EN_MODIFIER}){{0,3}}{_EN_MEASURE}{_EN_HEAD_END}|"
                     # The most or least of something is an amount, as 最高补贴多少 asks ("the maximum subsidy").
                     rf"\bwhat(?:'s|’s|\s+(?:is|are|was|were|will\s+be))\s+(?:(?:the|its|their)\s+)?"
                     rf"(?:maximum|minimum|max|min)\b(?!\s+(?:requirements?|standards?|conditions?|"
                     rf"qualifications?|criteria)\b)")
_EN_TYPES: list[tuple[AnswerType, re.Pattern[str]]] = [
    ("reason", re.compile(r"^\W*why\b|\bwhat is the reason\b", re.I)),
    # How long a line, a road or a network is asks a length (全长约23公里), not a time: the thing is what the question
    # is about, with no verb after it ("How long will the road be closed?" asks a time).
    ("quantity", re.compile(r"\bhow long (?:is|are|was|were|will be) (?:the |this |that |its |their )?"
                            r"(?:[\w'’–-]+ ){0,6}?(?:lines?|roads?|routes?|tracks?|tunnels?|bridges?|railways?|metro|"
                            r"pipelines?|corridors?|networks?|rivers?|highways?|expressways?|runways?)"
                            r"(?= *(?:\?|$|,|and\b|now\b|in total\b|"
                            r"altogether\b|in\b|of\b|on\b|from\b|between\b))", re.I)),
    ("duration", re.compile(r"\bhow long\b|\bfor how many (?:days|months|years)\b", re.I)),
    ("time", re.compile(r"^\W*when\b|\bwhat time\b|\bwhat date\b|\bwhich day\b|\bwhat day\b|\bwhich month\b|"
                        r"\bwhat year\b|\bby when\b|\bhow soon\b|\bwhen\b", re.I)),
    ("contact", re.compile(r"\b(?:phone|telephone|hotline|helpline|contact|service) numbers?\b|\bnumber to call\b|"
                           r"\bwhat number\b.*\bcall\b|\bhow (?:do|can) (?:i|we) (?:call|phone|contact)\b", re.I)),
    ("place", re.compile(r"^\W*where\b|\bwhich (?:district|city|place|village|station|town|county|road|street)\b|"
                         r"\bwhere\b", re.I)),
    ("body", re.compile(r"\bwhich (?:department|agency|bureau|company|companies|organi[sz]ation|body|bodies|hospital|"
                        r"school|bank|banks|university|enterprise|firm|institution|office|authority|restaurant)\b",
                        re.I)),
    ("person", re.compile(r"^\W*who\b|\bwhom\b|\bwhose\b|\bwho\b|\bwhich (?:minister|official|leader|mayor|"
                          r"governor|secretary|expert|scientist|professor|academician|chairman|director|head|"
                          r"person|people)\b", re.I)),
    ("quantity", re.compile(r"\bhow (?:many|much|big|large|high|far|fast|deep|precise|old|heavy|tall|"
                            r"wide)\b|\bwhat (?:percentage|"
                            r"share|proportion|rate|level|amount|number)\b|\bby how much\b|"
                            + _EN_MEASURE_ASKED, re.I)),
    ("procedure", re.compile(r"\bhow (?:do|can|should|could|would) (?:i|we|you|one|people)\b|\bhow to\b|"
                             r"\bwhat (?:documents|materials|papers)\b|\bwhat do i need\b|\bsteps\b", re.I)),
    ("yesno", re.compile(_EN_AUXILIARY_FIRST, re.I)),
    ("list", re.compile(r"^\W*(?:which|what are|what kinds?|what types?|list)\b|\bwhich\b", re.I)),
]
# The words that open an English question: an auxiliary first (Does…, Can…) or a question word.
_EN_QUESTION_WORD = re.compile(_EN_AUXILIARY_FIRST + r"|\b(?:what|which|how|why|who|whom|whose|when|where)\b", re.I)
# A bare when/where/who/which asks only as the question's first question word; after another it opens a clause
# (Does that loan count when I apply…? What do I need when applying…? the people who…).
_EN_CLAUSE_WORDS = {"when", "where", "who", "whom", "whose", "which"}


@dataclass(frozen=True)
class Query:
    """An analysed question."""

    text: str  # as asked
    search_text: str  # what is embedded: Simplified characters; English with its Chinese terms appended
    language: Literal["zh", "en"]
    traditional: bool  # asked in Traditional characters
    terms: tuple[str, ...]  # lexical search tokens (Chinese; translated for English questions)
    focus: tuple[str, ...]  # content terms the answer must be about
    answer_type: AnswerType
    # The focus terms next to what is asked (公积金贷款最高能贷多少 → 最高): the detail an answer must name.
    key: tuple[str, ...] = ()
    # English phrases and their Chinese terms; in a Chinese question, Latin terms and their Chinese renderings.
    translations: tuple[TermMatch, ...] = ()
    dates: DateRange | None = None
    notes: dict[str, str] = field(default_factory=dict)
    years: tuple[int, ...] = ()  # the years the question asks about (2025年, 去年 → 2025)

    @property
    def names_nothing(self) -> bool:
        """True when the question has no term to search for (hello, thanks), or is one character over and over
        (地地地…, 哈哈哈哈: jieba makes words of it): no passage can answer it."""
        return not self.terms or len({c for c in self.text.lower() if c.isalnum()}) == 1

    def interpreted(self) -> Interpretation | None:
        """The date the question names, as responses report it."""
        d = self.dates
        return Interpretation(date_from=d.date_from, date_to=d.date_to, source=d.source) if d else None


@cache
def _opencc(config: str) -> Callable[[str], str]:
    """One OpenCC converter per configuration, made on first use."""
    import opencc

    return opencc.OpenCC(config).convert


def traditional(text: str) -> str:
    """``text`` in Traditional characters (for what the service writes itself to a Traditional question)."""
    return _opencc("s2t")(text)


def simplified(text: str, document_frequency: Callable[[Sequence[str]], list[int]] | None = None) -> str:
    """``text`` in Simplified characters; Simplified Chinese and Latin text come back unchanged.

    Characters are converted one for one (t2s). Taiwan phrasing is mapped too (tw2sp: 軟體 → 软件, 專案 → 项目) only
    when the corpus (``document_frequency``) uses more of its words: tw2sp also rewrites words both sides share,
    新增 → 添加 and 聯絡 → 联系, and a question would then ask for words the articles never use."""
    if not has_chinese(text):
        return text
    characters = _opencc("t2s")(text)
    if characters == text or document_frequency is None:
        return characters
    phrased = _opencc("tw2sp")(text)
    if phrased == characters:
        return characters

    def unknown(candidate: str) -> int:
        found = words(candidate)
        return sum(df == 0 for df in document_frequency(found)) if found else 0

    return phrased if unknown(phrased) < unknown(characters) else characters


# A particle that ends a question or a clause (那6号线呢？, 可以吗): jieba, not knowing it, glues it to the word before
# (线呢), which would then read as a term the articles lack.
# (Not 吧: 酒吧, 网吧 and 书吧 are things asked about.)
_PARTICLE = re.compile(r"(?<=[\u4e00-\u9fff\w])(?:呢|吗|啊|呀|嘛)+(?=\s*(?:[？?。！!，,；;]|$))")


def without_particles(text: str) -> str:
    """``text`` without the modal particles that end its questions and clauses (for cutting it into words)."""
    return _PARTICLE.sub("", text)


def is_english(text: str) -> bool:
    """True when the question is mostly Latin letters (answers follow the question's language)."""
    letters = sum(c.isascii() and c.isalpha() for c in text)
    cjk = sum("\u4e00" <= c <= "\u9fff" for c in text)
    return letters > 2 * cjk


def written_in(question: str) -> str:
    """The language and script the service answers ``question`` in: ``en``, ``zh``, or ``zh-Hant`` when it is
    asked in Traditional characters (as :attr:`Query.traditional` reads it: some character has a Simplified form)."""
    if is_english(question):
        return "en"
    return "zh-Hant" if simplified(question) != question else "zh"


# Words that ask for no one kind of answer; 哪两个方向, 哪九方面 ask which ones.
_ZH_ASKING = re.compile(r"有什么|什么|怎样|如何|哪[两二三四五六七八九十\d]")
# A Chinese clause that asks holds a question word: 几 (not 几乎 "almost", 几十 "dozens", 这几天 "these days"),
# 哪 (not 哪怕 "even if"),
# 谁, 多少, 什么, 怎么, 如何, 是否, 多久…, or asks A-not-A (能不能, 需不需要, 有没有). A noun that names what is asked
# (手续) is no question word, and after 无论/不管/即使… one asks nothing (无论哪个区，都能申请吗？ asks one thing).
_ZH_QUESTION_WORD = re.compile(rf"{_ASKING_JI}(?![乎十百千万])|哪(?!怕)|[谁啥吗咋]|多少|什么|怎么|怎样|如何|是否|"
                               r"[能可]否|有没有|(.)不\1|多[久长大高远]")
_CONCESSIVE = re.compile(r"^\s*(?:无论|不论|不管|哪怕|即使|即便|就算|纵然)")
_EN_ASKING = re.compile(r"\bwhat\b|\bhow\b", re.I)


def answer_type(question: str, english: bool) -> AnswerType:
    """What kind of answer the question expects."""
    return _asked(question, english)[0]


def _asked(question: str, english: bool) -> tuple[AnswerType, int]:
    """The answer type and where in the question it is asked: at its cue; with none, at a question word that names
    no type (有什么消息, what news), else at the end before the question mark (the last clause holds the detail)."""
    kind, start, _ = _cue(question, english)
    return kind, start


# An English question asked indirectly: what follows is the question (Can you tell me when it starts?).
_EN_INDIRECT = re.compile(r"^\W*(?:(?:can|could|would|will) you (?:please )?(?:tell|let) (?:me|us)(?: know)?|"
                          r"(?:do|does) (?:you|anyone) know|i (?:want|would like|wonder|need) to know)\b", re.I)


def _cue(question: str, english: bool) -> tuple[AnswerType, int, int]:
    """The answer type with the span of the words that ask for it (see :func:`_asked`); for "other", the span of a
    question word that names no type, or an empty span at the end when no word asks."""
    indirect = _EN_INDIRECT.match(question) if english else None
    if indirect and question[indirect.end():].strip(" ?？"):
        kind, start, end = _cue(question[indirect.end():], english)
        return kind, start + indirect.end(), end + indirect.end()
    first = _EN_QUESTION_WORD.search(question) if english else None
    for kind, pattern in _EN_TYPES if english else _ZH_TYPES:
        for m in pattern.finditer(question):
            if first is not None and m.group().strip().lower() in _EN_CLAUSE_WORDS and m.start() > first.start():
                continue
            return kind, m.start(), m.end()
    m = (_EN_ASKING if english else _ZH_ASKING).search(question)
    if m:
        return "other", m.start(), m.end()
    at = len(question.rstrip("？?。.！! "))
    return "other", at, at


def asks_in_chinese(clause: str) -> bool:
    """Whether a Chinese clause (Simplified or Traditional) asks something: it holds a question word, and not after
    无论, 不管, 即使… (see ``_ZH_QUESTION_WORD``)."""
    text = simplified(clause)
    return _ZH_QUESTION_WORD.search(text) is not None and not _CONCESSIVE.match(text)


# English verbs that ask for an account of something ("Summarise…", "Explain…"); rag.conversation also cuts a
# message before ", and" one of them.
ACCOUNT_VERBS = r"summari[sz]e|describe|explain|outline"
# A request for an account of something asks, for no one kind of answer: "Tell me about…", "Summarise…", 介绍一下….
_REQUEST = re.compile(rf"^\W*(?:(?:please|can you|could you|would you)\s+)?(?:tell (?:me|us) (?:about|more)|"
                      rf"give (?:me|us) (?:an? )?(?:overview|summary|rundown|brief)|{ACCOUNT_VERBS}|introduce)\b|"
                      r"^\W*(?:请|麻烦)?(?:你)?(?:给我|跟我|帮我)?(?:简单|大概)?(?:介绍|讲讲|讲一讲|说说|说一说|谈谈|"
                      r"概括|总结|简述|描述)", re.I)


# What a request that points back at the question before it opens with (这个政策, it, the steps).
_POINTS_BACK = re.compile(r"[这那该此其][个项些种条份]?|(?:it|this|that|these|those|them|the steps|briefly|more)\b",
                          re.I)


def _request_end(text: str) -> int | None:
    """Where the request ends when ``text`` asks for an account of something it names (介绍一下鼓楼的历史, "Tell me
    about the Drum Tower": what follows names it), else None. 简单讲讲 names nothing, and 介绍一下这个政策 or "explain
    it" point back: each asks how the question before it be answered."""
    m = _REQUEST.match(text)
    rest = text[m.end():].strip(" 。.！!？?，,一下吧呢") if m else ""
    return m.end() if m and len(rest) >= 2 and not _POINTS_BACK.match(rest) else None


def _requests(text: str) -> bool:
    """True when ``text`` asks for an account of something it names (see :func:`_request_end`)."""
    return _request_end(text) is not None


def asking(question: str) -> str | None:
    """The words of ``question`` that ask for a kind of answer: in Chinese the cue and the word after it, the
    measure word or noun it asks with (今年民心工程有多少项？ → 多少项, 什么时间段免费？ → 什么时间段), in English the
    question words ("How much is the subsidy?" → How much). "" when it asks, but for no kind (什么, 哪个学院, what,
    介绍一下…, "Tell me about…") or only yes or no (吗, 有没有, is…); None when no word in it asks (那明年呢？, what
    about phones? without its cue).
    Chinese comes back Simplified."""
    english = is_english(question)
    normal = question if english else simplified(question)
    kind, start, end = _cue(normal, english)
    if end == start:  # no cue: a question word that names no kind of answer still asks (哪个矿区, 找谁)
        return "" if (not english and asks_in_chinese(normal)) or _requests(normal) else None
    if kind in ("other", "yesno"):
        return ""
    if english:
        return normal[start:end].strip()
    clause_end = next((m.start() for m in _CLAUSE.finditer(normal, end)), len(normal))
    phrase = ""
    for word in dictionary_words(normal[start:clause_end]):  # whole words, up to one past the cue
        phrase += word
        if len(phrase) > end - start:
            break
    return phrase.strip()


_CLAUSE = re.compile(r"[，,。？?！!；;：:]")
# Parts of speech that say when, where from or how, never what detail is asked: times (现在, 今年), locatives
# (最近, 以后), pronouns (每个), prepositions (经过), conjunctions, particles, classifiers, adverbial adjectives
# (正式). Adverbs (分别, 大概) and numerals (一年) too, but not the words jieba files under them that name a
# thing: 首套, 首届 (numerals), 一期 (an adverb, to jieba).
_NOT_KEY = ("t", "f", "r", "p", "c", "u", "q", "ad")
_NUMBER = re.compile(r"^[\d零〇一二两三四五六七八九十百千万亿几每]+[年月日天周个次届期批项位名家号岁]?$")
_NUMERAL_START = re.compile(r"^[\d零〇一二两三四五六七八九十首]")


def counted(term: str, question: str) -> bool:
    """True when ``term`` is the count a question or pointing word goes with in ``question`` (Simplified: 哪两家 →
    两家, 哪一站 → 一站, 这两家 → 两家): it helps find the sentence naming them, but is no thing the question is
    about, nor one the articles lack."""
    return part_of_speech(term) == "m" and re.search(f"[哪这那该此]{re.escape(term)}", question) is not None


# A superlative qualifies the asked amount and names no detail: 公积金贷款最高能贷多少？ asks about the loan, and
# 最高800元 of an elderly-care subsidy does not answer it.
_SUPERLATIVE = re.compile(r"^最[高低多少大小长短早晚快慢]$")


def can_name_detail(term: str) -> bool:
    """False for a word that cannot be the asked detail: a time, a place relation, an adverb, a bare number, a
    superlative…"""
    if _SUPERLATIVE.match(term):
        return False
    tag = part_of_speech(term) or ""
    if tag.startswith(_NOT_KEY):
        return False
    if tag == "d":
        return bool(_NUMERAL_START.match(term))
    return not (tag == "m" and _NUMBER.match(term))


def key_terms(question: str, focus: Sequence[str], asked_at: int) -> tuple[str, ...]:
    """The focus terms nearest to where the question asks, within its clause: the nearest before and after
    (skipping words that cannot name a detail: times, adverbs, pronouns…)."""
    start = max((m.end() for m in _CLAUSE.finditer(question, 0, asked_at)), default=0)
    end = next((m.start() for m in _CLAUSE.finditer(question, asked_at)), len(question))
    before, after = None, None
    for term in (t for t in focus if can_name_detail(t)):
        for m in re.finditer(re.escape(term), question[start:end]):
            at = start + m.start()
            if at < asked_at and (before is None or at > before[1]):
                before = (term, at)
            elif at >= asked_at and (after is None or at < after[1]):
                after = (term, at)
    return tuple(dict.fromkeys(found[0] for found in (before, after) if found is not None))


# A word that asks (多少钱, 哪几个, 什么时候, 多长时间) or points back at the conversation (这次, 那个) is not a focus
# term.
_ASKING = re.compile(r"[哪几]|多少|^多[长久大远高快重]|什么|怎么|如何|为何|时候|^[这那此该][次个些项里件种位]")
# A modal fused to a verb by jieba (能贷, 能领, 要交) says no more than the verb; fused to the locative before it
# (多长时间内能做 → 内能, physics' internal energy) it says nothing. (Not 需: 内需 and 外需 are demand.)
_MODAL = re.compile(r"^(?:能|可|要|会|需|得|该)(?=[\u4e00-\u9fff]$)|^[内后前中里外时][能可要会该]$")
# A verb asked A-not-A (算不算, 有没有) asks yes or no; one thing counted (一辆, 一次, 一个) counts nothing
# asked about (not 一件, 一家: the 一件事 service, 一家人). Neither names anything a passage must mention (it read
# 找到的段落没有提到：算不算).
_A_NOT_A = re.compile(r"^(.)[不没]\1")
_ONE_OF = re.compile(r"^一[个辆次张台位名套户份]$")


# What a number names rather than counts when it stands right before one of these words: 6号线 is not 8号线, the
# 117项目 is one project (100个项目 counts them).
PROJECT = "项目"
NUMBERED_KINDS = ("号线", "号楼", "号院", "期", "届", PROJECT)
# A numbered name as one term (6号线), its kind a group; written with any other number it names another thing.
NUMBERED_NAME = re.compile(rf"^(?P<number>\d+)(?P<kind>{'|'.join(NUMBERED_KINDS)})$")


def names(text: str, term: str) -> bool:
    """True when ``text`` names ``term``: as a substring, and for a numbered name with that very number (6号线
    is not in 16号线)."""
    if NUMBERED_NAME.match(term):
        return re.search(rf"(?<![\d.]){re.escape(term)}", text) is not None
    return term in text


# One or more capital letters, each naming one of several things of a kind written right after them: J口, H、G出入口,
# A座 (not 5G网络: a letter stands alone).
_LETTERED = re.compile(r"(?<![A-Za-z0-9])(?P<letters>[A-Z](?:\s*[、和与及/]\s*[A-Z])*)(?=[\u4e00-\u9fff])")
# How far after the letters their kind's word is looked for (出入口 is three characters; jieba needs a few more).
_KIND_REACH = 8


def lettered(text: str) -> list[tuple[frozenset[str], str]]:
    """The lettered names of ``text``: for each run of letters, the letters and the word of their kind after them
    (文化中心站J口 → ({J}, 口); H、G出入口 → ({H, G}, 出入口))."""
    out = []
    for m in _LETTERED.finditer(text):
        kind = next(iter(words(text[m.end() : m.end() + _KIND_REACH])), "")
        if kind:
            out.append((frozenset(re.findall(r"[A-Z]", m["letters"])), kind))
    return out


def same_kind(a: str, b: str) -> bool:
    """True when two words name one kind of thing: they end alike, as a Chinese compound ends with what it is
    (口, 出口 and 出入口 are all 口; 座 and 区 are not)."""
    return a[-1:] == b[-1:] != ""


def numbered(words: Sequence[str], joinable: Sequence[bool] | None = None) -> list[str]:
    """``words`` with a number joined to the word after it when together they name one thing (6, 号线 → 6号线):
    cut apart, a question about line 6 would read as one about any line. ``joinable``, when given, says of each
    word whether it may join the number before it."""
    out: list[str] = []
    for i, w in enumerate(words):
        if out and out[-1].isdigit() and w in NUMBERED_KINDS and (joinable is None or joinable[i]):
            out[-1] += w
        else:
            out.append(w)
    return out


def _numbered_names(matches: Sequence[TermMatch]) -> list[str]:
    """The Chinese words of an English question's phrases, a number joined to the phrase after it when that is a
    name, written with a capital, of a kind a number names (the 117 Project → 117项目; "5 projects" stay apart)."""
    cut: list[str] = []
    joinable: list[bool] = []
    for m in matches:
        own = words(m.chinese[0])
        cut += own
        # Within a phrase (a pattern's 8号线) always; the phrase's first word only when it is a capitalised name.
        joinable += [i > 0 or m.english[:1].isupper() for i in range(len(own))]
    return numbered(cut, joinable)


# The first characters of pointing words: 这款, 那家, 该项, 此次, 其三.
_POINTING = frozenset("这那该此其")


def focus_terms(words: Sequence[str]) -> tuple[str, ...]:
    """The content terms among ``words`` (jieba's precise cut): no question words, no single characters, no
    pointing pronouns (这款, 该项: what they point at is named apart, or not at all; jieba's tag r, which 每月 and
    本科 also get, or mq for one with its measure word: 那条, 这辆)."""
    out = []
    for w in words:
        if w in QUESTION_WORDS or _ASKING.search(w) or _MODAL.search(w) or len(w) < 2:
            continue
        if _A_NOT_A.match(w) or _ONE_OF.match(w):
            continue
        if has_chinese(w) and w[0] in _POINTING and part_of_speech(w) in ("r", "mq"):
            continue
        # Latin words count when they name something (Z2, 5G, AI), not when they are English prose.
        if has_chinese(w) or (re.search(r"\d", w) and len(w) <= 6) or (w.isalpha() and w.isascii() and len(w) <= 3):
            out.append(w)
    return tuple(dict.fromkeys(out))


# Between two adjacent phrases of one noun group: "football pitches", "interest rate subsidy".
_JOINED = re.compile(r"^[\s-]*$")


def _english_key(question: str, matches: Sequence[TermMatch]) -> tuple[str, ...]:
    """English names the detail right after asking ("how many football pitches…"): the first group of adjacent
    phrases from where the question asks (else from its start) that can name a detail (not "while" → 当时,
    "four" → 四), all of it, since its last word is the head (pitches) and its first a modifier (football)."""
    placed = []
    cursor = 0
    for m in matches:
        # Whole words only ("port" is not in "importance"); phrases come in question order after the patterns
        # (Line 8, Level II), so each is looked for after the one before.
        pattern = r"(?<![\w-])" + r"\W+".join(map(re.escape, m.english.split())) + r"(?![\w-])"
        found = re.compile(pattern).search(question, 0 if m.source == "pattern" else cursor)
        if found is None:
            continue
        if m.source != "pattern":
            cursor = found.end()
        if m.source != "number":
            placed.append((found.start(), found.end(), m))
    groups: list[tuple[int, list[str]]] = []
    end = -1
    for start, stop, m in sorted(placed, key=lambda p: p[0]):
        named = [t for t in focus_terms(words(m.chinese[0])) if can_name_detail(t)]
        if named:
            if groups and end >= 0 and _JOINED.match(question[end:start]):
                groups[-1][1].extend(named)
            else:
                groups.append((start, list(named)))
        end = stop if named else -1
    asked_at = _asked(question, True)[1]
    chosen = next((g for at, g in groups if at >= asked_at), groups[0][1] if groups else [])
    return tuple(dict.fromkeys(chosen))


def _known(focus: tuple[str, ...], document_frequency: Callable[[Sequence[str]], list[int]]) -> tuple[str, ...]:
    """``focus`` with each word jieba's HMM made up (后能储, 提了, 券领) that neither jieba, CC-CEDICT nor any article
    knows split back into its dictionary words: kept whole, it would read as a term the articles lack. Of the
    parts, function words go and nouns stay even of one character (养狗 → 狗: that is what the articles lack)."""
    unknown = [t for t in focus if has_chinese(t) and not in_dictionary(t)]
    if not unknown:
        return focus
    absent = [t for t, df in zip(unknown, document_frequency(unknown), strict=True) if df == 0]
    made_up = {t for t in absent if t not in headwords()} if absent else set()
    out: list[str] = []
    for term in focus:
        if term in made_up:
            out.extend(p for p in dictionary_words(term) if not is_function_word(p)
                       and (len(p) >= 2 or is_noun(p)))
        else:
            out.append(term)
    return tuple(dict.fromkeys(out))


def _undated(question: str, focus: tuple[str, ...], dates: DateRange | None) -> tuple[str, ...]:
    """``focus`` without the words of the date the question names (1月30日 → 30, 上周四, January 31 → 31): a date
    filters when articles were published; it is not a term an answer must contain. Only words wholly within the
    date's place count (12 stays in "2月12日地铁12号线"), and a festival stays a term: articles about it name it
    (春节, 春节假期)."""
    at = question.find(dates.source) if dates is not None else -1
    if at < 0:
        return focus
    end = at + len(dates.source)

    def in_date(term: str) -> bool:
        spots = [m.start() for m in re.finditer(re.escape(term), question)]
        # Overlapping counts too: jieba may cut across the date's edge (上周四 for the date 上周).
        return bool(spots) and all(s < end and s + len(term) > at for s in spots)

    return tuple(t for t in focus if not in_date(t) or names_festival(t))


class QueryStats:
    """What analysis needs from the index: document frequencies, and the corpus's words for names."""

    def __init__(self, document_frequency: Callable[[Sequence[str]], list[int]], vocabulary: Sequence[str]):
        self._df = document_frequency
        self._vocabulary = vocabulary
        self._names: PinyinIndex | None = None

    def term_frequency(self, terms: Sequence[str]) -> list[int]:
        """Document frequency of each Chinese term; a term jieba splits counts as its rarest part."""
        out = []
        for term in terms:
            parts = list(dict.fromkeys(tokenize(term))) or [term]
            out.append(min(self._df(parts)))
        return out

    @property
    def names(self) -> PinyinIndex:
        """The corpus's words by pinyin (built on first use, once per index)."""
        if self._names is None:
            self._names = PinyinIndex(self._vocabulary)
        return self._names


def analyze(question: str, stats: QueryStats, today: dt.date, relatedness: Relatedness | None = None) -> Query:
    """Analyse ``question`` against the index's statistics; ``today`` anchors relative dates; ``relatedness``
    chooses the sense of an English word among the Chinese words the corpus uses (``rag.translate``)."""
    english = is_english(question)
    normal = simplified(question, stats.term_frequency)
    dates = interpret(normal, today)
    if english:
        # Simplified, for the Chinese words an English question may hold (How many stations does 地鐵8號線 have?),
        # those that name something: not a particle (吗) nor a pointing word (这款).
        matches = tuple(m for m in translate(normal, stats.term_frequency, stats.names, relatedness)
                        if m.source != "chinese" or focus_terms(numbered(words(m.chinese[0]))))
        chinese = [c for m in matches for c in m.chinese]
        tokens = [t for term in chinese for t in tokenize(term)]
        # Latin words the articles also use (AI, 5G, App) count as they are.
        latin = [w for w in tokenize(question) if not has_chinese(w) and len(w) >= 2 and w.lower() not in FUNCTION]
        latin = [w for w, df in zip(latin, stats.term_frequency(latin), strict=True) if df > 0]
        terms = tuple(dict.fromkeys(tokens + latin))
        # Each translated phrase counts once: its first (most used) alternative.
        # A number and the name after it may name one thing together (the 117 Project → 117项目; 5 projects count).
        focus = _undated(question, focus_terms(_numbered_names(matches)), dates)
        # The multilingual model reads both: the question, and the Chinese words the articles would use.
        search = " ".join([question, *(m.chinese[0] for m in matches)])
        key = tuple(t for t in _english_key(question, matches) if t in focus)
        return Query(question, search, "en", False, terms, focus, answer_type(question, True), key, matches, dates,
                     years=years_named(question, today.year))
    plain = without_particles(normal)
    # A request's verb (介绍一下…, 讲讲…) is its form, as "tell me about" is in English: no term an answer must name
    # (王荃介绍 would name it).
    asked = plain[_request_end(plain) or 0:]
    focus = _undated(plain, _known(focus_terms(numbered(question_words(asked))), stats.term_frequency), dates)
    # A Latin term an article may write in Chinese (GDP, 地区生产总值) is searched and read in both.
    aliases = latin_aliases(normal, focus)
    tokens = [*tokenize(plain), *(t for m in aliases for c in m.chinese[1:] for t in tokenize(c))]
    kind, asked_at = _asked(normal, False)
    return Query(question, normal, "zh", normal != question, tuple(tokens), focus, kind,
                 key_terms(normal, focus, asked_at), aliases, dates, years=years_named(normal, today.year))
