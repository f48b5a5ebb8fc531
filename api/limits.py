"""Limits on each request, so a slow, greedy or simply too busy world degrades the service instead of hanging it.

In this order: the client's rate (429), the body — read whole, within a size (413) and a time (408) —, and only
then a slot among the requests served at once (503 + Retry-After at once, instead of a queue that grows until
every answer is late). A slow client therefore never holds a slot; the headers' own deadline is the server's
(``api/server.py``).
"""

from __future__ import annotations

import asyncio
import math
import time

from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_for
from rag.settings import HttpSettings

# Only what runs the pipeline is counted against the rate and the requests at once: the JSON API, the OpenAI-
# compatible chat and the MCP tools' calls (a POST; an MCP client's GET is a stream of notifications that stays
# open for the session). The page, its ES modules (a browser fetches a dozen at once) and the docs are static
# files, and a load balancer's /healthz must see the truth, not "busy".
COUNTED_PREFIXES = ("/api/", "/v1/")
COUNTED_POSTS = ("/mcp",)
UPLOAD_PREFIX = "/api/admin/"
# Seconds a shed client is told to wait: requests take tens of milliseconds, so a slot is free again very soon.
RETRY_AFTER_SECONDS = 1


class RequestLimits:
    """Rate per client, body size and time, and requests served at once (see the module's docstring)."""

    def __init__(self, app: ASGIApp, config: HttpSettings):
        self.app = app
        self.config = config
        self.active = 0  # requests being served; only the event loop's thread touches it
        self.rates = parse_many(config.rate_limit) if config.rate_limit else []
        self.limiter = MovingWindowRateLimiter(MemoryStorage()) if self.rates else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        exempt = not (path.startswith(COUNTED_PREFIXES) or (scope["method"] == "POST" and path in COUNTED_POSTS))
        if self.limiter is not None and not exempt:
            wait = self._over_rate(scope)
            if wait is not None:
                await error_for(scope, 429, "rate_limited", f"too many requests; try again in {wait} s",
                                     headers={"retry-after": str(wait)})(scope, receive, send)
                return
        limit = self.config.max_upload_bytes if path.startswith(UPLOAD_PREFIX) else self.config.max_body_bytes
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await _too_large(scope, limit)(scope, receive, send)
            return
        try:
            async with asyncio.timeout(self.config.body_timeout):
                body = await _read_body(receive, limit)
        except TimeoutError:
            await error_for(scope, 408, "request_timeout",
                                 f"the request body did not arrive within {self.config.body_timeout:g} s",
                                 headers={"connection": "close"})(scope, receive, send)
            return
        if body is None:  # the client went away
            return
        if isinstance(body, int):
            await _too_large(scope, limit)(scope, receive, send)
            return
        if not exempt and self.active >= self.config.max_concurrent_requests:
            await error_for(scope, 503, "overloaded", f"the server is busy; try again in {RETRY_AFTER_SECONDS} s",
                                 headers={"retry-after": str(RETRY_AFTER_SECONDS)})(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: waits for the client to disconnect, as ASGI says

        self.active += 0 if exempt else 1
        try:
            await self.app(scope, replay, send)
        finally:
            self.active -= 0 if exempt else 1

    def _over_rate(self, scope: Scope) -> int | None:
        """Seconds to wait when this client is over any of its rates, else None (and the request is counted)."""
        assert self.limiter is not None
        client = (scope.get("client") or ("unknown",))[0]
        for rate in self.rates:
            if not self.limiter.hit(rate, client):
                reset = self.limiter.get_window_stats(rate, client).reset_time
                return max(1, math.ceil(reset - time.time()))
        return None


async def _read_body(receive: Receive, limit: int) -> bytes | int | None:
    """The whole body; its size so far when it grows over ``limit``; None when the client disconnects."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return size
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _too_large(scope: Scope, limit: int) -> JSONResponse:
    # The rest of the body is never read, so the connection cannot carry another request.
    return error_for(scope, 413, "body_too_large", f"request body over {limit} bytes", headers={"connection": "close"})
