"""The HTTP API over a real uvicorn server and the real corpus index."""

from __future__ import annotations

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from rag.ingest import ingest
from rag.records import cited_numbers
from tests.conftest import SMALL_AIDS, backend_params, index_options, make_settings


@pytest.fixture(scope="module", params=["local", "milvus"])
def served(request) -> tuple[str, str]:
    """(backend, base URL) of a real server over the corpus index, once on each index backend."""
    return request.param, request.getfixturevalue("live_server" if request.param == "local" else "milvus_live_server")


@pytest.fixture(scope="module")
def http(served):
    with httpx.Client(base_url=served[1], timeout=60) as client:
        yield client


@pytest.fixture(params=backend_params("local", "milvus-lite"))
def small_settings(request, tmp_path, models_dir):
    """An empty RAG_HOME (and Milvus collections) of its own, on each backend."""
    return make_settings(tmp_path / "home", models_dir, **index_options(request.param, request))


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


@pytest.mark.slow
def test_account_filter_tells_two_accounts_apart(start_server, small_settings, small_corpus, embedder):
    from rag.service import RagService
    from tests.conftest import SECOND_ACCOUNT, SECOND_ACCOUNT_AIDS

    ingest([small_corpus], small_settings, embedder, progress=False)
    url = start_server(small_settings, RagService(small_settings, embedder))
    stats = httpx.get(f"{url}/api/stats").json()
    assert stats["accounts"] == sorted([SECOND_ACCOUNT, "天津政务网"])
    for account, expected in ((SECOND_ACCOUNT, set(SECOND_ACCOUNT_AIDS)),
                              ("天津政务网", set(SMALL_AIDS) - set(SECOND_ACCOUNT_AIDS))):
        for mode in ("hybrid", "dense", "lexical"):
            body = {"query": "天津 地铁 通知", "top_k": 10, "mode": mode, "filters": {"account": account}}
            hits = httpx.post(f"{url}/api/search", json=body).json()["results"]
            assert hits and {h["aid"] for h in hits} <= expected and {h["account"] for h in hits} == {account}


def test_ask_returns_an_answer_whose_markers_name_its_citations(http, corpus_articles):
    r = http.post("/api/ask", json={"question": "今年民心工程有多少项？"})
    assert r.status_code == 200
    body = r.json()
    assert not body["abstained"] and "66" in body["answer"]
    ns = cited_numbers(body["answer"])
    assert ns and ns <= {c["n"] for c in body["citations"]}
    for c in body["citations"]:
        assert corpus_articles[c["aid"]].text[c["start"] : c["end"]] == c["text"]


def test_ask_abstains_on_what_the_corpus_does_not_answer(http):
    body = http.post("/api/ask", json={"question": "火星上有多少个足球场？"}).json()
    assert body["abstained"] is True and body["citations"]


def test_article_stats_health_config_and_docs(http, served, corpus_articles):
    a = http.get("/api/articles/2247553182_1").json()
    assert a == corpus_articles["2247553182_1"].model_dump() and a["source"]
    stats = http.get("/api/stats").json()
    backend = served[0]
    assert stats["counts"]["articles"] == 49 and stats["manifest"]["embedding_model"]
    assert stats["backend"] == stats["index"]["backend"] == stats["manifest"]["backend"] == backend
    if backend == "milvus":  # where it serves from, without the folder of the milvus-lite file
        assert stats["index"] == {"backend": "milvus", "uri": "milvus-lite:lite.db", "collection": "corpus"}
    assert http.get("/healthz").json() == {"status": "ok", "index": True, "model": "intfloat/multilingual-e5-small"}
    config = http.get("/api/config").json()
    assert config["max_query_chars"] == 1000 and config["modes"] == ["hybrid", "dense", "lexical"]
    assert config["examples"]["zh"] and config["examples"]["en"]
    assert http.get("/docs").status_code == 200
    spec = http.get("/openapi.json").json()
    assert "/api/search" in spec["paths"]
    query = spec["components"]["schemas"]["SearchRequest"]["properties"]["query"]
    assert (query["minLength"], query["maxLength"]) == (1, 1000)


