"""A real `rag serve` on a free loopback port, for the benchmarks that measure it over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

# Loading the model and opening the index take seconds; a first run also converts the model.
START_SECONDS = 300


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(env: dict[str, str] | None = None) -> Iterator[str]:
    """Start `rag serve` over RAG_HOME's index with ``env`` added to this environment; yield its URL once
    /healthz says ok, and stop it at the end. Exits with a sentence when the server does not come up."""
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {}), "RAG_HOST": "127.0.0.1", "RAG_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "serve"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_SECONDS
        while True:
            if proc.poll() is not None:
                raise SystemExit("`rag serve` exited; is there an index (`rag ingest`)?")
            if time.monotonic() > deadline:
                raise SystemExit(f"`rag serve` did not start within {START_SECONDS} s")
            try:
                health = httpx.get(f"{url}/healthz", timeout=5)
            except httpx.TransportError:
                time.sleep(0.5)
                continue
            if health.status_code != 200:
                raise SystemExit(f"the server is not healthy: {health.json().get('detail')}")
            break
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
