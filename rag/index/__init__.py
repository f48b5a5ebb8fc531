"""The index: protocols every backend implements, and the factory that picks one from the settings.

Retrieval, answers and ingest use only what this package exports; nothing above it names FAISS, bm25s,
SQLite or pymilvus.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from rag.index.base import (
    FORMAT_VERSION,
    BackendUnreachableError,
    BuildSpec,
    DamagedIndexError,
    FileDigest,
    IncompatibleIndexError,
    Index,
    IndexedArticle,
    IndexUnavailableError,
    IndexWriter,
    IngestRunningError,
    Manifest,
    NoIndexError,
    SentenceVectors,
    bm25_idf,
    unseen_idf,
)
from rag.settings import IndexSettings

__all__ = [
    "FORMAT_VERSION",
    "Backend",
    "BackendUnreachableError",
    "BuildSpec",
    "DamagedIndexError",
    "FileDigest",
    "IncompatibleIndexError",
    "Index",
    "IndexUnavailableError",
    "IndexWriter",
    "IndexedArticle",
    "IngestRunningError",
    "SentenceVectors",
    "Manifest",
    "NoIndexError",
    "backend_for",
    "bm25_idf",
    "unseen_idf",
]


class Backend(Protocol):
    """An index backend: open the published index, write a new version of it, tell versions apart."""

    name: str

    def open(self, config: IndexSettings, spec: BuildSpec) -> Index:
        """The published index, checked against ``spec`` (NoIndexError / IncompatibleIndexError)."""
        ...

    def writer(self, config: IndexSettings, spec: BuildSpec, *, rebuild: bool = False,
               wait: bool = True) -> AbstractContextManager[IndexWriter]:
        """An ingest transaction: changes become visible all at once on ``commit``, or not at all.

        One runs at a time: another waits for it, or raises IngestRunningError when ``wait`` is false.
        """
        ...

    def check(self, config: IndexSettings) -> Manifest:
        """Verify that the published index is whole (every part as its manifest records it) and return the
        manifest; NoIndexError or DamagedIndexError otherwise. Called on every request, so it must be cheap
        when nothing changed since the last call."""
        ...

    def manifest(self, config: IndexSettings) -> Manifest | None:
        """The published index's manifest, without loading the index (None when nothing is published)."""
        ...

    def version(self, config: IndexSettings) -> str | None:
        """An identifier that changes with every commit (None when nothing is published)."""
        ...

    def location(self, config: IndexSettings) -> str:
        """Where the index lives, for messages to the operator (a path or URI, never a secret)."""
        ...

    def describe(self, config: IndexSettings) -> dict[str, str]:
        """Which backend serves and from where, safe to show API clients (no secrets, no file-system paths)."""
        ...


def backend_for(config: IndexSettings) -> Backend:
    """The backend ``config.backend`` names (imported only when used)."""
    if config.backend == "local":
        from rag.index.local import LocalBackend

        return LocalBackend()
    if config.backend == "milvus":
        from rag.index.milvus import MilvusBackend

        return MilvusBackend()
    raise ValueError(f"unknown index backend {config.backend!r}; use local or milvus")
