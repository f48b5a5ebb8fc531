"""One Settings object, grouped per layer. Every field maps to an environment variable ``RAG_…``.

Each layer is handed only its group (``settings.retrieval`` to retrieval, ``settings.index`` to the index
backend, …). Every default is written here and nowhere else.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from embeddings.config import DEFAULT_EMBEDDING_MODEL, EmbeddingSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent

__all__ = [
    "DEFAULT_EMBEDDING_MODEL",
    "PROJECT_ROOT",
    "AnswerSettings",
    "ChunkingSettings",
    "EmbeddingSettings",
    "HttpSettings",
    "IndexSettings",
    "RetrievalSettings",
    "Settings",
    "get_settings",
]


# Where the index lives: files on this machine, or a Milvus server, cluster or milvus-lite file.
Backend = Literal["local", "milvus"]
BACKENDS: tuple[str, ...] = get_args(Backend)


def _group(prefix: str = "RAG_") -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, extra="ignore", populate_by_name=True, frozen=True)


class ChunkingSettings(BaseSettings):
    """How articles are cut into passages (``RAG_CHUNK_SIZE``, ``RAG_CHUNK_OVERLAP``), in characters."""

    model_config = _group("RAG_CHUNK_")

    # 300/60 gave the best AnswerHit@3 in the sweep (eval/sweep.md).
    size: int = Field(default=300, ge=50, le=2000)
    overlap: int = Field(default=60, ge=0, le=1000)

    @model_validator(mode="after")
    def _overlap_below_size(self) -> ChunkingSettings:
        if self.overlap >= self.size:
            raise ValueError(f"RAG_CHUNK_OVERLAP ({self.overlap}) must be smaller than RAG_CHUNK_SIZE ({self.size})")
        return self


class IndexSettings(BaseSettings):
    """Where and how the index is stored."""

    model_config = _group()

    # Indexes (and, unless RAG_MODELS_DIR says otherwise, converted models) live here.
    home: Path = PROJECT_ROOT / ".rag"
    # Which engine holds the index (RAG_INDEX_BACKEND): a folder under RAG_HOME, or Milvus.
    backend: Backend = Field(default="local", validation_alias="RAG_INDEX_BACKEND")
    # The dense index kind: flat (exact), hnsw or ivf (approximate, for large corpora). On Milvus: FLAT, HNSW or
    # IVF_FLAT, with the same parameters below (milvus-lite has no HNSW).
    vector_index: Literal["flat", "hnsw", "ivf"] = "flat"
    hnsw_m: int = Field(default=32, ge=4, le=256)
    hnsw_ef_construction: int = Field(default=200, ge=8)
    hnsw_ef_search: int = Field(default=128, ge=1)
    ivf_nlist: int = Field(default=0, ge=0)  # 0 = 4·√n lists, FAISS's rule of thumb
    ivf_nprobe: int = Field(default=16, ge=1)
    # BM25 (Lucene variant): bm25s's defaults, recorded in the manifest.
    bm25_k1: float = Field(default=1.5, gt=0)
    bm25_b: float = Field(default=0.75, ge=0, le=1)
    # Milvus (RAG_INDEX_BACKEND=milvus): a server or cluster at http(s)://host:port, or a milvus-lite file
    # (*.db, one process at a time); empty means the file milvus.db under RAG_HOME.
    milvus_uri: str = ""
    milvus_token: SecretStr | None = None  # "user:password" or an API key; never shown or stored
    # Prefix of the collections this index uses (several indexes can share one Milvus under other names).
    milvus_collection: str = Field(default="policy_rag", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,100}$")
    # Strong: a search sees every commit published before it (what makes publishing atomic for readers).
    milvus_consistency: Literal["Strong", "Bounded", "Session", "Eventually"] = "Strong"
    # Seconds one Milvus call may take, retries included, before the request fails (503) instead of hanging.
    milvus_timeout: int = Field(default=10, ge=1)

    @property
    def milvus_target(self) -> str:
        """The Milvus URI to connect to (``milvus_uri``, or the milvus-lite file under RAG_HOME)."""
        return self.milvus_uri or str(self.home / "milvus.db")


class RetrievalSettings(BaseSettings):
    """Hybrid retrieval: fusion, candidates and the shape of a result page."""

    model_config = _group()

    # Reciprocal rank fusion constant k of Cormack, Clarke & Büttcher (SIGIR 2009): it damps the weight of
    # the very top ranks so that one retriever's first hit cannot outvote agreement further down.
    rrf_k: int = Field(default=60, ge=1)
    dense_weight: float = Field(default=1.0, ge=0)
    lexical_weight: float = Field(default=1.0, ge=0)
    # Multiplies lexical_weight for English questions, whose BM25 terms are translations (eval/sweep.md).
    cross_lingual_lexical_factor: float = Field(default=1.0, ge=0)
    # Weight of the third ranking for questions that name a day or a week: the candidates published on those
    # days or naming them (a soft boost; filters are for exclusion).
    date_weight: float = Field(default=1.0, ge=0)
    # Candidates taken from each retriever before fusion.
    candidates: int = Field(default=50, ge=1, le=1000)
    # Passages one article may contribute to a result page. A long article's answer often lies past its two best
    # passages; 4 cited more answers in the first five and found the article in them as often (eval/sweep.md, on
    # the early and, separately, the blind questions).
    max_chunks_per_article: int = Field(default=4, ge=1)
    # Merged neighbouring chunks stop growing a passage beyond this many characters (about two chunks).
    max_passage_chars: int = Field(default=700, ge=50)
    # How many nearest chunks form the background the best match must stand out from (the dense margin).
    margin_background: int = Field(default=50, ge=1)


class AnswerSettings(BaseSettings):
    """Answers: when to abstain, and the optional LLM that writes them."""

    model_config = _group()

    # Abstain when the reader's P(the passages answer the question) is below this; None uses the threshold fitted
    # with the reader's model (at most 5 % false abstentions on the gold set, cross-validated).
    abstain_threshold: float | None = Field(default=None, ge=0, le=1)
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = Field(default=20.0, gt=0)


class HttpSettings(BaseSettings):
    """The HTTP server: where it listens, its limits, and who may use it."""

    model_config = _group()

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # Allowed CORS origins as a JSON list; CORS is off when empty.
    cors_origins: list[str] = Field(default_factory=list)
    # Host headers served, as a JSON list ("*.example.org" matches subdomains, "*" anything). Empty: the
    # localhost names and RAG_HOST; anything else is refused, so a web page cannot reach a local server
    # through DNS rebinding.
    trusted_hosts: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # Bodies of POST /api/admin/articles (whole exports) may be larger.
    max_upload_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    # Seconds a client may take to send a request's headers, then its body; then 408 and the connection closes,
    # so slow clients cannot hold connections open. Between requests, idle keep-alive connections close after
    # keep_alive_timeout.
    header_timeout: float = Field(default=10.0, gt=0)
    body_timeout: float = Field(default=10.0, gt=0)
    keep_alive_timeout: float = Field(default=5.0, gt=0)
    # Requests served at once (the rest get 503 + Retry-After at once instead of queueing). Searches are CPU-bound:
    # two per core keep the cores busy while the latency of the served ones stays near 4 × one request's time
    # on two cores (eval/bench_load.py). Raise it when answers come from an LLM (they mostly wait).
    max_concurrent_requests: int = Field(default=4, ge=1)
    # Open connections beyond which uvicorn itself answers 503 (a backstop against running out of sockets).
    max_connections: int = Field(default=1000, ge=1)
    # Requests per client address, in the notation of the `limits` library ("120/minute", "10/second;1000/hour");
    # None = no rate limit. Over it: 429 + Retry-After.
    rate_limit: str | None = None
    # Bearer tokens. RAG_ADMIN_TOKEN enables the write API (/api/admin/…); RAG_API_TOKEN, when set, is required
    # by the read API too (the admin token is accepted there as well). /healthz and the page stay open.
    admin_token: SecretStr | None = None
    api_token: SecretStr | None = None

    @field_validator("rate_limit")
    @classmethod
    def _parse_rate_limit(cls, value: str | None) -> str | None:
        if not value:
            return None
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError:
            raise ValueError(f"RAG_RATE_LIMIT {value!r} is not a rate such as '120/minute' or '10/second'") from None
        return value

    @field_validator("admin_token", "api_token")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("tokens must be at least 16 characters (e.g. `openssl rand -hex 32`)")
        return value


class Settings(BaseSettings):
    """Everything configurable, read once from the environment (``get_settings``)."""

    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore", populate_by_name=True)

    # What `make run` / `rag ingest` index when given no path.
    corpus: Path = PROJECT_ROOT / "data"
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    chunking: ChunkingSettings = Field(default_factory=ChunkingSettings)
    index: IndexSettings = Field(default_factory=IndexSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)

    @model_validator(mode="after")
    def _models_under_home(self) -> Settings:
        # Converted models default to RAG_HOME/models; the embedding layer itself knows nothing of RAG_HOME.
        if self.embedding.models_dir is None:
            self.embedding = self.embedding.model_copy(update={"models_dir": self.index.home / "models"})
        return self

    @property
    def home(self) -> Path:
        """RAG_HOME."""
        return self.index.home

    def updated(self, **groups: dict[str, Any]) -> Settings:
        """A copy with fields of some groups replaced, e.g. ``updated(chunking={"size": 200})``, validated as the
        environment's values are (an overlap not below the size is refused here too). The environment is not read
        again: ``model_validate`` takes only what it is given."""
        changes: dict[str, Any] = {}
        for name, fields in groups.items():
            group = getattr(self, name)
            changes[name] = (type(group).model_validate({**group.model_dump(), **fields})
                             if isinstance(group, BaseSettings) else fields)
        return type(self).model_validate({**{name: getattr(self, name) for name in type(self).model_fields},
                                          **changes})


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
