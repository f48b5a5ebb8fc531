"""Fitting the reader: how questions are folded for cross-validation and the abstention threshold."""

from __future__ import annotations

import numpy as np
import pytest

from eval.run import load_gold
from eval.train_reader import Sample, choose_threshold, collect, fit, folds, gold_digest
from rag.reader import default_model
from tests.conftest import ROOT

GOLD = ROOT / "eval" / "gold.jsonl"


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


@pytest.mark.gate
def test_the_packaged_model_is_what_fitting_this_code_on_the_gold_set_gives(service):
    # The model is a set of weights over features by name: a feature computed another way under the same name, or
    # a gold set changed, without a refit, would be read with weights fitted on other numbers. Its features' means
    # over the gold set, and so its weights, are those a refit gives now.
    packaged = default_model()
    assert packaged.meta["gold_sha256"] == gold_digest(GOLD), "the gold set changed: python -m eval.train_reader"
    refit, _ = fit(collect(service, load_gold(GOLD)))
    for name in ("candidate", "answerable", "confidence", "abstention"):
        was, now = getattr(packaged, name), getattr(refit, name)
        for part in ("mean", "scale", "coef"):
            np.testing.assert_allclose(getattr(now, part), getattr(was, part), rtol=1e-3, atol=1e-4,
                                       err_msg=f"{name} {part}: refit with `python -m eval.train_reader`")
    assert refit.abstain_below == pytest.approx(packaged.abstain_below, abs=0.005)
