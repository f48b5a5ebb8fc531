"""The Embedder: turns queries and passages into L2-normalised float32 vectors with a model's prompts."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from embeddings.backends import EmbeddingBackend, ProgressCallback

logger = logging.getLogger(__name__)

# Above this many texts, encode_passages shows a progress bar unless told otherwise.
PROGRESS_THRESHOLD = 64


class Embedder:
    """Turns queries and passages into L2-normalised float32 vectors.

    Attributes: ``name`` (model name as configured), ``path`` (folder or hub id it was loaded
    from), ``dim``, ``prompts`` ({"query", "passage"} prefixes), ``max_tokens`` (content tokens
    per text, prompt included, special tokens excluded; longer texts are truncated),
    ``backend`` (the engine's name: "onnx" or "torch") and ``precision`` (the arithmetic the
    vectors come from: "fp32", "int8" or "bf16"; vectors of different precisions differ slightly,
    so an index should not mix them).
    """

    def __init__(
        self, name: str, path: str, backend: EmbeddingBackend, prompts: dict[str, str], *, batch_size: int
    ) -> None:
        """Wrap ``backend`` (an inference engine) for model ``name`` loaded from ``path``; ``batch_size`` is
        ``EmbeddingSettings.batch_size`` (no default here: the settings hold it)."""
        self.name = name
        self.path = path
        self._engine = backend
        self.backend: str = backend.name
        self.precision: str = getattr(backend, "precision", "fp32")
        self.dim = backend.dim
        self.prompts = {"query": prompts.get("query", ""), "passage": prompts.get("passage", "")}
        self.max_tokens = backend.max_tokens
        self.batch_size = max(1, int(batch_size))

    @property
    def engine(self) -> EmbeddingBackend:
        """The inference engine itself (``backend`` is its name)."""
        return self._engine

    def __repr__(self) -> str:
        return (
            f"Embedder(name={self.name!r}, path={self.path!r}, dim={self.dim}, backend={self.backend!r}, "
            f"precision={self.precision!r})"
        )

    def info(self) -> dict[str, Any]:
        """Identity of the vectors, for index metadata: name, path, dim, prompts, precision."""
        return {
            "name": self.name,
            "path": self.path,
            "dim": self.dim,
            "prompts": dict(self.prompts),
            "precision": self.precision,
        }

    def count_tokens(self, text: str, *, as_passage: bool = True) -> int:
        """Tokens the model reads for ``text`` as a passage (prompt included, special tokens not); with
        ``as_passage=False``, the tokens of ``text`` alone.

        As a passage, ``text`` is embedded without truncation iff ``count_tokens(text) <= max_tokens``.
        """
        return self._engine.content_lengths([(self.prompts["passage"] if as_passage else "") + text])[0]

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed search queries (with the query prompt): float32 array of shape (n, dim)."""
        return self._encode(texts, self.prompts["query"], progress=False)

    def encode_passages(self, texts: list[str], *, progress: bool | None = None) -> np.ndarray:
        """Embed passages (with the passage prompt): float32 array of shape (n, dim).

        ``progress``: show a progress bar (passages/s and ETA); by default only for more than 64 texts.
        """
        if progress is None:
            progress = len(texts) > PROGRESS_THRESHOLD
        return self._encode(texts, self.prompts["passage"], progress=progress)

    def encode_passage_batches(
        self,
        batches: Iterable[Sequence[str]],
        *,
        total: int | None = None,
        progress: bool | None = None,
        prefetch: int = 1,
    ) -> Iterator[np.ndarray]:
        """Embed passages arriving in groups (e.g. per article): yields a (len(group), dim) array per group, in order.

        For pipelined ingestion: up to ``prefetch`` groups are embedded in a background thread
        while the caller produces the next group and stores the last one (ONNX Runtime releases
        the GIL), so chunking, embedding and writing overlap. ``total`` (passages, if known) gives
        the progress bar an ETA; ``progress`` defaults to on when ``total`` exceeds 64. Stopping
        the iteration early cancels the groups not yet started.
        """
        bar = None
        if progress is None:
            progress = total is not None and total > PROGRESS_THRESHOLD
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, desc="Embedding", unit="passage", smoothing=0.1)
        report: ProgressCallback | None = bar.update if bar is not None else None
        prompt = self.prompts["passage"]
        pending: deque[Future[np.ndarray]] = deque()
        pool = ThreadPoolExecutor(1, thread_name_prefix="embed-pipeline")
        try:
            for group in batches:
                pending.append(pool.submit(self._encode, group, prompt, progress=report or False))
                while len(pending) > max(0, prefetch):
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for fut in pending:
                fut.cancel()
            pool.shutdown(wait=True)
            if bar is not None:
                bar.close()

    def _encode(self, texts: Sequence[str], prompt: str, *, progress: bool | ProgressCallback) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("expected a list of strings, got a single str")
        texts = [t if isinstance(t, str) else str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out, over = self._engine.encode(texts, prompt, self.batch_size, progress)
        if over:
            logger.warning(
                "%d of %d texts exceed %d tokens (longest %d) and were truncated for embedding model %s",
                len(over),
                len(texts),
                self.max_tokens,
                max(over),
                self.name,
            )
        out = np.ascontiguousarray(out, dtype=np.float32)
        # Both backends normalise already; this guards models whose pipeline does not.
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        if not np.allclose(norms, 1.0, atol=1e-3):
            out /= np.maximum(norms, 1e-12)
        return out
