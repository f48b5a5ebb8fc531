"""Typed entities in Chinese sentences: dates and times, durations, quantities, contacts, places, bodies, people.

Government prose writes these in a few fixed ways (2月23日, 上午9时, 2个工作日内, 6300亿元, 4.5%, 66项, 十六届,
022-23537155, 滨海新区, 市卫生健康委): regular expressions find times, quantities and contacts; bodies, places and
roles are whole jieba words with a telling suffix (市商务局, 西青区, 药师), so 布局 is no bureau. Each entity keeps its
exact span, so the reader can measure how close it sits to the question's terms.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from rag.query import PROJECT
from rag.tokenize import is_noun, part_of_speech, stopwords, word_at, word_ends

EntityType = Literal["time", "duration", "quantity", "contact", "place", "body", "person", "role"]

_N = r"(?:\d+(?:[.,]\d+)*|[零〇一二两三四五六七八九十百千万亿]+)"  # an Arabic or a Chinese number
_QUANTITY_UNITS = (
    "万亿元|亿元|万元|千元|元|美元|万美元|亿美元|万亿|亿|万|%|％|个百分点|百分点|倍|成|"
    "万平方公里|万平方米|平方米|平方公里|万公顷|万亩|公里|千米|米|厘米|毫米|微米|公顷|亩|万吨|吨|千克|公斤|克|立方米|"
    "万千瓦|千瓦|兆瓦|吉瓦|千伏|度|万度|千瓦时|℃|摄氏度|微克/立方米|毫克|升|"
    "万人次|人次|万人|名|人|户|家|个|项|座|条|部|所|套|间|辆|台|张|次|处|批|类|种|场|只|架|艘|件|份|位|"
    "届|期|轮|层|栋|根|段|片|支|组|枚|款|本|篇|册|章|节|车次|趟|床|元/吨|岁|周岁|道|班|盘|棵|株|颗"
)
# Alternatives are tried in order: the longest first, so 12.28万度 is in 万度 (not 万) and 5万人 in 万人.
_LONGEST_FIRST = "|".join(sorted(_QUANTITY_UNITS.split("|"), key=len, reverse=True))
# Parts of a document: 第二条 is article two of a regulation, not two articles.
_SECTIONS = frozenset({"条", "款", "章", "节", "项", "篇"})
# Words (as jieba cuts them) that open with a unit and that a number before them names, not counts: the 117项目 is a
# project, not 117 items (3项目标 is three targets: 项, 目标).
_NAMED_BY_NUMBER = (PROJECT,)
# Not a bare 月: 2月 is February (a month named), 2个月 two months.
_TIME_UNITS = "个工作日|工作日|个小时|小时|分钟|秒|天|日|周|个月|年"
# Bodies and places are named by a word ending in one of these (市商务局, 天津大学, 西青区, 元宝岛公园).
_BODY_SUFFIX = re.compile(r"(?:委员会|管委会|人民政府|政府|委|局|厅|办公室|办|管理中心|服务中心|中心|部|署|集团|公司|"
                          r"银行|分行|协会|学会|研究院|研究所|大学|学院|医院|法院|检察院|联合会|基金会|工作组|"
                          r"领导小组|指挥部|党组|党委|支部)$")
_PLACE_SUFFIX = re.compile(r"(?:新区|保税区|开发区|高新区|自贸区|区|县|镇|乡|村|街道|街|路|大道|站|港|园区|园|公园|"
                           r"广场|馆|基地|码头|机场|小区|社区|大厦|酒店|宾馆|商圈|片区|景区|滑雪场)$")
# Words that end a name when reading back from its suffix: verbs (not verbal nouns: 发展改革委), times, numbers,
# particles, prepositions…
_NOT_IN_NAME = re.compile(r"^(?:v(?!n)|[tmupdcrfxqi])")
_CJK_WORD = re.compile(r"^[\u4e00-\u9fff]+$")
# Tags of names in jieba's dictionaries (ours first): a place, an organisation, another proper name.
_NAME_TAGS = ("ns", "nt", "nz")


def _named(suffix: re.Pattern[str], reach: int) -> Callable[[str], list[tuple[int, int]]]:
    """A finder of names (of bodies, of places) in a text: a word ending in ``suffix`` that is a name (see
    :func:`_is_name`), with the words before it that belong to the name (天津市 第一 中心医院; not 在 or 今年), at
    most ``reach`` characters of them."""

    def find(text: str) -> list[tuple[int, int]]:
        cut = sorted(word_ends(text).items())
        out = []
        for i, (end, word) in enumerate(cut):
            m = suffix.search(word)
            if not m or not _is_name(word, m.group(0)):
                continue
            start = end - len(word)
            for before_end, before in reversed(cut[:i]):
                if out and before_end == out[-1][1]:
                    if before_end == end - len(word):  # 市政府 办公厅: one body
                        start = out.pop()[0]
                    break  # another name ends here
                if (not _CJK_WORD.match(before) or _NOT_IN_NAME.match(part_of_speech(before) or "n")
                        or before in stopwords() or end - before_end + len(before) > reach + len(m.group(0))):
                    break
                start = before_end - len(before)
            # A bare 区 or 站 names nothing; a suffix that is a name (人民政府 in 各区人民政府) does.
            if word != m.group(0) or start < end - len(word) or (part_of_speech(word) or "").startswith(_NAME_TAGS):
                out.append((start, end))
        return out

    return find


def _is_name(word: str, suffix: str) -> bool:
    """True when ``word``, ending in ``suffix``, can name a body or a place: the suffix itself (区, 公园: the words
    before it say which), a word tagged as a name (市委, 财政局), or a longer word built on the suffix (商务局, 西青区,
    中餐厅). Not a two-character word that merely ends in the suffix's character (布局, 干部, 地区, 网站, 进园), a
    plan or layout (新格局, 新思路) nor a direction (东北部)."""
    tail = word[-2:]
    if tail in _PLANS:
        return False
    if word == suffix or (part_of_speech(word) or "").startswith(_NAME_TAGS):
        return True
    return len(word) > 2 and not (part_of_speech(tail) or "").startswith("f")  # 东北部 is a direction


# Words of plans and layouts that end like a bureau, a department or a road: jieba even tags 新格局 as a body.
_PLANS = frozenset({"格局", "布局", "部署", "思路", "出路"})


# A person named by role, a noun built on an agent suffix: 消费者, 申请人, 药师, 网格员 (who answers 谁审核). Not
# a machine (机器人).
_ROLE_SUFFIX = re.compile(r"[\u4e00-\u9fff](?:者|人|师|员)$")
_NOT_ROLES = frozenset({"机器人"})


def _roles(text: str) -> list[tuple[int, int]]:
    """The role nouns of ``text`` (see ``_ROLE_SUFFIX``), as spans."""
    return [(end - len(word), end) for end, word in word_ends(text).items()
            if _ROLE_SUFFIX.search(word) and is_noun(word) and word not in _NOT_ROLES]


# Posts a person is named after (市长张工, 部长阴和俊); asked for (主任是谁), only a person answers.
_TITLES = ("书记|市长|副市长|主任|副主任|局长|厅长|部长|总经理|董事长|院长|校长|主席|负责人|秘书长|总裁|总理|副总理|"
           "省长|副省长|区长|副区长|县长|委员长")
_TITLE_WORD = re.compile(rf"(?:{_TITLES})$")
_NAME = re.compile(r"^[\u4e00-\u9fff]{2,3}$")


def _titled(text: str) -> list[tuple[int, int]]:
    """People named after their post: a word ending in a title, then (past a space) a name — a word of two or three
    characters that jieba's dictionary does not know or tags as a name (研究室主任 张磊, 部长阴和俊; not 主任委员)."""
    cut = sorted(word_ends(text).items())
    out = []
    for i, (end, word) in enumerate(cut):
        if not _TITLE_WORD.search(word):
            continue
        following = [w for w in cut[i + 1 : i + 3] if w[1].strip()][:1]
        if following and following[0][0] - len(following[0][1]) - end <= 1 and _NAME.match(following[0][1]) \
                and (part_of_speech(following[0][1]) or "nr").startswith("nr"):
            out.append((end - len(word), following[0][0]))
    return out


