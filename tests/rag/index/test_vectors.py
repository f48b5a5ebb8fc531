"""FAISS, every kind (flat, HNSW, IVF), against the VectorIndex contract: add, search, filter, remove, save, load."""

from __future__ import annotations

import numpy as np
import pytest

from rag.index.local.vectors import FaissIndex, VectorIndex
from rag.settings import IndexSettings

DIM = 32


def unit(n: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


VECS = unit(400, 0)
IDS = np.arange(400, dtype=np.int64) * 1000 + 7  # sparse, large ids: the index must keep them


@pytest.fixture(params=["flat", "hnsw", "ivf"])
def index(request) -> FaissIndex:
    # nprobe 64 probes every list of this small IVF, so its results are exact like the others'.
    ix = FaissIndex.create(DIM, IndexSettings(vector_index=request.param, ivf_nprobe=64), train_vectors=VECS)
    ix.add(IDS, VECS)
    return ix


def test_it_implements_the_protocol(index, request):
    assert isinstance(index, VectorIndex) and len(index) == 400 and index.dim == DIM
    assert index.params()["kind"] == request.node.callspec.params["index"]


def test_a_stored_vector_finds_itself_first_with_cosine_one(index):
    scores, ids = index.search(VECS[5:8], 3)
    assert ids[:, 0].tolist() == IDS[5:8].tolist()
    assert np.allclose(scores[:, 0], 1.0, atol=1e-5)
    assert (np.diff(scores, axis=1) <= 1e-6).all()  # best first


def test_allowed_ids_restrict_results_before_the_cut(index):
    allowed = IDS[[10, 20, 30]]
    _, ids = index.search(VECS[10:11], 10, allowed=allowed)
    found = [i for i in ids[0].tolist() if i >= 0]
    assert found[0] == IDS[10] and set(found) <= set(allowed.tolist())


def test_removed_ids_are_never_returned(index):
    assert index.remove(IDS[:50]) == 50
    assert len(index) == 350
    _, ids = index.search(VECS[:50], 10)
    assert not set(ids.ravel().tolist()) & set(IDS[:50].tolist())
    assert index.remove(IDS[:50]) == 0


def test_save_and_load_keep_ids_scores_and_parameters(index, tmp_path):
    index.save(tmp_path)
    again = FaissIndex.load(tmp_path)
    assert again.params() == index.params()
    s1, i1 = index.search(VECS[:5], 5)
    s2, i2 = again.search(VECS[:5], 5)
    assert (i1 == i2).all() and np.allclose(s1, s2)


def test_wrong_dimension_is_refused(index):
    with pytest.raises(ValueError, match="dimension"):
        index.add(np.array([1]), np.zeros((1, DIM + 1), dtype=np.float32))


def test_ivf_needs_training_vectors():
    with pytest.raises(ValueError, match="training vectors"):
        FaissIndex.create(DIM, IndexSettings(vector_index="ivf"))


def test_hnsw_parameters_come_from_the_settings():
    ix = FaissIndex.create(DIM, IndexSettings(vector_index="hnsw", hnsw_m=8, hnsw_ef_search=16))
    assert ix.params() == {"kind": "hnsw", "m": 8, "ef_construction": 200, "ef_search": 16}


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_a_narrow_filter_is_searched_exactly_whatever_the_index_kind(kind):
    # 20,000 vectors, a sparse graph and one probe: the approximate search sees the query's neighbourhood only,
    # and the 30 allowed vectors lie outside it. Exact search over them finds the true top ten.
    vectors, ids = unit(20_000, 1), np.arange(20_000, dtype=np.int64) * 3 + 1
    config = IndexSettings(vector_index=kind, hnsw_m=4, hnsw_ef_construction=16, hnsw_ef_search=16, ivf_nlist=64,
                           ivf_nprobe=1)
    ix = FaissIndex.create(DIM, config, train_vectors=vectors)
    ix.add(ids, vectors)
    query = vectors[:4]
    allowed = ids[np.random.default_rng(2).choice(len(ids), 30, replace=False)]
    truth = allowed[np.argsort(-(query @ vectors[(allowed - 1) // 3].T), axis=1)[:, :10]]
    scores, found = ix.search(query, 10, allowed=allowed)
    assert found.tolist() == truth.tolist()
    assert np.allclose(scores, np.sort(query @ vectors[(allowed - 1) // 3].T, axis=1)[:, ::-1][:, :10], atol=1e-5)
    # Fewer allowed than k: the rest is padded with id -1, as FAISS pads.
    _, found = ix.search(query[:1], 10, allowed=allowed[:3])
    assert sorted(found[0, :3].tolist()) == sorted(allowed[:3].tolist()) and (found[0, 3:] == -1).all()
    # An id twice, or one the index does not hold: each found once, the unknown ignored (as the selector does).
    _, found = ix.search(query[:1], 10, allowed=np.concatenate([allowed[:3], allowed[:1], [2]]))
    assert sorted(found[0, :3].tolist()) == sorted(allowed[:3].tolist()) and (found[0, 3:] == -1).all()
