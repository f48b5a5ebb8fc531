"""Question analysis: script, language, answer type, focus and key terms, translations, dates."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest

from rag.dates import (
    days_named,
    interpret,
    relative_days,
    relative_years,
    weekday_forms,
    without_document_years,
    years_asked,
    years_named,
    years_spanned,
)
from rag.query import QueryStats, analyze, answer_type, asking, asks_in_chinese, simplified, written_in
from rag.translate import ModelRelatedness, grade_forms

TODAY = dt.date(2026, 2, 10)  # a Tuesday: the newest article of the bundled corpus


@pytest.fixture(scope="module")
def stats(service):
    index = service.index()
    return QueryStats(index.document_frequency, index.vocabulary())


@pytest.mark.parametrize(("question", "kind"), [
    ("公积金贷款新的操作细则从哪天开始执行？", "time"),
    ("申请公积金贷款后，银行多长时间内完成审核？", "duration"),
    ("今年民心工程有多少项？", "quantity"),
    ("全国首届脑机接口开发者大会在天津哪个场馆召开？", "place"),
    ("粮食物流多式联运项目的施工单位是哪家？", "body"),
    ("谁主持了市政府党组民主生活会？", "person"),
    ("汽车以旧换新补贴怎么申请？", "procedure"),
    ("没有旧家电可以交，还能享受家电以旧换新补贴吗？", "yesno"),
    ("今年天津要举办哪些大型体育赛事？", "list"),
    ("环京12个区县具体是哪几个？", "list"),  # which ones, not how many
    # Which two, which nine: it asks (a question of several is cut there), for no one kind of thing.
    ("天津科技大学新成立的学院主攻哪两个方向？", "other"),
    ("“十五五”时期天津要突出抓好哪九方面重点任务？", "other"),
    ("地铁8号线列车采用几节编组？", "quantity"),  # 几 with any measure word counts
    ("天津跨境人民币结算量在全国排第几？", "quantity"),  # a rank is a number
    ("以旧换新补贴有问题打什么电话咨询？", "contact"),
    ("12345热线受理了多少件诉求？", "quantity"),  # about a hotline, not asking for its number
    ("What's the Tianjin Metro customer service hotline number?", "contact"),
    ("Who answers the hotline?", "person"),
    ("When do people go back to work after the 2026 Spring Festival holiday?", "time"),
    ("How many beds will the new Dongli campus have?", "quantity"),
    ("Who heads Honeywell's Greater China business?", "person"),
    ("Can I claim a Tianjin appliance subsidy voucher while travelling?", "yesno"),
    ("How do I apply for the car trade-in subsidy?", "procedure"),
    # A when/where/who after the question word opens a clause; an auxiliary opens a yes/no question, also after
    # a sentence of background.
    ("What extra item do I need when applying for a provident fund loan?", "other"),
    ("I took a loan in another city. Does that loan count when I apply in Tianjin?", "yesno"),
    ("Which minister held talks with Tianjin's leaders?", "person"),
    # Asked indirectly, the question is what follows.
    ("Can you tell me when the toll exemption starts?", "time"),
    ("Do you know who heads Honeywell's China business?", "person"),
    # What asks for a quantity when it asks for a measure noun that heads its phrase, a few plain words after it.
    ("What is the ticket price on Metro Line 8?", "quantity"),
    ("What's Tianjin's minimum wage in 2026?", "quantity"),
    ("What is the current interest rate for a provident fund loan?", "quantity"),
    ("What interest rate discount do I get on a consumer loan?", "quantity"),
    ("What is the total investment in Line 8?", "quantity"),
    ("What are the fees?", "quantity"),
    ("What was the contract value of the offshore project?", "quantity"),
    ("What are the core values of the campaign?", "list"),  # values that are no amount
    ("What values does the plan uphold?", "other"),
    ("What was the value of the contract for the wind project?", "quantity"),
    ("What R&D spending intensity target does Tianjin set?", "quantity"),  # a target is a figure
    ("What is Tianjin's 2026 target for new urban jobs?", "quantity"),
    ("What are the targets of the plan?", "list"),  # targets: the goals listed
    ("What is the policy on parking fees?", "other"),
    ("What is the maximum subsidy per item for a mobile phone?", "quantity"),  # the most of something: 最高补贴多少
    ("What caused the growth of tourism?", "other"),
    ("What is the cost-sharing mechanism for the project?", "other"),
    ("What does the price subsidy cover?", "other"),
    ("What is the purpose of the budget reform?", "other"),
    ("What is the deadline for the fee waiver?", "other"),
    ("What kind of value-added services are offered?", "list"),
    ("What documents prove my income?", "procedure"),
    # A weight, a height, a width is a figure too; so is how long a line is, not how long it is closed.
    ("How heavy is the topside?", "quantity"),
    ("How tall will the 117 tower be?", "quantity"),
    ("How long is the Jinbei hydrogen line?", "quantity"),
    ("How long is the Jinbei line and how much hydrogen do its trucks use?", "quantity"),
    ("How long will the road be closed?", "duration"),
    ("How long is the fund term?", "duration"),
    ("咋申请补贴？", "procedure"),  # 咋 asks how, as 怎么 does
    ("关掉的那几个地铁口啥时候重新开？", "time"),  # 啥时候 asks when; 那几个 (those few) asks no number
    ("这几天开放吗？", "yesno"),
])
def test_the_expected_answer_type(question, kind):
    assert answer_type(question, english=question.isascii()) == kind


def test_focus_terms_leave_out_question_words_and_key_terms_are_what_is_asked(stats):
    # A superlative qualifies the amount asked and names no detail: the loan is what the answer must be about.
    q = analyze("公积金贷款最高能贷多少？", stats, TODAY)
    assert q.focus == ("公积金贷款", "最高") and q.key == ("公积金贷款",) and q.answer_type == "quantity"
    q = analyze("霍尼韦尔天津工厂有多少名员工？", stats, TODAY)
    assert "员工" in q.key and not {"多少", "名"} & set(q.focus)
    # 多长时间 asks; an answer says 2个工作日, never 多长时间, so it is not a term the articles could lack.
    q = analyze("报废旧车申请补贴，这辆车需要在我名下满多长时间？", stats, TODAY)
    assert "多长时间" not in q.focus and q.key == ("名下",)
    # jieba glues a locative to a modal (时间内能做 → 内能, internal energy) and "still" (还有) to nothing asked.
    q = analyze("老人髋部骨折，在天津多长时间内能做上手术？", stats, TODAY)
    assert "内能" not in q.focus and "手术" in q.focus
    assert "内需" in analyze("提振内需的政策有哪些？", stats, TODAY).focus  # demand, no modal
    assert "还有" not in analyze("春节后还有哪个周六要补班？", stats, TODAY).focus
    assert "多重" not in analyze("启运的构件有多重？", stats, TODAY).focus
    # A request's verb is its form, as "tell me about" is: 王荃介绍 in a passage names nothing asked.
    assert analyze("介绍一下今年的民心工程", stats, TODAY).focus == ("今年", "民心工程")
    assert "讲讲" not in analyze("给我讲讲意式风情区有什么好玩的。", stats, TODAY).focus
    # A Latin name stays apart from the Chinese words around it (AI, 开, 处方: not one term ai开处方).
    assert "ai开处方" not in analyze("网上问诊能用AI开处方吗？", stats, TODAY).focus


def test_a_word_jiebas_hmm_made_up_that_no_dictionary_or_article_knows_is_split_back(stats):
    # 后能储 (后 + 能 + 储) and 有多远 are no words: kept whole they would read as terms the articles lack.
    q = analyze("保税区粮食物流多式联运项目建成后能储多少粮？", stats, TODAY)
    assert "后能储" not in q.focus and "粮食" in q.focus
    assert "有多远" not in analyze("荣程新能新开的氢能运输线晋北线往返有多远？", stats, TODAY).focus
    # Nouns stay even of one character: 养狗 → 狗, what the articles lack.
    assert analyze("养狗需要去哪里办狗证？", stats, TODAY).key == ("狗",)
    # Kept whole: a name the articles use (陈敏尔), a word CC-CEDICT has (限行).
    assert "陈敏尔" in analyze("陈敏尔2月9日这一天都有哪些活动？", stats, TODAY).focus
    assert analyze("重污染应急期间私家车要按尾号限行吗？", stats, TODAY).key == ("限行",)


@pytest.mark.parametrize(("question", "key", "not_key"), [
    ("天开园现在有多少注册企业？", "注册", "现在"),  # a time word
    ("银河麒麟操作系统V11最近有什么消息？", "消息", "最近"),  # a locative
    ("市管主要领导干部学习四中全会精神专题研讨班一共办几天？", "研讨班", "一共"),  # "in all" asks, names nothing
    ("家里有两个孩子，之前公积金贷过一次款已经还完了，这次还能按首套贷吗？", "首套", "一次"),  # jieba: both numerals
    ("十四五有哪些成就？", "十四五", None),  # a numeral to jieba, a noun in our dictionary
    ("While in Tianjin, where did Science and Technology Minister Yin Hejun visit?", "阴和俊", "当时"),
])
def test_key_terms_are_words_that_can_name_the_asked_detail(stats, question, key, not_key):
    q = analyze(question, stats, TODAY)
    assert key in q.key and not_key not in q.key


def test_an_english_key_is_the_whole_noun_group_where_the_question_asks(stats):
    # "football pitches": the head (pitches) is the asked thing, football only says which kind.
    q = analyze("How many football pitches are there on Mars?", stats, TODAY)
    assert len(q.key) == 2 and q.key[0] == "足球" and "火星" not in q.key
    # Whole words only: "port" inside "importance" does not join the port to the group.
    q = analyze("What is the importance of the port?", stats, TODAY)
    assert q.key and "港口" not in q.key


def test_traditional_questions_are_read_in_simplified_characters_and_simplified_ones_untouched(stats):
    q = analyze("公積金可以用來付房租嗎？", stats, TODAY)
    assert q.traditional and q.search_text == "公积金可以用来付房租吗？"
    assert simplified("今年要新增多少学位？") == "今年要新增多少学位？"  # tw2sp would say 添加: not applied
    # Taiwan phrasing is mapped when the corpus uses the mainland words (軟體 → 软件), and words both sides share
    # stay as written (新增 is not 添加, 聯絡站 not 联系站: the articles say 新增 and 联络站).
    assert simplified("開發者大會發佈的開源軟體平臺", stats.term_frequency) == "开发者大会发布的开源软件平台"
    assert analyze("2025年天津新增了多少就業？", stats, TODAY).search_text == "2025年天津新增了多少就业？"
    assert "联络站" in analyze("天開園的全球聯絡站開了哪幾個？", stats, TODAY).focus


def test_english_questions_get_chinese_terms_ranked_by_the_corpus(stats):
    q = analyze("Can I withdraw money from my Tianjin housing provident fund to pay rent?", stats, TODAY)
    assert q.language == "en" and {"住房公积金", "公积金"} <= set(q.terms)
    phrases = {m.english.lower(): m.chinese for m in q.translations}
    assert phrases["housing provident fund"][0] == "住房公积金"
    q = analyze("Which village did Chen Min'er visit during his inspection trip to Jizhou District?", stats, TODAY)
    names = {m.english: m.chinese[0] for m in q.translations}
    assert names["Chen Min'er"] == "陈敏尔"  # by pinyin, from the corpus's words
    assert names["Jizhou District"] == "蓟州区"  # Tianjin's districts by the glossary, 区 and all
    assert "号线" in "".join(analyze("Is Tianjin Metro Line 8 driverless?", stats, TODAY).terms)


def test_a_verb_asked_a_not_a_and_one_thing_counted_are_no_focus_terms(stats):
    # A caution said 找到的段落没有提到：算不算; one car (一辆) is no detail a passage must name.
    assert analyze("买一辆新能源车算不算以旧换新？", stats, TODAY).focus == ("新能源", "以旧换新")
    # The 一件事 service is a name.
    assert "一件" in analyze("现在去政府部门办“一件事”比以前快了多少？", stats, TODAY).focus


def test_a_time_question_word_is_not_glued_to_the_word_after_it(stats):
    # jieba cuts 哪天开的 as 哪 / 天开 / 的 (天开 is 天开园's): a caution then said the passages lack 天开.
    assert analyze("民心工程新闻发布会是哪天开的？", stats, TODAY).focus == ("民心工程", "新闻", "发布会")
    assert analyze("地铁几点开始运营？", stats, TODAY).focus == ("地铁", "开始", "运营")


def test_a_pointing_word_is_no_focus_term(stats):
    # Named as missing, it reads as nonsense: 没有提到：这款.
    assert analyze("这款固液电池什么时候量产？", stats, TODAY).focus == ("固液", "电池", "量产")
    # Words jieba also tags as pronouns stay (每月, 本科).
    assert {"每月", "本科"} <= set(analyze("本科高校每月补贴多少？", stats, TODAY).focus)
    # Nor with its measure word (那条, 这辆: jieba's mq): 找到的段落没有提到：那条.
    assert "那条" not in analyze("那条氢能线路投入了多少辆重卡？", stats, TODAY).focus
    assert "这辆" not in analyze("报废旧车申请补贴，这辆车需要在我名下满多长时间？", stats, TODAY).focus


def test_chinese_words_in_an_english_question_are_kept_as_written(stats):
    # Translation reads Latin words only: 地铁8号线 was dropped, and the question searched for 站 and 8 alone.
    q = analyze("How many stations does 地铁8号线 have?", stats, TODAY)
    assert q.language == "en" and {"地铁", "8号线"} <= set(q.focus)
    assert analyze("How many stations does 地鐵8號線 have?", stats, TODAY).focus == q.focus  # read in Simplified
    q = analyze("AI开处方 allowed吗？", stats, TODAY)
    assert "处方" in q.terms and not any("吗" in t for t in q.terms)  # a particle is no term
    assert "款" not in analyze("What does 这款 battery offer?", stats, TODAY).terms  # nor a pointing word


def test_a_numbered_name_is_one_term_and_a_closing_particle_none(stats):
    # Cut apart, 6号线 would read as any line, and 线呢 as a term the articles lack.
    assert "6号线" in analyze("地铁6号线有多少座车站？", stats, TODAY).focus
    assert "6号线" in analyze("How many stations does Metro Line 6 have?", stats, TODAY).focus
    q = analyze("那6号线呢？", stats, TODAY)
    assert "6号线" in q.focus and not any("呢" in t for t in q.terms)
    assert analyze("可以用公积金付房租吗？", stats, TODAY).answer_type == "yesno"  # 吗 still asks yes or no
    assert "酒吧" in analyze("天津有哪些酒吧？", stats, TODAY).focus  # 吧 ends nouns too


def test_a_number_and_the_project_it_names_are_one_term(stats, service):
    # The 117 Project is one project: 项目 alone would be named by any project's sentence (该多式联运项目总投资…).
    assert "117项目" in analyze("117项目总投资多少？", stats, TODAY).focus
    assert "117项目" in service.analyze("What is the total investment of the 117 Project?").focus
    # Five projects are counted, not named.
    assert "5项目" not in service.analyze("How much will the 5 projects cost?").focus


def test_a_letter_names_one_of_several_things_of_a_kind():
    from rag.query import lettered, same_kind

    assert lettered("文化中心站J口到底哪天能恢复？") == [(frozenset("J"), "口")]
    assert lettered("文化中心站H、G出入口将恢复运营") == [(frozenset("HG"), "出入口")]
    assert lettered("5G网络覆盖全市") == [] and lettered("AI赋能") == []
    assert same_kind("口", "出入口") and same_kind("出口", "出入口") and not same_kind("座", "区")


def test_a_numbered_name_is_named_only_with_its_own_number():
    from rag.query import names

    assert names("将与6号线二期实现贯通运营", "6号线") and not names("地铁16号线全长", "6号线")
    assert names("公积金贷款", "贷款")


def test_a_contracted_question_word_or_a_bare_particle_is_not_translated(stats):
    # CC-CEDICT reads "what's the" as 我去 and "out" as 一空; "paid out" is what a government 发放s.
    q = analyze("What's the Tianjin Metro customer service hotline number?", stats, TODAY)
    assert [m.english for m in q.translations] == ["Tianjin", "Metro", "customer service", "hotline"]
    q = analyze("How much was paid out in employment subsidies in 2025?", stats, TODAY)
    phrases = {m.english: m.chinese for m in q.translations}
    assert phrases["paid out"][0] == "发放" and "out" not in phrases and "一空" not in q.terms
    # A conjunction is no term: "while" is not 当时.
    q = analyze("Are fireworks banned in Tianjin while the orange alert is in effect?", stats, TODAY)
    assert "当时" not in q.focus and "while" not in {m.english for m in q.translations}


def test_a_subsidy_is_claimed_and_a_meeting_chaired_in_the_words_of_government_news(stats):
    # CC-CEDICT's "claim" is 谎称 (to claim falsely) and "chair" a 椅子: both were named as missing from answers.
    q = analyze("Can I claim the childcare subsidy online?", stats, TODAY)
    assert "申领" in q.focus and "谎称" not in q.terms
    assert "主持" in analyze("Who chaired the 97th executive meeting?", stats, TODAY).focus
    assert "椅子" in analyze("How many dental chairs will the campus have?", stats, TODAY).terms  # a chair stays


@pytest.mark.parametrize(("question", "named", "not_named"), [
    # A rule comes into force (施行), not 来到 + 动力; a response to pollution is a 响应, not a reply (回应).
    ("When did the new housing fund rules come into force?", {"施行"}, {"来到", "动力"}),
    ("What measures apply under a Level I heavy air pollution response?", {"响应"}, {"回应"}),
    # A dealer sells cars (经销商), not 业者; residents who work out in a fitness park exercise (健身, not 适存度).
    ("Which second-hand car dealer buys old cars under the trade-in rules?", {"经销商"}, {"业者"}),
    ("Where can residents work out in the new community fitness parks?", {"健身"}, {"适存度"}),
    # An outpatient appointment is booked (预约), not an official's appointment (任命).
    ("How do I book an outpatient appointment online?", {"门诊", "预约"}, {"任命"}),
    ("What attractions does the Jizhou district offer visitors?", {"景点"}, {"引力"}),
    ("What has Tianjin done for investment attraction this year?", {"招商引资"}, {"景点", "引力"}),
    # A subsidy's maximum is its 最高 (每件最高补贴500元), not a mathematical maximum (极大).
    ("What is the maximum subsidy per item for a mobile phone?", {"最高"}, {"极大"}),
    # RMB is settled (结算), not a 定居点; a metro line's extension is a 延伸线, not 外延; an alert is lifted (解除),
    # not raised (提升); a programme ends (结束), not a 终端; a restaurant serves set menus (套餐), not 集合.
    ("How large was Tianjin's cross-border RMB settlement in 2025?", {"结算"}, {"定居点"}),
    ("How long is Metro Line 8 Phase 1 plus its extension?", {"延伸线"}, {"外延"}),
    ("When will the orange alert be lifted?", {"解除"}, {"提升"}),
    ("When does the appliance trade-in programme end?", {"结束"}, {"终端"}),
    ("How much are the set menus for Chinese New Year's Eve dinner?", {"套餐", "除夕"}, {"集合", "系列"}),
    # A government's tasks are its 任务 (民心工程具体任务), not a research topic (课题).
    ("How many specific tasks are in Tianjin's 2026 people's livelihood projects?", {"任务"}, {"课题"}),
    # A government's programme is an 活动 (以旧换新活动), not a party's 纲领; a campaign an 行动, not a war's 征战; a
    # scheme a 政策, not a plot (谋划); an initiative a 举措, not the 主动权.
    ("When does the appliance trade-in program end?", {"活动"}, {"纲领"}),
    ("What has the air-pollution campaign achieved?", {"行动"}, {"征战"}),
    ("What does the subsidy scheme cover?", {"政策"}, {"谋划"}),
    ("What is the new trade-in initiative?", {"举措"}, {"主动权"}),
    # A coating system sprays paint (喷涂), which CC-CEDICT lacks: it gave only 喷洒 (to sprinkle).
    ("What is the maximum spraying capacity of the intelligent spraying system?", {"喷涂"}, {"喷洒"}),
    # Everyday names of what the trade-in subsidises: a fridge is a 冰箱 (CC-CEDICT knows only "refrigerator"),
    # smart glasses are 智能眼镜 (not 玻璃), and a hyphenated word no source knows is read as its parts.
    ("If I buy a new energy-efficient fridge, how much is the subsidy?", {"冰箱"}, {"新能源"}),
    ("Do smart glasses get the subsidy?", {"智能", "眼镜"}, {"玻璃"}),
    ("How much is the subsidy for an air-conditioner?", {"空调"}, set()),
    # Trucks are 卡车 (the articles' 重卡 is one), not only 货车; a rate per 100 km is written 百公里.
    ("How much hydrogen do the trucks on the Jinbei line use per 100 km?", {"卡车", "百公里"}, {"100"}),
    # "How long did it take" frames the question: CC-CEDICT read "take to" as 带给. A number groups its thousands.
    ("How long did it take to build the topside?", {"建设", "上部", "组块"}, {"带给", "构筑"}),
    ("How long did COOEC take to build the Shell Nigeria topside?", {"建设", "上部", "组块"}, {"带给"}),
    ("How long does it take for the new rules to take effect?", {"施行"}, {"带给"}),  # one take frames it
    ("Does the topside weigh 2,000 tonnes?", {"重量", "2000"}, {"000"}),
    # A total investment is 总投资, which 投资联合体 does not name.
    ("What is the total investment of the Line 8 project?", {"总投资"}, {"投资"}),
    # Tianjin's districts by their names (not 动力 "power", 喜庆 "festive"); hospitals by their kinds (a general
    # hospital is a 总医院, not 普遍; a central one a 中心医院, not 中央); a contract's value is its 合同金额.
    ("How many beds will the Dongli campus of the Third Central Hospital have?", {"东丽", "院区", "中心医院"},
     {"动力", "中央", "校区"}),
    ("Where is the new school in Xiqing?", {"西青"}, {"喜庆"}),
    ("How many new school places will Heping District add this year?", {"和平区"}, {"和平"}),
    ("How many beds does Tianjin Medical University General Hospital have?", {"医科大学", "总医院"}, {"普遍"}),
    ("What was the contract value of the project?", {"合同", "金额"}, {"价值"}),
])
def test_government_news_english_reads_in_the_senses_the_articles_use(stats, question, named, not_named):
    q = analyze(question, stats, TODAY)
    assert named <= set(q.focus) and not not_named & set(q.focus)


def test_an_english_words_sense_is_chosen_by_the_whole_question(stats, service):
    # CC-CEDICT's first sense of "minister" is 公使 (an envoy) and of "demonstration" 示威 (a protest); the
    # multilingual model reads the question and picks the sense the articles use.
    def first(question: str, phrase: str, relatedness=service.relatedness) -> str:
        q = analyze(question, stats, TODAY, relatedness)
        return next(m.chinese[0] for m in q.translations if m.english.lower() == phrase)

    minister = "Which minister of science and technology held talks with Tianjin's leaders on January 31?"
    assert first(minister, "minister", None) == "公使" and first(minister, "minister") == "部长"
    battery = "When will Nankai University's new solid-liquid battery go into demonstration operation?"
    assert first(battery, "demonstration") == "示范"
    # A plural is read with its singular: "banks" alone is the surname 班克斯; with "bank" it is 银行 too.
    assert first("How many banks in Tianjin offer the new loans?", "banks") == "银行"


def test_a_phrase_the_articles_never_use_reads_as_an_everyday_word(stats):
    # The corpus has no word for motorcycles: the term kept (so the reader can say it is missing) is the common
    # 摩托车, not CC-CEDICT's first gloss, the Taiwanese 机踏车.
    q = analyze("Are motorcycles exempt from expressway tolls during the Spring Festival?", stats, TODAY)
    assert next(m.chinese for m in q.translations if m.english == "motorcycles") == ("摩托车",)


def test_a_latin_term_in_a_chinese_question_is_also_read_in_chinese(stats):
    # Articles write GDP and 地区生产总值 alike: both are searched, and a sentence naming either names the term.
    q = analyze("去年天津GDP增长了多少？", stats, TODAY)
    assert {"地区", "生产总值"} <= set(q.terms) and "gdp" in q.focus  # the search tokens of 地区生产总值
    m = next(m for m in q.translations if m.chinese[0] == "gdp")
    assert "地区生产总值" in m.chinese


def test_internet_reads_as_the_articles_write_it(stats):
    q = analyze("How long must internet consultation records be kept?", stats, TODAY)
    assert next(m.chinese for m in q.translations if m.english == "internet")[0] == "互联网"


def test_an_abbreviation_with_an_ampersand_is_translated(stats):
    q = analyze("What R&D spending intensity target does Tianjin set?", stats, TODAY)
    assert "研发" in q.focus and q.answer_type == "quantity"


def test_a_sense_chosen_does_not_depend_on_the_questions_asked_before(embedder):
    question, terms = "Which minister held talks?", ["部长", "公使"]
    fresh = ModelRelatedness(embedder)(question, terms)
    warmed = ModelRelatedness(embedder)
    warmed("the minister's deputy and the envoy met the press", ["部长", "公使", "大臣"])  # caches 部长 and 公使
    assert warmed(question, terms) == fresh


@pytest.mark.parametrize(("question", "span", "source"), [
    ("2月4日天津发布了哪些通知？", ("2026-02-04", "2026-02-04"), "2月4日"),
    ("2月3日至4日开的大会来了多少人？", ("2026-02-03", "2026-02-04"), "2月3日至4日"),
    ("What was announced on February 4?", ("2026-02-04", "2026-02-04"), "February 4"),
    ("What happened on 6 Feb?", ("2026-02-06", "2026-02-06"), "6 Feb"),
    ("上周发布的政策有哪些？", ("2026-02-02", "2026-02-08"), "上周"),
    ("昨天陈敏尔去了哪里？", ("2026-02-09", "2026-02-09"), "昨天"),
    ("春节假期安排是什么？", ("2026-02-15", "2026-02-23"), "春节"),
    ("2026年2月有哪些新政策？", ("2026-02-01", "2026-02-28"), "2026年2月"),
    ("北京明天天气怎么样？", ("2026-02-11", "2026-02-11"), "明天"),
    ("What is on the day after tomorrow?", ("2026-02-12", "2026-02-12"), "day after tomorrow"),
    ("下周有什么活动？", ("2026-02-16", "2026-02-22"), "下周"),
    ("How much is dinner on Chinese New Year's Eve?", ("2026-02-16", "2026-02-16"), "Chinese New Year's Eve"),
])
def test_dates_and_periods_become_a_range(question, span, source):
    d = interpret(question, TODAY)
    assert (d.date_from.isoformat(), d.date_to.isoformat(), d.source) == (*span, source)


@pytest.mark.parametrize(("text", "spans"), [
    ("2月5日，市委常委会召开会议", [("2026-02-05", "2026-02-05")]),
    ("春节假期从2月15日持续到2月23日共计9天", [("2026-02-15", "2026-02-23")]),
    ("2月15日00:00至2月23日24:00，免费通行", [("2026-02-15", "2026-02-23")]),
    ("1月16日至29日，年夜饭相关产品成交额", [("2026-01-16", "2026-01-29")]),
    ("2025年3月5日和2月6号", [("2025-03-05", "2025-03-05"), ("2026-02-06", "2026-02-06")]),
    ("从2月2日14时起启动Ⅱ级应急响应", [("2026-02-02", "2026-02-02")]),
    ("2月15日（星期日）至23日", [("2026-02-15", "2026-02-23")]),
    ("活动自9月1日至2026年12月31日", [("2025-09-01", "2026-12-31")]),  # a yearless day in the year nearest
    ("2月30日", []), ("增长4.5%", []),
    # Not a line number, nor text running on to another day: 8号线 is no day, 至12号线 no range.
    ("今年2月8号线开通", []), ("2月1日至12号线", [("2026-02-01", "2026-02-01")]),
    ("2月1日发布的2月3日至5日安排", [("2026-02-01", "2026-02-01"), ("2026-02-03", "2026-02-05")]),
])
def test_the_days_a_text_writes_out_alone_or_as_a_range(text, spans):
    named = days_named(text, dt.date(2026, 2, 5))
    assert [(d.date_from.isoformat(), d.date_to.isoformat()) for d in named] == spans


def test_an_articles_relative_days_are_read_from_its_date():
    # News of 2月4日 saying 昨天 names 2月3日; without the article's date, only written days count.
    text = "地铁8号线一期及延伸线工程于昨天顺利实现环网电通，2月10日起试运行。"
    named = days_named(text, dt.date(2026, 2, 4), relative=True)
    assert [(d.date_from.isoformat(), d.source) for d in named] == [("2026-02-10", "2月10日"), ("2026-02-03", "昨天")]
    assert [d.source for d in days_named(text, dt.date(2026, 2, 4))] == ["2月10日"]
    # Day words inside other words name no day: 目前天津, 共创美好明天, 明日之星.
    assert days_named("目前天津已建成5个站点，共创美好明天，争做明日之星。", dt.date(2026, 2, 4), relative=True) == []
    assert [(d.date_from.isoformat(), d.source) for d in relative_days(text, dt.date(2026, 2, 4))] == [
        ("2026-02-03", "昨天")]



def test_a_grade_is_written_with_a_chinese_or_a_roman_numeral(stats):
    assert grade_forms("二级") == ("Ⅱ级",) and grade_forms("Ⅳ级") == ("四级",) and grade_forms("等级") == ()
    # "Level II" reads 二级, and Ⅱ级 as the alert writes it.
    q = analyze("What does the Level II emergency response require?", stats, TODAY)
    assert next(m.chinese for m in q.translations if m.english == "Level II") == ("二级", "Ⅱ级")


def test_a_spelled_ordinal_inside_a_name_is_part_of_it_and_elsewhere_prose(stats):
    q = analyze("How many beds will Tianjin First Central Hospital have?", stats, TODAY)
    assert q.focus[q.focus.index("第一") + 1] == "中心医院"  # in place, so the name reads 第一中心医院
    assert "第一" not in analyze("When does the first stage open?", stats, TODAY).focus


def test_a_weekday_has_three_names():
    assert set(weekday_forms("周六")) == {"星期六", "礼拜六"}
    assert set(weekday_forms("星期天")) == {"周日", "星期日", "礼拜日", "礼拜天"}  # not 周天: 本周天津, 一周天气
    assert weekday_forms("周末") == weekday_forms("上周") == ()


def test_a_span_of_years_holds_every_year_in_it():
    assert years_spanned("2024—2026年行动方案；“十五五”时期(2026-2030年)") == set(range(2024, 2031))
    assert years_spanned("2024年至2026年") == {2024, 2025, 2026} and years_spanned("2024年、2026年") == set()


def test_an_articles_other_years_are_read_from_its_year():
    assert relative_years("自去年4月复工建设以来，明年投用", 2026) == [("去年", 2025), ("明年", 2027)]
    # Not inside other words, nor the article's own year; 去年同期 is last year's.
    for text in ("提前年底完成", "说明年度计划", "过去年份的数据", "今年目标", "春节前年货市场", "年前年后都可办理",
                 "需注明年龄", "写明年限", "三年前年产值"):
        assert relative_years(text, 2026) == [], text
        assert years_named(text, 2026) in ((), (2026,)), text  # the reader's year features read them alike
    assert relative_years("去年同期增长5%", 2026) == [("去年", 2025)] and years_named("last year's", 2026) == (2025,)
    assert relative_days("如今日益完善", dt.date(2026, 2, 4)) == []


@pytest.mark.parametrize("question", ["目前天津有多少家医院？", "今后天津的发展目标是什么？", "说明天津的情况",
                                      "如今天津发展如何？", "这周边有什么景点？", "目前天气怎么样？"])
def test_a_day_word_inside_another_word_is_no_date(question):
    assert interpret(question, TODAY) is None


def test_a_yearless_day_is_the_nearest_one():
    # Asked on 2026-02-10, 12月20日 is last December's (not ten months ahead), 2月20日 this month's.
    assert interpret("12月20日天津发生了什么？", TODAY).date_from.isoformat() == "2025-12-20"
    assert interpret("2月20日高速免费吗？", TODAY).date_from.isoformat() == "2026-02-20"


def test_a_festival_past_the_tables_last_year_is_the_latest_one_not_the_oldest():
    d = interpret("春节假期安排是什么？", dt.date(2028, 6, 1))
    assert (d.date_from.isoformat(), d.date_to.isoformat()) == ("2027-02-05", "2027-02-11")


@pytest.mark.parametrize(("text", "years"), [
    ("2025年天津GDP增长多少？", (2025,)), ("What was GDP growth in 2025?", (2025,)), ("去年和今年", (2025, 2026)),
    ("last year's target", (2025,)), ("“十四五”以来年均增长4.4%", ()), ("编号12025年", ()), ("增长4.5%", ()),
    ("补贴2000元", ()), ("消费券2050万元", ()), ("接待2080人次", ()), ("In 2025, GDP grew", (2025,)),
])
def test_the_years_a_text_names_written_out_or_relative_to_its_present(text, years):
    assert years_named(text, 2026) == years


@pytest.mark.parametrize(("question", "years"), [
    ("2024年天津跨境人民币结算量是多少？", (2024,)), ("In 2024, how many new urban jobs were created?", (2024,)),
    ("2025年的GDP是多少？", (2025,)), ("到2030年数字经济占比目标是多少？", (2030,)),
    # A year in a condition is not the time of what is asked.
    ("我有辆2012年上牌的汽油车，能补贴多少钱？", ()), ("2013年6月30日前注册的车能报废吗？", ()),
    ("2024年以来增长了多少？", ()), ("Cars registered before 2013 get how much?", ()), ("去年增长多少？", ()),
    ("Can I scrap a petrol car that was registered in 2014?", ()), ("宴津门去年（2025年）的套餐价格是多少？", (2025,)),
])
def test_the_years_a_question_asks_for_are_written_out_and_not_a_condition(question, years):
    assert years_asked(question) == years


def test_a_documents_number_or_edition_names_no_years_figures():
    assert years_named(without_document_years("按照《预案》（津政办规〔2023〕9号）有关规定"), 2026) == ()
    assert years_named(without_document_years("《标准（2023年版）》认证，2025年营收增长"), 2026) == (2025,)


def test_the_years_a_question_asks_about_are_part_of_its_analysis(stats):
    assert analyze("去年天津GDP增长了多少？", stats, TODAY).years == (2025,)
    assert analyze("天津地铁8号线有什么进展？", stats, TODAY).years == ()


def test_questions_without_a_date_have_none():
    assert interpret("今年民心工程有多少项？", TODAY) is None and interpret("How many parks?", TODAY) is None


@pytest.mark.parametrize(("question", "dropped", "kept"), [
    ("1月30日下午市政府党组开的民主生活会是谁主持的？", {"30"}, {"民主生活会", "主持"}),
    ("2月3日至4日在天津开的脑机接口开发者大会来了多少人？", {"日至"}, {"大会"}),
    ("上周四市委常委会合并召开了什么会议？", {"上周四"}, {"常委会"}),
    ("Which minister held talks in Tianjin on January 31?", {"31"}, {"天津"}),
    ("春节开车走高速免费吗？", set(), {"春节", "高速"}),  # a festival is a date and a topic
    ("春节假期高速免费吗？", set(), {"春节假期"}),
    ("2月12日地铁12号线开通了吗？", set(), {"12"}),  # 12 is also the line's number, outside the date
])
def test_the_date_a_question_names_filters_and_is_no_focus_term(stats, question, dropped, kept):
    q = analyze(question, stats, TODAY)
    assert q.dates is not None and not dropped & set(q.focus) and kept <= set(q.focus)
    assert set(q.key) <= set(q.focus)


def test_sense_relatedness_is_the_models_cosine_and_safe_under_concurrent_requests(embedder):
    # A cache of two texts, four threads with different questions: entries are evicted while others read them.
    relatedness = ModelRelatedness(embedder, cache_size=2)
    asks = [("Which minister held talks?", ["部长", "公使"]), ("a demonstration operation", ["示范", "示威"]),
            ("the hotel's restaurant", ["酒店", "饭店"]), ("pocket parks being built", ["建设", "楼宇"])]

    def ask(i: int) -> list[float]:
        question, terms = asks[i % len(asks)]
        return relatedness(question, terms)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(ask, range(16)))
    for i, got in enumerate(results):
        question, terms = asks[i % len(asks)]
        # Each text embedded alone: the same figures whatever was asked before or alongside (int8 vectors made
        # in one batch would move with their batch-mates).
        q, *ts = (embedder.encode_queries([t])[0] for t in [question, *terms])
        assert got == pytest.approx([float(t @ q) for t in ts], abs=1e-6)


@pytest.mark.parametrize(("question", "language"), [
    ("How much is the subsidy for a new phone?", "en"),
    ("手机以旧换新补贴多少钱？", "zh"),
    ("手機以舊換新補貼多少錢？", "zh-Hant"),
    ("5G基站有多少个？", "zh"),  # Latin letters inside a Chinese question
])
def test_an_answer_is_written_in_the_questions_language_and_script(question, language):
    assert written_in(question) == language


@pytest.mark.parametrize(("question", "asks"), [
    ("今年民心工程有多少项？", "多少项"),
    ("天津科技大学储能学院聚焦哪两大核心方向？", ""),  # it asks which two, for no one kind of thing
    ("天津科技大学储能学院是依托哪个学院的资源建起来的？", ""),  # which school: a question word, no kind
    ("那明年呢？", None),  # nothing in it asks: a follow-up asks what the question before it did
])
def test_the_words_that_ask(question, asks):
    assert asking(question) == asks


@pytest.mark.parametrize(("clause", "asks"), [
    ("天津动物园几点开门", True), ("天津動物園幾點開門", True), ("找谁申请", True), ("需不需要本人到场", True),
    ("抵押手续都办完了", False),  # 手续 names what may be asked; it asks nothing
    ("天津已经开通了几十条公交线路", False),  # dozens, not how many
    ("无论哪个区", False), ("哪怕只交了一年公积金", False), ("不论是否首套", False),  # whichever, even if
])
def test_a_chinese_clause_asks_when_it_holds_a_question_word(clause, asks):
    assert asks_in_chinese(clause) is asks