_PATTERNS: list[tuple[EntityType, re.Pattern[str] | Callable[[str], list[tuple[int, int]]]]] = [
    ("contact", re.compile(r"(?<!\d)(?:0\d{2,3}[-－]\d{7,8}|1[3-9]\d{9}|400[-－]?\d{3}[-－]?\d{4}|"
                           r"(?:热线|电话|客服)[:：]?\s*\d{4,12}|\d{5}(?=热线|客服|服务热线))(?!\d)")),
    ("time", re.compile(
        rf"(?:\d{{4}}年)?\d{{1,2}}月\d{{1,2}}[日号](?:\s*\d{{1,2}}[:：]\d{{2}}|\d{{1,2}}[时点](?:\d{{1,2}}分|半)?)?"
        rf"(?:\s*(?:至|到|—|-|~)\s*(?:\d{{1,2}}月)?\d{{1,2}}[日号](?:\s*\d{{1,2}}[:：]\d{{2}})?)?|"
        rf"\d{{4}}年\d{{1,2}}月(?:底|初|中旬|上旬|下旬)?|(?<!\d)\d{{4}}年(?:底|初|内|前|以来|[上下]半年)?|"
        rf"(?<![\d零〇一二两三四五六七八九十百千半几多数近本当青少成今明去前])(?:年内|年底|年初|[上下]半年)|"
        rf"(?:每月|次月|当月|每年|次年)\d{{1,2}}[日号]|(?:上午|下午|晚上|中午|凌晨|早上)?\d{{1,2}}[:：]\d{{2}}|"
        rf"(?:上午|下午|晚上|中午|凌晨|早上)\d{{1,2}}[时点](?:\d{{1,2}}分|半)?|{_N}月(?:底|初|中旬|上旬|下旬)|"
        rf"(?:今|明|去|前)年(?:\d{{1,2}}月(?:底|初|中旬|上旬|下旬)?(?![\d日号])|底|初)?|本月|下月|春节(?:前|后|期间)?|元旦|元宵节|国庆|清明|端午|中秋|"
        rf"(?<![\d.个零〇一二两三四五六七八九十])(?:1[0-2]|[1-9]|十[一二]?|[一二三四五六七八九])月份?(?![\d日号])")),
    ("duration", re.compile(rf"(?<![\d年月]){_N}(?P<unit>{_TIME_UNITS})(?:以内|之内|内|以上|左右|以来)?(?![\d月日])")),
    # 百分之十二点五 before the numbers with units (its 百 is a number, 分 a unit); a rank (unit 第) too:
    # 居全国第3位, 排名第一 — not 第一批, which counts.
    # Not 十分 ("very"): points (分) follow digits only. Nor a number after 每: 每万人口, 每百户 are rates' bases, not
    # counts of people or households.
    ("quantity", re.compile(rf"(?P<percent>百分之{_N}(?:点[零〇一二三四五六七八九]+)?)|"
                            rf"(?<![\d.零〇一二两三四五六七八九十百千万亿每])"
                            rf"(?:近|约|超|超过|逾|达|共|累计|最高|最低|不超过|不低于|不少于)?"
                            rf"(?:{_N}(?:[万亿]?(?:多|余))?(?P<unit>{_LONGEST_FIRST})|\d+(?:\.\d+)?(?P<points>分))|"
                            rf"{_N}(?:\.\d+)?(?=%|％)|"
                            rf"(?<=[排居列名在])(?:全国|全市|全球|世界)?(?P<rank>第){_N}(?:位|名)?(?![批期届次页个项条])")),
    ("body", _named(_BODY_SUFFIX, 14)),
    ("place", _named(_PLACE_SUFFIX, 8)),
    ("place", re.compile(r"天津|北京|河北|上海|雄安|滨海新区")),
    ("person", _titled),
    ("person", re.compile(rf"(?:{_TITLES}|专家|教授|医生|主持人)[\u4e00-\u9fff]{{2,3}}"
                          rf"(?=[，,、。主出表介强指讲调说在与和等]|一行)|"
                          r"[\u4e00-\u9fff]{2,3}(?=主持|出席|表示|介绍|强调|指出|讲话|调研|说)")),
    ("role", _roles),
]

# Cues of answers that are not entities.
# 要 as "must" (2月14日（星期六）要上班！), not in 主要, 重要, 要求, 要点 or 摘要.
_YESNO = re.compile(r"可以|不可以|可|能|不能|不得|不予|不给予|应当|须|必须|无需|无须|不需要|需要|允许|禁止|不影响|"
                    r"不再|免|暂停|停止|恢复|支持|纳入|不纳入|视为|按照|适用|不适用|是|不是|否|"
                    r"(?<![主重需纪摘提只概])要(?![求点素闻件])")
_PROCEDURE = re.compile(r"申请|办理|提交|登录|下载|注册|拨打|携带|提供|填写|上传|前往|通过|经|审核|审批|流程|步骤|"
                        r"首先|然后|之后|再|即可|需|须|应当|程序|手续|渠道|途径|方式|App|小程序|窗口")
# A question for the papers to hand in, and the words that name papers.
_ASKS_MATERIALS = re.compile(r"(?:哪些|什么|需要|要|提交|提供|携带|准备|带)[^，,。？?]{0,4}(?:材料|证件|资料)|"
                             r"\b(?:documents?|paperwork)\b", re.I)  # not 新材料产业, "building materials"
_MATERIALS = re.compile(r"材料|资料|证明|证件|身份证|户口|护照|通行证|居住证|发票|合同|协议|复印件|原件|译本|证书|执照|"
                        r"病历|小结|申请表|登记表")
# A question for the holder of a post (see ``_TITLES``): only a person answers it.
_ASKS_TITLE = re.compile(rf"{_TITLES}|\b(?:director|head of|president|chair(?:man|woman|person)?|mayor|minister|"
                         r"secretary|dean|principal|ceo)\b", re.I)
_REASON = re.compile(r"因为|由于|为了|旨在|目的是|原因|因此|所以|以便|从而|意味着|得益于|基于|鉴于")
_LIST = re.compile(r"、|；|;|：|一是|二是|三是|包括|包含|分别|以及|等")


@dataclass(frozen=True)
class Entity:
    """A typed span of a sentence; quantities and durations keep their unit (项, 万元, 个工作日…)."""

    type: EntityType
    start: int
    end: int
    text: str
    unit: str = ""


@lru_cache(maxsize=4096)
def entities(text: str) -> tuple[Entity, ...]:
    """Every typed entity of ``text``, earliest first; an entity is not also counted inside another. Cached: the
    reader asks for a sentence's entities for its cues and again for its features, question after question."""
    found: list[Entity] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        spans = ([(m.start(), m.end(), m.groupdict()) for m in pattern.finditer(text)]
                 if isinstance(pattern, re.Pattern) else [(s, e, {}) for s, e in pattern(text)])
        for s, e, groups in spans:
            if e > s and not any(s < te and ts < e for ts, te in taken):
                unit = ("%" if groups.get("percent") or text[e:e + 1] in ("%", "％")
                        else groups.get("unit") or groups.get("points") or groups.get("rank") or "")
                if kind == "quantity" and ((unit in _SECTIONS and text[s - 1:s] == "第")
                                           or word_at(text, e - len(unit)) in _NAMED_BY_NUMBER):
                    continue
                found.append(Entity(kind, s, e, text[s:e], unit))
                taken.append((s, e))
    return tuple(sorted(found, key=lambda x: x.start))


# Which entity types answer which expected answer type (rag.query.AnswerType).
ANSWERED_BY: dict[str, frozenset[str]] = {
    "time": frozenset({"time"}),
    "duration": frozenset({"duration", "time"}),
    "quantity": frozenset({"quantity", "duration"}),
    "contact": frozenset({"contact"}),
    "place": frozenset({"place", "body"}),
    "body": frozenset({"body", "person"}),
    "person": frozenset({"person", "body", "role"}),  # a role answers who (谁审核 → 药师), not which body
}


