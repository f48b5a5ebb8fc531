"""Typed entities in sentences, and which of them answer which kind of question."""

from __future__ import annotations

import pytest

from rag.reader.entities import asked_units, cue_positions, entities, named_things, names_from, of_another_institution


def found(text: str) -> list[tuple[str, str]]:
    return [(e.type, e.text) for e in entities(text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("今年民心工程共包含66项具体工作，涉及19个牵头部门。", [("quantity", "66项"), ("quantity", "19个")]),
    ("补贴金额（向上取整至整元）最高2万元；", [("quantity", "最高2万元")]),
    ("市公积金管理中心应在1个工作日内完成贷款审批。", [("body", "市公积金管理中心"), ("duration", "1个工作日内")]),
    ("具体免费时段为2026年2月15日00:00至2月23日24:00共计9天",
     [("time", "2026年2月15日00:00至2月23日24:00"), ("duration", "9天")]),
    ("全市地区生产总值增长4.8%，跨境人民币结算超6300亿元。", [("quantity", "4.8%"), ("quantity", "超6300亿元")]),
    ("可拨打市商务局活动热线022-23537155咨询。", [("body", "市商务局"), ("contact", "022-23537155")]),
    ("每月1日13:00按期投放，十六届全国人大，第三期工程。", [("time", "每月1日"), ("time", "13:00"),
                                                          ("quantity", "十六届"), ("quantity", "三期")]),
    ("结算量居全国第3位，占比百分之十二点五。", [("quantity", "全国第3位"), ("quantity", "百分之十二点五")]),
    ("从2月2日14时起启动Ⅱ级应急响应", [("time", "2月2日14时")]),  # the hour belongs to the day
    ("《规划纲要》共17章66节", [("quantity", "共17章"), ("quantity", "66节")]),
    ("与科技部党组书记、部长阴和俊一行座谈", [("body", "科技部"), ("person", "部长阴和俊")]),  # …and his party
    ("市人民政府研究室主任 张磊结合《报告》解答", [("person", "主任 张磊")]),  # an unknown word after a post
])
def test_entities_are_found_with_their_exact_spans(text, expected):
    for kind, value in expected:
        assert (kind, value) in found(text)
    for e in entities(text):
        assert text[e.start : e.end] == e.text


def test_a_body_or_place_is_a_name_not_a_word_that_ends_like_one():
    # A whole word ending in 局, 部, 区 or 园 names a body or a place; the words before it that belong to the name
    # join it (not a verb, a time or a preposition before them).
    assert ("body", "市委组织部") in found("市委常委、市委组织部部长郭永红主持，有关市领导出席。")
    assert ("place", "西青区") in found("今年将在西青区、滨海高新区建成开放元宝岛等3个特色公园")
    assert ("body", "市政府办公厅") in found("市政府办公厅印发通知")
    # 第二条 is article two, not two articles; 十分 is "very", not ten points.
    assert found("第二条 个人住房公积金贷款业务") == [] and found("散桌也十分抢手") == []
    # A role answers who (谁审核？ 经药师审核), not which body: 消费者, 药师.
    assert ("role", "药师") in found("经药师审核合格后方可生效")
    assert ("role", "消费者") in found("发票抬头为消费者真实姓名")
    # A name that is all suffix counts when it is tagged as one: 各区人民政府.
    assert ("body", "人民政府") in found("各区人民政府、市政府各委、局")
    # Nor does a longer word whose end is a word of its own: 新格局 (a pattern), 东北部 (the north-east).
    assert found("构建发展新格局，东北部地区") == []
    # 布局 (a layout), 干部 (officials), 地区 (a region) and 进园 (to enter a park) name nothing.
    assert found("共同探讨脑机接口技术的前瞻布局和场景落地。") == []
    assert found("市管主要领导干部学习，地区生产总值增长，实现群众“出门进园”。") == []


def test_quantities_keep_their_unit():
    units = {e.text: e.unit for e in entities("补贴最高2万元，共有66项，在2个工作日内发放，增长4.8%")}
    assert units["最高2万元"] == "万元" and units["66项"] == "项" and units["4.8%"] == "%"
    assert units["2个工作日内"] == "个工作日"
    # The longest unit, and the one after 万余: 12.28万度 is in 万度, 7万余户 counts 户.
    units = {e.text: e.unit for e in entities("用电量减少约12.28万度，惠及7万余户，服务5万人次")}
    assert units == {"约12.28万度": "万度", "7万余户": "户", "5万人次": "万人次"}
    units = {e.text: e.unit for e in entities("建成高标准农田32.8万亩，面积约2.7万平方公里")}
    assert units == {"32.8万亩": "万亩", "约2.7万平方公里": "万平方公里"}


