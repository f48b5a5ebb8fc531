"""Quantised graphs keep the vectors: per-vector cosine to fp32 over 1,000 varied strings, and query neighbours."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.samples import varied_strings
from tests.conftest import CORPUS, ROOT
from tests.embeddings.conftest import PRECISION_STRINGS

pytestmark = pytest.mark.slow  # every precision embeds a thousand strings


@pytest.fixture(scope="package")
def precision_cosines(precision_embedders) -> dict[str, np.ndarray]:
    """Per-vector cosine to fp32 over 1,000 varied strings embedded as passages (bf16, whose error is
    100x smaller, over the first 200)."""
    strings = varied_strings(CORPUS, PRECISION_STRINGS)
    ref = precision_embedders["fp32"].encode_passages(strings, progress=False)
    out = {"int8": np.sum(precision_embedders["int8"].encode_passages(strings, progress=False) * ref, axis=1)}
    out["bf16"] = np.sum(precision_embedders["bf16"].encode_passages(strings[:200], progress=False) * ref[:200], axis=1)
    return out


def test_int8_parity_with_fp32(precision_cosines):
    """The default precision: mean cosine to fp32 >= 0.99 over 1,000 strings (the bar); measured
    mean 0.9994, p1 0.9989, min 0.9976 thanks to the outlier smoothing (0.997 / 0.993 / 0.987 without)."""
    cos = precision_cosines["int8"]
    assert len(cos) == PRECISION_STRINGS
    assert cos.mean() >= 0.998, cos.mean()
    assert np.percentile(cos, 1) >= 0.995, np.percentile(cos, 1)
    assert cos.min() >= 0.99, cos.min()


def test_bf16_parity_with_fp32(precision_cosines):
    cos = precision_cosines["bf16"]
    assert cos.mean() >= 0.9999 and cos.min() >= 0.999, (cos.mean(), cos.min())


def test_int8_queries_keep_their_neighbours(precision_embedders):
    """int8 query vectors rank passages like fp32 ones: the top passage of each query is the same or a near tie."""
    from embeddings.bench import QUERIES, corpus_passages

    passages = corpus_passages(ROOT / "data", 32)
    scores = {}
    for precision in ("fp32", "int8"):
        emb = precision_embedders[precision]
        scores[precision] = emb.encode_queries(QUERIES) @ emb.encode_passages(passages, progress=False).T
    q_cos = np.sum(
        precision_embedders["fp32"].encode_queries(QUERIES) * precision_embedders["int8"].encode_queries(QUERIES),
        axis=1,
    )
    assert q_cos.mean() >= 0.998 and q_cos.min() >= 0.99, (q_cos.mean(), q_cos.min())
    top = scores["int8"].argmax(axis=1)
    # fp32's score of int8's choice is within 0.01 of fp32's best.
    gap = scores["fp32"].max(axis=1) - scores["fp32"][np.arange(len(QUERIES)), top]
    assert gap.max() <= 0.01, gap.max()
