"""The index contract, run against every backend: what ingest writes, retrieval reads back, exactly.

Vectors here are deterministic unit vectors, so each assertion is exact; the real model's vectors are covered
by the ingest and retrieval tests.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from rag.index import (
    BuildSpec,
    IncompatibleIndexError,
    IndexedArticle,
    IngestRunningError,
    Manifest,
    NoIndexError,
    backend_for,
)
from rag.records import Article, Chunk, Filters
from rag.settings import IndexSettings
from tests.conftest import BACKENDS, backend_params, index_options

DIM = 16
SPEC = BuildSpec(embedding_model="test-model", dim=DIM, tokenizer="test-tokens",
                 chunking={"size": 10, "overlap": 0, "splitter": "test"}, vector_kind="flat")
ARTICLES = [
    Article(aid="a_1", title="公积金新政", url="http://x/a", date="2026-02-01", account="天津政务网",
            text="公积金贷款额度提高。租房提取更方便。", content_hash="h-a1"),
    Article(aid="b_1", title="地铁运营", url="http://x/b", date="2026-02-05", account="天津发布",
            text="地铁出入口恢复运营。", content_hash="h-b1"),
    Article(aid="c_1", title="寒潮预警", url="http://x/c", date="2026-02-09", account="天津政务网",
            text="寒潮来袭注意保暖。", content_hash="h-c1"),
]
TOKENS = {"a_1": [["公积金", "贷款", "额度"], ["租房", "提取"]], "b_1": [["地铁", "出入口", "运营"]],
          "c_1": [["寒潮", "保暖"]]}


def chunks_of(article: Article) -> list[Chunk]:
    """One chunk per sentence, with exact spans."""
    out, start = [], 0
    for position, sentence in enumerate(s + "。" for s in article.text.split("。") if s):
        begin = article.text.index(sentence, start)
        out.append(Chunk(chunk_id=hash((article.aid, position)) & 0x3FFFFFFFFFFF, aid=article.aid,
                         position=position, start=begin, end=begin + len(sentence), text=sentence))
        start = begin + len(sentence)
    return out


def vector(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return v / np.linalg.norm(v)


VECTORS = {c.chunk_id: vector(i) for i, c in enumerate(c for a in ARTICLES for c in chunks_of(a))}


def entry(article: Article, tokens: list[list[str]] | None = None, vectors: np.ndarray | None = None
          ) -> IndexedArticle:
    """What ingest would write for ``article``: its sentence spans are its chunks' spans here."""
    cs = chunks_of(article)
    vectors = np.stack([VECTORS[c.chunk_id] for c in cs]) if vectors is None else vectors
    return IndexedArticle(article=article, chunks=cs, tokens=tokens or TOKENS[article.aid], vectors=vectors,
                          sentences=[(c.start, c.end) for c in cs], sentence_vectors=-vectors)


def write(config: IndexSettings, articles: list[Article], *, rebuild: bool = False, spec: BuildSpec = SPEC) -> None:
    backend = backend_for(config)
    with backend.writer(config, spec, rebuild=rebuild) as w:
        for a in articles:
            w.upsert(entry(a))
        w.commit()


@pytest.fixture(params=backend_params(*BACKENDS))
def config(request, tmp_path) -> IndexSettings:
    return IndexSettings(home=tmp_path / "home", **index_options(request.param, request))


@pytest.fixture()
def index(config):
    write(config, ARTICLES)
    return backend_for(config).open(config, SPEC)


def test_nothing_published_yet(config):
    backend = backend_for(config)
    assert backend.version(config) is None and backend.manifest(config) is None
    with pytest.raises(NoIndexError, match="rag ingest"):
        backend.open(config, SPEC)


def test_what_is_written_is_read_back_with_exact_spans(index):
    assert index.counts() == {"articles": 3, "chunks": 4, "sentences": 4, "vectors": 4, "lexical_docs": 4}
    assert index.accounts() == ["天津发布", "天津政务网"]
    assert index.articles(["a_1", "nope"]) == {"a_1": ARTICLES[0]}
    chunks = index.chunks(VECTORS)
    assert len(chunks) == 4
    for c in chunks.values():
        article = next(a for a in ARTICLES if a.aid == c.aid)
        assert article.text[c.start : c.end] == c.text
    m = index.manifest
    assert (m.embedding_model, m.dim, m.tokenizer, m.counts["chunks"]) == ("test-model", DIM, "test-tokens", 4)


def test_sentence_vectors_come_back_with_their_spans(index):
    found = index.sentences(["a_1", "c_1", "nope"])
    assert set(found) == {"a_1", "c_1"}
    for aid, table in found.items():
        cs = chunks_of(next(a for a in ARTICLES if a.aid == aid))
        assert table.spans == [(c.start, c.end) for c in cs]
        assert table.vectors.dtype == np.float32
        assert np.allclose(table.vectors, -np.stack([VECTORS[c.chunk_id] for c in cs]))


