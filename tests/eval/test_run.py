"""What `rag eval` writes about itself: a committed report names the project's files, not a machine's folders."""

from __future__ import annotations

from pathlib import Path

from eval.run import shown_path
from tests.conftest import ROOT


def test_a_report_names_a_path_inside_the_working_directory_relative_to_it(monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    assert shown_path(ROOT / "eval" / "gold.jsonl") == str(Path("eval") / "gold.jsonl")
    assert shown_path(Path("eval/reports")) == str(Path("eval") / "reports")
    # Outside it, the path as given.
    assert shown_path(tmp_path / "gold.jsonl") == str(tmp_path / "gold.jsonl")
