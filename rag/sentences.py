"""Sentence spans of Chinese and English prose: what answers quote and what the index embeds one by one."""

from __future__ import annotations

import re

# Sentence ends in Chinese and English prose (a "." only before a space, so 5.2% stays whole); closing
# quotes stay with their sentence; a line break also ends a sentence.
_SENTENCE = re.compile(r"[^。！？；!?\n]*?(?:[。！？；!?]+[”’」』）)]*|\.(?=\s|$)|\n|$)")
# Shorter sentences ("一、", "附件：") say nothing on their own: they are neither embedded nor quoted.
MIN_SENTENCE_CHARS = 6


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the sentences of ``text``, trimmed of surrounding whitespace."""
    spans = []
    for m in _SENTENCE.finditer(text):
        s, e = m.span()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e - s > 0:
            spans.append((s, e))
    return spans


def indexed_sentences(text: str) -> list[tuple[int, int]]:
    """The sentence spans worth embedding and quoting (at least ``MIN_SENTENCE_CHARS`` long)."""
    return [(s, e) for s, e in split_sentences(text) if e - s >= MIN_SENTENCE_CHARS]
