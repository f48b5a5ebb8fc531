"""The inference engines behind an Embedder: ONNX Runtime (our conversions) and sentence-transformers (any model)."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

import numpy as np

from embeddings.onnx_export import OUTPUT_NAME

logger = logging.getLogger(__name__)

# Told the number of texts embedded as batches finish.
ProgressCallback = Callable[[int], None]

# Used when a model does not state its maximum sequence length (or states an "infinite" sentinel).
_FALLBACK_MAX_SEQ = 512


class EmbeddingBackend(Protocol):
    """What an Embedder needs from an inference engine."""

    name: str  # "onnx" or "torch"
    precision: str  # "fp32", "int8" or "bf16": how the weights and arithmetic are stored/run
    dim: int
    max_tokens: int  # content tokens (prompt + text, no special tokens) per input

    def content_lengths(self, texts: Sequence[str]) -> list[int]:
        """Token counts of ``texts`` without special tokens and without truncation."""
        ...

    def encode(
        self, texts: Sequence[str], prompt: str, batch_size: int, progress: bool | ProgressCallback
    ) -> tuple[np.ndarray, list[int]]:
        """Normalised embeddings of ``prompt + text``, and the lengths of the texts truncated.

        ``progress``: True for the engine's own progress bar, or a callback given the number of
        texts done as batches finish.
        """
        ...


@lru_cache(maxsize=1)
def cpu_info() -> Mapping[str, str]:
    """The first CPU's fields in ``/proc/cpuinfo`` (``model name``, ``flags``…; empty where there is none), read once
    and read-only: every caller shares the cached mapping."""
    info: dict[str, str] = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if not line.strip():
                break  # the first processor's block ends here; the others repeat it
            key, _, value = line.partition(":")
            info[key.strip()] = value.strip()
    except OSError:
        pass
    return MappingProxyType(info)


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (empty where ``/proc/cpuinfo`` gives none)."""
    return frozenset(cpu_info().get("flags", "").split())


def int8_times_int8_exact() -> bool:
    """True when ONNX Runtime multiplies uint8 activations by int8 weights exactly here: with AVX-512 VNNI (AMX CPUs
    have it too) or AVX-VNNI, whose dot products add in 32 bits. Elsewhere (AVX2 alone, or flags unknown: not Linux
    x86) its 16-bit pair sums may saturate, and the int8 graph runs widened (widened_int8)."""
    return bool({"avx512_vnni", "avx_vnni"} & cpu_flags())


def physical_cores() -> int:
    """CPU cores this process may run on, counting each physical core once (SMT siblings share one).

    ONNX Runtime's GEMM kernels saturate a core's vector units with one thread, so a second
    hyper-thread adds contention, not speed.
    """
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        usable = os.cpu_count() or 1
    try:
        import psutil

        physical = psutil.cpu_count(logical=False) or usable
        logical = psutil.cpu_count(logical=True) or usable
    except ImportError:
        physical = logical = usable
    # With SMT, the usable logical CPUs hold usable * physical / logical cores.
    return max(1, min(usable, round(usable * physical / max(logical, 1))))


