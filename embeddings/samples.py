"""Sample texts for embedding checks: corpus passages and sentences plus tokenizer edge cases."""

from __future__ import annotations

import json
import random
from pathlib import Path

# Hand-picked inputs that stress the tokenizer and the model: other scripts, full-width forms,
# compatibility characters, emoji, unknown code points, controls and whitespace-only strings.
EDGE_CASES: tuple[str, ...] = (
    # English, digits, punctuation
    "How much protein should a female eat per day?",
    "The quick brown fox jumps over the lazy dog.",
    "Tianjin municipal government held a press conference on Feb 9, 2026.",
    "GDP grew 5.2% year-on-year in Q4",
    "e-mail: info@tj.gov.cn, tel. +86 22 2345 6789",
    "C++ / Python 3.11 & Rust",
    "Mr. O'Neil's dog didn't bark; it's 5 o'clock.",
    "U.S.A. vs. U.K. -- COVID-19 vaccine, AI/ML/LLM RAG pipeline",
    "http://www.tj.gov.cn/zwgk/index.html?id=42&lang=zh",
    "#hashtag @user $100 50% *bold* _under_ ~tilde~ `code` <tag> {json: [1,2]}",
    "0123456789",
    "3.14159 2.71828 1e-12",
    "1,234,567.89元",
    "(a+b)^2 = a^2 + 2ab + b^2",
    # other scripts and accents
    "naïve café résumé",
    "Ünïcödé façade — “quotes” and ‘single’",
    "Straße in München",
    "Привет, мир",
    "مرحبا بالعالم",
    "שלום עולם",
    "नमस्ते दुनिया",
    "こんにちは世界、カタカナ ｶﾀｶﾅ ｶﾞｷﾞ",
    "안녕하세요 세계",
    "สวัสดีชาวโลก",
    "Xin chào thế giới",
    # Chinese specifics, full-width forms, compatibility characters
    "2026年2月9日下午3时30分",
    "第１２３号文件",
    "ＡＢＣ１２３ａｂｃ",
    "全角标点：，。！？；（）【】《》“”",
    "１２：３０",
    "￥１００元／吨",
    "№ 5 ½ ¼ ² ³ ™ ℃ ㎡ ①②③",
    "Ⅻ ⅳ ㈱ ㍿ ㋿ ﾃｽﾄ",
    "ligature ﬁ ﬂ ﬀ",
    "𝐀𝐁𝐂 𝕏 𝓐",
    "Ωmega µ µm Å K",
    "x²+y²=z² H₂O CO₂",
    "±×÷≠≤≥∞√∑∫ →←↑↓⇒ ©®§¶†‡",
    "。。。！！！……——～〜~",
    "【天津】天津市人民政府办公厅关于印发《天津市2026年政务公开工作要点》的通知",
    "津政办发〔2026〕5号",
    "京津冀协同发展 滨海新区 Binhai New Area",
    "数字123ABC混合abc中文",
    # emoji and rare / unknown characters
    "emoji 😀🎉👍🏽 ❤️ 👨‍👩‍👧 🇨🇳",
    "🙂",
    "⚡️🔥💯",
    "龘靐齉爩 𠀀𠀁 𪚥 𰻞𰻞面",
    "𠮷野家 䶮 㐀 㒸",
    "unknown \U000e0041 tag \U000f0000 pua \ue000",
    # combining marks after mapped characters, invisible characters, controls
    "a\u0301 e\u0301 ²\u0301 Ａ\u0301",
    "zero\u200bwidth\u200djoiner\ufeffbom",
    "control\x01\x02\x07chars",
    "soft\u00adhyphen",
    "\u2581already meta",
    # whitespace
    "",
    " ",
    "   ",
    "\t",
    "\n",
    "\r\n",
    " \t\n ",
    "\u3000",
    "\u3000\u3000全角空格",
    "tab\tseparated\tvalues",
    "line1\nline2\r\nline3",
    "  leading and trailing spaces  ",
    "multiple    spaces   here",
    "a",
    "1",
    "，",
    "天",
    "ab" * 40,
)

# Characters mixed at random into short strings (rare CJK, private use, combining marks, tags).
RARE_POOL: tuple[str, ...] = (
    "𠀀",
    "\U0002a6a5",
    "\ue000",
    " ",
    "天",
    "a",
    "😀",
    "\u0301",
    "，",
    "１",
    "\U000e0041",
    "𪚥",
    "\n",
)


def corpus_articles(corpus: Path) -> list[str]:
    """The ``finalContent`` texts of the corpus JSON file, or of every ``*.json`` in a folder."""
    files = sorted(corpus.glob("*.json")) if corpus.is_dir() else ([corpus] if corpus.is_file() else [])
    texts: list[str] = []
    for f in files:
        try:
            data = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for item in data if isinstance(data, list) else []:
            if isinstance(item, dict) and isinstance(item.get("finalContent"), str) and item["finalContent"]:
                texts.append(item["finalContent"])
    return texts


def corpus_sentences(articles: list[str], shortest: int = 4, longest: int = 120) -> list[str]:
    """Sentences of ``articles`` (split at 。！？ and carriage returns) of ``shortest``..``longest`` characters."""
    out = []
    for text in articles:
        for part in text.replace("\r", "。").replace("！", "。").replace("？", "。").split("。"):
            if shortest <= len(part.strip()) <= longest:
                out.append(part)
    return out


def rare_strings(rng: random.Random, n: int = 20) -> list[str]:
    """``n`` short random strings of RARE_POOL characters."""
    return ["".join(rng.choice(RARE_POOL) for _ in range(rng.randrange(1, 8))) for _ in range(n)]


