"""Ingest benchmark: the bundled corpus end to end, then the index layer alone at 100k and 1M chunks.

    python -m eval.bench_ingest                 # corpus + 100k + 1M synthetic chunks
    python -m eval.bench_ingest --sizes 100000  # quicker
    python -m eval.bench_ingest --articles 5000 # end to end at scale: a synthetic corpus of 5,000 articles

``--articles N`` builds a corpus of N articles from the bundled one (paragraphs of real articles recombined,
at the real articles' lengths, with new aids and dates) and ingests it with the real model, for each precision
in ``--precisions``: in ``--steps`` equal parts, each added to the index of the parts before, so the table
shows whether each part costs the same as the index grows (linear growth) and the totals: passages/s, seconds,
peak memory and the index's size.

The synthetic part uses random unit vectors of dimension 384 (the model is not involved, so the figures
are the index layer's own) and texts made by reshuffling the corpus's sentences, and reports for each
FAISS kind: build seconds, memory added, search p50, and HNSW/IVF recall@10 against the exact flat index.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import re
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import psutil

from rag.corpus import FIELDS, load_articles
from rag.sentences import split_sentences
from rag.settings import Settings, get_settings

DIM = 384


def rss_mb() -> float:
    """Resident memory of this process in MiB."""
    return psutil.Process().memory_info().rss / 2**20


def index_mb(settings: Settings) -> float:
    """Size of the published index of ``settings`` in MiB, from its manifest (every file of the build)."""
    from rag.index import backend_for

    manifest = backend_for(settings.index).manifest(settings.index)
    return 0.0 if manifest is None else sum(f.size for f in manifest.files.values()) / 2**20


def bench_corpus() -> None:
    """Ingest the bundled corpus into a temporary RAG_HOME and print throughput and sizes."""
    from embeddings import load_embedder
    from rag.ingest import ingest

    settings = get_settings()
    embedder = load_embedder(settings.embedding)
    with tempfile.TemporaryDirectory() as tmp:
        s = settings.updated(index={"home": Path(tmp)})
        report = ingest([settings.corpus], s, embedder, rebuild=True, progress=False)
        size = index_mb(s)
        t0 = time.perf_counter()
        again = ingest([settings.corpus], s, embedder, progress=False)
        upsert_s = time.perf_counter() - t0
    rest = report.seconds - report.embed_seconds
    print(f"\n## Bundled corpus ({embedder.name}, {os.cpu_count()} cores)")
    print(f"articles {report.articles_total}, chunks {report.chunks_total}, total {report.seconds:.1f} s")
    secs = report.seconds
    print(f"articles/s {report.articles_total / secs:.2f}, chunks/s {report.chunks_total / secs:.2f}")
    print(f"embedding {report.embed_seconds:.1f} s ({report.embed_seconds / report.seconds:.0%}), "
          f"everything else {rest:.1f} s")
    print(f"index on disk {size:.2f} MiB")
    print(f"re-ingest with nothing changed: {upsert_s:.2f} s ({again.unchanged} unchanged, "
          f"{again.chunks_embedded} re-embedded)")


def synthetic_corpus(n: int, seed: int = 0) -> list[dict[str, str]]:
    """``n`` export records made from the bundled corpus: bodies of real paragraphs, recombined at random to the
    length of a random real article, with new aids (``9…_1``) and dates (2021-2026); titles and accounts of real
    articles. Deterministic for a ``seed``."""
    articles = load_articles([get_settings().corpus]).articles
    paragraphs = [p.strip() for a in articles for p in re.split(r"[\r\n]+", a.text) if len(p.strip()) >= 10]
    rng = random.Random(seed)
    first_day = date(2021, 1, 1)
    records = []
    for i in range(n):
        model = rng.choice(articles)
        body: list[str] = []
        while sum(map(len, body)) < len(model.text):
            body.append(rng.choice(paragraphs))
        records.append({
            FIELDS["aid"]: f"{9_000_000_000 + i}_1",
            FIELDS["title"]: model.title,
            FIELDS["url"]: f"https://example.invalid/synthetic/{i}",
            FIELDS["date"]: (first_day + timedelta(days=rng.randrange(6 * 365))).isoformat(),
            FIELDS["account"]: model.account,
            FIELDS["text"]: "\n".join(body),
        })
    return records


class PeakMemory:
    """The highest resident memory of this process while in the ``with`` block, sampled every 50 ms."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            self.peak_mb = max(self.peak_mb, rss_mb())
            if self._stop.wait(0.05):
                return

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, rss_mb())


