"""Follow-up questions: told apart from new ones, and resolved by carrying the earlier focus terms over; a question
that asks several things, split into parts that each stand on their own."""

from __future__ import annotations

import pytest

from rag.conversation import content_words, is_follow_up, points_back, question_parts, resolve


def test_content_words_leave_out_question_words_and_their_own_parts():
    assert content_words("今年民心工程有多少项？") == ["今年", "民心工程"]
    assert content_words("How many livelihood projects does Tianjin have this year?") == [
        "livelihood", "projects", "tianjin", "year"]
    assert content_words("什么时候？") == []


@pytest.mark.parametrize(("question", "context", "expected"), [
    ("那明年呢？", (), True),                       # cue at the start and at the end
    ("货车呢", (), True),
    ("What about next year?", (), True),
    ("什么时候通车？", ("天津", "地铁"), True),        # one new term: 通车
    ("什么时间段免费？", ("春节", "高速", "免费"), True),
    ("公积金可以用来付房租吗", ("公积金贷款", "额度"), False),  # two new terms: a question of its own
    ("天津地铁8号线有什么进展？", ("民心工程",), False),
])
def test_follow_ups_are_told_apart_from_new_questions(question, context, expected):
    assert is_follow_up(question, context) is expected


def test_a_follow_up_carries_the_previous_focus_terms():
    r = resolve(["今年民心工程有多少项？", "那明年呢？"])
    assert r.question == "民心工程 那明年呢？ 多少项" and r.asked == "那明年呢？" and r.carried == ["民心工程"]
    assert r.carried


@pytest.mark.parametrize(("questions", "question", "asking"), [
    # Asking for nothing of its own, a follow-up asks what the question before it asked: where Chinese asks, at
    # the end (the cue and the word after it), and in English first.
    (["汽车以旧换新补贴多少钱？", "那手机呢？"], "汽车 以旧换新 补贴 那手机呢？ 多少钱", "多少钱"),
    (["春节开车走高速免费吗？", "什么时间段免费？", "货车呢？"], "春节 开车 高速 时间段 免费 货车呢？ 什么时间段",
     "什么时间段"),
    (["When does the toll exemption start?", "And for trucks?"], "When toll exemption start And for trucks?", "When"),
    (["When does the toll exemption start?", "And what about trucks?"],
     "When toll exemption start And what about trucks?", "When"),
    # Through a chain: the third question asks what the first did.
    (["汽车以旧换新补贴多少钱？", "那手机呢？", "平板呢？"], "汽车 以旧换新 补贴 手机 平板呢？ 多少钱", "多少钱"),
    # A follow-up that asks something itself (什么时候, 有没有, 吗, are…) keeps its own question, and what it asked
    # is in force after it: 平板呢？ asks again whether, not how much.
    (["汽车以旧换新补贴多少钱？", "那手机什么时候能领？"], "汽车 以旧换新 补贴 那手机什么时候能领？", ""),
    (["汽车补贴多少钱？", "那手机有没有补贴？"], "汽车 那手机有没有补贴？", ""),
    (["汽车补贴多少钱？", "那手机能领吗？", "平板呢？"], "汽车 补贴 手机 能领 平板呢？", ""),
    (["When does the toll exemption start?", "What about trucks? Are they free too?"],
     "toll exemption start What about trucks? Are they free too?", ""),
    (["春节开车走高速免费吗？", "货车呢？"], "春节 开车 高速 免费 货车呢？", ""),
    # A question in the other language starts afresh: nothing is carried into it.
    (["How much is the car subsidy?", "那手机呢？"], "那手机呢？", ""),
    (["汽车以旧换新补贴多少钱？", "What about phones?"], "What about phones?", ""),
])
def test_a_follow_up_that_asks_for_nothing_asks_what_the_previous_question_did(questions, question, asking):
    r = resolve(questions)
    assert (r.question, r.asking) == (question, asking)


def test_a_hyphenated_english_word_is_carried_whole():
    # "trade" alone is another word (贸易); "trade-in" is 以旧换新.
    r = resolve(["How much is the car trade-in subsidy?", "What about phones?"])
    assert r.carried == ["car", "trade-in", "subsidy"]


def test_a_time_word_replaces_the_previous_one():
    r = resolve(["How many livelihood projects does Tianjin have this year?", "What about next year?"])
    assert r.carried == ["livelihood", "projects", "tianjin"]  # "year" is a time word: the follow-up names its own


