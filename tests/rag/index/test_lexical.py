"""BM25 over jieba tokens, checked against a hand-computed Lucene BM25."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rag.index.base import bm25_idf
from rag.index.local.lexical import LexicalIndex
from rag.tokenize import tokenize

DOCS = {
    11: ["公积金", "贷款", "额度"],
    22: ["地铁", "出入口", "恢复", "运营"],
    33: ["公积金", "提取", "租房", "公积金"],
}


def lucene_bm25(query: list[str], docs: dict[int, list[str]], k1: float = 1.5, b: float = 0.75) -> dict[int, float]:
    """Reference Lucene BM25 (since Lucene 8 without the constant (k1 + 1) factor, as bm25s computes it):

    idf = ln(1 + (N - df + 0.5) / (df + 0.5)),  tf part = tf / (tf + k1 · (1 - b + b · |d| / avgdl)).
    """
    n = len(docs)
    avgdl = sum(len(d) for d in docs.values()) / n
    out = {}
    for cid, d in docs.items():
        s = 0.0
        for t in set(query):
            df = sum(t in x for x in docs.values())
            if not df:
                continue
            tf = d.count(t)
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            s += idf * tf / (tf + k1 * (1 - b + b * len(d) / avgdl))
        out[cid] = s
    return out


@pytest.fixture(scope="module")
def index() -> LexicalIndex:
    return LexicalIndex.build(list(DOCS), list(DOCS.values()), k1=1.5, b=0.75)


def test_scores_match_the_reference(index):
    ref = lucene_bm25(tokenize("公积金提取"), DOCS)
    got = dict(index.search(tokenize("公积金提取"), k=3))
    assert set(got) == {11, 33}
    for cid, s in got.items():
        assert s == pytest.approx(ref[cid], rel=1e-5)


def test_allowed_ids_filter_before_the_cut(index):
    assert [c for c, _ in index.search(["公积金"], k=1, allowed=np.array([11]))] == [11]
    assert index.search(["公积金"], k=5, allowed=np.array([22])) == []


def test_query_without_known_terms_returns_nothing(index):
    assert index.search(["火星"], k=5) == []
    assert index.search([], k=5) == []


def test_save_and_load_round_trip(index, tmp_path):
    index.save(tmp_path)
    again = LexicalIndex.load(tmp_path)
    assert again.search(["地铁", "出入口"], k=2) == index.search(["地铁", "出入口"], k=2)
    assert again.params() == index.params() == {"library": "bm25s", "method": "lucene", "k1": 1.5, "b": 0.75}


def test_rarer_terms_weigh_more_and_unknown_ones_nothing(index):
    common, rare, unknown = (bm25_idf(df, len(index)) for df in index.document_frequency(["公积金", "地铁", "火星"]))
    assert unknown == 0.0 and rare > common > 0


def test_k1_and_b_change_the_scores_as_the_reference_says():
    index = LexicalIndex.build(list(DOCS), list(DOCS.values()), k1=0.9, b=0.4)
    ref = lucene_bm25(["公积金"], DOCS, k1=0.9, b=0.4)
    for cid, s in index.search(["公积金"], k=3):
        assert s == pytest.approx(ref[cid], rel=1e-5)
