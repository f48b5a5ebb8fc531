"""Index backends at scale: the local folder (FAISS, bm25s, SQLite) against Milvus, through the same index seam.

    python -m eval.bench_backends                                # 100k and 1M chunks, local and Milvus
    python -m eval.bench_backends --sizes 100000 --kinds flat,ivf
    python -m eval.bench_backends --milvus-uri http://127.0.0.1:19530 --kinds hnsw   # a Milvus server

For each size, backend and vector index kind it writes synthetic articles through ``Backend.writer`` (what
``rag ingest`` does after embedding) and prints: insert throughput (chunks/s, commit included), search p50/p95
without and with filters (an account and a month), recall@10 against exact search (with the same filter),
BM25 search p50, memory (this process for the local backend; the milvus-lite subprocess for Milvus) and disk.

Realistic vectors: uniform random 384-d vectors make every approximate index look broken (all points almost
equidistant). Here every synthetic chunk is a mix of two real embeddings of the bundled corpus (its chunks and
sentences, taken from the local index under RAG_HOME, built first if missing) plus noise drawn with the real
vectors' covariance, renormalised; queries are drawn the same way and are not in the index. Token lists are
reshuffled corpus sentences; each article has ten chunks, a date in 2025 and one of 200 accounts; no sentence
vectors are written (the chunks are what is searched).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from rag.index import BuildSpec, IndexedArticle, backend_for
from rag.records import Article, Chunk, Filters
from rag.settings import IndexSettings, Settings, get_settings

CHUNKS_PER_ARTICLE = 10
ACCOUNTS = 200
FILTER = Filters(account="account-007", date_from="2025-03-01", date_to="2025-03-31")
SPEC_CHUNKING = {"size": 300, "overlap": 60, "splitter": "bench"}


# --- data ----------------------------------------------------------------------------------------------------------
def real_embeddings(settings: Settings) -> tuple[np.ndarray, list[list[str]]]:
    """The corpus's chunk and sentence vectors and its sentences' tokens (indexing the corpus first if needed)."""
    from rag.index.local import LocalBackend
    from rag.sentences import split_sentences
    from rag.tokenize import tokenize

    config = settings.index.model_copy(update={"backend": "local"})
    if LocalBackend().version(config) is None:
        from embeddings import load_embedder
        from rag.ingest import ingest

        print("indexing the bundled corpus for its embeddings …", flush=True)
        ingest([settings.corpus], settings.updated(index={"backend": "local"}), load_embedder(settings.embedding))
    m = LocalBackend().manifest(config)
    index = LocalBackend().open(config, BuildSpec(embedding_model=m.embedding_model, dim=m.dim, tokenizer=m.tokenizer))
    ids = index.vectors.ids()
    vectors = [np.vstack([index.vectors.index.reconstruct(int(i)) for i in ids])]
    articles = index.articles(index.store.content_hashes())
    vectors += [s.vectors for s in index.sentences(articles).values()]
    sentences = [a.text[s:e] for a in articles.values() for s, e in split_sentences(a.text)]
    return np.vstack(vectors).astype(np.float32), [t for t in (tokenize(s) for s in sentences) if t]


class Generator:
    """Synthetic embeddings that keep the real ones' structure: mixes of two real vectors plus correlated noise."""

    def __init__(self, base: np.ndarray, noise: float = 0.6):
        self.base = base
        centred = base - base.mean(axis=0)
        _, sv, vt = np.linalg.svd(centred, full_matrices=False)
        # Noise with the real vectors' covariance (their principal axes and spreads), scaled by ``noise``.
        self.axes = (sv[:, None] * vt) / np.sqrt(len(base)) * noise

    def draw(self, n: int, seed: int) -> np.ndarray:
        """``n`` unit vectors."""
        rng = np.random.default_rng(seed)
        out = np.empty((n, self.base.shape[1]), dtype=np.float32)
        for lo in range(0, n, 100_000):
            m = min(100_000, n - lo)
            i, j = rng.integers(len(self.base), size=m), rng.integers(len(self.base), size=m)
            a = rng.uniform(0.5, 1.0, size=(m, 1)).astype(np.float32)
            x = a * self.base[i] + (1 - a) * self.base[j]
            x += rng.standard_normal((m, len(self.axes)), dtype=np.float32) @ self.axes
            out[lo : lo + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
        return out


def articles(x: np.ndarray, sentence_tokens: list[list[str]], seed: int = 0) -> Iterator[IndexedArticle]:
    """Synthetic articles of CHUNKS_PER_ARTICLE chunks over the rows of ``x``."""
    rng = random.Random(seed)
    empty = np.zeros((0, x.shape[1]), dtype=np.float32)
    for a, lo in enumerate(range(0, len(x), CHUNKS_PER_ARTICLE)):
        aid = f"bench_{a}"
        rows = range(lo, min(lo + CHUNKS_PER_ARTICLE, len(x)))
        tokens = [[t for _ in range(3) for t in rng.choice(sentence_tokens)] for _ in rows]
        texts = [" ".join(t) for t in tokens]
        text = "\n".join(texts)
        chunks, start = [], 0
        for p, (r, t) in enumerate(zip(rows, texts, strict=True)):
            chunks.append(Chunk(chunk_id=r, aid=aid, position=p, start=start, end=start + len(t), text=t))
            start += len(t) + 1
        day = 1 + (a * 7919) % 365
        date = time.strftime("%Y-%m-%d", time.gmtime(1735689600 + 86400 * (day - 1)))
        yield IndexedArticle(article=Article(aid=aid, title=aid, url=f"https://example.org/{aid}", date=date,
                                             account=f"account-{a % ACCOUNTS:03d}", text=text, content_hash=aid),
                             chunks=chunks, tokens=tokens, vectors=x[lo : lo + len(rows)], sentences=[],
                             sentence_vectors=empty)


def exact_top(x: np.ndarray, q: np.ndarray, k: int, allowed: np.ndarray | None = None) -> np.ndarray:
    """Exact top-``k`` row ids by inner product (restricted to ``allowed`` rows)."""
    best_s = np.full((len(q), k), -np.inf, dtype=np.float32)
    best_i = np.full((len(q), k), -1, dtype=np.int64)
    rows = np.arange(len(x)) if allowed is None else allowed
    for lo in range(0, len(rows), 200_000):
        part = rows[lo : lo + 200_000]
        s = q @ x[part].T
        s_all = np.concatenate([best_s, s], axis=1)
        i_all = np.concatenate([best_i, np.broadcast_to(part, s.shape)], axis=1)
        top = np.argsort(-s_all, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(s_all, top, 1), np.take_along_axis(i_all, top, 1)
    return best_i


def allowed_rows(n: int) -> np.ndarray:
    """The chunk ids (= rows) that FILTER keeps, computed as ``articles`` assigns accounts and dates."""
    out = []
    for a, lo in enumerate(range(0, n, CHUNKS_PER_ARTICLE)):
        day = 1 + (a * 7919) % 365
        if a % ACCOUNTS == 7 and 59 < day <= 90:  # March 2025
            out += range(lo, min(lo + CHUNKS_PER_ARTICLE, n))
    return np.asarray(out, dtype=np.int64)


# --- measuring -----------------------------------------------------------------------------------------------------
def rss_mb(milvus: bool) -> float:
    """Resident memory in MiB: of this process, or of its milvus-lite subprocesses."""
    me = psutil.Process()
    if not milvus:
        return me.memory_info().rss / 2**20
    return sum(c.memory_info().rss for c in me.children(recursive=True) if "milvus" in c.name()) / 2**20


def disk_mb(path: Path) -> float:
    """Size of the files under ``path`` in MiB."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def timed(fn: Any, queries: Any) -> tuple[list[float], list[Any]]:
    lat, out = [], []
    for q in queries:
        t = time.perf_counter()
        out.append(fn(q))
        lat.append((time.perf_counter() - t) * 1000)
    return lat, out


def recall(found: list[list[tuple[int, float]]], truth: np.ndarray) -> float:
    return float(np.mean([len({c for c, _ in f} & set(t.tolist()) - {-1}) / max(1, int((t >= 0).sum()))
                          for f, t in zip(found, truth, strict=True)]))


def run_one(config: IndexSettings, x: np.ndarray, q: np.ndarray, truth: np.ndarray, truth_f: np.ndarray,
            sentence_tokens: list[list[str]], folder: Path, nprobes: list[int]) -> dict[str, Any]:
    """Write, open and search one backend/kind; returns the figures."""
    milvus = config.backend == "milvus"
    spec = BuildSpec(embedding_model="bench", dim=x.shape[1], tokenizer="bench", chunking=SPEC_CHUNKING,
                     vector_kind=config.vector_index)
    backend = backend_for(config)
    gc.collect()
    m0 = rss_mb(milvus)
    t0 = time.perf_counter()
    with backend.writer(config, spec, rebuild=True) as w:
        for entry in articles(x, sentence_tokens):
            w.upsert(entry)
        w.commit()
    seconds = time.perf_counter() - t0
    index = backend.open(config, spec)
    for v in q[:20]:  # warm up (milvus-lite loads segments on first use)
        index.search_dense(v, 10)
    gc.collect()
    figures: dict[str, Any] = {"insert_s": seconds, "chunks_per_s": len(x) / seconds}
    lat, found = timed(lambda v: index.search_dense(v, 10), q)
    figures |= {"p50": np.percentile(lat, 50), "p95": np.percentile(lat, 95), "recall": recall(found, truth)}
    lat, found = timed(lambda v: index.search_dense(v, 10, FILTER), q)
    figures |= {"p50_f": np.percentile(lat, 50), "p95_f": np.percentile(lat, 95), "recall_f": recall(found, truth_f)}
    rng = random.Random(3)
    lat, _ = timed(lambda t: index.search_lexical(t, 10), [rng.choice(sentence_tokens)[:6] for _ in range(len(q))])
    figures |= {"bm25_p50": np.percentile(lat, 50), "memory": rss_mb(milvus) - (0 if milvus else m0),
                "disk": disk_mb(folder), "params": index.manifest.vector_index}
    figures["probes"] = [probe(index, n, q, truth, truth_f) for n in nprobes] if config.vector_index == "ivf" else []
    index.close()
    return figures


def probe(index: Any, nprobe: int, q: np.ndarray, truth: np.ndarray, truth_f: np.ndarray) -> dict[str, Any]:
    """Search figures of an open IVF index at another ``nprobe`` (no rebuild: it is a search-time parameter)."""
    if hasattr(index, "_dense_params"):  # Milvus: the search parameters sent with every request
        index._dense_params["params"]["nprobe"] = nprobe
    else:  # the local backend's FAISS index
        import faiss

        faiss.downcast_index(index.vectors.index.index).nprobe = nprobe
    lat, found = timed(lambda v: index.search_dense(v, 10), q)
    lat_f, found_f = timed(lambda v: index.search_dense(v, 10, FILTER), q)
    return {"nprobe": nprobe, "p50": np.percentile(lat, 50), "p95": np.percentile(lat, 95),
            "recall": recall(found, truth), "p50_f": np.percentile(lat_f, 50), "p95_f": np.percentile(lat_f, 95),
            "recall_f": recall(found_f, truth_f)}


def run_vectors_only(config: IndexSettings, x: np.ndarray, q: np.ndarray, truth: np.ndarray, truth_f: np.ndarray,
                     folder: Path) -> dict[str, Any]:
    """The local backend's FAISS index alone (no SQLite, no bm25s): what its dense search costs and finds."""
    from rag.index.local.vectors import FaissIndex

    gc.collect()
    m0, t0 = rss_mb(False), time.perf_counter()
    # k-means wants ≥ 39 points a list (FAISS samples up to 256): many lists need more than the usual 100k.
    train = x[: min(len(x), max(100_000, 64 * config.ivf_nlist))]
    ix = FaissIndex.create(x.shape[1], config, train_vectors=train)
    ix.add(np.arange(len(x), dtype=np.int64), x)
    seconds = time.perf_counter() - t0
    allowed = allowed_rows(len(x))
    figures: dict[str, Any] = {"insert_s": seconds, "chunks_per_s": len(x) / seconds}

    def search(v: np.ndarray, only: np.ndarray | None = None) -> list[tuple[int, float]]:
        scores, ids = ix.search(v[None, :], 10, only)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    lat, found = timed(search, q)
    figures |= {"p50": np.percentile(lat, 50), "p95": np.percentile(lat, 95), "recall": recall(found, truth)}
    lat, found = timed(lambda v: search(v, allowed), q)
    figures |= {"p50_f": np.percentile(lat, 50), "p95_f": np.percentile(lat, 95), "recall_f": recall(found, truth_f)}
    ix.save(folder)
    figures |= {"bm25_p50": float("nan"), "memory": rss_mb(False) - m0, "disk": disk_mb(folder),
                "params": ix.params()}
    return figures


def main() -> None:
    """Parse flags and run."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="100000,1000000", help="comma-separated numbers of chunks")
    p.add_argument("--backends", default="local,milvus")
    p.add_argument("--kinds", default="flat,hnsw,ivf", help="vector index kinds (hnsw is skipped on milvus-lite)")
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--milvus-uri", default="", help="a Milvus server (default: a milvus-lite file in a temp folder)")
    p.add_argument("--hnsw", default="", help="M,efConstruction,efSearch (default: the settings')")
    p.add_argument("--ivf", default="", help="nlist,nprobe (nlist 0 = 4·√n lists; default: the settings')")
    p.add_argument("--nprobes", default="", help="IVF through a backend: also search at these nprobe values")
    p.add_argument("--noise", type=float, default=0.6, help="scale of the correlated noise (see the docstring)")
    p.add_argument("--faiss-threads", type=int, default=1,
                   help="FAISS threads (1: on a shared 2-core machine OpenMP waits on busy cores dominate)")
    p.add_argument("--local-vectors-only", action="store_true",
                   help="for the local backend, build and search its FAISS index alone (no SQLite, no bm25s: fast)")
    args = p.parse_args()
    import faiss

    faiss.omp_set_num_threads(args.faiss_threads)
    settings = get_settings()
    base, sentence_tokens = real_embeddings(settings)
    gen = Generator(base, args.noise)
    overrides: dict[str, Any] = {}
    if args.hnsw:
        m, efc, efs = (int(v) for v in args.hnsw.split(","))
        overrides |= {"hnsw_m": m, "hnsw_ef_construction": efc, "hnsw_ef_search": efs}
    if args.ivf:
        nlist, nprobe = (int(v) for v in args.ivf.split(","))
        overrides |= {"ivf_nlist": nlist, "ivf_nprobe": nprobe}
    print(f"# {os.cpu_count()} cores, FAISS threads {args.faiss_threads}; {len(base)} real vectors mixed "
          f"(noise {args.noise}); {args.queries} queries; filter {FILTER.model_dump(mode='json', exclude_none=True)}")
    for n in [int(s) for s in args.sizes.split(",") if s]:
        x, q = gen.draw(n, seed=1), gen.draw(args.queries, seed=2)
        allowed = allowed_rows(n)
        truth, truth_f = exact_top(x, q, 10), exact_top(x, q, 10, allowed)
        sims = (q @ x[truth[:, 0]].T).diagonal()
        print(f"\n## {n:,} chunks ({len(allowed):,} pass the filter); a query's nearest chunk has cosine "
              f"{np.median(sims):.3f} (median)")
        print("| backend | index | insert chunks/s | search p50 / p95 ms | filtered p50 / p95 ms | recall@10 "
              "| filtered recall@10 | BM25 p50 ms | memory MiB | disk MiB | parameters |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for backend in args.backends.split(","):
            for kind in args.kinds.split(","):
                lite = backend == "milvus" and not args.milvus_uri
                if lite and kind == "hnsw":
                    continue
                with tempfile.TemporaryDirectory(dir=settings.home) as tmp:
                    config = settings.index.model_copy(update={
                        "home": Path(tmp), "backend": backend, "vector_index": kind, "milvus_uri": args.milvus_uri,
                        "milvus_collection": f"bench_{n}_{kind}", **overrides})
                    if backend == "local" and args.local_vectors_only:
                        f = run_vectors_only(config, x, q, truth, truth_f, Path(tmp))
                    else:
                        f = run_one(config, x, q, truth, truth_f, sentence_tokens, Path(tmp),
                                    [int(v) for v in args.nprobes.split(",") if v])
                    if backend == "milvus" and not lite:
                        from rag.index.milvus import connection, layout

                        client = connection.connect(config)
                        for g in layout.generations(client, config.milvus_collection):
                            layout.drop_generation(client, config.milvus_collection, g)
                    if lite:
                        from milvus_lite.server_manager import server_manager_instance

                        from rag.index.milvus import connection

                        connection.close_all()
                        server_manager_instance.release_all()  # stop it: the next run measures its own memory
                params = {k: v for k, v in f["params"].items() if k not in ("kind", "engine")}
                label = " (FAISS alone)" if backend == "local" and args.local_vectors_only else ""
                print(f"| {backend}{' (lite)' if lite else ''}{label} | {kind} | {f['chunks_per_s']:,.0f} "
                      f"| {f['p50']:.2f} / {f['p95']:.2f} | {f['p50_f']:.2f} / {f['p95_f']:.2f} | {f['recall']:.3f} "
                      f"| {f['recall_f']:.3f} | {f['bm25_p50']:.2f} | {f['memory']:,.0f} | {f['disk']:,.0f} "
                      f"| {params} |", flush=True)
                for r in f.get("probes", []):
                    print(f"| {backend}{' (lite)' if lite else ''} | {kind}, nprobe {r['nprobe']} | – "
                          f"| {r['p50']:.2f} / {r['p95']:.2f} | {r['p50_f']:.2f} / {r['p95_f']:.2f} "
                          f"| {r['recall']:.3f} | {r['recall_f']:.3f} | – | – | – | (search-time) |", flush=True)
                gc.collect()
        del x


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
