"""What readers follow and what serialises writers: the published pointer and the ingest lease (state collection).

Publishing is one upsert of the ``published`` row (generation, version, manifest): a single-row write is atomic in
Milvus, so a reader that reads the pointer and then the rows visible at that version sees one commit whole.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pydantic import ValidationError

from rag.index.base import IncompatibleIndexError, IndexUnavailableError, IngestRunningError, Manifest
from rag.index.milvus import layout

if TYPE_CHECKING:
    from pymilvus import MilvusClient

PUBLISHED = "published"
LEASE = "lease"
# A writer renews its lease this often; a lease not renewed for LEASE_SECONDS belonged to a writer that died.
HEARTBEAT_SECONDS = 20
LEASE_SECONDS = 120
# Deadline of one read of the lease row (a busy Milvus can take a while; see Lease.check).
LEASE_READ_TIMEOUT = 30
# Pause between two reads of the lease row when one failed.
LEASE_RETRY_SECONDS = 1


@dataclass(frozen=True)
class Published:
    """The published index: its generation (set of collections), version (commit) and manifest."""

    generation: int
    version: int
    manifest: Manifest

    @property
    def id(self) -> str:
        """Changes with every commit (``Backend.version``)."""
        return f"{self.generation}.{self.version}"


def _row(client: MilvusClient, prefix: str, key: str, timeout: int) -> dict | None:
    from pymilvus.exceptions import MilvusException

    try:  # one call (every request reads the pointer); a missing collection means nothing was published
        rows = client.get(layout.state_name(prefix), ids=[key], output_fields=["*"], timeout=timeout)
    except MilvusException as e:
        if "not found" in str(e.message).lower() and not client.has_collection(layout.state_name(prefix)):
            return None
        raise
    return rows[0] if rows else None


def read(client: MilvusClient, prefix: str, timeout: int) -> Published | None:
    """The published pointer, or None when nothing has been published."""
    row = _row(client, prefix, PUBLISHED, timeout)
    if row is None:
        return None
    try:
        manifest = Manifest.model_validate_json(row["manifest"])
    except ValidationError:
        raise IncompatibleIndexError(
            f"collection {layout.state_name(prefix)} holds a manifest this version does not read (an older "
            "format?). Run `rag ingest --rebuild` to rebuild the index.") from None
    return Published(int(row["generation"]), int(row["version"]), manifest)


def write(client: MilvusClient, prefix: str, published: Published) -> None:
    """Publish: readers that look after this call see ``published``."""
    client.upsert(layout.state_name(prefix), [{
        "pk": PUBLISHED, "generation": published.generation, "version": published.version,
        "manifest": published.manifest.model_dump_json(), "owner": "", "heartbeat": time.time(),
        layout.PLACEHOLDER: [0.0] * layout.PLACEHOLDER_DIM}])


class Lease:
    """The right to write: one ingest at a time per collection prefix, renewed by a background thread.

    It guards against running two ingests by accident (the second is refused with who holds the lease); it is not a
    consensus protocol, and two writers starting within the same instant could both take it. A commit checks it
    still holds the lease and publishes nothing otherwise.
    """

    def __init__(self, client: MilvusClient, prefix: str, read_timeout: float = LEASE_READ_TIMEOUT):
        self.client = client
        self.prefix = prefix
        self.read_timeout = read_timeout
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost = False
        self._renewed = time.monotonic()  # when the lease was last written as ours

    def take(self, *, wait: bool = True) -> None:
        """Take the lease, waiting for another writer to finish, or (``wait`` false) raise IngestRunningError
        naming the writer that holds it."""
        while True:
            row = _row(self.client, self.prefix, LEASE, timeout=self.read_timeout)
            if row is None or not row["owner"] or time.time() - row["heartbeat"] >= LEASE_SECONDS:
                break
            if not wait:
                raise IngestRunningError(
                    f"another ingest ({row['owner']}) is writing to the Milvus collections {self.prefix}_*; wait "
                    f"for it to finish (the lease of one that died expires {LEASE_SECONDS} s after its last "
                    "heartbeat)")
            time.sleep(1.0)
        self._renew()
        if self.holder() != self.owner:
            raise IngestRunningError(f"another ingest took the lease on {self.prefix}_* at the same moment")
        self._thread = threading.Thread(target=self._beat, name="milvus-lease", daemon=True)
        self._thread.start()

    def _renew(self) -> None:
        self.client.upsert(layout.state_name(self.prefix), [{
            "pk": LEASE, "generation": 0, "version": 0, "manifest": "", "owner": self.owner,
            "heartbeat": time.time(), layout.PLACEHOLDER: [0.0] * layout.PLACEHOLDER_DIM}])
        self._renewed = time.monotonic()

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                if self.holder() != self.owner:
                    self.lost = True
                    return
                self._renew()
            except Exception:  # Milvus unreachable for a moment: the commit's own check decides
                continue

    def held(self) -> bool:
        """True when this writer surely still holds the lease (False when lost, or when Milvus cannot say)."""
        try:
            return not self.lost and self.holder() == self.owner
        except Exception:  # unreachable: act as if lost, and leave the rows to the next writer
            return False

    def holder(self) -> str | None:
        """Who holds the lease now."""
        row = _row(self.client, self.prefix, LEASE, timeout=self.read_timeout)
        return row["owner"] if row else None

    def check(self) -> None:
        """Raise unless this writer still holds the lease (checked right before publishing).

        A Milvus too busy to answer within the read deadline (seen under a heavy milvus-lite insert) is asked again
        until the lease could have expired: a slow moment must not throw a long ingest away.
        """
        import grpc
        from pymilvus.exceptions import MilvusException

        deadline = time.monotonic() + LEASE_SECONDS
        while True:
            try:
                holder = self.holder()
                break
            except (MilvusException, grpc.RpcError):
                if time.monotonic() >= deadline:
                    raise
                time.sleep(LEASE_RETRY_SECONDS)  # an error that comes at once must not become a busy loop
        if holder != self.owner:
            self.lost = True
        self._raise_if_lost()

    def check_not_lost(self) -> None:
        """Raise if the lease is known to be taken; asks Milvus only when no heartbeat has renewed it lately (a
        writer that stalled may resume before its heartbeat wakes), so it is cheap enough before every write."""
        self._raise_if_lost()
        if time.monotonic() - self._renewed > HEARTBEAT_SECONDS:
            self.check()

    def _raise_if_lost(self) -> None:
        if self.lost:
            raise IndexUnavailableError(
                f"this ingest lost its lease on {self.prefix}_* (another ingest took over after it stalled for "
                f"{LEASE_SECONDS} s); nothing was published")

    def release(self) -> None:
        """Stop renewing and free the lease (if still ours)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            if self.holder() == self.owner:
                self.client.delete(layout.state_name(self.prefix), ids=[LEASE])
        except Exception:  # the lease expires by itself
            pass
