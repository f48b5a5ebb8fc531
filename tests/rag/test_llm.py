"""The optional LLM client: whole and streamed answers, markers that name no passage, and every way it fails."""

from __future__ import annotations

import pytest

from rag.llm import LLMClient, LLMError, _MarkerFilter
from rag.records import Citation
from tests.llm_stand_in import ANSWER, PIECES


def citations(n: int) -> list[Citation]:
    return [Citation(n=i, chunk_id=i, aid=f"a{i}", title=f"t{i}", url="http://x", date="2026-02-01",
                     account="acc", text=f"passage {i}", start=0, end=9, score=1.0) for i in range(1, n + 1)]


@pytest.mark.parametrize(("pieces", "expected"), [
    (["共66项[", "1]，领域[2", "][9]。"], "共66项[1]，领域[2]。"),
    (["[", "9", "]", "x[1]"], "x[1]"),
    (["a[12", "3]b"], "ab"),
    (["数组[", "abc]"], "数组[abc]"),  # not a marker: kept as it is
    (["末尾["], "末尾["),
    # Grouped markers keep the numbers that name a passage.
    (["见[1, ", "2]与[2、9]和[8,9]。"], "见[1, 2]与[2]和。"),
    (["[1, 1, 9]", "[1, 2, 2, 2, 2, 2, 2", ", 9]"], "[1][1, 2]"),  # each number once; a long group is held whole
])
def test_the_marker_filter_judges_markers_split_across_pieces_whole(pieces, expected):
    f = _MarkerFilter({1, 2})
    assert "".join(f.feed(p) for p in pieces) + f.flush() == expected


def test_the_stream_yields_the_pieces_as_they_come_without_invented_markers(llm_stand_in):
    client = LLMClient(llm_stand_in.url, "stand-in", timeout=5)
    got = list(client.stream("今年民心工程有多少项？", citations(2)))
    assert "".join(got) == ANSWER
    assert len(got) >= 3, "streamed in pieces, not gathered into one"
    sent = llm_stand_in.requests[-1]
    assert sent["stream"] is True and sent["model"] == "stand-in" and "[2] t2" in sent["messages"][1]["content"]
    assert client.answer("q", citations(2)) == ANSWER  # the whole answer is filtered the same way


@pytest.mark.parametrize(("behaviour", "said"), [("error", 0), ("break", 2), ("drip", 1)])
def test_a_failing_stream_raises_after_what_it_said(llm_stand_in, behaviour, said):
    llm_stand_in.behaviour = behaviour
    client = LLMClient(llm_stand_in.url, "stand-in", timeout=0.9)  # drip: 5 pieces 0.6 s apart is too slow
    got: list[str] = []
    with pytest.raises(LLMError) as e:
        for piece in client.stream("q", citations(2)):
            got.append(piece)
    assert len(got) == said
    assert "".join(got) == "".join(PIECES)[: len("".join(got))]
    if behaviour == "drip":
        assert "timed out" in str(e.value)


def test_an_unreachable_endpoint_is_an_llm_error():
    client = LLMClient("http://127.0.0.1:9/v1", "x", timeout=1)
    with pytest.raises(LLMError):
        list(client.stream("q", citations(1)))
