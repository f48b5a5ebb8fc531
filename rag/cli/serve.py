"""``rag serve``: the JSON API and the chat page."""

from __future__ import annotations

import errno
import logging
import socket
from typing import Annotated

import typer

from rag.cli.common import EXIT_USAGE, app, fail, out, settings_for
from rag.settings import HttpSettings

# The defaults, as Settings writes them (RAG_HOST and RAG_PORT override them).
_HOST, _PORT = HttpSettings.model_fields["host"].default, HttpSettings.model_fields["port"].default


def _check_free(host: str, port: int) -> None:
    """Fail with a clear sentence, before loading anything, when the address is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no conflict
        try:
            s.bind((host, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                fail(f"port {port} on {host} is already in use (another `rag serve`?); stop it, or choose "
                     "another port with --port or RAG_PORT", EXIT_USAGE)
            fail(f"cannot listen on {host}:{port}: {e.strerror or e}", EXIT_USAGE)


@app.command(help=f"Serve the JSON API and the chat page (http://{_HOST}:{_PORT} by default).")
def serve(
    host: Annotated[str | None, typer.Option(help=f"Default: RAG_HOST, else {_HOST}.")] = None,
    port: Annotated[int | None, typer.Option(help=f"Default: RAG_PORT, else {_PORT}.", min=1, max=65535)] = None,
) -> None:
    """Serve the JSON API and the chat page."""
    import uvicorn

    from api.app import create_app
    from api.security import trusted_hosts
    from api.server import server_config

    settings = settings_for(None)
    settings = settings.updated(http={"host": host or settings.http.host, "port": port or settings.http.port})
    http = settings.http
    _check_free(http.host, http.port)
    app_ = create_app(settings)
    # Writes through the admin API are logged at INFO by api.admin; the rest of the CLI logs warnings only.
    logging.getLogger("api").setLevel(logging.INFO)
    out.print(f"serving on http://{http.host}:{http.port}  (API docs: http://{http.host}:{http.port}/docs); "
              f"Host names served: {', '.join(trusted_hosts(http))}")
    if http.admin_token:
        out.print("the write API /api/admin/articles is enabled (RAG_ADMIN_TOKEN)")
    uvicorn.Server(server_config(app_, http, log_level="info")).run()