def test_an_area_asked_is_answered_by_an_area():
    for question in ("元宝岛公园面积有多大？", "今年天津计划建成多少亩高标准农田？", "天开园总面积现在有多大？",
                     "How large is Yuanbao Island park in square meters?", "How large is its planning area?"):
        assert {"平方米", "万平方公里", "万亩"} <= asked_units(question), question
    # Not 3个特色公园 for how large a park is; nor an area for a rent per square metre or an area's growth.
    assert cue_positions("建成开放元宝岛等3个特色公园", "quantity", asked_units("元宝岛公园面积有多大？")) == []
    assert "元" in asked_units("厂房租金每平方米多少钱？") and "%" in asked_units("绿化面积增长了多少？")
    # An area only named is not asked: the money asked wins, and an Area in a name is none.
    for money in ("人均住房面积低于15平方米的家庭，租房补贴多少？", "面积在144平方米以上的住房能贷多少？",
                  "征收占地补偿款能领多少？"):
        assert "元" in asked_units(money) and "平方米" not in asked_units(money), money
    for question in ("How large is the fund?", "What is Binhai New Area's population?",
                     "How large is the investment in Binhai New Area?"):
        assert not asked_units(question), question


def test_the_asked_unit_narrows_what_answers():
    assert asked_units("霍尼韦尔天津工厂有多少名员工？") >= {"名", "人"}
    assert asked_units("安全守护行动覆盖多少位老人？") >= {"位", "名"}  # 5800名老年人 counts people too
    assert cue_positions("低温骤降8℃！", "quantity", asked_units("气温骤降多少度？")) == [4]  # degrees Celsius
    assert "元" in asked_units("家电以旧换新每件最多补多少钱？")
    assert "元" in asked_units("How much general public budget revenue, in yuan, does Tianjin expect?")
    # English money, as 补贴多少 asks it (not "how much faster", nor "how much weight").
    assert {"元", "%"} <= asked_units("How much is the trade-in subsidy for a new phone?")  # 按价格的15%补贴
    assert "元" in asked_units("How much revenue did Tianjin's core AI enterprises make in 2025?")
    # A cost asked in any tense is money (not 近千名代表 for "how much did it cost to register").
    assert "元" in asked_units("How much did it cost to register for the conference?")
    assert "元" in asked_units("What does a ticket to the conference cost?")
    # "What is the total investment" asks an amount (not a share), unless it asks the investment's growth.
    investment = "What is the total investment of Tianjin Metro Line 8 Phase 1 and its extension?"
    assert "亿元" in asked_units(investment) and "%" not in asked_units(investment)
    assert "%" in asked_units("What was the revenue growth rate?")
    # A cost (每千瓦时成本多少) is money; dishes are counted by 道: a price does not say how many dishes. Times (几次)
    # may be answered in another measure (能领几次资格券？ by 仅能领取一个).
    assert "元" in asked_units("每千瓦时成本多少？")
    dishes = asked_units("宴津门的年夜饭套餐一桌有几道菜？")
    assert dishes == {"道"} and asked_units("一年能领几次资格券？") == frozenset()
    assert not cue_positions("年夜饭套餐价格从698元到2998元不等。", "quantity", dishes)
    assert cue_positions("每桌套餐包含12道菜。", "quantity", dishes)
    # Costs cut are no price asked: 降低采购成本5%至10% answers (a share), as well as an amount.
    assert asked_units("How much can the platform cut companies' procurement costs?") == frozenset()
    assert not asked_units("How much faster is it?") and not asked_units("How much weight can it lift?")
    assert asked_units("天津港吞吐量的目标是多少？") == frozenset()
    # An amount of money asked with no measure word: 补贴多少, 能贷多少 (but 能补贴多少个 counts things).
    assert {"元", "万元"} <= asked_units("报废旧车买新能源车补贴多少？")
    assert "元" in asked_units("公积金贷款最高能贷多少？")
    for not_money in ("能补贴多少个？", "贷款期限是多少？", "补贴期限是多少？", "需要交多少材料？", "花多少时间？"):
        assert asked_units(not_money) == frozenset(), not_money
    # A subsidy may be a share (按销售价格的15%给予补贴); revenue, a contract or an investment is an amount only.
    assert "%" in asked_units("以旧换新补贴多少？")
    total = "高新区五大主导产业去年营收总额是多少？"
    assert "亿元" in asked_units(total) and "%" not in asked_units(total)
    assert not cue_positions("去年，高新区五大主导产业营收规模同比增长11.6％。", "quantity", asked_units(total))
    # Asked the level something reaches, a change does not answer: 骤降8℃ does not say how cold it gets.
    cold = "这次寒潮预警期间天津最低气温会降到零下多少度？"
    assert not cue_positions("低温骤降8℃！", "quantity", asked_units(cold), cold)
    assert cue_positions("最低气温将降至零下12℃。", "quantity", asked_units(cold), cold)
    assert cue_positions("低温骤降8℃！", "quantity", asked_units("气温会降多少度？"), "气温会降多少度？")
    # Asked how much it grew, or its target, a change answers.
    assert "%" in asked_units("年夜饭相关产品成交额涨了多少？")
    assert "%" in asked_units("今年一般公共预算收入的目标是多少？")
    # Asked what the whole city gets, an amount per person does not answer; asked per head, it does.
    cap = "参与家电以旧换新补贴活动的消费者，每人每月最多申领3张，全年累计不超过12张；"
    city = "家电兑换券全市每月投放多少张？"
    assert not cue_positions(cap, "quantity", asked_units(city), city)
    assert cue_positions("全市每月投放兑换券20000张。", "quantity", asked_units(city), city)
    assert cue_positions(cap, "quantity", asked_units("每人每月能领几张？"), "每人每月能领几张？")
    income = "全市居民人均可支配收入是多少？"
    assert cue_positions("全市居民人均可支配收入5.6万元。", "quantity", asked_units(income), income)
    # A span asked in one unit is answered in it or the next shorter or longer one, not further off.
    years = asked_units("公积金最长能贷多少年？")
    assert {"年", "个月"} <= years and not {"天", "工作日", "小时"} & years
    assert not cue_positions("市公积金管理中心在1个工作日内完成审批。", "duration", years)
    assert cue_positions("贷款期限最长30年。", "duration", years)
    assert {"小时", "天", "周"} <= asked_units("研讨班办几天？") and "年" not in asked_units("研讨班办几天？")
    # Days counted (几天) are not a date: 2月2日开班 does not say how many days a course runs; 多久 may be a date.
    opened = "2月2日，专题研讨班在市委党校开班。"
    assert cue_positions(opened, "duration")
    assert not cue_positions(opened, "duration", asked_units("研讨班一共办几天？"))
    sentence = "霍尼韦尔天津工厂已布局40多条生产线，年产值达数亿美元。"
    assert cue_positions(sentence, "quantity") and not cue_positions(sentence, "quantity", asked_units("有多少名员工"))
    # People counted with no measure word are people still, as "how many employees" is.
    for people in ("霍尼韦尔天津工厂有多少员工？", "大会来了多少代表？", "How many employees does the plant have?"):
        assert {"名", "人"} <= asked_units(people), people
    assert not cue_positions(sentence, "quantity", asked_units("霍尼韦尔天津工厂有多少员工？"))


