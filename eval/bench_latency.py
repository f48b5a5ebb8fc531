"""Latency benchmark: search and ask, in process and over HTTP, with 1 and 16 concurrent clients; and for the
streamed /api/ask, the time to its first (citations) event and to its last (done).

    python -m eval.bench_latency            # uses the index in RAG_HOME (built if missing)

Queries are the gold questions (varied, Chinese and English), so no answer is served from a warm cache.
The HTTP figures come from a real `rag serve` subprocess on a free port.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from eval.metrics import percentile
from eval.run import load_gold
from eval.server import served
from rag.settings import PROJECT_ROOT, get_settings


def _stats(ms: list[float]) -> str:
    return f"p50 {percentile(ms, 50):7.1f} ms  p95 {percentile(ms, 95):7.1f} ms  (n={len(ms)})"


def in_process(questions: list[str], clients: int) -> None:
    """Time ``RagService.search`` and ``.ask`` directly."""
    from embeddings import load_embedder
    from rag.service import RagService

    settings = get_settings()
    svc = RagService(settings, load_embedder(settings.embedding))
    svc.index()
    for q in questions[:5]:  # warm-up: first calls pay for lazy initialisation
        svc.ask(q)
    for name, call in (("search", lambda q: svc.search(q)), ("ask", lambda q: svc.ask(q))):
        def timed(q: str, call=call) -> float:
            t0 = time.perf_counter()
            call(q)
            return (time.perf_counter() - t0) * 1000

        with ThreadPoolExecutor(clients) as pool:
            ms = list(pool.map(timed, questions))
        print(f"in-process {name:6} {clients:2} client(s)  {_stats(ms)}")


def over_http(questions: list[str], url: str, clients: int, *, report: bool = True) -> None:
    """Time POST /api/search and /api/ask against a running server."""
    for path, key in (("/api/search", "query"), ("/api/ask", "question")):
        def timed(q: str, path=path, key=key) -> float:
            with httpx.Client(base_url=url, timeout=120) as c:
                t0 = time.perf_counter()
                r = c.post(path, json={key: q})
                elapsed = (time.perf_counter() - t0) * 1000
            r.raise_for_status()
            return elapsed

        with ThreadPoolExecutor(clients) as pool:
            ms = list(pool.map(timed, questions))
        if report:
            print(f"HTTP       {path.split('/')[-1]:6} {clients:2} client(s)  {_stats(ms)}")


def streamed(questions: list[str], url: str, clients: int) -> None:
    """Time POST /api/ask with ``stream: true``: until the citations event is read, and until the done event."""

    def timed(q: str) -> tuple[float, float]:
        with httpx.Client(base_url=url, timeout=120) as c:
            t0 = time.perf_counter()
            first = 0.0
            with c.stream("POST", "/api/ask", json={"question": q, "stream": True}) as r:
                r.raise_for_status()
                event = ""
                for line in r.iter_lines():
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:") and event == "citations" and not first:
                        first = (time.perf_counter() - t0) * 1000
                    elif line.startswith("data:") and event == "done":
                        break
            return first, (time.perf_counter() - t0) * 1000

    with ThreadPoolExecutor(clients) as pool:
        times = list(pool.map(timed, questions))
    print(f"HTTP stream  first event (citations) {clients:2} client(s)  {_stats([f for f, _ in times])}")
    print(f"HTTP stream  last event (done)       {clients:2} client(s)  {_stats([d for _, d in times])}")


def main() -> None:
    """Parse flags and run every combination."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gold", type=Path, default=PROJECT_ROOT / "eval" / "gold.jsonl")
    p.add_argument("--clients", default="1,16")
    args = p.parse_args()
    settings = get_settings()
    subprocess.run([sys.executable, "-m", "rag.cli", "ingest", "--if-missing"], check=True)
    questions = [q.question for q in load_gold(args.gold)]
    print(f"{len(questions)} questions, {os.cpu_count()} cores, index in {settings.home}")
    clients = [int(c) for c in args.clients.split(",")]
    for n in clients:
        in_process(questions, n)
    # Latency under load is measured here, not shedding (that is eval.bench_load): no request may be refused.
    with served({"RAG_MAX_CONCURRENT_REQUESTS": "64"}) as url:
        over_http(questions[:5], url, 1, report=False)  # warm-up
        for n in clients:
            over_http(questions, url, n)
        for n in clients:
            streamed(questions, url, n)


if __name__ == "__main__":
    main()
