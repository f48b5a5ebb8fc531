"""Article and chunk metadata in SQLite (standard library), with the filters retrieval needs."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from rag.records import Article, Chunk, Filters

_ARTICLE_COLUMNS = ("aid", "title", "url", "date", "account", "text", "source", "content_hash")
_CHUNK_COLUMNS = ("chunk_id", "aid", "position", "start", "end", "text")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    aid TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    url TEXT NOT NULL,
    date TEXT NOT NULL,
    account TEXT NOT NULL,
    text TEXT NOT NULL,
    source TEXT NOT NULL,
    content_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id INTEGER PRIMARY KEY,
    aid TEXT NOT NULL REFERENCES articles(aid) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text TEXT NOT NULL,
    tokens TEXT NOT NULL  -- space-joined BM25 tokens, so the lexical index can be rebuilt without jieba
);
CREATE TABLE IF NOT EXISTS sentences (
    aid TEXT NOT NULL REFERENCES articles(aid) ON DELETE CASCADE,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    vector BLOB NOT NULL  -- float32, little-endian
);
CREATE INDEX IF NOT EXISTS chunks_aid ON chunks(aid);
CREATE INDEX IF NOT EXISTS sentences_aid ON sentences(aid);
CREATE INDEX IF NOT EXISTS articles_date ON articles(date);
"""


