"""Request and response bodies of the HTTP API (one shape from index to API to page)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_QUERY_CHARS = 1000
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class FiltersIn(BaseModel):
    """Optional restrictions, applied before the top-k cut."""

    model_config = ConfigDict(extra="forbid")

    date_from: date | None = Field(default=None, description="Inclusive, YYYY-MM-DD")
    date_to: date | None = Field(default=None, description="Inclusive, YYYY-MM-DD")
    account: str | None = Field(default=None, max_length=100, description="Official-account name, exact")
    aids: list[str] | None = Field(default=None, max_length=1000, description="Only these articles")

    @field_validator("date_from", "date_to", mode="before")
    @classmethod
    def _strict_date(cls, v: Any) -> Any:
        # pydantic also accepts timestamps and datetimes; the API promises YYYY-MM-DD only.
        if v is None or v == "":
            return None
        if not isinstance(v, str) or not _DATE.fullmatch(v):
            raise ValueError("dates are written YYYY-MM-DD, e.g. 2026-02-01")
        return v

    @field_validator("account", mode="before")
    @classmethod
    def _blank_account(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v

    @model_validator(mode="after")
    def _ordered(self) -> FiltersIn:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"date_from ({self.date_from}) is after date_to ({self.date_to})")
        return self


def _clean_text(v: Any, what: str) -> Any:
    if isinstance(v, str):
        if not v.strip():
            raise ValueError(f"the {what} is empty; type a few words")
        if len(v) > MAX_QUERY_CHARS:
            raise ValueError(f"the {what} is {len(v)} characters long; the limit is {MAX_QUERY_CHARS}")
        try:
            v.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"the {what} contains invalid Unicode (a lone surrogate)") from None
        return v.strip()
    return v


class SearchRequest(BaseModel):
    """``POST /api/search``."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(description=f"1..{MAX_QUERY_CHARS} characters")
    top_k: int = Field(default=5, ge=1, le=50, strict=True)
    mode: Literal["hybrid", "dense", "lexical"] = "hybrid"
    filters: FiltersIn | None = None

    @field_validator("query", mode="before")
    @classmethod
    def _query(cls, v: Any) -> Any:
        return _clean_text(v, "query")


class AskRequest(BaseModel):
    """``POST /api/ask``."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(description=f"1..{MAX_QUERY_CHARS} characters")
    top_k: int = Field(default=5, ge=1, le=50, strict=True)
    filters: FiltersIn | None = None

    @field_validator("question", mode="before")
    @classmethod
    def _question(cls, v: Any) -> Any:
        return _clean_text(v, "question")


class Scores(BaseModel):
    """The parts of a hit's score."""

    dense: float | None = Field(description="Cosine similarity of query and passage")
    lexical: float | None = Field(description="BM25 score")
    dense_rank: int | None
    lexical_rank: int | None


class SearchResult(BaseModel):
    """One passage. ``score``: higher is better (hybrid: fused RRF / its maximum, in [0, 1])."""

    rank: int
    score: float
    chunk_id: int
    aid: str
    title: str
    url: str
    date: str
    account: str
    text: str
    start: int = Field(description="Character offset of the passage in the article text")
    end: int
    scores: Scores


class SearchResponse(BaseModel):
    """``POST /api/search`` response."""

    query: str
    mode: str
    results: list[SearchResult]
    took_ms: float


class CitationOut(BaseModel):
    """A cited passage; ``[n]`` in the answer refers to it."""

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
    highlight: list[int] | None = Field(default=None, description="[start, end] of the quoted sentence in text")


class AskResponse(BaseModel):
    """``POST /api/ask`` response."""

    question: str
    answer: str
    abstained: bool
    confidence: float
    generator: str
    notice: str | None = None
    citations: list[CitationOut]
    took_ms: float


class ArticleOut(BaseModel):
    """A normalised article; citation spans index into ``text``."""

    aid: str
    title: str
    url: str
    date: str
    account: str
    text: str
    source: str


class ErrorOut(BaseModel):
    """Every error: a sentence saying what to fix, plus details for 422s."""

    detail: str
    errors: list[dict[str, Any]] | None = None