# The measure word a question asks with (多少钱, 几个工作日, 多少名员工), and the units that answer it.
_ASKED_UNIT = re.compile(r"(?:多少|几)(钱|块|元|万元|亿元|人次|人|名|个工作日|工作日|小时|分钟|天|日|周|个月|月|年|岁|"
                         r"公里|千米|米|吨|层|度|倍|成|项|家|条|座|所|部|辆|台|处|批|类|种|期|届|节|张|套|间|户|"
                         r"位|只|架|艘|件|份|场|轮|章|道|趟|班|盘|本|册|棵|株|枚|颗|根|支)")
_UNIT_FAMILIES = {
    "钱": {"元", "万元", "亿元", "万亿元", "千元", "美元", "万美元", "亿美元"}, "块": {"元", "万元"},
    "元": {"元", "万元", "亿元", "万亿元", "千元"}, "万元": {"万元", "亿元"}, "亿元": {"亿元", "万亿元"},
    "人": {"人", "名", "万人", "人次", "万人次", "位"}, "名": {"名", "人", "万人", "位"},
    "位": {"位", "名", "人", "万人"}, "人次": {"人次", "万人次"},
    "成": {"成", "%", "％"}, "度": {"度", "万度", "千瓦时", "℃", "摄氏度"},
}
_TIME_FAMILY = {"个工作日", "工作日", "小时", "分钟", "秒", "天", "日", "周", "个月", "月", "年"}
# Time units from the shortest to the longest, those of one scale together. A span asked in one unit is answered in
# it or in the next shorter or longer one (几年 by 36个月, 几天 by 48小时), not further off: 1个工作日内完成审批 does
# not say for how many years a loan runs.
_TIME_SCALES = (("秒",), ("分钟",), ("小时",), ("天", "日", "工作日", "个工作日"), ("周",), ("个月", "月"), ("年",))


def _time_neighbours(unit: str) -> frozenset[str]:
    """The time units that can answer a span asked in ``unit`` (see ``_TIME_SCALES``)."""
    at = next(i for i, scale in enumerate(_TIME_SCALES) if unit in scale)
    return frozenset(u for scale in _TIME_SCALES[max(at - 1, 0):at + 2] for u in scale)
# An area asked (面积有多大, 占地多少, 多少亩, "in square metres", "how large is its planning area") is answered by an
# area: not 3个特色公园 for how large 元宝岛 is. Asked, not merely named: 人均住房面积低于15平方米的家庭…补贴多少 asks
# money, 占地补偿款 is no area, and an Area in a name (Binhai New Area, capitalised) is none.
_ASKED_AREA = re.compile(r"面积[^，,。；;？?]{0,4}?(?:多大|多少|几)|占地[^，,。；;？?]{0,2}?(?:多大|多少|几)|"
                         r"(?:多大|多少)的?(?:占地)?面积|多少万?(?:平方米|平米|平方公里|亩|公顷)|几万?(?:亩|公顷)|"
                         r"(?i:\bsquare\s+(?:met(?:re|er)s?|kilomet(?:re|er)s?|km)\b|\bhectares?\b|\bacres?\b)|"
                         r"(?i:\b(?:how (?:large|big)|what) (?:is|was|are|were|will be) (?:the |its |their )?"
                         r"(?:[\w-]+\s+){0,2})area\b")
_AREA_UNITS = frozenset({"平方米", "万平方米", "平方公里", "万平方公里", "公顷", "万公顷", "亩", "万亩"})


# Money asked without a measure word: 补贴多少？, 票价是多少, 最高能贷多少 (not 补贴期限是多少, 花多少时间); a subsidy
# may be a share (按销售价格的15%给予补贴), so a percentage answers too.
_NOT_MONEY = r"期限|时间|年限|期|名额|人数|次数|范围|条件|材料|比例"
_MONEY_ASKED = re.compile(rf"(?:补贴|补助|奖金|费用|成本|工资|收入|价格|票价|金额|资金|额度|罚款|罚息|合同额|产值|造价|"
                          rf"投资(?!项目|企业|机构|领域|主体)|营收|销售额|成交额)"
                          rf"(?:(?!{_NOT_MONEY})[^，,。？?]){{0,4}}?多少(?!个|项|人|天|年|月|次|家|条|种|类|{_NOT_MONEY})|"
                          rf"(?:补|领|拿|贷|赔|退)多少(?:钱)?(?!个|项|人|天|年|月|次|家|条|种|类|张|{_NOT_MONEY})")
_MONEY_OR_SHARE = frozenset(_UNIT_FAMILIES["钱"] | {"%", "％"})
# Money a business or a project takes in or costs (营收, 成交额, 合同额, 总投资) is an amount, never a share:
# 营收规模同比增长11.6% does not say how much the revenue was. Its target may be a change (收入目标是多少？ is
# answered by 一般公共预算收入增长2%).
_AMOUNT_ONLY = re.compile(r"(?:收入|金额|合同额|产值|造价|投资|营收|销售额|成交额)(?!.*(?:目标|预期))")

# A value is money (the contract value, the value of the contract), not a belief (core values).
_EN_VALUE = r"(?<!core\s)(?<!moral\s)(?<!social\s)(?<!shared\s)(?<!cultural\s)(?<!family\s)values?"

# "What is the …", "what was its …": up to three words before the noun asked about.
_WHAT_IS = r"\bwhat(?:'s|’s|\s+(?:is|are|was|were|will\s+be))\s+(?:(?:the|its|their)\s+)?(?:[\w-]+\s+){0,3}"

_ASKED_UNIT_EN: list[tuple[re.Pattern[str], frozenset[str]]] = [
    # A cost as a verb, in any tense (how much did it cost…, what does … cost), not the noun (cut the cost of…).
    (re.compile(r"\bhow much (?:money|(?:do|does|did|will|would|can|could)\b.*\bcost\b(?![-\s]+(?:of|sharing)\b))|"
                r"\bin yuan\b|\bwhat (?:do|does|did|will|would)\b.*\bcost\b(?![-\s]+(?:of|sharing)\b)", re.I),
     frozenset(_UNIT_FAMILIES["钱"])),
    # Money as 补贴多少 asks it: "how much is the subsidy", "how much revenue" (not "how much faster", "how much
    # weight").
    (re.compile(r"\bhow much\b(?:(?!\b(?:faster|slower|more|less|weight|time|longer|higher|lower)\b).)*?"
                r"\b(?:worth|fees?|fares?|prices?|tickets?|rent|subsid(?:y|ies)|allowances?|grants?|bonus(?:es)?|"
                r"salary|wages?|pensions?|compensation|fines?|revenue|income|investment|funding|funds?|spending|"
                r"budget)\b", re.I), _MONEY_OR_SHARE),
    # An amount asked as "what is the total investment", "what was its revenue": money, never a share (as
    # _AMOUNT_ONLY).
    (re.compile(_WHAT_IS + r"(?:investment|revenue|turnover|income)"
                           r"(?=\s+(?:of|in|for|from|at|on|this|last|next)\b|\s*[?？.,，]|$)", re.I),
     frozenset(_UNIT_FAMILIES["钱"])),
    # A price or value asked as "what is the … price" (what is the hydrogen refuelling price per kilogram; what was
    # the contract value): money, not kilograms or kilometres.
    (re.compile(_WHAT_IS + r"(?:prices?|fees?|fares?|rents?|tuition|" + _EN_VALUE + r")\b", re.I), _MONEY_OR_SHARE),
    (re.compile(r"\bhow many (?:people|persons|employees|workers|staff|visitors|participants|attendees|"
                r"residents|students|passengers)\b", re.I), frozenset(_UNIT_FAMILIES["人"])),
    (re.compile(r"\bhow many (?:days|weeks|months|years|hours|minutes|working days)\b", re.I),
     frozenset(_TIME_FAMILY)),
]
# People counted without a measure word (多少员工, as "how many employees"): a count of people answers, not
# 40多条生产线. Not as part of a longer word: 居民小区, 代表性企业, 游客中心 and 旅客列车 are no people.
_ASKED_PEOPLE = re.compile(r"(?:多少|几)个?(?:员工|职工|工人|人员|雇员|游客|旅客|乘客|学生|居民|市民|村民|代表|参会者|"
                           r"观众|患者|病人|医生|医护人员|教师|老师|志愿者|会员|用户)(?![性团区小中站单列车宿楼证卡会])")


