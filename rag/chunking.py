"""Split articles into overlapping, Chinese-aware passages with exact character spans."""

from __future__ import annotations

import hashlib

from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.records import Article, Chunk
from rag.settings import ChunkingSettings

# Coarsest first: paragraphs, lines, the spaces this corpus uses between paragraphs, sentence ends,
# then clause marks, then single characters. Separators stay at the end of the piece they close,
# so a chunk ends on "。" rather than starting with it.
SEPARATORS = ["\n\n", "\n", " ", "。", "！", "？", "；", "…", "，", "、", ""]
# Names the splitting rules; recorded in the manifest, so changing them asks for a rebuild.
SPLITTER = "recursive-zh-v1"


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


def chunk_article(article: Article, splitter: RecursiveCharacterTextSplitter) -> list[Chunk]:
    """Split one article; every chunk satisfies ``article.text[c.start:c.end] == c.text``.

    An article with an empty body still gets one (empty) chunk, so it is found by its title.
    """
    text = article.text
    pieces = splitter.split_text(text) if text.strip() else []
    if not pieces:
        return [Chunk(chunk_id=chunk_id(article.aid, 0), aid=article.aid, position=0, start=0, end=len(text),
                      text=text)]
    chunks: list[Chunk] = []
    cursor = 0
    for position, piece in enumerate(pieces):
        # Pieces come in order and may overlap the previous one, so search from the previous start.
        start = text.find(piece, cursor)
        if start < 0:  # cannot happen with strip_whitespace on substrings; fail loudly if it does
            raise AssertionError(f"chunk {position} of {article.aid} is not a substring of the article")
        end = start + len(piece)
        if position > 0x3FFF:
            raise ValueError(f"article {article.aid} has over 16384 chunks; raise RAG_CHUNK_SIZE")
        chunks.append(Chunk(chunk_id=chunk_id(article.aid, position), aid=article.aid, position=position,
                            start=start, end=end, text=piece))
        cursor = start + 1
    return chunks


def embedding_text(article: Article, chunk: Chunk) -> str:
    """What is embedded and indexed lexically: the title gives short chunks their context."""
    return f"{article.title}\n{chunk.text}" if chunk.text else article.title