def test_what_the_question_already_states_answers_nothing():
    # 在天津召开 does not say which of Tianjin's halls; the date the question gives is not the hour it asks.
    sentence = "2月3日至4日，全国首届脑机接口开发者大会在天津召开。"
    assert cue_positions(sentence, "place") and not cue_positions(sentence, "place", given="大会在天津哪个场馆召开？")
    hour = "从2月2日14时起启动Ⅱ级应急响应"
    assert cue_positions(hour, "time", given="2月2日启动的应急响应从几点开始？") == [1]


def test_the_start_of_something_does_not_say_when_it_ends():
    started = "发布重污染天气橙色预警，从2月2日14时起启动Ⅱ级应急响应"
    assert cue_positions(started, "time", given="Ⅱ级应急响应什么时候启动？")
    assert not cue_positions(started, "time", given="Ⅱ级应急响应什么时候解除？")
    assert cue_positions("预警于2月5日12时解除", "time", given="Ⅱ级应急响应什么时候解除？")
    # Nor does the time a building site has worked since say when the building will be finished.
    since = "“117项目”自去年4月复工建设以来，全面建设有序推进"
    assert cue_positions(since, "time", given="117项目什么时候复工的？")
    for asked in ("117项目什么时候建成投用？", "When will the 117 Project be completed and put into use?"):
        assert not cue_positions(since, "time", given=asked), asked
    assert cue_positions("项目预计2028年下半年建成投用", "time", given="什么时候建成投用？")
    # Unless what has gone on since is the ending asked about.
    assert cue_positions("自2024年6月建成投用以来，已接待游客100万人次", "time", given="什么时候建成投用的？") == [1]


def test_this_year_is_no_month_and_no_length_of_time():
    assert cue_positions("今年3月起实施", "time", given="新规哪个月实施？")  # 今年3月 names a month
    opened = "今年将在西青区建成开放元宝岛等3个特色公园"
    assert cue_positions(opened, "time", given="元宝岛公园什么时候开放？")
    assert not cue_positions(opened, "time", given="元宝岛公园具体哪个月开放？")
    assert not cue_positions("今年，我市将开展汽车补贴活动。", "duration", given="补贴多久能到账？")