def test_a_stored_vector_finds_itself_first(index):
    for cid, v in VECTORS.items():
        (best, score), *_ = index.search_dense(v, 4)
        assert best == cid and score == pytest.approx(1.0, abs=1e-5)
    scores = [s for _, s in index.search_dense(vector(0), 4)]
    assert scores == sorted(scores, reverse=True)


FILTERS = [
    (Filters(date_from="2026-02-02"), {"b_1", "c_1"}),
    (Filters(date_to="2026-02-05"), {"a_1", "b_1"}),
    (Filters(date_from="2026-02-05", date_to="2026-02-05"), {"b_1"}),
    (Filters(account="天津政务网"), {"a_1", "c_1"}),
    (Filters(aids=("c_1", "b_1")), {"b_1", "c_1"}),
    (Filters(account="天津发布", date_to="2026-02-01"), set()),
    (Filters(aids=()), set()),
]


@pytest.mark.parametrize(("filters", "aids"), FILTERS)
def test_filters_apply_before_the_cut_in_both_retrievers(index, filters, aids):
    # k=1 with the best match outside the filter: a filter applied after the cut would return nothing.
    a1 = chunks_of(ARTICLES[0])[0].chunk_id
    dense = index.search_dense(VECTORS[a1], 1, filters)
    assert len(dense) == (1 if aids else 0)
    assert {c.aid for c in index.chunks([cid for cid, _ in dense]).values()} <= aids
    dense_all = index.search_dense(VECTORS[a1], 10, filters)
    assert {c.aid for c in index.chunks([cid for cid, _ in dense_all]).values()} == aids
    lexical = index.search_lexical(["公积金", "地铁", "寒潮"], 10, filters)
    assert {c.aid for c in index.chunks([cid for cid, _ in lexical]).values()} == aids


def test_lexical_search_scores_shared_terms_only(index):
    (cid, score), = index.search_lexical(["出入口"], 5)
    assert index.chunks([cid])[cid].aid == "b_1" and score > 0
    assert index.search_lexical(["火星"], 5) == [] and index.search_lexical([], 5) == []


def test_document_frequency_counts_chunks(index):
    assert index.documents() == 4
    assert index.document_frequency(["出入口", "火星", "公积金", "出入口"]) == [1, 0, 1, 1]
    assert sorted(index.vocabulary()) == sorted({t for lists in TOKENS.values() for ts in lists for t in ts})


def test_the_manifest_knows_the_newest_article(config, index):
    assert index.manifest.latest_date == "2026-02-09"
    backend = backend_for(config)
    with backend.writer(config, SPEC) as w:
        w.delete(["c_1"])
        w.commit()
    assert backend.open(config, SPEC).manifest.latest_date == "2026-02-05"


def test_an_upsert_replaces_an_article_everywhere(config, index):
    old_version = backend_for(config).version(config)
    changed = ARTICLES[1].model_copy(update={"text": "地铁新线开通。", "content_hash": "h-b2"})
    backend = backend_for(config)
    with backend.writer(config, SPEC) as w:
        assert w.content_hashes() == {"a_1": "h-a1", "b_1": "h-b1", "c_1": "h-c1"}
        w.upsert(entry(changed, [["地铁", "新线", "开通"]], vector(7)[None, :]))
        w.commit()
    assert backend.version(config) != old_version
    fresh = backend.open(config, SPEC)
    assert fresh.articles(["b_1"])["b_1"].text == "地铁新线开通。"
    assert fresh.search_lexical(["出入口"], 5) == []
    (cid, _), = fresh.search_lexical(["新线"], 5)
    assert fresh.chunks([cid])[cid].text == "地铁新线开通。"
    assert fresh.search_dense(vector(7), 1)[0][0] == cid
    assert fresh.counts()["chunks"] == fresh.counts()["vectors"] == fresh.counts()["sentences"] == 4
    assert fresh.sentences(["b_1"])["b_1"].spans == [(0, 7)]
    assert np.allclose(fresh.sentences(["b_1"])["b_1"].vectors, -vector(7))


def test_a_delete_removes_an_article_from_every_part(config, index):
    backend = backend_for(config)
    with backend.writer(config, SPEC) as w:
        w.delete(["a_1"])
        w.commit()
    fresh = backend.open(config, SPEC)
    assert fresh.articles(["a_1"]) == {} and fresh.counts()["articles"] == 2
    assert fresh.sentences(["a_1"]) == {} and fresh.counts()["sentences"] == 2
    assert not {c.aid for c in fresh.chunks(VECTORS).values()} & {"a_1"}
    hits = fresh.search_dense(VECTORS[chunks_of(ARTICLES[0])[0].chunk_id], 10)
    assert not {c.aid for c in fresh.chunks([cid for cid, _ in hits]).values()} & {"a_1"}
    assert fresh.search_lexical(["公积金"], 10) == []


