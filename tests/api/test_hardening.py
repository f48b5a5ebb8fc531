"""Defects found by a demanding outside review (issue 14), each reproduced over real HTTP against a real server.

No 500s for odd input, one error shape for every status, error bodies no larger than needed, chunk ids that
survive JavaScript, security headers on every response, only trusted Host headers, no filesystem paths.
"""

from __future__ import annotations

import json
import logging
import re
from http.client import HTTPConnection

import httpx
import pytest

from tests.conftest import LiveServer


@pytest.fixture(scope="module")
def http(live_server):
    with httpx.Client(base_url=live_server, timeout=60) as client:
        yield client


def post_raw(http: httpx.Client, path: str, content: bytes) -> httpx.Response:
    return http.post(path, content=content, headers={"content-type": "application/json"})


def codes(r: httpx.Response) -> list[str]:
    return [e["code"] for e in r.json().get("errors") or []]


# --- 1. a lone surrogate is refused, and an unexpected error leaves the connection usable -------------------

SURROGATES = [
    ("/api/search", {"query": "x", "filters": {"aids": ["\ud800"]}}),
    ("/api/search", {"query": "x", "filters": {"account": "\udfff天津"}}),
    ("/api/ask", {"question": "地铁", "filters": {"aids": ["2247553120_1", "a\ud83d"]}}),
    ("/api/search", {"query": "x", "\ud800": 1}),  # an unknown key: its name is echoed in the error
]


@pytest.mark.parametrize(("path", "body"), SURROGATES)
def test_a_lone_surrogate_anywhere_is_a_422_not_a_500(http, path, body):
    # json.dumps writes the surrogate as the JSON escape "\\ud800", exactly as curl -d '…"\ud800"…' sends it.
    r = post_raw(http, path, json.dumps(body).encode())
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_request"
    assert {"invalid_unicode", "unknown_field"} & set(codes(r))
    r.content.decode("utf-8")  # the error body itself is valid UTF-8


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_an_unexpected_error_is_one_500_logged_once_and_the_connection_stays_open(corpus_settings, service):
    from api.app import create_app

    app = create_app(corpus_settings, service)

    @app.get("/api/broken")
    def broken() -> dict:  # an unexpected failure in a route, as any bug would be
        raise RuntimeError("a bug")

    handler = Records()
    loggers = [logging.getLogger(n) for n in ("api", "uvicorn.error", "uvicorn")]
    for lg in loggers:
        lg.addHandler(handler)
    try:
        with LiveServer(app) as server:
            conn = HTTPConnection("127.0.0.1", server.port, timeout=30)
            conn.request("GET", "/api/broken")
            first = conn.getresponse()
            body = json.loads(first.read())
            sock = conn.sock
            assert first.status == 500 and body["code"] == "internal" and "a bug" not in json.dumps(body)
            # The same keep-alive connection serves the next request.
            conn.request("GET", "/healthz")
            second = conn.getresponse()
            second.read()
            assert second.status == 200 and conn.sock is sock
            conn.close()
    finally:
        for lg in loggers:
            lg.removeHandler(handler)
    tracebacks = [r for r in handler.records if r.exc_info]
    assert len(tracebacks) == 1, [r.getMessage() for r in tracebacks]


# --- 3. chunk ids are strings in JSON ------------------------------------------------------------------------


def test_chunk_ids_travel_as_strings_so_javascript_keeps_them_exact(http, service):
    hits = http.post("/api/search", json={"query": "公积金提取租房", "top_k": 10}).json()["results"]
    ids = [h["chunk_id"] for h in hits]
    assert all(isinstance(i, str) and re.fullmatch(r"\d+", i) for i in ids)
    assert len(set(ids)) == len(ids)
    # They are the index's ids, written in decimal: the API can be asked about them again exactly.
    stored = service.index().chunks(int(i) for i in ids)
    assert {str(k) for k in stored} >= set(ids) - {i for i in ids if int(i) not in stored}
    citations = http.post("/api/ask", json={"question": "今年民心工程有多少项？"}).json()["citations"]
    assert all(isinstance(c["chunk_id"], str) for c in citations)
    schema = http.get("/openapi.json").json()["components"]["schemas"]
    for name in ("Hit", "Citation"):
        assert schema[name]["properties"]["chunk_id"]["type"] == "string"


# --- 4. bodies that cannot be parsed are a documented 422 ------------------------------------------------------

UNPARSABLE = [
    (b'{"query": "\xff\xfe"}', "UTF-8"),
    (b"[" * 10_000 + b"]" * 10_000, "nested"),
    (b'{"query": "x", "top_k": ' + b"1" * 5000 + b"}", "digits"),
]


@pytest.mark.parametrize(("content", "says"), UNPARSABLE)
def test_a_body_that_is_not_json_is_a_422_that_says_why(http, content, says):
    r = post_raw(http, "/api/search", content)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_request" and codes(r) == ["invalid_json"]
    assert says in r.json()["detail"]


def test_every_status_the_api_gives_is_in_the_openapi_document(http):
    spec = http.get("/openapi.json").json()
    for path, method in (("/api/search", "post"), ("/api/ask", "post"), ("/api/articles/{aid}", "get")):
        documented = set(spec["paths"][path][method]["responses"])
        assert {"200", "400", "405", "408", "413", "422", "429", "503"} <= documented, (path, documented)
    assert {"200", "503"} <= set(spec["paths"]["/healthz"]["get"]["responses"])


