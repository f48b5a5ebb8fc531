"""The Milvus layout: one state collection, and per generation four collections with their schemas and indexes.

    <prefix>_state               the published pointer (generation, version, manifest) and the ingest lease
    <prefix>_g<N>_chunks         a row per chunk: spans, text, article fields for filters, the dense vector, the
                                 space-joined tokens and the BM25 sparse vector Milvus computes from them
    <prefix>_g<N>_sentences      a row per embedded sentence: span and vector
    <prefix>_g<N>_articles       a row per article (long texts in several parts)
    <prefix>_g<N>_stats          counters: document frequency per term, articles per account and date, totals

Every data row carries ``ver_from`` (the commit that wrote it) and ``ver_to`` (the commit that replaced or deleted
it, else ``LIVE``); readers see the rows of the published version only (``expressions.visible_at``). A rebuild
writes a new generation (new collections, so the dimension may change).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.index.base import IndexedArticle
from rag.index.milvus.expressions import LIVE
from rag.records import Article

if TYPE_CHECKING:
    from pymilvus import CollectionSchema, MilvusClient

KINDS = ("chunks", "sentences", "articles", "stats")
MAX_VARCHAR = 65535
# Milvus limits a VARCHAR to 65,535 bytes; UTF-8 needs at most 4 bytes a character, so long article texts are
# stored in parts of this many characters.
TEXT_PART_CHARS = 16_000
# Milvus (2.4.4 and later) requires a vector field in every collection; tables of text and counters carry this
# two-dimensional zero vector, which nothing searches.
PLACEHOLDER = "placeholder"
PLACEHOLDER_DIM = 2
# Scalar (inverted) indexes on the fields lookups filter by.
SCALAR_INDEXES = {"chunks": ("chunk_id", "aid"), "sentences": ("aid",), "articles": ("aid",), "stats": ("key",)}
# What ``IndexSettings.vector_index`` means on Milvus.
INDEX_TYPES = {"flat": "FLAT", "ivf": "IVF_FLAT", "hnsw": "HNSW"}


def state_name(prefix: str) -> str:
    """The collection that holds the published pointer and the lease."""
    return f"{prefix}_state"


def name(prefix: str, generation: int, kind: str) -> str:
    """The collection of ``kind`` (chunks, sentences, articles, stats) in ``generation``."""
    return f"{prefix}_g{generation}_{kind}"


def generations(client: MilvusClient, prefix: str) -> set[int]:
    """The generations that have at least one collection."""
    pattern = re.compile(rf"^{re.escape(prefix)}_g(\d+)_({'|'.join(KINDS)})$")
    return {int(m.group(1)) for c in client.list_collections() if (m := pattern.match(c))}


def term(token: str) -> str:
    """A token as Milvus's whitespace analyzer will see it (whitespace inside a token would split it)."""
    return "_".join(token.split())


def lexical_text(tokens: Iterable[str]) -> str:
    """The text the BM25 function indexes: the tokens of ``rag.tokenize``, space-separated."""
    return " ".join(t for t in (term(x) for x in tokens) if t)


# --- schemas -----------------------------------------------------------------------------------------------------
def _schema(client: MilvusClient, **varchars: int) -> CollectionSchema:
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=MAX_VARCHAR)
    for field, length in varchars.items():
        schema.add_field(field, DataType.VARCHAR, max_length=length)
    return schema


def _versioned(schema: CollectionSchema) -> CollectionSchema:
    from pymilvus import DataType

    schema.add_field("ver_from", DataType.INT64)
    schema.add_field("ver_to", DataType.INT64)
    return schema


def _placeholder(schema: CollectionSchema) -> CollectionSchema:
    from pymilvus import DataType

    schema.add_field(PLACEHOLDER, DataType.FLOAT_VECTOR, dim=PLACEHOLDER_DIM)
    return schema


def chunk_schema(client: MilvusClient, dim: int) -> CollectionSchema:
    """Chunks: spans, text, filter fields, the dense vector, and BM25 over the pre-tokenised text."""
    from pymilvus import DataType, Function, FunctionType

    schema = _schema(client, aid=MAX_VARCHAR, date=32, account=MAX_VARCHAR, text=MAX_VARCHAR)
    for field in ("chunk_id", "position", "start", "end"):
        schema.add_field(field, DataType.INT64)
    # Tokens come from rag.tokenize (jieba with our dictionary and stop words), so Milvus only splits on spaces
    # and both backends score the same terms.
    schema.add_field("tokens", DataType.VARCHAR, max_length=MAX_VARCHAR, enable_analyzer=True,
                     analyzer_params={"tokenizer": "whitespace"})
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["tokens"],
                                 output_field_names=["sparse"]))
    return _versioned(schema)