def test_a_failed_transaction_publishes_nothing(config, index):
    backend = backend_for(config)
    before = backend.version(config)
    with pytest.raises(RuntimeError, match="boom"), backend.writer(config, SPEC) as w:
        w.delete(["a_1"])
        raise RuntimeError("boom")
    with backend.writer(config, SPEC) as w:
        w.delete(["b_1"])  # never committed
    assert backend.version(config) == before
    assert backend.open(config, SPEC).counts()["articles"] == 3


def test_an_index_built_otherwise_is_refused_with_the_fix(config, index):
    backend = backend_for(config)
    for other in (SPEC.model_copy(update={"embedding_model": "other"}), SPEC.model_copy(update={"dim": 8}),
                  SPEC.model_copy(update={"tokenizer": "other-tokens"})):
        with pytest.raises(IncompatibleIndexError, match="rag ingest --rebuild"):
            backend.open(config, other)
    with pytest.raises(IncompatibleIndexError, match="chunking"), \
            backend.writer(config, SPEC.model_copy(update={"chunking": {"size": 99}})):
        pass
    with backend.writer(config, SPEC.model_copy(update={"dim": 8}), rebuild=True) as w:
        w.commit()  # a rebuild starts over, whatever was there
    assert backend.open(config, SPEC.model_copy(update={"dim": 8})).counts()["articles"] == 0


def test_the_manifest_records_the_embedding_precision_and_refuses_another(config):
    int8 = SPEC.model_copy(update={"embedding_precision": "int8"})
    write(config, ARTICLES, spec=int8, rebuild=True)
    backend = backend_for(config)
    assert backend.manifest(config).embedding_precision == "int8"
    refusal = r"embedding precision 'int8' \(active: 'fp32'.*rag ingest --rebuild"
    with pytest.raises(IncompatibleIndexError, match=refusal):
        backend.open(config, int8.model_copy(update={"embedding_precision": "fp32"}))
    with pytest.raises(IncompatibleIndexError, match="embedding precision"), \
            backend.writer(config, int8.model_copy(update={"embedding_precision": "bf16"})):
        pass
    # A spec without a precision (rag check, which loads no model) does not check it.
    assert backend.open(config, SPEC).counts()["articles"] == len(ARTICLES)


def test_a_manifest_from_before_precisions_reads_as_fp32():
    old = {"backend": "local", "embedding_model": "m", "dim": DIM, "tokenizer": "t", "chunking": {},
           "vector_index": {}, "lexical": {}}
    assert Manifest.model_validate(old).embedding_precision == "fp32"


def test_a_rebuild_keeps_only_what_it_writes(config, index):
    write(config, ARTICLES[:1], rebuild=True)
    assert backend_for(config).open(config, SPEC).counts()["articles"] == 1


def test_check_returns_the_published_manifest(config, index):
    backend = backend_for(config)
    assert backend.check(config) == backend.manifest(config) == index.manifest


def test_one_writer_at_a_time_a_second_waits_or_is_refused(config, index):
    backend = backend_for(config)
    with backend.writer(config, SPEC) as first:
        with pytest.raises(IngestRunningError), backend.writer(config, SPEC, wait=False):
            pass
        first.delete(["c_1"])
        first.commit()
    done = threading.Event()

    def second() -> None:
        with backend.writer(config, SPEC) as w:
            w.delete(["b_1"])
            w.commit()
        done.set()

    with backend.writer(config, SPEC) as w:
        thread = threading.Thread(target=second)
        thread.start()
        assert not done.wait(0.5)  # it waits for the first (unblocked, it would be done in milliseconds) …
        w.delete(["a_1"])
        w.commit()
    thread.join(30)
    assert done.is_set() and backend.open(config, SPEC).counts()["articles"] == 0  # … then runs


def test_search_time_settings_apply_when_the_index_is_opened_without_a_rebuild(config):
    # HNSW's ef_search and IVF's nprobe say how a search runs, not what was built (milvus-lite has no HNSW).
    kind, knob = ("hnsw", "hnsw_ef_search") if config.backend == "local" else ("ivf", "ivf_nprobe")
    built = IndexSettings.model_validate({**config.model_dump(), "vector_index": kind, "ivf_nlist": 4, knob: 2})
    spec = SPEC.model_copy(update={"vector_kind": kind})
    write(built, ARTICLES, rebuild=True, spec=spec)
    later = IndexSettings.model_validate({**built.model_dump(), knob: 3})
    index = backend_for(later).open(later, spec)
    if later.backend == "local":
        import faiss

        assert faiss.downcast_index(index.vectors.index.index).hnsw.efSearch == 3
    else:
        assert index._dense_params["params"] == {"nprobe": 3}
    first = next(iter(VECTORS))
    assert index.search_dense(VECTORS[first], 1)[0][0] == first  # and it still finds what it holds
