"""Articles in, a persistent hybrid index out: upsert, delete and rebuild, each published atomically."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from embeddings import Embedder
from rag import chunking
from rag.corpus import CorpusError, LoadResult, Problem, load_articles
from rag.index import BuildSpec, IndexedArticle, Manifest, NoIndexError, backend_for
from rag.sentences import indexed_sentences
from rag.settings import Settings
from rag.tokenize import fingerprint, tokenize


@dataclass
class IngestReport:
    """What an ingest or delete did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    changed: dict[str, list[str]] = field(default_factory=dict)  # "added" / "updated" / "deleted" → aids
    skipped: list[str] = field(default_factory=list)  # problems of skipped records
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
    return BuildSpec(embedding_model=embedder.name, dim=embedder.dim, tokenizer=fingerprint(),
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
    report = IngestReport(skipped=[str(p) for p in loaded.problems], empty_bodies=list(loaded.empty_bodies))
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
        chunked = [(a, chunking.chunk_article(a, splitter), indexed_sentences(a.text)) for a in todo]
        texts = [chunking.embedding_text(a, c) for a, cs, _ in chunked for c in cs]
        # Sentences are embedded in the same pass: the batches mix them by length, not by kind.
        texts += [a.text[s:e] for a, _, spans in chunked for s, e in spans]
        t0 = time.perf_counter()
        matrix = embedder.encode_passages(texts, progress=progress)
        report.embed_seconds = time.perf_counter() - t0
        report.chunks_embedded = sum(len(cs) for _, cs, _ in chunked)
        report.sentences_embedded = len(texts) - report.chunks_embedded
        chunk_row, sentence_row = 0, report.chunks_embedded
        for article, chunks, spans in chunked:
            writer.upsert(IndexedArticle(
                article=article,
                chunks=chunks,
                tokens=[tokenize(chunking.embedding_text(article, c)) for c in chunks],
                vectors=matrix[chunk_row : chunk_row + len(chunks)],
                sentences=spans,
                sentence_vectors=matrix[sentence_row : sentence_row + len(spans)],
            ))
            chunk_row += len(chunks)
            sentence_row += len(spans)
        report.totals(writer.commit())
    report.seconds = time.perf_counter() - started
    return report


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
    spec = BuildSpec(embedding_model=manifest.embedding_model, dim=manifest.dim, tokenizer=fingerprint())
    aids = list(dict.fromkeys(aids))
    with backend.writer(settings.index, spec, wait=wait) as writer:
        known = writer.content_hashes()
        missing = [a for a in aids if a not in known]
        if missing:
            raise CorpusError([Problem("index", None, a, None, "no such article in the index") for a in missing])
        writer.delete(aids)
        report = IngestReport(deleted=len(aids), changed={"deleted": aids})
        report.totals(writer.commit())
    report.seconds = time.perf_counter() - started
    return report
