"""Dates and periods named in a question — 2月4日, 2026年2月, February 4, 春节, 上周 — as an inclusive date range,
and the days an article's text names (2月5日, 2月15日至23日, 昨天).

A question's relative words count from "today", which is the newest article's date unless the caller says
otherwise (the corpus is a snapshot: "this week" means the week of its newest article, not of the machine's
clock); an article's count from its own date.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from rag.tokenize import opens_word

# The longest range that still says which articles are meant; "今年" (a whole year) names no article.
MAX_BOOST_DAYS = 31
# A range of at most this many days is a few days: an article about them is their news or names one of them.
FEW_DAYS = 7

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9, "十": 10}
_MONTHS = {m: i for i, names in enumerate((
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
    ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
    ("december", "dec")), start=1) for m in names}
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_NUM = r"(\d{1,2}|[一二三四五六七八九十]{1,3})"

# Chinese festivals by year (lunar ones move): date of the festival day, and the public-holiday span.
_FESTIVALS: dict[str, dict[int, tuple[str, str]]] = {
    "春节": {2024: ("2024-02-10", "2024-02-17"), 2025: ("2025-01-28", "2025-02-04"),
             2026: ("2026-02-15", "2026-02-23"), 2027: ("2027-02-05", "2027-02-11")},
    "元宵节": {2024: ("2024-02-24", "2024-02-24"), 2025: ("2025-02-12", "2025-02-12"),
               2026: ("2026-03-03", "2026-03-03"), 2027: ("2027-02-20", "2027-02-20")},
    "除夕": {2024: ("2024-02-09", "2024-02-09"), 2025: ("2025-01-28", "2025-01-28"),
             2026: ("2026-02-16", "2026-02-16"), 2027: ("2027-02-05", "2027-02-05")},
}
_FESTIVAL_WORDS = {"春节": "春节", "spring festival": "春节", "chinese new year": "春节", "lunar new year": "春节",
                   "元宵节": "元宵节", "元宵": "元宵节", "lantern festival": "元宵节", "除夕": "除夕",
                   "年三十": "除夕", "new year's eve": "除夕", "chinese new year's eve": "除夕",
                   "lunar new year's eve": "除夕"}


def names_festival(term: str) -> bool:
    """True when ``term`` names a festival (春节, 春节假期, 元宵, spring festival): a date, and also a topic
    articles name."""
    term = term.lower()
    return any(word in term for word in _FESTIVAL_WORDS)


@dataclass(frozen=True)
class DateRange:
    """An inclusive range of days, and the words it was read from (of a question, or of an article's text)."""

    date_from: dt.date
    date_to: dt.date
    source: str

    @property
    def days(self) -> int:
        """How many days the range covers."""
        return (self.date_to - self.date_from).days + 1

    def overlaps(self, other: DateRange) -> bool:
        """True when the two ranges share a day."""
        return self.date_from <= other.date_to and other.date_from <= self.date_to

    def reported(self, day: str) -> bool:
        """True when an article published on ``day`` (YYYY-MM-DD) is the news of the range: published on one of
        its days or the day after (news reports an event of 2月4日 on the 4th or the 5th)."""
        last = (self.date_to + dt.timedelta(days=1)).isoformat()
        return self.date_from.isoformat() <= day <= last

    @property
    def few_days(self) -> bool:
        """At most ``FEW_DAYS`` days (2月5日, 上周), not a month or a year."""
        return self.days <= FEW_DAYS

    def days_in(self, text: str, published: dt.date | None) -> list[DateRange]:
        """The days ``text`` names (:func:`days_named`), of an article published on ``published`` (its yearless
        days fall in the year nearest it, its 昨天 the day before it); with no date, near this range."""
        return days_named(text, published or self.date_from, relative=published is not None)

    def named_in(self, text: str, published: dt.date | None) -> bool:
        """True when ``text`` (:meth:`days_in`) names one of the range's days, alone or in a range of at most
        ``MAX_BOOST_DAYS`` (2月15日至23日 names 2月18日; 2026年1月1日至2027年12月31日 names no day in particular)."""
        return any(r.days <= MAX_BOOST_DAYS and r.overlaps(self) for r in self.days_in(text, published))


def published_on(date: str) -> dt.date | None:
    """The day of an article's date (YYYY-MM-DD…), or None when it has none that can be read."""
    try:
        return dt.date.fromisoformat(date[:10])
    except ValueError:
        return None


def numeral_value(text: str) -> int:
    """An Arabic or a Chinese numeral up to 99 (3, 十二, 二十五); 0 when it is none."""
    if text.isdigit():
        return int(text)
    if text.startswith("十"):
        return 10 + (_CN_DIGITS[text[1]] if len(text) > 1 else 0)
    if len(text) == 3 and text[1] == "十":
        return _CN_DIGITS[text[0]] * 10 + _CN_DIGITS[text[2]]
    if len(text) == 2 and text[1] == "十":
        return _CN_DIGITS[text[0]] * 10
    return _CN_DIGITS.get(text, 0)


def _day(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _month_range(year: int, month: int) -> tuple[dt.date, dt.date] | None:
    if not 1 <= month <= 12:
        return None
    first = dt.date(year, month, 1)
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1))
    return first, last