# Growth asked without a measure word is a rate: 增长了多少 is answered by 增长4.8%, not by 18个包间. Not 增加多少学位
# or 提高到多少, nor 增长到多少: those ask a count, an amount or a level.
_GROWTH_ASKED = re.compile(r"(?:增长|增速|增幅|下降|降幅|上涨|涨幅|涨了|跌了)(?![到至])"
                           r"[^，,。？?多到至]{0,6}多少|"
                           r"\bgr[eo]w(?:th|s|n)?\b|\bhow fast\b|\b(?:rise|fall|increase|decrease) by\b", re.I)
_RATES = frozenset({"%", "％", "个百分点", "百分点", "倍", "成"})
# Asked how much something grew, a rate answers only as a change (增长4.8%, 同比提升67%, 分别增长5.2%、4.8%和7.1%,
# 周期缩短40%): a change word stands before it within its clause, at most ``CHANGE_REACH`` characters back. Not a
# level reached (提高到3.7%), value added (增加值占比12%) or a share (比重达到30%, 对增长贡献率达60%).
_CHANGE = re.compile(r"增长|增速|增幅|增加|下降|降幅|降低|减少|上涨|涨幅|上升|提高|提升|回落|缩短|扩大|压减|"
                     r"骤降|骤升")
# A level asked (降到多少度, 提高到多少, 最低气温…多少): a change (骤降8℃, 增长5%) does not say where it ends up.
_LEVEL_ASKED = re.compile(r"(?:降|升|涨|跌|提高|提升|增加|增长|下降|减少|上调|下调)(?:到|至)"
                          r"[^，,。？?]{0,6}?(?:多少|几)|"
                          r"最[低高](?:气温|温度)[^，,。？?]{0,6}?(?:多少|几)")
_NOT_A_CHANGE = re.compile(r"[，,。；;：:]|^[值到至为]|占|比重|贡献")
# A share or a rate asked (贴息比例是多少, 失业率要控制在多少, 占GDP多少, 多大比例, what share of days, what is the
# interest rate?) is answered by a percentage, not by 3部门 or 2026年底. Not a ratio written as a plain number
# (容积率, 汇率), power (功率) or frequency (频率). In English only a rate the question asks for (not the rate subsidy
# whose period it asks) and a rate of something (the interest rate; "at what rates" may be money per mu).
_SHARE_ASKED = re.compile(r"(?:比例|占比|比重|百分比|(?<!容积)(?<![频效汇功倍速])率)"
                          r"[^，,。？?]{0,8}?(?:多少|几|多高|多大)|(?:多少|多大)的?(?:比例|比重|占比)|"
                          r"占(?!地|用)[^，,。？?]{1,12}?(?:多少|几成)|"
                          r"\bwhat\s+percentage\b|\bhow\s+many\s+per\s*cent\b|"
                          r"\b(?:what|which)(?:'s|’s|\s+(?:is|was|are|were|will\s+be))?\s+(?:(?:the|its|their)\s+)?"
                          r"(?:(?:[\w-]+\s+){1,3}rates?|(?:[\w-]+\s+){0,3}(?:proportion|ratio|share))"
                          r"(?=\s*(?:[?？,，.]|$|of\b|for\b|on\b|in\b|at\b|under\b|this\b|last\b|next\b|"
                          r"do\b|does\b|did\b|will\b|can\b|is\b|was\b))", re.I)
_SHARES = frozenset({"%", "％", "个百分点", "百分点", "成"})
CHANGE_REACH = 16


def asked_units(question: str) -> frozenset[str]:
    """The units that can answer ``question``'s measure word, Chinese or English (empty when it names none): the
    measure word it names first, then growth (a rate), money asked without one, then an area."""
    if "第几" in question:  # 排第几位 asks a rank, not a number of 位
        return frozenset({"第"})
    for pattern, units in _ASKED_UNIT_EN:
        if pattern.search(question):
            return units
    if (m := _ASKED_UNIT.search(question)) is not None:
        unit = m.group(1)
        return _time_neighbours(unit) if unit in _TIME_FAMILY else frozenset(_UNIT_FAMILIES.get(unit, {unit}))
    if _ASKED_PEOPLE.search(question):
        return frozenset(_UNIT_FAMILIES["人"])
    if _GROWTH_ASKED.search(question):
        return _RATES
    if _SHARE_ASKED.search(question):
        return _SHARES
    if (m := _MONEY_ASKED.search(question)) is not None:
        return frozenset(_UNIT_FAMILIES["钱"]) if _AMOUNT_ONLY.match(m.group(0)) else _MONEY_OR_SHARE
    return _AREA_UNITS if _ASKED_AREA.search(question) else frozenset()


# A question about when something ends or is finished (解除, 截止, 建成投用, until when, completed), and a time that
# starts something (14时起启动) or that something has gone on since (自去年4月复工建设以来): the start of an alert does
# not say when it is lifted, nor the restart of a building site when the building will be in use.
_ASKS_END = re.compile(r"解除|结束|截止|到期|停止|终止|取消|建成|完工|竣工|投用|投入使用|\b(?:end|ends|ended|lifted|"
                       r"expire|expires|until|completed?|finished|put into (?:use|service))\b", re.I)
_STARTS = re.compile(r"\s*(?:起|开始|启动)")
# What has gone on since a time, up to 以来: a start, unless it is the ending asked about (自2024年6月建成投用以来).
_SINCE = re.compile(r"[^，,。；;]{0,12}以来")
# A year said relative to now (今年, 去年, 年内) is no length of time, nor the month, day or hour a question asks for.
_RELATIVE_YEAR = re.compile(r"^(?:(?:今|明|去|前)年|年内|年底|年初|[上下]半年)$")
_ASKS_FINER = re.compile(r"哪个月|几月|哪天|哪一天|几号|几日|几点|什么日子|\b(?:which|what) (?:month|day|date)\b|"
                         r"\bwhat time\b", re.I)


# A time not set yet: 恢复运营时间将另行通知, 日期待定, 择期举行 (not 具体补贴标准另行通知: no time is said unset).
_UNSET_TIME = re.compile(r"(?:时间|日期|时)[^，,。；;]{0,6}?(?:另行(?:通知|公布|公告|告知|安排)|待定)|择期")
# A rate per hundred: 百公里耗氢8公斤, 每百户 (not 几百人 or 百人计划, counts and names).
_PER_HUNDRED = r"每?百(?:公里|千米)|每百(?:户|人)"
# A question for an amount per something (每户每月, 每件, per household, each month) is not answered by a total
# (发放4亿元租房补贴 for 每户每个月能领多少钱): the sentence must state a rate (每, 单户, 人均, 元/吨).
# (Not 每年: a year's total, 全年举办活动200场, answers 每年举办多少场.)
_ASKS_RATE = re.compile(rf"每个?(?:户|人|月|件|台|辆|张|平方米|平米|家|孩子|天|日|次|名|位|套|吨|度|公里)|"
                        rf"{_PER_HUNDRED}|"
                        r"\bper\b(?!\s*cent)|\beach (?:month|person|household|family|day|child|unit|piece|square)|"
                        r"\ba (?:month|day)\b|\bmonthly\b", re.I)
_STATES_RATE = re.compile(r"每|单(?:户|人|件|台|辆|个)|[年月日人户]均|[元吨人户件度][/／]|[/／](?:人|户|月|年|件|吨|次|"
                          rf"平方米|公斤|千克)|{_PER_HUNDRED}")
# An average over years (“十四五”以来…GDP年均增长4.4%) does not say what one year's figure was, unless asked for.
_AVERAGED = re.compile(r"(?:年均|平均每年)(?:增长|增速|提高|下降|增幅)?(?:达到|达|为)?$")
_ASKS_AVERAGE = re.compile(r"平均|年均|每年|\baverage\b|\bper year\b|\ba year\b", re.I)

