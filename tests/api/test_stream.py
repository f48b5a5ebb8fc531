"""POST /api/ask as Server-Sent Events over a real server: citations first, then the text, then the outcome."""

from __future__ import annotations

import json
import time

import httpx
import pytest

QUESTION = "今年民心工程有多少项？"


def read_events(response: httpx.Response) -> list[tuple[str, dict]]:
    """(event, data) of each SSE message, as a client reads them (pings and comments skipped)."""
    out, event, data = [], "message", []
    for line in response.iter_lines():
        if line == "":
            if data:
                out.append((event, json.loads("\n".join(data))))
            event, data = "message", []
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
    return out


@pytest.fixture(scope="module")
def http(live_server):
    with httpx.Client(base_url=live_server, timeout=60) as client:
        yield client


@pytest.mark.parametrize("how", ["body", "accept"])
def test_ask_streams_citations_then_text_then_the_outcome(http, how):
    kwargs = ({"json": {"question": QUESTION, "stream": True}} if how == "body" else
              {"json": {"question": QUESTION}, "headers": {"Accept": "text/event-stream"}})
    with http.stream("POST", "/api/ask", **kwargs) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = read_events(r)
    names = [e for e, _ in events]
    assert names[0] == "citations" and names[-1] == "done" and set(names[1:-1]) == {"delta"}
    done = events[-1][1]
    whole = http.post("/api/ask", json={"question": QUESTION}).json()
    assert events[0][1]["citations"] == whole["citations"]  # the same records, chunk ids exact
    assert "".join(d["text"] for e, d in events if e == "delta") == done["answer"] == whole["answer"]
    assert {k: done[k] for k in ("question", "abstained", "generator", "notice")} == {
        k: whole[k] for k in ("question", "abstained", "generator", "notice")}
    assert done["took_ms"] > 0 and "citations" not in done


def test_a_streamed_follow_up_says_how_it_was_read_in_the_done_event(http):
    body = {"question": "那手机呢？", "history": ["汽车以旧换新补贴多少钱？"], "stream": True}
    with http.stream("POST", "/api/ask", json=body) as r:
        events = read_events(r)
    done = events[-1][1]
    assert events[-1][0] == "done" and done["conversation"]["asking"] == "多少钱" and "500元" in done["answer"]
    alone = {"question": QUESTION, "stream": True}
    with http.stream("POST", "/api/ask", json=alone) as r:
        assert read_events(r)[-1][1]["conversation"] is None


def test_the_first_event_arrives_before_the_stream_ends(http):
    """The citations are flushed as soon as they exist, not held back until the answer is done."""
    t0 = time.perf_counter()
    with http.stream("POST", "/api/ask", json={"question": QUESTION, "stream": True}) as r:
        lines = r.iter_lines()
        assert next(lines) == "event: citations"
        first = time.perf_counter() - t0
    assert first < 5


def test_a_bad_request_is_still_a_json_error_not_a_stream(http):
    r = http.post("/api/ask", json={"question": "问" * 1001, "stream": True})
    assert r.status_code == 422 and r.headers["content-type"] == "application/json"
    assert r.json()["errors"][0]["code"] == "too_long"
    r = http.post("/api/ask", json={"question": QUESTION, "stream": "yes"})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "stream"]


def test_without_an_index_the_stream_request_gets_the_503(start_server, small_settings, embedder):
    from rag.service import RagService

    url = start_server(small_settings, RagService(small_settings, embedder))
    r = httpx.post(url + "/api/ask", json={"question": QUESTION, "stream": True}, timeout=30)
    assert r.status_code == 503 and r.json()["code"] == "no_index"


def test_a_streamed_llm_answer_and_its_fallback_over_http(start_server, llm_settings, embedder, llm_stand_in):
    from rag.service import RagService
    from tests.llm_stand_in import ANSWER

    url = start_server(llm_settings, RagService(llm_settings, embedder))
    with httpx.stream("POST", url + "/api/ask", json={"question": QUESTION, "stream": True}, timeout=30) as r:
        events = read_events(r)
    assert [e for e, _ in events].count("delta") >= 3
    assert events[-1][1]["generator"] == "llm" and events[-1][1]["answer"] == ANSWER

    llm_stand_in.behaviour = "break"
    with httpx.stream("POST", url + "/api/ask", json={"question": QUESTION, "stream": True}, timeout=30) as r:
        events = read_events(r)
    names = [e for e, _ in events]
    assert "reset" in names and names.count("citations") == 2
    after = events[names.index("reset") + 1 :]
    done = events[-1][1]
    assert done["generator"] == "extractive" and "摘录" in done["notice"]
    assert "".join(d["text"] for e, d in after if e == "delta") == done["answer"]
