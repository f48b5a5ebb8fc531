"""Answers as events: citations first, then the text, then the outcome — extractive, streamed from an LLM, or
falling back when the LLM fails mid-answer."""

from __future__ import annotations

import pytest

from rag.records import Answer
from rag.service import RagService
from rag.streaming import CitationsEvent, DeltaEvent, DoneEvent, ResetEvent, pieces
from tests.llm_stand_in import ANSWER

QUESTION = "今年民心工程有多少项？"


def kinds(events) -> list[str]:
    out: list[str] = []
    for e in events:
        if not out or out[-1] != e.event or e.event != "delta":
            out.append(e.event)
    return out


@pytest.mark.parametrize("text", ["甲乙。[1]丙丁[2]", "No markers at all", "A [1] B [2] ", ""])
def test_pieces_join_back_into_the_text(text):
    assert "".join(pieces(text)) == text


def test_an_extractive_answer_streams_as_the_same_answer_ask_returns(service):
    whole = service.ask(QUESTION)
    events = list(service.ask_events(QUESTION))
    assert kinds(events) == ["citations", "delta", "done"]
    assert events[0].citations == whole.citations  # highlights included
    done = events[-1]
    assert "".join(e.text for e in events if isinstance(e, DeltaEvent)) == done.answer == whole.answer
    assert Answer(**done.model_dump(exclude={"event", "took_ms"}), citations=events[0].citations) == whole
    assert done.took_ms > 0


def test_an_abstention_streams_its_sentence_and_the_closest_passages(service):
    events = list(service.ask_events("火星上有多少个足球场？"))
    assert events[-1].abstained and events[0].citations
    assert "".join(e.text for e in events if isinstance(e, DeltaEvent)) == events[-1].answer


def test_llm_words_stream_through_after_the_citations(llm_settings, embedder, llm_stand_in):
    svc = RagService(llm_settings, embedder)
    events = list(svc.ask_events(QUESTION))
    assert kinds(events) == ["citations", "delta", "done"]
    assert all(c.highlights == [] for c in events[0].citations)  # the model's words quote no sentence
    assert sum(isinstance(e, DeltaEvent) for e in events) >= 3
    done = events[-1]
    assert done.generator == "llm" and done.answer == ANSWER and done.notice is None
    assert llm_stand_in.requests[-1]["stream"] is True
    assert svc.ask(QUESTION).answer == done.answer  # the same answer as the whole (non-streamed) one


def test_an_llm_failing_mid_answer_is_withdrawn_and_the_extractive_answer_follows(llm_settings, embedder,
                                                                                   llm_stand_in, service):
    llm_stand_in.behaviour = "break"
    events = list(RagService(llm_settings, embedder).ask_events(QUESTION))
    assert kinds(events) == ["citations", "delta", "reset", "citations", "delta", "done"]
    reset = next(e for e in events if isinstance(e, ResetEvent))
    done = events[-1]
    assert isinstance(done, DoneEvent) and done.generator == "extractive" and done.notice == reset.notice
    assert "摘录" in done.notice  # in the question's language
    after = events[events.index(reset) + 1 :]
    assert isinstance(after[0], CitationsEvent) and any(c.highlights for c in after[0].citations)
    assert "".join(e.text for e in after if isinstance(e, DeltaEvent)) == done.answer == service.ask(QUESTION).answer


def test_an_llm_failing_before_its_first_word_needs_no_reset(llm_settings, embedder, llm_stand_in):
    llm_stand_in.behaviour = "error"
    events = list(RagService(llm_settings, embedder).ask_events(QUESTION))
    assert kinds(events) == ["citations", "citations", "delta", "done"]
    assert events[-1].generator == "extractive" and "摘录" in events[-1].notice