def sentence_schema(client: MilvusClient, dim: int) -> CollectionSchema:
    """Embedded sentences: the article, the span, the vector."""
    from pymilvus import DataType

    schema = _schema(client, aid=MAX_VARCHAR)
    schema.add_field("start", DataType.INT64)
    schema.add_field("end", DataType.INT64)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    return _versioned(schema)


def article_schema(client: MilvusClient) -> CollectionSchema:
    """Articles: metadata and the text, in parts of TEXT_PART_CHARS characters."""
    from pymilvus import DataType

    schema = _schema(client, aid=MAX_VARCHAR, title=MAX_VARCHAR, url=MAX_VARCHAR, date=32, account=MAX_VARCHAR,
                     source=MAX_VARCHAR, content_hash=256, text=MAX_VARCHAR)
    schema.add_field("part", DataType.INT64)
    return _placeholder(_versioned(schema))


def stats_schema(client: MilvusClient) -> CollectionSchema:
    """Counters: ``kind`` term (chunks containing it), account or date (its articles) or total; ``key``; ``count``."""
    from pymilvus import DataType

    schema = _schema(client, kind=16, key=MAX_VARCHAR)
    schema.add_field("count", DataType.INT64)
    return _placeholder(_versioned(schema))


def state_schema(client: MilvusClient) -> CollectionSchema:
    """The state: rows ``published`` (generation, version, manifest) and ``lease`` (owner, heartbeat)."""
    from pymilvus import DataType

    schema = _schema(client, manifest=MAX_VARCHAR, owner=256)
    schema.add_field("generation", DataType.INT64)
    schema.add_field("version", DataType.INT64)
    schema.add_field("heartbeat", DataType.DOUBLE)
    return _placeholder(schema)