def varied_strings(corpus: Path, n: int = 1000, seed: int = 20260209) -> list[str]:
    """``n`` varied strings for precision checks: the edge cases, rare-character strings, and corpus
    sentences and raw windows (20 to 300 characters, so up to ~220 tokens), half and half."""
    rng = random.Random(seed)
    out = list(EDGE_CASES) + rare_strings(rng)
    articles = corpus_articles(corpus)
    if not articles:
        raise FileNotFoundError(f"no corpus articles in {corpus}")
    sentences = corpus_sentences(articles)
    need = max(0, n - len(out))
    out += rng.sample(sentences, min(len(sentences), need // 2))
    while len(out) < n:
        text = rng.choice(articles)
        size = rng.choice((20, 50, 100, 200, 300))
        start = rng.randrange(max(1, len(text) - size))
        out.append(text[start : start + size])
    return out[:n]


# Texts the int8 graph's activation ranges are calibrated on (embeddings.onnx_export.calibrate):
# written for this purpose, in the styles the model meets here (Chinese government news and
# notices, questions, English, mixed scripts, lists and numbers), short and up to ~400 tokens.
# They are deliberately not taken from the corpus or from EDGE_CASES, which the checks use.
CALIBRATION_TEXTS: tuple[str, ...] = (
    "市政府召开常务会议，研究部署当前经济运行、安全生产和民生保障等重点工作。",
    "会议强调，要坚持稳中求进工作总基调，完整准确全面贯彻新发展理念，加快构建新发展格局，"
    "着力推动高质量发展，持续增强经济活力，防范化解重大风险，不断改善社会预期。",
    "为进一步优化营商环境，激发市场主体活力，现就有关事项通知如下：一、精简审批环节，"
    "推行“一网通办”和“最多跑一次”；二、降低企业用地、用能和物流成本；三、加大对中小微企业的"
    "信贷支持力度，落实减税降费政策；四、建立健全企业诉求快速响应机制，限时办结。",
    "各区人民政府，市政府各委、办、局：经市人民政府同意，现将《关于加快发展养老服务业的实施意见》"
    "印发给你们，请结合实际认真贯彻落实。",
    "今年以来，全市新增城镇就业人员12.3万人，城镇调查失业率控制在5.5%以内；居民人均可支配收入"
    "同比增长5.8%，一般公共预算收入完成年度预算的76.4%，重点项目完成投资1180亿元。",
    "冬季供暖期自11月1日起至次年3月31日止，供热单位应当确保居民室内温度不低于18℃。",
    "如何办理公积金提取？申请人可通过政务服务网、手机客户端或者到住房公积金管理中心服务窗口办理。",
    "纪检监察机关要紧盯“关键少数”，坚决纠治形式主义、官僚主义，持续深化整治群众身边的不正之风和腐败问题，"
    "一体推进不敢腐、不能腐、不想腐，以严的基调强化正风肃纪，营造风清气正的良好政治生态。",
    "港口集装箱吞吐量再创新高，航线网络持续加密，海铁联运班列开行数量同比增长两成以上。",
    "京津冀协同发展走深走实，交通一体化、生态环境联防联治、产业转移协作取得新进展。",
    "学校招生实行划片入学、免试就近入学，严禁以各类竞赛成绩、考级证书作为招生依据。",
    "城市更新行动：改造老旧小区312个，加装电梯560部，新建和改造燃气、供水、排水管网800余公里。",
    "乡村振兴：发展设施农业和特色种养业，完善农村基础设施，提升农村人居环境质量。",
    "科技型中小企业评价入库2.1万家，国家高新技术企业突破1.3万家，技术合同成交额增长15%。",
    "垃圾分类",
    "医保报销比例",
    "地铁开通时间表",
    "新能源汽车以旧换新补贴怎么申请",
    "人才落户需要哪些材料？",
    "2025年12月31日前完成",
    "第一条 为了规范政府信息公开工作，保障公民、法人和其他组织依法获取政府信息，制定本办法。"
    "第二条 本办法所称政府信息，是指行政机关在履行行政管理职能过程中制作或者获取的，"
    "以一定形式记录、保存的信息。第三条 行政机关公开政府信息，应当坚持以公开为常态、不公开为例外，"
    "遵循公正、公平、合法、便民的原则。",
    "The municipal government released its annual work report, setting a GDP growth target of around 5 percent.",
    "Where can I renew my residence permit, and how long does it take?",
    "Port throughput, foreign trade and cross-border e-commerce all grew faster than the national average.",
    "AI、大数据、5G、物联网等新技术加快应用，数字经济核心产业增加值占GDP比重达到10%以上。",
    "Tianjin 天津 Binhai 滨海 2026 No.5 文件 (draft) v2.1 — see http://www.example.gov.cn/notice",
    "一、总体要求 二、主要任务 （一）提升公共服务 （二）加强基层治理 （三）保障改善民生 三、保障措施",
    "据统计，1—11月全市规模以上工业增加值同比增长4.7%，其中高技术制造业增长9.2%，"
    "装备制造业增长6.5%；社会消费品零售总额增长3.9%，网上零售额增长11.3%；"
    "进出口总额8123.6亿元，增长2.4%。居民消费价格同比上涨0.3%，工业生产者出厂价格下降2.1%。"
    "分区看，滨海新区、西青区、东丽区增速居前。下一步将继续加大稳增长政策力度，"
    "扩大有效投资，提振消费需求，稳住外贸外资基本盘，推动经济持续回升向好。",
    "春节期间，全市各景区、商圈客流量明显增加，文化和旅游消费活跃，接待游客人次和旅游收入均实现两位数增长。",
    "请问社区养老服务中心提供哪些服务？是否可以申请上门助餐、助浴和日间照料？",
)
