"""The small typed records passed along the pipeline: Article → Chunk → Hit → Citation/Answer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Article:
    """One normalised article. ``text`` is the body that chunk offsets point into."""

    aid: str
    title: str
    url: str
    date: str  # YYYY-MM-DD
    account: str
    text: str
    source: str = ""  # the trailing "来源：…" line, kept out of the body
    content_hash: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage of an article with its exact span: ``article.text[start:end] == text``."""

    chunk_id: int  # stable int64 id, also the FAISS id
    aid: str
    position: int  # 0-based order within the article
    start: int
    end: int
    text: str


@dataclass(slots=True)
class Hit:
    """A retrieved passage. ``score`` is the one relevance score (higher is better).

    For hybrid retrieval ``score`` is the fused RRF score divided by its maximum (so in [0, 1]); ``scores``
    holds its parts:
    ``dense`` (cosine similarity), ``lexical`` (BM25), ``dense_rank`` / ``lexical_rank`` (1-based, or None
    when that retriever did not return the chunk).
    """

    chunk_id: int
    aid: str
    title: str
    url: str
    date: str
    account: str
    text: str
    start: int
    end: int
    score: float
    scores: dict[str, float | int | None] = field(default_factory=dict)
    rank: int = 0
    position: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(slots=True)
class Citation:
    """A passage cited by an answer as ``[n]``."""

    n: int
    chunk_id: int
    aid: str
    title: str
    url: str
    date: str
    account: str
    text: str
    start: int
    end: int
    score: float
    # Span (relative to ``text``) of the sentence the answer quotes, if any, for highlighting.
    highlight: list[int] | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(slots=True)
class Answer:
    """A short answer with its citations; ``abstained`` when the evidence is too weak."""

    question: str
    answer: str
    abstained: bool
    citations: list[Citation]
    confidence: float = 0.0
    generator: str = "extractive"  # or "llm"
    notice: str | None = None  # e.g. why the LLM answer fell back to extractive
