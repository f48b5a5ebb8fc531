"""The write API, for deployments that receive articles continuously: add or update articles, delete one.

Mounted only when RAG_ADMIN_TOKEN is set, behind ``Authorization: Bearer <token>``. A write is exactly a
`rag ingest` / `rag delete`: the same validation (all or nothing), the model the server already loaded, one
write at a time (409 while another runs, from here or the CLI), and published atomically, so the server
answers from the new index on its next request. Each write is logged with what it changed.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.deps import Service
from api.errors import ERROR_RESPONSES, error_response
from api.schemas import ErrorBody, IngestResponse
from rag.corpus import FIELDS, CorpusError, Problem, parse_export
from rag.ingest import IngestReport, UnknownArticlesError, delete, ingest_loaded

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/admin", tags=["admin"])

_RULES: dict[str, dict[str, Any]] = {
    "aid": {"pattern": r"\S", "description": "A unique id"},
    "title": {"pattern": r"\S"},
    "date": {"pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T].*)?$",
             "description": "YYYY-MM-DD (a real date), optionally followed by a time"},
}
_ARTICLE = {
    "type": "object",
    "description": "One article as the WeChat exports write it (what `rag ingest` reads); aids are unique",
    "required": list(FIELDS.values()),
    "properties": {key: {"type": "string", **_RULES.get(ours, {})} for ours, key in FIELDS.items()},
}
_BODY = {
    "required": True,
    "description": "A JSON array of articles, or JSON Lines (one article per line)",
    "content": {
        "application/json": {"schema": {"type": "array", "items": _ARTICLE, "minItems": 1}},
        "application/x-ndjson": {"schema": {"type": "string", "description": "One article object per line"}},
    },
}
_WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "Another ingest is running (`ingest_running`); try again later"},
}


def _problem_item(p: Problem) -> dict[str, Any]:
    loc: list[str | int] = ["body"] + ([p.record] if p.record is not None else []) + ([p.field] if p.field else [])
    return {"loc": loc, "code": "invalid_article", "msg": str(p), "ctx": {"aid": p.aid} if p.aid else None}


def _logged(what: str, request: Request, report: IngestReport) -> IngestResponse:
    client = request.client.host if request.client else "?"
    changes = "; ".join(f"{kind} {len(aids)}: {', '.join(aids)}" for kind, aids in report.changed.items())
    log.info("admin %s from %s: %s; unchanged %d; the index holds %d articles, %d chunks (%.1f s)", what, client,
             changes or "nothing changed", report.unchanged, report.articles_total, report.chunks_total,
             report.seconds)
    return IngestResponse(**report.to_dict())


@router.post("/articles", response_model=IngestResponse, openapi_extra={"requestBody": _BODY},
             responses={**_WRITE_RESPONSES, 422: {**ERROR_RESPONSES[422], "description": "An article is invalid "
                                                  "(nothing was written); `errors` names each record and field"}})
async def add_articles(request: Request, svc: Service) -> IngestResponse | JSONResponse:
    """Add new articles and re-index changed ones (unchanged ones are skipped), as `rag ingest` does."""
    media = request.headers.get("content-type", "")
    lines = True if ("ndjson" in media or "jsonl" in media or "jsonlines" in media) else None
    loaded = parse_export(await request.body(), "request body", lines=lines)
    if loaded.problems:
        items = [_problem_item(p) for p in loaded.problems]
        return error_response(422, "invalid_request", str(CorpusError(loaded.problems)) + "; nothing was written",
                              items[:20])
    report = await run_in_threadpool(ingest_loaded, loaded, svc.settings, svc.embedder, wait=False, progress=False)
    return _logged("ingest", request, report)


@router.delete("/articles/{aid}", response_model=IngestResponse,
               responses={**_WRITE_RESPONSES, 404: {"model": ErrorBody, "description": "No article with this aid"}})
def delete_article(aid: str, request: Request, svc: Service) -> IngestResponse | JSONResponse:
    """Remove one article and all its passages, as `rag delete` does."""
    try:
        report = delete([aid], svc.settings, wait=False)
    except UnknownArticlesError:
        return error_response(404, "not_found", f"no article with aid {aid!r}")
    return _logged("delete", request, report)
