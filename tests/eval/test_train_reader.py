"""Fitting the reader: how questions are folded for cross-validation and the abstention threshold."""

from __future__ import annotations

import numpy as np

from eval.train_reader import Sample, choose_threshold, folds


def samples(groups: list[str]) -> list[Sample]:
    return [Sample(question=None, evidence=None, labels=np.zeros(0, bool), group=g) for g in groups]  # type: ignore[arg-type]


def test_every_way_of_folding_keeps_an_article_in_one_fold_and_each_question_once():
    s = samples([f"a{i % 13}" for i in range(60)])
    for seed in (None, 1, 2):
        parts = folds(s, seed=seed)
        assert sorted(np.concatenate(parts).tolist()) == list(range(60))
        assert all(len({s[i].group for i in part} & {s[i].group for i in other}) == 0
                   for part in parts for other in parts if part is not other)
    assert [p.tolist() for p in folds(s, seed=1)] != [p.tolist() for p in folds(s, seed=2)]


def test_the_threshold_is_the_highest_that_keeps_false_abstentions_within_five_percent():
    p = np.linspace(0.01, 1.0, 100)  # answerable questions' P(answerable)
    t = choose_threshold(np.concatenate([p, [0.001, 0.002]]), np.array([True] * 100 + [False] * 2))
    assert np.mean(p < t) <= 0.05 < np.mean(p <= t + 1e-9)
