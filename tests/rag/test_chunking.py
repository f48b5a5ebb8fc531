"""Chunking: exact spans into the normalised article, sizes within bounds, stable ids."""

from __future__ import annotations

import pytest

from rag.chunking import (
    HEADING_MAX_CHARS,
    MIN_CHUNK_CHARS,
    chunk_article,
    chunk_id,
    embedding_text,
    fold_fragments,
    is_heading,
    make_splitter,
)
from rag.corpus import load_articles
from rag.records import Article
from rag.settings import ChunkingSettings
from tests.conftest import CORPUS


@pytest.fixture(scope="module")
def articles() -> list[Article]:
    return load_articles([CORPUS]).articles


@pytest.mark.parametrize(("size", "overlap"), [(300, 60), (200, 0), (500, 100)])
def test_every_chunk_of_the_corpus_is_an_exact_span_of_its_article(articles, size, overlap):
    splitter = make_splitter(ChunkingSettings(size=size, overlap=overlap))
    for article in articles:
        chunks = chunk_article(article, splitter)
        assert chunks, article.aid
        for position, c in enumerate(chunks):
            assert article.text[c.start : c.end] == c.text
            assert c.position == position and c.aid == article.aid
            # A folded heading or fragment may lengthen a chunk by at most its own length.
            assert len(c.text) <= size + HEADING_MAX_CHARS + MIN_CHUNK_CHARS


def test_chunks_cover_the_whole_body(articles):
    splitter = make_splitter(ChunkingSettings(size=300, overlap=60))
    for article in articles:
        covered = set()
        for c in chunk_article(article, splitter):
            covered.update(range(c.start, c.end))
        missing = [i for i in range(len(article.text)) if i not in covered and not article.text[i].isspace()]
        assert missing == [], article.aid


def test_chunks_prefer_sentence_ends(articles):
    chunks = [c for a in articles for c in chunk_article(a, make_splitter(ChunkingSettings(size=300, overlap=60)))]
    ends = sum(c.text[-1] in "。！？；”" for c in chunks if len(c.text) > 100)
    assert ends / len(chunks) > 0.8


def test_empty_body_gets_one_chunk_embedded_by_title():
    a = Article(aid="x_1", title="低温骤降8℃！寒潮预警", url="u", date="2026-02-05", account="acc", text="")
    (c,) = chunk_article(a, make_splitter(ChunkingSettings(size=300, overlap=60)))
    assert (c.start, c.end, c.text) == (0, 0, "")
    assert embedding_text(a, c) == a.title


def test_chunk_ids_are_stable_positive_and_distinct():
    assert chunk_id("2247553182_1", 3) == chunk_id("2247553182_1", 3)
    ids = {chunk_id(f"{i}_1", p) for i in range(200) for p in range(50)}
    assert len(ids) == 200 * 50 and min(ids) > 0 and max(ids) < 2**63


def test_overlap_must_be_smaller_than_size():
    with pytest.raises(ValueError, match="RAG_CHUNK_OVERLAP"):
        ChunkingSettings(size=100, overlap=100)


def test_no_chunk_is_a_bare_fragment(articles):
    splitter = make_splitter(ChunkingSettings())
    for article in articles:
        for c in chunk_article(article, splitter):
            assert len(c.text) >= MIN_CHUNK_CHARS or len(article.text) < MIN_CHUNK_CHARS, (article.aid, c.text)


def test_a_heading_opens_the_passage_it_introduces_instead_of_closing_the_one_before(articles):
    splitter = make_splitter(ChunkingSettings())
    report = next(a for a in articles if a.aid == "2247553061_1")  # the government work report
    chunks = chunk_article(report, splitter)
    assert any(c.text.startswith("（二）持续夯实高质量发展基础\n") for c in chunks)
    for c in chunks[:-1]:
        last_line = c.text.rsplit("\n", 1)[-1]
        assert "\n" not in c.text or not is_heading(last_line), c.text[-40:]


def test_headings_are_short_lines_that_do_not_end_a_sentence():
    for heading in ("（二）持续夯实高质量发展基础", "三、2026年重点工作", "第十三条 逾期还款"):
        assert is_heading(heading)
    assert not is_heading("今年是“十五五”开局起步之年。") and not is_heading("") and not is_heading("长" * 41)


def test_folding_keeps_exact_spans_and_merges_fragments_into_what_follows():
    text = "一、总则\n" + "正文" * 40 + "。\n附件"
    spans = [(0, 4), (5, 86), (87, 89)]
    folded = fold_fragments(text, spans)
    assert folded == [(0, 89)]  # the heading joins the paragraph, the trailing label joins it too
    assert fold_fragments("短文。", [(0, 3)]) == [(0, 3)]  # a short article keeps its one short span
