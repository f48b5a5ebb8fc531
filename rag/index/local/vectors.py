"""Dense vectors in FAISS: exact (flat) or approximate (HNSW, IVF) inner-product search keyed by chunk id."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import faiss
import numpy as np

from rag.settings import IndexSettings

FAISS_FILE = "vectors.faiss"
PARAMS_FILE = "vectors.json"
# A filter keeping at most this many vectors is searched exactly (Weaviate's flatSearchCutoff default): at 40k
# vectors of 384 dimensions that costs 20–30 ms, and the approximate search would miss most of them.
EXACT_FILTER_MAX = 40_000


@runtime_checkable
class VectorIndex(Protocol):
    """Inner-product search over L2-normalised float32 vectors keyed by int64 ids (scores are cosines)."""

    dim: int

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under the given ids (ids must be new)."""
        ...

    def remove(self, ids: np.ndarray) -> int:
        """Remove ids; returns how many were present."""
        ...

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of shape (n_queries, k), best first; missing results have id -1.

        ``allowed`` restricts the search to those ids *before* the top-k cut.
        """
        ...

    def __len__(self) -> int:
        """Number of vectors."""
        ...

    def save(self, folder: Path) -> None:
        """Persist into ``folder``."""
        ...

    def params(self) -> dict[str, Any]:
        """How the index was built (recorded in the manifest)."""
        ...


def build_params(config: IndexSettings, n_train: int) -> dict[str, Any]:
    """The parameters of a new index of ``config.vector_index`` kind, with IVF lists sized for ``n_train``."""
    kind = config.vector_index
    if kind == "hnsw":
        return {"kind": kind, "m": config.hnsw_m, "ef_construction": config.hnsw_ef_construction,
                "ef_search": config.hnsw_ef_search}
    if kind == "ivf":
        # 4·√n lists is FAISS's usual rule of thumb; FAISS wants at least 39 training points per list.
        nlist = config.ivf_nlist or max(1, int(4 * math.sqrt(n_train)))
        nlist = max(1, min(nlist, n_train // 39 or 1))
        return {"kind": kind, "nlist": nlist, "nprobe": config.ivf_nprobe}
    return {"kind": kind}


class FaissIndex:
    """FAISS ``IndexIDMap2`` over a flat, HNSW or IVF inner-product index."""

    def __init__(self, index: faiss.IndexIDMap2, params: dict[str, Any]):
        self.index = index
        self.kind = params["kind"]
        self._params = params
        self.dim = index.d
        base = faiss.downcast_index(self.index.index)
        if self.kind == "hnsw":
            base.hnsw.efSearch = int(params["ef_search"])
        elif self.kind == "ivf":
            base.nprobe = int(params["nprobe"])

    @classmethod
    def create(cls, dim: int, config: IndexSettings, train_vectors: np.ndarray | None = None) -> FaissIndex:
        """A new, empty index of ``config.vector_index`` kind. IVF takes its centroids from ``train_vectors``."""
        n_train = 0 if train_vectors is None else len(train_vectors)
        if config.vector_index == "ivf" and n_train == 0:
            raise ValueError("an IVF index needs training vectors")
        return cls.from_params(dim, build_params(config, n_train), train_vectors)

    @classmethod
    def from_params(cls, dim: int, params: dict[str, Any], train_vectors: np.ndarray | None = None) -> FaissIndex:
        """A new, empty index with the given parameters (as :meth:`params` returns them)."""
        kind = params["kind"]
        if kind == "flat":
            base = faiss.IndexFlatIP(dim)
        elif kind == "hnsw":
            base = faiss.IndexHNSWFlat(dim, int(params["m"]), faiss.METRIC_INNER_PRODUCT)
            base.hnsw.efConstruction = int(params["ef_construction"])
        elif kind == "ivf":
            base = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, int(params["nlist"]), faiss.METRIC_INNER_PRODUCT)
            base.train(np.ascontiguousarray(train_vectors, dtype=np.float32))
        else:
            raise ValueError(f"unknown vector index kind {kind!r} (flat, hnsw or ivf)")
        return cls(faiss.IndexIDMap2(base), params)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under the given int64 ids."""
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape[1] != self.dim:
            raise ValueError(f"vectors have dimension {vectors.shape[1]}, the index {self.dim}")
        self.index.add_with_ids(vectors, np.ascontiguousarray(ids, dtype=np.int64))

    def remove(self, ids: np.ndarray) -> int:
        """Remove ids. HNSW graphs cannot delete in place, so that kind is rebuilt from the kept vectors."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return 0
        if self.kind != "hnsw":
            return int(self.index.remove_ids(faiss.IDSelectorBatch(ids)))
        present = set(self.ids().tolist())
        gone = [i for i in ids.tolist() if i in present]
        if not gone:
            return 0
        keep = np.array(sorted(present - set(gone)), dtype=np.int64)
        vectors = (np.vstack([self.index.reconstruct(int(i)) for i in keep]) if len(keep)
                   else np.zeros((0, self.dim), dtype=np.float32))
        fresh = FaissIndex.from_params(self.dim, self._params)
        fresh.add(keep, vectors)
        self.index = fresh.index
        return len(gone)

    def ids(self) -> np.ndarray:
        """All stored ids."""
        return faiss.vector_to_array(self.index.id_map).astype(np.int64)

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` by inner product; ``allowed`` filters inside FAISS (an IDSelector), before the cut.

        A filter that keeps at most ``EXACT_FILTER_MAX`` vectors is searched exactly, whatever the index kind:
        HNSW walks the graph near the query and IVF probes the lists near it, and a narrow filter leaves those
        nearly empty (at 1M chunks, one account's month was found 0.05–0.11 of the time). Vector databases do
        the same (Weaviate's flatSearchCutoff, Qdrant's full_scan_threshold).
        """
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = max(1, min(k, max(len(self), 1)))
        params = None
        if allowed is not None:
            if len(allowed) == 0:
                n = len(queries)
                return np.full((n, k), -np.inf, dtype=np.float32), np.full((n, k), -1, dtype=np.int64)
            allowed = np.unique(np.asarray(allowed, dtype=np.int64))
            if self.kind == "hnsw" and len(allowed) <= EXACT_FILTER_MAX:
                try:
                    vectors = self.index.reconstruct_batch(allowed)
                except RuntimeError:  # an allowed id FAISS does not hold: ignored, as the selector ignores it
                    allowed = allowed[np.isin(allowed, self.ids())]
                    vectors = self.index.reconstruct_batch(allowed)
                return _exact(queries, vectors, allowed, k)
            sel = faiss.IDSelectorBatch(allowed)
            if self.kind == "hnsw":
                params = faiss.SearchParametersHNSW(sel=sel, efSearch=int(self._params["ef_search"]))
            elif self.kind == "ivf":
                # Probing every list with the selector is exact: only the allowed vectors' distances are computed.
                nprobe = int(self._params["nlist"] if len(allowed) <= EXACT_FILTER_MAX else self._params["nprobe"])
                params = faiss.SearchParametersIVF(sel=sel, nprobe=nprobe)
            else:
                params = faiss.SearchParameters(sel=sel)
        return self.index.search(queries, k, params=params)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def params(self) -> dict[str, Any]:
        """Build and search parameters (recorded in the manifest)."""
        return dict(self._params)

    def save(self, folder: Path) -> None:
        """Write ``vectors.faiss`` and its parameters into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.index, str(folder / FAISS_FILE))
        (folder / PARAMS_FILE).write_text(json.dumps(self._params), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, search: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> FaissIndex:
        """Read an index written by :meth:`save`; ``search`` may set its search-time parameters
        (``rag.index.base.with_search_settings``)."""
        params = json.loads((folder / PARAMS_FILE).read_text(encoding="utf-8"))
        # read_index returns the concrete class already; downcasting its temporary would free it.
        return cls(faiss.read_index(str(folder / FAISS_FILE)), search(params) if search else params)


def _exact(queries: np.ndarray, vectors: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` of ``vectors`` by inner product; when there are fewer, the rest is id -1 (as FAISS pads)."""
    scores = queries @ vectors.T
    n = len(queries)
    out_scores = np.full((n, k), -np.inf, dtype=np.float32)
    out_ids = np.full((n, k), -1, dtype=np.int64)
    top = min(k, len(ids))
    if top == 0:
        return out_scores, out_ids
    best = np.argpartition(-scores, top - 1, axis=1)[:, :top]
    for row in range(n):
        order = best[row][np.argsort(-scores[row, best[row]], kind="stable")]
        out_scores[row, :top] = scores[row, order]
        out_ids[row, :top] = ids[order]
    return out_scores, out_ids
