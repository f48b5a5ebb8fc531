"""The index seam: what retrieval reads (``Index``), what ingest writes (``IndexWriter``), and the manifest.

Retrieval, answers and ingest talk only to these protocols; a backend (the local folder of FAISS, bm25s
and SQLite today) implements them. Scores are "higher is better": cosine similarity for dense search,
BM25 for lexical search.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from pydantic import BaseModel, Field

from rag.records import Article, Chunk, Filters

# Bump when the stored layout changes; an index of another version must be rebuilt.
# 4: the manifest records the size and SHA-256 of every file (checked on load).
FORMAT_VERSION = 4
REBUILD = "Run `rag ingest --rebuild` to rebuild it."


class IndexUnavailableError(RuntimeError):
    """An index problem the user can act on (the message says how)."""


class NoIndexError(IndexUnavailableError):
    """No index has been built yet."""

    def __init__(self, where: str):
        super().__init__(f"no index at {where}; build one with `rag ingest` (or `make run`)")


class IncompatibleIndexError(IndexUnavailableError):
    """The index was built with another format, model, tokenizer, chunking or vector index kind."""


class DamagedIndexError(IndexUnavailableError):
    """A part of the published index is missing, truncated or altered since it was written.

    The message is one sentence naming the part (relative to RAG_HOME, so it is safe to show over HTTP) and
    saying how to repair it.
    """

    def __init__(self, part: str, problem: str):
        self.part = part
        super().__init__(f"the index is damaged: {part} {problem}. {REBUILD}")


class BackendUnreachableError(IndexUnavailableError):
    """The index's engine (a Milvus server) cannot be reached or failed; the message names it, never a secret."""


class IngestRunningError(RuntimeError):
    """Another ingest holds the index's write lock (only one may run at a time)."""


class FileDigest(BaseModel):
    """The size and SHA-256 of one stored file, recorded when it was written."""

    size: int
    sha256: str


def with_search_settings(vector_index: dict[str, Any], *, ef_search: int, nprobe: int) -> dict[str, Any]:
    """The vector index's parameters as saved, with the search-time ones (HNSW's ef_search, IVF's nprobe) as the
    settings say now: they change how a search runs, not what was built, so changing them needs no rebuild."""
    kind = vector_index.get("kind")
    if kind == "hnsw":
        return {**vector_index, "ef_search": ef_search}
    if kind == "ivf":
        return {**vector_index, "nprobe": min(nprobe, int(vector_index["nlist"]))}
    return dict(vector_index)


def bm25_idf(df: int, n: int) -> float:
    """BM25 inverse document frequency as Lucene computes it (always positive); 0 when no document has the term.

    The reader weighs question terms with this one formula from any backend's ``document_frequency`` and
    ``documents``, so answers weigh them alike everywhere.
    """
    return math.log(1 + (n - df + 0.5) / (df + 0.5)) if df > 0 else 0.0


def unseen_idf(n: int) -> float:
    """What :func:`bm25_idf`'s formula gives a term no chunk contains (it returns 0 for one): the weight of the
    rarest term there could be, which the reader gives a question term the articles lack."""
    return math.log(1 + (n + 0.5) / 0.5)


def corpus_hash(content_hashes: dict[str, str]) -> str:
    """A hash of every (aid, content hash): equal hashes mean equal indexed content, whatever the backend."""
    h = hashlib.sha256()
    for aid in sorted(content_hashes):
        h.update(f"{aid}:{content_hashes[aid]};".encode())
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class IndexedArticle:
    """Everything the index stores for one article: its chunks with their tokens and vectors, and the vectors
    of its sentences (which answers compare with the question)."""

    article: Article
    chunks: Sequence[Chunk]
    tokens: Sequence[Sequence[str]]  # lexical tokens, one list per chunk
    vectors: np.ndarray  # one row per chunk
    sentences: Sequence[tuple[int, int]]  # (start, end) spans in article.text
    sentence_vectors: np.ndarray  # one row per sentence


@dataclass(frozen=True)
class SentenceVectors:
    """The embedded sentences of one article: spans into its text, and one vector per span."""

    spans: list[tuple[int, int]]
    vectors: np.ndarray


class BuildSpec(BaseModel):
    """What an index must have been built with to be read (model, tokenizer) or extended (all of it)."""

    embedding_model: str
    dim: int
    tokenizer: str = Field(description="Fingerprint of the tokenizer, its dictionary and stop words")
    embedding_precision: str | None = Field(
        default=None, description="fp32, int8 or bf16: the arithmetic the vectors come from; None = not checked")
    chunking: dict[str, Any] | None = Field(default=None, description="None when only reading")
    vector_kind: str | None = Field(default=None, description="None when only reading")


