"""Dense vector indexes behind one narrow protocol; FAISS implements it today.

A distributed engine (Milvus, Qdrant, OpenSearch k-NN, …) fits by implementing ``VectorIndex`` and
registering a factory in ``BACKENDS``; retrieval only ever talks to the protocol.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import faiss
import numpy as np

_FAISS_FILE = "vectors.faiss"
_PARAMS_FILE = "vectors.json"


@runtime_checkable
class VectorIndex(Protocol):
    """Inner-product search over L2-normalised float32 vectors keyed by int64 ids.

    Scores are cosine similarities (higher is better).
    """

    dim: int

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under the given ids (ids must be new)."""

    def remove(self, ids: np.ndarray) -> int:
        """Remove ids; returns how many were present."""

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids) of shape (n_queries, k); missing results have id -1.

        ``allowed`` restricts the search to those ids *before* the top-k cut.
        """

    def __len__(self) -> int:
        """Number of vectors."""

    def save(self, folder: Path) -> None:
        """Persist into ``folder``."""

    def ids(self) -> np.ndarray:
        """All stored ids."""

    def reconstruct(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of ``ids``."""

    def params(self) -> dict[str, Any]:
        """How the index was built (recorded in the manifest)."""


class FaissIndex:
    """FAISS ``IndexIDMap2`` over flat, HNSW or IVF inner-product indexes."""

    def __init__(self, index: faiss.IndexIDMap2, kind: str, build_params: dict[str, Any]):
        self.index = index
        self.kind = kind
        self.build_params = build_params
        self.dim = index.d
        self._apply_search_params()

    @classmethod
    def create(
        cls,
        dim: int,
        kind: str = "flat",
        *,
        hnsw_m: int = 32,
        hnsw_ef_construction: int = 200,
        hnsw_ef_search: int = 128,
        ivf_nlist: int = 0,
        ivf_nprobe: int = 16,
        train_vectors: np.ndarray | None = None,
    ) -> FaissIndex:
        """A new, empty index. IVF needs ``train_vectors`` (its coarse centroids come from them)."""
        params: dict[str, Any] = {"kind": kind}
        if kind == "flat":
            base = faiss.IndexFlatIP(dim)
        elif kind == "hnsw":
            base = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            base.hnsw.efConstruction = hnsw_ef_construction
            params.update(m=hnsw_m, ef_construction=hnsw_ef_construction, ef_search=hnsw_ef_search)
        elif kind == "ivf":
            if train_vectors is None or len(train_vectors) == 0:
                raise ValueError("an IVF index needs training vectors")
            # 4·sqrt(n) lists is FAISS's usual rule of thumb; at least 39 training points per list.
            nlist = ivf_nlist or max(1, int(4 * math.sqrt(len(train_vectors))))
            nlist = max(1, min(nlist, len(train_vectors) // 39 or 1))
            quantizer = faiss.IndexFlatIP(dim)
            base = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
            base.train(np.ascontiguousarray(train_vectors, dtype=np.float32))
            params.update(nlist=nlist, nprobe=ivf_nprobe)
        else:
            raise ValueError(f"unknown vector index kind {kind!r} (flat, hnsw or ivf)")
        return cls(faiss.IndexIDMap2(base), kind, params)

    def _apply_search_params(self) -> None:
        base = faiss.downcast_index(self.index.index)
        if self.kind == "hnsw":
            base.hnsw.efSearch = int(self.build_params.get("ef_search", 128))
        elif self.kind == "ivf":
            base.nprobe = int(self.build_params.get("nprobe", 16))

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
        vectors = self.reconstruct(keep)
        fresh = FaissIndex.create(
            self.dim, "hnsw", hnsw_m=self.build_params["m"],
            hnsw_ef_construction=self.build_params["ef_construction"],
            hnsw_ef_search=self.build_params["ef_search"],
        )
        fresh.add(keep, vectors)
        self.index = fresh.index
        self._apply_search_params()
        return len(gone)

    def ids(self) -> np.ndarray:
        """All stored ids."""
        return faiss.vector_to_array(self.index.id_map).astype(np.int64)

    def reconstruct(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of ``ids``."""
        if len(ids) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self.index.reconstruct(int(i)) for i in ids]).astype(np.float32)

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` by inner product; ``allowed`` filters inside FAISS (an IDSelector), before the cut."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = max(1, min(k, max(len(self), 1)))
        params = None
        if allowed is not None:
            if len(allowed) == 0:
                n = len(queries)
                return np.full((n, k), -np.inf, dtype=np.float32), np.full((n, k), -1, dtype=np.int64)
            sel = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
            if self.kind == "hnsw":
                params = faiss.SearchParametersHNSW(sel=sel, efSearch=int(self.build_params["ef_search"]))
            elif self.kind == "ivf":
                params = faiss.SearchParametersIVF(sel=sel, nprobe=int(self.build_params["nprobe"]))
            else:
                params = faiss.SearchParameters(sel=sel)
        scores, ids = self.index.search(queries, k, params=params)
        return scores, ids

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def params(self) -> dict[str, Any]:
        """Build and search parameters (recorded in the manifest)."""
        return dict(self.build_params)

    def save(self, folder: Path) -> None:
        """Write ``vectors.faiss`` and its parameters into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.index, str(folder / _FAISS_FILE))
        (folder / _PARAMS_FILE).write_text(json.dumps(self.build_params), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> FaissIndex:
        """Read an index written by :meth:`save`."""
        params = json.loads((folder / _PARAMS_FILE).read_text(encoding="utf-8"))
        # read_index returns the concrete class already; downcasting its temporary would free it.
        index = faiss.read_index(str(folder / _FAISS_FILE))
        return cls(index, params["kind"], params)


# Factories by backend name. A second backend registers (create, load) here.
BACKENDS: dict[str, tuple[Callable[..., VectorIndex], Callable[[Path], VectorIndex]]] = {
    "faiss": (FaissIndex.create, FaissIndex.load),
}


def create_vector_index(backend: str, dim: int, **kwargs: Any) -> VectorIndex:
    """A new empty index of the named backend."""
    try:
        create, _ = BACKENDS[backend]
    except KeyError:
        raise ValueError(f"unknown vector backend {backend!r}; known: {', '.join(BACKENDS)}") from None
    return create(dim, **kwargs)


def load_vector_index(backend: str, folder: Path) -> VectorIndex:
    """Load a persisted index of the named backend."""
    try:
        _, load = BACKENDS[backend]
    except KeyError:
        raise ValueError(f"unknown vector backend {backend!r}; known: {', '.join(BACKENDS)}") from None
    return load(folder)