# A total over parties a sentence lists (与A公司、B公司…5家企业签约，签约金额合计3000万元) is none of theirs: asked
# how much one of them got (给B公司投了多少钱), it does not answer, unless a total is asked (一共, 总投资, in total).
_TOTAL = re.compile(r"(?:合计|共计|总计|累计|总额|总共|一共)(?:为|达到|达|约|超过?)?$")
_TOTAL_OPENS = re.compile(r"合计|共计|总计|累计|总共|一共|共")  # an amount read with its total word: 累计3000万元
_ASKS_TOTAL = re.compile(r"合计|共计|总计|累计|总额|总共|一共|共有|总[数量额投规计]|\b(?:total|altogether|combined|"
                         r"overall|in all)\b", re.I)
# Asked what a whole city, district or country has or gets (全市每月投放多少张), an amount per person or household
# (每人每月最多申领3张) does not answer: the converse of _ASKS_RATE. Unless the question asks per head itself
# (全市居民人均可支配收入是多少).
_ASKS_WHOLE = re.compile(r"全(?:市|国|区|省)")
_PER_HEAD = re.compile(r"每(?:个|名|位)?(?:人|户|家庭|消费者)|[人户]均|单(?:人|户)|\bper (?:person|household|head)\b",
                       re.I)
# What makes an amount said after a per-head word a whole again (每人…，全市共发放…).
_WHOLE_SAID = re.compile(_ASKS_WHOLE.pattern + r"|共计|合计|总计|总共|一共|总量|总数")
# The parties listed: runs between 、 (the last one up to the clause's end), at least three characters each; the
# first starts after whoever the sentence has dealing with them (芯火基金与A公司、B公司…: not 芯火基金与A公司).
_LISTED = re.compile(r"[^，,。；;：:、\s]{3,}(?:、[^，,。；;：:、\s]{3,})+")
_DEALS_WITH = re.compile(r".*(?:与|和|同|跟|向|对|为)")
# A party standing first of several counted (塘沽一中新校区等7所学校): the run before 等 back to a comma or a 、.
_AND_OTHERS = re.compile(rf"(?P<party>[^，,。；;：:、\s]{{3,}}?)等{_N}(?:所|个|家|项|座|条|处|批|类|种|名|位|户|台|辆)")
# How much of one listed party the question must name, and the others not: 卡雷尔机器人, not 天津 or 科技有限公司.
PARTY_RUN = 3


# A question for who did something (是谁主持的, 由谁牵头编写, 谁将出席, 谁在会上讲话, who chaired) names the act: the
# first verb after 谁, past modals and adverbs (将, 可以, 具体) and a preposition's phrase (在会上, 为活动). Only the
# person or body the sentence has doing that act answers (王旭主持, 由天津大学牵头), not one it names doing something
# else (张工出席…并讲话). None for whom one did something with or to (和谁签了, 找谁申请), for a passive (谁被任命) and
# for who someone is or has (谁是…, 谁有资格): the answer does no act there.
_ASKS_WHO = re.compile(r"谁|\bwho (?P<chaired>chaired|presided|hosted)\b", re.I)
_WITH_WHOM = re.compile(r"[和与跟同找给向对]谁")
_MODALS = frozenset({"能", "会", "可", "可以", "要", "应", "应该", "应当", "能够", "将", "需", "需要", "来", "去"})
# How far after the answering name its act may follow (郭永红主持; 由天津大学牵头, 市长张工出席…).
ACT_REACH = 4


def _act(given: str) -> str:
    """The act a question for who did something names (see ``_ASKS_WHO``), or ""."""
    m = _ASKS_WHO.search(given)
    if m is None or _WITH_WHOM.search(given):
        return ""
    if m.group("chaired"):
        return "主持"
    clause = _CLAUSE_END.split(given[m.end():], 1)[0]
    phrase = False  # inside a preposition's phrase (在 会上, 为 活动): its word is no act
    for _, word in sorted(word_ends(clause).items()):
        tag = part_of_speech(word) or ""
        if word in ("被", "是", "有") or tag.startswith(("u", "r")):
            return ""
        if tag.startswith("p"):
            phrase = True
        elif phrase:
            phrase = False
        elif not (word in _MODALS or tag.startswith(("d", "c", "a"))):
            return word if tag.startswith(("v", "n")) else ""
    return ""


@dataclass(frozen=True)
class _Asks:
    """What a question (``given``) asks of its answer: read once per question, not once per candidate sentence."""

    end: bool  # when something ends (_ASKS_END)
    finer: bool  # a month, day or hour (_ASKS_FINER)
    rate: bool  # an amount per something (_ASKS_RATE)
    average: bool  # an average (_ASKS_AVERAGE)
    title: bool  # the holder of a post (_ASKS_TITLE)
    materials: bool  # papers to hand in (_ASKS_MATERIALS)
    growth: bool  # how much something grew (_GROWTH_ASKED)
    level: bool  # the level something reaches (_LEVEL_ASKED)
    total: bool  # a total (_ASKS_TOTAL)
    whole: bool  # what a whole city or country has, not per head (_ASKS_WHOLE, _ASKS_TOTAL; see _per_head)
    act: str  # who did what: the act (see ``_act``), or ""
    kind: str  # the kind of place or body asked for, by its suffix (哪个场馆 → 馆), or "" (see ``_kind``)
    counted: str  # the noun a count asks of (多少个学位 → 学位), or "" (see ``_counted``)


@lru_cache(maxsize=1024)
def _asks(given: str) -> _Asks:
    total = _ASKS_TOTAL.search(given) is not None
    return _Asks(*(bool(p.search(given)) for p in (_ASKS_END, _ASKS_FINER, _ASKS_RATE, _ASKS_AVERAGE, _ASKS_TITLE,
                                                      _ASKS_MATERIALS, _GROWTH_ASKED, _LEVEL_ASKED)),
                 total, _asks_whole(given, total=total), _act(given), _kind(given), _counted(given))


def _asks_whole(given: str, *, total: bool) -> bool:
    """True when ``given`` asks what a whole city or country has or gets, or a total (``total``: it matched
    ``_ASKS_TOTAL``), and not per head (see ``_ASKS_WHOLE``; per month it may: 全市每月投放多少张)."""
    return (total or _ASKS_WHOLE.search(given) is not None) and not _PER_HEAD.search(given)


def _per_head(text: str, start: int) -> bool:
    """True when the amount at ``start`` is said per person or household: a per-head word before it in its
    sentence, and no word making it a whole again between the two (每人每月最多申领3张)."""
    heads = list(_PER_HEAD.finditer(text, 0, start))
    return bool(heads) and not _WHOLE_SAID.search(text, heads[-1].end(), start)


# An aside in brackets: （价税合计，下同）, (含税), （原属河北区）.
ASIDE = re.compile(r"（[^（）]*）|\([^()]*\)")
# A district, county or town by name (北辰区, 滨海新区, 中北镇), not an area named by what it is (园区, 院区, 小区)
# nor a zone, which may lie inside a district (滨海高新区 in 滨海新区, 自贸试验区).
_DISTRICT = re.compile(r"^[\u4e00-\u9fff]{2,}(?:区|县|镇|乡|街道)$")
_AREAS = re.compile(r"(?:园|院|校|小|社|片|景|港|城|市|地|辖|街|营|厂|矿|库|林|山|湖|灾)区$|"
                    r"(?:高新|开发|保税|试验|示范|功能|合作|综合|自贸|经济)区$")
