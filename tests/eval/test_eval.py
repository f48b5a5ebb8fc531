"""The evaluation gate: the gold set on the bundled index must not regress below eval/baseline.json."""

from __future__ import annotations

import json

import pytest

from eval.run import chart, load_gold, markdown, run, traditional_view
from tests.conftest import ROOT

BASELINE = json.loads((ROOT / "eval" / "baseline.json").read_text(encoding="utf-8"))
TOLERANCE = 0.02  # the drop allowed before the gate fails; raise the baseline deliberately when it improves

pytestmark = pytest.mark.gate


@pytest.fixture(scope="module")
def result(service):
    # The questions `rag eval` (and so eval/baseline.json) scores: the gold set and its Traditional view.
    gold = load_gold(ROOT / "eval" / "gold.jsonl")
    return run(service, gold + traditional_view(gold), ["hybrid", "dense", "lexical"])


@pytest.mark.parametrize("metric", ["recall@5", "answerhit@3"])
def test_hybrid_does_not_regress(result, metric):
    got = result["summary"]["modes"]["hybrid"]["overall"][metric]
    assert got >= BASELINE["hybrid"][metric] - TOLERANCE, f"hybrid {metric} fell to {got:.3f}"


def test_answers_do_not_regress(result):
    a = result["summary"]["answers"]["overall"]
    base = BASELINE["answers"]
    assert a["answer_accuracy"] >= base["answer_accuracy"] - TOLERANCE
    assert a["abstain_unanswerable"] >= base["abstain_unanswerable"] - TOLERANCE
    assert a["false_abstain"] <= base["false_abstain"] + TOLERANCE


def test_hybrid_is_at_least_as_good_as_either_side(result):
    modes = result["summary"]["modes"]
    for metric in ("recall@5", "mrr@10"):
        assert modes["hybrid"]["overall"][metric] >= max(modes["dense"]["overall"][metric],
                                                         modes["lexical"]["overall"][metric]) - TOLERANCE


def test_reports_are_written(result, tmp_path):
    md = markdown(result["summary"], "rag eval")
    assert "| recall@5 |" in md and "## By type" in md and "## Answers" in md
    chart(result["summary"], tmp_path / "modes.png")
    assert (tmp_path / "modes.png").read_bytes()[:4] == b"\x89PNG"
    rows = result["retrieval"]["hybrid"]
    assert all("retrieved" in r for r in rows)
    # Per question, the rank of the first gold article agrees with its MRR, and their mean with the summary.
    answerable = [r for r in rows if "mrr@10" in r]
    rr = [1 / r["first_gold_rank"] if r["first_gold_rank"] and r["first_gold_rank"] <= 10 else 0.0
          for r in answerable]
    assert [r["mrr@10"] for r in answerable] == pytest.approx(rr)
    assert sum(rr) / len(rr) == pytest.approx(result["summary"]["modes"]["hybrid"]["overall"]["mrr@10"])
