"""The local index's folders: a build per ingest, published by swapping one symlink atomically.

Layout under ``RAG_HOME``::

    index -> indexes/20260127T101500-1a2b3c   (a symlink, swapped atomically by every ingest)
    indexes/<build>/manifest.json
    indexes/<build>/meta.sqlite
    indexes/<build>/dense/   (vectors.faiss, vectors.json)
    indexes/<build>/lexical/ (bm25s files, chunk_ids.npy)
    .ingest.lock             (held by the one ingest that may run at a time)

Messages name files as ``RAG_HOME/index/…`` (:func:`part`), never by absolute path: the same sentence is printed
by the CLI and served over HTTP.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.index.base import DamagedIndexError, IngestRunningError

LINK = "index"
BUILDS = "indexes"
MANIFEST_FILE = "manifest.json"
DB_FILE = "meta.sqlite"
DENSE_DIR = "dense"
LEXICAL_DIR = "lexical"
# Builds kept after a publish: the active one and the previous one, which a running server may still read.
KEEP_BUILDS = 2
TMP_PREFIX = ".tmp-"


def link_path(home: Path) -> Path:
    """The ``index`` symlink that names the active build."""
    return home / LINK


def part(relative: str = "") -> str:
    """How messages name a file of the active build: ``RAG_HOME/index/<relative>``."""
    return f"RAG_HOME/{LINK}/{relative}".rstrip("/")


def active_build(home: Path) -> Path | None:
    """The build folder the symlink points to, or None when nothing has been published.

    A link whose build folder is gone is damage (DamagedIndexError), not a missing index.
    """
    link = link_path(home)
    if link.exists():
        return link.resolve()
    if link.is_symlink():
        raise DamagedIndexError(part(), f"points to {os.readlink(link)}, which is missing")
    return None


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
def ingest_lock(home: Path, *, wait: bool = True) -> Iterator[None]:
    """Hold the exclusive ingest lock, so two ingests never start from the same build and lose changes.

    The lock is the kernel's (flock): a killed ingest releases it. Without ``wait``, a held lock raises
    IngestRunningError at once. Holding it, every temporary build folder is a leftover of a killed ingest and
    is removed.
    """
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".ingest.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise IngestRunningError("another ingest is running; try again when it has finished") from None
        remove_leftovers(home)
        yield


def remove_leftovers(home: Path) -> list[str]:
    """Delete the temporary build folders of interrupted ingests; call with the ingest lock held."""
    builds = home / BUILDS
    gone = sorted(p.name for p in builds.glob(f"{TMP_PREFIX}*")) if builds.is_dir() else []
    for name in gone:
        shutil.rmtree(builds / name, ignore_errors=True)
    return gone


def new_build_folder(home: Path) -> Path:
    """A fresh, hidden temporary folder beside the builds (same file system, so rename is atomic)."""
    builds = home / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    name = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns() % 10**6:06d}"
    tmp = builds / f"{TMP_PREFIX}{name}"
    tmp.mkdir()
    return tmp


def publish(tmp: Path, home: Path) -> Path:
    """Make a finished build the active index: rename it into place, then swap the symlink atomically.

    Call with the ingest lock held. Builds beyond the newest ``KEEP_BUILDS`` are removed (a running server may
    still read the previous one).
    """
    final = tmp.with_name(tmp.name.removeprefix(TMP_PREFIX))
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
