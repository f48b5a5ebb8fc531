"""The loaded service: the embedding model and the active index, loaded once per process.

The only process-wide state. It notices when an ingest or delete swapped the index symlink and reloads,
so a running server never returns an article deleted after it started.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from embeddings.model import Embedder, load_embedder
from rag.answer import answer as compose_answer
from rag.index import LoadedIndex, NoIndexError, load_index
from rag.llm import LLMClient
from rag.records import Answer, Article
from rag.retrieval import Filters, Mode, RetrievalConfig, Retrieved, retrieve
from rag.settings import Settings


class RagService:
    """Search and answer over the active index."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None):
        self.settings = settings
        self.embedder = embedder or load_embedder(settings)
        self._lock = threading.Lock()
        # (symlink target, loaded index), replaced as one tuple so a reader never pairs a new target with an
        # old index.
        self._loaded: tuple[str, LoadedIndex] | None = None
        self.config = RetrievalConfig(
            rrf_k=settings.rrf_k,
            dense_weight=settings.dense_weight,
            lexical_weight=settings.lexical_weight,
            cross_lingual_lexical_factor=settings.cross_lingual_lexical_factor,
            candidates=settings.candidates,
            max_chunks_per_article=settings.max_chunks_per_article,
        )
        self.llm = (
            LLMClient(settings.llm_base_url, settings.llm_model, api_key=settings.llm_api_key,
                      timeout=settings.llm_timeout)
            if settings.llm_base_url and settings.llm_model
            else None
        )

    def index(self) -> LoadedIndex:
        """The active index, reloaded when the ``index`` symlink points somewhere new."""
        link = self.settings.index_dir
        try:
            target = os.readlink(link)
        except FileNotFoundError:
            raise NoIndexError(link) from None
        except OSError:  # not a symlink (e.g. copied by hand): compare the folder itself
            target = str(link.resolve())
        loaded = self._loaded
        if loaded is not None and loaded[0] == target:
            return loaded[1]
        with self._lock:
            if self._loaded is None or self._loaded[0] != target:
                self._loaded = (target, load_index(link, model_name=self.embedder.name, dim=self.embedder.dim))
            return self._loaded[1]

    def has_index(self) -> bool:
        """True when an index exists (it may still be incompatible)."""
        return self.settings.index_dir.exists()

    def search(
        self, query: str, *, top_k: int = 5, mode: Mode = "hybrid", filters: Filters | None = None
    ) -> Retrieved:
        """Ranked passages for ``query``."""
        return retrieve(self.index(), self.embedder, query, top_k=top_k, mode=mode, filters=filters,
                        config=self.config)

    def ask(self, question: str, *, top_k: int = 5, filters: Filters | None = None,
            mode: Mode = "hybrid") -> Answer:
        """A short cited answer (or an abstention) for ``question``."""
        index = self.index()
        found = retrieve(index, self.embedder, question, top_k=top_k, mode=mode, filters=filters,
                         config=self.config)
        return compose_answer(index, question, found.hits, dense_margin=found.evidence,
                              abstain_threshold=self.settings.abstain_threshold, llm=self.llm)

    def article(self, aid: str) -> Article | None:
        """One normalised article."""
        return self.index().store.article(aid)

    def stats(self) -> dict[str, Any]:
        """The manifest, live counts and the active model."""
        index = self.index()
        return {
            "manifest": index.manifest,
            "counts": {**index.store.counts(), "vectors": len(index.vectors), "lexical_docs": len(index.lexical)},
            "accounts": index.store.accounts(),
            "model": self.embedder.info(),
            "index_path": str(index.folder),
        }

