"""The `rag` command line, run as a real subprocess against the session's corpus index."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


@pytest.fixture(scope="module")
def rag(corpus_settings):
    env = {**os.environ, "RAG_HOME": str(corpus_settings.home), "RAG_MODELS_DIR": str(corpus_settings.models_dir),
           "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "rag.cli", *args], env=env, capture_output=True, text=True,
                              timeout=300)

    return run


def test_model_json_describes_the_active_model(rag, embedder):
    r = rag("model", "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["name"] == embedder.name and info["dim"] == 384
    assert info["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert os.path.isdir(info["path"])


def test_search_json_and_text(rag):
    r = rag("search", "以旧换新补贴", "--top-k", "3", "--json")
    assert r.returncode == 0, r.stderr
    results = json.loads(r.stdout)["results"]
    assert len(results) == 3 and results[0]["aid"] == "2247552991_1"
    text = rag("search", "以旧换新补贴", "-k", "2")
    assert "1." in text.stdout and "以旧换新" in text.stdout


def test_ask_prints_an_answer_with_citations(rag):
    r = rag("ask", "今年民心工程有多少项？", "--json")
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    assert "66" in body["answer"] and body["citations"]


def test_bad_input_exits_non_zero_with_a_clear_message_and_writes_nothing(rag, corpus_settings, tmp_path):
    before = os.readlink(corpus_settings.index_dir)
    bad = tmp_path / "bad.json"
    bad.write_text('[{"文章标识符aid": "1_1"}]', encoding="utf-8")
    r = rag("ingest", str(bad))
    assert r.returncode != 0
    assert "missing key" in r.stderr and "Nothing was written" in r.stderr and "Traceback" not in r.stderr
    assert os.readlink(corpus_settings.index_dir) == before
    r = rag("search", "地铁", "--mode", "sparse")
    assert r.returncode == 2 and "unknown mode" in r.stderr


def test_unknown_model_offline_names_the_default(rag):
    r = rag("model", "--model", "no-such-org/no-such-model")
    assert r.returncode == 2
    assert "offline" in r.stderr and "intfloat/multilingual-e5-small" in r.stderr
