"""The write API over real HTTP: off without RAG_ADMIN_TOKEN, bearer-protected, validated like `rag ingest`,
all or nothing, one write at a time, logged, seen by the next request; and RAG_API_TOKEN for the read API."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import time

import anyio
import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client
from pydantic import SecretStr

from rag.index import backend_for
from rag.index.local import folder
from rag.ingest import ingest
from rag.service import RagService
from tests.conftest import CORPUS, LiveServer, free_port

pytestmark = pytest.mark.slow  # builds indexes of its own

ADMIN = "admin-token-0123456789abcdef"
READ = "read-token-0123456789abcdef"
NEW = {"文章标识符aid": "9000000001_1", "标题title": "滨海新区开通新公交线路", "链接url": "http://example.org/9",
       "时间time": "2026-02-11", "公众号名称": "天津发布",
       "finalContent": "滨海新区今天开通了一条新的公交线路，连接于家堡和响螺湾，方便市民出行。来源：天津日报"}
QUESTION = {"query": "于家堡 响螺湾 公交线路", "top_k": 3}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture()
def admin_server(small_settings, small_corpus, embedder):
    from api.app import create_app

    ingest([small_corpus], small_settings, embedder, progress=False)
    settings = small_settings.updated(http={"admin_token": SecretStr(ADMIN)})
    with LiveServer(create_app(settings, RagService(settings, embedder)), settings.http) as server:
        server.settings = settings
        yield server


def aids_found(url: str) -> set[str]:
    return {h["aid"] for h in httpx.post(f"{url}/api/search", json=QUESTION, timeout=60).json()["results"]}


def test_the_write_api_is_off_without_a_token(live_server):
    for r in (httpx.post(f"{live_server}/api/admin/articles", json=[NEW]),
              httpx.delete(f"{live_server}/api/admin/articles/{NEW['文章标识符aid']}")):
        assert r.status_code == 404 and r.json()["code"] == "not_found" and "RAG_ADMIN_TOKEN" in r.json()["detail"]
    assert "/api/admin/articles" not in httpx.get(f"{live_server}/openapi.json").json()["paths"]


def test_writes_need_the_bearer_token(admin_server):
    url = f"{admin_server.url}/api/admin/articles"
    r = httpx.post(url, json=[NEW])
    assert r.status_code == 401 and r.json()["code"] == "unauthorized" and r.headers["www-authenticate"] == "Bearer"
    for header in (f"Bearer {ADMIN[:-1]}", f"Bearer {ADMIN}x", "Bearer", f"Basic {ADMIN}", ADMIN):
        r = httpx.post(url, json=[NEW], headers={"Authorization": header})
        assert r.status_code in (401, 403), header
    assert httpx.post(url, json=[NEW], headers=bearer(ADMIN[:-1])).json()["code"] == "forbidden"
    assert httpx.delete(f"{url}/2247553251_1", headers=bearer("not-the-token-at-all")).status_code == 403
    spec = httpx.get(f"{admin_server.url}/openapi.json").json()
    assert {"401", "403", "409", "422"} <= set(spec["paths"]["/api/admin/articles"]["post"]["responses"])


def test_added_articles_are_found_on_the_next_request_and_deleted_ones_are_gone(admin_server, caplog):
    caplog.set_level(logging.INFO, logger="api")
    url = admin_server.url
    assert "9000000001_1" not in aids_found(url)
    r = httpx.post(f"{url}/api/admin/articles", json=[NEW], headers=bearer(ADMIN), timeout=120)
    assert r.status_code == 200, r.text
    assert r.json()["added"] == 1 and r.json()["changed"] == {"added": ["9000000001_1"]}
    assert "9000000001_1" in aids_found(url)
    assert any("added 1: 9000000001_1" in m for m in caplog.messages)
    # The same article again is unchanged; JSON Lines are read as the CLI reads them.
    lines = json.dumps(NEW, ensure_ascii=False).encode() + b"\n"
    r = httpx.post(f"{url}/api/admin/articles", content=lines, timeout=120,
                   headers={**bearer(ADMIN), "content-type": "application/x-ndjson"})
    assert r.json()["unchanged"] == 1 and r.json()["added"] == 0
    r = httpx.delete(f"{url}/api/admin/articles/9000000001_1", headers=bearer(ADMIN), timeout=60)
    assert r.status_code == 200 and r.json()["changed"] == {"deleted": ["9000000001_1"]}
    assert "9000000001_1" not in aids_found(url)
    assert httpx.get(f"{url}/api/articles/9000000001_1").status_code == 404
    assert any("deleted 1: 9000000001_1" in m for m in caplog.messages)
    r = httpx.delete(f"{url}/api/admin/articles/9000000001_1", headers=bearer(ADMIN))
    assert r.status_code == 404 and r.json()["code"] == "not_found"


@pytest.mark.parametrize(("records", "says"), [
    ([NEW, {**NEW, "文章标识符aid": "9000000002_1", "时间time": "2026-02-31"}], "record 2"),
    ([NEW, {k: v for k, v in NEW.items() if k != "finalContent"}], "finalContent"),
    ([{**NEW, "标题title": "\ud800"}], "invalid Unicode"),
    ("[{", "malformed JSON"),
])
def test_a_bad_batch_writes_nothing_and_names_the_record(admin_server, records, says):
    home = admin_server.settings.index
    before = backend_for(home).version(home)
    content = records.encode() if isinstance(records, str) else json.dumps(records).encode()
    r = httpx.post(f"{admin_server.url}/api/admin/articles", content=content, timeout=60,
                   headers={**bearer(ADMIN), "content-type": "application/json"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_request", r.text
    assert says in r.json()["detail"] and "nothing was written" in r.json()["detail"]
    assert backend_for(home).version(home) == before and "9000000001_1" not in aids_found(admin_server.url)


def test_one_write_at_a_time(admin_server):
    # An ingest holds the lock (here: this test, as `rag ingest` in another process would): writes get 409 at once.
    with folder.ingest_lock(admin_server.settings.home):
        t0 = time.monotonic()
        r = httpx.post(f"{admin_server.url}/api/admin/articles", json=[NEW], headers=bearer(ADMIN), timeout=60)
        assert r.status_code == 409 and r.json()["code"] == "ingest_running"
        r = httpx.delete(f"{admin_server.url}/api/admin/articles/2247553251_1", headers=bearer(ADMIN), timeout=60)
        assert r.status_code == 409 and time.monotonic() - t0 < 30
    r = httpx.post(f"{admin_server.url}/api/admin/articles", json=[NEW], headers=bearer(ADMIN), timeout=120)
    assert r.status_code == 200


def test_an_upload_may_be_larger_than_a_question_but_not_unbounded(admin_server):
    big = [{**NEW, "文章标识符aid": f"9100000{i:03d}_1", "finalContent": "长" * 2000} for i in range(40)]
    content = json.dumps(big, ensure_ascii=False).encode()
    assert len(content) > 64 * 1024
    r = httpx.post(f"{admin_server.url}/api/search", content=content, headers={"content-type": "application/json"})
    assert r.status_code == 413
    huge = b"[" + b" " * (8 * 1024 * 1024) + b"]"
    r = httpx.post(f"{admin_server.url}/api/admin/articles", content=huge, headers=bearer(ADMIN), timeout=60)
    assert r.status_code == 413 and r.json()["code"] == "body_too_large"


def test_the_read_token_protects_the_read_api_but_not_health_or_the_page(small_settings, small_corpus, embedder):
    from api.app import create_app

    ingest([small_corpus], small_settings, embedder, progress=False)
    settings = small_settings.updated(http={"api_token": SecretStr(READ), "admin_token": SecretStr(ADMIN)})
    with LiveServer(create_app(settings, RagService(settings, embedder)), settings.http) as server:
        url = server.url
        assert httpx.post(f"{url}/api/search", json=QUESTION).status_code == 401
        assert httpx.post(f"{url}/api/search", json=QUESTION, headers=bearer("x" * 20)).status_code == 403
        assert httpx.post(f"{url}/api/search", json=QUESTION, headers=bearer(READ), timeout=60).status_code == 200
        assert httpx.get(f"{url}/api/stats", headers=bearer(ADMIN)).status_code == 200  # the admin may read
        assert httpx.get(f"{url}/api/articles/2247553251_1").status_code == 401
        assert httpx.post(f"{url}/api/admin/articles", json=[NEW], headers=bearer(READ)).status_code == 403
        assert httpx.get(f"{url}/healthz").status_code == 200 and httpx.get(f"{url}/").status_code == 200
        spec = httpx.get(f"{url}/openapi.json").json()
        assert "401" in spec["paths"]["/api/search"]["post"]["responses"]
        refused = httpx.get(f"{url}/v1/models")
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
        # The MCP tools read the same articles, so they ask for the same token.
        hello = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        assert httpx.post(f"{url}/mcp", json=hello).json()["code"] == "unauthorized"
        assert httpx.post(f"{url}/mcp", json=hello, headers=bearer("x" * 20)).status_code == 403
        assert anyio.run(mcp_tools, f"{url}/mcp", READ) == {"search_articles", "ask", "get_article"}


async def mcp_tools(url: str, token: str) -> set[str]:
    """The tools the MCP SDK's client lists when it sends ``token``."""
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    async with Client(streamable_http_client(url, http_client=http)) as client:
        return {t.name for t in (await client.list_tools()).tools}