# Kinds of things a sentence names one of, whose names are told apart reliably: a hospital, a university, a
# company, a line. (A 园 or a 中心 is too often no name at all: 开园, 中心城区.)
_NAMED_KIND = re.compile(r"[\u4e00-\u9fff]{2,}(?:医院|大学|学院|集团|公司)$")
# Words that say what sort of one it is, not which: 三级医院, 互联网医院, 三甲口腔专科医院, 公立医院 and
# 上市公司 name no hospital or company (the articles' 市口腔医院, 滨海新区中医医院 and 天津职业大学 do, by 市,
# 滨海新区, 天津).
_SORT_OF = re.compile(r"(?:[一二三]级|[二三]甲|甲等|以上|互联网|智慧|实体|公立|民营|私立|国有|外资|外商独资|"
                      r"中外合资|合资|独资|综合|专科|中医|口腔|儿童|妇产|高水平|龙头|大|两家|两大|区属|市属|"
                      r"省属|定点|基层|社区|各级|上市|子|母|研究型|一流|职业|本科|高等|医科|科技|投资|新)+")
# A line by name (晋北线, “天津港—河北邯郸—山西长治”氢能运输线路): the line word on its own after the words that
# name it; only for telling one line from another, not an entity that answers (8号线 is a numbered name; 热线,
# 生产线 and 流水线 are no lines of transport).
_LINE_WORDS = frozenset({"线", "线路", "干线", "专线"})
# Words ending like a line that name none (a numbered 号线 is told apart by its number).
_NOT_LINES = frozenset({"生产线", "流水线", "产线", "热线", "防线", "底线", "红线", "一线", "前线", "路线", "天际线",
                        "海岸线", "电线", "视线", "界线", "战线", "号线", "光线", "曲线", "直线", "连线", "在线"})
_LINE_SUFFIX = re.compile(r"(?:线|线路|干线|专线)$")
_named_lines = _named(_LINE_SUFFIX, 6)
# An ordinal before a name is part of it (市第三中心医院 is not 市第一中心医院), though jieba tags it a number.
_NUMBERED = re.compile(r"第[一二三四五六七八九十\d]+")
_ORDINAL = re.compile(_NUMBERED.pattern + "$")


def _lines(text: str) -> list[tuple[int, int]]:
    """The spans of the lines ``text`` names: the line word on its own after its name (晋北 线), or one word that
    ends in it (京沪线, 公交线路), not one that names no line (``_NOT_LINES``)."""
    ends = word_ends(text)
    return [(s, e) for s, e in _named_lines(text)
            if ends.get(e) in _LINE_WORDS or not any(ends.get(e, "").endswith(w) for w in _NOT_LINES)]


# Tags of the words a name starts with (天津, 梅江, 壳牌, 南开大学); a word jieba does not know (荣程) may be one too.
_NAME_HEADS = ("ns", "nr", "nt", "nz")


def names_from(terms: Sequence[str]) -> str:
    """The text an English question's names are read from: its Chinese terms run together in its order, from the
    first that is a name (天津 医科大学 总医院) or a name of a kind (口腔医院); "the new hospital" names none (床位 医院
    is no hospital's name)."""
    def a_name(t: str) -> bool:
        return (part_of_speech(t) or "nz").startswith(_NAME_HEADS) or bool(_NAMED_KIND.match(t))
    start = next((i for i, t in enumerate(terms) if a_name(t)), len(terms))
    return "".join(terms[start:])


def blank_asides(text: str) -> str:
    """``text`` with its asides in brackets (``ASIDE``) blanked, so that what is left keeps its positions."""
    return ASIDE.sub(lambda m: "　" * len(m.group()), text)


@lru_cache(maxsize=4096)
def named_things(text: str) -> tuple[tuple[str, str], ...]:
    """The districts, hospitals, universities, companies and lines ``text`` names, each with its kind (北辰区 → 区,
    市第三中心医院 → 医院, 晋北线 → 线), not within brackets (（原属河北区）)."""
    text = blank_asides(text)
    names = [_ordinal(text, e) + e.text for e in entities(text) if e.type in ("place", "body")
             and ((_DISTRICT.match(e.text) and not _AREAS.search(e.text))
                  or (_NAMED_KIND.match(e.text) and not _SORT_OF.fullmatch(_stem(e.text))))]
    # A district inside a longer place (北辰区园区) by its own word.
    names += [w for w in word_ends(text).values()
              if _DISTRICT.match(w) and not _AREAS.search(w) and not any(w in n for n in names)]
    named = [(n, _suffix(n)) for n in names]
    return tuple(named + [(text[s:e], "线") for s, e in _lines(text) if e - s >= 3])


def _ordinal(text: str, e: Entity) -> str:
    """The ordinal right before ``e`` in ``text`` (第三 of 市第三中心医院), or ""."""
    m = _ORDINAL.search(text, 0, e.start)  # anchored at e.start by $
    return m.group() if m is not None else ""


def _kin(a: str, b: str) -> bool:
    """True when two kinds are one (区 and 新区, 学校 and 中学 are not)."""
    return a.endswith(b) or b.endswith(a)


# A sentence that opens by referring back to what the one before it named: 该线路…, 该项目….
_BY_REFERENCE = re.compile(r"[\s，,]*(?:其中，?)?(?:该|上述)[\u4e00-\u9fff]")


def _of_another(text: str, e: Entity, asked: tuple[tuple[str, str], ...], before: str = "") -> bool:
    """True when what ``e`` is said of is another district, hospital, university, company or line of a kind the
    question names (``asked``): the clause holding ``e`` names some of that kind and not the asked one
    (红桥区的园区预计明年2月开园 does not say when the 北辰区 park opens), or, naming none, the nearest clause before
    it that names some does, as a clause goes on speaking of the last one named (…红桥区的园区预计明年2月开园，届时将有
    80多家企业入驻; 市第三中心医院…，设置床位1200张; 此前运营的“…”氢能运输线路…，减排二氧化碳约6000吨), or, none
    naming any and the sentence opening with 该, the sentence ``before`` it does (该线路首批投入运营10辆 after one
    on the 晋北线)."""
    for scope in _scopes(text, e, before):
        named = _of_kinds(scope, asked)
        if named:
            return not _names_asked(named, asked) and not any(len(_stem(a)) >= 2 and _stem(a) in scope
                                                              for a, _ in asked)
    return False