def test_unknown_routes_and_methods_answer_in_the_one_error_shape(http):
    r = http.get("/api/nothing-here")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert r.json()["detail"] == "no such path: GET /api/nothing-here; the API's paths are listed at /docs"
    r = http.delete("/api/search")
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed" and "POST" in r.headers["allow"]
    assert r.json()["detail"] == "DELETE /api/search is not allowed; use POST"


# --- 5. the schema states what the server enforces ------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "   \n\t", "长" * 1001])
def test_queries_the_server_refuses_are_invalid_by_the_schema_too(http, query):
    spec = http.get("/openapi.json").json()["components"]["schemas"]
    for model, field, path in (("SearchRequest", "query", "/api/search"), ("AskRequest", "question", "/api/ask")):
        rule = spec[model]["properties"][field]
        by_schema = (rule["minLength"] <= len(query) <= rule["maxLength"]) and re.search(rule["pattern"], query)
        assert not by_schema
        assert http.post(path, json={field: query}).status_code == 422


@pytest.mark.parametrize("query", ["？？？", "!!!", "…… —— 🙂"])
def test_text_with_no_letter_or_digit_is_refused_as_the_schema_description_says(http, query):
    spec = http.get("/openapi.json").json()["components"]["schemas"]
    for model, field, path in (("SearchRequest", "query", "/api/search"), ("AskRequest", "question", "/api/ask")):
        assert "letter or digit" in spec[model]["properties"][field]["description"]
        r = http.post(path, json={field: query})
        assert r.status_code == 422 and codes(r) == ["no_words"] and "no words" in r.text
    assert http.post("/api/ask", json={"question": "8号线？"}).status_code == 200  # a digit is enough


def test_an_empty_date_is_refused_as_the_schema_says(http):
    spec = http.get("/openapi.json").json()["components"]["schemas"]["Filters"]["properties"]["date_to"]
    assert {"type": "string", "format": "date"} in spec["anyOf"]
    r = http.post("/api/search", json={"query": "x", "filters": {"date_to": ""}})
    assert r.status_code == 422 and codes(r) == ["date_format"]


# --- 8. security headers, trusted hosts, no paths ---------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [("GET", "/"), ("GET", "/static/js/main.js"), ("GET", "/api/stats"),
                                              ("GET", "/api/articles/nope"), ("POST", "/api/search"),
                                              ("GET", "/healthz"), ("GET", "/docs")])
def test_every_response_carries_the_security_headers(http, method, path):
    r = http.request(method, path, json={"query": "地铁"} if method == "POST" else None)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "object-src 'none'" in csp


def test_the_page_allows_no_script_but_its_own(http):
    csp = http.get("/").headers["content-security-policy"]
    script = re.search(r"script-src ([^;]*)", csp).group(1)
    assert script.split() == ["'self'"]


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "attacker"])
def test_a_foreign_host_header_is_refused(live_server, host):
    # DNS rebinding: a page on evil.example resolves its name to 127.0.0.1 and reads the API with that Host.
    r = httpx.get(f"{live_server}/api/stats", headers={"Host": host})
    assert r.status_code == 400 and r.json()["code"] == "host_not_allowed"
    assert r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]"])
def test_local_names_are_trusted_by_default(live_server, host):
    port = live_server.rsplit(":", 1)[1]
    assert httpx.get(f"{live_server}/healthz", headers={"Host": f"{host}:{port}"}).status_code == 200


def test_no_absolute_path_is_shown(http, corpus_settings):
    stats = http.get("/api/stats").text
    for secret in (str(corpus_settings.home), str(corpus_settings.embedding.models_dir), "/tmp/", "/work/"):
        assert secret not in stats
    assert "path" not in http.get("/api/stats").json()["model"]


def test_the_no_index_message_names_no_absolute_path(start_server, small_settings, embedder):
    from rag.service import RagService

    url = start_server(small_settings, RagService(small_settings, embedder))
    r = httpx.post(f"{url}/api/search", json={"query": "地铁"})
    assert r.status_code == 503 and "rag ingest" in r.json()["detail"]
    assert str(small_settings.home) not in r.text and "/tmp" not in r.text


# --- 9. error bodies stay small ---------------------------------------------------------------------------------


def test_an_error_body_is_never_much_larger_than_the_request(http):
    body = {"query": "x", **{f"k{i:05d}": 0 for i in range(5800)}}  # about 60 KB of unknown keys
    content = json.dumps(body, separators=(",", ":")).encode()
    assert 50_000 < len(content) < 64 * 1024
    r = post_raw(http, "/api/search", content)
    assert r.status_code == 422 and "unknown_field" in codes(r)
    assert len(r.content) <= 8 * 1024, len(r.content)
    assert re.search(r"and \d+ more", r.json()["detail"])


def test_one_huge_unknown_key_is_not_echoed_whole(http):
    r = http.post("/api/search", json={"query": "x", "k" * 60_000: 1})
    assert r.status_code == 422 and len(r.content) <= 8 * 1024
