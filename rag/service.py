"""The loaded service: the embedding model and the published index, loaded once per process.

The only process-wide state. It notices when an ingest or delete published a new index version and reloads,
so a running server never returns an article deleted after it started.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from typing import Any

from embeddings import Embedder
from rag.answer import answer as compose_answer
from rag.index import BuildSpec, Index, NoIndexError, backend_for
from rag.llm import LLMClient
from rag.query import Query, QueryStats, analyze
from rag.records import Answer, Article, Filters, Mode
from rag.retrieval import Retrieved, retrieve
from rag.settings import Settings
from rag.streaming import AnswerEvent, answer_events
from rag.tokenize import fingerprint


class RagService:
    """Search and answer over the published index."""

    def __init__(self, settings: Settings, embedder: Embedder):
        self.settings = settings
        self.embedder = embedder
        self.backend = backend_for(settings.index)
        self.spec = BuildSpec(embedding_model=embedder.name, dim=embedder.dim, tokenizer=fingerprint())
        self._lock = threading.Lock()
        # (version, loaded index, its query statistics), replaced as one tuple so a reader never pairs a new
        # version with an old index.
        self._loaded: tuple[str, Index, QueryStats] | None = None
        answer = settings.answer
        self.llm = (
            LLMClient(answer.llm_base_url, answer.llm_model, api_key=answer.llm_api_key, timeout=answer.llm_timeout)
            if answer.llm_base_url and answer.llm_model
            else None
        )

    def index(self) -> Index:
        """The published index, reloaded when a new version has been published since the last call."""
        return self._current()[1]

    def _current(self) -> tuple[str, Index, QueryStats]:
        version = self.backend.version(self.settings.index)
        if version is None:
            raise NoIndexError(self.backend.location(self.settings.index))
        loaded = self._loaded
        if loaded is not None and loaded[0] == version:
            return loaded
        with self._lock:
            if self._loaded is None or self._loaded[0] != version:
                index = self.backend.open(self.settings.index, self.spec)
                self._loaded = (version, index, QueryStats(index.document_frequency, index.vocabulary()))
            return self._loaded

    def analyze(self, question: str, *, today: dt.date | None = None) -> Query:
        """The question analysed against the index; relative dates count from its newest article."""
        _, index, stats = self._current()
        if today is None:
            latest = index.manifest.latest_date
            today = dt.date.fromisoformat(latest) if latest else dt.date.today()
        return analyze(question, stats, today)

    def has_index(self) -> bool:
        """True when an index has been published (it may still be incompatible)."""
        return self.backend.version(self.settings.index) is not None

    def search(self, query: str, *, top_k: int = 5, mode: Mode = "hybrid",
               filters: Filters | None = None) -> Retrieved:
        """Ranked passages for ``query``."""
        return retrieve(self.index(), self.embedder, self.analyze(query), self.settings.retrieval, top_k=top_k,
                        mode=mode, filters=filters)

    def ask(self, question: str, *, top_k: int = 5, filters: Filters | None = None,
            mode: Mode = "hybrid") -> Answer:
        """A short cited answer (or an abstention) for ``question``."""
        return self._read(question, top_k=top_k, filters=filters, mode=mode, llm=self.llm)

    def ask_events(self, question: str, *, top_k: int = 5, filters: Filters | None = None,
                   mode: Mode = "hybrid") -> Iterator[AnswerEvent]:
        """The answer to ``question`` as events (``rag.streaming``): citations first, then text, then the outcome.

        Retrieval and reading happen in this call, before any event exists, so an unusable index raises here
        and a server can still answer with an ordinary error instead of a broken stream.
        """
        started = time.perf_counter()
        read = self._read(question, top_k=top_k, filters=filters, mode=mode, llm=None)
        return answer_events(read, self.llm, started=started)

    def _read(self, question: str, *, top_k: int, filters: Filters | None, mode: Mode,
              llm: LLMClient | None) -> Answer:
        index = self.index()
        found = retrieve(index, self.embedder, self.analyze(question), self.settings.retrieval, top_k=top_k,
                         mode=mode, filters=filters)
        return compose_answer(index, question, found.hits, dense_margin=found.dense_margin,
                              config=self.settings.answer, llm=llm)

    def article(self, aid: str) -> Article | None:
        """One normalised article."""
        return self.index().articles([aid]).get(aid)

    def stats(self) -> dict[str, Any]:
        """The manifest, live counts, accounts, the backend and the active model."""
        index = self.index()
        return {
            "manifest": index.manifest.model_dump(),
            "counts": index.counts(),
            "accounts": index.accounts(),
            "backend": self.backend.name,
            "model": self.embedder.info(),
        }
