"""Errors as JSON with a stable ``code`` (clients map codes to their own words), and the body-size limit."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.schemas import ErrorBody
from rag.index import IncompatibleIndexError, NoIndexError

log = logging.getLogger(__name__)

# Stable codes of pydantic's own error types, under the names clients see.
_CODES = {
    "json_invalid": "invalid_json",
    "extra_forbidden": "unknown_field",
    "literal_error": "not_allowed",
    "missing": "missing",
    "int_type": "not_an_integer",
    "int_parsing": "not_an_integer",
    "greater_than_equal": "out_of_range",
    "less_than_equal": "out_of_range",
    "string_type": "not_a_string",
    "too_long": "too_long",
}
# Responses every route may give, for the OpenAPI document.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorBody, "description": "The request body is over the size limit"},
    422: {"model": ErrorBody, "description": "The request is invalid; `errors` says where and why"},
    503: {"model": ErrorBody, "description": "No usable index (`rag ingest` builds one)"},
}


def error_response(status: int, code: str, detail: str, errors: list[dict[str, Any]] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """The one error body shape."""
    body = ErrorBody(code=code, detail=detail, errors=errors).model_dump(exclude_none=True)
    return JSONResponse(status_code=status, content=body, headers=headers)


def _json_safe(ctx: dict[str, Any] | None) -> dict[str, Any] | None:
    if not ctx:
        return None
    return {k: v if isinstance(v, int | float | str | bool) or v is None else str(v) for k, v in ctx.items()}


def _item(e: dict[str, Any]) -> dict[str, Any]:
    """One validation error as clients see it: where, a stable code, the message and its values."""
    kind = str(e.get("type", "invalid"))
    code = _CODES.get(kind, kind)
    msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
    ctx = _json_safe(e.get("ctx"))
    if kind == "json_invalid":
        msg = f"the body is not valid JSON ({(ctx or {}).get('error', 'parse error')}); send a JSON object"
    elif kind == "extra_forbidden":
        msg = "unknown field; remove it"
    elif kind == "literal_error":
        msg = f"must be one of {(ctx or {}).get('expected', '')}"
    elif kind == "missing":
        msg = "is required"
    return {"loc": [str(x) if not isinstance(x, int) else x for x in e.get("loc", ())], "code": code, "msg": msg,
            "ctx": ctx}


def describe(items: list[dict[str, Any]]) -> str:
    """One readable sentence per problem, e.g. "top_k: Input should be less than or equal to 50"."""
    parts = []
    for item in items:
        where = ".".join(str(x) for x in item["loc"] if x != "body") or "body"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts) or "invalid request"


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into an ``ErrorBody``."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        items = [_item(e) for e in exc.errors()]
        return error_response(422, "invalid_request", describe(items), items)

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(NoIndexError)
    async def _no_index(_: Request, exc: NoIndexError) -> JSONResponse:
        return error_response(503, "no_index", str(exc))

    @app.exception_handler(IncompatibleIndexError)
    async def _incompatible(_: Request, exc: IncompatibleIndexError) -> JSONResponse:
        return error_response(503, "index_incompatible", str(exc))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return error_response(500, "internal", "internal error; the server log has the details")


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
            await error_response(413, "body_too_large", self._message())(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                # FastAPI turns other exceptions raised while reading the body into a 400.
                raise HTTPException(status_code=413, detail=self._message())
            return message

        await self.app(scope, counted, send)

    def _message(self) -> str:
        return f"request body over {self.limit} bytes"
