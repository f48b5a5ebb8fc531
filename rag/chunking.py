"""Split articles into overlapping, Chinese-aware passages with exact character spans."""

from __future__ import annotations

import hashlib
import re

from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.records import Article, Chunk
from rag.settings import ChunkingSettings

# Coarsest first: paragraphs, lines, the spaces this corpus uses between paragraphs, sentence ends,
# then clause marks, then single characters. Separators stay at the end of the piece they close,
# so a chunk ends on "。" rather than starting with it.
SEPARATORS = ["\n\n", "\n", " ", "。", "！", "？", "；", "…", "，", "、", ""]
# Names the splitting rules; recorded in the manifest, so changing them asks for a rebuild.
SPLITTER = "recursive-zh-v2-folded"
# A passage shorter than this is a fragment (a heading, a byline, "三、2026年重点工作"): it is folded into the
# text it introduces, so no citation is a bare heading and no fragment outranks the paragraph it names.
MIN_CHUNK_CHARS = 60
# A line is a heading when it is short and does not end a sentence ("（二）持续夯实高质量发展基础").
HEADING_MAX_CHARS = 40
_SENTENCE_END = re.compile(r"[。！？；…!?;.:：”’」』)）]$")


def chunk_id(aid: str, position: int) -> int:
    """A stable, positive int64 id for chunk ``position`` of article ``aid`` (the FAISS id)."""
    # 48 bits of the aid's hash leave 14 bits for positions (16k chunks an article) in 62 bits.
    prefix = int.from_bytes(hashlib.sha1(aid.encode("utf-8")).digest()[:6], "big")
    return (prefix << 14) | (position & 0x3FFF)


def describe(config: ChunkingSettings) -> dict[str, int | str]:
    """How articles are chunked, as the index manifest records it."""
    return {"size": config.size, "overlap": config.overlap, "splitter": SPLITTER}


def make_splitter(config: ChunkingSettings) -> RecursiveCharacterTextSplitter:
    """The splitter used for every article; sizes are in characters."""
    return RecursiveCharacterTextSplitter(
        separators=SEPARATORS,
        keep_separator="end",
        chunk_size=config.size,
        chunk_overlap=config.overlap,
        length_function=len,
        is_separator_regex=False,
        strip_whitespace=True,
    )


def is_heading(line: str) -> bool:
    """True for a short line that does not end a sentence: a title, a numbered heading, a label."""
    line = line.strip()
    return 0 < len(line) <= HEADING_MAX_CHARS and not _SENTENCE_END.search(line)


def _spans(text: str, pieces: list[str]) -> list[tuple[int, int]]:
    spans, cursor = [], 0
    for position, piece in enumerate(pieces):
        # Pieces come in order and may overlap the previous one, so search from the previous start.
        start = text.find(piece, cursor)
        if start < 0:  # cannot happen with strip_whitespace on substrings; fail loudly if it does
            raise AssertionError(f"chunk {position} is not a substring of the article")
        spans.append((start, start + len(piece)))
        cursor = start + 1
    return spans


def fold_fragments(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Move trailing headings to the passage they introduce, and merge fragments into their neighbours.

    Spans stay exact substrings of ``text`` (a merged span is the union of two adjacent ones); an article
    shorter than ``MIN_CHUNK_CHARS`` keeps its one short span.
    """
    spans = list(spans)
    # A heading left at the end of a passage belongs to the next one.
    for i in range(len(spans) - 1):
        start, end = spans[i]
        cut = text.rfind("\n", start, end)
        if cut > start and is_heading(text[cut + 1 : end]) and cut - start >= MIN_CHUNK_CHARS:
            spans[i] = (start, cut)
            spans[i + 1] = (min(spans[i + 1][0], cut + 1), spans[i + 1][1])
    # A fragment joins the passage after it (what it introduces), the last one the passage before it.
    out: list[tuple[int, int]] = []
    pending: tuple[int, int] | None = None
    for start, end in spans:
        if pending is not None:
            start, pending = min(start, pending[0]), None
        if end - start < MIN_CHUNK_CHARS:
            pending = (start, end)
            continue
        out.append((start, end))
    if pending is not None:
        if out:
            out[-1] = (out[-1][0], max(out[-1][1], pending[1]))
        else:
            out.append(pending)
    return out


def chunk_article(article: Article, splitter: RecursiveCharacterTextSplitter) -> list[Chunk]:
    """Split one article; every chunk satisfies ``article.text[c.start:c.end] == c.text``.

    An article with an empty body still gets one (empty) chunk, so it is found by its title.
    """
    text = article.text
    pieces = splitter.split_text(text) if text.strip() else []
    spans = fold_fragments(text, _spans(text, pieces)) if pieces else [(0, len(text))]
    if len(spans) > 0x3FFF:
        raise ValueError(f"article {article.aid} has over 16384 chunks; raise RAG_CHUNK_SIZE")
    return [Chunk(chunk_id=chunk_id(article.aid, position), aid=article.aid, position=position, start=start,
                  end=end, text=text[start:end]) for position, (start, end) in enumerate(spans)]


def embedding_text(article: Article, chunk: Chunk) -> str:
    """What is embedded and indexed lexically: the title gives short chunks their context."""
    return f"{article.title}\n{chunk.text}" if chunk.text else article.title
