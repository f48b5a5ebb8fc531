"""The HTTP API over a real uvicorn server and the real corpus index."""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from rag.ingest import ingest


@pytest.fixture(scope="module")
def http(live_server):
    with httpx.Client(base_url=live_server, timeout=60) as client:
        yield client


def test_search_returns_ranked_cited_passages(http, corpus_articles):
    r = http.post("/api/search", json={"query": "公积金提取租房", "top_k": 5})
    assert r.status_code == 200
    body = r.json()
    assert body["query"] == "公积金提取租房" and body["took_ms"] > 0 and len(body["results"]) == 5
    first = body["results"][0]
    assert first["aid"] == "2247553182_1" and first["rank"] == 1
    assert set(first) >= {"rank", "score", "chunk_id", "aid", "title", "url", "date", "account", "text", "start",
                          "end", "scores"}
    for hit in body["results"]:
        assert corpus_articles[hit["aid"]].text[hit["start"] : hit["end"]] == hit["text"]


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_search_modes(http, mode):
    r = http.post("/api/search", json={"query": "地铁8号线进展", "mode": mode, "top_k": 3})
    assert r.status_code == 200 and r.json()["results"][0]["aid"] == "2247553120_1"


def test_search_filters(http):
    r = http.post("/api/search", json={"query": "会议", "top_k": 10,
                                       "filters": {"date_from": "2026-02-06", "date_to": "2026-02-06"}})
    dates = {h["date"] for h in r.json()["results"]}
    assert dates == {"2026-02-06"}
    r = http.post("/api/search", json={"query": "会议", "filters": {"aids": ["2247553173_1"]}})
    assert {h["aid"] for h in r.json()["results"]} == {"2247553173_1"}
    r = http.post("/api/search", json={"query": "会议", "filters": {"account": "天津政务网"}})
    assert r.json()["results"]


def test_ask_returns_an_answer_whose_markers_name_its_citations(http, corpus_articles):
    r = http.post("/api/ask", json={"question": "今年民心工程有多少项？"})
    assert r.status_code == 200
    body = r.json()
    assert not body["abstained"] and "66" in body["answer"]
    ns = {int(n) for n in re.findall(r"\[(\d+)\]", body["answer"])}
    assert ns and ns <= {c["n"] for c in body["citations"]}
    for c in body["citations"]:
        assert corpus_articles[c["aid"]].text[c["start"] : c["end"]] == c["text"]


def test_ask_abstains_on_what_the_corpus_does_not_answer(http):
    body = http.post("/api/ask", json={"question": "火星上有多少个足球场？"}).json()
    assert body["abstained"] is True and body["citations"]


def test_article_stats_health_and_docs(http, corpus_articles):
    a = http.get("/api/articles/2247553182_1").json()
    assert a["text"] == corpus_articles["2247553182_1"].text and a["source"]
    stats = http.get("/api/stats").json()
    assert stats["counts"]["articles"] == 49 and stats["manifest"]["embedding_model"]
    assert http.get("/healthz").json()["status"] == "ok"
    assert http.get("/docs").status_code == 200
    assert "/api/search" in http.get("/openapi.json").json()["paths"]


def test_unknown_article_is_404(http):
    r = http.get("/api/articles/nope_1")
    assert r.status_code == 404 and "nope_1" in r.json()["detail"]


BAD = [
    ("/api/search", {"query": ""}, "empty"),
    ("/api/search", {"query": "   \n "}, "empty"),
    ("/api/search", {"query": "长" * 1001}, "1000"),
    ("/api/search", {"query": "x", "top_k": 0}, "top_k"),
    ("/api/search", {"query": "x", "top_k": 51}, "top_k"),
    ("/api/search", {"query": "x", "mode": "sparse"}, "mode"),
    ("/api/search", {"query": "x", "colour": "red"}, "colour"),
    ("/api/search", {"query": "x", "filters": {"date_from": "2026/02/01"}}, "YYYY-MM-DD"),
    ("/api/search", {"query": "x", "filters": {"date_from": "2026-02-31"}}, "date_from"),
    ("/api/search", {"query": "x", "filters": {"date_from": "2026-02-05", "date_to": "2026-02-01"}}, "after"),
    ("/api/search", {"query": "x", "filters": {"author": "me"}}, "author"),
    ("/api/search", {}, "query"),
    ("/api/search", {"query": "x", "top_k": True}, "top_k"),
    ("/api/search", {"query": "x", "filters": {"date_from": "1769904000"}}, "YYYY-MM-DD"),
    ("/api/search", {"query": "\ud800abc"}, "Unicode"),
    ("/api/ask", {"question": ""}, "empty"),
    ("/api/ask", {"question": "x", "top_k": 100}, "top_k"),
]


@pytest.mark.parametrize(("path", "body", "says"), BAD)
def test_bad_input_is_a_422_that_says_what_to_fix(http, path, body, says):
    # json.dumps escapes to ASCII, so even a lone surrogate travels as the JSON text "\\ud800".
    r = http.post(path, content=json.dumps(body).encode(), headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert says in r.json()["detail"]
    assert "Traceback" not in r.text


def test_malformed_json_is_a_422(http):
    r = http.post("/api/search", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and "not valid JSON" in r.json()["detail"]


def test_a_body_over_64_kib_is_refused(http):
    body = b'{"query": "' + b"x" * 70_000 + b'"}'
    r = http.post("/api/search", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 413
    # Without Content-Length (chunked transfer), the size is counted as the body arrives.
    r = http.post("/api/search", content=iter([body[:40_000], body[40_000:]]),
                  headers={"content-type": "application/json"})
    assert r.status_code == 413 and "bytes" in r.json()["detail"]


def test_no_cors_headers_unless_configured(http):
    r = http.options("/api/search", headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in r.headers


def test_32_concurrent_clients_get_correct_answers(live_server):
    queries = ["公积金", "以旧换新", "民心工程", "地铁", "寒潮", "政府工作报告", "应急响应", "年夜饭"] * 4

    def one(q: str) -> tuple[int, str]:
        with httpx.Client(base_url=live_server, timeout=120) as c:
            path, key = ("/api/ask", "question") if len(q) % 2 else ("/api/search", "query")
            r = c.post(path, json={key: q})
            return r.status_code, q

    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(one, queries))
    assert [s for s, _ in results] == [200] * 32


def test_no_index_is_a_503_that_says_to_ingest(start_server, small_settings, embedder):
    from rag.service import RagService

    url = start_server(small_settings, RagService(small_settings, embedder))
    r = httpx.post(f"{url}/api/search", json={"query": "地铁"})
    assert r.status_code == 503 and "rag ingest" in r.json()["detail"]
    assert httpx.get(f"{url}/healthz").json()["index"] is False


def test_a_running_server_honours_ingest_and_delete(start_server, small_settings, small_corpus, embedder):
    from rag.ingest import delete
    from rag.service import RagService

    url = start_server(small_settings, RagService(small_settings, embedder))
    ingest([small_corpus], small_settings, embedder, progress=False)  # after the server started
    search = {"query": "地铁出入口恢复运营", "top_k": 5}
    assert "2247553251_1" in {h["aid"] for h in httpx.post(f"{url}/api/search", json=search).json()["results"]}
    delete(["2247553251_1"], small_settings, embedder)
    for mode in ("hybrid", "dense", "lexical"):
        hits = httpx.post(f"{url}/api/search", json={**search, "mode": mode}).json()["results"]
        assert "2247553251_1" not in {h["aid"] for h in hits}
    assert httpx.get(f"{url}/api/articles/2247553251_1").status_code == 404
