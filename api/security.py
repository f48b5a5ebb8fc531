"""Who may talk to the server and what browsers may do with its answers: trusted Host names, security headers
on every response, and bearer tokens for the write API (and, optionally, the read API)."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_for, error_response, status_code_name
from rag.settings import HttpSettings

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
_ANY_ADDRESS = ("", "0.0.0.0", "::")

# The page loads only its own scripts, styles and API; nothing may frame it (clickjacking).
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
               "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# /docs serves Swagger UI from the installed package (fastapi-offline), started by an inline script: nothing
# comes from elsewhere.
DOCS_POLICY = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
               "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
               "base-uri 'none'; frame-ancestors 'none'")
DOCS_PATHS = ("/docs", "/redoc")
HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",  # frame-ancestors for browsers that predate CSP level 2
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
}


def trusted_hosts(config: HttpSettings) -> list[str]:
    """The Host names served: RAG_TRUSTED_HOSTS, or the localhost names plus the address the server binds."""
    if config.trusted_hosts:
        return [h.lower() for h in config.trusted_hosts]
    bound = config.host.strip("[]").lower()
    return list(LOCAL_HOSTS) + ([bound] if bound not in _ANY_ADDRESS and bound not in LOCAL_HOSTS else [])


def _host_name(header: str) -> str:
    """The name of a Host header without its port: "[::1]:8000" → "::1", "Example.org:80" → "example.org"."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def _allowed(name: str, patterns: Iterable[str]) -> bool:
    return any(p in ("*", name) or (p.startswith("*.") and name.endswith(p[1:])) for p in patterns)


class SecureResponses:
    """Refuse requests whose Host header is not trusted (400 ``host_not_allowed``) — a web page that rebinds its
    own name to 127.0.0.1 cannot read a local server — and add the security headers to every response."""

    def __init__(self, app: ASGIApp, hosts: list[str]):
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_POLICY if scope["path"] in DOCS_PATHS else PAGE_POLICY

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                headers["content-security-policy"] = policy
            await send(message)

        host = Headers(scope=scope).get("host")
        if host is None or not _allowed(_host_name(host), self.hosts):
            response = error_for(scope, 400, "host_not_allowed", "this server does not answer to that Host name; "
                                                               "RAG_TRUSTED_HOSTS lists the names it serves")
            await response(scope, receive, secured)
            return
        await self.app(scope, receive, secured)


_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <token>`")


def bearer_auth(*tokens: SecretStr | None) -> Callable[..., Awaitable[None]]:
    """A dependency requiring ``Authorization: Bearer <one of tokens>``: 401 without a token, 403 with another.

    Tokens are compared in constant time, each of them every time, so timing tells nothing about a token.
    """
    secrets = _secrets(tokens)

    async def require_token(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> None:
        refused = _refusal(credentials.credentials if credentials else None, secrets)
        if refused is not None:
            raise HTTPException(refused[0], refused[1], headers={"WWW-Authenticate": "Bearer"})

    return require_token


class BearerGuard:
    """``bearer_auth`` for a mounted ASGI app that FastAPI's dependencies do not reach (the MCP SDK's /mcp): the
    same tokens, the same 401 and 403."""

    def __init__(self, app: ASGIApp, *tokens: SecretStr | None):
        self.app = app
        self.secrets = _secrets(tokens)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scheme, _, credentials = Headers(scope=scope).get("authorization", "").partition(" ")
            refused = _refusal(credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None,
                               self.secrets)
            if refused is not None:
                status, detail = refused
                response = error_response(status, status_code_name(status), detail,
                                          headers={"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _secrets(tokens: Iterable[SecretStr | None]) -> list[bytes]:
    return [t.get_secret_value().encode() for t in tokens if t is not None]


def _refusal(sent: str | None, secrets: list[bytes]) -> tuple[int, str] | None:
    """(status, why) when ``sent`` is no token or not one of ``secrets``; None when it is one. Every secret is
    compared, in constant time, every time."""
    if sent is None:
        return 401, "send the token as `Authorization: Bearer <token>`"
    given = sent.encode("utf-8", "replace")
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(given, secret)
    return None if matched else (403, "the token is not valid here")
