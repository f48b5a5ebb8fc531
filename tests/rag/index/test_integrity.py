"""A damaged index is named, not crashed on: every file of a build, truncated, overwritten or missing, gives one
sentence naming the file and saying `rag ingest --rebuild` — in the service, from `rag check` and `rag search`
(exit code 3), and over HTTP (503, and /healthz "degraded" with a non-200 status).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from rag.index import IndexUnavailableError, backend_for
from rag.ingest import ingest
from rag.service import RagService
from rag.settings import Settings
from tests.conftest import LiveServer, make_settings, write_small_corpus

pytestmark = pytest.mark.slow  # builds an index of its own and damages copies of it

# Every file a local build holds; the first test fails when a build gains a file this list (and so the
# damage tests) does not cover.
FILES = ["manifest.json", "meta.sqlite", "dense/vectors.faiss", "dense/vectors.json", "lexical/chunk_ids.npy",
         "lexical/data.csc.index.npy", "lexical/indices.csc.index.npy", "lexical/indptr.csc.index.npy",
         "lexical/params.index.json", "lexical/vocab.index.json"]
DAMAGE = ["truncated", "overwritten", "missing"]


@pytest.fixture(scope="module")
def intact(tmp_path_factory, models_dir, embedder) -> Settings:
    """A small real index, built once; tests damage copies of it."""
    root = tmp_path_factory.mktemp("intact")
    settings = make_settings(root / "home", models_dir)
    ingest([write_small_corpus(root / "small.json")], settings, embedder, progress=False)
    return settings


def copy_of(intact: Settings, tmp_path: Path) -> Settings:
    home = tmp_path / "home"
    shutil.copytree(intact.home, home, symlinks=True)  # the index symlink is relative: it follows the copy
    return intact.updated(index={"home": home})


def damage(settings: Settings, name: str, how: str) -> None:
    path = settings.home / "index" / name
    if how == "missing":
        path.unlink()
    elif how == "truncated":
        size = path.stat().st_size
        with open(path, "r+b") as f:
            f.truncate(size // 2)
    else:  # overwritten in place, same size: a bad disk block, or a stray `dd`
        with open(path, "r+b") as f:
            f.write(b"\x00garbage\xff" * 4)


def run_rag(rag_env, settings: Settings, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rag.cli", *args], env=rag_env(settings), capture_output=True,
                          text=True, timeout=300)


def says_what_to_do(message: str, name: str) -> bool:
    return f"index/{name}" in message and "rag ingest --rebuild" in message


def test_the_list_of_files_covers_every_file_of_a_build(intact):
    build = intact.home / "index"
    found = sorted(p.relative_to(build).as_posix() for p in build.rglob("*") if p.is_file())
    assert found == sorted(FILES)


@pytest.mark.parametrize("how", DAMAGE)
@pytest.mark.parametrize("name", FILES)
def test_a_damaged_file_is_named_with_the_repair(intact, embedder, tmp_path, name, how):
    settings = copy_of(intact, tmp_path)
    damage(settings, name, how)
    with pytest.raises(IndexUnavailableError) as e:
        RagService(settings, embedder).index()
    assert says_what_to_do(str(e.value), name), str(e.value)
    assert str(settings.home) not in str(e.value)  # RAG_HOME-relative: the same words are safe to serve
    with pytest.raises(IndexUnavailableError) as e:
        backend_for(settings.index).check(settings.index)
    assert says_what_to_do(str(e.value), name)


@pytest.mark.parametrize("name", FILES)
def test_the_server_answers_503_and_health_says_degraded(intact, embedder, tmp_path, name):
    from api.app import create_app

    settings = copy_of(intact, tmp_path)
    damage(settings, name, "overwritten")
    with LiveServer(create_app(settings, RagService(settings, embedder))) as server:
        r = httpx.post(f"{server.url}/api/search", json={"query": "地铁"})
        assert r.status_code == 503 and r.json()["code"] == "index_damaged"
        assert says_what_to_do(r.json()["detail"], name)
        health = httpx.get(f"{server.url}/healthz")
        assert health.status_code == 503
        assert health.json()["status"] == "degraded" and says_what_to_do(health.json()["detail"], name)


def test_damage_while_serving_is_noticed_and_a_rebuild_repairs_it(intact, embedder, tmp_path):
    from api.app import create_app

    settings = copy_of(intact, tmp_path)
    with LiveServer(create_app(settings, RagService(settings, embedder))) as server:
        search = {"query": "地铁出入口恢复运营"}
        assert httpx.post(f"{server.url}/api/search", json=search).status_code == 200
        assert httpx.get(f"{server.url}/healthz").json()["status"] == "ok"
        damage(settings, "meta.sqlite", "overwritten")
        r = httpx.post(f"{server.url}/api/search", json=search)
        assert r.status_code == 503 and says_what_to_do(r.json()["detail"], "meta.sqlite")
        assert httpx.get(f"{server.url}/healthz").status_code == 503
        # The repair the message names.
        ingest([write_small_corpus(tmp_path / "small.json")], settings, embedder, rebuild=True, progress=False)
        assert httpx.post(f"{server.url}/api/search", json=search).status_code == 200
        assert httpx.get(f"{server.url}/healthz").json()["status"] == "ok"


@pytest.mark.parametrize("name", ["manifest.json", "meta.sqlite", "dense/vectors.faiss", "lexical/vocab.index.json"])
def test_rag_check_names_the_damaged_file_and_exits_3(intact, tmp_path, rag_env, name):
    settings = copy_of(intact, tmp_path)
    ok = run_rag(rag_env, settings, "check")
    assert ok.returncode == 0, ok.stderr
    assert "articles" in ok.stdout and "verified" in ok.stdout
    damage(settings, name, "truncated")
    r = run_rag(rag_env, settings, "check")
    assert r.returncode == 3 and says_what_to_do(r.stderr, name) and "Traceback" not in r.stderr


def test_rag_search_on_a_damaged_index_exits_3_without_a_traceback(intact, tmp_path, rag_env):
    settings = copy_of(intact, tmp_path)
    damage(settings, "dense/vectors.faiss", "truncated")
    r = run_rag(rag_env, settings, "search", "地铁")
    assert r.returncode == 3 and says_what_to_do(r.stderr, "dense/vectors.faiss") and "Traceback" not in r.stderr


def test_a_dangling_index_link_is_damage_not_a_missing_index(intact, embedder, tmp_path):
    settings = copy_of(intact, tmp_path)
    shutil.rmtree((settings.home / "index").resolve())
    with pytest.raises(IndexUnavailableError, match=r"rag ingest --rebuild"):
        RagService(settings, embedder).index()
    assert os.path.islink(settings.home / "index")