class OnnxBackend:
    """ONNX Runtime + `tokenizers` for folders written by embeddings.convert (our own graphs).

    Roughly 3x faster than torch for single queries on a small CPU, same vectors (cosine
    > 0.99999 to the torch model at fp32): no Python module overhead, fused attention kernels,
    and no transformers tokenizer wrapper. ``precision`` picks the graph: fp32, int8 (run widened to
    uint8 weights on a CPU without VNNI: the same integer products everywhere, see widened_int8) or bf16 (bf16-stored
    weights, float32 arithmetic).

    Throughput: texts are sorted by token count (longest first) and cut into batches of at most
    ``batch_size`` texts and ``batch_tokens`` padded tokens; several batches run at once, one per
    core, on a single-threaded session (measured faster than one batch at a time on a
    multi-threaded session), while a lone batch -- a query -- runs on all cores.
    """

    name: str = "onnx"

    def __init__(self, path: Path, threads: int, precision: str, *, batch_tokens: int) -> None:
        """Open ``path``'s ``precision`` graph and ``path/tokenizer.json``; ``threads`` 0 = physical cores.

        ``batch_tokens`` (0 = no limit) caps a batch's padded size, batch x longest text. The values come from
        ``EmbeddingSettings``, which holds their defaults.
        """
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from embeddings.onnx_export import graph_path

        self.precision = precision
        self.graph = graph_path(path, precision)
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        # No truncation/padding state on the shared tokenizer: we truncate and pad ourselves,
        # so concurrent calls cannot interfere.
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        cfg = json.loads((path / "config.json").read_text(encoding="utf-8"))
        st_cfg = json.loads((path / "sentence_bert_config.json").read_text(encoding="utf-8"))
        max_seq = int(st_cfg.get("max_seq_length") or cfg.get("max_position_embeddings") or _FALLBACK_MAX_SEQ)
        self.n_special = self.tokenizer.num_special_tokens_to_add(False)
        self.max_tokens = max_seq - self.n_special
        self.dim = int(cfg["hidden_size"])
        self.pad_id = self.tokenizer.token_to_id("<pad>")
        if self.pad_id is None:
            self.pad_id = int(cfg.get("pad_token_id") or 0)
        self.threads = int(threads) if threads and threads > 0 else physical_cores()
        self.batch_tokens = max(0, int(batch_tokens))
        # Run several batches at once, one per thread, on a single-threaded session (False: one
        # batch at a time on all threads; kept for the benchmark's comparison).
        self.concurrent = True
        self._ort = ort
        self.session = self._open(self.threads)
        self._solo: Any = None  # single-threaded session for concurrent batches, opened on first use
        self._pool: ThreadPoolExecutor | None = None
        self._lazy_lock = threading.Lock()

    def _open(self, threads: int) -> Any:
        ort = self._ort
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.log_severity_level = 3  # ORT prints harmless shape-merge notes while optimising
        return ort.InferenceSession(self._graph(), so, providers=["CPUExecutionProvider"])

    def _graph(self) -> str | bytes:
        """The graph to run: the file's path, or the int8 graph widened on a CPU that would not multiply it exactly
        (kept beside it; widened in memory where the folder is read-only)."""
        if self.precision != "int8" or int8_times_int8_exact():
            return str(self.graph)
        from embeddings.onnx_export import widened_graph, widened_int8

        try:
            return str(widened_graph(self.graph))
        except OSError as err:
            logger.info("could not keep the widened int8 graph beside %s (%s); widening it in memory", self.graph, err)
            import onnx

            return widened_int8(onnx.load(str(self.graph))).SerializeToString()

    def _concurrent(self) -> tuple[Any, ThreadPoolExecutor]:
        with self._lazy_lock:
            if self._solo is None:
                self._solo = self._open(1)
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="onnx-embed")
            assert self._pool is not None
            return self._solo, self._pool

    def _ids(self, texts: Sequence[str]) -> list[list[int]]:
        if len(texts) == 1:  # encode_batch has thread-pool overhead a single query doesn't need
            return [self.tokenizer.encode(texts[0]).ids]
        return [e.ids for e in self.tokenizer.encode_batch(list(texts))]

    def content_lengths(self, texts: Sequence[str]) -> list[int]:
        """Token counts of ``texts`` without special tokens and without truncation."""
        return [len(ids) - self.n_special for ids in self._ids(texts)]

    def _run(self, batch: list[list[int]], session: Any = None) -> np.ndarray:
        width = max(len(ids) for ids in batch)
        input_ids = np.full((len(batch), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, ids in enumerate(batch):
            input_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1
        (out,) = (session or self.session).run([OUTPUT_NAME], {"input_ids": input_ids, "attention_mask": mask})
        return out

    def plan_batches(self, lengths: Sequence[int], batch_size: int) -> list[list[int]]:
        """Indices of texts with token counts ``lengths``, grouped into batches, longest texts first.

        Sorting makes each batch pad to similar lengths; a batch holds at most ``batch_size``
        texts and (if ``batch_tokens``) at most ``batch_tokens`` padded tokens, but always one text.
        """
        order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
        batches: list[list[int]] = []
        cur: list[int] = []
        for i in order:
            # Sorted longest first, so the batch's first text sets its padded width.
            width = lengths[cur[0]] if cur else lengths[i]
            if cur and (len(cur) >= batch_size or (self.batch_tokens and (len(cur) + 1) * width > self.batch_tokens)):
                batches.append(cur)
                cur = []
            cur.append(i)
        if cur:
            batches.append(cur)
        return batches

    def encode(
        self, texts: Sequence[str], prompt: str, batch_size: int, progress: bool | ProgressCallback
    ) -> tuple[np.ndarray, list[int]]:
        """Normalised embeddings of ``prompt + text``, and the lengths of the texts truncated.

        ``progress``: True for a tqdm bar, or a callback given the number of texts done per batch.
        """
        ids = self._ids([prompt + t for t in texts])
        limit = self.max_tokens + self.n_special
        over = [len(x) - self.n_special for x in ids if len(x) > limit]
        # Right-truncate the content and keep the closing special token, as transformers does.
        ids = [x if len(x) <= limit else x[: limit - 1] + x[-1:] for x in ids]
        out = np.empty((len(ids), self.dim), dtype=np.float32)
        batches = self.plan_batches([len(x) for x in ids], max(1, batch_size))
        bar = None
        if progress is True:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(ids), desc="Embedding", unit="passage")
            report: ProgressCallback | None = bar.update
        else:
            report = progress or None
        runs: list[Future[np.ndarray]] = []
        try:
            if len(batches) == 1 or self.threads == 1 or not self.concurrent:
                results: Iterator[np.ndarray] = (self._run([ids[i] for i in idx]) for idx in batches)
            else:
                solo, pool = self._concurrent()
                runs = [pool.submit(self._run, [ids[i] for i in idx], solo) for idx in batches]
                results = (run.result() for run in runs)
            for idx, vectors in zip(batches, results, strict=True):
                out[idx] = vectors
                if report:
                    report(len(idx))
        finally:
            for run in runs:  # after a failure, the batches not yet started
                run.cancel()
            if bar is not None:
                bar.close()
        return out, over


class TorchBackend:
    """Any sentence-transformers model, through SentenceTransformer.encode."""

    name: str = "torch"
    precision: str = "fp32"

    def __init__(self, model: Any) -> None:
        """Wrap a loaded ``sentence_transformers.SentenceTransformer``."""
        self.model = model
        self.tokenizer = model.tokenizer
        max_seq = model.max_seq_length
        if not max_seq or max_seq > 100_000:  # unset / "infinite" sentinel of some tokenizers
            max_seq = _FALLBACK_MAX_SEQ
        try:
            n_special = int(self.tokenizer.num_special_tokens_to_add(pair=False))
        except Exception:  # tokenizers without that method: the usual [CLS] … [SEP]
            n_special = 2
        self.max_tokens = int(max_seq) - n_special
        dim = model.get_embedding_dimension() if hasattr(model, "get_embedding_dimension") else None
        self.dim = int(dim or model.get_sentence_embedding_dimension())

    def content_lengths(self, texts: Sequence[str]) -> list[int]:
        """Token counts of ``texts`` without special tokens and without truncation."""
        enc = self.tokenizer(list(texts), add_special_tokens=False, truncation=False)["input_ids"]
        return [len(x) for x in enc]

    def encode(
        self, texts: Sequence[str], prompt: str, batch_size: int, progress: bool | ProgressCallback
    ) -> tuple[np.ndarray, list[int]]:
        """Normalised embeddings of ``prompt + text``, and the lengths of the texts truncated."""
        # Only texts with more UTF-8 bytes than the limit can exceed it (no tokenizer emits
        # more than one token per byte, plus a possible leading word marker), so most short
        # inputs skip the extra tokenisation.
        maybe_long = [prompt + t for t in texts if len((prompt + t).encode("utf-8")) + 1 > self.max_tokens]
        over = [n for n in self.content_lengths(maybe_long) if n > self.max_tokens] if maybe_long else []
        vecs = self.model.encode(
            list(texts),
            prompt=prompt or None,
            batch_size=batch_size,
            show_progress_bar=progress is True,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        if callable(progress):  # sentence-transformers reports only to its own bar
            progress(len(texts))
        return np.asarray(vecs, dtype=np.float32), over