def test_a_list_the_question_states_answers_nothing():
    # Asked which the 12 districts are, 包括…环京12个区县 names the list, not its members.
    sentence = "《规划》划定的通勤圈包括北京市全域和环京12个区县，面积约2.7万平方公里。"
    assert not cue_positions(sentence, "list", given="首都都市圈通勤圈里的环京12个区县具体是哪几个？")
    assert cue_positions("通勤圈包括北京市全域和廊坊、保定的部分区县", "list", given="通勤圈包括哪些地方？")
    # A clause that announces its list states nothing, whatever it shares with the question's asking words.
    assert cue_positions("补贴范围包括以下几类产品：", "list", given="补贴范围包括哪几类产品？")


def test_yes_no_procedure_and_list_questions_have_cue_words():
    assert cue_positions("对报废新能源乘用车并购买燃油乘用车的，不给予补贴。", "yesno")
    assert cue_positions("消费者可下载云闪付App并完成实名认证后申请。", "procedure")
    assert cue_positions("一是深化婚姻登记“全国通办”；二是推广颁证服务。", "list")
    assert cue_positions("今天天气很好。", "other") == []
    # 要 as "must" answers 要上班吗？; in 主要 or 要求 it answers nothing.
    assert cue_positions("2月14日（星期六）要上班！", "yesno") == [10]
    assert cue_positions("主要目标明确，提出要求。", "yesno") == []


def test_within_the_year_and_its_halves_are_times_but_no_day():
    assert found("力争年内实现线路开通运营") == [("time", "年内")]
    assert found("预计2028年下半年实现投产运营") == [("time", "2028年下半年")]
    # Not inside a length of time, nor inside another word.
    assert found("三年内完成") == [("duration", "三年内")] and found("两年内实现全覆盖") == [("duration", "两年内")]
    assert found("开展青年内部交流") == [] and found("少年中心") == []
    assert cue_positions("为年内实现线路开通运营奠定基础", "time", given="8号线什么时候开通？")
    assert not cue_positions("为年内实现线路开通运营奠定基础", "time", given="8号线哪天开通？")


def test_a_month_named_is_no_length_of_time():
    # 2月至12月 names months (when), 6个月 is a length of time; neither counts vouchers.
    assert found("2月至12月期间，资格券将在每月1日13:00投放") == [
        ("time", "2月"), ("time", "12月"), ("time", "每月1日"), ("time", "13:00")]
    assert ("duration", "6个月") in found("连续缴存满6个月")
    assert cue_positions("3月份开通", "time", given="几月开通？")
    assert ("time", "三月") in found("三月开通") and ("duration", "三个月") in found("满三个月")


def test_growth_is_asked_as_a_rate():
    # 增长了多少 is answered by 增长4.8%, not by 18个包间; a measure word asked (多少人) still decides.
    for question in ("去年天津GDP增长了多少？", "今年经济增长的目标定的是多少？", "By how much did exports grow?"):
        assert asked_units(question) >= {"%", "个百分点"}, question
    assert not cue_positions("店内18个包间的年夜饭被预订一空", "quantity", asked_units("年夜饭预订量增长了多少？"))
    assert asked_units("人口增长了多少人？") >= {"人"} and "%" not in asked_units("人口增长了多少人？")
    assert "%" not in asked_units("How many people did the population grow by?")
    assert asked_units("增长到多少？") == frozenset()  # a level, not a rate


def test_asked_how_much_something_grew_a_share_or_a_level_does_not_answer():
    # A rate answers growth as a change (增长…, 分别增长…、…和…, 缩短40%), not as a share of something (比重达到30%,
    # 增加值占比), nor as a level reached (提高到3.7%).
    asked = "去年居民人均可支配收入增长多少？"

    def rates(sentence: str) -> list[str]:
        return [sentence[i:].split("%")[0] for i in cue_positions(sentence, "quantity", asked_units(asked), asked)]

    sentence = "工业战略性新兴产业占规上工业比重达到30%以上，GDP、投资、消费分别增长5.2%、4.8%和7.1%。"
    assert rates(sentence) == ["5.2", "4.8", "7.1"]
    assert len(cue_positions(sentence, "quantity", given="占比是多少？")) == 4  # a share asked, every one answers
    assert rates("研发周期缩短40%") == ["40"]
    assert rates("研发投入强度提高到3.7%") == rates("数字经济核心产业增加值占比达到12%") == []
    assert rates("对经济增长贡献率达到60%") == []


def test_an_amount_per_something_is_not_answered_by_a_total():
    asked = "租房补贴每户每个月能领多少钱？"
    assert not cue_positions("一是发放4亿元租房补贴，预计惠及7万余户", "quantity", asked_units(asked), asked)
    asked = "家电以旧换新每件最多补多少钱？"
    assert cue_positions("每件最高补贴1500元", "quantity", asked_units(asked), asked) == [6]
    asked = "What's the loan size cap per firm?"
    assert cue_positions("单户贴息贷款规模上限5000万元", "quantity", given=asked)
    # A year's total answers 每年; "per cent" asks no rate; a date's slashes state none.
    assert cue_positions("全年举办活动200场", "quantity", given="每年举办多少场活动？")
    assert cue_positions("80%的企业", "quantity", given="What per cent of firms?")
    assert not cue_positions("2025/1/1起，发放4亿元", "quantity", given="每户能领多少钱？")


