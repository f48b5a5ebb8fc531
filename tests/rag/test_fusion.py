"""Reciprocal rank fusion against hand-computed values."""

from __future__ import annotations

import pytest

from rag.fusion import max_rrf_score, reciprocal_rank_fusion
from rag.settings import RetrievalSettings

K = RetrievalSettings().rrf_k


def test_the_default_constant_is_the_one_of_the_rrf_paper():
    assert K == 60


def test_rrf_matches_hand_computation():
    fused = reciprocal_rank_fusion({"dense": [1, 2, 3], "lexical": [3, 1]}, {}, k=60)
    assert fused[1] == pytest.approx(1 / 61 + 1 / 62)
    assert fused[2] == pytest.approx(1 / 62)
    assert fused[3] == pytest.approx(1 / 63 + 1 / 61)
    assert sorted(fused, key=lambda d: -fused[d]) == [1, 3, 2]


def test_weights_scale_each_retriever_and_zero_disables_it():
    fused = reciprocal_rank_fusion({"dense": [1], "lexical": [2]}, {"dense": 2.0, "lexical": 0.0}, k=K)
    assert fused == {1: pytest.approx(2 / (K + 1))}


def test_maximum_is_first_everywhere():
    w = {"dense": 1.0, "lexical": 0.5}
    fused = reciprocal_rank_fusion({"dense": [7], "lexical": [7]}, w, k=K)
    assert fused[7] == pytest.approx(max_rrf_score(w, k=K))
