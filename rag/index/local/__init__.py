"""The local index backend: one folder of SQLite (metadata), FAISS (vectors) and bm25s (BM25), per build."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from rag.index.base import (
    BuildSpec,
    IncompatibleIndexError,
    IndexedArticle,
    Manifest,
    NoIndexError,
    SentenceVectors,
)
from rag.index.local import folder
from rag.index.local.lexical import LexicalIndex
from rag.index.local.store import MetadataStore
from rag.index.local.vectors import FaissIndex
from rag.records import Article, Chunk, Filters
from rag.settings import IndexSettings

# Filter → allowed chunk ids, remembered for a few recent filters (dense and lexical search share one lookup).
_ALLOWED_CACHE = 64


def read_manifest(build: Path) -> Manifest:
    """The manifest of a build folder; one from another version of this program is incompatible."""
    path = build / folder.MANIFEST_FILE
    try:
        return Manifest.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError:
        raise IncompatibleIndexError(
            f"{path} is not a manifest this version reads (an older format?). Run `rag ingest --rebuild` to "
            "rebuild the index."
        ) from None


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
    def open(cls, config: IndexSettings, spec: BuildSpec) -> LocalIndex:
        """Load the active build, refusing one built with another model or tokenizer."""
        build = folder.active_build(config.home)
        if build is None or not (build / folder.MANIFEST_FILE).exists():
            raise NoIndexError(str(folder.link_path(config.home)))
        manifest = read_manifest(build)
        manifest.check(spec)
        return cls(
            build, manifest,
            store=MetadataStore(build / folder.DB_FILE, readonly=True),
            vectors=FaissIndex.load(build / folder.DENSE_DIR),
            lexical=LexicalIndex.load(build / folder.LEXICAL_DIR),
        )

    def _allowed_ids(self, filters: Filters | None) -> np.ndarray | None:
        if filters is None or filters.is_empty():
            return None
        ids = self._allowed.get(filters)
        if ids is None:
            ids = np.asarray(self.store.filter_chunk_ids(filters), dtype=np.int64)
            if len(self._allowed) >= _ALLOWED_CACHE:
                self._allowed.pop(next(iter(self._allowed)))
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

    def idf(self, tokens: Sequence[str]) -> list[float]:
        """BM25 idf of each token (0 when no chunk contains it)."""
        return self.lexical.idf(tokens)

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
        return self.store.chunks(chunk_ids)

    def articles(self, aids: Iterable[str]) -> dict[str, Article]:
        """aid → Article."""
        return self.store.articles(aids)

    def sentences(self, aids: Iterable[str]) -> dict[str, SentenceVectors]:
        """aid → the article's embedded sentences."""
        return {aid: SentenceVectors(spans, vectors) for aid, (spans, vectors) in self.store.sentences(aids).items()}

    def counts(self) -> dict[str, int]:
        """Articles, chunks, sentences, vectors and lexical documents in this build."""
        return {**self.store.counts(), "vectors": len(self.vectors), "lexical_docs": len(self.lexical)}

    def accounts(self) -> list[str]:
        """Distinct account names."""
        return self.store.accounts()

    def close(self) -> None:
        """Close this thread's SQLite connection."""
        self.store.close()


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
        manifest = Manifest(
            backend="local",
            embedding_model=self.spec.embedding_model,
            dim=self.spec.dim,
            tokenizer=self.spec.tokenizer,
            chunking=self.spec.chunking or {},
            vector_index=vectors.params(),
            lexical={**lexical.params(), "k1": self.config.bm25_k1, "b": self.config.bm25_b},
            corpus_hash=self.store.corpus_hash(),
            latest_date=self.store.latest_date(),
            counts={**counts, "vectors": len(vectors)},
            created_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        )
        self.store.close()
        (self.tmp / folder.MANIFEST_FILE).write_text(
            json.dumps(manifest.model_dump(), ensure_ascii=False, indent=2), encoding="utf-8")
        folder.publish(self.tmp, self.config.home)
        return manifest

    def abandon(self) -> None:
        """Drop the transaction: nothing is published."""
        self.store.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class LocalBackend:
    """The local folder under RAG_HOME."""

    name = "local"

    @staticmethod
    def open(config: IndexSettings, spec: BuildSpec) -> LocalIndex:
        """The active index, checked against ``spec``."""
        return LocalIndex.open(config, spec)

    @staticmethod
    @contextmanager
    def writer(config: IndexSettings, spec: BuildSpec, *, rebuild: bool = False) -> Iterator[LocalWriter]:
        """An ingest transaction; it holds the ingest lock, and is abandoned unless committed."""
        with folder.ingest_lock(config.home):
            previous = None if rebuild else folder.active_build(config.home)
            if previous is not None:
                read_manifest(previous).check(spec)
            writer = LocalWriter(config, spec, folder.new_build_folder(config.home), previous)
            try:
                yield writer
            finally:
                if writer.tmp.exists():  # not published: an error, or nothing committed
                    writer.abandon()

    @staticmethod
    def manifest(config: IndexSettings) -> Manifest | None:
        """The active build's manifest, or None."""
        build = folder.active_build(config.home)
        return read_manifest(build) if build is not None and (build / folder.MANIFEST_FILE).exists() else None

    @staticmethod
    def version(config: IndexSettings) -> str | None:
        """Changes with every publish; None when there is no index."""
        return folder.version(config.home)

    @staticmethod
    def location(config: IndexSettings) -> str:
        """Where the index lives, for messages."""
        return str(folder.link_path(config.home))
