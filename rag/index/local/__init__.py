"""The local index backend: one folder of SQLite (metadata), FAISS (vectors) and bm25s (BM25), per build."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import numpy as np

from rag.index.base import (
    BuildSpec,
    DamagedIndexError,
    IndexedArticle,
    Manifest,
    NoIndexError,
    SentenceVectors,
    corpus_hash,
    with_search_settings,
)
from rag.index.local import folder
from rag.index.local.integrity import Verifier, digest_build
from rag.index.local.lexical import LexicalIndex
from rag.index.local.store import MetadataStore
from rag.index.local.vectors import FaissIndex
from rag.records import Article, Chunk, Filters
from rag.settings import IndexSettings

# Filter → allowed chunk ids, remembered for a few recent filters (dense and lexical search share one lookup).
_ALLOWED_CACHE = 64


@contextmanager
def _reading_metadata() -> Iterator[None]:
    """SQLite errors while reading a published build mean a damaged file (it is never written again)."""
    try:
        yield
    except sqlite3.DatabaseError as e:
        raise DamagedIndexError(folder.part(folder.DB_FILE), f"cannot be read ({e})") from None


class LocalIndex:
    """One published build, loaded for searching."""

    def __init__(self, build: Path, manifest: Manifest, store: MetadataStore, vectors: FaissIndex,
                 lexical: LexicalIndex):
        self.build = build
        self.manifest = manifest
        self.store = store
        self.vectors = vectors
        self.lexical = lexical
        self._allowed: dict[Filters, np.ndarray] = {}

    @classmethod
    def load(cls, build: Path, manifest: Manifest, config: IndexSettings) -> LocalIndex:
        """Load a verified build, searching as ``config`` says now. A part that still cannot be read is reported as
        damage, naming it."""
        def vectors_for_search(path: Path) -> FaissIndex:
            return FaissIndex.load(path, partial(with_search_settings, ef_search=config.hnsw_ef_search,
                                                 nprobe=config.ivf_nprobe))

        parts = {}
        for name, loader in ((folder.DENSE_DIR, vectors_for_search), (folder.LEXICAL_DIR, LexicalIndex.load)):
            try:
                parts[name] = loader(build / name)
            except Exception as e:  # noqa: BLE001 — FAISS, numpy and bm25s each fail in their own way
                raise DamagedIndexError(folder.part(name), f"cannot be read ({type(e).__name__}: {e})") from None
        store = MetadataStore(build / folder.DB_FILE, readonly=True)
        with _reading_metadata():
            counts = store.counts()
        vectors, lexical = parts[folder.DENSE_DIR], parts[folder.LEXICAL_DIR]
        if not len(vectors) == len(lexical) == counts["chunks"] == manifest.counts.get("chunks"):
            store.close_all()
            raise DamagedIndexError(folder.part(), f"holds {len(vectors)} vectors, {len(lexical)} BM25 documents and "
                                                   f"{counts['chunks']} chunks; they must be equal")
        return cls(build, manifest, store, vectors, lexical)

    def _allowed_ids(self, filters: Filters | None) -> np.ndarray | None:
        if filters is None or filters.is_empty():
            return None
        ids = self._allowed.get(filters)
        if ids is None:
            with _reading_metadata():
                ids = np.asarray(self.store.filter_chunk_ids(filters), dtype=np.int64)
            # Requests run on several threads: two may evict at once, so an entry already gone is no error.
            while len(self._allowed) >= _ALLOWED_CACHE:
                try:
                    self._allowed.pop(next(iter(self._allowed)), None)
                except (StopIteration, RuntimeError):  # emptied, or changed while we looked
                    break
            self._allowed[filters] = ids
        return ids

    def search_dense(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> list[tuple[int, float]]:
        """Up to ``k`` (chunk_id, cosine) pairs, best first, filtered inside FAISS before the cut."""
        allowed = self._allowed_ids(filters)
        if len(self.vectors) == 0 or (allowed is not None and len(allowed) == 0):
            return []
        scores, ids = self.vectors.search(vector[None, :], k, allowed)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def search_lexical(self, tokens: Sequence[str], k: int,
                       filters: Filters | None = None) -> list[tuple[int, float]]:
        """Up to ``k`` (chunk_id, BM25) pairs with a positive score, best first, filtered before the cut."""
        allowed = self._allowed_ids(filters)
        if allowed is not None and len(allowed) == 0:
            return []
        return self.lexical.search(tokens, k, allowed)

    def documents(self) -> int:
        """Chunks in the BM25 index."""
        return len(self.lexical)

    def document_frequency(self, tokens: Sequence[str]) -> list[int]:
        """How many chunks contain each token."""
        return self.lexical.document_frequency(tokens)

    def vocabulary(self) -> list[str]:
        """Every lexical token of the index."""
        return self.lexical.vocabulary()

    def chunks(self, chunk_ids: Iterable[int]) -> dict[int, Chunk]:
        """chunk_id → Chunk."""
        with _reading_metadata():
            return self.store.chunks(chunk_ids)

    def articles(self, aids: Iterable[str]) -> dict[str, Article]:
        """aid → Article."""
        with _reading_metadata():
            return self.store.articles(aids)

    def sentences(self, aids: Iterable[str]) -> dict[str, SentenceVectors]:
        """aid → the article's embedded sentences."""
        with _reading_metadata():
            found = self.store.sentences(aids)
        return {aid: SentenceVectors(spans, vectors) for aid, (spans, vectors) in found.items()}

    def counts(self) -> dict[str, int]:
        """Articles, chunks, sentences, vectors and lexical documents in this build."""
        with _reading_metadata():
            stored = self.store.counts()
        return {**stored, "vectors": len(self.vectors), "lexical_docs": len(self.lexical)}

    def accounts(self) -> list[str]:
        """Distinct account names."""
        with _reading_metadata():
            return self.store.accounts()

    def close(self) -> None:
        """Close the SQLite connections of every thread (FAISS and BM25 are in memory)."""
        self.store.close_all()


