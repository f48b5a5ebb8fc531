"""The FastAPI application: the JSON API under /api, OpenAI-compatible chat under /v1, MCP at /mcp, the chat page
at /, and the OpenAPI docs at /docs (Swagger UI served from the fastapi-offline package, not a CDN)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from api import errors
from api.limits import RequestLimits
from api.mcp_tools import build_mcp
from api.routes import admin, articles, openai, search, system
from api.security import BearerGuard, SecureResponses, bearer_auth, trusted_hosts
from embeddings import load_embedder
from rag import __version__
from rag.index import IndexUnavailableError
from rag.service import RagService
from rag.settings import Settings, get_settings

log = logging.getLogger(__name__)
STATIC = resources.files("api").joinpath("static")


def create_app(settings: Settings | None = None, service: RagService | None = None) -> FastAPI:
    """Build the app. The model loads once at start-up; the index on first use (and again after an ingest)."""
    settings = settings or get_settings()
    http = settings.http

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.service = service or RagService(settings, load_embedder(settings.embedding))
        try:
            app.state.service.warm()  # rather than on the first request
        except IndexUnavailableError as e:
            log.warning("%s", e)  # the server still starts: requests get 503 and /healthz says "degraded"
        async with mcp.session_manager.run():  # MCP's streamable-HTTP sessions live as long as the app
            yield

    # Swagger UI with its script and styles served from the installed package, so /docs works offline. ReDoc is
    # left out: its bundle fetches its logo from a CDN, and Swagger UI already documents everything.
    app = FastAPIOffline(
        redoc_url=None,
        title="policy-rag",
        version=__version__,
        summary="Cited answers from Chinese government articles",
        lifespan=lifespan,
        responses=errors.ERROR_RESPONSES,
    )
    # Outermost last: host check and security headers, CORS, then the per-request limits, then the catch-all.
    app.add_middleware(errors.UnexpectedErrors)
    app.add_middleware(RequestLimits, config=http)
    if http.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=http.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["content-type", "authorization"])
    app.add_middleware(SecureResponses, hosts=trusted_hosts(http))
    errors.install(app)

    read = {"dependencies": [Depends(bearer_auth(http.api_token, http.admin_token))],
            "responses": errors.AUTH_RESPONSES} if http.api_token else {}
    for module in (search, articles, system, openai):
        app.include_router(module.router, **read)
    app.include_router(system.health_router)
    if http.admin_token:
        app.include_router(admin.router, dependencies=[Depends(bearer_auth(http.admin_token))],
                           responses=errors.AUTH_RESPONSES)
    else:
        # Not there, as with any unknown path, but an operator who tries it learns how to turn it on.
        @app.api_route("/api/admin/{rest:path}", methods=["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"],
                       include_in_schema=False)
        def admin_off(rest: str) -> JSONResponse:
            return errors.error_response(404, "not_found", "the admin API is off: set RAG_ADMIN_TOKEN and restart "
                                                           "the server to turn it on")
    # MCP over streamable HTTP at /mcp, served by the SDK's own app (its DNS-rebinding guard is on for loopback).
    mcp = build_mcp(lambda: app.state.service)
    mcp_routes = mcp.streamable_http_app(streamable_http_path="/mcp", host=settings.http.host).routes
    if http.api_token:  # the tools read what /api serves, so they ask for the same token
        for route in mcp_routes:
            route.app = BearerGuard(route.app, http.api_token, http.admin_token)  # type: ignore[attr-defined]
    app.router.routes.extend(mcp_routes)

    if STATIC.joinpath("index.html").is_file():
        app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

        @app.get("/", include_in_schema=False)
        def page() -> FileResponse:
            return FileResponse(str(STATIC.joinpath("index.html")))

    return app