def test_unknown_article_is_404(http):
    r = http.get("/api/articles/nope_1")
    assert r.status_code == 404 and "nope_1" in r.json()["detail"] and r.json()["code"] == "not_found"


BAD = [
    ("/api/search", {"query": ""}, "empty", "empty"),
    ("/api/search", {"query": "   \n "}, "empty", "empty"),
    ("/api/search", {"query": "长" * 1001}, "1000", "too_long"),
    ("/api/search", {"query": "x", "top_k": 0}, "top_k", "out_of_range"),
    ("/api/search", {"query": "x", "top_k": 51}, "top_k", "out_of_range"),
    ("/api/search", {"query": "x", "mode": "sparse"}, "mode", "not_allowed"),
    ("/api/search", {"query": "x", "colour": "red"}, "colour", "unknown_field"),
    ("/api/search", {"query": "x", "filters": {"date_from": "2026/02/01"}}, "YYYY-MM-DD", "date_format"),
    ("/api/search", {"query": "x", "filters": {"date_from": "2026-02-31"}}, "no day of the calendar", "date_invalid"),
    ("/api/search", {"query": "x", "filters": {"date_from": "２０２６-０２-０１"}}, "YYYY-MM-DD", "date_format"),
    ("/api/search", {"query": "x", "filters": {"date_to": ""}}, "date_to", "date_format"),
    ("/api/search", {"query": "x", "filters": {"date_from": "2026-02-05", "date_to": "2026-02-01"}}, "after",
     "date_order"),
    ("/api/search", {"query": "x", "filters": {"author": "me"}}, "author", "unknown_field"),
    ("/api/search", {}, "query", "missing"),
    ("/api/search", {"query": "x", "top_k": True}, "top_k", "not_an_integer"),
    ("/api/search", {"query": "x", "filters": {"date_from": "1769904000"}}, "YYYY-MM-DD", "date_format"),
    ("/api/search", {"query": "\ud800abc"}, "Unicode", "invalid_unicode"),
    ("/api/ask", {"question": ""}, "empty", "empty"),
    ("/api/ask", {"question": "x", "top_k": 100}, "top_k", "out_of_range"),
    ("/api/ask", {"question": "x", "stream": "yes"}, "stream: must be true or false", "not_a_boolean"),
    ("/api/ask", {"question": "x", "history": "汽车"}, "history: must be a list", "not_a_list"),
    # Each earlier question is checked as the question is.
    ("/api/ask", {"question": "x", "history": [" "]}, "history.0", "empty"),
    ("/api/ask", {"question": "x", "history": [""]}, "history.0", "empty"),
    ("/api/ask", {"question": "x", "history": ["？？？"]}, "history.0", "no_words"),
    ("/api/ask", {"question": "x", "history": ["长" * 1001]}, "1000", "too_long"),
    ("/api/ask", {"question": "x", "history": ["汽车"] * 9}, "history: must have at most 8 items", "too_long"),
]


@pytest.mark.parametrize(("path", "body", "says", "code"), BAD)
def test_bad_input_is_a_422_that_says_what_to_fix_with_a_stable_code(http, path, body, says, code):
    # json.dumps escapes to ASCII, so even a lone surrogate travels as the JSON text "\\ud800".
    r = http.post(path, content=json.dumps(body).encode(), headers={"content-type": "application/json"})
    assert r.status_code == 422
    error = r.json()
    assert error["code"] == "invalid_request" and says in error["detail"]
    assert code in [e["code"] for e in error["errors"]]
    assert "Traceback" not in r.text


