"""Load benchmark: many concurrent clients against a real `rag serve`, on the loopback interface only.

For search and ask, at 1, 8, 32 and 64 clients: throughput, p50/p95/p99 latency of the answered requests,
how many were shed (503 + Retry-After, on purpose: the server serves RAG_MAX_CONCURRENT_REQUESTS at once) and
how many failed otherwise (must be 0). Each cell runs for ``--seconds`` and at most ``--max-requests``; clients
send the gold questions in turn and, when shed, wait as Retry-After says (as a well-behaved client does).

    python -m eval.bench_load                      # starts `rag serve` over RAG_HOME on a free loopback port
    python -m eval.bench_load --cap 1000           # the same with (practically) no concurrency cap
    python -m eval.bench_load --url http://127.0.0.1:8000   # an already running server (loopback only)

Timings depend on the machine and on what else runs on it: the script prints its figures so they can be
re-run on a quiet machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import numpy as np

from eval.server import served

GOLD = Path(__file__).parent / "gold.jsonl"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass
class Cell:
    """What one endpoint did at one number of clients."""

    endpoint: str
    clients: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # answered (200) requests, in seconds
    shed: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def row(self) -> dict[str, object]:
        ms = np.array(self.latencies) * 1000 if self.latencies else np.zeros(1)
        return {"endpoint": self.endpoint, "clients": self.clients, "answered": len(self.latencies),
                "per_second": round(len(self.latencies) / self.seconds, 1) if self.seconds else 0.0,
                "p50_ms": round(float(np.percentile(ms, 50)), 1), "p95_ms": round(float(np.percentile(ms, 95)), 1),
                "p99_ms": round(float(np.percentile(ms, 99)), 1), "shed_503": self.shed,
                "errors": sum(self.errors.values()), "error_kinds": self.errors}


async def run_cell(url: str, endpoint: str, clients: int, questions: list[str], seconds: float,
                   max_requests: int) -> Cell:
    """``clients`` concurrent clients, each on its own keep-alive connection, for ``seconds`` or ``max_requests``."""
    cell = Cell(endpoint, clients)
    path, key = ("/api/search", "query") if endpoint == "search" else ("/api/ask", "question")
    sent = 0
    stop = time.monotonic() + seconds

    async def client(i: int, http: aiohttp.ClientSession) -> None:
        nonlocal sent
        n = i
        while time.monotonic() < stop and sent < max_requests:
            sent += 1
            question = questions[n % len(questions)]
            n += clients
            t0 = time.perf_counter()
            try:
                async with http.post(path, json={key: question}) as r:
                    status, retry_after = r.status, r.headers.get("retry-after", "1")
                    text = await r.text()
            except (aiohttp.ClientError, TimeoutError) as e:
                cell.errors[type(e).__name__] = cell.errors.get(type(e).__name__, 0) + 1
                continue
            took = time.perf_counter() - t0
            try:  # every answer of the API is JSON; anything else (a proxy's page?) is counted by its status alone
                body = json.loads(text)
            except ValueError:
                body = {}
            if status == 200:
                cell.latencies.append(took)
            elif status == 503 and body.get("code") == "overloaded":
                cell.shed += 1
                await asyncio.sleep(float(retry_after))
            else:
                kind = f"{status} {body.get('code', '')}"
                cell.errors[kind] = cell.errors.get(kind, 0) + 1

    # aiohttp, not httpx: on two cores the load generator shares the CPU with the server, and httpx's connection
    # pool spent more CPU than the server at 64 clients, so its own queue showed up as seconds of "server" p99.
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(base_url=url, connector=connector, timeout=timeout) as http:
        started = time.monotonic()
        await asyncio.gather(*(client(i, http) for i in range(clients)))
        cell.seconds = time.monotonic() - started
    return cell


def table(rows: list[dict[str, object]]) -> str:
    lines = ["| endpoint | clients | answered/s | p50 ms | p95 ms | p99 ms | shed (503) | errors |",
             "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['endpoint']} | {r['clients']} | {r['per_second']} | {r['p50_ms']} | {r['p95_ms']} | "
              f"{r['p99_ms']} | {r['shed_503']} | {r['errors']} |" for r in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running server on the loopback interface (default: start one)")
    parser.add_argument("--clients", default="1,8,32,64")
    parser.add_argument("--endpoints", default="search,ask")
    parser.add_argument("--seconds", type=float, default=10.0, help="per cell")
    parser.add_argument("--max-requests", type=int, default=3000, help="per cell")
    parser.add_argument("--cap", type=int, help="RAG_MAX_CONCURRENT_REQUESTS of the started server")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    questions = [json.loads(line)["question"] for line in GOLD.read_text(encoding="utf-8").splitlines() if line]
    if args.url and urlsplit(args.url).hostname not in LOOPBACK:
        raise SystemExit("load is only ever sent to the loopback interface (127.0.0.1, localhost, ::1)")
    env = {"RAG_MAX_CONCURRENT_REQUESTS": str(args.cap)} if args.cap is not None else None
    rows = []
    with nullcontext(args.url) if args.url else served(env) as url:
        for endpoint in args.endpoints.split(","):
            asyncio.run(run_cell(url, endpoint, 1, questions, 2.0, 20))  # warm-up
            for clients in (int(c) for c in args.clients.split(",")):
                cell = asyncio.run(run_cell(url, endpoint, clients, questions, args.seconds, args.max_requests))
                rows.append(cell.row())
                if not args.json:
                    print(table(rows[-1:]).splitlines()[-1], flush=True)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        cap = args.cap if args.cap is not None else "default"
        print(f"\n{os.cpu_count()} cores; cap {cap}; {args.seconds:g} s per cell\n\n{table(rows)}")
    return 1 if any(r["errors"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
