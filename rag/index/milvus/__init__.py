"""The Milvus index backend: chunks, sentences, articles and term statistics in Milvus collections.

Dense search (FLAT, IVF_FLAT or HNSW over inner products of normalised vectors, i.e. cosines), BM25 over the tokens
of ``rag.tokenize`` (Milvus's BM25 function with a whitespace analyzer) and the filters all run inside Milvus; only
the embedding model stays with the caller. How commits are published atomically: see ``layout`` and ``publish``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.index.base import (
    BuildSpec,
    DamagedIndexError,
    IndexedArticle,
    IndexUnavailableError,
    Manifest,
    NoIndexError,
    SentenceVectors,
    corpus_hash,
    with_search_settings,
)
from rag.index.milvus import connection, layout, publish
from rag.index.milvus.expressions import LIVE, both, filtered, literal, one_of, visible_at
from rag.records import Article, Chunk, Filters
from rag.settings import IndexSettings

if TYPE_CHECKING:
    from pymilvus import MilvusClient

# Milvus returns at most this many rows per query or search (its topk / query-window limit).
MAX_ROWS = 16_384
# Rows per insert call (milvus-lite inserts fastest in batches of about this size), values per ``in [...]``.
INSERT_BATCH = 500
IN_BATCH = 1_000


def _batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def query_all(client: MilvusClient, collection: str, expr: str, fields: list[str], **kwargs: Any
              ) -> list[dict[str, Any]]:
    """Every row matching ``expr`` (one call when they fit in Milvus's query window, else an iterator)."""
    rows = client.query(collection, filter=expr, output_fields=fields, limit=MAX_ROWS, **kwargs)
    if len(rows) < MAX_ROWS:
        return list(rows)
    it = client.query_iterator(collection, batch_size=MAX_ROWS // 4, filter=expr, output_fields=fields, **kwargs)
    out: list[dict[str, Any]] = []
    try:
        while batch := it.next():
            out += batch
    finally:
        it.close()
    return out


def _read_published(config: IndexSettings) -> tuple[MilvusClient, publish.Published] | None:
    """The client and the published pointer, or None when nothing was published (or there is no Milvus file)."""
    if not connection.exists(config):
        return None
    client = connection.connect(config)
    with connection.reported(config):
        published = publish.read(client, config.milvus_collection, config.milvus_timeout)
    return (client, published) if published else None


def _require_published(config: IndexSettings) -> tuple[MilvusClient, publish.Published]:
    """The client and the published pointer; NoIndexError naming where the index was looked for."""
    found = _read_published(config)
    if found is None:
        raise NoIndexError(MilvusBackend.location(config))
    return found


class MilvusIndex:
    """The published version of the index, read from Milvus."""

    def __init__(self, client: MilvusClient, config: IndexSettings, published: publish.Published):
        self.client = client
        self.config = config
        self.manifest = published.manifest
        self.generation = published.generation
        self.version = published.version
        self.names = {k: layout.name(config.milvus_collection, published.generation, k) for k in layout.KINDS}
        self._visible = visible_at(published.version)
        vectors = with_search_settings(self.manifest.vector_index, ef_search=config.hnsw_ef_search,
                                       nprobe=config.ivf_nprobe)
        self._dense_params = {"metric_type": "IP", "params": layout.search_params(vectors["kind"], vectors)}
        # Milvus's BM25 multiplies Lucene's term weight by (k1 + 1); dividing it out keeps bm25s's scores.
        self._bm25_scale = 1.0 + float(self.manifest.lexical["k1"])
        self._read: dict[str, Any] = {"timeout": config.milvus_timeout,
                                      "consistency_level": config.milvus_consistency}
        self._df: dict[str, int] | None = None

    @classmethod
    def open(cls, config: IndexSettings, spec: BuildSpec) -> MilvusIndex:
        """The published version, checked against ``spec``; its collections are loaded if Milvus released them."""
        client, published = _require_published(config)
        published.manifest.check(spec)
        with connection.reported(config):
            index = cls(client, config, published)
            for name in index.names.values():
                state = str(client.get_load_state(name).get("state"))
                if "NotExist" in state:
                    raise IndexUnavailableError(f"the Milvus collection {name} of the published index is missing; "
                                                "run `rag ingest --rebuild` to rebuild the index")
                if "NotLoad" in state:  # released, or Milvus restarted
                    client.load_collection(name)
        return index

    def _query(self, kind: str, expr: str | None, fields: list[str]) -> list[dict[str, Any]]:
        with connection.reported(self.config):
            return query_all(self.client, self.names[kind], both(self._visible, expr), fields, **self._read)

    def _search(self, data: list[Any], field: str, params: dict[str, Any], k: int,
                filters: Filters | None) -> list[tuple[int, float]]:
        if k <= 0 or (filters is not None and filters.aids == ()):
            return []
        with connection.reported(self.config):
            found = self.client.search(self.names["chunks"], data=data, anns_field=field, limit=min(k, MAX_ROWS),
                                       filter=both(self._visible, filtered(filters)), search_params=params,
                                       output_fields=["chunk_id"], **self._read)
        return [(int(hit["entity"]["chunk_id"]), float(hit["distance"])) for hit in found[0]]

    def search_dense(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> list[tuple[int, float]]:
        """Up to ``k`` (chunk_id, cosine) pairs, best first; the filters are part of Milvus's search."""
        query = np.asarray(vector, dtype=np.float32).reshape(-1).tolist()
        return self._search([query], "vector", self._dense_params, k, filters)

    def search_lexical(self, tokens: Sequence[str], k: int,
                       filters: Filters | None = None) -> list[tuple[int, float]]:
        """Up to ``k`` (chunk_id, BM25) pairs with a positive score, best first, filtered inside Milvus."""
        text = layout.lexical_text(tokens)
        if not text:
            return []
        found = self._search([text], "sparse", {"metric_type": "BM25"}, k, filters)
        return [(cid, score / self._bm25_scale) for cid, score in found if score > 0]

    def _terms(self) -> dict[str, int]:
        """term → chunks containing it in this version: read once (a version never changes), then kept in memory
        like bm25s's vocabulary, so idf and question analysis cost no query."""
        if self._df is None:
            rows = self._query("stats", 'kind == "term" and count > 0', ["key", "count"])
            self._df = {r["key"]: int(r["count"]) for r in rows}
        return self._df

    def document_frequency(self, tokens: Sequence[str]) -> list[int]:
        """How many chunks of this version contain each token."""
        df = self._terms()
        return [df.get(layout.term(t), 0) for t in tokens]

    def vocabulary(self) -> list[str]:
        """Every lexical token of this version."""
        return list(self._terms())

    def documents(self) -> int:
        """Chunks in this version (counted at its commit)."""
        return int(self.manifest.counts.get("chunks", 0))

    def chunks(self, chunk_ids: Iterable[int]) -> dict[int, Chunk]:
        """chunk_id → Chunk for the ids that exist in this version."""
        ids = list(dict.fromkeys(int(i) for i in chunk_ids))
        out: dict[int, Chunk] = {}
        for batch in _batches(ids, IN_BATCH):
            for r in self._query("chunks", one_of("chunk_id", batch),
                                 ["chunk_id", "aid", "position", "start", "end", "text"]):
                out[int(r["chunk_id"])] = Chunk(chunk_id=r["chunk_id"], aid=r["aid"], position=r["position"],
                                                start=r["start"], end=r["end"], text=r["text"])
        return out

    def articles(self, aids: Iterable[str]) -> dict[str, Article]:
        """aid → Article for the aids that exist in this version."""
        parts: dict[str, list[dict[str, Any]]] = {}
        for batch in _batches(list(dict.fromkeys(aids)), IN_BATCH):
            for r in self._query("articles", one_of("aid", batch), layout.FIELDS["articles"]):
                parts.setdefault(r["aid"], []).append(r)
        return {aid: layout.article_of(rows) for aid, rows in parts.items()}

    def sentences(self, aids: Iterable[str]) -> dict[str, SentenceVectors]:
        """aid → the article's embedded sentences (spans and vectors, in text order)."""
        found: dict[str, list[dict[str, Any]]] = {}
        for batch in _batches(list(dict.fromkeys(aids)), IN_BATCH):
            for r in self._query("sentences", one_of("aid", batch), ["aid", "start", "end", "vector"]):
                found.setdefault(r["aid"], []).append(r)
        out = {}
        for aid, rows in found.items():
            rows.sort(key=lambda r: r["start"])
            out[aid] = SentenceVectors([(int(r["start"]), int(r["end"])) for r in rows],
                                       np.asarray([r["vector"] for r in rows], dtype=np.float32))
        return out

    def _count(self, kind: str, expr: str | None = None) -> int:
        with connection.reported(self.config):
            rows = self.client.query(self.names[kind], filter=both(self._visible, expr), output_fields=["count(*)"],
                                     **self._read)
        return int(rows[0]["count(*)"])

    def counts(self) -> dict[str, int]:
        """Articles, chunks, sentences, vectors and lexical documents, counted in Milvus now."""
        chunks = self._count("chunks")
        return {"articles": self._count("articles", "part == 0"), "chunks": chunks,
                "sentences": self._count("sentences"), "vectors": chunks, "lexical_docs": chunks}

    def accounts(self) -> list[str]:
        """Distinct account names (from the per-account article counters)."""
        return sorted(r["key"] for r in self._query("stats", 'kind == "account" and count > 0', ["key"]))

    def close(self) -> None:
        """Nothing to release: the client is shared by the process."""


class MilvusWriter:
    """An ingest transaction: rows of a new version, made visible by publishing the pointer at :meth:`commit`.

    New rows carry ``ver_from = version``; rows of replaced or deleted articles get ``ver_to = version``. Readers of
    the published version (``version - 1``) see neither change until the pointer moves.
    """

    def __init__(self, config: IndexSettings, spec: BuildSpec, client: MilvusClient, lease: publish.Lease,
                 base: publish.Published | None, *, rebuild: bool):
        self.config = config
        self.lease = lease
        self.spec = spec
        self.client = client
        self.prefix = config.milvus_collection
        self.base = base
        self.fresh = rebuild or base is None
        if self.fresh:
            known = layout.generations(client, self.prefix) | ({base.generation} if base else set())
            self.generation = max(known, default=0) + 1
            self.base_version, self.version = 0, 1
            layout.create_generation(client, self.prefix, self.generation, spec.dim, k1=config.bm25_k1,
                                     b=config.bm25_b)
        else:
            assert base is not None
            self.generation, self.base_version, self.version = base.generation, base.version, base.version + 1
        self.names = {k: layout.name(self.prefix, self.generation, k) for k in layout.KINDS}
        self._seen_base = visible_at(self.base_version)
        self.committed = False
        self._pending: dict[str, list[dict[str, Any]]] = {k: [] for k in layout.KINDS}
        self._written: dict[str, dict[str, list[str]]] = {}  # aid → kind → primary keys this transaction wrote
        self._added: dict[str, Counter] = {}  # aid → what its new rows add to the counters
        self._retired: set[str] = set()  # aids whose published rows this transaction marked replaced
        self._delta: Counter = Counter()  # (kind, key) → change of that counter
        self._base_hashes: dict[str, str] | None = None  # aid → content hash in the published version
        self._changed: dict[str, str | None] = {}  # aid → its new content hash (None: deleted)
        if not self.fresh:
            self.undo()  # rows of an ingest that died before publishing

    # --- reading the base ------------------------------------------------------------------------------------
    def _base_rows(self, kind: str, expr: str, fields: list[str]) -> list[dict[str, Any]]:
        if self.fresh:
            return []
        return query_all(self.client, self.names[kind], both(self._seen_base, expr), fields)

    def content_hashes(self) -> dict[str, str]:
        """aid → content hash of every article in the published version."""
        if self._base_hashes is None:
            with connection.reported(self.config):
                self._base_hashes = {r["aid"]: r["content_hash"]
                                     for r in self._base_rows("articles", "part == 0", ["aid", "content_hash"])}
        return dict(self._base_hashes)

    # --- writing ---------------------------------------------------------------------------------------------
    def upsert(self, entry: IndexedArticle) -> None:
        """Insert or replace one article (its published rows stay visible until the commit)."""
        n_chunks, n_sentences = len(entry.chunks), len(entry.sentences)
        if len(entry.tokens) != n_chunks or np.shape(entry.vectors) != (n_chunks, self.spec.dim) \
                or np.shape(entry.sentence_vectors) != (n_sentences, self.spec.dim):
            raise ValueError(f"article {entry.article.aid}: {n_chunks} chunks, {len(entry.tokens)} token lists, "
                             f"vectors {np.shape(entry.vectors)}, {n_sentences} sentences, sentence vectors "
                             f"{np.shape(entry.sentence_vectors)} (dimension {self.spec.dim})")
        self.lease.check_not_lost()
        aid = entry.article.aid
        rows = {"chunks": layout.chunk_rows(entry, self.version),
                "sentences": layout.sentence_rows(entry, self.version),
                "articles": layout.article_rows(entry.article, self.version)}
        with connection.reported(self.config):
            self._forget(aid)
            self._retire(aid)
            for kind, new in rows.items():
                self._pending[kind] += new
            self._written[aid] = {kind: [r["pk"] for r in new] for kind, new in rows.items()}
            added: Counter = Counter({("total", "articles"): 1, ("total", "chunks"): n_chunks,
                                      ("total", "sentences"): n_sentences, ("account", entry.article.account): 1,
                                      ("date", entry.article.date): 1})
            for tokens in entry.tokens:
                added.update(("term", t) for t in {layout.term(x) for x in tokens} if t)
            self._added[aid] = added
            self._delta.update(added)
            self._changed[aid] = entry.article.content_hash
            self._flush(full_only=True)

    def delete(self, aids: Sequence[str]) -> None:
        """Remove articles (from the next version on)."""
        self.lease.check_not_lost()
        with connection.reported(self.config):
            for aid in aids:
                self._forget(aid)
                self._retire(aid)
                self._changed[aid] = None

    def _forget(self, aid: str) -> None:
        """Drop what this transaction wrote for ``aid`` (an article upserted twice keeps only the last)."""
        written = self._written.pop(aid, None)
        if written is None:
            return
        for kind, pks in written.items():
            self._pending[kind] = [r for r in self._pending[kind] if r.get("aid") != aid]
            for batch in _batches(pks, IN_BATCH):
                self.client.delete(self.names[kind], ids=list(batch))
        self._delta.subtract(self._added.pop(aid))

    def _retire(self, aid: str) -> None:
        """Mark the published rows of ``aid`` as replaced by this version, and take them out of the counters."""
        if self.fresh or aid in self._retired:
            return
        self._retired.add(aid)
        for kind in ("chunks", "sentences", "articles"):
            rows = self._base_rows(kind, f"aid == {literal(aid)}", layout.FIELDS[kind])
            for r in rows:
                if kind == "chunks":
                    self._delta[("total", "chunks")] -= 1
                    self._delta.subtract(("term", t) for t in set(r["tokens"].split()))
                elif kind == "sentences":
                    self._delta[("total", "sentences")] -= 1
                elif r["part"] == 0:
                    self._delta[("total", "articles")] -= 1
                    self._delta[("account", r["account"])] -= 1
                    self._delta[("date", r["date"])] -= 1
            self._rewrite(kind, rows, ver_to=self.version)

    def _rewrite(self, kind: str, rows: list[dict[str, Any]], *, ver_to: int) -> None:
        """Write ``rows`` again with another ``ver_to`` (Milvus 2.5 has no partial update)."""
        for batch in _batches(rows, INSERT_BATCH):
            self.client.upsert(self.names[kind], [{**r, "ver_to": ver_to} for r in batch])

    def _flush(self, *, full_only: bool = False) -> None:
        for kind, rows in self._pending.items():
            while rows and (len(rows) >= INSERT_BATCH or not full_only):
                batch, rows = rows[:INSERT_BATCH], rows[INSERT_BATCH:]
                self.client.insert(self.names[kind], batch)
            self._pending[kind] = rows

    def _write_stats(self) -> dict[str, int]:
        """Write the counters this transaction changed as rows of the new version; returns the new totals."""
        changed = [key for key, d in self._delta.items() if d != 0]
        totals = {"articles": 0, "chunks": 0, "sentences": 0}
        for kind in ("term", "account", "date", "total"):
            keys = sorted({k for kd, k in changed if kd == kind} | (set(totals) if kind == "total" else set()))
            for batch in _batches(keys, IN_BATCH):
                old = {r["key"]: r for r in self._base_rows(
                    "stats", both(f"kind == {literal(kind)}", one_of("key", batch)), layout.FIELDS["stats"])}
                self._rewrite("stats", [old[k] for k in batch if k in old and self._delta[(kind, k)]],
                              ver_to=self.version)
                for key in batch:
                    count = (int(old[key]["count"]) if key in old else 0) + self._delta[(kind, key)]
                    if count < 0:
                        raise RuntimeError(f"index inconsistent: counter {kind} {key!r} would be {count}")
                    if kind == "total":
                        totals[key] = count
                    if count > 0 and (self._delta[(kind, key)] or key not in old):
                        self._pending["stats"].append(layout.stat_row(kind, key, count, self.version))
        return totals

    def _vector_index(self, chunks: int) -> dict[str, Any]:
        """The dense index's kind and parameters: the published ones, or new ones sized for ``chunks``."""
        if not self.fresh:
            assert self.base is not None
            return dict(self.base.manifest.vector_index)
        c = self.config
        kind = c.vector_index
        params: dict[str, Any] = {"kind": kind, "engine": "milvus", "index_type": layout.INDEX_TYPES[kind]}
        if kind == "ivf":
            # 4·√n lists (FAISS's rule of thumb, as the local backend); Milvus allows at most 65,536.
            params |= {"nlist": min(65_536, c.ivf_nlist or max(1, int(4 * math.sqrt(chunks)))),
                       "nprobe": c.ivf_nprobe}
        elif kind == "hnsw":
            params |= {"m": c.hnsw_m, "ef_construction": c.hnsw_ef_construction, "ef_search": c.hnsw_ef_search}
        return params

    def commit(self) -> Manifest:
        """Write the remaining rows and counters, check them, then publish the new version with one upsert."""
        with connection.reported(self.config):
            # Before writing the counters as well as before publishing: a writer that lost its lease shares its
            # version number with the one that took over, and its counters would join that one's version.
            self._check_still_ours()
            totals = self._write_stats()
            self._flush()
            vector_index = self._vector_index(totals["chunks"])
            if self.fresh:
                layout.finish_chunks(self.client, self.names["chunks"], *layout.vector_index(
                    vector_index["kind"], vector_index))
            seen = visible_at(self.version)
            for kind, expr in (("chunks", None), ("sentences", None), ("articles", "part == 0")):
                stored = self.client.query(self.names[kind], filter=both(seen, expr), output_fields=["count(*)"])
                if int(stored[0]["count(*)"]) != totals[kind]:
                    raise RuntimeError(f"index inconsistent: {stored[0]['count(*)']} {kind} stored, "
                                       f"{totals[kind]} counted; nothing was published")
            dates = query_all(self.client, self.names["stats"], both(seen, 'kind == "date" and count > 0'), ["key"])
            hashes = self.content_hashes()
            for aid, new in self._changed.items():
                if new is None:
                    hashes.pop(aid, None)
                else:
                    hashes[aid] = new
            manifest = Manifest.of_build(
                self.spec,
                backend="milvus",
                vector_index=vector_index,
                lexical={"library": "milvus", "method": "lucene", "analyzer": "whitespace",
                         "k1": self.config.bm25_k1, "b": self.config.bm25_b},
                corpus_hash=corpus_hash(hashes),
                latest_date=max((r["key"] for r in dates), default=""),
                counts={**totals, "vectors": totals["chunks"]},
            )
            self._check_still_ours()
            publish.write(self.client, self.prefix, publish.Published(self.generation, self.version, manifest))
            self.committed = True
            self._collect_garbage()
        return manifest

    def _check_still_ours(self) -> None:
        """Raise unless what is published is still this writer's base and it still holds the lease."""
        current = publish.read(self.client, self.prefix, self.config.milvus_timeout)
        if (current and (current.generation, current.version)) != (
                self.base and (self.base.generation, self.base.version)):
            raise IndexUnavailableError("the published index changed while this ingest ran; nothing was "
                                        "published (run the ingest again)")
        self.lease.check()

    def _collect_garbage(self) -> None:
        """Remove what no reader can see any more, keeping the previous version for requests still reading it."""
        if not self.fresh:
            for kind in layout.KINDS:
                self.client.delete(self.names[kind], filter=f"ver_to <= {self.base_version}")
        keep = {self.generation} | ({self.base.generation} if self.fresh and self.base else set())
        for generation in layout.generations(self.client, self.prefix) - keep:
            layout.drop_generation(self.client, self.prefix, generation)

    def undo(self) -> None:
        """Remove the rows of unpublished versions and restore the rows they marked replaced."""
        if self.fresh:
            layout.drop_generation(self.client, self.prefix, self.generation)
            return
        after = self.base_version
        for kind in ("chunks", "sentences", "articles", "stats"):
            name = self.names[kind]
            self.client.delete(name, filter=f"ver_from > {after}")
            marked = query_all(self.client, name, f"ver_to > {after} and ver_to < {LIVE}", layout.FIELDS[kind])
            self._rewrite(kind, marked, ver_to=LIVE)


class MilvusBackend:
    """Milvus at RAG_MILVUS_URI (a server, a cluster, or a milvus-lite file), collections RAG_MILVUS_COLLECTION_*."""

    name = "milvus"

    def __init__(self) -> None:
        self._verified: tuple[str, str, str] | None = None  # (URI, prefix, version) that check() verified

    @staticmethod
    def open(config: IndexSettings, spec: BuildSpec) -> MilvusIndex:
        """The published version, checked against ``spec``."""
        return MilvusIndex.open(config, spec)

    @staticmethod
    @contextmanager
    def writer(config: IndexSettings, spec: BuildSpec, *, rebuild: bool = False,
               wait: bool = True) -> Iterator[MilvusWriter]:
        """An ingest transaction holding the lease (waited for, or IngestRunningError without ``wait``);
        abandoned (its rows removed) unless committed."""
        if config.vector_index == "hnsw" and connection.is_lite(config.milvus_target):
            raise IndexUnavailableError("milvus-lite has no HNSW index: use RAG_VECTOR_INDEX=flat or ivf, or a "
                                        "Milvus server (RAG_MILVUS_URI=http://…)")
        client = connection.connect(config)
        prefix = config.milvus_collection
        with connection.reported(config):
            layout.create_state(client, prefix)
            lease = publish.Lease(client, prefix)
            lease.take(wait=wait)  # first: what is published may change while it waits
        writer: MilvusWriter | None = None
        try:
            with connection.reported(config):
                base = publish.read(client, prefix, config.milvus_timeout)
                if base is not None and not rebuild:
                    base.manifest.check(spec)
                writer = MilvusWriter(config, spec, client, lease, base, rebuild=rebuild)
            yield writer
        finally:
            try:
                # Only a writer that still holds the lease takes its rows back: one that lost it shares its version
                # number with the writer that took over, whose rows (published, perhaps) an undo would delete. What a
                # stalled writer leaves, the next writer removes when it starts.
                if writer is not None and not writer.committed and lease.held():
                    with connection.reported(config):
                        writer.undo()
            finally:
                lease.release()

    def check(self, config: IndexSettings) -> Manifest:
        """The published manifest, after checking once per version that its collections exist and hold what it
        counts (NoIndexError, DamagedIndexError)."""
        client, published = _require_published(config)
        if self._verified == (config.milvus_target, config.milvus_collection, published.id):
            return published.manifest
        with connection.reported(config):
            names = {k: layout.name(config.milvus_collection, published.generation, k) for k in layout.KINDS}
            for name in names.values():
                if not client.has_collection(name):
                    raise DamagedIndexError(f"the Milvus collection {name}", "is missing")
            seen = visible_at(published.version)
            for kind, expr in (("chunks", None), ("sentences", None), ("articles", "part == 0")):
                stored = int(client.query(names[kind], filter=both(seen, expr), output_fields=["count(*)"])[0]
                             ["count(*)"])
                expected = published.manifest.counts.get(kind, 0)
                if stored != expected:
                    raise DamagedIndexError(f"the Milvus collection {names[kind]}",
                                            f"holds {stored} {kind} where the manifest counts {expected}")
        self._verified = (config.milvus_target, config.milvus_collection, published.id)
        return published.manifest

    @classmethod
    def manifest(cls, config: IndexSettings) -> Manifest | None:
        """The published manifest, or None."""
        found = _read_published(config)
        return found[1].manifest if found else None

    @classmethod
    def version(cls, config: IndexSettings) -> str | None:
        """``generation.version`` of the published index; changes with every commit."""
        found = _read_published(config)
        return found[1].id if found else None

    @staticmethod
    def location(config: IndexSettings) -> str:
        """The URI (without credentials or folders: messages are also served over HTTP) and the collections."""
        return f"{connection.public_uri(config.milvus_target)} (Milvus collections {config.milvus_collection}_*)"

    @staticmethod
    def describe(config: IndexSettings) -> dict[str, str]:
        """Backend, URI (no credentials, no folder) and collection prefix."""
        return {"backend": "milvus", "uri": connection.public_uri(config.milvus_target),
                "collection": config.milvus_collection}


__all__ = ["MilvusBackend", "MilvusIndex", "MilvusWriter", "connection"]
