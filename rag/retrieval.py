"""Hybrid retrieval: dense and BM25 candidates, filters before the cut, RRF fusion, diversity, merged spans."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from embeddings import Embedder
from rag.dates import MAX_BOOST_DAYS, DateRange, published_on
from rag.fusion import max_rrf_score, reciprocal_rank_fusion
from rag.index import Index
from rag.query import Query
from rag.records import DEFAULT_TOP_K, MODES, Article, Chunk, Filters, Hit, Mode, Scores, SearchResults
from rag.settings import RetrievalSettings


@dataclass
class Retrieved:
    """The ranked passages, the query vector, and how clearly the best passage stands out.

    ``dense_margin`` is the best dense similarity that passed the filters minus the mean similarity of the
    query's ``margin_background`` nearest chunks in the whole index (None without dense retrieval). Raw cosine
    similarities of e5 models sit in a narrow band (0.75–0.95) whatever the question, and lower for English
    questions over Chinese text; the margin removes both offsets. Answers turn it into their evidence.
    """

    hits: list[Hit]
    query: Query
    query_vector: np.ndarray | None
    dense_margin: float | None = None
    date_boosted: bool = False  # whether the question's date moved articles of that date up
    mode: Mode = "hybrid"

    def results(self) -> SearchResults:
        """The passages as every surface returns them."""
        return SearchResults(query=self.query.text, mode=self.mode, query_terms=list(self.query.terms),
                             interpreted=self.query.interpreted(), results=self.hits)


def retrieve(
    index: Index,
    embedder: Embedder,
    query: Query,
    config: RetrievalSettings,
    *,
    top_k: int = DEFAULT_TOP_K,
    mode: Mode = "hybrid",
    filters: Filters | None = None,
) -> Retrieved:
    """The ``top_k`` passages for an analysed question; see :class:`rag.records.Hit` for what ``score`` means."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    # Enough candidates that diversity and merging still leave top_k passages.
    n_cand = max(config.candidates, top_k * (config.max_chunks_per_article + 2))
    # A named day or week also fetches the articles of those days, so they can be moved up (a soft boost).
    dated = query.dates if query.dates is not None and query.dates.days <= MAX_BOOST_DAYS else None
    in_range = None
    if dated is not None and (filters is None or filters.is_empty()):
        in_range = Filters(date_from=dated.date_from, date_to=dated.date_to)

    dense: dict[int, tuple[int, float]] = {}
    qvec, margin = None, None
    extra: set[int] = set()
    if mode in ("hybrid", "dense"):
        qvec = embedder.encode_queries([query.search_text])[0]
        found = index.search_dense(qvec, max(n_cand, config.margin_background), filters)
        dense = {cid: (rank, s) for rank, (cid, s) in enumerate(found[:n_cand], start=1)}
        if found:
            unfiltered = filters is None or filters.is_empty()
            background = found if unfiltered else index.search_dense(qvec, config.margin_background)
            sims = [s for _, s in background[: config.margin_background]]
            # The best dense candidate that passed the filters (it may not be on the page after fusion).
            margin = float(found[0][1] - np.mean(sims)) if sims else None
        if in_range is not None:
            extra |= {cid for cid, _ in index.search_dense(qvec, top_k, in_range)}
    lexical: dict[int, tuple[int, float]] = {}
    if mode in ("hybrid", "lexical"):
        found = index.search_lexical(query.terms, n_cand, filters)
        lexical = {cid: (rank, s) for rank, (cid, s) in enumerate(found, start=1)}
        if in_range is not None:
            extra |= {cid for cid, _ in index.search_lexical(query.terms, top_k, in_range)}

    chunks = index.chunks([*dense, *lexical, *extra])
    articles = index.articles({c.aid for c in chunks.values()})
    if mode == "dense":
        order = {cid: s for cid, (_, s) in dense.items()}
    elif mode == "lexical":
        order = {cid: s for cid, (_, s) in lexical.items()}
    else:
        lexical_weight = config.lexical_weight
        if query.language == "en":
            lexical_weight *= config.cross_lingual_lexical_factor
        weights = {"dense": config.dense_weight, "lexical": lexical_weight}
        rankings = {"dense": list(dense), "lexical": list(lexical)}  # dicts keep rank order
        fused = reciprocal_rank_fusion(rankings, weights, k=config.rrf_k)
        if dated is not None:
            # The dated candidates, in _dated's order (the day's news, then what was published then, then what
            # names the day), each group in fused order: the boost lifts them over undated ones.
            by_fusion = sorted([*dense, *lexical, *extra], key=lambda c: (-fused.get(c, 0.0), c))
            weights["date"] = config.date_weight
            rankings["date"] = _dated(dated, by_fusion, chunks, articles)
            fused = reciprocal_rank_fusion(rankings, weights, k=config.rrf_k)
        top = max_rrf_score(weights, k=config.rrf_k)
        order = {cid: s / top for cid, s in fused.items()}

    ranked_ids = sorted(order, key=lambda c: (-order[c], c))
    hits = _assemble(ranked_ids, chunks, articles, order, dense, lexical, top_k, config)
    return Retrieved(hits, query, qvec, margin, date_boosted=dated is not None and mode == "hybrid", mode=mode)


