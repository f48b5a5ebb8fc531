"""Articles in, a persistent hybrid index out: upsert, delete and rebuild, each published atomically."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from embeddings import Embedder
from rag import chunking
from rag.corpus import CorpusError, LoadResult, invalid_records, load_articles
from rag.index import BuildSpec, IndexedArticle, Manifest, NoIndexError, backend_for
from rag.records import Article, Chunk
from rag.sentences import indexed_sentences
from rag.settings import Settings
from rag.tokenize import fingerprint, tokenize


class UnknownArticlesError(ValueError):
    """A delete named articles the index does not hold; nothing was deleted."""

    def __init__(self, aids: list[str]):
        self.aids = aids
        super().__init__(f"no such article in the index: {', '.join(aids)}")


@dataclass
class IngestReport:
    """What an ingest or delete did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    changed: dict[str, list[str]] = field(default_factory=dict)  # "added" / "updated" / "deleted" → aids
    skipped: list[str] = field(default_factory=list)  # problems of skipped records (one record may have several)
    skipped_records: int = 0
    empty_bodies: list[str] = field(default_factory=list)  # aids indexed by title only
    chunks_embedded: int = 0
    sentences_embedded: int = 0
    articles_total: int = 0
    chunks_total: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)

    def totals(self, manifest: Manifest) -> None:
        """Fill in the index totals from the committed manifest."""
        self.articles_total = manifest.counts.get("articles", 0)
        self.chunks_total = manifest.counts.get("chunks", 0)


def build_spec(settings: Settings, embedder: Embedder) -> BuildSpec:
    """Everything an index must have been built with to be extended by this configuration."""
    return BuildSpec(embedding_model=embedder.name, embedding_precision=embedder.precision, dim=embedder.dim,
                     tokenizer=fingerprint(),
                     chunking=chunking.describe(settings.chunking), vector_kind=settings.index.vector_index)


def ingest(
    paths: Iterable[Path | str],
    settings: Settings,
    embedder: Embedder,
    *,
    rebuild: bool = False,
    skip_invalid: bool = False,
    progress: bool | None = None,
) -> IngestReport:
    """Upsert the articles of ``paths`` into the index (a new one with ``rebuild``).

    New aids are added, changed articles re-chunked and re-embedded, unchanged ones skipped. Invalid input
    raises :class:`CorpusError` and writes nothing, unless ``skip_invalid``. Changes are published at once
    (the backend's commit), so a failure leaves the previous index in use.
    """
    started = time.perf_counter()
    report = ingest_loaded(load_articles(paths), settings, embedder, rebuild=rebuild, skip_invalid=skip_invalid,
                           progress=progress)
    report.seconds = time.perf_counter() - started
    return report


def ingest_loaded(
    loaded: LoadResult,
    settings: Settings,
    embedder: Embedder,
    *,
    rebuild: bool = False,
    skip_invalid: bool = False,
    progress: bool | None = None,
    wait: bool = True,
) -> IngestReport:
    """Upsert articles already loaded and validated (by :func:`load_articles` or :func:`parse_export`).

    As :func:`ingest`; without ``wait``, another running ingest raises IngestRunningError instead of being
    waited for.
    """
    started = time.perf_counter()
    if loaded.problems and not skip_invalid:
        raise CorpusError(loaded.problems)
    report = IngestReport(skipped=[str(p) for p in loaded.problems], skipped_records=invalid_records(loaded.problems),
                          empty_bodies=list(loaded.empty_bodies))
    splitter = chunking.make_splitter(settings.chunking)
    with backend_for(settings.index).writer(settings.index, build_spec(settings, embedder),
                                            rebuild=rebuild, wait=wait) as writer:
        known = writer.content_hashes()
        todo = []
        for article in loaded.articles:
            if article.aid not in known:
                report.added += 1
                report.changed.setdefault("added", []).append(article.aid)
                todo.append(article)
            elif known[article.aid] != article.content_hash:
                report.updated += 1
                report.changed.setdefault("updated", []).append(article.aid)
                todo.append(article)
            else:
                report.unchanged += 1
        # Chunking is cheap next to embedding and gives the progress bar its total (an ETA); tokenizing and
        # storing each step overlap the embedding of the next one, see _pipeline.
        chunked = [(a, chunking.chunk_article(a, splitter), indexed_sentences(a.text)) for a in todo]
        report.chunks_embedded = sum(len(cs) for _, cs, _ in chunked)
        report.sentences_embedded = sum(len(spans) for _, _, spans in chunked)
        t0 = time.perf_counter()
        for entry in _pipeline(chunked, embedder, progress=progress):
            writer.upsert(entry)
        # Embedding dominates the pipeline, and the rest overlaps it: its wall time is the embedding time.
        report.embed_seconds = time.perf_counter() - t0
        report.totals(writer.commit())
    report.seconds = time.perf_counter() - started
    return report


