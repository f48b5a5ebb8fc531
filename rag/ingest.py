"""Articles in, a persistent hybrid index out: upsert, delete and rebuild, each published atomically."""

from __future__ import annotations

import fcntl
import json
import logging
import shutil
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.model import Embedder
from rag.chunking import chunk_article, embedding_text, make_splitter
from rag.corpus import CorpusError, LoadResult, Problem, load_articles
from rag.index import (
    FORMAT_VERSION,
    MANIFEST_FILE,
    IncompatibleIndexError,
    NoIndexError,
    check_compatible,
    new_build_folder,
    publish,
    read_manifest,
)
from rag.lexical import LexicalIndex
from rag.settings import Settings
from rag.store import DB_FILE, MetadataStore
from rag.tokenize import tokenize
from rag.vectors import VectorIndex, create_vector_index, load_vector_index

log = logging.getLogger(__name__)
VECTOR_BACKEND = "faiss"


@dataclass
class IngestReport:
    """What an ingest did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    skipped: list[str] = field(default_factory=list)  # problems of skipped records
    empty_bodies: list[str] = field(default_factory=list)  # aids indexed by title only
    chunks_embedded: int = 0
    articles_total: int = 0
    chunks_total: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    index: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def _chunk_settings(settings: Settings) -> dict[str, Any]:
    return {"size": settings.chunk_size, "overlap": settings.chunk_overlap, "splitter": "recursive-zh-v1"}


def _vector_kwargs(settings: Settings) -> dict[str, Any]:
    return {
        "kind": settings.vector_index,
        "hnsw_m": settings.hnsw_m,
        "hnsw_ef_construction": settings.hnsw_ef_construction,
        "hnsw_ef_search": settings.hnsw_ef_search,
        "ivf_nlist": settings.ivf_nlist,
        "ivf_nprobe": settings.ivf_nprobe,
    }


def _previous(settings: Settings, embedder: Embedder) -> Path | None:
    """The active build folder to start from, checked against the model and chunking; None if there is none."""
    link = settings.index_dir
    if not link.exists():
        return None
    folder = link.resolve()
    try:
        manifest = read_manifest(folder)
    except FileNotFoundError:
        return None
    check_compatible(manifest, embedder.name, embedder.dim)
    kind = manifest.get("vector_index", {}).get("kind")
    if kind != settings.vector_index:
        raise IncompatibleIndexError(
            f"the index is a {kind!r} vector index, RAG_VECTOR_INDEX says {settings.vector_index!r}. "
            "Run `rag ingest --rebuild PATH` to rebuild it."
        )
    if manifest.get("chunking") != _chunk_settings(settings):
        raise IncompatibleIndexError(
            f"the index was chunked with {manifest.get('chunking')}, the settings say {_chunk_settings(settings)}. "
            "Run `rag ingest --rebuild PATH` to rebuild it."
        )
    return folder


@contextmanager
def _build(
    settings: Settings, embedder: Embedder, rebuild: bool
) -> Iterator[tuple[Path, MetadataStore, VectorIndex | None]]:
    """A temporary build folder holding a copy of the previous index (unless rebuilding).

    Holds an exclusive lock on RAG_HOME for the whole build, so two ingests cannot both start from the same
    index and lose each other's changes; on any failure the folder is removed and nothing is published.
    """
    settings.home.mkdir(parents=True, exist_ok=True)
    with open(settings.home / ".ingest.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        previous = None if rebuild else _previous(settings, embedder)
        tmp = new_build_folder(settings.home)
        store: MetadataStore | None = None
        try:
            vectors: VectorIndex | None = None
            if previous is not None:
                shutil.copy2(previous / DB_FILE, tmp / DB_FILE)
                backend = read_manifest(previous).get("vector_backend", VECTOR_BACKEND)
                vectors = load_vector_index(backend, previous / "dense")
            store = MetadataStore(tmp / DB_FILE)
            yield tmp, store, vectors
        except BaseException:
            if store is not None:
                store.close()
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def _finish(
    tmp: Path, store: MetadataStore, vectors: VectorIndex, settings: Settings, embedder: Embedder, report: IngestReport
) -> None:
    """Write the lexical index, the dense index and the manifest, publish the build, fill in the report's totals."""
    ids, tokens = store.all_tokens()
    LexicalIndex.build(ids, tokens).save(tmp / "lexical")
    vectors.save(tmp / "dense")
    counts = store.counts()
    manifest = {
        "format_version": FORMAT_VERSION,
        "embedding_model": embedder.name,
        "dim": embedder.dim,
        "chunking": _chunk_settings(settings),
        "vector_backend": VECTOR_BACKEND,
        "vector_index": vectors.params(),
        "lexical": {"library": "bm25s", "tokenizer": "jieba-search+userdict", "k1": 1.5, "b": 0.75},
        "corpus_hash": store.corpus_hash(),
        "counts": {**counts, "vectors": len(vectors)},
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if len(vectors) != counts["chunks"]:
        raise RuntimeError(f"index inconsistent: {len(vectors)} vectors for {counts['chunks']} chunks")
    store.close()
    (tmp / MANIFEST_FILE).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    report.articles_total, report.chunks_total = counts["articles"], counts["chunks"]
    report.index = str(publish(tmp, settings.index_dir))


def ingest(
    paths: Iterable[Path | str],
    settings: Settings,
    embedder: Embedder,
    *,
    rebuild: bool = False,
    skip_invalid: bool = False,
    progress: bool | None = None,
) -> IngestReport:
    """Upsert the articles of ``paths`` into the active index (or a new one with ``rebuild``).

    New aids are added, changed articles re-chunked and re-embedded, unchanged ones skipped. Invalid input
    raises :class:`CorpusError` and writes nothing, unless ``skip_invalid``. The new index is built in a
    temporary folder and swapped in atomically, so a failure leaves the previous index in use.
    """
    started = time.perf_counter()
    loaded: LoadResult = load_articles(paths)
    if loaded.problems and not skip_invalid:
        raise CorpusError(loaded.problems)
    report = IngestReport(skipped=[str(p) for p in loaded.problems], empty_bodies=list(loaded.empty_bodies))
    splitter = make_splitter(settings.chunk_size, settings.chunk_overlap)

    with _build(settings, embedder, rebuild) as (tmp, store, vectors):
        known = store.content_hashes()
        todo = []
        for article in loaded.articles:
            if article.aid not in known:
                report.added += 1
                todo.append(article)
            elif known[article.aid] != article.content_hash:
                report.updated += 1
                todo.append(article)
            else:
                report.unchanged += 1
        stale = store.chunk_ids_of(a.aid for a in todo if a.aid in known)

        chunks = [(a, c) for a in todo for c in chunk_article(a, splitter)]
        texts = [embedding_text(a, c) for a, c in chunks]
        t0 = time.perf_counter()
        matrix = embedder.encode_passages(texts, progress=progress)
        report.embed_seconds = time.perf_counter() - t0
        report.chunks_embedded = len(chunks)

        if vectors is None:
            vectors = create_vector_index(VECTOR_BACKEND, embedder.dim, **_vector_kwargs(settings),
                                          train_vectors=matrix)
        vectors.remove(np.asarray(stale, dtype=np.int64))
        by_article: dict[str, list] = {}
        for a, c in chunks:
            by_article.setdefault(a.aid, []).append(c)
        for a in todo:
            cs = by_article.get(a.aid, [])
            store.upsert_article(a, cs, [tokenize(embedding_text(a, c)) for c in cs])
        vectors.add(np.asarray([c.chunk_id for _, c in chunks], dtype=np.int64), matrix)
        _finish(tmp, store, vectors, settings, embedder, report)
    report.seconds = time.perf_counter() - started
    return report


def delete(aids: list[str], settings: Settings, embedder: Embedder) -> IngestReport:
    """Remove articles from all three indexes; unknown aids are an error and nothing is written."""
    started = time.perf_counter()
    if not settings.index_dir.exists():
        raise NoIndexError(settings.index_dir)
    aids = list(dict.fromkeys(aids))
    with _build(settings, embedder, rebuild=False) as (tmp, store, vectors):
        known = store.content_hashes()
        missing = [a for a in aids if a not in known]
        if missing:
            raise CorpusError([Problem("index", None, a, None, "no such article in the index") for a in missing])
        assert vectors is not None
        removed = store.delete_articles(aids)
        vectors.remove(np.asarray(removed, dtype=np.int64))
        report = IngestReport(deleted=len(aids))
        _finish(tmp, store, vectors, settings, embedder, report)
    report.seconds = time.perf_counter() - started
    return report
