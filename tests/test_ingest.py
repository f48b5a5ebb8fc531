"""Ingestion on the real model: offsets, upsert, delete, rebuild, model mismatch, bad input, a killed ingest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from rag.corpus import CorpusError
from rag.index import MANIFEST_FILE, IncompatibleIndexError, NoIndexError, load_index
from rag.ingest import delete, ingest
from tests.conftest import ROOT, SMALL_AIDS


def loaded(settings, embedder):
    return load_index(settings.index_dir, model_name=embedder.name, dim=embedder.dim)


def found_aids(settings, embedder, text: str) -> tuple[set[str], set[str]]:
    """Articles returned for ``text`` by the dense and by the lexical index, separately."""
    index = loaded(settings, embedder)
    _, ids = index.vectors.search(embedder.encode_queries([text]), 20)
    dense = {c.aid for c in index.store.chunks([i for i in ids[0] if i >= 0]).values()}
    lexical = {c.aid for c in index.store.chunks([i for i, _ in index.lexical.search(text, 20)]).values()}
    return dense, lexical


def test_the_corpus_index_has_every_article_and_exact_offsets(corpus_settings, embedder, corpus_articles):
    index = loaded(corpus_settings, embedder)
    m = index.manifest
    assert m["embedding_model"] == embedder.name and m["dim"] == embedder.dim
    assert m["counts"]["articles"] == 49 and m["counts"]["chunks"] == m["counts"]["vectors"] == len(index.vectors)
    chunks = index.store.chunks(index.lexical.chunk_ids.tolist())
    assert len(chunks) == m["counts"]["chunks"]
    for c in chunks.values():
        assert corpus_articles[c.aid].text[c.start : c.end] == c.text


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
    index = loaded(small_settings, embedder)
    texts = [c.text for c in index.store.chunks(index.lexical.chunk_ids.tolist()).values() if c.aid == "2247553251_1"]
    assert texts == ["滨江道站的紫色出入口明天起改为只出不进，请乘客注意换乘安排。"]
    assert len(index.vectors) == index.store.counts()["chunks"]


def test_deleted_articles_are_never_found_again(small_corpus, small_settings, embedder):
    ingest([small_corpus], small_settings, embedder, progress=False)
    query = "地铁出入口恢复运营"
    dense, lexical = found_aids(small_settings, embedder, query)
    assert "2247553251_1" in dense and "2247553251_1" in lexical
    report = delete(["2247553251_1"], small_settings, embedder)
    assert report.deleted == 1 and report.articles_total == len(SMALL_AIDS) - 1
    dense, lexical = found_aids(small_settings, embedder, query)
    assert "2247553251_1" not in dense | lexical
    assert loaded(small_settings, embedder).store.article("2247553251_1") is None


def test_deleting_an_unknown_aid_changes_nothing(small_corpus, small_settings, embedder):
    ingest([small_corpus], small_settings, embedder, progress=False)
    before = os.readlink(small_settings.index_dir)
    with pytest.raises(CorpusError, match="no such article"):
        delete(["2247553251_1", "nope_1"], small_settings, embedder)
    assert os.readlink(small_settings.index_dir) == before
    assert loaded(small_settings, embedder).store.article("2247553251_1") is not None


def test_rebuild_starts_over(small_corpus, small_settings, embedder, tmp_path):
    ingest([small_corpus], small_settings, embedder, progress=False)
    records = json.loads(small_corpus.read_text(encoding="utf-8"))[:2]
    two = tmp_path / "two.json"
    two.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    report = ingest([two], small_settings, embedder, rebuild=True, progress=False)
    assert report.added == 2 and report.articles_total == 2


def test_an_index_of_another_model_is_refused_with_the_fix(small_corpus, small_settings, embedder):
    ingest([small_corpus], small_settings, embedder, progress=False)
    manifest_path = small_settings.index_dir.resolve() / MANIFEST_FILE
    manifest = json.loads(manifest_path.read_text())
    manifest["embedding_model"], manifest["dim"] = "BAAI/bge-m3", 1024
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IncompatibleIndexError, match=r"rag ingest --rebuild") as e:
        loaded(small_settings, embedder)
    assert "bge-m3" in str(e.value) and "1024" in str(e.value)
    with pytest.raises(IncompatibleIndexError):  # an upsert would mix vectors of two models: refused too
        ingest([small_corpus], small_settings, embedder, progress=False)
    ingest([small_corpus], small_settings, embedder, rebuild=True, progress=False)
    assert loaded(small_settings, embedder).manifest["embedding_model"] == embedder.name


def test_no_index_says_how_to_build_one(small_settings, embedder):
    with pytest.raises(NoIndexError, match="rag ingest"):
        loaded(small_settings, embedder)


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
    before = os.readlink(small_settings.index_dir)
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
    assert os.readlink(small_settings.index_dir) == before
    assert not list((small_settings.home / "indexes").glob(".tmp-*"))


def test_skip_invalid_indexes_the_valid_records_and_lists_the_others(small_corpus, small_settings, embedder,
                                                                     tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(BAD_INPUTS["bad-date"][0], ensure_ascii=False), encoding="utf-8")
    report = ingest([small_corpus, bad], small_settings, embedder, skip_invalid=True, progress=False)
    assert report.added == len(SMALL_AIDS)
    assert len(report.skipped) == 1 and "2026-13-45" in report.skipped[0]


def test_an_ingest_killed_half_way_leaves_the_previous_index_working(small_corpus, small_settings, embedder):
    ingest([small_corpus], small_settings, embedder, progress=False)
    before = os.readlink(small_settings.index_dir)
    env = {**os.environ, "RAG_HOME": str(small_settings.home), "RAG_MODELS_DIR": str(small_settings.models_dir),
           "HF_HUB_OFFLINE": "1"}
    # The whole corpus takes a while to embed: kill the process once its build folder exists.
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "ingest", "--rebuild", str(ROOT / "data")],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    builds = small_settings.home / "indexes"
    deadline = time.monotonic() + 120
    while not list(builds.glob(".tmp-*")):
        assert proc.poll() is None, "the ingest finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert os.readlink(small_settings.index_dir) == before
    index = loaded(small_settings, embedder)
    assert index.store.counts()["articles"] == len(SMALL_AIDS)
    _, ids = index.vectors.search(embedder.encode_queries(["地铁出入口恢复运营"]), 1)
    assert index.store.chunks([int(ids[0][0])])[int(ids[0][0])].aid == "2247553251_1"
    # The next ingest still works, and cleans up nothing it should not.
    assert ingest([small_corpus], small_settings, embedder, progress=False).unchanged == len(SMALL_AIDS)


def test_ingest_vectors_equal_fresh_embeddings(small_corpus, small_settings, embedder):
    from rag.chunking import embedding_text

    ingest([small_corpus], small_settings, embedder, progress=False)
    index = loaded(small_settings, embedder)
    chunks = list(index.store.chunks(index.lexical.chunk_ids.tolist()).values())[:3]
    articles = index.store.articles(c.aid for c in chunks)
    fresh = embedder.encode_passages([embedding_text(articles[c.aid], c) for c in chunks])
    stored = index.vectors.reconstruct(np.array([c.chunk_id for c in chunks]))
    assert np.allclose(fresh, stored, atol=1e-4)