def bench_articles(n: int, precisions: list[str], steps: int = 4, progress: bool = False) -> None:
    """Ingest a synthetic corpus of ``n`` articles in ``steps`` parts, per precision; print a table."""
    from embeddings import load_embedder
    from rag.ingest import ingest

    settings = get_settings()
    records = synthetic_corpus(n)
    bounds = [round(n * k / steps) for k in range(steps + 1)]
    print(f"\n## Synthetic corpus: {n:,} articles from the bundled corpus, ingested in {steps} parts "
          f"({os.cpu_count()} cores, load average {'/'.join(f'{x:.2f}' for x in os.getloadavg())})")
    header = (f"{'precision':<9} {'part':>5} {'articles':>9} {'passages':>9} {'seconds':>8} {'passages/s':>10} "
              f"{'s/1k articles':>13} {'peak MiB':>9} {'index MiB':>10}")
    print(header)
    print("-" * len(header))
    for precision in precisions:
        embedder = load_embedder(settings.embedding.model_copy(update={"precision": precision}))
        totals = {"passages": 0, "seconds": 0.0, "peak": 0.0}
        with tempfile.TemporaryDirectory() as tmp:
            s = settings.updated(index={"home": Path(tmp) / "home"})
            for part in range(steps):
                path = Path(tmp) / f"part{part}.json"
                path.write_text(json.dumps(records[bounds[part]:bounds[part + 1]], ensure_ascii=False),
                                encoding="utf-8")
                gc.collect()
                with PeakMemory() as memory:
                    t0 = time.perf_counter()
                    report = ingest([path], s, embedder, rebuild=part == 0, progress=progress)
                    seconds = time.perf_counter() - t0
                passages = report.chunks_embedded + report.sentences_embedded
                totals["passages"] += passages
                totals["seconds"] += seconds
                totals["peak"] = max(totals["peak"], memory.peak_mb)
                added = bounds[part + 1] - bounds[part]
                print(f"{embedder.precision:<9} {part + 1:>5} {report.articles_total:>9,} {passages:>9,} "
                      f"{seconds:>8.1f} {passages / seconds:>10.1f} {1000 * seconds / added:>13.1f} "
                      f"{memory.peak_mb:>9.0f} {index_mb(s):>10.1f}", flush=True)
            print(f"{embedder.precision:<9} {'all':>5} {report.articles_total:>9,} {totals['passages']:>9,} "
                  f"{totals['seconds']:>8.1f} {totals['passages'] / totals['seconds']:>10.1f} "
                  f"{1000 * totals['seconds'] / n:>13.1f} {totals['peak']:>9.0f} "
                  f"{index_mb(s):>10.1f}", flush=True)
        del embedder
    print("(passages = chunks + sentences embedded; each part is an upsert into the index of the parts before, "
          "so equal s/1k articles across parts means time grows linearly)")


