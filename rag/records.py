"""The records passed along the pipeline, defined once: Article → Chunk → Hit → Citation → Answer.

They are pydantic models, so the HTTP API returns them as they are (its response models add only what is
HTTP-specific, such as ``took_ms``), the CLI prints them with ``model_dump``, and the page reads the same
field names. The one invariant every record with a span keeps: ``article.text[start:end] == text``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

Mode = Literal["hybrid", "dense", "lexical"]
MODES: tuple[str, ...] = get_args(Mode)
# Passages a search returns unless asked otherwise, and the most it returns (every surface keeps both).
DEFAULT_TOP_K = 5
MAX_TOP_K = 50
# Earlier questions a follow-up is read against: the last few turns, not a whole day's (and few enough that the
# HTTP API's body limit holds them all at their longest).
MAX_HISTORY = 8


def is_encodable(text: str) -> bool:
    """False for text that cannot be written as UTF-8: JSON's "\\ud800" escapes decode to lone surrogates."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _encodable(value: str) -> str:
    if not is_encodable(value):
        raise PydanticCustomError("invalid_unicode", "contains invalid Unicode (a lone surrogate)")
    return value


# A string that can be stored and shown: refused (code invalid_unicode) when it holds a lone surrogate.
Utf8Str = Annotated[str, AfterValidator(_encodable)]

# An int64 inside Python; a decimal string in JSON (JavaScript numbers lose ids above 2^53), and the JSON Schema
# says so for every reader of it (OpenAPI clients, MCP tool schemas). Decimal strings are accepted as input too.
ChunkId = Annotated[int, PlainSerializer(str, return_type=str, when_used="json"),
                    WithJsonSchema({"type": "string", "pattern": "^[0-9]{1,19}$"})]


class Article(BaseModel):
    """One normalised article. ``text`` is the body that every span points into."""

    model_config = ConfigDict(frozen=True)

    aid: str
    title: str
    url: str
    date: str = Field(description="YYYY-MM-DD")
    account: str = Field(description="The official account that published it")
    text: str
    source: str = Field(default="", description='The trailing "来源：…" attribution, kept out of the body')
    content_hash: str = Field(default="", description="Changes whenever anything indexed changes")


class Chunk(BaseModel):
    """A passage of an article with its exact span: ``article.text[start:end] == text``."""

    model_config = ConfigDict(frozen=True)

    chunk_id: ChunkId = Field(description="Stable int64 id (aid hash and position); a decimal string in JSON")
    aid: str
    position: int = Field(description="0-based order within the article")
    start: int
    end: int
    text: str


class Passage(BaseModel):
    """A span of an article shown to a reader, with the article's metadata and one relevance score."""

    chunk_id: ChunkId = Field(description="The first chunk's id: an int64 written as a decimal string in JSON")
    aid: str
    title: str
    url: str
    date: str
    account: str
    text: str
    start: int = Field(description="Character offset of the passage in the article text")
    end: int
    score: float = Field(description="Higher is better; see Hit")


class Scores(BaseModel):
    """The parts of a hit's score, from each retriever (None when that retriever did not return it)."""

    dense: float | None = Field(default=None, description="Cosine similarity of query and passage")
    lexical: float | None = Field(default=None, description="BM25 score")
    dense_rank: int | None = Field(default=None, description="1-based rank among the dense candidates")
    lexical_rank: int | None = Field(default=None, description="1-based rank among the BM25 candidates")


class Hit(Passage):
    """A retrieved passage. ``score`` is the one relevance score (higher is better).

    hybrid: the fused RRF score divided by its maximum (1.0 = first for both retrievers); dense: cosine
    similarity; lexical: BM25. ``scores`` holds the parts.
    """

    rank: int = Field(default=0, description="1-based")
    position: int = Field(default=0, description="Position of the passage's first chunk in its article")
    scores: Scores = Field(default_factory=Scores)


# How an answer's text cites ``citations[n-1]``: [n]; a language model may group them, [1, 2] or [1、2].
CITATION_MARKER = re.compile(r"\[(\d+(?:\s*[,，、]\s*\d+)*)\]", re.ASCII)  # ASCII digits, as the page reads them


def marker_numbers(marker: re.Match[str]) -> list[int]:
    """The numbers one ``CITATION_MARKER`` match names ([1, 2] → [1, 2])."""
    return [int(n) for n in re.findall(r"\d+", marker.group(1), re.ASCII)]


def cited_numbers(text: str) -> set[int]:
    """The citation numbers ``text`` marks ([1] … [2, 3] → {1, 2, 3})."""
    return {n for m in CITATION_MARKER.finditer(text) for n in marker_numbers(m)}


class Citation(Passage):
    """A passage an answer cites as ``[n]``."""

    n: int = Field(description="The number used in the answer's [n] markers")
    highlights: list[tuple[int, int]] = Field(
        default_factory=list, description="[start, end] spans of text (relative to the passage) the answer quotes"
    )

    @classmethod
    def of(cls, n: int, passage: Passage) -> Citation:
        """Cite ``passage`` as ``[n]``."""
        return cls(n=n, **passage.model_dump(include=set(Passage.model_fields)))


