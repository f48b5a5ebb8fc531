"""Answers as a stream of typed events: the citations first, then the answer text, then the outcome.

Retrieval and the extractive reader take a few milliseconds, so the passages an answer cites are known long
before a language model has written a word; a client that shows them at once is useful while it waits.

    citations  {"citations": [Citation, …]}   the numbered passages; a later one replaces an earlier one
    delta      {"text": "…"}                  a piece of the answer text, in order
    reset      {"notice": "…"}                withdraw the text so far (the language model failed mid-answer;
                                              the extractive answer follows)
    done       {question, answer, abstained, confidence, generator, notice, took_ms, …}
               the outcome: every field of the Answer record except its citations; ``answer`` is the whole
               text, equal to the deltas since the last reset

The reader is not duplicated here: :func:`answer_events` takes the reader's finished extractive
:class:`~rag.records.Answer` and, when a language model is configured, streams its words instead.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from rag.answer import fallback_text
from rag.llm import LLMClient, LLMError
from rag.query import Query
from rag.records import Answer, AnswerOutcome, Citation


class CitationsEvent(BaseModel):
    """The passages the answer cites, numbered ``[n]``; sent first, and again if they change."""

    event: Literal["citations"] = "citations"
    citations: list[Citation]


class DeltaEvent(BaseModel):
    """The next piece of the answer text."""

    event: Literal["delta"] = "delta"
    text: str


class ResetEvent(BaseModel):
    """The text sent so far is withdrawn: the language model failed mid-answer and the extractive one follows."""

    event: Literal["reset"] = "reset"
    notice: str


class DoneEvent(AnswerOutcome):
    """The outcome: the Answer record's fields except ``citations`` (``answer`` is the whole text, the deltas since
    the last reset joined), and the time taken."""

    event: Literal["done"] = "done"
    took_ms: float

    @classmethod
    def of(cls, answer: Answer, started: float) -> DoneEvent:
        """The final event for ``answer``; ``started`` is the ``time.perf_counter()`` of the request."""
        took = round((time.perf_counter() - started) * 1000, 2)
        return cls(**answer.model_dump(exclude={"citations"}), took_ms=took)


AnswerEvent = Annotated[CitationsEvent | DeltaEvent | ResetEvent | DoneEvent, Field(discriminator="event")]

# An extractive answer is sent a quoted sentence (with its marker) at a time: "…66项[1]" "…领域[2]".
_PIECE = re.compile(r".+?(?:\[\d+\]\s*|$)", re.S)


def pieces(text: str) -> list[str]:
    """``text`` cut after each ``[n]`` marker; joined, the pieces are ``text`` again."""
    return [p for p in _PIECE.findall(text) if p]


def _extractive(read: Answer, started: float) -> Iterator[AnswerEvent]:
    for piece in pieces(read.answer):
        yield DeltaEvent(text=piece)
    yield DoneEvent.of(read, started)


def answer_events(read: Answer, query: Query, llm: LLMClient | None, *, started: float) -> Iterator[AnswerEvent]:
    """The events of one answer to ``query``, given the reader's extractive answer ``read`` (citations, abstention).

    Without a language model, or when the reader abstained, the extractive answer is sent as it is. With one,
    the citations go out first (without the extractive answer's highlights, as for a non-streamed model answer),
    then the model's words as they come; if the model fails, a ``reset`` withdraws what it said and the
    extractive answer follows with a notice.
    """
    if llm is None or read.abstained:
        yield CitationsEvent(citations=read.citations)
        yield from _extractive(read, started)
        return
    plain = [c.model_copy(update={"highlights": []}) for c in read.citations]
    yield CitationsEvent(citations=plain)
    said: list[str] = []
    try:
        for piece in llm.stream(read.question, plain, missing=read.missing):
            said.append(piece)
            yield DeltaEvent(text=piece)
    except LLMError as e:
        notice = fallback_text(query, e)
        if said:
            yield ResetEvent(notice=notice)
        yield CitationsEvent(citations=read.citations)
        yield from _extractive(read.model_copy(update={"notice": notice}), started)
        return
    text = "".join(said).strip()
    yield DoneEvent.of(read.model_copy(update={"answer": text, "generator": "llm", "citations": plain}), started)


def event_data(event: AnswerEvent) -> str:
    """The JSON payload of an event (its ``event`` name travels separately, as the SSE event type)."""
    return event.model_dump_json(exclude={"event"})
