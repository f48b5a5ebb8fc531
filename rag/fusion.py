"""Reciprocal rank fusion: one small named function (its constant k is a setting, documented there)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def reciprocal_rank_fusion(
    rankings: Mapping[str, Sequence[int]], weights: Mapping[str, float], *, k: int
) -> dict[int, float]:
    """Fuse ranked id lists: ``score(d) = Σ_r w_r / (k + rank_r(d))`` with 1-based ranks.

    Returns id → fused score (higher is better); ids absent from a ranking get nothing from it; a ranking
    without a weight counts with weight 1.
    """
    fused: dict[int, float] = {}
    for name, ids in rankings.items():
        w = weights.get(name, 1.0)
        if w == 0:
            continue
        for rank, doc in enumerate(ids, start=1):
            fused[doc] = fused.get(doc, 0.0) + w / (k + rank)
    return fused


def max_rrf_score(weights: Mapping[str, float], *, k: int) -> float:
    """The best possible fused score: first in every ranking. Dividing by it maps scores into [0, 1]."""
    return sum(w / (k + 1) for w in weights.values()) or 1.0
