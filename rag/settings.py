"""One place for every setting: environment variables prefixed ``RAG_``, with defaults."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_EMBEDDING_MODEL = "intfloat/multilingual-e5-small"


class Settings(BaseSettings):
    """Runtime configuration. Every field maps to ``RAG_<FIELD>`` (case-insensitive)."""

    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore", populate_by_name=True)

    # Where converted models and indexes live.
    home: Path = Field(default=PROJECT_ROOT / ".rag")
    # Converted models; default RAG_HOME/models. Several homes (tests, sweeps) can share one.
    models_path: Path | None = Field(default=None, validation_alias=AliasChoices("RAG_MODELS_DIR", "RAG_MODELS_PATH"))
    # Corpus indexed by `make run` when no index exists.
    corpus: Path = Field(default=PROJECT_ROOT / "data")

    # Embeddings
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    device: str = "cpu"
    batch_size: int = Field(default=16, ge=1, le=1024)
    # Torch intra-op threads for encoding; 0 = library default (all cores).
    threads: int = Field(default=0, ge=0)

    # Chunking (characters)
    chunk_size: int = Field(default=300, ge=50, le=2000)
    chunk_overlap: int = Field(default=60, ge=0, le=1000)

    # Dense index
    vector_index: Literal["flat", "hnsw", "ivf"] = "flat"
    hnsw_m: int = 32
    hnsw_ef_construction: int = 200
    hnsw_ef_search: int = 128
    ivf_nlist: int = 0  # 0 = 4*sqrt(n)
    ivf_nprobe: int = 16

    # Retrieval
    rrf_k: int = Field(default=60, ge=1)
    dense_weight: float = Field(default=1.0, ge=0)
    lexical_weight: float = Field(default=1.0, ge=0)
    # Multiplies lexical_weight for questions without Chinese characters (BM25 cannot match them).
    cross_lingual_lexical_factor: float = Field(default=0.0, ge=0)
    candidates: int = Field(default=50, ge=1, le=1000)
    max_chunks_per_article: int = Field(default=2, ge=1)

    # Answers
    abstain_threshold: float = 0.042
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = 20.0

    # HTTP
    host: str = "127.0.0.1"
    port: int = 8000
    cors_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = 64 * 1024

    @property
    def index_dir(self) -> Path:
        """The active index (a symlink swapped atomically on every ingest)."""
        return self.home / "index"

    @property
    def models_dir(self) -> Path:
        """Where converted embedding models are written."""
        return self.models_path or self.home / "models"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