# Passages (chunks and sentences) per pipeline step: enough for well-packed batches sorted by length, few enough
# that storing one step overlaps embedding the next and the first steps do not wait long.
PIPELINE_PASSAGES = 512

Chunked = tuple[Article, list[Chunk], list[tuple[int, int]]]


def _steps(chunked: list[Chunked], size: int = PIPELINE_PASSAGES) -> list[list[Chunked]]:
    """Consecutive runs of whole articles holding about ``size`` passages each."""
    steps: list[list[Chunked]] = []
    current: list[Chunked] = []
    passages = 0
    for item in chunked:
        current.append(item)
        passages += len(item[1]) + len(item[2])
        if passages >= size:
            steps.append(current)
            current, passages = [], 0
    if current:
        steps.append(current)
    return steps


def _pipeline(chunked: list[Chunked], embedder: Embedder, *, progress: bool | None) -> Iterator[IndexedArticle]:
    """The articles of ``chunked`` with their tokens and vectors, in order.

    A background thread embeds one step while this one tokenizes and yields the step before (ONNX Runtime
    releases the GIL), so jieba and SQLite run in the embedding's shadow. Sentences are embedded with their
    article's chunks: the batches mix them by length, not by kind.
    """
    steps = _steps(chunked)
    texts = ([chunking.embedding_text(a, c) for a, cs, _ in step for c in cs]
             + [a.text[s:e] for a, _, spans in step for s, e in spans] for step in steps)
    total = sum(len(cs) + len(spans) for _, cs, spans in chunked)
    matrices = embedder.encode_passage_batches(texts, total=total, progress=progress)
    for step, matrix in zip(steps, matrices, strict=True):
        chunk_row, sentence_row = 0, sum(len(cs) for _, cs, _ in step)
        for article, chunks, spans in step:
            yield IndexedArticle(
                article=article,
                chunks=chunks,
                tokens=[tokenize(chunking.embedding_text(article, c)) for c in chunks],
                vectors=matrix[chunk_row : chunk_row + len(chunks)],
                sentences=spans,
                sentence_vectors=matrix[sentence_row : sentence_row + len(spans)],
            )
            chunk_row += len(chunks)
            sentence_row += len(spans)


def delete(aids: list[str], settings: Settings, *, wait: bool = True) -> IngestReport:
    """Remove articles from the index; unknown aids are an error and nothing is written.

    Needs no embedding model: nothing is embedded, so the index is only checked against the tokenizer. Without
    ``wait``, another running ingest raises IngestRunningError.
    """
    started = time.perf_counter()
    backend = backend_for(settings.index)
    manifest = backend.manifest(settings.index)
    if manifest is None:
        raise NoIndexError(backend.location(settings.index))
    # A delete changes what the index holds, not how it was built: the manifest keeps its chunking and vector
    # index kind, so the next ingest (with the settings that built it) extends it.
    spec = BuildSpec(embedding_model=manifest.embedding_model, embedding_precision=manifest.embedding_precision,
                     dim=manifest.dim, tokenizer=fingerprint(), chunking=manifest.chunking,
                     vector_kind=manifest.vector_index.get("kind"))
    aids = list(dict.fromkeys(aids))
    with backend.writer(settings.index, spec, wait=wait) as writer:
        known = writer.content_hashes()
        missing = [a for a in aids if a not in known]
        if missing:
            raise UnknownArticlesError(missing)
        writer.delete(aids)
        report = IngestReport(deleted=len(aids), changed={"deleted": aids})
        report.totals(writer.commit())
    report.seconds = time.perf_counter() - started
    return report