def test_killing_the_server_during_an_admin_ingest_leaves_the_previous_index(small_settings, small_corpus, embedder,
                                                                           rag_env):
    ingest([small_corpus], small_settings, embedder, progress=False)
    before = backend_for(small_settings.index).version(small_settings.index)
    port = free_port()
    env = {**rag_env(small_settings), "RAG_ADMIN_TOKEN": ADMIN, "RAG_PORT": str(port)}
    server = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None and time.monotonic() < deadline, "the server did not start"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        # The whole corpus takes a while to embed: kill the server once its build folder exists.
        body = CORPUS.read_bytes()
        poster = subprocess.Popen([sys.executable, "-c", (
            "import httpx,sys; httpx.post(sys.argv[1], content=sys.stdin.buffer.read(), timeout=600, "
            f"headers={{'Authorization': 'Bearer {ADMIN}', 'content-type': 'application/json'}})"),
            f"http://127.0.0.1:{port}/api/admin/articles"], stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
        poster.stdin.write(body)
        poster.stdin.close()
        builds = small_settings.home / "indexes"
        while not list(builds.glob(".tmp-*")):
            assert server.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1.0)
        server.send_signal(signal.SIGKILL)
        server.wait()
        poster.wait(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
    assert backend_for(small_settings.index).version(small_settings.index) == before
    r = subprocess.run([sys.executable, "-m", "rag.cli", "check"], env=rag_env(small_settings), capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    # The next write (here through the library, as a restarted server would) clears what the killed one left.
    assert ingest([small_corpus], small_settings, embedder, progress=False).unchanged == 5
    assert not list(builds.glob(".tmp-*"))
