"""The reader's parts without the model: term weights, the fitted model file, composing the quoted sentences."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rag.dates import DateRange
from rag.query import Query, lettered
from rag.reader import (
    Evidence,
    _announced,
    _another_day,
    _another_lettered,
    _context,
    _only_mentions,
    _unnumbered,
    choose_sentences,
    default_model,
    ruled_out,
)
from rag.reader.candidates import Candidate
from rag.reader.features import (
    ABSTENTION_FEATURES,
    CANDIDATE_FEATURES,
    QUESTION_FEATURES,
    TermWeights,
    _asked_clauses,
    _list_head,
    counts_without_naming,
)
from rag.reader.model import Logistic, ReaderModel
from rag.records import Hit
from rag.translate import TermMatch


def query(focus: tuple[str, ...], kind: str = "quantity") -> Query:
    return Query(text="q", search_text="q", language="zh", traditional=False, terms=focus, focus=focus,
                 answer_type=kind, key=focus[-1:])


def test_weights_follow_idf_and_unseen_terms_weigh_as_the_rarest():
    w = TermWeights.of(query(("公积金贷款", "火星")), [12, 0], documents=400)
    assert w.weights[1] == w.rarest > w.weights[0] > 0
    # A term named in pieces (公积金 … 贷款) counts as half named per missing piece; an absent one not at all.
    assert w.presence(0, "住房公积金贷款") == 1.0 and 0 < w.presence(0, "公积金的提取") < 1
    assert w.missing("公积金贷款额度") == [("火星", w.rarest)]
    assert w.coverage("公积金贷款") == pytest.approx(w.weights[0] / sum(w.weights))


def test_a_translated_term_is_named_by_any_of_its_renderings():
    # "subsidy" reads 补助 first, but the articles say 补贴: a passage with 补贴 does not lack it.
    q = Query(text="How much is the subsidy?", search_text="q", language="en", traditional=False,
              terms=("补助", "补贴"), focus=("补助",), answer_type="quantity", key=("补助",),
              translations=(TermMatch("subsidy", ("补助", "补贴"), "cedict"),))
    w = TermWeights.of(q, [0], documents=400)
    assert w.presence(0, "最高补贴2万元") == 1.0 and w.missing("最高补贴2万元") == []
    assert w.missing("以旧换新") == [("补助", w.rarest)]


def test_a_weekday_or_a_grade_is_named_by_any_of_its_written_forms():
    w = TermWeights.of(query(("周六", "二级")), [0, 3], documents=400)
    assert w.presence(0, "2月14日（星期六）要上班") == 1.0 and w.presence(1, "启动Ⅱ级应急响应") == 1.0
    assert w.missing("2月15日（星期日）启动Ⅲ级应急响应") == [("周六", w.rarest), ("二级", w.weights[1])]


def test_the_share_of_key_terms_named_weighs_each_by_idf():
    # A word every passage uses (天津) says little; the rare detail (场馆) decides.
    w = TermWeights.of(query(("天津", "场馆")), [380, 0], documents=400)
    assert w.share([0, 1], "在天津召开") < 0.1 < 0.9 < w.share([0, 1], "在梅江会展中心场馆召开")
    assert w.share([], "任何文字") == 1.0


def test_the_packaged_model_is_fitted_on_the_features_the_code_computes():
    model = default_model()
    assert model.candidate.features == CANDIDATE_FEATURES and model.answerable.features == QUESTION_FEATURES
    assert model.confidence.features == QUESTION_FEATURES and 0 < model.abstain_below < 1
    assert model.abstention.features == ABSTENTION_FEATURES
    # The lower P(answerable), the likelier an abstention is right.
    low, high = model.abstention.probability([[0.05], [model.abstain_below]])
    assert low > high
    cv = model.meta["cross_validated"]
    assert cv["questions"] >= 400 and cv["false_abstain"] <= 0.06 and cv["ece"] <= 0.10
    # About 50 abstentions out of fold in ten bins: much of the ECE is sampling noise (0.154 when fitted;
    # 1 − P(answerable), which overstates by 0.15 on average, scored 0.17).
    assert cv["ece_abstained"] <= 0.2
    # The README's settings table says what the threshold is when RAG_ABSTAIN_THRESHOLD is unset.
    readme = (Path(__file__).parents[3] / "README.md").read_text(encoding="utf-8")
    assert f"unset (= the reader model's, {model.abstain_below:.3f})" in readme


def test_a_model_fitted_on_other_features_is_refused_with_how_to_refit(tmp_path):
    # A model file from before a feature was dropped must not be applied to the wrong columns.
    d = json.loads(default_model().to_json())
    d["answerable"]["features"] = [*d["answerable"]["features"][:-1], "typed"]
    (tmp_path / "model.json").write_text(json.dumps(d), encoding="utf-8")
    with pytest.raises(ValueError, match="answerable features .* refit it with `python -m eval.train_reader`"):
        ReaderModel.load(tmp_path / "model.json")


def test_a_logistic_model_is_the_standardised_dot_product_through_a_sigmoid():
    m = Logistic(("a", "b"), np.array([1.0, 0.0]), np.array([2.0, 1.0]), np.array([0.5, -1.0]), 0.25)
    z = (3.0 - 1.0) / 2.0 * 0.5 + (2.0 - 0.0) / 1.0 * -1.0 + 0.25
    assert m.probability(np.array([[3.0, 2.0]]))[0] == pytest.approx(1 / (1 + np.exp(-z)))
    again = Logistic.from_dict(m.to_dict())
    assert again.features == m.features and np.allclose(again.coef, m.coef) and again.intercept == m.intercept


def cand(n: int, start: int, text: str) -> Candidate:
    return Candidate(n, start, start + len(text), text, None, start == 0, False)


def consecutive(*texts: str) -> list[Candidate]:
    """Sentences standing one after another in passage 1."""
    out, at = [], 0
    for text in texts:
        out.append(cand(1, at, text))
        at += len(text)
    return out


def evidence(cands: list[Candidate], kind: str = "list", hits: list[Hit] | None = None) -> Evidence:
    x = np.zeros((len(cands), len(CANDIDATE_FEATURES)), dtype=np.float32)
    return Evidence(query(("举措",), kind), hits or [], cands, x, TermWeights.of(query(("举措",)), [1], 10), None)


def hit(aid: str, start: int, text: str) -> Hit:
    return Hit(chunk_id=start, aid=aid, title="t", url="u", date="2026-02-01", account="a", text=text, start=start,
               end=start + len(text), score=1.0)


def test_a_sentence_that_opens_a_list_brings_its_items():
    cands = [cand(1, 0, "今年将通过三大举措提质增效："), cand(1, 14, "一是深化全国通办；"),
             cand(1, 23, "二是推广颁证服务；"), cand(1, 32, "另外，其他工作照常。")]
    chosen = choose_sentences(evidence(cands), np.array([0.9, 0.1, 0.1, 0.3]))
    assert [c.text for c in chosen] == ["今年将通过三大举措提质增效：", "一是深化全国通办；", "二是推广颁证服务；"]


def test_an_enumeration_is_quoted_whole_as_many_items_as_it_announces():
    items = ["一是聚焦投资于人；", "二是健全保障体系；", "三是设施提质升级；", "四是提升治理水平。", "五是别处的一条。"]
    cands = consecutive("民心工程总体分为四大类：", *items)
    chosen = choose_sentences(evidence(cands), np.array([0.9] + [0.1] * len(items)))
    assert [c.text for c in chosen] == ["民心工程总体分为四大类：", *items[:4]]  # four, not the first two, not five


def test_an_item_may_run_on_into_an_unmarked_sentence_and_the_list_ends_after_its_last_item():
    texts = ["分为两大类：", "一是投资于人；", "全年投入10亿元。", "二是保障体系。", "记者了解到，这是另一件事。"]
    cands = consecutive(*texts)
    chosen = choose_sentences(evidence(cands), np.array([0.9, 0.1, 0.1, 0.1, 0.1]))
    assert [c.text for c in chosen] == texts[:4]


def test_a_list_ends_where_another_starts_counting_from_one_and_an_item_may_share_the_opening_sentence():
    texts = ["分为四大类：一是投资于人；", "二是保障体系；", "三是设施提质；", "四是治理水平。", "解读四大亮点。",
             "一是聚焦急事。"]
    cands = consecutive(*texts)
    chosen = choose_sentences(evidence(cands), np.array([0.9] + [0.1] * 5))
    assert [c.text for c in chosen] == texts[:4]
    three = [cand(1, 0, "分为三类："), cand(1, 5, "一是甲；"), cand(1, 9, "二是乙。"), cand(1, 13, "一是另一张单子。")]
    assert [c.text for c in choose_sentences(evidence(three), np.array([0.9, 0.1, 0.1, 0.1]))] == \
        ["分为三类：", "一是甲；", "二是乙。"]


def test_a_colon_without_items_brings_no_more_than_an_ordinary_answer():
    texts = ["记者了解到：", "第一句。", "第二句。", "第三句。", "第四句。", "第五句。"]
    cands = consecutive(*texts)
    chosen = choose_sentences(evidence(cands), np.array([0.9] + [0.1] * 5))
    assert [c.text for c in chosen] == texts[:3]


@pytest.mark.parametrize(("text", "count"), [
    ("民心工程总体分为四大类：", 4), ("围绕十二个方面部署工作。", 12), ("包括以下三种方式：", 3),
    ("具有三大显著特点。", 3), ("下午3点召开会议。", None), ("以下简称“办法”。", None),
])
def test_the_count_a_sentence_announces(text, count):
    assert _announced(text) == count


def test_items_written_qi_yi_qi_er_are_items_too():
    cands = [cand(1, 0, "该线路具有三大显著特点。"), cand(1, 12, "其一，客流覆盖广泛。"),
             cand(1, 22, "其二，智能化水平领先。"), cand(1, 33, "其三，换乘便捷高效。")]
    chosen = choose_sentences(evidence(cands), np.array([0.9, 0.1, 0.1, 0.1]))
    assert [c.text for c in chosen] == [c.text for c in cands]


def test_a_second_sentence_joins_only_when_nearly_as_likely_and_quotes_stay_in_reading_order():
    cands = [cand(1, 0, "第一句说了一些事情。"), cand(1, 10, "第二句给出答案的数字。"), cand(2, 0, "别处的一句话。")]
    chosen = choose_sentences(evidence(cands, "quantity"), np.array([0.5, 0.8, 0.2]))
    assert [c.text for c in chosen] == ["第一句说了一些事情。", "第二句给出答案的数字。"]
    assert [c.text for c in choose_sentences(evidence(cands, "quantity"), np.array([0.1, 0.8, 0.2]))] == \
        ["第二句给出答案的数字。"]
    assert choose_sentences(evidence([], "quantity"), np.zeros(0)) == []


def test_a_sentence_opening_with_qizhong_comes_with_the_sentence_it_refers_back_to():
    cands = consecutive("报废旧车、买新车的，可享一次性补贴。", "其中，购买新能源乘用车的，最高2万元；", "另一件事。")
    chosen = choose_sentences(evidence(cands, "quantity"), np.array([0.2, 0.9, 0.1]))
    assert [c.text for c in chosen] == [cands[0].text, cands[1].text]  # in reading order


def test_a_heading_is_never_quoted_even_when_it_scores_best():
    cands = [Candidate(1, 0, 9, "三、2026年重点工作", None, True, True), cand(1, 10, "今年重点抓好九个方面的工作。")]
    assert [c.text for c in choose_sentences(evidence(cands), np.array([0.9, 0.2]))] == ["今年重点抓好九个方面的工作。"]
    assert choose_sentences(evidence(cands[:1]), np.array([0.9])) == []  # nothing but a heading: nothing to quote


def test_a_list_question_answered_by_a_count_brings_the_items_the_article_lists_after_it():
    # The count opens passage 1 of an article; its items are in passage 2, which follows it in the article.
    first = "围绕海洋经济，系统谋划了六方面重点任务。海洋是高质量发展的战略要地。"
    second = "一是构建现代海洋产业体系；二是打造海洋科技创新高地。"
    hits = [hit("a1", 0, first), hit("a1", len(first), second)]
    cands = [cand(1, 0, "围绕海洋经济，系统谋划了六方面重点任务。"), cand(1, 20, "海洋是高质量发展的战略要地。"),
             cand(2, 0, "一是构建现代海洋产业体系；"), cand(2, 13, "二是打造海洋科技创新高地。")]
    chosen = choose_sentences(evidence(cands, "list", hits), np.array([0.9, 0.1, 0.2, 0.1]))
    assert [c.text for c in chosen] == ["围绕海洋经济，系统谋划了六方面重点任务。", "一是构建现代海洋产业体系；",
                                        "二是打造海洋科技创新高地。"]
    # A question asking for a number is answered by the count alone.
    assert [c.text for c in choose_sentences(evidence(cands, "quantity", hits), np.array([0.9, 0.1, 0.2, 0.1]))] == \
        ["围绕海洋经济，系统谋划了六方面重点任务。"]


def test_a_sentence_is_quoted_once_though_overlapping_passages_or_two_reports_hold_it():
    # Passages 1 and 2 of one article overlap on its second sentence; articles b2 and c3 report one meeting in
    # nearly the same words.
    hits = [hit("a1", 0, "会议听取了汇报。会议审议了年度计划。"), hit("a1", 8, "会议审议了年度计划。"),
            hit("b2", 0, "总理李强2月6日主持召开全体会议，讨论了报告稿。"),
            hit("c3", 0, "2月6日，总理李强主持召开全体会议，讨论了报告稿。")]
    cands = [cand(1, 0, "会议听取了汇报。"), cand(1, 8, "会议审议了年度计划。"), cand(2, 0, "会议审议了年度计划。"),
             Candidate(3, 0, 24, "总理李强2月6日主持召开全体会议，讨论了报告稿。", None, True, False),
             Candidate(4, 0, 25, "2月6日，总理李强主持召开全体会议，讨论了报告稿。", None, True, False)]
    chosen = choose_sentences(evidence(cands, "other", hits), np.array([0.5, 0.9, 0.9, 0.8, 0.8]))
    assert [c.text for c in chosen] == ["会议审议了年度计划。", "总理李强2月6日主持召开全体会议，讨论了报告稿。"]


def test_a_counts_items_start_at_its_first_item_and_are_quoted_in_the_articles_order():
    # The items' passage ranks first, the count's second; 3.5亿元 and another section's 三是 are not its items.
    text = ("三是加强监管。围绕海洋经济，系统谋划了两方面重点任务。"
            "3.5亿元资金已下达。一是构建产业体系；二是打造创新高地。")
    hits = [hit("a1", 27, text[27:]), hit("a1", 0, text[:27])]
    cands = [cand(1, 0, "3.5亿元资金已下达。"), cand(1, 11, "一是构建产业体系；"), cand(1, 20, "二是打造创新高地。"),
             cand(2, 0, "三是加强监管。"), cand(2, 7, "围绕海洋经济，系统谋划了两方面重点任务。")]
    chosen = choose_sentences(evidence(cands, "list", hits), np.array([0.1, 0.2, 0.1, 0.1, 0.9]))
    assert [c.text for c in chosen] == ["围绕海洋经济，系统谋划了两方面重点任务。", "一是构建产业体系；",
                                        "二是打造创新高地。"]


def test_of_two_sentences_that_read_alike_the_one_under_the_asked_thing_is_quoted():
    # An FAQ repeats one template per category; the question names phones, so the cap after "包含手机" answers.
    texts = ["3. 问：家电补贴标准是多少？", "答：包含冰箱、洗衣机6类家电。", "按售价的15%补贴，每件最高补贴1500元。",
             "4. 问：数码产品补贴标准是多少？", "答：包含手机等4类产品。", "按售价的15%补贴，每件最高补贴500元。"]
    cands = consecutive(*texts)
    focus = ("手机", "补贴")
    x = np.zeros((len(cands), len(CANDIDATE_FEATURES)), dtype=np.float32)
    weights = TermWeights.of(query(focus), [2, 9], 10)
    ev = Evidence(query(focus), [hit("a1", 0, "".join(texts))], cands, x, weights, None)
    p = np.array([0.1, 0.1, 0.30, 0.1, 0.1, 0.28])
    assert [c.text for c in choose_sentences(ev, p)] == ["按售价的15%补贴，每件最高补贴500元。"]
    # Sentences that do not read alike keep the model's choice.
    unlike = [*texts[:5], "每位消费者可享受补贴1件。"]
    ev = Evidence(ev.query, [hit("a1", 0, "".join(unlike))], consecutive(*unlike), ev.candidate_x, ev.weights, None)
    assert choose_sentences(ev, p)[0].text == texts[2]


def test_of_a_templates_cases_the_one_under_the_asked_case_is_quoted_and_not_the_others():
    # One template per case, differing in figures and asides (（价税合计）): each amount opens with 其中 and is said
    # of the case just before it, whatever the sentences before that case name (对报废…不给予补贴 stands before the
    # trade-in case). Asked about scrapping, the scrapping amount answers, and the trade-in one does not join it.
    texts = ["针对报废旧车的情况，购买新车可享一次性补贴。",
             "其中，购买新能源乘用车的，按价格（价税合计）的12%给予补贴，最高2万元；",
             "对报废新能源车并购买燃油车的，不给予补贴。", "针对卖旧车的情况，购买新车可享一次性补贴。",
             "其中，换购新能源乘用车的，按价格的8%给予补贴，最高1.5万元；"]
    cands = consecutive(*texts)
    focus = ("报废", "新能源", "补贴")
    x = np.zeros((len(cands), len(CANDIDATE_FEATURES)), dtype=np.float32)
    ev = Evidence(query(focus), [hit("a1", 0, "".join(texts))], cands, x, TermWeights.of(query(focus), [5, 5, 2], 10),
                  None)
    p = np.array([0.1, 0.42, 0.1, 0.1, 0.50])
    quoted = [c.text for c in choose_sentences(ev, p)]
    assert quoted == texts[:2]


def test_a_further_sentence_that_opens_a_list_is_not_quoted_without_its_items():
    # Nearly as likely as the best, but quoting "分为四大类：一是…" alone would give one item as if it were all.
    cands = consecutive("今年民心工程共包含66项具体工作。", "民心工程分为四大类：一是服务一老一小，含11项；",
                        "二是稳就业，含9项；", "符合条件的情形之一的：", "全年投入资金20亿元。")
    chosen = choose_sentences(evidence(cands, "quantity"), np.array([0.9, 0.8, 0.1, 0.8, 0.7]))
    assert [c.text for c in chosen] == ["今年民心工程共包含66项具体工作。", "全年投入资金20亿元。"]


def test_a_further_sentence_announcing_the_items_after_it_is_not_quoted_without_them():
    # "具有三大显著特点。" then 其一…其二…: quoted last, alone, it promises three points and gives none.
    cands = consecutive("地铁8号线实现环网电通。", "线路全长约23公里。", "地铁8号线具有三大显著特点。",
                        "其一，客流覆盖广泛。", "其二，智能化水平领先。", "其三，换乘便捷高效。")
    chosen = choose_sentences(evidence(cands, "other"), np.array([0.9, 0.8, 0.8, 0.1, 0.1, 0.1]))
    assert [c.text for c in chosen] == ["地铁8号线实现环网电通。", "线路全长约23公里。"]


def test_a_sentence_about_another_year_than_the_one_asked_is_told_apart():
    from rag.reader.features import _years

    asked = Query(text="q", search_text="q", language="zh", traditional=False, terms=(), focus=("GDP",),
                  answer_type="quantity", years=(2025,))
    published = hit("a1", 0, "x")  # dated 2026-02-01: its 去年 is 2025
    assert _years(asked, "去年全市地区生产总值增长4.8%。", published) == (1.0, 0.0)
    assert _years(asked, "今年预期目标是增长4.5%左右。", published) == (0.0, 1.0)
    assert _years(asked, "“十四五”以来GDP年均增长4.4%。", published) == (0.0, 0.0)  # names no year
    assert _years(query(("GDP",)), "今年预期目标是增长4.5%左右。", published) == (0.0, 0.0)  # asks none


def test_a_sentence_naming_no_year_is_dated_by_the_sentences_just_before_it_or_its_lists_head():
    from rag.reader.features import _dated, _list_head, _window, _years

    asked = Query(text="q", search_text="q", language="zh", traditional=False, terms=(), focus=("收入",),
                  answer_type="quantity", years=(2025,))
    published = hit("a1", 0, "x")  # dated 2026-02-01: its 今年 is 2026
    read = ["今年经济社会发展主要预期目标是：", "地区生产总值增长4.5%；", "一般公共预算收入增长2%；"]
    assert _years(asked, _dated(read[-1], _window(read)), published) == (0.0, 1.0)  # this year's target, not 2025's
    dated = [*read, "2025年，一般公共预算收入增长4.1%。"]
    assert _dated(dated[-1], _window(dated)) == dated[-1]  # a sentence naming its year is dated by it alone
    far = ["今年经济社会发展主要预期目标是：", "甲。", "乙。", "一般公共预算收入增长2%；"]
    assert _years(asked, _dated(far[-1], _window(far)), published) == (0.0, 0.0)  # out of reach: undated
    # An item of a list is dated by the list's head, however far back: the fourth target is 2026's too.
    items = ["今年经济社会发展主要预期目标是：地区生产总值增长4.5%；", "一般公共预算收入增长2%；",
             "居民消费价格涨幅2%左右；", "城镇调查失业率5.5%左右，城镇新增就业28万人；"]
    assert _years(asked, _dated(items[-1], f"{_list_head(items)}\n{_window(items)}"), published) == (0.0, 1.0)


def test_the_items_of_a_list_being_quoted_are_kept_though_one_of_them_opens_a_sublist():
    cands = consecutive("补贴分为三类：", "一是家电补贴。", "二是手机补贴，具体如下：", "单价不超过6000元的手机。",
                        "三是汽车补贴。")
    chosen = choose_sentences(evidence(cands), np.array([0.9, 0.1, 0.1, 0.1, 0.1]))
    assert [c.text for c in chosen] == [c.text for c in cands]


def test_a_short_sentence_takes_its_topic_from_the_sentences_just_before_it():
    from rag.reader.features import candidate_features

    meeting, chaired = "市长张工出席市政府第四次廉政工作会议并讲话。", "常务副市长王旭主持。"
    other = "有关负责同志作了发言。"
    far = [meeting, other, other, chaired]  # the meeting three sentences back: out of reach
    cands = [*consecutive(meeting, chaired), *[cand(2, 10 * i, t) for i, t in enumerate(far)], cand(3, 0, chaired)]
    hits = [hit("a1", 0, meeting + chaired), hit("a2", 0, "".join(far)), hit("a3", 0, chaired)]
    asked = query(("廉政工作会议", "主持"), "person")
    x = candidate_features(asked, None, cands, hits, TermWeights.of(asked, [3, 20], documents=400))
    coverage, local = x[:, CANDIDATE_FEATURES.index("coverage")], x[:, CANDIDATE_FEATURES.index("local_coverage")]
    assert coverage[1] < local[1] == pytest.approx(1.0)  # 王旭主持 under the meeting it chaired
    assert local[5] == coverage[5] < 1.0
    assert local[6] == coverage[6] < 1.0  # the first sentence of its passage: nothing before it


def dated(date: str, text: str) -> Hit:
    return Hit(chunk_id=1, aid="a", title="t", url="u", date=date, account="a", text=text, start=0, end=len(text),
               score=1.0)


ASKED = DateRange(dt.date(2026, 2, 5), dt.date(2026, 2, 5), "2月5日")


@pytest.mark.parametrize(("date", "text", "other"), [
    ("2026-02-02", "从2月2日14时起启动Ⅱ级应急响应", True),  # another day, in another day's news
    ("2026-02-06", "2月5日，市委常委会召开会议", False),  # the asked day, in its news
    ("2026-02-07", "2月6日，市委全面依法治市工作会议召开", True),  # another day, and not the news of the 5th
    ("2026-02-06", "2月4日，市长调研了项目", True),  # in the news of the 5th, only an earlier day is no answer
    ("2026-02-05", "会议决定，新规自3月1日起施行", False),  # the asked day's news may name a later one
    ("2026-02-05", "目前天津已建成5个站点", False),  # names no day at all (目前天 is no 前天)
    ("2026-02-06", "于昨天顺利实现环网电通", False),  # 昨天 in news of 2月6日 is the 5th
    ("2026-02-01", "春节假期从2月1日持续到2月8日", False),  # a range holding the asked day
])
def test_a_sentence_reports_another_day_when_it_names_only_other_days(date, text, other):
    assert _another_day(text, dated(date, text), ASKED) is other


def test_a_question_asking_when_may_be_answered_by_another_day():
    # 2月5日发布的预警什么时候解除？: its date says which alert; the answer is the day it was lifted.
    lifted = dated("2026-02-07", "2月7日12时，重污染天气橙色预警解除。")
    for kind, kept in (("time", 1.0), ("other", 0.0)):
        q = replace(query(("预警",), kind), dates=ASKED)
        ev = Evidence(q, [lifted], [cand(1, 0, lifted.text)], np.zeros((1, len(CANDIDATE_FEATURES))),
                      TermWeights.of(q, [1], 10), None)
        assert ruled_out(ev, np.ones(1))[0] == kept, kind


def test_a_sentence_about_other_lettered_things_of_the_asked_kind_cannot_answer():
    asked = lettered("文化中心站J口到底哪天能恢复？")
    assert _another_lettered("自2月10日9:00起，文化中心站H、G出入口将恢复运营。", asked)
    assert not _another_lettered("文化中心站J出入口恢复运营时间将另行通知。", asked)
    # One that speaks of the rest answers too; another kind of lettered thing says nothing of it.
    assert not _another_lettered("除J口外，其余出入口均已于2月10日恢复运营。", lettered("H口哪天恢复？"))
    assert not _another_lettered("A座大厦于3月启用。", asked)


@pytest.mark.parametrize(("text", "mentions"), [
    ("会议还审议了《天津市医疗救助办法》等其他事项。", True),
    ("市民政局、市财政局、西青区政府主要负责同志作了发言。", True),
    ("部门规范性文件（点击下方“原文阅读”查看）关于印发《天津市入海排污口监督管理实施细则（试行）》的通知", True),
    ("陈敏尔出席会议并作重要讲话。", True),
    ("新版《办法》将补偿标准提高到每亩500元并已于近日正式印发。", False),  # content before the act
    ("会议听取了政府工作报告的说明", False),  # 工作报告 is no 作报告
    ("张工作政府工作报告。", True),  # but the mayor 张工 gives one
    ("天津科技大学储能学院成立大会暨储能专业建设与学科规划研讨会近日召开。", True),
    ("他在讲话中指出要稳就业。", False),  # what the speech said
    # What it says, or more than its issuing, is content.
    ("《办法》明确了补偿标准为每亩500元。", False),
    ("会议审议通过《办法》，明确医疗救助对象包括低保对象和特困人员。", False),
])
def test_a_sentence_that_only_reports_a_document_or_speech_does_not_say_what_it_says(text, mentions):
    assert _only_mentions(text) is mentions


def test_asked_what_a_document_says_a_sentence_only_reporting_it_cannot_answer():
    reviewed = hit("a1", 0, "会议还审议了《天津市医疗救助办法》等其他事项。")
    # A meeting is answered by what it decided, not a document by its issuing.
    for question, kept in (("《天津市医疗救助办法》主要规定了什么内容？", 0.0), ("会议审议了哪些办法？", 1.0),
                           ("这次常务会议讲了什么？", 1.0), ("这次常务会议规定了什么？", 1.0),
                           ("《天津市医疗救助办法》包括哪些内容？", 0.0)):
        q = replace(query(("医疗救助",), "other"), text=question, search_text=question)
        ev = Evidence(q, [reviewed], [cand(1, 0, reviewed.text)], np.zeros((1, len(CANDIDATE_FEATURES))),
                      TermWeights.of(q, [1], 10), None)
        assert ruled_out(ev, np.ones(1))[0] == kept, question


def test_a_passage_naming_only_another_university_cannot_answer_a_question_in_either_language():
    battery = hit("a1", 0, "南开大学陈军团队联合开发的固液电池发布，电芯能量密度突破500瓦时每公斤。")
    for language, focus, question, kept in (
            ("zh", ("天津大学", "电池"), "天津大学研发的电池电芯能量密度是多少？", 0.0),
            ("zh", ("南开大学", "电池"), "南开大学研发的电池电芯能量密度是多少？", 1.0),
            ("en", ("电芯", "电池", "天津大学"), "What is the energy density of Tianjin University's battery?", 0.0),
            ("en", ("电芯", "电池", "南开大学"), "What is the energy density of Nankai University's battery?", 1.0)):
        q = replace(query(focus, "quantity"), text=question, search_text=question, language=language)
        ev = Evidence(q, [battery], [cand(1, 0, battery.text)], np.zeros((1, len(CANDIDATE_FEATURES))),
                      TermWeights.of(q, [1] * len(focus), 10), None)
        assert ruled_out(ev, np.ones(1))[0] == kept, question


def test_a_passage_naming_no_asked_numbered_project_cannot_answer_but_other_numbered_kinds_may():
    grain = hit("a1", 0, "该多式联运项目总投资约25.7亿元。")
    assert _unnumbered(grain, {"项目": {"117"}})
    assert not _unnumbered(hit("a2", 0, "“117项目”自去年4月复工建设以来…"), {"项目": {"117"}})
    # A session or a line may be written in Chinese numerals (第十五届, 六号线): its passages are kept.
    assert not _unnumbered(hit("a3", 0, "第十五届全运会开幕。"), {"届": {"15"}})


def test_an_item_of_a_list_is_said_of_what_its_colon_heads():
    first = "今年经济社会发展主要预期目标是：地区生产总值增长4.5%；"
    assert _list_head([first, "一般公共预算收入增长2%；", "城镇新增就业28万人；"]) == "今年经济社会发展主要预期目标是"
    assert _list_head(["主要预期目标是：", "增长4.5%；", "城镇新增就业28万人；"]) == "主要预期目标是"  # its own line
    assert _list_head(["上一段结束。", "城镇新增就业28万人；"]) == ""


def test_each_question_of_a_message_is_read_for_its_own_measure():
    q = Query(text="q", search_text="晋北线首批投入了多少辆氢能重卡？百公里耗氢多少？", language="zh",
              traditional=False, terms=(), focus=(), answer_type="quantity")
    clauses = _asked_clauses(q)
    assert [c for _, c in clauses] == ["晋北线首批投入了多少辆氢能重卡？", "百公里耗氢多少？"]
    assert "辆" in clauses[0][0]
    # A piece that asks nothing (你知道吗？) belongs to the question after it.
    q = replace(q, search_text="你知道吗？每户每月能领多少钱？")
    assert len(_asked_clauses(q)) == 1


def test_a_clause_going_on_from_a_qizhong_clause_is_read_under_what_that_refers_back_to():
    # 购买燃油乘用车的… goes on from 其中，购买新能源乘用车的…；: both are the scrapping case's, not of what stands
    # before that case.
    texts = ["今年开展补贴活动。", "针对报废旧车的情况，可享一次性补贴。", "其中，购买新能源乘用车的，最高2万元；",
             "购买燃油乘用车的，最高1.5万元。"]
    ev = evidence(consecutive(*texts))
    scrapping = [texts[1]]
    assert [c.text for c in _context(ev, ev.candidates[2])] == scrapping
    assert [c.text for c in _context(ev, ev.candidates[3])] == scrapping
    assert [c.text for c in _context(ev, ev.candidates[1])] == texts[:1]


@pytest.mark.parametrize(("sentences", "kinds", "near_miss"), [
    # Counted, or spoken of vaguely, and not named: asked which ones, a near miss.
    (["对8个老旧高层住宅小区实施消防安全改造提升；"], ["小区"], True),
    (["线路全长约23公里，共设车站21座。"], ["车站"], True),
    (["到有关企业和海河实验室等调研。"], ["企业"], True),
    (["会议还研究了其他事项。"], ["事项"], True),
    (["会上发布年度十大进展。"], ["进展"], True),
    # Members named where they are counted: joined by 、, one before the others counted, two joined before a count.
    (["串联西青、南开、和平、河西、津南五个行政区。"], ["行政区"], False),
    (["全球联络站建设稳步推进，香港站、硅谷站顺利启动。"], ["联络站"], False),
    (["今年将建成开放元宝岛等3个特色公园。"], ["公园"], False),
    (["学院聚焦电化学储能与氢能储能两大核心方向。"], ["方向"], False),
    # Or item by item after the sentence that counts them.
    (["民心工程总体分为四大类：", "一是聚焦投资于人；", "二是健全保障体系；"], ["类"], False),
    (["明确三大任务：一是加快小区改造；", "二是推进管网更新。"], ["任务"], False),
    # A count may stand a few characters of its phrase before the kind (5G), or just after it.
    (["今年建设8个5G基站。"], ["基站"], True),
    # A number that dates, orders, spans a time or a rate counts nothing; nor one inside a word, nor a lone 一 (it
    # names the one); and a kind not named is not counted.
    (["审议我市2026年政党协商计划。"], ["协商"], False),
    (["第十三届天津市专利奖获奖项目名单公布。"], ["项目"], False),
    (["第一批试点小区名单公布。"], ["小区"], False),
    (["计划3个月内完成小区改造。"], ["小区"], False),
    (["下调5个百分点的企业贷款利率。"], ["企业"], False),
    (["按照统一部署推进小区改造。"], ["小区"], False),
    (["三位一体推进企业服务。"], ["企业"], False),
    (["天津某科技公司是一家国家级专精特新企业。"], ["企业"], False),
    (["对8个老旧高层住宅小区实施消防安全改造提升；"], ["车站"], False),
])
def test_an_answer_that_counts_the_asked_things_without_naming_them_is_told_apart(sentences, kinds, near_miss):
    assert counts_without_naming(sentences, kinds) is near_miss
