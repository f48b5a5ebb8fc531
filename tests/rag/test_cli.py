"""The `rag` command line, run as a real subprocess against the session's corpus index."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from rag.index import backend_for
from tests.conftest import index_options


@pytest.fixture(scope="module")
def run_rag(rag_env):
    def run(settings, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "rag.cli", *args], env=rag_env(settings), capture_output=True,
                              text=True, timeout=timeout)

    return run


@pytest.fixture(scope="module")
def rag(run_rag, corpus_settings):
    return lambda *args: run_rag(corpus_settings, *args)


@pytest.mark.slow  # a subprocess that loads the model
def test_model_json_describes_the_active_model(rag, embedder):
    r = rag("model", "--json")
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["name"] == embedder.name and info["dim"] == 384
    assert info["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert os.path.isdir(info["path"])
    assert info["index"]["backend"] == "local" and info["index"]["location"].endswith("index")
    assert os.path.isabs(info["index"]["rag_home"])  # where RAG_HOME is, for the operator


@pytest.mark.slow  # a subprocess that loads the model
def test_search_json_and_text(rag):
    r = rag("search", "以旧换新补贴", "--top-k", "3", "--json")
    assert r.returncode == 0, r.stderr
    found = json.loads(r.stdout)
    assert set(found) == {"query", "mode", "query_terms", "interpreted", "results"}  # the API's shape, less took_ms
    results = found["results"]
    assert len(results) == 3 and results[0]["aid"] == "2247552991_1"
    assert all(isinstance(h["chunk_id"], str) for h in results)  # as the API writes them
    text = rag("search", "以旧换新补贴", "-k", "2")
    assert "1." in text.stdout and "以旧换新" in text.stdout


@pytest.mark.slow  # a subprocess that loads the model
def test_ask_prints_an_answer_with_citations(rag):
    r = rag("ask", "今年民心工程有多少项？", "--json")
    assert r.returncode == 0, r.stderr
    body = json.loads(r.stdout)
    assert "66" in body["answer"] and body["citations"] and not body["abstained"]


@pytest.mark.slow  # a subprocess that loads the model
def test_ask_reads_a_follow_up_after_the_earlier_questions(rag):
    r = rag("ask", "那手机呢？", "--after", "汽车以旧换新补贴多少钱？")
    assert r.returncode == 0, r.stderr
    assert "read with the earlier question: 汽车, 以旧换新, 补贴 (多少钱)" in r.stdout and "500元" in r.stdout
    blank = rag("ask", "那手机呢？", "-a", "汽车以旧换新补贴多少钱？", "-a", " ")
    assert blank.returncode == 2 and "--after #2: the earlier question is empty" in blank.stderr


@pytest.mark.slow  # a subprocess that loads the model
def test_ask_says_how_confident_it_is(rag):
    r = rag("ask", "今年民心工程有多少项？")
    assert r.returncode == 0, r.stderr
    assert "66" in r.stdout and "confidence 0." in r.stdout and "abstained" not in r.stdout
    assert "把握不大" not in r.stdout
    # An answer more likely wrong than right says so (the question is checked to be one, as --json reports it).
    doubtful = "天津公积金贷款最高能贷多少钱？"  # the ceiling is in no article
    body = json.loads(rag("ask", doubtful, "--json").stdout)
    assert not body["abstained"] and body["confidence"] < 0.5, "pick another question the service doubts"
    assert "把握不大" in rag("ask", doubtful).stdout  # the service's caution, in the question's language


@pytest.mark.slow  # a subprocess that loads the model
def test_bad_input_exits_non_zero_with_a_clear_message_and_writes_nothing(rag, corpus_settings, tmp_path):
    backend = backend_for(corpus_settings.index)
    before = backend.version(corpus_settings.index)
    bad = tmp_path / "bad.json"
    bad.write_text('[{"文章标识符aid": "1_1"}]', encoding="utf-8")
    r = rag("ingest", str(bad))
    assert r.returncode != 0
    assert "missing key" in r.stderr and "Nothing was written" in r.stderr and "Traceback" not in r.stderr
    assert backend.version(corpus_settings.index) == before
    r = rag("search", "地铁", "--mode", "sparse")
    assert r.returncode == 2 and "unknown mode" in r.stderr
    r = rag("ask", "？？？")
    assert r.returncode == 2 and "no words" in r.stderr
    r = rag("search", "长" * 1001)  # the CLI keeps the limit every other surface keeps
    assert r.returncode == 2 and "the limit is 1000" in r.stderr


@pytest.mark.slow  # a subprocess that loads the model
def test_ingest_problems_count_records_and_lines_from_one_in_file_order(rag, tmp_path):
    good = {"文章标识符aid": "1_1", "标题title": "t", "链接url": "u", "时间time": "2026-02-01", "公众号名称": "a",
            "finalContent": "正文"}
    array = tmp_path / "a.json"
    array.write_text(json.dumps([good, {**good, "文章标识符aid": "2_1", "时间time": "soon"}]), encoding="utf-8")
    lines = tmp_path / "b.jsonl"
    lines.write_text(json.dumps({**good, "文章标识符aid": "3_1", "时间time": "never"}) + "\n\n{oops\n",
                     encoding="utf-8")
    r = rag("ingest", str(array), str(lines))
    assert r.returncode == 1
    problems = [line for line in r.stderr.splitlines() if "a.json" in line or "b.jsonl" in line]
    assert "record 2" in problems[0] and "2_1" in problems[0]  # the second record, counted from one
    assert "line 1" in problems[1] and "line 3" in problems[2] and "malformed JSON" in problems[2]


@pytest.mark.slow  # a subprocess that loads the model
def test_unknown_model_offline_names_the_default(rag):
    r = rag("model", "--model", "no-such-org/no-such-model")
    assert r.returncode == 2
    assert "offline" in r.stderr and "intfloat/multilingual-e5-small" in r.stderr


def test_delete_needs_no_model(run_rag, small_settings):
    # An empty models folder: loading a model would fail (or convert for seconds); delete must not need one.
    settings = small_settings.updated(embedding={"models_dir": small_settings.home / "no-models"})
    r = run_rag(settings, "delete", "2247553251_1")
    assert r.returncode == 3 and "no index" in r.stderr and "rag ingest" in r.stderr
    assert not (small_settings.home / "no-models").exists()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["local", "milvus-server"])
def test_delete_removes_an_article_without_loading_the_model(run_rag, small_corpus, small_settings, embedder, backend,
                                                            request):
    small_settings = small_settings.updated(index=index_options(backend, request))
    from rag.ingest import ingest

    ingest([small_corpus], small_settings, embedder, progress=False)
    settings = small_settings.updated(embedding={"models_dir": small_settings.home / "no-models"})
    r = run_rag(settings, "delete", "2247553251_1")
    assert r.returncode == 0, r.stderr
    assert "deleted 1" in r.stdout and r.stdout.rstrip().endswith("chunks")
    assert not (small_settings.home / "no-models").exists()


@pytest.mark.slow  # a subprocess that imports the server (two seconds)
def test_serve_on_a_busy_port_says_so_and_exits(rag):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = rag("serve", "--port", str(port))
    assert r.returncode == 2 and "already in use" in r.stderr and "serving on" not in r.stdout


@pytest.mark.slow  # a subprocess that loads the model
def test_eval_writes_reports_under_rag_home_not_into_the_repository(rag, corpus_settings, tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "g1", "question": "今年民心工程有多少项？", "lang": "zh",
                                "aids": ["2247552999_1"], "answers": ["66项"], "type": "fact",
                                "difficulty": "easy"}, ensure_ascii=False) + "\n", encoding="utf-8")
    r = rag("eval", "--gold", str(gold), "--modes", "hybrid")
    assert r.returncode == 0, r.stderr
    assert (corpus_settings.home / "eval" / "report.md").is_file()
    assert "| recall@5 | 1.000 |" in r.stdout


@pytest.mark.slow  # a subprocess that loads the model
def test_model_names_the_milvus_backend_and_where_it_serves_from(run_rag, small_settings, request):
    settings = small_settings.updated(index=index_options("milvus-server", request))
    r = run_rag(settings, "model", "--json")
    assert r.returncode == 0, r.stderr
    index = json.loads(r.stdout)["index"]
    uri = settings.index.milvus_uri
    assert index == {"backend": "milvus", "uri": uri, "collection": settings.index.milvus_collection,
                     "location": f"{uri} (Milvus collections {settings.index.milvus_collection}_*)",
                     "rag_home": str(settings.home.resolve())}
    r = run_rag(settings, "search", "地铁")
    assert r.returncode == 3 and "no index at " + uri in r.stderr


def test_an_answers_citation_excerpt_shows_the_sentence_it_quotes():
    from rag.cli.query import excerpt

    passage = "背景介绍。" * 60 + "全市地区生产总值增长4.8%。" + "其他内容。" * 60
    start = passage.index("全市")
    shown = excerpt(passage, [(start, start + len("全市地区生产总值增长4.8%。"))])
    assert "[bold]全市地区生产总值增长4.8%。[/]" in shown and shown.startswith("…") and shown.endswith("…")
    assert excerpt("短文。", []) == "短文。"
