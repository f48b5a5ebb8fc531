"""Hybrid retrieval: dense and BM25 candidates, filters before the cut, RRF fusion, diversity, merged spans."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from embeddings.model import Embedder
from rag.fusion import max_rrf_score, reciprocal_rank_fusion
from rag.index import LoadedIndex
from rag.records import Hit
from rag.tokenize import has_chinese

Mode = Literal["hybrid", "dense", "lexical"]
MODES: tuple[str, ...] = ("hybrid", "dense", "lexical")


@dataclass(frozen=True)
class Filters:
    """Restrictions applied inside both retrievers, before the top-k cut. Dates are inclusive YYYY-MM-DD."""

    date_from: str | None = None
    date_to: str | None = None
    account: str | None = None
    aids: tuple[str, ...] | None = None

    def is_empty(self) -> bool:
        """True when nothing is filtered."""
        return not (self.date_from or self.date_to or self.account or self.aids is not None)


@dataclass(frozen=True)
class RetrievalConfig:
    """Retrieval knobs (from Settings)."""

    rrf_k: int = 60
    dense_weight: float = 1.0
    lexical_weight: float = 1.0
    # A question without Chinese characters shares almost no terms with Chinese articles; BM25 then ranks
    # on stray digits and Latin words, so its weight is scaled by this factor (see README, Evaluation).
    cross_lingual_lexical_factor: float = 0.0
    candidates: int = 50
    max_chunks_per_article: int = 2
    # Merged neighbours stop growing a passage beyond this many characters (about two chunks).
    max_passage_chars: int = 700


# How many nearest chunks form the background against which the best match must stand out.
EVIDENCE_BACKGROUND = 50


@dataclass
class Retrieved:
    """The ranked passages, the query vector, and how clearly the best passage stands out.

    ``evidence`` is the best dense similarity that passed the filters minus the mean similarity of the query's
    ``EVIDENCE_BACKGROUND`` nearest chunks in the whole index (None without dense retrieval). Raw cosine
    similarities of e5 models sit in a narrow band (0.75–0.95) whatever the question, and lower for English
    questions over Chinese text; the margin removes both offsets.
    """

    hits: list[Hit]
    query_vector: np.ndarray | None
    evidence: float | None = None


def _allowed(index: LoadedIndex, filters: Filters) -> np.ndarray | None:
    if filters.is_empty():
        return None
    ids = index.store.filter_chunk_ids(
        date_from=filters.date_from,
        date_to=filters.date_to,
        account=filters.account,
        aids=list(filters.aids) if filters.aids is not None else None,
    )
    return np.asarray(ids, dtype=np.int64)


def retrieve(
    index: LoadedIndex,
    embedder: Embedder,
    query: str,
    *,
    top_k: int = 5,
    mode: Mode = "hybrid",
    filters: Filters | None = None,
    config: RetrievalConfig | None = None,
) -> Retrieved:
    """The ``top_k`` passages for ``query``.

    ``score`` direction is always "higher is better": in ``hybrid`` mode it is the fused RRF score divided by
    its maximum (1.0 = first for both retrievers), in ``dense`` mode the cosine similarity, in ``lexical``
    mode the BM25 score. ``scores`` carries the parts: ``dense``, ``lexical``, ``dense_rank`` and
    ``lexical_rank``.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    config = config or RetrievalConfig()
    filters = filters or Filters()
    allowed = _allowed(index, filters)
    if allowed is not None and len(allowed) == 0:
        return Retrieved([], None)
    # Enough candidates that diversity and merging still leave top_k passages.
    n_cand = max(config.candidates, top_k * (config.max_chunks_per_article + 2))

    dense: dict[int, tuple[int, float]] = {}
    qvec = None
    if mode in ("hybrid", "dense") and len(index.vectors) > 0:
        qvec = embedder.encode_queries([query])[0]
        scores, ids = index.vectors.search(qvec[None, :], max(n_cand, EVIDENCE_BACKGROUND), allowed)
        ranked = [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0][:n_cand]
        dense = {cid: (rank, s) for rank, (cid, s) in enumerate(ranked, start=1)}
        dense_best = [s for _, s in ranked[:1]]
        background = scores[0] if allowed is None else index.vectors.search(qvec[None, :], EVIDENCE_BACKGROUND)[0][0]
        background = background[np.isfinite(background)][:EVIDENCE_BACKGROUND]
    lexical: dict[int, tuple[int, float]] = {}
    if mode in ("hybrid", "lexical"):
        ranked = index.lexical.search(query, n_cand, allowed)
        lexical = {cid: (rank, s) for rank, (cid, s) in enumerate(ranked, start=1)}

    if mode == "dense":
        order = {cid: s for cid, (_, s) in dense.items()}
    elif mode == "lexical":
        order = {cid: s for cid, (_, s) in lexical.items()}
    else:
        lexical_weight = config.lexical_weight
        if not has_chinese(query):
            lexical_weight *= config.cross_lingual_lexical_factor
        weights = {"dense": config.dense_weight, "lexical": lexical_weight}
        fused = reciprocal_rank_fusion(
            {"dense": list(dense), "lexical": list(lexical)},  # dicts keep rank order
            weights,
            k=config.rrf_k,
        )
        top = max_rrf_score(weights, config.rrf_k)
        order = {cid: s / top for cid, s in fused.items()}

    ranked_ids = sorted(order, key=lambda c: (-order[c], c))
    hits = _assemble(index, ranked_ids, order, dense, lexical, top_k, config)
    evidence = None
    if qvec is not None:
        # The best dense candidate that passed the filters (it may not be on the page after fusion).
        best = max(dense_best, default=None)
        if best is not None and len(background):
            evidence = float(best - background.mean())
    return Retrieved(hits, qvec, evidence)