def interpret(question: str, today: dt.date) -> DateRange | None:
    """The date range the question names, or None. Absolute dates win over periods, periods over relative words."""
    for reader in (_absolute_chinese, _absolute_english, _festival, _relative):
        found = reader(question, today)
        if found is not None:
            return found
    return None


# A day written in Chinese (2月5日, 2026年2月5号; not the 8号 of 8号线), or a range of days: 2月3日至4日,
# 2月15日00:00至2月23日24:00, 9月1日至2026年12月31日, 2月15日（星期日）至23日 (a time or a weekday may stand between
# the first day and 至).
_DAY_END = r"[日号](?![线楼院码])"
_GAP = r"(?:\s*(?:\d{1,2}[:：]\d{2}|\d{1,2}时|[上下]午|[（(]?星期[一二三四五六日天][）)]?|持续|一直))*\s*"
_CN_DAYS = re.compile(rf"(?:(\d{{4}})年)?{_NUM}月{_NUM}{_DAY_END}(?:{_GAP}(?:至|到|—|－|~|-)\s*"
                      rf"(?:(\d{{4}})年)?(?:{_NUM}月)?{_NUM}{_DAY_END})?")
_CN_MONTH = re.compile(rf"(\d{{4}})年{_NUM}月(?![\d一二三四五六七八九十]+[日号])")


def _nearest(month: int, day: int, reference: dt.date) -> dt.date | None:
    """The day ``month``/``day`` in the year that puts it nearest ``reference``: 12月20日 asked on 2026-02-10 is
    2025's, 2月20日 2026's."""
    days = [d for year in (reference.year - 1, reference.year, reference.year + 1)
            if (d := _day(year, month, day)) is not None]
    return min(days, key=lambda d: abs((d - reference).days)) if days else None


def _chinese_days(m: re.Match[str], reference: dt.date) -> DateRange | None:
    """The range a ``_CN_DAYS`` match writes; a day without a year falls in the year nearest ``reference`` (the
    end of a range after its start)."""
    month, day = numeral_value(m.group(2)), numeral_value(m.group(3))
    start = _day(int(m.group(1)), month, day) if m.group(1) else _nearest(month, day, reference)
    if start is None:
        return None
    end = start
    if m.group(6):
        end_month, end_day = numeral_value(m.group(5)) if m.group(5) else start.month, numeral_value(m.group(6))
        end = _day(int(m.group(4)) if m.group(4) else start.year, end_month, end_day) or start
        if end < start and not m.group(4):  # 12月20日至1月5日 ends in the next year
            end = _day(start.year + 1, end_month, end_day) or start
    return DateRange(start, max(start, end), m.group(0))


# Days said relative to a reference day (today for a question, its date for an article), in words that also stand
# inside others: 目前天气 holds no 前天, 今后天津 no 后天, 说明天津 no 明天, 如今天津 no 今天. The longer first.
_RELATIVE_DAYS: list[tuple[re.Pattern[str], int]] = [
    (re.compile(r"\bday before yesterday\b|(?<![目当此之提以])前天(?![津气])", re.I), -2),
    (re.compile(r"\bday after tomorrow\b|(?<![之今此以然最先])后天(?!津)", re.I), 2),
    (re.compile(r"\byesterday\b|昨天|昨日", re.I), -1),
    (re.compile(r"\btoday\b|(?<![如至])今天(?!津)|今日(?!之)", re.I), 0),
    (re.compile(r"\btomorrow\b|(?<![说表证聪好])明天(?!津)|明日(?!之)", re.I), 1),
]


def days_named(text: str, reference: dt.date, *, relative: bool = False) -> list[DateRange]:
    """The days and ranges of days ``text`` writes out in Chinese (2月5日, 2月15日至23日), in order; those without
    a year fall in the year nearest ``reference`` (a question's today, an article's date). With ``relative``, also
    the days it names relative to ``reference``, after those (昨天 in news of 2月4日 is 2月3日)."""
    named = [r for m in _CN_DAYS.finditer(text) if (r := _chinese_days(m, reference)) is not None]
    return named + relative_days(text, reference) if relative else named


