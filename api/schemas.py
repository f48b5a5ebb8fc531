"""What the HTTP API adds to the records: request bodies, and responses that wrap records with HTTP details."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from rag.records import (
    DEFAULT_TOP_K,
    MAX_HISTORY,
    MAX_TOP_K,
    Answer,
    Article,
    Filters,
    Mode,
    SearchResults,
)
from rag.tokenize import MAX_QUERY_CHARS, text_problem


def _clean_text(value: Any, what: str) -> Any:
    """Refuse empty, over-long, unencodable or wordless text with a stable error code; strip surrounding space."""
    if not isinstance(value, str):
        return value  # the type check that follows says what is wrong
    if (problem := text_problem(value, what)) is not None:
        raise PydanticCustomError(problem.code, problem.template, problem.context)
    return value.strip()


def _whole_number(value: Any) -> Any:
    """JSON Schema's "integer": 5 or 5.0, but not true, "5" or 5.5 (code not_an_integer)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]


def _history_item(value: Any) -> Any:
    """An earlier question is checked as a question is (empty, too long, no words), with its own field name."""
    return _clean_text(value, "earlier question")

# The schema states what the validators enforce: at least one non-space character, at most MAX_QUERY_CHARS. They
# also need a letter or digit (has_words), which a JSON Schema pattern cannot say portably (\p{L} is not in
# every regex dialect): the descriptions say it, and tests/api/schemathesis_hooks.py knows it.
_TEXT = {"min_length": 1, "max_length": MAX_QUERY_CHARS, "pattern": r"\S"}


class SearchRequest(BaseModel):
    """``POST /api/search``."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(description=f"1..{MAX_QUERY_CHARS} characters, with a letter or digit", **_TEXT)
    top_k: WholeNumber = Field(default=DEFAULT_TOP_K, ge=1, le=MAX_TOP_K)
    mode: Mode = "hybrid"
    filters: Filters | None = None

    @field_validator("query", mode="before")
    @classmethod
    def _query(cls, v: Any) -> Any:
        return _clean_text(v, "query")


class AskRequest(BaseModel):
    """``POST /api/ask``."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(description=f"1..{MAX_QUERY_CHARS} characters, with a letter or digit", **_TEXT)
    top_k: WholeNumber = Field(default=DEFAULT_TOP_K, ge=1, le=MAX_TOP_K)
    filters: Filters | None = None
    stream: bool = Field(default=False, strict=True,
                         description="Send Server-Sent Events (citations, delta, reset, done) instead of one JSON "
                                     "body; `Accept: text/event-stream` does the same")
    history: list[Annotated[str, BeforeValidator(_history_item), Field(**_TEXT)]] = Field(
        default_factory=list, max_length=MAX_HISTORY,
        description=f"The conversation's earlier questions, oldest first (each 1..{MAX_QUERY_CHARS} characters, "
                    "with a letter or digit): a follow-up (那手机呢？) is read against them, as /v1/chat/completions "
                    "reads its user messages")

    @field_validator("question", mode="before")
    @classmethod
    def _question(cls, v: Any) -> Any:
        return _clean_text(v, "question")


class SearchResponse(SearchResults):
    """``POST /api/search``: the ranked passages plus the time it took."""

    took_ms: float


class AskResponse(Answer):
    """``POST /api/ask``: the answer record plus the time it took."""

    took_ms: float


class ArticleResponse(Article):
    """``GET /api/articles/{aid}``: the normalised article; citation spans index into ``text``."""


class HealthResponse(BaseModel):
    """``GET /healthz``: 200 when the service can answer, 503 (``degraded``) when its index cannot be used."""

    status: Literal["ok", "degraded"]
    index: bool = Field(description="Whether an index has been published (it may still be damaged)")
    model: str
    code: str | None = Field(default=None, description="When degraded: no_index, index_incompatible or "
                                                        "index_damaged")
    detail: str | None = Field(default=None, description="When degraded: what is wrong and how to repair it")


class ConfigResponse(BaseModel):
    """``GET /api/config``: what a client (the chat page) needs to know about this server."""

    max_query_chars: int
    max_top_k: int
    modes: list[str]
    examples: dict[str, list[str]] = Field(description="Example questions by UI language, answered by the corpus")


class ErrorItem(BaseModel):
    """One problem with a request."""

    loc: list[str | int] = Field(description="Where: e.g. ['body', 'filters', 'date_from']")
    code: str = Field(description="Stable machine-readable code, e.g. too_long, date_format, missing")
    msg: str
    ctx: dict[str, Any] | None = Field(default=None, description="Values the message names, e.g. length, limit")


class ErrorBody(BaseModel):
    """Every error: a stable ``code`` to map to one's own words, and a sentence saying what to fix."""

    code: str = Field(description="invalid_request, not_found, method_not_allowed, host_not_allowed, "
                                  "unauthorized, forbidden, request_timeout, body_too_large, ingest_running, "
                                  "rate_limited, overloaded, no_index, index_incompatible, index_damaged, internal")
    detail: str
    errors: list[ErrorItem] | None = Field(default=None, description="At most the first 20 problems; `detail` "
                                                                      "says how many more there were")


class IngestResponse(BaseModel):
    """``POST`` and ``DELETE /api/admin/articles``: what the write changed (as ``rag ingest --json`` prints it)."""

    added: int
    updated: int
    unchanged: int
    deleted: int
    changed: dict[str, list[str]] = Field(description="added / updated / deleted → their aids")
    empty_bodies: list[str] = Field(description="aids indexed by their title only")
    articles_total: int
    chunks_total: int
    seconds: float


def event_stream_schema(events: list[str] | None = None) -> dict[str, Any]:
    """The OpenAPI schema of one Server-Sent Event: its name (one of ``events``) and its data (JSON as text)."""
    name: dict[str, Any] = {"type": "string"} | ({"enum": events} if events else {})
    return {"type": "object", "required": ["data"],
            "properties": {"event": name, "data": {"type": "string"}, "id": {"type": "string"}}}
