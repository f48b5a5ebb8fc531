"""The local index's folders: a build per ingest, published by swapping one symlink atomically.

Layout under ``RAG_HOME``::

    index -> indexes/20260127T101500-1a2b3c   (a symlink, swapped atomically by every ingest)
    indexes/<build>/manifest.json
    indexes/<build>/meta.sqlite
    indexes/<build>/dense/   (vectors.faiss, vectors.json)
    indexes/<build>/lexical/ (bm25s files, chunk_ids.npy)
    .ingest.lock             (held by the one ingest that may run at a time)
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LINK = "index"
BUILDS = "indexes"
MANIFEST_FILE = "manifest.json"
DB_FILE = "meta.sqlite"
DENSE_DIR = "dense"
LEXICAL_DIR = "lexical"
# Builds kept after a publish: the active one and the previous one, which a running server may still read.
KEEP_BUILDS = 2
# A temporary build this old was left by an interrupted ingest and is never published.
STALE_TMP_SECONDS = 3600


def link_path(home: Path) -> Path:
    """The ``index`` symlink that names the active build."""
    return home / LINK


def active_build(home: Path) -> Path | None:
    """The build folder the symlink points to, or None when nothing has been published."""
    link = link_path(home)
    return link.resolve() if link.exists() else None


def version(home: Path) -> str | None:
    """An identifier of the active build that changes with every publish (the symlink's target)."""
    link = link_path(home)
    try:
        return os.readlink(link)
    except FileNotFoundError:
        return None
    except OSError:  # not a symlink (e.g. copied by hand): the folder itself
        return str(link.resolve()) if link.exists() else None


@contextmanager
def ingest_lock(home: Path) -> Iterator[None]:
    """Hold the exclusive ingest lock, so two ingests never start from the same build and lose changes."""
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".ingest.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def new_build_folder(home: Path) -> Path:
    """A fresh, hidden temporary folder beside the builds (same file system, so rename is atomic)."""
    builds = home / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    name = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
    tmp = builds / f".tmp-{name}"
    tmp.mkdir()
    return tmp


def publish(tmp: Path, home: Path) -> Path:
    """Make a finished build the active index: rename it into place, then swap the symlink atomically.

    Builds beyond the newest ``KEEP_BUILDS`` are removed (a running server may still read the previous one).
    """
    final = tmp.with_name(tmp.name.removeprefix(".tmp-"))
    os.rename(tmp, final)
    link = link_path(home)
    link_tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    if link_tmp.is_symlink() or link_tmp.exists():
        link_tmp.unlink()
    os.symlink(os.path.relpath(final, link.parent), link_tmp)
    os.replace(link_tmp, link)  # atomic on POSIX: readers see the old or the new index, never half
    _prune(final.parent, active=final)
    return final


def _prune(builds: Path, *, active: Path) -> None:
    done = sorted((p for p in builds.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: p.stat().st_mtime, reverse=True)
    for old in done[KEEP_BUILDS:]:
        if old != active:
            shutil.rmtree(old, ignore_errors=True)
    # Leftovers of interrupted ingests: never published, safe to delete once they are an hour old.
    for tmp in builds.glob(".tmp-*"):
        if time.time() - tmp.stat().st_mtime > STALE_TMP_SECONDS:
            shutil.rmtree(tmp, ignore_errors=True)