def test_a_total_over_listed_parties_is_none_of_theirs():
    signed = ("基金管理人分别与合肥远景常现科技有限公司、北京犀灵视觉科技有限公司、天津卡雷尔机器人技术有限公司"
              "3家拟投企业签约，签约金额合计3000万元。")

    def amounts(sentence: str, asked: str) -> list[str]:
        return [sentence[i:].split("元")[0] for i in cue_positions(sentence, "quantity", asked_units(asked), asked)]

    assert amounts(signed, "芯火基金给天津卡雷尔机器人投了多少钱？") == []
    # Asked the total, or about none of the parties, or about all of them by what they share, it answers.
    for asked in ("芯火基金签约金额一共多少钱？", "How much money did the fund sign in total?",
                  "芯火基金签约金额是多少钱？", "科技有限公司签了多少钱？"):
        assert amounts(signed, asked) == ["3000万"], asked
    # A party's own amount, not a total, answers.
    assert amounts("向天津卡雷尔机器人技术有限公司投资500万元。", "给卡雷尔投了多少钱？") == ["500万"]
    # The list starts after whoever deals with it (芯火基金与…): asked about 芯火基金 itself, its total answers.
    signer = "芯火基金与北京犀灵视觉科技有限公司、天津卡雷尔机器人技术有限公司签约，签约金额累计3000万元。"
    assert amounts(signer, "芯火基金给天津卡雷尔机器人投了多少钱？") == []
    assert amounts(signer, "芯火基金签了多少钱？") == ["累计3000万"]


def test_asked_for_papers_only_papers_answer():
    # Asked for papers, not about a topic that names materials (新材料产业).
    assert cue_positions("包括中环、天士力等企业", "list", given="新材料产业包括哪些企业？")
    asked = "卖旧车换新车申报补贴时要交哪些材料？"
    assert not cue_positions("按照“先领取资格、再申报补贴”的方式开展补贴活动。", "procedure", given=asked)
    assert cue_positions("提供港澳居民来往内地通行证或港澳居民居住证。", "procedure", given="要用什么证件？")
    assert cue_positions("消费者可下载云闪付App并完成实名认证后申请。", "procedure", given="怎么申请？")


def test_asked_for_the_holder_of_a_post_only_a_person_answers():
    sentence = "1月29日，天津外国语大学举行中非数字人文交流研究中心揭牌仪式。"
    # A body may be who is responsible.
    assert cue_positions("研究中心由天津外国语大学负责建设。", "person", given="研究中心由谁负责？")
    assert not cue_positions(sentence, "person", given="Who is the director of the research center?")
    assert cue_positions("中信集团总经理张文武陪同调研。", "person", given="中信集团负责人是谁？")


def test_asked_who_did_something_only_the_one_doing_it_answers():
    spoke = "市长张工出席市政府第四次廉政工作会议并讲话。"
    for asked in ("市政府第四次廉政工作会议是谁主持的？", "Who chaired the meeting?"):
        assert not cue_positions(spoke, "person", given=asked), asked
        assert cue_positions("市委常委、常务副市长王旭主持。", "person", given=asked), asked
    assert cue_positions("该教程由天津大学牵头，多名专家合作编写。", "body", given="教程是谁牵头编写的？")
    assert cue_positions("处方须经药师审核后方可生效。", "person", given="处方要经过谁审核？")
    # The act is the verb after 谁, past modals, adverbs and a preposition's phrase.
    assert cue_positions(spoke, "person", given="谁将出席廉政工作会议？")
    assert not cue_positions("市长张工出席会议。", "person", given="谁在会上讲话？")
    assert cue_positions("国务院总理李强主持召开国务院第十次全体会议", "person", given="全体会议是谁主持召开的？")
    # Whom one did something with, who someone is, and a passive name no act: any party answers.
    assert cue_positions("北京零重力实验室与天津云遥宇航科技有限公司签署协议。", "body", given="云遥宇航和谁签了协议？")
    assert cue_positions("会上，市长张工为获奖者颁奖。", "person", given="谁被表彰了？")


def test_a_number_after_each_is_a_rates_base_not_a_count():
    # 每万人口, 每千人口 are "per ten thousand / thousand people", no count of people; 近万人 is one.
    assert found("每万人口高价值发明专利拥有量") == [] and ("quantity", "千人") not in found("每千人口托位数")
    assert found("近万人参加，百万人次") == [("quantity", "近万人"), ("quantity", "百万人次")]


