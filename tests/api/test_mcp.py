"""The MCP tools through the official ``mcp`` SDK's client: over stdio (``rag mcp``) and over HTTP (/mcp)."""

from __future__ import annotations

import sys

import anyio
import pytest
from mcp import Client, StdioServerParameters

from tests.conftest import ROOT

TOOLS = {"search_articles", "ask", "get_article"}
CITATION_FIELDS = {"title", "date", "url", "text", "start", "end"}  # text is the passage, start/end its span


async def exercise(client: Client, corpus_articles) -> None:
    """List the tools and call each, checking that results carry citations with their spans."""
    listed = (await client.list_tools()).tools
    assert {t.name for t in listed} == TOOLS
    assert all(t.description and t.output_schema for t in listed)

    found = await client.call_tool("search_articles", {"query": "地铁8号线进展", "top_k": 3})
    assert not found.is_error
    results = found.structured_content["results"]
    assert len(results) == 3 and results[0]["aid"] == "2247553120_1"
    for hit in results:
        assert set(hit) >= CITATION_FIELDS
        assert corpus_articles[hit["aid"]].text[hit["start"] : hit["end"]] == hit["text"]

    answer = await client.call_tool("ask", {"question": "今年民心工程有多少项？"})
    body = answer.structured_content
    assert not answer.is_error and "66" in body["answer"] and not body["abstained"]
    first = body["citations"][0]
    assert set(first) >= CITATION_FIELDS | {"n", "highlights"} and first["n"] == 1
    assert '"citations"' in answer.content[0].text  # the same result as JSON text, for clients without structure

    # A follow-up is read against the earlier questions, as POST /api/ask reads its history.
    follow = await client.call_tool("ask", {"question": "那手机呢？", "history": ["汽车以旧换新补贴多少钱？"]})
    said = follow.structured_content
    assert not follow.is_error and "500元" in said["answer"] and said["conversation"]["asking"] == "多少钱"
    assert body["conversation"] is None
    blank = await client.call_tool("ask", {"question": "那手机呢？", "history": ["   "]})
    assert blank.is_error and "history.0: the earlier question is empty" in blank.content[0].text

    article = await client.call_tool("get_article", {"aid": first["aid"]})
    assert article.structured_content["text"][first["start"] : first["end"]] == first["text"]

    missing = await client.call_tool("get_article", {"aid": "nope_1"})
    assert missing.is_error and "nope_1" in missing.content[0].text
    bad = await client.call_tool("ask", {"question": "公积金", "date_from": "2026/02/01"})
    assert bad.is_error and "YYYY-MM-DD" in bad.content[0].text
    wordless = await client.call_tool("search_articles", {"query": "？？？"})
    assert wordless.is_error and "no words" in wordless.content[0].text
    out_of_range = await client.call_tool("search_articles", {"query": "地铁", "top_k": 0})
    said = out_of_range.content[0].text
    assert out_of_range.is_error and "top_k: must be at least 1" in said
    assert "pydantic" not in said and "validation error for" not in said
    empty = await client.call_tool("ask", {"question": ""})
    assert empty.is_error and "question: must not be empty" in empty.content[0].text
    misspelt = await client.call_tool("ask", {"question": "地铁", "date_form": "2026-02-01"})
    assert misspelt.is_error and "date_form: unknown argument" in misspelt.content[0].text
    backwards = await client.call_tool("ask", {"question": "地铁", "date_from": "2026-02-09", "date_to": "2026-02-01"})
    said = backwards.content[0].text
    assert backwards.is_error and said.endswith("tool ask: date_from (2026-02-09) is after date_to (2026-02-01)")


def test_mcp_over_http_on_the_running_server(live_server, corpus_articles):
    async def main() -> None:
        async with Client(live_server + "/mcp") as client:
            await exercise(client, corpus_articles)

    anyio.run(main)


@pytest.mark.slow
def test_mcp_over_stdio_with_rag_mcp(corpus_settings, rag_env, corpus_articles):
    params = StdioServerParameters(command=sys.executable, args=["-m", "rag.cli", "mcp"],
                                   env=rag_env(corpus_settings), cwd=str(ROOT))

    async def main() -> None:
        with anyio.fail_after(180):
            async with Client(params) as client:
                await exercise(client, corpus_articles)

    anyio.run(main)
