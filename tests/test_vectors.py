"""One contract for every VectorIndex backend and kind: add, search, filter, remove, save, load."""

from __future__ import annotations

import numpy as np
import pytest

from rag.vectors import BACKENDS, VectorIndex, create_vector_index, load_vector_index

DIM = 32


def unit(n: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


VECS = unit(400, 0)
IDS = np.arange(400, dtype=np.int64) * 1000 + 7  # sparse, large ids: the index must keep them


@pytest.fixture(params=[(b, k) for b in BACKENDS for k in ("flat", "hnsw", "ivf")], ids=lambda p: "-".join(p))
def index(request) -> VectorIndex:
    backend, kind = request.param
    ix = create_vector_index(backend, DIM, kind=kind, train_vectors=VECS, ivf_nprobe=64)
    ix.add(IDS, VECS)
    return ix


def test_it_implements_the_protocol(index):
    assert isinstance(index, VectorIndex) and len(index) == 400 and index.dim == DIM


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
    again = load_vector_index("faiss", tmp_path)
    assert again.params() == index.params()
    s1, i1 = index.search(VECS[:5], 5)
    s2, i2 = again.search(VECS[:5], 5)
    assert (i1 == i2).all() and np.allclose(s1, s2)


def test_wrong_dimension_is_refused(index):
    with pytest.raises(ValueError, match="dimension"):
        index.add(np.array([1]), np.zeros((1, DIM + 1), dtype=np.float32))


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="unknown vector backend"):
        create_vector_index("elasticsearch", DIM)
