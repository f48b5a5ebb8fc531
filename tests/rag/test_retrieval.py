"""Hybrid retrieval on the real corpus index: relevance, modes, filters before the cut, diversity, spans."""

from __future__ import annotations

import pytest

from rag.records import Filters
from rag.service import RagService

CASES = [
    ("今年民心工程包含多少项？", "2247552999_1"),
    ("天津公积金新政细则", "2247553182_1"),
    ("汽车以旧换新补贴怎么申请", "2247552991_1"),
    ("本周上班时间有什么变化", "2247553250_1"),
    ("Which metro entrances reopen in Tianjin?", "2247553251_1"),  # cross-lingual: English → Chinese text
]


@pytest.mark.parametrize(("query", "aid"), CASES)
def test_the_answering_article_is_ranked_first(service, query, aid):
    hits = service.search(query, top_k=5).hits
    assert hits[0].aid == aid


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_every_mode_ranks_best_first_with_spans_that_match_the_article(service, corpus_articles, mode):
    hits = service.search("公积金贷款额度", top_k=8, mode=mode).hits
    assert hits and [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    for h in hits:
        assert corpus_articles[h.aid].text[h.start : h.end] == h.text
    if mode == "hybrid":
        assert all(0 < h.score <= 1 for h in hits)
    if mode == "dense":
        assert all(h.scores.lexical is None and h.score == h.scores.dense for h in hits)
    if mode == "lexical":
        assert all(h.scores.dense is None and h.score == h.scores.lexical for h in hits)


def test_a_domain_document_number_is_found_by_lexical_search(service):
    hits = service.search("津政办规〔2023〕9号", top_k=3, mode="lexical").hits
    assert hits[0].aid == "2247553018_1"


@pytest.mark.parametrize(("query", "top_k"), [
    ("天津市2026年政府工作报告 经济 发展 目标", 10),
    # Passages that grew towards each other as lower-ranked chunks joined them (0–499 and 462–886 once).
    ("重污染应急响应期间坐公交免费吗？", 5),
    ("荣程新能的氢能重卡加满一次氢能跑多远？", 10),
    ("保税区粮食物流项目规划的铁路线什么时候能通到港区？", 10),
])
def test_at_most_the_configured_passages_per_article_and_no_text_cited_twice(service, query, top_k):
    hits = service.search(query, top_k=top_k).hits
    limit = service.settings.retrieval.max_passage_chars
    by_article: dict[str, list] = {}
    for h in hits:
        by_article.setdefault(h.aid, []).append(h)
    assert max(len(v) for v in by_article.values()) <= service.settings.retrieval.max_chunks_per_article
    for passages in by_article.values():
        for a in passages:
            for b in passages:
                if a is not b:
                    assert a.end <= b.start or b.end <= a.start  # no sentence in two passages
                    if a.end == b.start:  # touching: kept apart only when one passage would be too long
                        assert b.end - a.start > limit


def test_the_passage_cap_per_article_is_a_setting(service):
    # A question on the long car-trade-in article: at the default cap, several of its passages lead the page.
    query = "汽车以旧换新补贴资格券什么时候投放？"
    assert len({h.aid for h in service.search(query, top_k=5).hits}) < 5
    one_each = RagService(service.settings.updated(retrieval={"max_chunks_per_article": 1}), service.embedder)
    hits = one_each.search(query, top_k=5).hits
    assert len(hits) == 5 and len({h.aid for h in hits}) == 5


def test_date_filter_is_applied_before_the_cut(service):
    f = Filters(date_from="2026-02-09", date_to="2026-02-10")
    hits = service.search("公积金", top_k=5, filters=f).hits
    assert hits, "filters must not empty the page when matching articles exist"
    assert all("2026-02-09" <= h.date <= "2026-02-10" for h in hits)
    assert service.search("公积金", top_k=5, filters=Filters(date_from="2027-01-01")).hits == []


def test_aids_and_account_filters(service):
    hits = service.search("地铁", top_k=5, filters=Filters(aids=("2247553120_1",))).hits
    assert {h.aid for h in hits} == {"2247553120_1"}
    assert service.search("地铁", top_k=5, filters=Filters(account="另一个公众号")).hits == []
    assert service.search("地铁", top_k=5, filters=Filters(account="天津政务网")).hits


def test_unknown_mode_is_refused(service):
    with pytest.raises(ValueError, match="unknown mode"):
        service.search("地铁", mode="sparse")  # type: ignore[arg-type]


def test_english_questions_search_with_chinese_terms(service):
    found = service.search("How much subsidy do I get for trading in an old car?", top_k=5)
    assert {"补贴", "以旧换新"} <= set(found.query.terms)
    assert found.hits[0].aid == "2247552991_1"
    assert found.hits[0].scores.lexical is not None  # BM25 took part, on the translated terms


def test_traditional_questions_find_what_their_simplified_twins_find(service):
    simplified = service.search("公积金可以用来付房租吗？", top_k=5)
    traditional = service.search("公積金可以用來付房租嗎？", top_k=5)
    assert traditional.query.traditional and traditional.query.search_text == "公积金可以用来付房租吗？"
    assert [h.chunk_id for h in traditional.hits] == [h.chunk_id for h in simplified.hits]


def test_a_named_day_boosts_the_articles_that_name_it(service):
    found = service.search("2月5日市委开了什么会？", top_k=5)
    assert found.date_boosted and found.query.dates.source == "2月5日"
    top = service.index().articles([found.hits[0].aid])[found.hits[0].aid]
    assert "2月5日" in top.text


def test_the_days_news_comes_first_then_what_was_published_then_announcements_that_name_the_day():
    import datetime as dt

    from rag.dates import DateRange
    from rag.records import Article, Chunk
    from rag.retrieval import _dated

    day = dt.date(2026, 2, 9)
    articles = {
        "early": Article(aid="early", title="t", url="u", date="2026-01-31", account="a", text="活动持续至2月9日。",
                         content_hash="1"),
        "plain": Article(aid="plain", title="t", url="u", date="2026-02-09", account="a", text="地铁出入口恢复运营。",
                         content_hash="2"),
        "report": Article(aid="report", title="t", url="u", date="2026-02-10", account="a", text="2月9日，陈敏尔调研。",
                          content_hash="3"),
        "other": Article(aid="other", title="t", url="u", date="2026-02-03", account="a", text="寒潮来袭。",
                         content_hash="4"),
    }
    chunks = {i: Chunk(chunk_id=i, aid=aid, position=0, start=0, end=len(a.text), text=a.text)
              for i, (aid, a) in enumerate(articles.items())}
    # Retrieval found them in this order: the announcement first.
    assert _dated(DateRange(day, day, "昨天"), [0, 1, 2, 3], chunks, articles) == [2, 1, 0]