def _of_kinds(text: str, asked: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """The things ``text`` names (``named_things``) of a kind among ``asked``'s."""
    return [(n, k) for n, k in named_things(text) if any(_kin(k, ak) for _, ak in asked)]


def _names_asked(named: Sequence[tuple[str, str]], asked: Sequence[tuple[str, str]]) -> bool:
    """True when one of ``named`` is one of ``asked`` (of one kind, and one name by ``_one_name``)."""
    return any(_kin(k, ak) and _one_name(n, a) for n, k in named for a, ak in asked)


def _scopes(text: str, e: Entity, before: str = "") -> list[str]:
    """Where to look for what ``e`` is said of, nearest first: the clause holding it, the clauses before it in
    ``text`` (a clause goes on speaking of the last thing named), and ``before``, the sentence before ``text``,
    when ``text`` opens with 该."""
    text = blank_asides(text)  # a comma inside brackets (（原属河北区，现已划入）) ends no clause
    ends = [m.end() for m in _CLAUSE_END.finditer(text, 0, e.start)]
    bounds = [0, *ends]
    end = next((m.start() for m in _CLAUSE_END.finditer(text, e.end)), len(text))
    clauses = [text[bounds[-1]:end]] + [text[bounds[i]:bounds[i + 1]] for i in reversed(range(len(ends)))]
    return [*clauses, before] if before and _BY_REFERENCE.match(text) else clauses


# A noun compound the question asks about (服务 贸易, 汽车 补贴): its modifier and head, each a word of two characters
# or more tagged as a noun, a verbal noun or an idiom (jieba cuts 货物贸易 as one, tagged l).
_MODIFIER_TAGS = ("n", "vn", "nz", "l")


@lru_cache(maxsize=1024)
def asked_sorts(question: str) -> tuple[tuple[str, str], ...]:
    """The noun compounds (modifier, head) ``question`` names: 服务贸易 → (服务, 贸易), 汽车补贴 → (汽车, 补贴); not a
    place or a name as the modifier (天津 跨境)."""
    words = [w for _, w in sorted(word_ends(question).items())]
    return tuple((m, h) for m, h in zip(words, words[1:], strict=False)
                 if len(m) > 1 and len(h) > 1 and _CJK_WORD.match(m) and _CJK_WORD.match(h)
                 and part_of_speech(m) in _MODIFIER_TAGS and part_of_speech(h) in _MODIFIER_TAGS)


def _another_modifier(scope: str, at: int, asked: str, head: str) -> bool:
    """True when ``head`` at ``at`` in ``scope`` makes one word with another noun than ``asked`` before it (货物贸易
    for 服务贸易); not a head that merely follows a noun (客车 免费通行, 核心 企业)."""
    before = scope[max(at - 2, 0):at]
    if len(before) < 2 or before == asked or part_of_speech(before) != "n":
        return False
    return word_at(scope, at - 2) == before + head


def _of_another_sort(text: str, e: Entity, sorts: tuple[tuple[str, str], ...], before: str = "") -> bool:
    """True when what ``e`` is said of is another sort of a thing the question names by a compound (``sorts``):
    the nearest clause naming the head names it in one word with another noun before it, and the sentence never
    names the asked modifier (天津货物贸易跨境人民币结算量同比增长24% for 服务贸易占了多少？; not 购置补贴 for 汽车补贴:
    购置 is no noun; not 人工智能基础核心企业营收 for 人工智能企业营收: 核心企业 is no word)."""
    for scope in _scopes(text, e, before):
        found = [(m, h) for m, h in sorts if h in scope]
        if found:
            return any(m not in text and any(_another_modifier(scope, i, m, h)
                                                  for i in (j.start() for j in re.finditer(re.escape(h), scope)))
                       for m, h in found)
    return False


# Kinds of institution a passage is about as a whole: a passage naming other universities, not the asked one, is
# about them (南开大学's battery for 天津大学's).
_INSTITUTIONS = frozenset({"大学", "学院", "医院"})


def of_another_institution(passage: str, question: str) -> bool:
    """True when ``question`` names a university, college or hospital, and ``passage`` names some of that
    kind but never the asked one: its sentences are about another (天津大学研发的固态电池 is not 南开大学's)."""
    asked = [(a, k) for a, k in named_things(question) if k in _INSTITUTIONS]
    if not asked:
        return False
    named = _of_kinds(passage, asked)
    return bool(named) and not _names_asked(named, asked) and not any(a in passage for a, _ in asked)


def _stem(name: str) -> str:
    """``name`` without the suffix of its kind (红桥区 → 红桥, 荣程新能晋北线 → 荣程新能晋北)."""
    line = _LINE_SUFFIX.search(name)
    return name[:len(name) - len(line.group() if line else _suffix(name))]


def _local(stem: str) -> str:
    """``stem`` without the city it is in (天津市, 市): 市口腔医院 is 天津口腔医院."""
    return stem.removeprefix("天津市").removeprefix("市")


def _one_name(a: str, b: str) -> bool:
    """True when two names of one kind may name one thing: the shorter stem's characters stand in the longer one in
    order, as a name is written with more or less before it or shortened (天津市红桥区, 红桥区; 荣程新能晋北线,
    晋北线; 天津医大总医院, 天津医科大学总医院; an English question's terms run together: 天津口腔医院 and
    市口腔医院, the city's 市 dropped), ending alike. Not 天津工业大学 and 河北工业大学, 天津大学 and 天津师范大学,
    nor 市第一中心医院 and 市第三中心医院.
    A stem named alone (元宝岛等3个特色公园) is checked by the caller."""
    x, y = _local(_stem(a)), _local(_stem(b))
    if not (_NUMBERED.search(x) and _NUMBERED.search(y)):  # an ordinal tells two apart only when both have one
        x, y = _NUMBERED.sub("", x), _NUMBERED.sub("", y)
    x, y = sorted((x, y), key=len)
    if len(x) < 2 or x[-1] != y[-1]:  # 天津 is not 天津师范
        return x == y
    rest = iter(y)
    return all(ch in rest for ch in x)  # x a subsequence of y


# A question for which one of a kind of place or body: 哪个场馆, 哪家医院, 在哪个镇, 什么银行.
_ASKS_WHICH = re.compile(r"(?:哪|什么)一?(?:个|家|座|所|条)?(?=[\u4e00-\u9fff])")
# Suffixes that name one kind of place or body: a venue may be a 中心 or a 广场, a road a 大道, a clinic a 中心.
_KINDS = (frozenset({"馆", "中心", "场", "酒店", "宾馆", "大厦", "广场", "基地", "园", "公园", "码头"}),
          frozenset({"路", "大道", "街"}),
          frozenset({"医院", "中心", "研究院"}),
          frozenset({"区", "新区", "开发区", "高新区", "保税区", "自贸区", "县", "镇", "乡", "村", "街道", "片区"}))


def _kind(given: str) -> str:
    """The suffix of the kind of place or body a question asks which one of (哪个场馆 → 馆, 哪家医院 → 医院, 哪个区 →
    区), or "" when the word asked about names no such kind (哪个部门, 哪些单位, 什么时候)."""
    for m in _ASKS_WHICH.finditer(given):
        suffix = _suffix(word_at(given[m.end():], 0))
        if suffix:
            return suffix
    return ""


# A count asked with its measure word and the noun it counts: 多少个学位, 几所学校, 多少家企业.
_ASKS_COUNT = re.compile(r"(?:多少|几)(?:个|所|家|条|座|辆|台|处|项|张|套|间|户|只|架|艘|件|份|场|批|类|种)"
                         r"(?=[\u4e00-\u9fff])")
# How far after a count its noun may come (2000个幼儿园学位).
COUNTED_REACH = 6


def _counted(given: str) -> str:
    """The noun a question asks the count of (新增多少个学位 → 学位, 多少项具体工作 → 工作), or ""."""
    m = _ASKS_COUNT.search(given)
    at = m.end() if m else len(given)
    while at < len(given) and at - (m.end() if m else 0) <= COUNTED_REACH:  # past a modifier: 多少项具体工作 → 工作
        word = word_at(given, at)
        if not word or not _CJK_WORD.match(word):
            break
        if len(word) > 1 and is_noun(word):
            return word
        at += len(word)
    return ""


def _counts_another(text: str, e: Entity, counted: str) -> bool:
    """True when the count ``e`` counts a noun other than the one asked (``counted``): 持续实施20项民心工程 says
    how many projects, not how many school places (新增学位1.1万个, 2000个幼儿园学位 count them)."""
    after = word_at(text, e.end)
    return len(after) > 1 and is_noun(after) and counted not in text[e.end:e.end + len(counted) + COUNTED_REACH]


# The year an amount is of: the last one written before it in its clause (2026年20项民心工程, 2025年营收超770亿元,
# 天津市2025年跨境人民币结算量超6300亿元), not a year it is compared with (较2024年增长, 与2020年相比).
_YEAR_BEFORE = re.compile(r"(?<![较比与自从])(\d{4})年[^，,。；;：:！？!?\d]{0,20}$")
_YEAR = re.compile(r"(\d{4})年")


def _of_another_year(text: str, e: Entity, asked: frozenset[str]) -> bool:
    """True when the amount ``e`` is a year's (``_YEAR_BEFORE``) and not one of the years the question names
    (``asked``): 2026年20项民心工程 does not say how many 2025 had."""
    m = _YEAR_BEFORE.search(text, 0, e.start)
    return m is not None and m.group(1) not in asked


def _suffix(name: str) -> str:
    """The suffix that makes ``name`` a place or a body (天津大学 → 大学), or ""."""
    m = _PLACE_SUFFIX.search(name) or _BODY_SUFFIX.search(name)
    return m.group(0) if m else ""


def _another_kind(name: str, kind: str) -> bool:
    """True when ``name`` is a place or body of another kind than the one asked (``kind``, a suffix): 天津大学 does not
    say in which hall (场馆) a meeting was held; 天津体育中心 may, and a 社区卫生服务中心 is a clinic."""
    own = _suffix(name)
    return bool(own) and own != kind and not any(
        any(own.endswith(a) for a in k) and any(kind.endswith(b) for b in k) for k in _KINDS)


def cue_positions(text: str, answer_type: str, units: frozenset[str] = frozenset(), given: str = "",
                  stated: str | None = None, names: str | None = None, before: str = "") -> list[int]:
    """Where ``text`` holds something of the expected answer type: entity starts (of the asked unit, when the
    question names one), or cue words for yes/no, procedure, reason and list questions (empty otherwise).

    An entity the question itself states (``given``) answers nothing: 在天津召开 does not say in which of Tianjin's
    halls a meeting was held, nor 新建50个口袋公园 how many parks there are when the question said 50. Nor, when
    the question asks when something ends, does a time that starts something (从2月2日14时起启动), nor a total
    when it asks an amount per household, per month… (see ``_ASKS_RATE``), nor a total over parties listed when it
    asks about one of them (``_TOTAL``), nor an average over years when it asks no average, nor a share when it
    asks how much something grew (``_CHANGE``). Asked for the holder of a post, only a person answers; asked who
    did something, only whoever the sentence has doing it; asked for papers, only words naming papers are cues
    (``_ASKS_TITLE``, ``_ASKS_WHO``, ``_ASKS_MATERIALS``). Asked which one of a kind of place or body (哪个场馆),
    a name of another kind does not answer (``_another_kind``). ``stated``, when given, is what the question
    states (its whole message), and ``given`` the one question of it whose ask is read. What is said of another
    district, hospital, university, company or line than the ones the question names does not answer
    (``_of_another``): ``names`` is the text naming them, when not what the question states (an English question's
    Chinese focus terms), and ``before`` the sentence before ``text`` in its passage, which a sentence opening with
    该 refers back to."""
    asks = _asks(given)
    said = given if stated is None else stated
    # Names stated anywhere in the message count for each of its questions (将有多少家企业入驻？ after 北辰区的园区…).
    named = named_things(names if names is not None else said)
    sorts = asked_sorts(given) if names is None else ()
    years = frozenset(_YEAR.findall(said))
    if answer_type in ANSWERED_BY:
        # Asked who holds a post (主任是谁, the director), a person answers, not the body they work for.
        wanted = frozenset({"person"}) if answer_type == "person" and asks.title else ANSWERED_BY[answer_type]
        coarse = answer_type == "duration" or asks.finer
        no_rate = answer_type == "quantity" and asks.rate and not _STATES_RATE.search(text)
        no_average = answer_type == "quantity" and not asks.average
        # A time yet to be set answers "when" as plainly as a date (恢复运营时间将另行通知).
        unset = [m.start() for m in _UNSET_TIME.finditer(text)] if answer_type == "time" else []
        return sorted(unset + [
            e.start for e in entities(text)
                if e.type in wanted and (not units or e.type not in ("quantity", "duration") or e.unit in units)
                and not (no_rate and e.type == "quantity")
                and not (no_average and e.type == "quantity" and _AVERAGED.search(text, 0, e.start))
                and not (e.type == "quantity" and given and not asks.total
                         and (_one_of_several(text, e, given) or _after_several(text, e, given)))
                and not (asks.growth and e.unit in _RATES and not _a_change(text, e.start))
                and not (asks.level and e.type == "quantity" and _a_change(text, e.start))
                and not (asks.whole and e.type == "quantity" and _per_head(text, e.start))
                and not (e.type == "quantity" and text[e.end:e.end + 1] == "级" and "级" not in said)
                and not (units and answer_type == "duration" and e.type == "time")
                and not (coarse and _RELATIVE_YEAR.match(e.text))
                and not (asks.end and e.type == "time" and _starts(text, e.end))
                and not (said and e.text in said)
                and not (asks.kind and e.type in ("place", "body") and _another_kind(e.text, asks.kind))
                and not (named and e.type not in ("place", "body") and _of_another(text, e, named, before))
                and not (sorts and e.type == "quantity" and _of_another_sort(text, e, sorts, before))
                and not (asks.counted and e.type == "quantity" and _counts_another(text, e, asks.counted))
                and not (years and e.type == "quantity" and _of_another_year(text, e, years))
                and not (asks.act and e.type in ("person", "body", "role") and not _does(text, e.end, asks.act))
        ])
    cue = {"yesno": _YESNO, "procedure": _PROCEDURE, "reason": _REASON, "list": _LIST}.get(answer_type)
    if answer_type in ("procedure", "list") and asks.materials:
        cue = _MATERIALS  # what to hand in is named by the papers themselves, not by 申请 or 办理
    if cue is None:
        return []
    # Nor does a list the question states (包括北京市全域和环京12个区县, asked which the 12 are).
    return [m.start() for m in cue.finditer(text)
            if not (answer_type == "list" and given and _stated(_CLAUSE_END.split(text[m.end():], 1)[0], given))]


def _starts(text: str, end: int) -> bool:
    """True when the time ending at ``end`` starts something (``_STARTS``), or is what something has gone on since
    that is not an ending (``_SINCE``)."""
    since = _SINCE.match(text, end)
    return bool(_STARTS.match(text, end) or (since and not _ASKS_END.search(since.group())))


def _one_of_several(text: str, e: Entity, given: str) -> bool:
    """True when the amount ``e`` is a total (``_TOTAL`` just before it, or 累计… in it) over parties the sentence
    lists before it (the list nearest it), and the question (``given``) names one of them and no other (see
    ``_TOTAL``)."""
    if not (_TOTAL.search(text, 0, e.start) or _TOTAL_OPENS.match(e.text)):
        return False
    listed = [m.group() for m in _LISTED.finditer(text, 0, e.start)]
    if not listed:
        return False
    parties = listed[-1].split("、")
    parties[0] = _DEALS_WITH.sub("", parties[0], count=1) or parties[0]

    def named(j: int) -> bool:  # by a run of its own: 卡雷尔机器人, not the 科技有限公司 every party shares
        own = parties[j]
        return any(run in given and not any(run in p for p in parties if p is not own) for run in _runs(own))

    return sum(named(j) for j in range(len(parties))) == 1


def _after_several(text: str, e: Entity, given: str) -> bool:
    """True when the amount ``e`` comes after a party the question names and the things it stands first of
    (建成塘沽一中新校区等7所学校，新增学位1.1万个): the amount, and the count, are the several's, not the named
    one's."""
    for m in _AND_OTHERS.finditer(text):
        party = m.group("party")
        # The question names the party: its head word and a run of it (校区 and 塘沽一; 全市新增多少学位？ names no
        # 幼儿园 of 全市新建幼儿园, though it holds 全市新).
        head = list(word_ends(party).values())[-1]
        if m.end("party") <= e.start and len(head) > 1 and head in given and any(run in given for run in _runs(party)):
            return True
    return False


def _runs(party: str) -> list[str]:
    """The runs of ``PARTY_RUN`` characters of ``party``: a question names a party by one of them."""
    return [party[i:i + PARTY_RUN] for i in range(len(party) - PARTY_RUN + 1)]


def _a_change(text: str, start: int) -> bool:
    """True when the rate at ``start`` is a change (see ``_CHANGE``)."""
    changes = list(_CHANGE.finditer(text, max(0, start - CHANGE_REACH), start))
    return bool(changes) and not _NOT_A_CHANGE.search(text[changes[-1].end():start])


def _does(text: str, end: int, act: str) -> bool:
    """True when ``act`` follows the name ending at ``end`` closely enough to be what it did (``ACT_REACH``)."""
    return act in text[end : end + len(act) + ACT_REACH]


_CLAUSE_END = re.compile(r"[，,。；;：:！？!?]")
# The share of a clause's characters the question holds for the clause to be what the question states.
STATED_SHARE = 0.6


def _stated(clause: str, given: str) -> bool:
    """True when ``given`` holds most of ``clause``'s characters (not counting the list marks 、和及等, nor the
    question's asking characters: 包括以下几类产品 is not what 包括哪几类产品？ states). A clause that announces what
    follows (以下, 如下) states nothing."""
    if "以下" in clause or "如下" in clause:
        return False
    chars = [c for c in clause if c not in "、和及与等"]
    said = set(given) - set("哪几些什么多少怎")
    return bool(chars) and sum(c in said for c in chars) / len(chars) >= STATED_SHARE
