"""The index folder: SQLite metadata, the dense index and BM25, described by a manifest.

Layout under ``RAG_HOME``::

    index -> indexes/20260127T101500-1a2b3c   (a symlink, swapped atomically by every ingest)
    indexes/<build>/manifest.json
    indexes/<build>/meta.sqlite
    indexes/<build>/dense/   (vectors.faiss, vectors.json)
    indexes/<build>/lexical/ (bm25s files, chunk_ids.npy)
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.lexical import LexicalIndex
from rag.store import DB_FILE, MetadataStore
from rag.vectors import VectorIndex, load_vector_index

FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"


class IndexUnavailableError(RuntimeError):
    """Base class for index problems the user can act on."""


class NoIndexError(IndexUnavailableError):
    """No index has been built yet."""

    def __init__(self, where: Path):
        super().__init__(f"no index at {where}; build one with `rag ingest data/` (or `make run`)")


class IncompatibleIndexError(IndexUnavailableError):
    """The index was built with another format, model or dimension."""


@dataclass
class LoadedIndex:
    """The three parts of one index folder, loaded for searching."""

    folder: Path
    manifest: dict[str, Any]
    store: MetadataStore
    vectors: VectorIndex
    lexical: LexicalIndex


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of an index folder."""
    return json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))


def check_compatible(manifest: dict[str, Any], model_name: str | None, dim: int | None) -> None:
    """Refuse an index built with another format version, embedding model or dimension."""
    problems = []
    if manifest.get("format_version") != FORMAT_VERSION:
        problems.append(f"format version {manifest.get('format_version')} (this version reads {FORMAT_VERSION})")
    if model_name is not None and manifest.get("embedding_model") != model_name:
        problems.append(f"embedding model {manifest.get('embedding_model')!r} (active: {model_name!r})")
    if dim is not None and manifest.get("dim") != dim:
        problems.append(f"dimension {manifest.get('dim')} (active model: {dim})")
    if problems:
        raise IncompatibleIndexError(
            "the index was built with " + "; ".join(problems) + ". Run `rag ingest --rebuild PATH` to rebuild it."
        )


def active_folder(index_link: Path) -> Path:
    """The build folder the ``index`` symlink points to."""
    if not index_link.exists():
        raise NoIndexError(index_link)
    return index_link.resolve()


def load_index(index_link: Path, *, model_name: str | None = None, dim: int | None = None) -> LoadedIndex:
    """Load the active index, checking it against the active model."""
    folder = active_folder(index_link)
    try:
        manifest = read_manifest(folder)
    except FileNotFoundError:
        raise NoIndexError(index_link) from None
    check_compatible(manifest, model_name, dim)
    return LoadedIndex(
        folder=folder,
        manifest=manifest,
        store=MetadataStore(folder / DB_FILE, readonly=True),
        vectors=load_vector_index(manifest.get("vector_backend", "faiss"), folder / "dense"),
        lexical=LexicalIndex.load(folder / "lexical"),
    )


def new_build_folder(home: Path) -> Path:
    """A fresh, hidden temporary folder beside the builds (same file system, so rename is atomic)."""
    builds = home / "indexes"
    builds.mkdir(parents=True, exist_ok=True)
    name = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
    tmp = builds / f".tmp-{name}"
    tmp.mkdir()
    return tmp


def publish(tmp: Path, index_link: Path, *, keep: int = 2) -> Path:
    """Make a finished build the active index: rename it into place, then swap the symlink atomically.

    Older builds beyond ``keep`` are removed (a running server may still read the previous one).
    """
    final = tmp.with_name(tmp.name.removeprefix(".tmp-"))
    os.rename(tmp, final)
    link_tmp = index_link.with_name(f".{index_link.name}.{os.getpid()}.tmp")
    if link_tmp.is_symlink() or link_tmp.exists():
        link_tmp.unlink()
    os.symlink(os.path.relpath(final, index_link.parent), link_tmp)
    os.replace(link_tmp, index_link)  # atomic on POSIX: readers see the old or the new index, never half
    _prune(final.parent, keep=keep, active=final)
    return final


def _prune(builds: Path, *, keep: int, active: Path) -> None:
    done = sorted((p for p in builds.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: p.stat().st_mtime, reverse=True)
    for old in done[keep:]:
        if old != active:
            shutil.rmtree(old, ignore_errors=True)
    # Leftovers of interrupted ingests: never published, safe to delete once they are an hour old.
    for tmp in builds.glob(".tmp-*"):
        if time.time() - tmp.stat().st_mtime > 3600:
            shutil.rmtree(tmp, ignore_errors=True)