def relative_days(text: str, reference: dt.date) -> list[DateRange]:
    """The days ``text`` names relative to ``reference`` (昨天, 今日, tomorrow), each with the word that names it,
    in the order of ``_RELATIVE_DAYS``; a Chinese one only where it opens a word (not 如今日益)."""
    named = []
    for pattern, offset in _RELATIVE_DAYS:
        day = reference + dt.timedelta(days=offset)
        named += [DateRange(day, day, m.group(0)) for m in pattern.finditer(text)
                  if m.group(0).isascii() or opens_word(text, m.start(), m.group(0))]
    return named


def _absolute_chinese(question: str, today: dt.date) -> DateRange | None:
    if named := days_named(question, today):
        return named[0]
    m = _CN_MONTH.search(question)
    if m:
        span = _month_range(int(m.group(1)), numeral_value(m.group(2)))
        return DateRange(span[0], span[1], m.group(0)) if span else None
    return None


_EN_MONTH_DAY = re.compile(rf"\b({_MONTH_NAMES})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?", re.I)
_EN_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_NAMES})\b\.?(?:,?\s+(\d{{4}}))?",
                           re.I)
_EN_MONTH_YEAR = re.compile(rf"\b(?:in\s+)?({_MONTH_NAMES})\.?\s+(\d{{4}})\b", re.I)


def _absolute_english(question: str, today: dt.date) -> DateRange | None:
    m = _EN_MONTH_DAY.search(question)
    if m:
        day = _day(int(m.group(3) or today.year), _MONTHS[m.group(1).lower()], int(m.group(2)))
        if day:
            return DateRange(day, day, m.group(0))
    m = _EN_DAY_MONTH.search(question)
    if m:
        day = _day(int(m.group(3) or today.year), _MONTHS[m.group(2).lower()], int(m.group(1)))
        if day:
            return DateRange(day, day, m.group(0))
    m = _EN_MONTH_YEAR.search(question)
    if m:
        span = _month_range(int(m.group(2)), _MONTHS[m.group(1).lower()])
        return DateRange(span[0], span[1], m.group(0)) if span else None
    return None


def _festival(question: str, today: dt.date) -> DateRange | None:
    lowered = question.lower()
    for word, festival in sorted(_FESTIVAL_WORDS.items(), key=lambda kv: -len(kv[0])):
        if word in lowered:
            by_year = _FESTIVALS[festival]
            # The coming festival, or (past the table's last) the latest: news in a snapshot speaks of the nearest.
            coming = [y for y in by_year if dt.date.fromisoformat(by_year[y][1]) >= today]
            start, end = by_year[min(coming) if coming else max(by_year)]
            return DateRange(dt.date.fromisoformat(start), dt.date.fromisoformat(end),
                             question[lowered.index(word) : lowered.index(word) + len(word)])
    return None


def _relative(question: str, today: dt.date) -> DateRange | None:
    for pattern, offset in _RELATIVE_DAYS:
        if m := pattern.search(question):
            day = today + dt.timedelta(days=offset)
            return DateRange(day, day, m.group(0))
    lowered = question.lower()
    monday = today - dt.timedelta(days=today.weekday())
    rules: list[tuple[tuple[str, ...], tuple[dt.date, dt.date] | None]] = [
        (("下周", "下星期", "下个星期", "next week"), (monday + dt.timedelta(days=7), monday + dt.timedelta(days=13))),
        (("上周", "上星期", "上个星期", "last week"), (monday - dt.timedelta(days=7), monday - dt.timedelta(days=1))),
        (("本周", "这周", "这个星期", "本星期", "this week"), (monday, monday + dt.timedelta(days=6))),
        (("上个月", "上月", "last month"), _month_range(today.year - (today.month == 1), (today.month - 2) % 12 + 1)),
        (("本月", "这个月", "this month"), _month_range(today.year, today.month)),
        (("下个月", "下月", "next month"), _month_range(today.year + (today.month == 12), today.month % 12 + 1)),
    ]
    for words, span in rules:
        for word in words:
            at = lowered.find(word)
            if at >= 0 and span and not lowered.startswith("边", at + len(word)):  # 这周边 is no week
                return DateRange(span[0], span[1], question[at : at + len(word)])
    return None


# Words that name a year relative to the present (an article's "今年" is the year it was published).
_YEAR_WORDS = {"今年": 0, "本年": 0, "明年": 1, "去年": -1, "前年": -2, "this year": 0, "next year": 1,
               "last year": -1}
_YEAR_WORD = re.compile("|".join(map(re.escape, _YEAR_WORDS)), re.I)
# 2025年, or a bare 2025 in English; not 2000元, 2050万元 or 2080人次 (a unit follows), nor part of 12025 or 3.2025.
_WRITTEN_YEAR = re.compile(r"(?<![0-9.])(20[0-9][0-9])(?:年|(?![0-9.%％\u4e00-\u9fff]))")
# A weekday has three names (周六, 星期六, 礼拜六), and Sunday two endings (星期日, 星期天; not 周天, which 本周天津
# and 一周天气 hold).
_WEEKDAY = re.compile(r"^(?:周|星期|礼拜)([一二三四五六日天])$")