def _assemble(
    index: LoadedIndex,
    ranked_ids: list[int],
    order: dict[int, float],
    dense: dict[int, tuple[int, float]],
    lexical: dict[int, tuple[int, float]],
    top_k: int,
    config: RetrievalConfig,
) -> list[Hit]:
    """Apply diversity (≤ N passages an article) and merge adjacent/overlapping chunks into one passage.

    A chunk next to or overlapping a passage already chosen widens it (up to ``max_passage_chars``) instead of
    taking a place of its own; past that limit it is dropped, since the reader already has its neighbour.
    """
    chunks = index.store.chunks(ranked_ids)
    articles = index.store.articles(c.aid for c in chunks.values())
    hits: list[Hit] = []
    positions: dict[int, tuple[int, int]] = {}  # hit chunk_id → first and last chunk position it covers
    for cid in ranked_ids:
        chunk = chunks.get(cid)
        if chunk is None or chunk.aid not in articles:  # deleted between search and lookup
            continue
        same = [h for h in hits if h.aid == chunk.aid]
        near = next((h for h in same if chunk.start <= h.end and chunk.end >= h.start), None)
        if near is None:
            near = next((h for h in same if positions[h.chunk_id][0] - 1 <= chunk.position
                         <= positions[h.chunk_id][1] + 1), None)
        if near is not None:
            # Merge into the better-ranked passage: its rank and score stay, its span grows.
            start, end = min(near.start, chunk.start), max(near.end, chunk.end)
            if end - start <= config.max_passage_chars:
                near.start, near.end = start, end
                near.text = articles[chunk.aid].text[start:end]
                lo, hi = positions[near.chunk_id]
                positions[near.chunk_id] = (min(lo, chunk.position), max(hi, chunk.position))
            continue
        if len(same) >= config.max_chunks_per_article:
            continue
        article = articles[chunk.aid]
        d, lx = dense.get(cid), lexical.get(cid)
        hits.append(
            Hit(
                chunk_id=cid,
                aid=chunk.aid,
                title=article.title,
                url=article.url,
                date=article.date,
                account=article.account,
                text=chunk.text,
                start=chunk.start,
                end=chunk.end,
                score=round(order[cid], 6),
                scores={
                    "dense": round(d[1], 6) if d else None,
                    "lexical": round(lx[1], 6) if lx else None,
                    "dense_rank": d[0] if d else None,
                    "lexical_rank": lx[0] if lx else None,
                },
                position=chunk.position,
            )
        )
        positions[cid] = (chunk.position, chunk.position)
        if len(hits) >= top_k:
            break  # lower-ranked chunks may no longer widen the passages already chosen
    for rank, h in enumerate(hits, start=1):
        h.rank = rank
    return hits
