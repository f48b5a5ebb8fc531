"""Search and ask: ranked passages, and a short cited answer."""

from __future__ import annotations

import time

from fastapi import APIRouter

from api.deps import Service
from api.schemas import AskRequest, AskResponse, SearchRequest, SearchResponse

router = APIRouter(prefix="/api", tags=["search"])


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)


@router.post("/search", response_model=SearchResponse)
def search(body: SearchRequest, svc: Service) -> SearchResponse:
    """Ranked passages for a query (hybrid, dense or lexical), filtered before the top-k cut."""
    t0 = time.perf_counter()
    found = svc.search(body.query, top_k=body.top_k, mode=body.mode, filters=body.filters)
    return SearchResponse(query=body.query, mode=body.mode, results=found.hits, took_ms=_ms(t0))


@router.post("/ask", response_model=AskResponse)
def ask(body: AskRequest, svc: Service) -> AskResponse:
    """A short answer with numbered citations, or an abstention with the closest passages."""
    t0 = time.perf_counter()
    answer = svc.ask(body.question, top_k=body.top_k, filters=body.filters)
    return AskResponse(**dict(answer), took_ms=_ms(t0))
