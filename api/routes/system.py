"""The service itself: health, index statistics and what a client needs to know."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import Service
from api.examples import EXAMPLES
from api.schemas import MAX_QUERY_CHARS, MAX_TOP_K, ConfigResponse, HealthResponse, StatsResponse
from rag.records import MODES

router = APIRouter(tags=["service"])


@router.get("/healthz", response_model=HealthResponse)
def healthz(svc: Service) -> HealthResponse:
    """Liveness, and whether an index has been published."""
    return HealthResponse(status="ok", index=svc.has_index(), model=svc.embedder.name)


@router.get("/api/stats", response_model=StatsResponse)
def stats(svc: Service) -> StatsResponse:
    """How the index was built, what it holds, and the active model."""
    return StatsResponse(**svc.stats())


@router.get("/api/config", response_model=ConfigResponse)
def config() -> ConfigResponse:
    """Limits and example questions, so clients copy nothing from the server's code."""
    return ConfigResponse(max_query_chars=MAX_QUERY_CHARS, max_top_k=MAX_TOP_K, modes=list(MODES),
                          examples=EXAMPLES)