def weekday_forms(term: str) -> tuple[str, ...]:
    """The other names of the weekday ``term`` names (周六 → 星期六, 礼拜六), or () for any other term."""
    m = _WEEKDAY.match(term)
    if m is None:
        return ()
    days = "日天" if m.group(1) in "日天" else m.group(1)
    return tuple(f for p in ("周", "星期", "礼拜") for d in days if (f := p + d) not in (term, "周天"))


def _year_words(text: str) -> list[tuple[str, int]]:
    """The words of ``text`` that name a year relative to the present, each with its offset in years: a Chinese
    one where it opens a word (not 提前年底, 注明年龄, 春节前年货, 过去年份), an English one as whole words."""
    out = []
    for m in _YEAR_WORD.finditer(text):
        word, before, after = m.group(0), text[m.start() - 1 : m.start()], text[m.end() : m.end() + 1]
        whole = not (before.isalnum() or after.isalnum()) if word.isascii() else opens_word(text, m.start(), word)
        if whole:
            out.append((word, _YEAR_WORDS[word.lower()]))
    return out


def relative_years(text: str, this_year: int) -> list[tuple[str, int]]:
    """The years other than ``this_year`` (an article's) that ``text`` names relative to it, each with its word:
    去年 in news of 2026 is 2025."""
    return [(word, this_year + offset) for word, offset in _year_words(text) if offset]


# A span of years written out: 2024—2026年, 2024-2026, 2024年至2026年, (2026—2030年).
_YEAR_SPAN = re.compile(r"(?<![0-9.])(20[0-9][0-9])年?\s*(?:—|–|-|－|~|～|至|到)\s*(20[0-9][0-9])(?![0-9.])")


def years_spanned(text: str) -> set[int]:
    """Every year of the spans ``text`` writes out (2024—2026年 → 2024, 2025, 2026), ends included."""
    return {y for a, b in _YEAR_SPAN.findall(text) for y in range(int(a), int(b) + 1) if int(b) - int(a) <= 50}


def years_written(text: str) -> tuple[int, ...]:
    """The years ``text`` writes out (2025年, 2025), in order: those that need no present to be read."""
    return tuple(sorted({int(y) for y in _WRITTEN_YEAR.findall(text)}))


# A year in a condition, not the time of what is asked: 2012年上牌的汽油车, 2013年6月30日前注册, 2024年以来,
# registered before 2013, a car registered in 2014. (2025年的GDP and 去年（2025年）的价格 are that year's own.)
_CONDITION_YEAR = re.compile(r"(?<![0-9.])(20[0-9][0-9])年(?:\d{1,2}月(?:\d{1,2}[日号])?)?"
                             r"(?:前|以前|之前|后|以后|之后|以来|起|至|到|[^，,。？?！!的）)]{1,6}的)|"
                             r"\b(?:before|after|since|until|till|prior\s+to|earlier\s+than|later\s+than|registered|"
                             r"bought|purchased|built|made|manufactured|licensed)\s+(?:in\s+)?"
                             r"(?:[A-Za-z]+\s+){0,2}?(20[0-9][0-9])\b", re.I)
# A year in a document's number or edition (津政办规〔2023〕9号, 2023年版) says nothing of that year's figures.
_DOCUMENT_YEAR = re.compile(r"[〔\[［](20[0-9][0-9])[〕\]］]|(20[0-9][0-9])年版")


def years_asked(question: str) -> tuple[int, ...]:
    """The years ``question`` writes out as the time of what it asks (2024年天津跨境人民币结算量是多少？, "In 2024, how
    many…"), not those of a condition (``_CONDITION_YEAR``: 2012年上牌的汽油车能补贴多少？)."""
    conditions = {int(y) for m in _CONDITION_YEAR.finditer(question) for y in m.groups() if y}
    return tuple(y for y in years_written(question) if y not in conditions)


def without_document_years(text: str) -> str:
    """``text`` with the years of document numbers and editions blanked (``_DOCUMENT_YEAR``)."""
    return _DOCUMENT_YEAR.sub(lambda m: " " * len(m.group(0)), text)


def years_named(text: str, this_year: int) -> tuple[int, ...]:
    """The years ``text`` names, written out (2025年, 2025) or relative to ``this_year`` (去年, last year), in
    order; a span such as “十四五”以来 names none."""
    found = set(years_written(text))
    found |= {this_year + offset for _, offset in _year_words(text)}
    return tuple(sorted(found))