class Manifest(BaseModel):
    """How an index was built and what it holds; stored with the index."""

    format_version: int = FORMAT_VERSION
    backend: str
    embedding_model: str
    # Indexes written before precisions existed were all built at fp32.
    embedding_precision: str = "fp32"
    dim: int
    tokenizer: str
    chunking: dict[str, Any]
    vector_index: dict[str, Any]
    lexical: dict[str, Any]
    corpus_hash: str = ""
    latest_date: str = Field(default="", description="The newest article's date: 'today' for relative dates")
    counts: dict[str, int] = Field(default_factory=dict)
    created_at: str = ""
    files: dict[str, FileDigest] = Field(
        default_factory=dict, description="File-based backends: every file of the build (but this manifest), "
                                          "by path relative to the build, with its size and SHA-256")

    @classmethod
    def of_build(cls, spec: BuildSpec, **fields: Any) -> Manifest:
        """The manifest of a build made with ``spec`` (model, precision, tokenizer, chunking), stamped now;
        ``fields`` are the backend's own (backend, vector_index, lexical, counts, …)."""
        return cls(embedding_model=spec.embedding_model, embedding_precision=spec.embedding_precision or "fp32",
                   dim=spec.dim, tokenizer=spec.tokenizer, chunking=spec.chunking or {},
                   created_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"), **fields)

    def check(self, spec: BuildSpec) -> None:
        """Raise IncompatibleIndexError naming every difference from ``spec`` and saying how to rebuild."""
        problems = []
        if self.format_version != FORMAT_VERSION:
            problems.append(f"format version {self.format_version} (this version reads {FORMAT_VERSION})")
        if self.embedding_model != spec.embedding_model:
            problems.append(f"embedding model {self.embedding_model!r} (active: {spec.embedding_model!r})")
        if spec.embedding_precision is not None and self.embedding_precision != spec.embedding_precision:
            # Vectors of two precisions differ slightly: a query must be compared with passages of its own kind.
            problems.append(f"embedding precision {self.embedding_precision!r} (active: {spec.embedding_precision!r}, "
                            f"RAG_EMBEDDING_PRECISION)")
        if self.dim != spec.dim:
            problems.append(f"dimension {self.dim} (active model: {spec.dim})")
        if self.tokenizer != spec.tokenizer:
            problems.append(f"tokenizer {self.tokenizer} (active: {spec.tokenizer}; the user dictionary changed?)")
        if spec.chunking is not None and self.chunking != spec.chunking:
            problems.append(f"chunking {self.chunking} (the settings say {spec.chunking})")
        if spec.vector_kind is not None and self.vector_index.get("kind") != spec.vector_kind:
            problems.append(f"a {self.vector_index.get('kind')!r} vector index (RAG_VECTOR_INDEX says "
                            f"{spec.vector_kind!r})")
        if problems:
            raise IncompatibleIndexError("the index was built with " + "; ".join(problems) + f". {REBUILD}")


class Index(Protocol):
    """The read side of an index: what retrieval and answers need."""

    manifest: Manifest

    def search_dense(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> list[tuple[int, float]]:
        """Up to ``k`` (chunk_id, cosine) pairs, best first; ``filters`` apply before the cut."""
        ...

    def search_lexical(
        self, tokens: Sequence[str], k: int, filters: Filters | None = None
    ) -> list[tuple[int, float]]:
        """Up to ``k`` (chunk_id, BM25) pairs with a positive score, best first; ``filters`` apply before the cut."""
        ...

    def documents(self) -> int:
        """How many chunks the lexical statistics count."""
        ...

    def document_frequency(self, tokens: Sequence[str]) -> list[int]:
        """How many chunks contain each token (what idf is computed from)."""
        ...

    def vocabulary(self) -> list[str]:
        """Every lexical token of the index (English names are matched against it by pinyin)."""
        ...

    def chunks(self, chunk_ids: Iterable[int]) -> dict[int, Chunk]:
        """chunk_id → Chunk for the ids that exist."""
        ...

    def articles(self, aids: Iterable[str]) -> dict[str, Article]:
        """aid → Article for the aids that exist."""
        ...

    def sentences(self, aids: Iterable[str]) -> dict[str, SentenceVectors]:
        """aid → the article's embedded sentences, for the aids that exist."""
        ...

    def counts(self) -> dict[str, int]:
        """Live numbers: articles, chunks, vectors, lexical documents, sentences."""
        ...

    def accounts(self) -> list[str]:
        """Distinct account names."""
        ...

    def close(self) -> None:
        """Release every file and connection, on every thread (no request may be using the index any more)."""
        ...


class IndexWriter(Protocol):
    """The write side: a transaction that ingest fills and then commits (published atomically) or abandons."""

    def content_hashes(self) -> dict[str, str]:
        """aid → content hash of every article the index holds (before this transaction's changes)."""
        ...

    def upsert(self, entry: IndexedArticle) -> None:
        """Insert or replace one article with its chunks, tokens, vectors and sentence vectors."""
        ...

    def delete(self, aids: Sequence[str]) -> None:
        """Remove articles and all their chunks."""
        ...

    def commit(self) -> Manifest:
        """Publish every change at once; readers see the old index or the new one, never a mix."""
        ...