def test_an_average_over_years_is_not_one_years_figure():
    sentence = "“十四五”以来，GDP年均增长4.4%，全市地区生产总值增长4.8%"
    year = "2025年天津GDP增长多少？"
    assert [sentence[i:i + 4] for i in cue_positions(sentence, "quantity", asked_units(year), year)] == ["4.8%"]
    average = "“十四五”这五年天津GDP平均每年增长多少？"
    assert len(cue_positions(sentence, "quantity", asked_units(average), average)) == 2
    assert cue_positions("入住率平均达80%", "quantity", given="入住率是多少？")  # an average, not over years


def test_a_number_before_a_word_it_names_is_no_count():
    # The 117项目 is one project, not 117 items; 3项目标 is three targets (jieba: 3 / 项 / 目标).
    assert found("“117项目”自去年4月复工建设以来") == [("time", "去年4月")]
    assert ("quantity", "3项") in found("完成3项目标")


def test_asked_which_one_of_a_kind_of_place_a_name_of_another_kind_does_not_answer():
    # 天津大学 does not say in which hall (场馆) a meeting was held; 天津博物馆 or 天津体育中心 would.
    asked = "脑机接口开发者大会是在天津哪个场馆开的？"
    assert not cue_positions("活动现场，该教程由天津大学牵头编写。", "place", given=asked)
    assert cue_positions("大会在天津博物馆举行。", "place", given=asked)
    assert cue_positions("大会在天津体育中心举行。", "place", given=asked)
    # A clinic may be a 中心; a kind no suffix names (哪个部门) narrows nothing.
    assert cue_positions("可到社区卫生服务中心接种。", "place", given="在哪家医院可以接种？")
    assert cue_positions("由市商务局负责。", "body", given="哪个部门负责？")


def test_a_rate_per_hundred_is_asked_and_stated_as_such():
    asked = "晋北线氢能重卡每百公里耗氢多少？"
    assert cue_positions("重卡百公里耗氢低至8公斤", "quantity", asked_units(asked), asked)
    assert not cue_positions("首批投入运营10辆氢能重卡", "quantity", asked_units(asked), asked)
    assert cue_positions("重卡百公里耗氢低至8公斤", "quantity", given="How much hydrogen per 100 km?")
    # A few hundred people, or a programme named after a hundred, ask no rate.
    assert cue_positions("大会吸引近千名代表", "quantity", given="大会有几百人参加？")
    assert cue_positions("给予50万元补贴", "quantity", given="入选百人计划能拿多少补贴？")


def test_a_time_not_set_yet_answers_when():
    asked = "文化中心站J口什么时候恢复？"
    assert cue_positions("J出入口恢复运营时间将另行通知", "time", given=asked)
    # Another thing left to be announced is no time.
    assert not cue_positions("具体补贴标准另行通知", "time", given="什么时候发补贴？")


def test_a_price_asked_as_what_is_the_price_is_money():
    # 8公斤 states a rate (百公里), but a price per kilogram is money.
    asked = "What is the hydrogen refuelling price per kilogram?"
    assert not cue_positions("百公里耗氢低至8公斤", "quantity", asked_units(asked), asked)
    assert cue_positions("加氢价格每公斤35元", "quantity", asked_units(asked), asked)
    # So is a value: a project's 50公里 and 100米 are no contract value.
    asked = "What was the contract value of the project?"
    assert not cue_positions("离岸50公里、水深100米", "quantity", asked_units(asked), asked)
    assert not cue_positions("离岸50公里、水深100米", "quantity", asked_units("合同额是多少？"), "合同额是多少？")
    # And an investment: a hospital's chairs and beds are none.
    asked = "市口腔医院梅江院区总投资是多少？"
    assert not cue_positions("设置椅位300台、床位150张", "quantity", asked_units(asked), asked)
    assert asked_units("芯火基金投资了多少家企业？") == {"家"}  # a count of firms, not money
    assert not asked_units("今年重点投资项目有多少？")  # nor of projects


def test_an_amount_after_a_named_party_and_the_several_it_stands_first_of_is_the_severals():
    text = "建成塘沽一中新校区等7所学校，新增学位1.1万个；"
    assert not cue_positions(text, "quantity", given="塘沽一中新校区建成后能新增多少个学位？")
    # Asked about all of them, or about the district that builds them, it answers; so does a question that names
    # no party of the sentence (全市新增 is in the question, 幼儿园 not).
    assert cue_positions(text, "quantity", given="塘沽一中等学校一共新增多少学位？")
    assert cue_positions(text, "quantity", given="滨海新区今年新增多少学位？")
    assert cue_positions("全市新建幼儿园等30所学校，新增学位5000个", "quantity", given="全市新增多少学位？") == [8, 18]


