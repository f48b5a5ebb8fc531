"""Ingestion on the real model: offsets, upsert, delete, rebuild, incompatible settings, bad input, a killed ingest."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

from embeddings import load_embedder
from rag.chunking import chunk_id, embedding_text
from rag.corpus import CorpusError
from rag.index import BuildSpec, IncompatibleIndexError, IngestRunningError, NoIndexError, backend_for
from rag.ingest import UnknownArticlesError, delete, ingest
from rag.service import RagService
from rag.tokenize import tokenize
from tests.conftest import ROOT, SMALL_AIDS, backend_params, index_options, make_settings

pytestmark = pytest.mark.slow  # each test builds indexes of its own


@pytest.fixture(params=backend_params("local", "milvus-lite"))
def small_settings(request, tmp_path, models_dir):
    """An empty RAG_HOME (and Milvus collections) of its own, on each backend."""
    return make_settings(tmp_path / "home", models_dir, **index_options(request.param, request))


def opened(settings, embedder):
    return RagService(settings, embedder).index()


def version(settings) -> str | None:
    return backend_for(settings.index).version(settings.index)


def leftovers(settings) -> list[str]:
    """What an unpublished transaction left behind: build folders, or Milvus generations and row versions."""
    if settings.index.backend == "local":
        return [p.name for p in (settings.home / "indexes").glob(".tmp-*")]
    from rag.index.milvus import connection, layout

    client, index = connection.connect(settings.index), opened_raw(settings)
    prefix = settings.index.milvus_collection
    found = [f"generation {g}" for g in layout.generations(client, prefix) - {index.generation}]
    for kind, name in index.names.items():
        rows = client.query(name, filter=f"ver_from > {index.version}", output_fields=["count(*)"])
        found += [f"{rows[0]['count(*)']} {kind} rows"] if rows[0]["count(*)"] else []
    return found


def opened_raw(settings):
    """The published index, opened with what it was built with (no model needed)."""
    manifest = backend_for(settings.index).manifest(settings.index)
    spec = BuildSpec(embedding_model=manifest.embedding_model, dim=manifest.dim, tokenizer=manifest.tokenizer)
    return backend_for(settings.index).open(settings.index, spec)


def found_aids(settings, embedder, text: str) -> tuple[set[str], set[str]]:
    """Articles returned for ``text`` by the dense and by the lexical retriever, separately."""
    index = opened(settings, embedder)
    dense = index.search_dense(embedder.encode_queries([text])[0], 20)
    lexical = index.search_lexical(tokenize(text), 20)
    return ({c.aid for c in index.chunks([i for i, _ in dense]).values()},
            {c.aid for c in index.chunks([i for i, _ in lexical]).values()})


def chunk_texts(index, aid: str) -> list[str]:
    chunks = index.chunks(chunk_id(aid, p) for p in range(64))
    return [c.text for c in sorted(chunks.values(), key=lambda c: c.position)]


def test_ingest_reports_and_reingest_skips_unchanged(small_corpus, small_settings, embedder):
    first = ingest([small_corpus], small_settings, embedder, progress=False)
    assert (first.added, first.updated, first.unchanged) == (len(SMALL_AIDS), 0, 0)
    assert first.empty_bodies == ["2247553139_1"]
    again = ingest([small_corpus], small_settings, embedder, progress=False)
    assert (again.added, again.updated, again.unchanged, again.chunks_embedded) == (0, 0, len(SMALL_AIDS), 0)
    assert again.chunks_total == first.chunks_total


def test_a_changed_article_is_rechunked_and_its_old_text_is_gone(small_corpus, small_settings, embedder, tmp_path):
    ingest([small_corpus], small_settings, embedder, progress=False)
    records = json.loads(small_corpus.read_text(encoding="utf-8"))
    target = next(r for r in records if r["文章标识符aid"] == "2247553251_1")
    target["finalContent"] = "滨江道站的紫色出入口明天起改为只出不进，请乘客注意换乘安排。来源：天津日报"
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps([target], ensure_ascii=False), encoding="utf-8")
    report = ingest([changed], small_settings, embedder, progress=False)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 0)
    index = opened(small_settings, embedder)
    assert chunk_texts(index, "2247553251_1") == ["滨江道站的紫色出入口明天起改为只出不进，请乘客注意换乘安排。"]
    assert index.counts()["vectors"] == index.counts()["chunks"]
    dense, lexical = found_aids(small_settings, embedder, "只出不进")
    assert "2247553251_1" in dense and "2247553251_1" in lexical


def test_deleted_articles_are_never_found_again(small_corpus, small_settings, embedder):
    ingest([small_corpus], small_settings, embedder, progress=False)
    query = "地铁出入口恢复运营"
    dense, lexical = found_aids(small_settings, embedder, query)
    assert "2247553251_1" in dense and "2247553251_1" in lexical
    report = delete(["2247553251_1"], small_settings)
    assert report.deleted == 1 and report.articles_total == len(SMALL_AIDS) - 1
    dense, lexical = found_aids(small_settings, embedder, query)
    assert "2247553251_1" not in dense | lexical
    assert opened(small_settings, embedder).articles(["2247553251_1"]) == {}
    # A delete changes what the index holds, not how it was built: the next ingest extends it.
    manifest = backend_for(small_settings.index).manifest(small_settings.index)
    assert manifest.chunking and manifest.vector_index["kind"] == small_settings.index.vector_index
    report = ingest([small_corpus], small_settings, embedder, progress=False)
    assert report.added == 1 and report.unchanged == len(SMALL_AIDS) - 1


def test_deleting_an_unknown_aid_changes_nothing(small_corpus, small_settings, embedder):
    ingest([small_corpus], small_settings, embedder, progress=False)
    before = version(small_settings)
    with pytest.raises(UnknownArticlesError, match="no such article in the index: nope_1"):
        delete(["2247553251_1", "nope_1"], small_settings)
    assert version(small_settings) == before
    assert opened(small_settings, embedder).articles(["2247553251_1"])


def test_deleting_without_an_index_says_how_to_build_one(small_settings):
    with pytest.raises(NoIndexError, match="rag ingest"):
        delete(["2247553251_1"], small_settings)


def test_rebuild_starts_over(small_corpus, small_settings, embedder, tmp_path):
    ingest([small_corpus], small_settings, embedder, progress=False)
    records = json.loads(small_corpus.read_text(encoding="utf-8"))[:2]
    two = tmp_path / "two.json"
    two.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    report = ingest([two], small_settings, embedder, rebuild=True, progress=False)
    assert report.added == 2 and report.articles_total == 2


def test_other_chunking_or_vector_kind_refuses_an_update_and_says_to_rebuild(small_corpus, small_settings, embedder):
    ingest([small_corpus], small_settings, embedder, progress=False)
    others = (small_settings.updated(chunking={"size": 200}), small_settings.updated(index={"vector_index": "ivf"}))
    for other in others:
        with pytest.raises(IncompatibleIndexError, match=r"rag ingest --rebuild"):
            ingest([small_corpus], other, embedder, progress=False)
    rebuilt = ingest([small_corpus], small_settings.updated(chunking={"size": 200}), embedder, rebuild=True,
                     progress=False)
    assert rebuilt.added == len(SMALL_AIDS)
    assert opened(small_settings, embedder).manifest.chunking["size"] == 200


def test_an_index_of_another_embedding_precision_is_refused_and_says_to_rebuild(small_corpus, small_settings,
                                                                               embedder):
    """Vectors of two precisions differ slightly, so an index holds one: the manifest records it, and
    searching or extending the index at another precision is refused like another model."""
    ingest([small_corpus], small_settings, embedder, progress=False)
    assert opened(small_settings, embedder).manifest.embedding_precision == embedder.precision
    other_precision = "fp32" if embedder.precision != "fp32" else "int8"
    other = load_embedder(small_settings.embedding.model_copy(update={"precision": other_precision}))
    assert other.precision == other_precision and other.name == embedder.name
    refusal = rf"embedding precision '{embedder.precision}' \(active: '{other_precision}'.*rag ingest --rebuild"
    with pytest.raises(IncompatibleIndexError, match=refusal):
        opened(small_settings, other)
    with pytest.raises(IncompatibleIndexError, match=refusal):
        ingest([small_corpus], small_settings, other, progress=False)
    ingest([small_corpus], small_settings, other, rebuild=True, progress=False)
    assert opened(small_settings, other).manifest.embedding_precision == other_precision


def test_an_edited_user_dictionary_asks_for_a_rebuild(small_corpus, small_settings, embedder, monkeypatch):
    ingest([small_corpus], small_settings, embedder, progress=False)
    import rag.service

    monkeypatch.setattr(rag.service, "fingerprint", lambda: "jieba-search-v1-edited")
    with pytest.raises(IncompatibleIndexError, match="tokenizer"):
        opened(small_settings, embedder)


def test_no_index_says_how_to_build_one(small_settings, embedder):
    with pytest.raises(NoIndexError, match="rag ingest"):
        opened(small_settings, embedder)


BAD_INPUTS = {
    "malformed": ('[{"文章标识符aid": "1_1",', "malformed JSON"),
    "missing-key": ([{"文章标识符aid": "1_1", "标题title": "t", "链接url": "u", "时间time": "2026-02-01",
                      "公众号名称": "a"}], "finalContent"),
    "bad-date": ([{"文章标识符aid": "1_1", "标题title": "t", "链接url": "u", "时间time": "2026-13-45",
                   "公众号名称": "a", "finalContent": "正文"}], "YYYY-MM-DD"),
    "duplicate": ([{"文章标识符aid": "2247553251_1", "标题title": "t", "链接url": "u", "时间time": "2026-02-01",
                    "公众号名称": "a", "finalContent": "另一段正文"}], "duplicate aid"),
}


@pytest.mark.parametrize("kind", [*BAD_INPUTS, "not-utf8"])
def test_bad_input_stops_with_a_clear_error_and_writes_nothing(kind, small_corpus, small_settings, embedder,
                                                               tmp_path):
    ingest([small_corpus], small_settings, embedder, progress=False)
    before = version(small_settings)
    bad = tmp_path / "bad.json"
    if kind == "not-utf8":
        bad.write_bytes(small_corpus.read_text(encoding="utf-8").encode("gb18030"))
        expected = "not UTF-8"
    else:
        content, expected = BAD_INPUTS[kind]
        bad.write_text(content if isinstance(content, str) else json.dumps(content, ensure_ascii=False),
                       encoding="utf-8")
    with pytest.raises(CorpusError, match=expected) as e:
        ingest([small_corpus, bad], small_settings, embedder, progress=False)
    assert "bad.json" in str(e.value)
    assert version(small_settings) == before
    assert leftovers(small_settings) == []


def test_skip_invalid_indexes_the_valid_records_and_lists_the_others(small_corpus, small_settings, embedder,
                                                                     tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(BAD_INPUTS["bad-date"][0], ensure_ascii=False), encoding="utf-8")
    report = ingest([small_corpus, bad], small_settings, embedder, skip_invalid=True, progress=False)
    assert report.added == len(SMALL_AIDS)
    assert len(report.skipped) == 1 and "2026-13-45" in report.skipped[0] and report.skipped_records == 1


@pytest.mark.parametrize("small_settings", ["local"], indirect=True)
def test_an_ingest_killed_half_way_leaves_the_previous_index_working(small_corpus, small_settings, embedder, rag_env):
    ingest([small_corpus], small_settings, embedder, progress=False)
    before = version(small_settings)
    # The whole corpus takes a while to embed: kill the process once its build folder exists.
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "ingest", "--rebuild", str(ROOT / "data")],
                            env=rag_env(small_settings), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    builds = small_settings.home / "indexes"
    deadline = time.monotonic() + 120
    while not list(builds.glob(".tmp-*")):
        assert proc.poll() is None, "the ingest finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert version(small_settings) == before
    assert list(builds.glob(".tmp-*")), "the killed ingest left its unfinished build behind"
    index = opened(small_settings, embedder)
    assert index.counts()["articles"] == len(SMALL_AIDS)
    (best, _), *_ = index.search_dense(embedder.encode_queries(["地铁出入口恢复运营"])[0], 1)
    assert index.chunks([best])[best].aid == "2247553251_1"
    # The next ingest still works, and clears what the killed one left (however young it is).
    assert ingest([small_corpus], small_settings, embedder, progress=False).unchanged == len(SMALL_AIDS)
    assert not list(builds.glob(".tmp-*"))


def test_stored_vectors_equal_fresh_embeddings(small_corpus, small_settings, embedder):
    ingest([small_corpus], small_settings, embedder, progress=False)
    index = opened(small_settings, embedder)
    articles = index.articles(SMALL_AIDS)
    chunks = [c for aid in SMALL_AIDS[:3] for c in index.chunks(chunk_id(aid, p) for p in range(3)).values()]
    fresh = embedder.encode_passages([embedding_text(articles[c.aid], c) for c in chunks])
    for c, v in zip(chunks, fresh, strict=True):
        (best, score), *_ = index.search_dense(v, 1)
        # Batches are padded differently at ingest and here, which moves float32 results in the 4th decimal.
        assert best == c.chunk_id and score == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("small_settings", ["milvus-server"], indirect=True)
def test_an_ingest_into_milvus_killed_half_way_leaves_the_previous_version_served(small_corpus, small_settings,
                                                                                  embedder, rag_env):
    # (A writer killed after writing rows is tested in tests/rag/index/test_milvus.py, without the model.)
    from rag.index.milvus import connection, publish

    ingest([small_corpus], small_settings, embedder, progress=False)
    before = version(small_settings)
    client, prefix = connection.connect(small_settings.index), small_settings.index.milvus_collection
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "ingest", "--rebuild", str(ROOT / "data")],
                            env=rag_env(small_settings), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while publish.Lease(client, prefix).holder() is None:  # it has started its transaction
        assert proc.poll() is None, "the ingest finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert version(small_settings) == before
    index = opened(small_settings, embedder)
    assert index.counts()["articles"] == len(SMALL_AIDS)
    (best, _), *_ = index.search_dense(embedder.encode_queries(["地铁出入口恢复运营"])[0], 1)
    assert index.chunks([best])[best].aid == "2247553251_1"
    # Its lease outlives it for a while and says so; once it expired, the next ingest cleans up and works.
    with pytest.raises(IngestRunningError, match="another ingest"):
        delete(["2247553251_1"], small_settings, wait=False)
    client.delete(f"{prefix}_state", ids=["lease"])
    assert ingest([small_corpus], small_settings, embedder, progress=False).unchanged == len(SMALL_AIDS)
    assert leftovers(small_settings) == []
