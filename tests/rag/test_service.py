"""The loaded service over the session's corpus index: what it holds, and following new index versions."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import psutil
import pytest

from rag.chunking import SPLITTER, chunk_article, make_splitter
from rag.index import NoIndexError
from rag.ingest import delete, ingest
from rag.service import RagService
from tests.conftest import SMALL_AIDS, backend_params, index_options, make_settings


@pytest.fixture(params=backend_params("local", "milvus-lite"))
def small_settings(request, tmp_path, models_dir):
    """An empty RAG_HOME (and Milvus collections) of its own, on each backend."""
    return make_settings(tmp_path / "home", models_dir, **index_options(request.param, request))


def test_the_corpus_index_has_every_chunk_with_exact_offsets(service, corpus_settings, embedder, corpus_articles):
    index = service.index()
    splitter = make_splitter(corpus_settings.chunking)
    expected = [c for a in corpus_articles.values() for c in chunk_article(a, splitter)]
    stored = index.chunks(c.chunk_id for c in expected)
    assert len(stored) == len(expected) == index.counts()["chunks"] == index.counts()["vectors"]
    for c in stored.values():
        assert corpus_articles[c.aid].text[c.start : c.end] == c.text
    m = index.manifest
    assert (m.embedding_model, m.dim, m.counts["articles"]) == (embedder.name, embedder.dim, 49)


def test_stats_describe_the_index_and_the_model(service, embedder):
    stats = service.stats()
    assert stats.counts["articles"] == 49 and stats.accounts == ["天津政务网"]
    assert stats.backend == "local" and stats.model["name"] == embedder.name
    assert stats.index == {"backend": "local"}
    assert stats.manifest["chunking"] == {"size": 300, "overlap": 60, "splitter": SPLITTER}
    assert "/" not in str(stats.manifest.get("backend"))  # no filesystem paths in what the API shows


def test_article_returns_the_normalised_text_or_none(service, corpus_articles):
    assert service.article("2247553182_1") == corpus_articles["2247553182_1"]
    assert service.article("nope_1") is None


def test_a_follow_up_is_read_against_the_history_and_says_how(service):
    answer = service.ask("那手机呢？", history=["汽车以旧换新补贴多少钱？"])
    assert answer.conversation is not None and answer.conversation.asked == "那手机呢？"
    assert answer.conversation.carried == ["汽车", "以旧换新", "补贴"]
    assert answer.question == answer.conversation.question
    assert "500元" in answer.answer
    # Streamed, the outcome says the same; without a history there is nothing to say.
    done = list(service.ask_events("那手机呢？", history=["汽车以旧换新补贴多少钱？"]))[-1]
    assert done.conversation == answer.conversation
    assert service.ask("今年民心工程有多少项？").conversation is None
    with pytest.raises(TypeError, match="list of earlier questions"):
        service.ask("那手机呢？", history="汽车以旧换新补贴多少钱？")  # type: ignore[arg-type]


@pytest.mark.slow
def test_the_service_follows_each_published_version(small_corpus, small_settings, embedder):
    svc = RagService(small_settings, embedder)
    assert not svc.has_index()
    with pytest.raises(NoIndexError):
        svc.search("地铁")
    ingest([small_corpus], small_settings, embedder, progress=False)
    assert svc.has_index() and svc.index().counts()["articles"] == len(SMALL_AIDS)
    first = svc.index()
    assert svc.index() is first  # no reload while nothing changed
    delete(["2247553251_1"], small_settings)
    assert svc.index() is not first and svc.index().counts()["articles"] == len(SMALL_AIDS) - 1
    assert "2247553251_1" not in {h.aid for h in svc.search("地铁出入口恢复运营", top_k=5).hits}


@pytest.mark.slow
@pytest.mark.parametrize("small_settings", ["local"], indirect=True)  # SQLite files of the local backend
def test_a_replaced_index_version_closes_its_files_at_once(small_corpus, small_settings, embedder):
    # Requests run on many threads (the server's thread pool), each with its own SQLite connection; when a new
    # version is published, the old version's connections must close as soon as no request uses them, not
    # whenever garbage collection gets round to them.
    ingest([small_corpus], small_settings, embedder, progress=False)
    svc = RagService(small_settings, embedder)

    def open_builds() -> set[Path]:
        files = [Path(f.path) for f in psutil.Process().open_files()]
        return {f.parent for f in files if f.name == "meta.sqlite" and small_settings.home in f.parents}

    with ThreadPoolExecutor(16) as pool:
        for aid in SMALL_AIDS[:3]:
            list(pool.map(lambda q: svc.search(q, top_k=3), ["地铁", "公积金", "寒潮", "会议"] * 8))
            assert len(open_builds()) == 1
            delete([aid], small_settings)
        list(pool.map(lambda q: svc.search(q, top_k=3), ["地铁", "公积金"] * 8))
        active = (small_settings.home / "index").resolve()
        assert open_builds() == {active}


def test_the_milvus_index_holds_what_the_local_one_holds(service, milvus_service, corpus_articles):
    local, milvus = service.index(), milvus_service.index()
    assert milvus.counts() == local.counts() and milvus.accounts() == local.accounts()
    assert milvus.manifest.corpus_hash == local.manifest.corpus_hash
    assert milvus.manifest.counts == local.manifest.counts
    aids = list(corpus_articles)
    assert milvus.articles(aids) == local.articles(aids) == corpus_articles
    query = service.embedder.encode_queries(["公积金可以用来付房租吗"])[0]
    ids = [c for c, _ in local.search_dense(query, 50)]
    assert milvus.chunks(ids) == local.chunks(ids)
    some = aids[:5]
    for aid in some:
        a, b = milvus.sentences([aid])[aid], local.sentences([aid])[aid]
        assert a.spans == b.spans and np.allclose(a.vectors, b.vectors, atol=1e-6)
    terms = ["公积金", "租房", "提取", "地铁", "火星", "2026"]
    assert milvus.document_frequency(terms) == local.document_frequency(terms)
    assert milvus.documents() == local.documents()
