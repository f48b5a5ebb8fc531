"""The service itself: health, index statistics and what a client needs to know."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import Service
from api.errors import index_error_code
from api.examples import EXAMPLES
from api.schemas import MAX_QUERY_CHARS, ConfigResponse, HealthResponse
from rag.records import MAX_TOP_K, MODES
from rag.service import IndexStats

router = APIRouter(tags=["service"])
# Open even when RAG_API_TOKEN protects the rest: load balancers probe it.
health_router = APIRouter(tags=["service"])


@health_router.get("/healthz", response_model=HealthResponse, response_model_exclude_none=True,
                   responses={503: {"model": HealthResponse, "description": "Degraded: the index cannot be used "
                                                                            "(`detail` says why and how to repair)"}})
def healthz(svc: Service, response: Response) -> HealthResponse:
    """200 ``ok`` when the service can answer; 503 ``degraded`` when its index is missing, incompatible or damaged,
    so a load balancer takes the replica out."""
    problem = svc.problem()
    if problem is None:
        return HealthResponse(status="ok", index=True, model=svc.embedder.name)
    response.status_code = 503
    return HealthResponse(status="degraded", index=svc.has_index(), model=svc.embedder.name,
                          code=index_error_code(problem), detail=str(problem))


@router.get("/api/stats", response_model=IndexStats)
def stats(svc: Service) -> IndexStats:
    """How the index was built, what it holds, and the active model."""
    return svc.stats()


@router.get("/api/config", response_model=ConfigResponse)
def config() -> ConfigResponse:
    """Limits and example questions, so clients copy nothing from the server's code."""
    return ConfigResponse(max_query_chars=MAX_QUERY_CHARS, max_top_k=MAX_TOP_K, modes=list(MODES),
                          examples=EXAMPLES)
