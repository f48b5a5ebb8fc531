"""Connections to Milvus: one client per URI and token in a process, milvus-lite files or servers, clear errors.

``RAG_MILVUS_URI`` is either a server or cluster (``http(s)://host:port``; only the URI changes between them) or
a milvus-lite file (``….db``): the same Milvus core run as a subprocess of this one, serving one process at a time.
"""

from __future__ import annotations

import logging
import re
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from rag.index.base import BackendUnreachableError, IndexUnavailableError
from rag.settings import IndexSettings

if TYPE_CHECKING:  # pymilvus takes a second to import; only the Milvus backend needs it
    from pymilvus import MilvusClient

SERVER_SCHEMES = ("http", "https", "tcp", "grpc", "unix")
# milvus-lite names its socket and lock after the file and accepts only these names.
LITE_NAME = re.compile(r"^[A-Za-z0-9.\-_]{1,33}\.db$")

_clients: dict[tuple[str, str], MilvusClient] = {}
_lock = threading.Lock()
# pymilvus logs every failed call at ERROR before raising it; the errors raised here already say what failed.
logging.getLogger("pymilvus").setLevel(logging.CRITICAL)


def is_lite(uri: str) -> bool:
    """True for a milvus-lite file, False for a server URI."""
    return urlsplit(uri).scheme.lower() not in SERVER_SCHEMES


def public_uri(uri: str) -> str:
    """The URI without credentials, and for milvus-lite without the folder (safe to show API clients)."""
    if is_lite(uri):
        return f"milvus-lite:{Path(uri).name}"
    parts = urlsplit(uri)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def exists(config: IndexSettings) -> bool:
    """False when the milvus-lite file has not been created yet (nothing to connect to); True for servers."""
    uri = config.milvus_target
    return not is_lite(uri) or Path(uri).is_file()


def connect(config: IndexSettings) -> MilvusClient:
    """The process's client for ``config``'s URI and token (created on first use, then shared by all threads).

    A milvus-lite file is started on first use; its folder is created. Raises IndexUnavailableError saying
    what to fix when Milvus cannot be reached.
    """
    uri = config.milvus_target
    token = config.milvus_token.get_secret_value() if config.milvus_token else ""
    if is_lite(uri):
        path = Path(uri).expanduser().resolve()
        if not LITE_NAME.match(path.name):
            raise IndexUnavailableError(
                f"RAG_MILVUS_URI {uri}: a milvus-lite file name has at most 36 characters, letters, digits, "
                "'.', '-' or '_', and ends in .db (or give a server URI such as http://127.0.0.1:19530)")
        path.parent.mkdir(parents=True, exist_ok=True)
        uri = str(path)
    key = (uri, token)
    with _lock:
        found = _clients.get(key)
        if found is not None:
            return found
        from pymilvus import MilvusClient

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # milvus-lite imports the deprecated pkg_resources
                client = MilvusClient(uri=uri, token=token, timeout=config.milvus_timeout)
        except Exception as e:  # pymilvus raises several unrelated types here
            raise BackendUnreachableError(_unreachable(uri, e)) from None
        _clients[key] = client
        return client


def _unreachable(uri: str, error: Exception) -> str:
    if is_lite(uri):
        return (f"cannot open the milvus-lite file {Path(uri).name}: {error}. milvus-lite serves one process at a "
                "time: stop the other process using it (a `rag serve`?), or run Milvus as a server and set "
                "RAG_MILVUS_URI (see the README)")
    return f"cannot reach Milvus at {public_uri(uri)}: {error}. Is it running, and are RAG_MILVUS_URI and " \
           "RAG_MILVUS_TOKEN right?"


@contextmanager
def reported(config: IndexSettings) -> Iterator[None]:
    """Turn Milvus failures (server gone, timeout, refused token) into BackendUnreachableError with the URI."""
    import grpc
    from pymilvus.exceptions import MilvusException

    try:
        yield
    except MilvusException as e:
        raise BackendUnreachableError(
            f"Milvus at {public_uri(config.milvus_target)} failed: {e.message} (code {e.code})") from e
    except grpc.RpcError as e:  # pymilvus lets some gRPC failures through as they are (a deadline, mostly)
        code = e.code() if isinstance(e, grpc.Call) else None
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            raise BackendUnreachableError(
                f"Milvus at {public_uri(config.milvus_target)} did not answer within {config.milvus_timeout:g} s "
                "(RAG_MILVUS_TIMEOUT)") from e
        details = e.details() if isinstance(e, grpc.Call) else str(e)
        raise BackendUnreachableError(
            f"Milvus at {public_uri(config.milvus_target)} failed: {details} ({code.name if code else 'gRPC'})") from e


def close_all() -> None:
    """Close every client of this process (milvus-lite subprocesses stop when their process ends)."""
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