def test_a_clause_about_another_district_does_not_answer_for_the_asked_one():
    text = "位于红桥区和北辰区的新园区正在建设中，其中，红桥区的园区预计明年2月开园。"
    assert not cue_positions(text, "time", given="联东U谷在北辰区的新园区什么时候开园？")
    assert cue_positions(text, "time", given="联东U谷红桥区的园区什么时候开园？")
    assert cue_positions("和平区新增学位2000个，滨海新区新增3000个", "quantity", given="滨海新区新增多少学位？") == [19]
    # A zone inside a district, or a district named in brackets, is not another district.
    assert cue_positions("滨海高新区项目预计6月投产", "time", given="滨海新区的项目什么时候投产？")
    assert cue_positions("该园区（原属河北区）预计6月开园", "time", given="红桥区的园区什么时候开园？")
    # A district named inside a longer place is still named.
    assert not cue_positions(text, "time", given="联东U谷北辰区园区什么时候开园？")
    # A clause naming none goes on speaking of the one the nearest clause before it named.
    tenants = text.replace("开园。", "开园，届时将有80多家企业入驻。")
    assert not cue_positions(tenants, "quantity", given="联东集团北辰区的新园区将有多少家企业入驻？")
    assert cue_positions(tenants, "quantity", given="联东集团红桥区的新园区将有多少家企业入驻？")


def test_what_is_said_of_another_hospital_or_line_does_not_answer_for_the_asked_one():
    beds = "市第三中心医院（东丽院区）新建门急诊住院综合楼等设施，设置床位1200张；"
    # The clause holding the count names no hospital: the sentence's does, and it is another.
    assert not cue_positions(beds, "quantity", given="天津医科大学总医院新院区有多少床位？")
    assert cue_positions(beds, "quantity", given="第三中心医院东丽院区有多少床位？")
    # An English question's names are its Chinese focus terms, run together in its order.
    assert not cue_positions(beds, "quantity", given="How many beds?", names="床位院区天津医科大学总医院")
    assert cue_positions(beds, "quantity", given="How many beds?", names="床位东丽院区天津中心医院")
    # An ordinal tells two hospitals apart; a shortened name is the same one.
    assert not cue_positions(beds, "quantity", given="市第一中心医院新院区有多少床位？")
    assert not of_another_institution("天津医大总医院新院区设置床位1500张。", "天津医科大学总医院新院区有多少床位？")
    assert of_another_institution("天津工业大学研发的新材料强度提升30%。", "河北工业大学研发的新材料强度提升多少？")
    assert of_another_institution("天津师范大学研发的新材料强度提升30%。", "天津大学研发的新材料强度提升多少？")
    # An English question's names start at its first name, or name of a kind: "the new hospital" names none.
    assert names_from(["床位", "院区", "口腔医院"]) == "口腔医院" and names_from(["床位", "医院"]) == ""
    older = "此外，荣程新能集团此前运营的“天津港—河北邯郸—山西长治”氢能运输线路已实现稳定运行，减排二氧化碳约6000吨。"
    assert not cue_positions(older, "quantity", given="荣程新能晋北线开通以来累计减排了多少二氧化碳？")
    # A sentence opening with 该 speaks of what the sentence before it named.
    trucks = "该线路首批投入运营10辆氢能重卡。"
    new_line = "此次新开通的晋北线往返总里程约1400公里。"
    assert cue_positions(trucks, "quantity", given="晋北线首批投入了多少辆重卡？", before=new_line)
    assert not cue_positions(trucks, "quantity", given="天津港—河北邯郸—山西长治氢能运输线路投入了多少辆重卡？",
                             before=new_line)
    # A line may be one word (京沪线, 公交线路); a production line is no line of transport; a comma inside brackets ends
    # no clause.
    assert named_things("京沪线全长1318公里，开通公交线路5条") == (("京沪线", "线"), ("公交线路", "线"))
    # A sort of hospital or company names none (三级医院, 互联网医院, 上市公司); a place or a city before it does.
    assert named_things("鼓励三级医院、三甲口腔专科医院和互联网医院开展服务，新增上市公司2家") == ()
    assert named_things("市口腔医院和滨海新区中医医院") == (("市口腔医院", "医院"), ("滨海新区中医医院", "医院"))
    rules = "鼓励三级医院依托实体医疗机构设置互联网医院，过程记录保存时间不得少于3年。"
    assert not of_another_institution(rules, "在互联网医院看病，图文聊天记录要保存多长时间？")
    assert cue_positions("企业新建3条自动化生产线，年产值50亿元", "quantity", given="荣程新能晋北线年产值多少？")
    assert cue_positions("该园区（原属河北区，现已划入）预计6月开园", "time", given="红桥区的园区什么时候开园？")


