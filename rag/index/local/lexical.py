"""BM25 over pre-tokenised chunks (bm25s), mapping bm25s document rows to chunk ids."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

IDS_FILE = "chunk_ids.npy"
logging.getLogger("bm25s").setLevel(logging.WARNING)


class LexicalIndex:
    """A BM25 index whose documents are chunks; scores are raw BM25 (higher is better, 0 = no term shared)."""

    def __init__(self, retriever: bm25s.BM25 | None, chunk_ids: np.ndarray):
        self._retriever = retriever
        self.chunk_ids = chunk_ids.astype(np.int64)
        self._row = {int(c): i for i, c in enumerate(self.chunk_ids)}

    @classmethod
    def build(cls, chunk_ids: Sequence[int], token_lists: Sequence[Sequence[str]], *, k1: float,
              b: float) -> LexicalIndex:
        """Index pre-tokenised documents (one token list per chunk) with BM25 (Lucene variant)."""
        if not chunk_ids:
            return cls(None, np.zeros(0, dtype=np.int64))
        retriever = bm25s.BM25(k1=k1, b=b, method="lucene")
        retriever.index([list(t) for t in token_lists], show_progress=False)
        return cls(retriever, np.asarray(chunk_ids, dtype=np.int64))

    def params(self) -> dict[str, Any]:
        """How the index scores (recorded in the manifest)."""
        r = self._retriever
        return {"library": "bm25s", "method": "lucene", "k1": r.k1 if r else None, "b": r.b if r else None}

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def search(self, tokens: Sequence[str], k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The top ``k`` (chunk_id, bm25) pairs with a positive score, restricted to ``allowed`` chunk ids."""
        if self._retriever is None or not tokens or k <= 0:
            return []
        scores = self._retriever.get_scores(list(tokens))
        if allowed is not None:
            mask = np.zeros(len(scores), dtype=bool)
            mask[[self._row[c] for c in allowed.tolist() if c in self._row]] = True
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(self.chunk_ids[i]), float(scores[i])) for i in top if scores[i] > 0]

    def document_frequency(self, tokens: Sequence[str]) -> list[int]:
        """How many chunks contain each token."""
        if self._retriever is None:
            return [0] * len(tokens)
        vocab = self._retriever.vocab_dict
        indptr = self._retriever.scores["indptr"]
        return [int(indptr[i + 1] - indptr[i]) if (i := vocab.get(t)) is not None else 0 for t in tokens]

    def vocabulary(self) -> list[str]:
        """Every token the index holds."""
        # bm25s keeps "" in its vocabulary as a placeholder for empty documents; it is no token.
        return [t for t in self._retriever.vocab_dict if t] if self._retriever is not None else []

    def save(self, folder: Path) -> None:
        """Write the bm25s index and the row → chunk id map into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / IDS_FILE, self.chunk_ids)
        if self._retriever is not None:
            self._retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        """Read an index written by :meth:`save`."""
        ids = np.load(folder / IDS_FILE)
        if len(ids) == 0:
            return cls(None, ids)
        return cls(bm25s.BM25.load(str(folder), show_progress=False, verbosity=0), ids)