class MetadataStore:
    """SQLite access. One connection per thread, so concurrent requests never share a cursor; all of them are
    remembered, so the store can close them together when its build is replaced."""

    def __init__(self, path: Path, *, readonly: bool = False):
        self.path = path
        self.readonly = readonly
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[sqlite3.Connection] = []
        if not readonly:
            with self._conn() as conn:
                conn.executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # as_uri() percent-encodes, so a RAG_HOME with "?" or "#" in it still works.
            uri = self.path.resolve().as_uri() + ("?mode=ro" if self.readonly else "")
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            conn.execute("PRAGMA foreign_keys = ON")
            self._local.conn = conn
            with self._lock:
                self._open.append(conn)
        return conn

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
            with self._lock:
                if conn in self._open:
                    self._open.remove(conn)

    def close_all(self) -> None:
        """Close every thread's connection; call only when no thread is using the store any more."""
        with self._lock:
            conns, self._open = self._open, []
        for conn in conns:
            conn.close()
        # Threads that come back get a fresh connection rather than a closed one.
        self._local = threading.local()

    # --- writing -----------------------------------------------------------------------------------
    def upsert_article(self, article: Article, chunks: list[Chunk], tokens: list[list[str]],
                       sentences: list[tuple[int, int]], sentence_vectors: np.ndarray) -> None:
        """Insert or replace an article, all its chunks and its sentence vectors."""
        conn = self._conn()
        vectors = np.ascontiguousarray(sentence_vectors, dtype="<f4")
        with conn:
            conn.execute("DELETE FROM chunks WHERE aid = ?", (article.aid,))
            conn.execute("DELETE FROM sentences WHERE aid = ?", (article.aid,))
            conn.execute(
                "INSERT OR REPLACE INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (article.aid, article.title, article.url, article.date, article.account,
                 article.text, article.source, article.content_hash),
            )
            conn.executemany(
                'INSERT INTO chunks (chunk_id, aid, position, start, "end", text, tokens) VALUES (?,?,?,?,?,?,?)',
                [
                    (c.chunk_id, c.aid, c.position, c.start, c.end, c.text, " ".join(t))
                    for c, t in zip(chunks, tokens, strict=True)
                ],
            )
            conn.executemany(
                'INSERT INTO sentences (aid, start, "end", vector) VALUES (?,?,?,?)',
                [(article.aid, s, e, v.tobytes()) for (s, e), v in zip(sentences, vectors, strict=True)],
            )

    def delete_articles(self, aids: Iterable[str]) -> list[int]:
        """Delete articles and their chunks; returns the removed chunk ids."""
        aids = list(aids)
        conn = self._conn()
        removed: list[int] = []
        with conn:
            for aid in aids:
                removed += [r[0] for r in conn.execute("SELECT chunk_id FROM chunks WHERE aid = ?", (aid,))]
                conn.execute("DELETE FROM chunks WHERE aid = ?", (aid,))
                conn.execute("DELETE FROM sentences WHERE aid = ?", (aid,))
                conn.execute("DELETE FROM articles WHERE aid = ?", (aid,))
        return removed

    # --- reading -----------------------------------------------------------------------------------
    def content_hashes(self) -> dict[str, str]:
        """aid → content hash of every stored article."""
        return dict(self._conn().execute("SELECT aid, content_hash FROM articles"))

    def chunk_ids_of(self, aids: Iterable[str]) -> list[int]:
        """Chunk ids of the given articles."""
        conn = self._conn()
        out: list[int] = []
        for aid in aids:
            out += [r[0] for r in conn.execute("SELECT chunk_id FROM chunks WHERE aid = ?", (aid,))]
        return out

    def all_tokens(self) -> tuple[list[int], list[list[str]]]:
        """(chunk ids, token lists) of every chunk, in chunk id order."""
        rows = self._conn().execute("SELECT chunk_id, tokens FROM chunks ORDER BY chunk_id").fetchall()
        return [r[0] for r in rows], [r[1].split(" ") if r[1] else [] for r in rows]

    def article(self, aid: str) -> Article | None:
        """One article, or None."""
        row = self._conn().execute(
            "SELECT aid, title, url, date, account, text, source, content_hash FROM articles WHERE aid = ?", (aid,)
        ).fetchone()
        return Article(**dict(zip(_ARTICLE_COLUMNS, row, strict=True))) if row else None

    def articles(self, aids: Iterable[str]) -> dict[str, Article]:
        """aid → Article for the given aids that exist."""
        aids = list(dict.fromkeys(aids))
        if not aids:
            return {}
        marks = ",".join("?" * len(aids))
        rows = self._conn().execute(
            f"SELECT aid, title, url, date, account, text, source, content_hash FROM articles WHERE aid IN ({marks})",
            aids,
        )
        return {r[0]: Article(**dict(zip(_ARTICLE_COLUMNS, r, strict=True))) for r in rows}

    def chunks(self, chunk_ids: Iterable[int]) -> dict[int, Chunk]:
        """chunk id → Chunk for the given ids that exist."""
        ids = list(dict.fromkeys(int(i) for i in chunk_ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._conn().execute(
            f'SELECT chunk_id, aid, position, start, "end", text FROM chunks WHERE chunk_id IN ({marks})', ids
        )
        return {r[0]: Chunk(**dict(zip(_CHUNK_COLUMNS, r, strict=True))) for r in rows}

    def filter_chunk_ids(self, filters: Filters) -> list[int]:
        """Chunk ids of articles matching every filter (dates inclusive)."""
        where, args = [], []
        if filters.date_from:
            where.append("a.date >= ?")
            args.append(filters.date_from.isoformat())
        if filters.date_to:
            where.append("a.date <= ?")
            args.append(filters.date_to.isoformat())
        if filters.account:
            where.append("a.account = ?")
            args.append(filters.account)
        if filters.aids is not None:
            if not filters.aids:
                return []
            where.append(f"a.aid IN ({','.join('?' * len(filters.aids))})")
            args += list(filters.aids)
        sql = "SELECT c.chunk_id FROM chunks c JOIN articles a ON a.aid = c.aid"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [r[0] for r in self._conn().execute(sql, args)]

    def sentences(self, aids: Iterable[str]) -> dict[str, tuple[list[tuple[int, int]], np.ndarray]]:
        """aid → (sentence spans, float32 vectors) for the given aids that have sentences, in text order."""
        aids = list(dict.fromkeys(aids))
        if not aids:
            return {}
        rows = self._conn().execute(
            f'SELECT aid, start, "end", vector FROM sentences WHERE aid IN ({",".join("?" * len(aids))}) '
            'ORDER BY aid, start', aids)
        grouped: dict[str, list[tuple[int, int, bytes]]] = {}
        for aid, start, end, blob in rows:
            grouped.setdefault(aid, []).append((start, end, blob))
        return {aid: ([(s, e) for s, e, _ in found],
                      np.vstack([np.frombuffer(b, dtype="<f4") for _, _, b in found]).astype(np.float32))
                for aid, found in grouped.items()}

    def counts(self) -> dict[str, int]:
        """Numbers of articles, chunks and embedded sentences."""
        conn = self._conn()
        return {
            "articles": conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0],
            "chunks": conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0],
            "sentences": conn.execute("SELECT COUNT(*) FROM sentences").fetchone()[0],
        }

    def latest_date(self) -> str:
        """The newest article's date ("" when empty)."""
        return self._conn().execute("SELECT COALESCE(MAX(date), '') FROM articles").fetchone()[0]

    def accounts(self) -> list[str]:
        """Distinct account names."""
        return [r[0] for r in self._conn().execute("SELECT DISTINCT account FROM articles ORDER BY account")]
