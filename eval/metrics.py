"""Retrieval and answer metrics on ranked lists (article ids or passage texts)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def unique(seq: Sequence[str]) -> list[str]:
    """Items in first-seen order without repeats (passages → ranked articles)."""
    return list(dict.fromkeys(seq))


def recall_at_k(ranked: Sequence[str], gold: set[str], k: int) -> float:
    """Share of the gold articles found in the top ``k`` of ``ranked`` (unique ids)."""
    if not gold:
        raise ValueError("recall is undefined without gold items")
    return len(set(unique(ranked)[:k]) & gold) / len(gold)


def mrr_at_k(ranked: Sequence[str], gold: set[str], k: int = 10) -> float:
    """1 / rank of the first gold article within the top ``k``, else 0."""
    for rank, item in enumerate(unique(ranked)[:k], start=1):
        if item in gold:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: Sequence[str], gold: set[str], k: int = 10) -> float:
    """Binary-relevance nDCG@k: DCG = Σ rel_i / log2(i + 1), divided by the ideal DCG."""
    items = unique(ranked)[:k]
    dcg = sum(1.0 / math.log2(i + 1) for i, item in enumerate(items, start=1) if item in gold)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(gold), k) + 1))
    return dcg / ideal if ideal else 0.0


def first_hit_rank(ranked: Sequence[str], gold: set[str]) -> int | None:
    """1-based rank of the first gold article, or None."""
    for rank, item in enumerate(unique(ranked), start=1):
        if item in gold:
            return rank
    return None


def answer_hit_at_k(passages: Sequence[str], answers: Sequence[str], k: int) -> float:
    """1.0 when any gold answer string occurs in one of the top ``k`` passages."""
    return float(any(a in p for p in passages[:k] for a in answers))


def contains_answer(text: str, answers: Sequence[str]) -> bool:
    """True when ``text`` contains one of the gold answer strings."""
    return any(a in text for a in answers)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) by linear interpolation (numpy's); 0 for no values."""
    return float(np.percentile(values, q)) if len(values) else 0.0


def calibration_bins(confidence: Sequence[float], correct: Sequence[bool], bins: int = 10) -> list[dict[str, float]]:
    """Equal-width confidence bins over [0, 1]: each with its count, mean confidence and share correct."""
    out = []
    for i in range(bins):
        lo, hi = i / bins, (i + 1) / bins
        inside = [(c, ok) for c, ok in zip(confidence, correct, strict=True)
                  if lo <= c < hi or (i == bins - 1 and c == 1.0)]
        n = len(inside)
        out.append({"lo": lo, "hi": hi, "n": n,
                    "confidence": sum(c for c, _ in inside) / n if n else 0.0,
                    "accuracy": sum(ok for _, ok in inside) / n if n else 0.0})
    return out


def expected_calibration_error(confidence: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float:
    """ECE: the count-weighted mean gap between confidence and accuracy over equal-width bins (NaN when empty)."""
    total = len(confidence)
    if not total:
        return float("nan")
    return sum(b["n"] / total * abs(b["confidence"] - b["accuracy"])
               for b in calibration_bins(confidence, correct, bins))