def test_a_follow_up_is_read_with_the_earlier_questions_it_is_sent_with(http):
    # 那手机呢？ alone names no amount; after the car question it asks the phones' cap (每件补贴不超过500元).
    body = http.post("/api/ask", json={"question": "那手机呢？", "history": ["汽车以旧换新补贴多少钱？"]}).json()
    assert body["conversation"] == {"question": "汽车 以旧换新 补贴 那手机呢？ 多少钱", "asked": "那手机呢？",
                                    "carried": ["汽车", "以旧换新", "补贴"], "asking": "多少钱"}
    assert body["question"] == body["conversation"]["question"] and not body["abstained"] and "500元" in body["answer"]
    # A new question is answered as it stands, history or not; without history nothing is said about one.
    counted = "今年民心工程有多少项？"
    new = http.post("/api/ask", json={"question": counted, "history": ["汽车以旧换新补贴多少钱？"]}).json()
    assert new["conversation"]["carried"] == [] and new["question"] == counted and "66" in new["answer"]
    assert http.post("/api/ask", json={"question": counted}).json()["conversation"] is None


def test_the_longest_history_allowed_fits_the_body_limit_even_json_escaped(http):
    from rag.records import MAX_HISTORY
    from rag.tokenize import MAX_QUERY_CHARS

    longest = "公积金" * (MAX_QUERY_CHARS // 3)
    body = json.dumps({"question": longest, "history": [longest] * MAX_HISTORY}).encode()  # \uXXXX: 6 bytes each
    r = http.post("/api/ask", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text


def test_error_values_travel_in_ctx_so_clients_can_word_them(http):
    r = http.post("/api/ask", json={"question": "长" * 1200})
    (item,) = r.json()["errors"]
    assert item["code"] == "too_long" and item["ctx"]["length"] == 1200 and item["ctx"]["limit"] == 1000
    r = http.post("/api/search", json={"query": "x", "filters": {"date_from": "2026-02-05", "date_to": "2026-02-01"}})
    (item,) = r.json()["errors"]
    assert item["ctx"] == {"date_from": "2026-02-05", "date_to": "2026-02-01"}


def test_malformed_json_is_a_422(http):
    r = http.post("/api/search", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"].startswith("body: the body is not valid JSON at character 1")
    assert r.json()["errors"][0]["code"] == "invalid_json"
    # JSON sent without its content type is not read as JSON: the error says what to send.
    r = http.post("/api/search", content=b'{"query": "x"}', headers={"content-type": "text/plain"})
    assert r.status_code == 422 and "Content-Type: application/json" in r.json()["detail"]


def test_a_body_over_64_kib_is_refused(http):
    body = b'{"query": "' + b"x" * 70_000 + b'"}'
    r = http.post("/api/search", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 413
    # Without Content-Length (chunked transfer), the size is counted as the body arrives.
    assert r.json()["code"] == "body_too_large"
    r = http.post("/api/search", content=iter([body[:40_000], body[40_000:]]),
                  headers={"content-type": "application/json"})
    assert r.status_code == 413 and "bytes" in r.json()["detail"] and r.json()["code"] == "body_too_large"


def test_no_cors_headers_unless_configured(http):
    r = http.options("/api/search", headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in r.headers


@pytest.mark.slow  # 32 threads of real requests: seconds
def test_32_concurrent_clients_get_correct_answers(served):
    # Each client gets what a lone client gets for the same question: no crossed wires under load. Beyond the
    # server's cap of requests at once, clients are told to come back (503 + Retry-After), and do.
    questions = {"公积金提取租房": "2247553182_1", "今年民心工程有多少项？": "2247552999_1",
                 "汽车以旧换新补贴怎么申请": "2247552991_1", "地铁8号线进展": "2247553120_1"}

    def one(i: int) -> tuple[int, str, str, int]:
        q = list(questions)[i % len(questions)]
        path, body, key = (("/api/ask", {"question": q}, "citations") if i % 2 else
                           ("/api/search", {"query": q}, "results"))
        with httpx.Client(base_url=served[1], timeout=120) as c:
            for shed in range(30):
                r = c.post(path, json=body)
                if r.status_code != 503:
                    return r.status_code, q, r.json()[key][0]["aid"], shed
                assert r.json()["code"] == "overloaded"
                time.sleep(float(r.headers["retry-after"]))
        raise AssertionError("shed 30 times")

    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(one, range(32)))
    assert [s for s, _, _, _ in results] == [200] * 32
    assert all(aid == questions[q] for _, q, aid, _ in results)


def test_no_index_is_a_503_that_says_to_ingest(start_server, small_settings, embedder):
    from rag.service import RagService

    url = start_server(small_settings, RagService(small_settings, embedder))
    r = httpx.post(f"{url}/api/search", json={"query": "地铁"})
    assert r.status_code == 503 and "rag ingest" in r.json()["detail"] and r.json()["code"] == "no_index"
    assert httpx.get(f"{url}/healthz").json()["index"] is False


@pytest.mark.slow
def test_a_running_server_honours_ingest_and_delete(start_server, small_settings, small_corpus, embedder):
    from rag.ingest import delete
    from rag.service import RagService

    url = start_server(small_settings, RagService(small_settings, embedder))
    ingest([small_corpus], small_settings, embedder, progress=False)  # after the server started
    search = {"query": "地铁出入口恢复运营", "top_k": 5}
    assert "2247553251_1" in {h["aid"] for h in httpx.post(f"{url}/api/search", json=search).json()["results"]}
    delete(["2247553251_1"], small_settings)
    for mode in ("hybrid", "dense", "lexical"):
        hits = httpx.post(f"{url}/api/search", json={**search, "mode": mode}).json()["results"]
        assert "2247553251_1" not in {h["aid"] for h in hits}
    assert httpx.get(f"{url}/api/articles/2247553251_1").status_code == 404


# What a newcomer tries first must work: every example chip, and the placeholder's question, is answered with the fact.
EXPECTED_FACT = {
    "今年民心工程有多少项？": "66项",
    "How many livelihood projects are there this year?": "66项",
    "汽车以旧换新补贴最高多少钱？": "最高2万元",
    "天津地铁8号线有什么进展？": "8号线",
    "What is the latest on Tianjin Metro Line 8?": "环网电通",
    "春节高速免费从什么时候开始？": "2月15日",
    "春节开车走高速免费吗？": "小型客车免费通行",
    "When does the Spring Festival highway toll exemption start?": "2月15日",
    "Which Tianjin metro station exits reopened?": "H、G出入口",
}


# The README's follow-ups: 什么时间段免费？ after 春节开车走高速免费吗？ (its OpenAI example, checked in test_openai.py)
# and 那手机呢？ after 汽车以旧换新补贴多少钱？ (its /api/ask history example, checked above).
README_FOLLOW_UPS = ("什么时间段免费？", "那手机呢？")


def test_the_pages_example_questions_are_answered_with_the_fact(http):
    from api.examples import EXAMPLES

    offered = {q for questions in EXAMPLES.values() for q in questions}
    assert offered <= EXPECTED_FACT.keys(), "a new example needs its expected fact here"
    # The README's request examples ask first questions too (its follow-up is checked in test_openai.py).
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    requested = re.findall(r'"(?:question|content|query)": "([^"]+[？?])"', readme)
    asked = {q for q in requested if not q.endswith(README_FOLLOW_UPS)}
    assert asked and asked <= EXPECTED_FACT.keys(), asked - EXPECTED_FACT.keys()
    offered |= asked
    page_js = (Path(__file__).parents[2] / "api/static/js/i18n.js").read_text(encoding="utf-8")
    placeholders = {q for q in EXPECTED_FACT if q in page_js}
    assert len(placeholders) == 2, "each UI language's placeholder suggests an example question"
    for question in offered:
        response = http.post("/api/ask", json={"question": question})
        assert response.status_code == 200, response.text
        answer = response.json()
        assert not answer["abstained"], question
        assert EXPECTED_FACT[question] in answer["answer"], (question, answer["answer"])


@pytest.mark.slow  # pymilvus tries to connect for its whole timeout (tests/rag/index/test_milvus.py checks the error)
def test_an_unreachable_milvus_is_a_503_that_names_it(start_server, tmp_path, models_dir, embedder):
    from rag.service import RagService
    from tests.conftest import free_port

    settings = make_settings(tmp_path / "home", models_dir, backend="milvus",
                             milvus_uri=f"http://127.0.0.1:{free_port()}", milvus_timeout=1)
    url = start_server(settings, RagService(settings, embedder))
    r = httpx.post(f"{url}/api/search", json={"query": "地铁"}, timeout=60)
    assert r.status_code == 503 and r.json()["code"] == "index_unavailable"
    assert "cannot reach Milvus at http://127.0.0.1" in r.json()["detail"]


def test_search_says_what_it_searched_for_and_which_date_it_read(http):
    english = http.post("/api/search", json={"query": "How many livelihood projects are there this year?"}).json()
    assert "民心工程" in english["query_terms"]
    assert english["interpreted"] is None  # a whole year names no article: no date is applied
    festival = http.post("/api/search", json={"query": "When does the Spring Festival toll exemption start?"}).json()
    assert festival["interpreted"] == {"date_from": "2026-02-15", "date_to": "2026-02-23", "source": "Spring Festival"}
    dated = http.post("/api/search", json={"query": "2月4日天津发布了哪些通知？"}).json()
    assert dated["interpreted"]["date_from"] == dated["interpreted"]["date_to"] == "2026-02-04"
    plain = http.post("/api/search", json={"query": "地铁8号线"}).json()
    assert plain["interpreted"] is None and plain["query_terms"]


def test_an_answer_says_which_language_it_read_the_question_as(http):
    english = http.post("/api/ask", json={"question": "How many livelihood projects are there this year?"}).json()
    chinese = http.post("/api/ask", json={"question": "今年民心工程有多少项？"}).json()
    assert (english["language"], chinese["language"]) == ("en", "zh")
    assert "民心工程" in english["query_terms"]  # what the English words were translated to


def test_a_traditional_question_finds_what_its_simplified_twin_finds(http):
    simplified = http.post("/api/search", json={"query": "公积金贷款需要准备哪些材料？", "top_k": 3}).json()
    traditional = http.post("/api/search", json={"query": "公積金貸款需要準備哪些材料？", "top_k": 3}).json()
    assert [h["aid"] for h in traditional["results"]] == [h["aid"] for h in simplified["results"]]
    assert traditional["query_terms"] == simplified["query_terms"]
    # The passages are shown as published (Simplified here), whatever script the question used.
    assert traditional["results"][0]["text"] == simplified["results"][0]["text"]


def test_a_question_naming_a_day_lifts_that_days_articles_and_says_so(http, corpus_articles):
    def of_the_day(aid: str) -> bool:
        a = corpus_articles[aid]
        return str(a.date) in ("2026-02-04", "2026-02-05") or "2月4日" in a.text

    found = http.post("/api/search", json={"query": "2月4日 陈敏尔 调研"}).json()
    assert found["interpreted"] == {"date_from": "2026-02-04", "date_to": "2026-02-04", "source": "2月4日"}
    undated = http.post("/api/search", json={"query": "陈敏尔 调研"}).json()
    assert undated["interpreted"] is None
    # Without the day another visit ranks first; with it, the day's report does. The boost is soft: it lifts the
    # day's articles over others, it does not hide the rest.
    assert not of_the_day(undated["results"][0]["aid"]) and of_the_day(found["results"][0]["aid"])
    assert sum(map(of_the_day, (h["aid"] for h in found["results"]))) >= sum(
        map(of_the_day, (h["aid"] for h in undated["results"])))
