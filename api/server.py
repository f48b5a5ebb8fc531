"""How the app is served: uvicorn with the HTTP settings' timeouts and limits, and a deadline for headers.

uvicorn closes idle keep-alive connections, but a connection that has sent part of a request's headers (or
nothing at all) waits forever; its h11 protocol is extended here with a deadline for the headers. The body's
deadline is the app's (``api/limits.py``), so it can answer with a JSON 408.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import h11
import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from rag.settings import HttpSettings


def _timeout_response(seconds: float) -> bytes:
    body = json.dumps({"code": "request_timeout",
                       "detail": f"the request headers did not arrive within {seconds:g} s"}).encode()
    head = (f"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
            "connection: close\r\n\r\n")
    return head.encode("ascii") + body


class HeaderDeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request headers are not complete ``header_timeout``
    seconds after the connection opened (or after the first byte of a later request on it)."""

    header_timeout: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._header_timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._arm()  # still waiting for (the rest of) the headers: the deadline does not move
        else:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.write(_timeout_response(self.header_timeout))
            self.transport.close()


def server_config(app: ASGIApp, config: HttpSettings, **options: Any) -> uvicorn.Config:
    """uvicorn's configuration for ``app`` from the HTTP settings (``options`` go to uvicorn as they are)."""
    protocol = type("HeaderDeadline", (HeaderDeadlineProtocol,), {"header_timeout": config.header_timeout})
    return uvicorn.Config(
        app,
        host=config.host,
        port=config.port,
        http=protocol,
        timeout_keep_alive=config.keep_alive_timeout,  # type: ignore[arg-type]  # a float works
        limit_concurrency=config.max_connections,
        server_header=False,
        **options,
    )
