"""Errors as JSON with a stable ``code`` (clients map codes to their own words), for every status the server
gives: validation, bodies that are not JSON, unknown routes and methods, a missing or damaged index, and any
unexpected failure (one 500, logged once, with the connection kept open).
"""

from __future__ import annotations

import contextlib
import json
import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.openai_schemas import OpenAIErrorBody
from api.schemas import ErrorBody
from rag.index import (
    BackendUnreachableError,
    DamagedIndexError,
    IncompatibleIndexError,
    IndexUnavailableError,
    IngestRunningError,
    NoIndexError,
)

log = logging.getLogger(__name__)

# Plain messages for pydantic's most common complaints (values from its ``ctx``).
_PLAIN = {
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "string_type": "must be a string",
    "list_type": "must be a list",
    "bool_type": "must be true or false",
}
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
    "string_unicode": "invalid_unicode",
    "too_long": "too_long",
    "too_short": "too_short",
    "list_type": "not_a_list",
    "bool_type": "not_a_boolean",
    "string_too_short": "too_short",
    "model_attributes_type": "not_an_object",
    "dict_type": "not_an_object",
}
_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 408: "request_timeout", 409: "ingest_running", 413: "body_too_large",
                 429: "rate_limited", 503: "overloaded"}
_INDEX_CODES = ((NoIndexError, "no_index"), (IncompatibleIndexError, "index_incompatible"),
                (DamagedIndexError, "index_damaged"), (BackendUnreachableError, "index_unavailable"))
# An error body lists at most this many problems, each location part and message cut to these lengths: a request
# with thousands of unknown keys must not get an answer ten times its size.
MAX_ERROR_ITEMS = 20
_MAX_LOC_CHARS = 64
_MAX_MSG_CHARS = 300
# Every top-level code an error body may carry (the page has words for each, in both its languages).
CODES = tuple(dict.fromkeys([*_STATUS_CODES.values(), *(code for _, code in _INDEX_CODES), "invalid_request",
                             "host_not_allowed", "internal", "http_error"]))


def _doc(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


# Responses every route may give, for the OpenAPI document.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _doc("The Host header is not one this server answers to (`host_not_allowed`)"),
    405: _doc("The method is not allowed on this path (`method_not_allowed`; the Allow header lists those that are)"),
    408: _doc("The request's body did not arrive in time (`request_timeout`)"),
    413: _doc("The request body is over the size limit (`body_too_large`)"),
    422: _doc("The request is invalid; `errors` says where and why"),
    429: _doc("Too many requests from this client (`rate_limited`); Retry-After says when to try again"),
    503: _doc("Busy (`overloaded`, with Retry-After), or no usable index (`no_index`, `index_incompatible`, "
             "`index_damaged`: `detail` says how to repair it; `index_unavailable`: Milvus cannot be reached)"),
}
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _doc("No bearer token was sent (`unauthorized`)"),
    403: _doc("The bearer token is wrong (`forbidden`)"),
}