class LocalWriter:
    """An ingest transaction on a copy of the active build, published by :meth:`commit`."""

    def __init__(self, config: IndexSettings, spec: BuildSpec, tmp: Path, previous: Path | None):
        self.config = config
        self.spec = spec
        self.tmp = tmp
        if previous is not None:
            shutil.copy2(previous / folder.DB_FILE, tmp / folder.DB_FILE)
        self.store = MetadataStore(tmp / folder.DB_FILE)
        self.vectors = FaissIndex.load(previous / folder.DENSE_DIR) if previous is not None else None
        self._removed: list[int] = []
        self._added_ids: list[np.ndarray] = []
        self._added_vectors: list[np.ndarray] = []

    def content_hashes(self) -> dict[str, str]:
        """aid → content hash of every stored article."""
        return self.store.content_hashes()

    def upsert(self, entry: IndexedArticle) -> None:
        """Insert or replace one article; its chunk vectors are added at commit (IVF trains on all of them)."""
        self._removed += self.store.chunk_ids_of([entry.article.aid])
        self.store.upsert_article(entry.article, list(entry.chunks), [list(t) for t in entry.tokens],
                                  list(entry.sentences), entry.sentence_vectors)
        self._added_ids.append(np.asarray([c.chunk_id for c in entry.chunks], dtype=np.int64))
        self._added_vectors.append(np.asarray(entry.vectors, dtype=np.float32).reshape(len(entry.chunks),
                                                                                      self.spec.dim))

    def delete(self, aids: Sequence[str]) -> None:
        """Remove articles and their chunks."""
        self._removed += self.store.delete_articles(aids)

    def commit(self) -> Manifest:
        """Write vectors, BM25 and the manifest, then publish the build atomically."""
        ids = np.concatenate(self._added_ids) if self._added_ids else np.zeros(0, dtype=np.int64)
        matrix = (np.vstack(self._added_vectors) if self._added_vectors
                  else np.zeros((0, self.spec.dim), dtype=np.float32))
        vectors = self.vectors or FaissIndex.create(self.spec.dim, self.config, train_vectors=matrix)
        vectors.remove(np.asarray(self._removed, dtype=np.int64))
        vectors.add(ids, matrix)
        chunk_ids, tokens = self.store.all_tokens()
        lexical = LexicalIndex.build(chunk_ids, tokens, k1=self.config.bm25_k1, b=self.config.bm25_b)
        lexical.save(self.tmp / folder.LEXICAL_DIR)
        vectors.save(self.tmp / folder.DENSE_DIR)
        counts = self.store.counts()
        if len(vectors) != counts["chunks"]:
            raise RuntimeError(f"index inconsistent: {len(vectors)} vectors for {counts['chunks']} chunks")
        manifest = Manifest.of_build(
            self.spec,
            backend="local",
            vector_index=vectors.params(),
            lexical={**lexical.params(), "k1": self.config.bm25_k1, "b": self.config.bm25_b},
            corpus_hash=corpus_hash(self.store.content_hashes()),
            latest_date=self.store.latest_date(),
            counts={**counts, "vectors": len(vectors)},
        )
        self.store.close()
        # Written last: a build's manifest records every other file as it is now.
        manifest.files = digest_build(self.tmp)
        (self.tmp / folder.MANIFEST_FILE).write_text(
            json.dumps(manifest.model_dump(), ensure_ascii=False, indent=2), encoding="utf-8")
        folder.publish(self.tmp, self.config.home)
        return manifest

    def abandon(self) -> None:
        """Drop the transaction: nothing is published."""
        self.store.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class LocalBackend:
    """The local folder under RAG_HOME. It remembers which files already verified, so checks stay cheap."""

    name = "local"

    def __init__(self) -> None:
        self._verifier = Verifier()

    def _published(self, config: IndexSettings) -> tuple[Path, Manifest]:
        """The active build and its manifest, verified file by file (NoIndexError, DamagedIndexError)."""
        build = folder.active_build(config.home)
        if build is None:
            raise NoIndexError(self.location(config))
        manifest = self._verifier.manifest(build)
        self._verifier.verify(build, manifest)
        return build, manifest

    def open(self, config: IndexSettings, spec: BuildSpec) -> LocalIndex:
        """The active index, verified and checked against ``spec``."""
        build, manifest = self._published(config)
        manifest.check(spec)
        return LocalIndex.load(build, manifest, config)

    def check(self, config: IndexSettings) -> Manifest:
        """Verify every file of the active build against its manifest (re-hashing only changed files)."""
        return self._published(config)[1]

    @contextmanager
    def writer(self, config: IndexSettings, spec: BuildSpec, *, rebuild: bool = False,
               wait: bool = True) -> Iterator[LocalWriter]:
        """An ingest transaction; it holds the ingest lock, and is abandoned unless committed.

        An update starts from a copy of the active build, so that build is verified first: damage is never
        copied into a new build with fresh checksums.
        """
        with folder.ingest_lock(config.home, wait=wait):
            previous = None
            if not rebuild and folder.active_build(config.home) is not None:
                previous, manifest = self._published(config)
                manifest.check(spec)
            writer = LocalWriter(config, spec, folder.new_build_folder(config.home), previous)
            try:
                yield writer
            finally:
                if writer.tmp.exists():  # not published: an error, or nothing committed
                    writer.abandon()

    def manifest(self, config: IndexSettings) -> Manifest | None:
        """The active build's manifest, or None."""
        build = folder.active_build(config.home)
        return None if build is None else self._verifier.manifest(build)

    @staticmethod
    def version(config: IndexSettings) -> str | None:
        """Changes with every publish; None when there is no index."""
        return folder.version(config.home)

    @staticmethod
    def location(config: IndexSettings) -> str:
        """Where the index lives, as messages name it (relative to RAG_HOME: messages are also served over HTTP)."""
        return folder.part()

    @staticmethod
    def describe(config: IndexSettings) -> dict[str, str]:
        """The backend's name (the folder's path stays private to the server)."""
        return {"backend": "local"}
