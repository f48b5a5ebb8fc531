"""Ingest benchmark: the bundled corpus end to end, then the index layer alone at 100k and 1M chunks.

    python -m eval.bench_ingest                 # corpus + 100k + 1M synthetic chunks
    python -m eval.bench_ingest --sizes 100000  # quicker

The synthetic part uses random unit vectors of dimension 384 (the model is not involved, so the figures
are the index layer's own) and texts made by reshuffling the corpus's sentences, and reports for each
FAISS kind: build seconds, memory added, search p50, and HNSW/IVF recall@10 against the exact flat index.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

from rag.corpus import load_articles
from rag.sentences import split_sentences
from rag.settings import get_settings

DIM = 384


def rss_mb() -> float:
    """Resident memory of this process in MiB."""
    return psutil.Process().memory_info().rss / 2**20


def folder_mb(path: Path) -> float:
    """Size of the files under ``path`` in MiB."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def bench_corpus() -> None:
    """Ingest the bundled corpus into a temporary RAG_HOME and print throughput and sizes."""
    from embeddings import load_embedder
    from rag.ingest import ingest

    settings = get_settings()
    embedder = load_embedder(settings.embedding)
    with tempfile.TemporaryDirectory() as tmp:
        s = settings.updated(index={"home": Path(tmp)})
        report = ingest([settings.corpus], s, embedder, rebuild=True, progress=False)
        size = folder_mb(Path(report.index))
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
    args = p.parse_args()
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