def test_a_number_replaces_the_previous_one_and_a_particle_is_no_word():
    # Line 6, not lines 6 and 8; and 呢 is not glued to 线 (线呢, a word no article has).
    r = resolve(["地铁8号线什么时候开通？", "那6号线呢？"])
    assert r.carried == ["地铁", "开通"] and "线呢" not in content_words("那6号线呢？")
    assert resolve(["When will Metro Line 8 open?", "What about Line 6?"]).carried == ["metro", "open"]
    # A number that is no line's leaves the line alone.
    assert "8号线" in resolve(["地铁8号线票价多少？", "那500元以上的呢？"]).carried


def test_a_new_question_carries_nothing():
    r = resolve(["今年民心工程有多少项？", "天津地铁8号线有什么进展？"])
    assert r.question == "天津地铁8号线有什么进展？" and r.carried == []


def test_chains_build_on_the_resolved_question():
    r = resolve(["春节开车走高速免费吗？", "什么时间段免费？", "货车呢？"])
    assert r.carried == ["春节", "开车", "高速", "时间段", "免费"]


def test_terms_the_follow_up_already_names_are_not_repeated():
    r = resolve(["公积金贷款最高额度是多少？", "二孩家庭的公积金贷款额度呢？"])
    assert "公积金贷款" not in r.carried and "额度" not in r.carried and "最高" in r.carried


def test_a_single_question_is_itself_and_none_is_an_error():
    assert resolve(["公积金可以付房租吗"]).question == "公积金可以付房租吗"
    with pytest.raises(ValueError):
        resolve([])


def test_a_question_of_two_parts_is_split_and_the_second_carries_the_first_ones_words():
    first, second = question_parts("天津港现在有多少条集装箱航线？一年吞吐量多少？")
    assert first.question == first.asked == "天津港现在有多少条集装箱航线？"
    assert second.asked == "一年吞吐量多少？" and second.question.endswith("一年吞吐量多少？")
    assert "天津港" in second.carried and "航线" in second.carried and "多少条" not in second.carried


def test_what_an_earlier_part_asked_about_and_a_dates_numbers_are_not_carried():
    details = {"天津港现在有多少条集装箱航线？": ["集装箱", "航线"]}
    second = question_parts("天津港现在有多少条集装箱航线？一年吞吐量多少？", details=lambda p: details[p])[1]
    assert second.carried == ["天津港", "现在"]
    dated = question_parts("2月6日天津市委开了什么会？谁主持的？")[1]
    assert dated.carried == ["天津市委"]  # not 2 and 6, the pieces of 2月6日


def test_a_later_part_that_names_another_time_replaces_the_earlier_one():
    second = question_parts("2025年跨境人民币结算量多少？今年的目标是多少？")[1]
    assert "2025" not in second.carried and "跨境" in second.carried


def test_an_english_question_is_split_before_and_how():
    first, second = question_parts("When was the capital metropolitan area plan approved, and how large is its area?")
    assert first.asked == "When was the capital metropolitan area plan approved?"  # it asks, as a question does
    # And it opens with a capital, as a question asked alone does (the embedding model reads "how" apart from "How").
    assert second.asked == "How large is its area?" and "capital" in second.carried and "area" not in second.carried


@pytest.mark.parametrize("question", [
    "公积金可以用来付房租吗？",
    "今年天津汽车以旧换新补贴是怎么回事？简单讲讲。",  # the second piece asks nothing: it belongs to the first
    "你知道吗？春节高速公路免费吗？",  # the first piece names nothing: it belongs to the second
    "《如何建设现代化首都都市圈？重磅规划解读》这篇文章讲了什么？",  # a question mark inside a title
    '"如何建设现代化首都都市圈？重磅规划解读"这篇文章讲了什么？',  # or inside straight quotes
    "What is the subsidy for phones? ",
    "抵押手续都办完了，公积金贷款多久能放下来？",  # the clause before the comma asks nothing
    "如果11月中旬才领到汽车以旧换新资格券，有效期到什么时候？",
    "几乎所有区都有口袋公园，今年新建多少个？",  # 几乎 ("almost") is no question word
    "天津已经开通了几十条公交线路，地铁8号线有多少座车站？",  # nor 几十 ("dozens")
    "无论哪个区，都能申请家电补贴吗？",  # nor 哪 after 无论 ("whichever")
    "I bought a new phone in February, and is the subsidy 15 percent?",  # the first piece asks nothing
])
def test_a_question_that_asks_one_thing_is_one_part_as_asked(question):
    assert [(p.question, p.asked, p.carried) for p in question_parts(question)] == [(question, question, [])]