def test_what_is_said_of_another_sort_of_the_asked_thing_does_not_answer():
    text = "2025年，天津货物贸易跨境人民币结算量同比增长24%，本外币占比超30%。"
    assert not cue_positions(text, "quantity", given="2025年跨境人民币结算量中，服务贸易占了多少？")
    assert cue_positions(text, "quantity", given="2025年货物贸易跨境人民币结算量增长多少？")
    # Another sort is one word of a noun and the head: a car's 购置补贴 is still its subsidy, a verbal head after its
    # subject (客车免费通行) is no sort of 高速公路免费, nor 核心 企业 of 人工智能企业.
    assert cue_positions("购买新能源汽车给予每辆车购置补贴1万元", "quantity", given="新能源汽车补贴多少？")
    assert cue_positions("天津人工智能基础核心企业营收超770亿元", "quantity", given="天津人工智能企业营收多少？")
    free = "高速公路将实施七座以下小型客车免费通行"
    assert cue_positions(free, "quantity", given="高速公路免费通行的是几座以下的车？")


def test_a_class_is_no_amount():
    # A 10万吨级 berth is of the 100,000-tonne class: it says nothing of how much the berth handles.
    text = "新增1个10万吨级粮食专用码头，年吞吐能力500万吨"
    assert cue_positions(text, "quantity", given="码头年吞吐能力是多少万吨？") == [2, text.index("500万吨")]
    assert text.index("10万吨") in cue_positions(text, "quantity", given="码头是多少吨级的？")


def test_an_amount_of_another_year_does_not_answer_for_the_asked_year():
    text = "2026年20项民心工程的立项工作于2025年10月启动"
    assert not cue_positions(text, "quantity", given="2025年民心工程共包含多少项？")
    assert cue_positions(text, "quantity", given="2026年民心工程共包含多少项？") == [5]
    assert cue_positions(text, "quantity", given="民心工程共包含多少项？") == [5]  # no year asked
    # The year may stand further back in the amount's clause; a year it is compared with is not its own.
    cross_border = "天津市2025年跨境人民币结算量超6300亿元，创历史新高"
    assert not cue_positions(cross_border, "quantity", given="天津2024年跨境人民币结算量是多少？")
    assert cue_positions(cross_border, "quantity", given="天津2025年跨境人民币结算量是多少？") == [16]
    assert cue_positions("较2024年增长17%", "quantity", given="2025年结算量增长了多少？") == [8]


def test_a_share_asked_is_answered_by_a_percentage():
    for question in ("个人消费贷款财政贴息比例是多少？", "今年城镇调查失业率要控制在多少？", "能抵扣多少比例？",
                     "数字经济核心产业增加值占GDP多少？", "What share of days had good air quality?",
                     "What is the current interest rate for a housing provident fund loan?",
                     "What subsidy rate do I get for a new car?", "What percentage of GDP is it?"):
        assert {"%", "个百分点"} <= asked_units(question), question
    # Not 3部门 nor 2026年底 for the ratio of an interest subsidy.
    text = "财政部等3部门发布通知，将个人消费贷款财政贴息政策实施期限延长至2026年底。"
    assert not cue_positions(text, "quantity", asked_units("贴息比例是多少？"), "贴息比例是多少？")
    assert cue_positions("年贴息比例为1个百分点", "quantity", asked_units("贴息比例是多少？"), "贴息比例是多少？")
    # A ratio written as a plain number, power, a rate as money per mu, and a rate subsidy's period ask no share.
    for question in ("地块容积率是多少？", "发电功率多少？", "Who gets compensated and at what rates?",
                     "How long does the interest rate subsidy last?", "What is the interest rate subsidy period?"):
        assert not {"%"} <= asked_units(question), question
    assert "亩" in asked_units("占地多少亩？")


def test_names_stated_anywhere_in_the_message_count_for_each_of_its_questions():
    text = "其中，红桥区的园区预计明年2月开园，届时将有80多家企业入驻。"
    message = "联东集团在北辰区的新园区什么时候开园？将有多少家企业入驻？"
    assert not cue_positions(text, "quantity", given="将有多少家企业入驻？", stated=message)


def test_a_passage_naming_only_other_universities_or_hospitals_is_about_them():
    battery = "南开大学常务副校长陈军团队联合开发的超高比能固液电池发布，电芯能量密度突破500瓦时每公斤。"
    assert of_another_institution(battery, "天津大学研发的固态电池电芯能量密度是多少？")
    assert not of_another_institution(battery, "南开大学研发的固液电池电芯能量密度是多少？")
    assert not of_another_institution(battery, "天津港的集装箱航线有多少条？")  # names no institution


def test_a_count_of_another_noun_does_not_answer_how_many_of_the_asked_one():
    text = "持续实施20项民心工程，新增学位1.1万个"
    assert cue_positions(text, "quantity", given="今年新增多少个学位？") == [text.index("1.1万个")]
    # The counted noun may come a few words after the count.
    assert cue_positions("新增2000个幼儿园学位", "quantity", given="新增多少个学位？")


def test_what_the_whole_message_states_answers_none_of_its_questions():
    # Read for its second question (什么时候解除？), the first's 2月5日 is still stated, not an answer.
    assert not cue_positions("2月5日发布寒潮预警", "time", given="什么时候解除？",
                             stated="2月5日天津发布了什么预警？什么时候解除？")
