"""The FastAPI application: JSON API under /api, the chat page at /, OpenAPI docs at /docs."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.schemas import (
    ArticleOut,
    AskRequest,
    AskResponse,
    ErrorOut,
    FiltersIn,
    SearchRequest,
    SearchResponse,
)
from rag.index import IncompatibleIndexError, NoIndexError
from rag.retrieval import Filters
from rag.service import RagService
from rag.settings import Settings, get_settings

log = logging.getLogger(__name__)
STATIC = resources.files("api").joinpath("static")


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, whether or not Content-Length is sent."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                # FastAPI turns other exceptions raised while reading the body into a 400.
                raise HTTPException(status_code=413, detail=f"request body over {self.limit} bytes")
            return message

        await self.app(scope, counted, send)

    async def _refuse(self, send: Send) -> None:
        body = f'{{"detail": "request body over {self.limit} bytes"}}'.encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _filters(f: FiltersIn | None) -> Filters | None:
    if f is None:
        return None
    return Filters(
        date_from=f.date_from.isoformat() if f.date_from else None,
        date_to=f.date_to.isoformat() if f.date_to else None,
        account=f.account,
        aids=tuple(f.aids) if f.aids is not None else None,
    )


def _describe(errors: list[dict[str, Any]]) -> str:
    """One readable sentence per validation error, e.g. "top_k: must be between 1 and 50"."""
    parts = []
    for e in errors:
        where = ".".join(str(x) for x in e.get("loc", ()) if x != "body") or "body"
        msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        if e.get("type") == "json_invalid":
            msg = f"the body is not valid JSON ({e.get('ctx', {}).get('error', 'parse error')}); send a JSON object"
            where = "body"
        elif e.get("type") == "extra_forbidden":
            msg = "unknown field; remove it"
        elif e.get("type") == "literal_error":
            msg = f"must be one of {e.get('ctx', {}).get('expected', '')}"
        elif e.get("type") == "missing":
            msg = "is required"
        elif str(e.get("type", "")).startswith(("date", "datetime")):
            msg = f"{msg}; write dates as YYYY-MM-DD, e.g. 2026-02-01"
        parts.append(f"{where}: {msg}")
    return "; ".join(parts) or "invalid request"


def get_service(request: Request) -> RagService:
    """The service loaded at start-up (the one process-wide object)."""
    return request.app.state.service


# Module level, so FastAPI can resolve it from the postponed annotations of the route functions.
Service = Annotated[RagService, Depends(get_service)]


def create_app(settings: Settings | None = None, service: RagService | None = None) -> FastAPI:
    """Build the app. The model loads once at start-up; the index on first use (and again after an ingest)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.service = service or RagService(settings)
        try:
            # Warm up now rather than on the first request: the index, the ONNX session, jieba's dictionary.
            app.state.service.search("天津", top_k=1)
        except (NoIndexError, IncompatibleIndexError) as e:
            log.warning("%s", e)
        yield

    app = FastAPI(
        title="policy-rag",
        version="0.1.0",
        summary="Cited answers from Chinese government articles",
        lifespan=lifespan,
        responses={422: {"model": ErrorOut}, 503: {"model": ErrorOut}},
    )
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["content-type"])
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return JSONResponse(status_code=422, content={"detail": _describe(exc.errors()), "errors": errors})

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse(status_code=500, content={"detail": "internal error; the server log has the details"})

    @app.exception_handler(NoIndexError)
    @app.exception_handler(IncompatibleIndexError)
    async def _no_index(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": str(exc)})

    @app.post("/api/search", response_model=SearchResponse, tags=["search"])
    def search(body: SearchRequest, svc: Service) -> dict[str, Any]:
        """Ranked passages for a query (hybrid, dense or lexical)."""
        t0 = time.perf_counter()
        found = svc.search(body.query, top_k=body.top_k, mode=body.mode, filters=_filters(body.filters))
        return {
            "query": body.query,
            "mode": body.mode,
            "results": [h.to_dict() for h in found.hits],
            "took_ms": round((time.perf_counter() - t0) * 1000, 2),
        }

    @app.post("/api/ask", response_model=AskResponse, tags=["search"])
    def ask(body: AskRequest, svc: Service) -> dict[str, Any]:
        """A short answer with numbered citations, or an abstention with the closest passages."""
        t0 = time.perf_counter()
        a = svc.ask(body.question, top_k=body.top_k, filters=_filters(body.filters))
        return {
            "question": a.question,
            "answer": a.answer,
            "abstained": a.abstained,
            "confidence": round(a.confidence, 4),
            "generator": a.generator,
            "notice": a.notice,
            "citations": [c.to_dict() for c in a.citations],
            "took_ms": round((time.perf_counter() - t0) * 1000, 2),
        }

    @app.get("/api/articles/{aid}", response_model=ArticleOut, tags=["articles"],
             responses={404: {"model": ErrorOut}})
    def article(aid: str, svc: Service) -> dict[str, Any]:
        """The normalised article; citation spans index into its ``text``."""
        found = svc.article(aid)
        if found is None:
            raise HTTPException(status_code=404, detail=f"no article with aid {aid!r}")
        return found.to_dict()

    @app.get("/api/stats", tags=["index"])
    def stats(svc: Service) -> dict[str, Any]:
        """The index manifest, counts, accounts and the active model."""
        return svc.stats()

    @app.get("/healthz", tags=["index"])
    def healthz(request: Request) -> dict[str, Any]:
        """Liveness, and whether an index is loaded."""
        svc: RagService = request.app.state.service
        return {"status": "ok", "index": svc.has_index(), "model": svc.embedder.name}

    if STATIC.joinpath("index.html").is_file():
        app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

        @app.get("/", include_in_schema=False)
        def page() -> FileResponse:
            return FileResponse(str(STATIC.joinpath("index.html")))

    return app