@pytest.mark.parametrize(("question", "parts"), [
    ("报废旧车买新能源车补贴多少？介绍一下鼓楼的历史。", ["报废旧车买新能源车补贴多少？", "介绍一下鼓楼的历史。"]),
    ("How much subsidy can I get? Tell me about the history of the Drum Tower.",
     ["How much subsidy can I get?", "Tell me about the history of the Drum Tower."]),
    ("公积金贷款怎么申请？请简单介绍一下。", ["公积金贷款怎么申请？请简单介绍一下。"]),  # a request that names nothing
])
def test_a_request_for_an_account_of_something_is_a_part_of_its_own(question, parts):
    # 介绍一下…, "Tell me about…": no question word, yet it asks (it was glued to the question before it, and the
    # two were read as one: the subsidy answered with a caution naming 鼓楼, not as a question of its own).
    assert [p.asked for p in question_parts(question)] == parts


def test_a_piece_that_names_nothing_stays_with_the_part_before_it():
    parts = question_parts("春节放几天？高速免费吗？为什么？")
    assert [p.asked for p in parts] == ["春节放几天？", "高速免费吗？为什么？"]
    assert [p.asked for p in question_parts("How long is the holiday? Why? Is the highway free?")] == [
        "How long is the holiday? Why?", "Is the highway free?"]


@pytest.mark.parametrize(("question", "parts"), [
    ("天津动物园几点开门，地铁8号线有多少座车站？", ["天津动物园几点开门？", "地铁8号线有多少座车站？"]),
    ("天津動物園幾點開門，地鐵8號線有多少座車站？", ["天津動物園幾點開門？", "地鐵8號線有多少座車站？"]),
    ("公积金贷款要多久，需不需要本人到场？", ["公积金贷款要多久？", "需不需要本人到场？"]),
    ("天津动物园几点开门；地铁8号线有多少座车站？", ["天津动物园几点开门？", "地铁8号线有多少座车站？"]),
    ("独居老人的智能设备怎么申请，找谁申请？", ["独居老人的智能设备怎么申请？", "找谁申请？"]),
    ("How much is the agreement worth, and is it signed?", ["How much is the agreement worth?", "Is it signed?"]),
    # A request asks too, and a part may open with a clause before its question word.
    ("Which exits reopened, and tell me about the Drum Tower.",
     ["Which exits reopened?", "Tell me about the Drum Tower."]),
    ("What does the plan set out, and according to the press conference, how many banks offer FT accounts?",
     ["What does the plan set out?", "According to the press conference, how many banks offer FT accounts?"]),
    ("When does the zoo open, and how much is a ticket, and where can I buy one?",
     ["When does the zoo open?", "How much is a ticket?", "Where can I buy one?"]),
])
def test_two_clauses_that_ask_run_together_with_a_comma_are_two_parts(question, parts):
    # Each part is cut off with its question mark: the reader reads a question as one.
    assert [p.asked for p in question_parts(question)] == parts


def test_a_piece_that_asks_which_thing_is_a_part_of_its_own():
    # 哪个矿区 names no kind of answer, but it asks.
    first, second = "公积金贷款最长可以贷多少年？", "陈敏尔在蓟州区察看了哪个矿区的生态修复？"
    assert [p.asked for p in question_parts(first + second)] == [first, second]


def test_a_piece_that_asks_which_two_is_a_part_of_its_own():
    first, second = "柔性智能喷涂系统的设计寿命是多少年？", "天津科技大学储能学院聚焦哪两大核心方向？"
    assert [p.asked for p in question_parts(first + second)] == [first, second]


@pytest.mark.parametrize(("question", "expected"), [
    ("会先装在这款车上？", True),
    ("它的全长多少？", True),
    ("该项目投资多少？", True),
    ("how large is its area?", True),
    ("Is it free?", True),
    ("地铁8号线有多少座车站？", False),
    # Whole words only: 应该 ("should"), 其他 ("other"), "this year" and "are there" point at nothing.
    ("小型客车应该是几座以下？", False),
    ("其他城市呢？", False),
    ("How many livelihood projects are there this year?", False),
    ("小型客車應該是幾座以下？", False),
    ("會先裝在這款車上？", True),  # Traditional, read as Simplified
])
def test_a_question_points_back_at_something_named_before_it(question, expected):
    assert points_back(question) is expected