def synthetic(n: int, seed: int = 0) -> tuple[np.ndarray, list[list[str]]]:
    """``n`` random unit vectors and token lists made by reshuffling the corpus's sentences."""
    from rag.tokenize import tokenize

    articles = load_articles([get_settings().corpus]).articles
    sentences = [a.text[s:e] for a in articles for s, e in split_sentences(a.text)]
    sentence_tokens = [tokenize(s) for s in sentences]  # jieba once; chunks reuse the token lists
    rng = random.Random(seed)
    docs = []
    for _ in range(n):
        picked = rng.sample(range(len(sentence_tokens)), 5)
        docs.append([t for i in picked for t in sentence_tokens[i]])
    x = np.random.default_rng(seed).standard_normal((n, DIM), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x, docs


def bench_scale(n: int, kinds: list[str], queries: int = 200, hnsw: dict | None = None) -> None:
    """Build each index kind over ``n`` synthetic chunks; time search; HNSW/IVF recall@10 vs flat."""
    from rag.index.local.lexical import LexicalIndex
    from rag.index.local.vectors import FaissIndex

    print(f"\n## {n:,} synthetic chunks (dim {DIM})")
    x, docs = synthetic(n)
    q = x[np.random.default_rng(1).choice(n, queries, replace=False)] + 0.05 * np.random.default_rng(2) \
        .standard_normal((queries, DIM), dtype=np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    ids = np.arange(n, dtype=np.int64)

    gc.collect()
    m0, t0 = rss_mb(), time.perf_counter()
    base = get_settings().index
    lex = LexicalIndex.build(ids.tolist(), docs, k1=base.bm25_k1, b=base.bm25_b)
    build = time.perf_counter() - t0
    lat = []
    for d in docs[:queries]:
        t = time.perf_counter()
        lex.search(d[:4], 10)
        lat.append((time.perf_counter() - t) * 1000)
    print(f"bm25s          build {build:7.1f} s  memory +{rss_mb() - m0:7.0f} MiB  search p50 {np.median(lat):7.2f} ms")
    del lex, docs
    gc.collect()

    truth = None
    for kind in kinds:
        gc.collect()
        m0, t0 = rss_mb(), time.perf_counter()
        # At 1M the default efConstruction=200 takes most of an hour on 2 cores; 40 is FAISS's own default.
        big = n > 200_000
        params = hnsw or {"hnsw_m": 16 if big else 32, "hnsw_ef_construction": 40 if big else 200,
                          "hnsw_ef_search": 128}
        config = base.model_copy(update={"vector_index": kind, "ivf_nprobe": 32, **params})
        ix = FaissIndex.create(DIM, config, train_vectors=x[: min(n, 100_000)])
        ix.add(ids, x)
        build = time.perf_counter() - t0
        mem = rss_mb() - m0
        lat, found = [], []
        for row in q:
            t = time.perf_counter()
            _, got = ix.search(row[None, :], 10)
            lat.append((time.perf_counter() - t) * 1000)
            found.append(got[0])
        found = np.array(found)
        if kind == "flat":
            truth = found
        recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth, strict=True)]) \
            if truth is not None else float("nan")
        # Each query is a stored vector plus noise: finding that vector is the "near-duplicate" recall@1.
        source = np.mean(found[:, 0] == truth[:, 0]) if truth is not None else float("nan")
        print(f"faiss {kind:8} build {build:7.1f} s  memory +{mem:7.0f} MiB  search p50 {np.median(lat):7.2f} ms  "
              f"p95 {np.percentile(lat, 95):7.2f} ms  recall@10 vs flat {recall:.3f}  recall@1 {source:.3f}  "
              f"{ix.params()}")
        del ix
    del x


def main() -> None:
    """Parse flags and run."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="100000,1000000", help="comma-separated synthetic sizes ('' to skip)")
    p.add_argument("--kinds", default="flat,hnsw,ivf")
    p.add_argument("--skip-corpus", action="store_true")
    p.add_argument("--hnsw", default="", help="M,efConstruction,efSearch (default: 32,200,128; 16,40,128 at 1M)")
    p.add_argument("--articles", type=int, default=0,
                   help="only ingest a synthetic corpus of this many articles (per precision), nothing else")
    p.add_argument("--precisions", default="", help="with --articles: comma-separated (default: the configured one)")
    p.add_argument("--steps", type=int, default=4, help="with --articles: parts the corpus is ingested in")
    p.add_argument("--progress", action="store_true", help="with --articles: show the progress bar")
    args = p.parse_args()
    if args.articles:
        precisions = [x.strip() for x in args.precisions.split(",") if x.strip()]
        bench_articles(args.articles, precisions or [get_settings().embedding.precision], max(1, args.steps),
                       progress=args.progress)
        return
    if not args.skip_corpus:
        bench_corpus()
    hnsw = None
    if args.hnsw:
        m, efc, efs = (int(x) for x in args.hnsw.split(","))
        hnsw = {"hnsw_m": m, "hnsw_ef_construction": efc, "hnsw_ef_search": efs}
    for n in [int(s) for s in args.sizes.split(",") if s]:
        bench_scale(n, args.kinds.split(","), hnsw=hnsw)


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