# --- collections and indexes -------------------------------------------------------------------------------------
def vector_index(kind: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(Milvus index type, build parameters) for a vector index kind and its parameters (from the manifest)."""
    if kind == "ivf":
        return "IVF_FLAT", {"nlist": int(params["nlist"])}
    if kind == "hnsw":
        return "HNSW", {"M": int(params["m"]), "efConstruction": int(params["ef_construction"])}
    return "FLAT", {}


def search_params(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """Search parameters of a vector index kind (nprobe, ef), from the manifest."""
    if kind == "ivf":
        return {"nprobe": int(params["nprobe"])}
    if kind == "hnsw":
        return {"ef": int(params["ef_search"])}
    return {}


def create_state(client: MilvusClient, prefix: str) -> None:
    """Create the state collection if it does not exist."""
    if not client.has_collection(state_name(prefix)):
        _create(client, state_name(prefix), state_schema(client), {PLACEHOLDER: ("FLAT", "L2", {})}, ())


def create_generation(client: MilvusClient, prefix: str, generation: int, dim: int, *, k1: float,
                      b: float) -> None:
    """Create the collections of a new generation, loaded except chunks (its vector index comes at commit)."""
    bm25 = ("SPARSE_INVERTED_INDEX", "BM25", {"bm25_k1": k1, "bm25_b": b})
    flat = ("FLAT", "IP", {})
    _create(client, name(prefix, generation, "chunks"), chunk_schema(client, dim), {"sparse": bm25},
            SCALAR_INDEXES["chunks"], load=False)
    _create(client, name(prefix, generation, "sentences"), sentence_schema(client, dim), {"vector": flat},
            SCALAR_INDEXES["sentences"])
    for kind, schema in (("articles", article_schema(client)), ("stats", stats_schema(client))):
        _create(client, name(prefix, generation, kind), schema, {PLACEHOLDER: ("FLAT", "L2", {})},
                SCALAR_INDEXES[kind])


def _create(client: MilvusClient, collection: str, schema: CollectionSchema,
            vectors: dict[str, tuple[str, str, dict[str, Any]]], scalars: Sequence[str], *, load: bool = True) -> None:
    # Strong by default for every call on these collections; readers may ask for less (RAG_MILVUS_CONSISTENCY).
    client.create_collection(collection, schema=schema, consistency_level="Strong")
    index_params = client.prepare_index_params()
    for field, (index_type, metric, params) in vectors.items():
        index_params.add_index(field, index_type=index_type, metric_type=metric, params=params)
    for field in scalars:
        index_params.add_index(field, index_type="INVERTED")
    # An empty collection's indexes are built at once; pymilvus would poll each one for half a second.
    client.create_index(collection, index_params, sync=False)
    if load:
        client.load_collection(collection)


def finish_chunks(client: MilvusClient, collection: str, index_type: str, params: dict[str, Any]) -> None:
    """Build the dense vector index of a new generation's chunks (now that their number is known) and load them."""
    client.flush(collection)  # seal what was inserted, so the index is built over it before searches start
    index_params = client.prepare_index_params()
    index_params.add_index("vector", index_type=index_type, metric_type="IP", params=params)
    client.create_index(collection, index_params, sync=False)
    wait = 0.02
    while (state := client.describe_index(collection, "vector"))["state"] != "Finished" \
            or state.get("pending_index_rows", 0):
        if state["state"] == "Failed":
            raise RuntimeError(f"Milvus could not build the {index_type} index of {collection}: {state}")
        time.sleep(wait)
        wait = min(1.0, wait * 2)
    client.load_collection(collection)


def drop_generation(client: MilvusClient, prefix: str, generation: int) -> None:
    """Drop every collection of ``generation``."""
    for kind in KINDS:
        if client.has_collection(name(prefix, generation, kind)):
            client.drop_collection(name(prefix, generation, kind))


# --- rows ---------------------------------------------------------------------------------------------------------
def chunk_rows(entry: IndexedArticle, version: int) -> list[dict[str, Any]]:
    """The chunk rows of one article, written by ``version``."""
    a = entry.article
    vectors = np.asarray(entry.vectors, dtype=np.float32)
    return [{"pk": f"{c.chunk_id}@{version}", "chunk_id": c.chunk_id, "aid": a.aid, "position": c.position,
             "start": c.start, "end": c.end, "date": a.date, "account": a.account, "text": c.text,
             "tokens": lexical_text(tokens), "vector": v.tolist(), "ver_from": version, "ver_to": LIVE}
            for c, tokens, v in zip(entry.chunks, entry.tokens, vectors, strict=True)]


def sentence_rows(entry: IndexedArticle, version: int) -> list[dict[str, Any]]:
    """The sentence rows of one article, written by ``version``."""
    aid = entry.article.aid
    vectors = np.asarray(entry.sentence_vectors, dtype=np.float32)
    return [{"pk": f"{aid}@{version}#{i}", "aid": aid, "start": s, "end": e, "vector": v.tolist(),
             "ver_from": version, "ver_to": LIVE}
            for i, ((s, e), v) in enumerate(zip(entry.sentences, vectors, strict=True))]


def article_rows(article: Article, version: int) -> list[dict[str, Any]]:
    """The rows of one article: its metadata on each, its text cut into parts."""
    for field in ("aid", "title", "url", "account", "source"):
        if len(getattr(article, field)) > TEXT_PART_CHARS:
            raise ValueError(f"article {article.aid[:100]}: its {field} is longer than {TEXT_PART_CHARS} characters")
    text = article.text
    parts = [text[i : i + TEXT_PART_CHARS] for i in range(0, len(text), TEXT_PART_CHARS)] or [""]
    meta = article.model_dump(exclude={"text"})
    return [{**meta, "pk": f"{article.aid}@{version}#{i}", "part": i, "text": part,
             PLACEHOLDER: [0.0] * PLACEHOLDER_DIM, "ver_from": version, "ver_to": LIVE}
            for i, part in enumerate(parts)]


def article_of(rows: list[dict[str, Any]]) -> Article:
    """The Article stored in ``rows`` (all parts of one article)."""
    rows = sorted(rows, key=lambda r: r["part"])
    return Article(**{f: rows[0][f] for f in Article.model_fields if f != "text"},
                   text="".join(r["text"] for r in rows))


def stat_row(kind: str, key: str, count: int, version: int) -> dict[str, Any]:
    """A counter row written by ``version``."""
    return {"pk": f"{kind}:{key}@{version}", "kind": kind, "key": key, "count": count,
            PLACEHOLDER: [0.0] * PLACEHOLDER_DIM, "ver_from": version, "ver_to": LIVE}


# Fields to read back when a row must be written again (to mark it replaced): all but the BM25 output.
FIELDS = {
    "chunks": ["pk", "chunk_id", "aid", "position", "start", "end", "date", "account", "text", "tokens", "vector",
               "ver_from", "ver_to"],
    "sentences": ["pk", "aid", "start", "end", "vector", "ver_from", "ver_to"],
    "articles": ["pk", "aid", "part", "title", "url", "date", "account", "source", "content_hash", "text",
                 PLACEHOLDER, "ver_from", "ver_to"],
    "stats": ["pk", "kind", "key", "count", PLACEHOLDER, "ver_from", "ver_to"],
}