class Interpretation(BaseModel):
    """The date or period a question names, as retrieval read it (articles of those days were moved up)."""

    date_from: dt.date
    date_to: dt.date
    source: str = Field(description="The words of the question it was read from, e.g. 2月4日, 春节, last week")


class SearchResults(BaseModel):
    """Ranked passages for a query, and what was searched for: one shape for the API, MCP and ``rag search``."""

    query: str
    mode: Mode
    query_terms: list[str] = Field(default_factory=list, description="The terms searched for (Chinese; an English "
                                   "question's words translated), so a developer sees what was matched")
    interpreted: Interpretation | None = Field(default=None, description="The date the query names, if any")
    results: list[Hit]


class ResolvedQuestion(BaseModel):
    """How a question was read against what came before it: the conversation's earlier questions
    (``rag.conversation.resolve``), or the earlier parts of a question that asks several things
    (``rag.conversation.question_parts``)."""

    question: str = Field(description="What was answered: the last question, with carried-over terms")
    asked: str = Field(description="The last question as sent")
    carried: list[str] = Field(default_factory=list,
                               description="Focus terms carried over from earlier questions (empty when the last "
                                           "one stands on its own)")
    asking: str = Field(default="", description="What an earlier question asked for (多少钱, How much), carried "
                                                "when the last one asks for nothing of its own (那手机呢？)")


class AnswerOutcome(BaseModel):
    """An answer without the passages it cites: the question, the text and what the reader decided. One
    definition for the answer record, the stream's ``done`` event and the ``rag`` field of
    ``/v1/chat/completions``."""

    question: str
    answer: str = Field(description="The answer text; [n] refers to citations[n-1]")
    abstained: bool = Field(description="True when the articles do not answer the question")
    confidence: float = Field(description="Calibrated probability that what the service says is right: for an "
                                          "answer, that it holds a correct answer (among answers given with "
                                          "confidence ≈ p, about p do); for an abstention, that the articles do "
                                          "not answer")
    missing: list[str] = Field(default_factory=list, description="Focus terms of the question the passages found "
                                                                 "(the best three and the quoted sentences) do not "
                                                                 "mention, rarest first")
    cautions: list[str] = Field(default_factory=list, description="What to know before trusting an answer, in "
                                                                  "the question's language: a confidence under "
                                                                  "0.5, terms the passages found do not mention, "
                                                                  "parts of the question left unanswered, the day "
                                                                  "or year a quoted 昨天 or 去年 is")
    generator: Literal["extractive", "llm"] = "extractive"
    notice: str | None = Field(default=None, description="e.g. why an LLM answer fell back to the extractive one")
    query_terms: list[str] = Field(default_factory=list, description="The terms searched for (Chinese; "
                                                                     "translated for English questions)")
    language: Literal["zh", "en"] = Field(description="The question's language as the service read it (an English "
                                                      "question's words are translated into query_terms)")
    interpreted: Interpretation | None = Field(default=None, description="The date the question names")
    conversation: ResolvedQuestion | None = Field(default=None, description="How the question was read against "
                                                                            "the earlier ones (null without them)")


class Answer(AnswerOutcome):
    """A short answer with its citations, or an abstention that still lists the closest passages."""

    citations: list[Citation]


def _iso_date(value: Any) -> Any:
    # pydantic also accepts timestamps and datetimes; the API promises YYYY-MM-DD only.
    if value is None or isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            if value.isascii() and value[:4].isdigit() and value[5:7].isdigit() and value[8:].isdigit():
                # Written right, but no such day (2026-02-30): say that, not how to write a date.
                raise PydanticCustomError("date_invalid", "{value} is written YYYY-MM-DD but is no day of the "
                                          "calendar", {"value": value}) from None
    raise PydanticCustomError("date_format", "dates are written YYYY-MM-DD, e.g. 2026-02-01")


IsoDate = Annotated[dt.date | None, BeforeValidator(_iso_date)]


class Filters(BaseModel):
    """Restrictions applied inside every retriever, before the top-k cut. Dates are inclusive; date_from must
    not be after date_to (422, code date_order)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    date_from: IsoDate = Field(default=None, description="Inclusive, YYYY-MM-DD")
    date_to: IsoDate = Field(default=None, description="Inclusive, YYYY-MM-DD")
    account: Utf8Str | None = Field(default=None, min_length=1, max_length=100, description="Official account, exact")
    aids: tuple[Utf8Str, ...] | None = Field(default=None, max_length=1000, description="Only these articles")

    @model_validator(mode="after")
    def _ordered(self) -> Filters:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise PydanticCustomError(
                "date_order",
                "date_from ({date_from}) is after date_to ({date_to})",
                {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat()},
            )
        return self

    def is_empty(self) -> bool:
        """True when nothing is filtered."""
        return not (self.date_from or self.date_to or self.account or self.aids is not None)