def _printable(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with lone surrogates (from JSON escapes) replaced so it encodes."""
    if len(text) > limit:
        text = text[:limit] + "…"
    return text.encode("utf-8", "replace").decode("utf-8")


def error_response(status: int, code: str, detail: str, errors: list[dict[str, Any]] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """The one error body shape."""
    body = ErrorBody(code=code, detail=_printable(detail, 4 * _MAX_MSG_CHARS), errors=errors)
    return JSONResponse(status_code=status, content=body.model_dump(exclude_none=True), headers=headers)


# The OpenAI-compatible API: its clients read errors as {"error": {message, type, param, code}}.
OPENAI_PREFIX = "/v1/"


def error_for(scope: Scope, status: int, code: str, detail: str, headers: dict[str, str] | None = None
              ) -> JSONResponse:
    """An error from a middleware (limits, Host check), in the shape the path's clients read: OpenAI's under
    /v1, else :func:`error_response`'s."""
    if str(scope.get("path", "")).startswith(OPENAI_PREFIX):
        body = OpenAIErrorBody.of(_printable(detail, 4 * _MAX_MSG_CHARS), openai_type(status), None, code)
        return JSONResponse(status_code=status, content=body, headers=headers)
    return error_response(status, code, detail, headers=headers)


def openai_type(status: int) -> str:
    """OpenAI's error type for a status: every client error is an invalid_request_error, told apart by its code."""
    return "invalid_request_error" if status < 500 else "server_error"


def status_code_name(status: int) -> str:
    """The stable code of an HTTP status (401 → unauthorized), as every error body names it."""
    return _STATUS_CODES.get(status, "http_error")


def index_error_code(exc: IndexUnavailableError) -> str:
    """The stable code of an index problem."""
    return next((code for kind, code in _INDEX_CODES if isinstance(exc, kind)), "no_index")


def _json_safe(ctx: dict[str, Any] | None) -> dict[str, Any] | None:
    if not ctx:
        return None
    return {k: _printable(v, _MAX_MSG_CHARS) if isinstance(v, str) else v
            if isinstance(v, int | float | bool) or v is None else _printable(str(v), _MAX_MSG_CHARS)
            for k, v in ctx.items()}


def error_item(e: dict[str, Any]) -> dict[str, Any]:
    """One validation error as clients see it: where, a stable code, the message and its values."""
    kind = str(e.get("type", "invalid"))
    code = _CODES.get(kind, kind)
    msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
    ctx = _json_safe(e.get("ctx"))
    raw_loc = tuple(e.get("loc", ()))
    if kind == "json_invalid":
        at = f" at character {raw_loc[1]}" if len(raw_loc) > 1 and isinstance(raw_loc[1], int) else ""
        msg = f"the body is not valid JSON{at} ({(ctx or {}).get('error', 'parse error')}); send a JSON object"
    elif kind == "model_attributes_type" and raw_loc == ("body",):  # no JSON object: often no JSON content type
        msg = "the body must be a JSON object, sent with Content-Type: application/json"
    elif kind == "extra_forbidden":
        msg = "unknown field; remove it"
    elif kind == "literal_error":
        msg = f"must be one of {(ctx or {}).get('expected', '')}"
    elif kind == "missing":
        msg = "is required"
    elif kind == "string_unicode":
        msg = "contains invalid Unicode (a lone surrogate)"
    elif kind == "too_long" and (ctx or {}).get("field_type") == "List":
        msg = f"must have at most {ctx['max_length']} items"
    elif kind in ("too_short", "string_too_short"):
        least = (ctx or {}).get("min_length", 1)
        things = "characters" if kind == "string_too_short" else "items"
        msg = "must not be empty" if least == 1 else f"must have at least {least} {things}"
    elif kind in _PLAIN:  # pydantic's "Input should be…" in the words of the rest of the API
        # A value the message names may be missing from ctx: then pydantic's own words stay.
        with contextlib.suppress(KeyError):
            msg = _PLAIN[kind].format(**(ctx or {}))
    loc = [x if isinstance(x, int) else _printable(str(x), _MAX_LOC_CHARS) for x in raw_loc]
    return {"loc": loc, "code": code, "msg": _printable(msg, _MAX_MSG_CHARS), "ctx": ctx}


def describe(items: list[dict[str, Any]], more: int = 0) -> str:
    """One readable sentence per problem, e.g. "top_k: must be at most 50"."""
    parts = []
    for item in items:
        # A JSON error's position is in its message, not a field name.
        where = "body" if item.get("code") == "invalid_json" else ".".join(str(x) for x in item["loc"] if x != "body")
        # A problem of the body as a whole names it; one of values given without a body (MCP arguments) names none.
        where = where or ("body" if item["loc"] else "")
        parts.append(f"{where}: {item['msg']}" if where else str(item["msg"]))
    if more:
        parts.append(f"and {more} more")
    return "; ".join(parts) or "invalid request"


def invalid_request(problems: list[dict[str, Any]]) -> JSONResponse:
    """422 listing the first MAX_ERROR_ITEMS problems (pydantic's error dicts) and counting the rest."""
    items = [error_item(e) for e in problems[:MAX_ERROR_ITEMS]]
    more = max(0, len(problems) - MAX_ERROR_ITEMS)
    return error_response(422, "invalid_request", describe(items[:3], more + max(0, len(items) - 3)), items)


def unparsable(exc: BaseException | None) -> str | None:
    """Why a body that FastAPI could not parse is not JSON, when that is the reason (else None)."""
    if isinstance(exc, UnicodeDecodeError):
        return f"it is not UTF-8: byte {exc.start} cannot be decoded"
    if isinstance(exc, RecursionError):
        return "it is nested too deeply"
    if isinstance(exc, ValueError) and not isinstance(exc, json.JSONDecodeError):
        return "a number has too many digits"  # int() refuses over 4300 digits (CVE-2020-10735)
    return None


def _what_to_fix(request: Request, exc: HTTPException) -> str:
    """The exception's detail; for routing's bare "Not Found" / "Method Not Allowed", what to do instead."""
    detail = str(exc.detail)
    try:
        default = HTTPStatus(exc.status_code).phrase
    except ValueError:  # a status http.HTTPStatus does not know has no default phrase to replace
        return detail
    if detail != default:
        return detail
    where = f"{request.method} {_printable(request.url.path, _MAX_LOC_CHARS)}"
    if exc.status_code == 404:
        return f"no such path: {where}; the API's paths are listed at /docs"
    if exc.status_code == 405 and exc.headers and exc.headers.get("Allow"):
        return f"{where} is not allowed; use {exc.headers['Allow']}"
    return detail


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into an ``ErrorBody``."""

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return invalid_request(list(exc.errors()))

    # Starlette's class: FastAPI's HTTPException derives from it, and routing raises it for 404 and 405.
    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        reason = unparsable(exc.__cause__) if exc.status_code == 400 else None
        if reason is not None:  # FastAPI turns a body json.loads cannot read into a bare 400
            return invalid_request([{"type": "json_invalid", "loc": ("body",), "ctx": {"error": reason}}])
        return error_response(exc.status_code, status_code_name(exc.status_code), _what_to_fix(request, exc),
                              headers=exc.headers)

    @app.exception_handler(IndexUnavailableError)
    async def _index(_: Request, exc: IndexUnavailableError) -> JSONResponse:
        return error_response(503, index_error_code(exc), str(exc))

    @app.exception_handler(IngestRunningError)
    async def _busy(_: Request, exc: IngestRunningError) -> JSONResponse:
        return error_response(409, "ingest_running", str(exc))


class UnexpectedErrors:
    """Any exception no handler knows becomes one logged traceback and one 500 ``internal`` body.

    Starlette's own catch-all answers too, but then re-raises, so the server logs the traceback a second time
    and drops the keep-alive connection; this middleware sits inside it and ends the matter.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            log.exception("unexpected error in %s %s", scope.get("method"), scope.get("path"))
            if started:  # too late for an error body: the server closes the connection
                raise
            response = error_response(500, "internal", "internal error; the server log has the details")
            await response(scope, receive, send)