def _dated(dates: DateRange, candidates: list[int], chunks: dict[int, Chunk],
           articles: dict[str, Article]) -> list[int]:
    """The candidates of the days, in retrieval order: first those published on the days or the day after that
    name one of them (news reports an event of 2月4日 on the 4th or the 5th, and names the day), then the others
    published then ("昨天发布了什么"), then those that name a day but were published at another time (an
    announcement of 2月9日 made on 1月31日 is about that day, but is not its news). Only a few days are looked for
    in the text (``DateRange.named_in``: written out, in a range, or as 昨天 from the article's date)."""
    found = [(cid, articles[chunks[cid].aid]) for cid in dict.fromkeys(candidates)
             if cid in chunks and chunks[cid].aid in articles]
    then = {cid for cid, a in found if dates.reported(a.date)}
    # Each article read once (its passages share it), and only for a few days.
    read_once = {a.aid: a for _, a in found} if dates.few_days else {}
    named_articles = {aid for aid, a in read_once.items() if dates.named_in(a.text, published_on(a.date))}
    named = {cid for cid, a in found if a.aid in named_articles}
    return [cid for group in (then & named, then - named, named - then) for cid, _ in found if cid in group]


# A passage trimmed to less than this (the rest already cited by a better one) is a fragment, and goes.
MIN_TRIMMED_CHARS = 30


def _assemble(
    ranked_ids: list[int],
    chunks: dict[int, Chunk],
    articles: dict[str, Article],
    order: dict[int, float],
    dense: dict[int, tuple[int, float]],
    lexical: dict[int, tuple[int, float]],
    top_k: int,
    config: RetrievalSettings,
) -> list[Hit]:
    """Apply diversity (≤ N passages an article) and merge adjacent/overlapping chunks into one passage.

    A chunk next to or overlapping a passage already chosen widens it (up to ``max_passage_chars``) instead of
    taking a place of its own; past that limit it is dropped, since the reader already has its neighbour.
    """
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
                text = articles[chunk.aid].text
                near.start, near.end, near.text = start, end, text[start:end]
                lo, hi = positions[near.chunk_id]
                positions[near.chunk_id] = (min(lo, chunk.position), max(hi, chunk.position))
                _settle(near, same, hits, positions, text, config.max_passage_chars)
            continue
        if len(same) >= config.max_chunks_per_article:
            continue
        article = articles[chunk.aid]
        d, lx = dense.get(cid), lexical.get(cid)
        hits.append(
            Hit(
                chunk_id=cid, aid=chunk.aid, title=article.title, url=article.url, date=article.date,
                account=article.account, text=chunk.text, start=chunk.start, end=chunk.end,
                score=round(order[cid], 6), position=chunk.position,
                scores=Scores(
                    dense=round(d[1], 6) if d else None,
                    lexical=round(lx[1], 6) if lx else None,
                    dense_rank=d[0] if d else None,
                    lexical_rank=lx[0] if lx else None,
                ),
            )
        )
        positions[cid] = (chunk.position, chunk.position)
        if len(hits) >= top_k:
            break  # lower-ranked chunks may no longer widen the passages already chosen
    for rank, h in enumerate(hits, start=1):
        h.rank = rank
    return hits


def _settle(grown: Hit, same: list[Hit], hits: list[Hit], positions: dict[int, tuple[int, int]], text: str,
            max_chars: int) -> None:
    """A passage that grew may now reach another of its article (the chunk between them joined one): the two
    become one passage when that fits in ``max_chars``; otherwise the lower-ranked one gives up the shared text,
    so no sentence is cited twice (and goes when too little is left). The better-ranked passage keeps its place."""

    def drop(hit: Hit) -> None:
        hits[:] = [h for h in hits if h is not hit]
        positions.pop(hit.chunk_id, None)

    for other in [h for h in same if h is not grown and h.start <= grown.end and h.end >= grown.start]:
        rank = {id(h): i for i, h in enumerate(hits)}
        if id(other) not in rank or id(grown) not in rank:
            return
        better, worse = (grown, other) if rank[id(grown)] < rank[id(other)] else (other, grown)
        start, end = min(better.start, worse.start), max(better.end, worse.end)
        if end - start <= max_chars:
            better.start, better.end, better.text = start, end, text[start:end]
            lo, hi = positions[better.chunk_id]
            wlo, whi = positions[worse.chunk_id]
            positions[better.chunk_id] = (min(lo, wlo), max(hi, whi))
            drop(worse)
            continue
        if worse.start < better.start:
            worse.end = better.start
        else:
            worse.start = better.end
        if worse.end - worse.start < MIN_TRIMMED_CHARS:
            drop(worse)
        else:
            worse.text = text[worse.start : worse.end]
