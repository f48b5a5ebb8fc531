"""Checksums of a build folder: recorded in the manifest when a build is written, verified before it is read.

Verifying is cheap when nothing changed: a file is hashed again only when its stat (size, inode, change times)
differs from the one it had when it last verified, so the server can check on every request and still notice
a file overwritten while it serves.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

from pydantic import ValidationError

from rag.index.base import FORMAT_VERSION, REBUILD, DamagedIndexError, FileDigest, IncompatibleIndexError, Manifest
from rag.index.local import folder

_BLOCK = 1 << 20


def digest(path: Path) -> FileDigest:
    """Size and SHA-256 of one file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_BLOCK):
            h.update(block)
    return FileDigest(size=path.stat().st_size, sha256=h.hexdigest())


def digest_build(build: Path) -> dict[str, FileDigest]:
    """Every file of a build folder but its manifest, by path relative to the build."""
    files = sorted(p for p in build.rglob("*") if p.is_file() and p.name != folder.MANIFEST_FILE)
    return {p.relative_to(build).as_posix(): digest(p) for p in files}


def _signature(st: os.stat_result) -> tuple[int, ...]:
    # ctime cannot be set back by a writer, so an in-place overwrite of the same size still changes this.
    return st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns


class Verifier:
    """Reads manifests and verifies builds against them, remembering what already verified."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._manifest: tuple[Path, tuple[int, ...], Manifest] | None = None
        # file → (its stat when last verified, the damage found then or None)
        self._known: dict[Path, tuple[tuple[int, ...], str | None]] = {}

    def manifest(self, build: Path) -> Manifest:
        """The build's manifest: DamagedIndexError when it is missing or unreadable, IncompatibleIndexError
        when it is from another version of this program."""
        path = build / folder.MANIFEST_FILE
        name = folder.part(folder.MANIFEST_FILE)
        try:
            signature = _signature(path.stat())
        except FileNotFoundError:
            raise DamagedIndexError(name, "is missing") from None
        cached = self._manifest
        if cached is not None and cached[0] == build and cached[1] == signature:
            return cached[2]
        manifest = read_manifest(path)
        self._manifest = (build, signature, manifest)
        return manifest

    def verify(self, build: Path, manifest: Manifest) -> None:
        """Raise DamagedIndexError naming the first file that is missing, of another size, or of another hash.

        One thread verifies at a time, so requests arriving together after a publish hash the new build once;
        a damaged file is not hashed again until it changes.
        """
        if not manifest.files:
            raise DamagedIndexError(folder.part(folder.MANIFEST_FILE), "lists no files")
        with self._lock:
            if any(build not in path.parents for path in self._known):
                self._known.clear()  # another build is active now
            for rel, expected in manifest.files.items():
                path = build / rel
                try:
                    signature = _signature(path.stat())
                except FileNotFoundError:
                    raise DamagedIndexError(folder.part(rel), "is missing") from None
                known = self._known.get(path)
                if known is not None and known[0] == signature:
                    problem = known[1]
                else:
                    problem = _compare(path, signature[0], expected)
                    self._known[path] = (signature, problem)
                if problem is not None:
                    raise DamagedIndexError(folder.part(rel), problem)


def _compare(path: Path, size: int, expected: FileDigest) -> str | None:
    """What is wrong with a file of ``size`` bytes that should be ``expected``, or None."""
    if size != expected.size:
        return f"is {size:,} bytes long where {expected.size:,} were written"
    if digest(path).sha256 != expected.sha256:
        return "has changed since it was written (its SHA-256 differs from the manifest's)"
    return None


def read_manifest(path: Path) -> Manifest:
    """Parse a manifest file (no caching)."""
    name = folder.part(path.name)
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise DamagedIndexError(name, "is missing") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise DamagedIndexError(name, "is not valid JSON") from None
    if isinstance(data, dict) and data.get("format_version") != FORMAT_VERSION:
        raise IncompatibleIndexError(
            f"the index was built by another version of this program (format version {data.get('format_version')}; "
            f"this version reads {FORMAT_VERSION}). {REBUILD}")
    try:
        return Manifest.model_validate(data)
    except ValidationError as e:
        raise DamagedIndexError(name, f"does not describe an index ({e.error_count()} invalid fields)") from None
