"""Search and ask: ranked passages, and a short cited answer (as one JSON body or as a stream of events)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from api.deps import Service
from api.schemas import AskRequest, AskResponse, SearchRequest, SearchResponse, event_stream_schema
from rag.streaming import AnswerEvent, event_data

router = APIRouter(prefix="/api", tags=["search"])

# How /api/ask documents its stream in the OpenAPI schema.
_STREAM_DOC: dict[int | str, dict[str, Any]] = {200: {
    "description": "With `stream: true` or `Accept: text/event-stream`: Server-Sent Events `citations`, `delta`, "
                   "`reset` and `done` (see the README's streaming section)",
    "content": {"text/event-stream": {"schema": event_stream_schema(["citations", "delta", "reset", "done"])}},
}}


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)


def wants_stream(request: Request, asked: bool) -> bool:
    """Whether to answer with Server-Sent Events: asked in the body, or preferred by the Accept header."""
    return asked or "text/event-stream" in request.headers.get("accept", "")


def sse(events: Iterator[AnswerEvent]) -> Iterator[ServerSentEvent]:
    """Answer events as SSE messages: the event name as the SSE event type, its payload as JSON data."""
    for e in events:
        yield ServerSentEvent(data=event_data(e), event=e.event)


@router.post("/search", response_model=SearchResponse)
def search(body: SearchRequest, svc: Service) -> SearchResponse:
    """Ranked passages for a query (hybrid, dense or lexical), filtered before the top-k cut."""
    t0 = time.perf_counter()
    found = svc.search(body.query, top_k=body.top_k, mode=body.mode, filters=body.filters)
    return SearchResponse(**dict(found.results()), took_ms=_ms(t0))


@router.post("/ask", response_model=AskResponse, responses=_STREAM_DOC)
def ask(body: AskRequest, request: Request, svc: Service) -> Any:
    """A short answer with numbered citations, or an abstention with the closest passages.

    Streamed, the citations come first (as soon as retrieval has run), then the answer text, then the outcome.
    """
    # A follow-up is read against the earlier questions (那手机呢？ → 汽车 以旧换新 补贴 那手机呢？ 多少钱).
    if wants_stream(request, body.stream):
        events = svc.ask_events(body.question, history=body.history, top_k=body.top_k, filters=body.filters)
        # The first event is computed here, so a failure before it is still an ordinary JSON error.
        first = next(events)
        return EventSourceResponse(sse(itertools.chain([first], events)), ping=15)
    t0 = time.perf_counter()
    answer = svc.ask(body.question, history=body.history, top_k=body.top_k, filters=body.filters)
    return AskResponse(**dict(answer), took_ms=_ms(t0))
