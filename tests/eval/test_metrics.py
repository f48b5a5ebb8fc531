"""Evaluation metrics against hand-computed examples."""

from __future__ import annotations

import math

import pytest

from eval.metrics import (
    answer_hit_at_k,
    calibration_bins,
    expected_calibration_error,
    first_hit_rank,
    mrr_at_k,
    ndcg_at_k,
    percentile,
    recall_at_k,
    unique,
)

RANKED = ["a", "a", "b", "c", "d"]  # passages' articles: "a" twice → articles a, b, c, d


def test_unique_keeps_first_seen_order():
    assert unique(RANKED) == ["a", "b", "c", "d"]


def test_recall_counts_gold_articles_in_the_top_k_articles():
    assert recall_at_k(RANKED, {"b"}, 1) == 0.0
    assert recall_at_k(RANKED, {"b"}, 2) == 1.0
    assert recall_at_k(RANKED, {"b", "z"}, 5) == 0.5
    with pytest.raises(ValueError):
        recall_at_k(RANKED, set(), 5)


def test_mrr_is_the_reciprocal_rank_of_the_first_gold_article():
    assert mrr_at_k(RANKED, {"c", "d"}) == pytest.approx(1 / 3)
    assert mrr_at_k(RANKED, {"d"}, k=3) == 0.0


def test_ndcg_by_hand():
    # gold {b, d} at ranks 2 and 4: DCG = 1/log2(3) + 1/log2(5); ideal = 1 + 1/log2(3)
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(RANKED, {"b", "d"}) == pytest.approx(expected)
    assert ndcg_at_k(["x"], {"b"}) == 0.0
    assert ndcg_at_k(["b"], {"b"}) == 1.0


def test_first_hit_rank():
    assert first_hit_rank(RANKED, {"c"}) == 3 and first_hit_rank(RANKED, {"q"}) is None


def test_answer_hit_looks_for_any_answer_string_in_the_top_k_passages():
    passages = ["无关", "最高可贷100万元", "其他"]
    assert answer_hit_at_k(passages, ["100万元"], 1) == 0.0
    assert answer_hit_at_k(passages, ["100万元"], 3) == 1.0
    assert answer_hit_at_k(passages, ["x", "其他"], 3) == 1.0


def test_percentile_interpolates():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10], 95) == 10
    assert percentile([], 50) == 0.0


def test_expected_calibration_error_by_hand():
    # Bin 0.8–0.9: confidences 0.8 and 0.85 (mean 0.825), one of two correct (0.5): gap 0.325, weight 2/4.
    # Bin 0.2–0.3: 0.2 and 0.2, none correct: gap 0.2, weight 2/4.  ECE = 0.1625 + 0.1 = 0.2625.
    conf, ok = [0.8, 0.85, 0.2, 0.2], [True, False, False, False]
    assert expected_calibration_error(conf, ok) == pytest.approx(0.2625)
    bins = {(round(b["lo"], 1)): b for b in calibration_bins(conf, ok) if b["n"]}
    assert bins[0.8]["n"] == 2 and bins[0.8]["accuracy"] == 0.5 and bins[0.2]["confidence"] == pytest.approx(0.2)


def test_perfect_calibration_has_zero_error_and_one_lands_in_the_last_bin():
    assert expected_calibration_error([1.0, 1.0, 0.0], [True, True, False]) == 0.0
    assert calibration_bins([1.0], [True])[-1]["n"] == 1
