"""How ingest cuts its work into pipeline steps: whole articles, in order, about PIPELINE_PASSAGES passages each."""

from __future__ import annotations

from rag.ingest import PIPELINE_PASSAGES, _steps
from rag.records import Article, Chunk


def chunked(aid: str, chunks: int, sentences: int) -> tuple[Article, list[Chunk], list[tuple[int, int]]]:
    """An article with ``chunks`` one-character chunks and ``sentences`` sentence spans."""
    text = "天" * max(chunks, sentences, 1)
    article = Article(aid=aid, title="t", url="http://x/", date="2026-02-01", account="a", text=text,
                      content_hash=aid)
    return (article, [Chunk(chunk_id=i, aid=aid, position=i, start=i, end=i + 1, text="天") for i in range(chunks)],
            [(i, i + 1) for i in range(sentences)])


def test_steps_hold_whole_articles_in_order_and_close_once_full():
    items = [chunked(f"a{i}", 3, 7) for i in range(10)]  # 10 passages each
    steps = _steps(items, size=25)
    assert [[a.aid for a, _, _ in step] for step in steps] == [["a0", "a1", "a2"], ["a3", "a4", "a5"],
                                                               ["a6", "a7", "a8"], ["a9"]]


def test_an_article_bigger_than_a_step_is_never_split_and_nothing_is_dropped():
    items = [chunked("small", 1, 1), chunked("big", 40, 2 * PIPELINE_PASSAGES), chunked("last", 1, 0)]
    steps = _steps(items)
    assert [[a.aid for a, _, _ in step] for step in steps] == [["small", "big"], ["last"]]
    assert _steps([]) == []
