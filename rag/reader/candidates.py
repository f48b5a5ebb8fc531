"""Candidate answers: the sentences of the cited passages, with their vectors and typed entities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.chunking import is_heading
from rag.index import Index
from rag.records import Hit
from rag.sentences import MIN_SENTENCE_CHARS

# The reader looks at the best passages only: lower ones are cited but rarely hold the answer.
READ_PASSAGES = 5


@dataclass(frozen=True)
class Candidate:
    """A sentence of passage ``n`` (1-based, as cited), its span relative to that passage's text."""

    n: int
    start: int
    end: int
    text: str
    vector: np.ndarray | None  # the sentence's embedding (None when the index has none for it)
    first: bool  # the first sentence of its passage
    heading: bool  # a heading or label rather than a sentence
    # The title of an article indexed by its title alone (empty body): all it says, so it may be quoted. It has
    # no span in the passage; its similarity to the question is its passage's (the title is what was embedded).
    title: bool = False
    similarity: float | None = None

    @property
    def span(self) -> tuple[int, int]:
        """(start, end) relative to the passage."""
        return self.start, self.end


def candidates(index: Index, hits: list[Hit], passages: int = READ_PASSAGES) -> list[Candidate]:
    """The embedded sentences that lie inside each of the first ``passages`` hits, in reading order (and the title
    of an article indexed by its title alone)."""
    hits = hits[:passages]
    tables = index.sentences({h.aid for h in hits if h.text})
    out: list[Candidate] = []
    for n, hit in enumerate(hits, start=1):
        table = tables.get(hit.aid)
        if not hit.text:  # an article indexed by its title alone says what its title says
            out.append(Candidate(n, 0, 0, hit.title, None, True, False, title=True, similarity=hit.scores.dense))
            continue
        if table is None:
            continue
        first = True
        for (start, end), vector in zip(table.spans, table.vectors, strict=True):
            if start < hit.start or end > hit.end or end - start < MIN_SENTENCE_CHARS:
                continue
            text = hit.text[start - hit.start : end - hit.start]
            out.append(Candidate(n, start - hit.start, end - hit.start, text, vector, first, is_heading(text)))
            first = False
    return out
