"""The gold set on both index backends: the Milvus index answers as the local one does (within 0.01)."""

from __future__ import annotations

import pytest

from eval.backends import COMPARED, TOLERANCE, compare, markdown
from tests.conftest import ROOT

pytestmark = pytest.mark.gate


@pytest.fixture(scope="module")
def result(service, milvus_service):
    return compare({"local": service, "milvus": milvus_service}, ROOT / "eval" / "gold.jsonl")


@pytest.mark.parametrize("group", ["all", "lang en", "lang zh"])
@pytest.mark.parametrize("metric", COMPARED)
def test_milvus_hybrid_figures_equal_the_local_ones(result, group, metric):
    row = next(r for r in result["rows"] if r["group"] == group and r["metric"] == metric)
    assert row["spread"] <= TOLERANCE, f"{group} {metric}: {row['values']}"


def test_the_report_puts_the_backends_side_by_side(result):
    md = markdown(result, "rag eval --backend local,milvus")
    assert "| questions | metric | local | milvus | difference | |" in md
    assert md.count("| ok |") == 3 * len(COMPARED) and "differs" not in md
