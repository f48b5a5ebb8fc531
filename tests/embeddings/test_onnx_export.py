"""The int8 graph computes the same vectors on every CPU ONNX Runtime runs on."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from embeddings.backends import OnnxBackend
from embeddings.onnx_export import WIDENED_INT8_FILE, WIDENED_ZERO_POINT, graph_path, widened_int8
from tests.conftest import CORPUS
from tests.embeddings.conftest import linked_model


@pytest.fixture(scope="module")
def int8_graph(e5_converted_dir: Path):
    """The converted model's int8 graph, as stored (an onnx.ModelProto)."""
    import onnx

    return onnx.load(str(graph_path(e5_converted_dir, "int8")))


def test_widened_int8_weights_are_the_same_integers_as_uint8(int8_graph):
    """Each int8 matmul weight becomes uint8 around a zero point of 128: the same integers, one scale per channel."""
    from onnx import numpy_helper

    def matmul_weights(model) -> list[tuple[np.ndarray, np.ndarray]]:
        weights = {t.name: t for t in model.graph.initializer}
        return [(numpy_helper.to_array(weights[n.input[1]]), numpy_helper.to_array(weights[n.input[3]]))
                for n in model.graph.node if n.op_type == "DynamicQuantizeMatMul"]

    stored, widened = matmul_weights(int8_graph), matmul_weights(widened_int8(copy.deepcopy(int8_graph)))
    assert len(stored) == len(widened) == 4 * 12  # q|k|v, attention out, FFN in, FFN out in each of 12 layers
    for (q, zero), (u, u_zero) in zip(stored, widened, strict=True):
        assert q.dtype == np.int8 and not zero.any() and u.dtype == u_zero.dtype == np.uint8
        assert (u_zero == WIDENED_ZERO_POINT).all()
        np.testing.assert_array_equal(u.astype(np.int16) - WIDENED_ZERO_POINT, q)


def test_int8_vectors_do_not_depend_on_the_cpus_int8_instructions(e5_converted_dir: Path, int8_graph):
    """A VNNI CPU runs the stored int8 graph, whose products are exact there, and gives the widened graph's vectors
    bit for bit: widening changes no number. (A CPU without VNNI runs the widened graph itself, so this compares it
    with itself there; the test below holds on every CPU.)"""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    from embeddings.samples import varied_strings

    backend = OnnxBackend(e5_converted_dir, 1, "int8", batch_tokens=0)
    widened = widened_int8(copy.deepcopy(int8_graph)).SerializeToString()
    session = ort.InferenceSession(widened, providers=["CPUExecutionProvider"])
    tok = Tokenizer.from_file(str(e5_converted_dir / "tokenizer.json"))
    for text in varied_strings(CORPUS, 40):
        ids = np.array([tok.encode("passage: " + text).ids[:512]], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        np.testing.assert_array_equal(backend.session.run(None, feed)[0], session.run(None, feed)[0], err_msg=text)


def test_a_widened_int8_matmul_is_exact_where_int8_sums_would_saturate():
    """Activations near 255 times weights near 127, pair by pair past 32767: the widened matmul still gives the exact
    integer product (scaled), on any CPU. Unwidened, an AVX2-only CPU saturates here."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    k, n = 64, 16
    x = rng.uniform(0.9, 1.0, size=(8, k)).astype(np.float32)  # quantized to 230..255, zero point 0
    q = rng.integers(100, 128, size=(k, n)).astype(np.int8)
    scale = np.full(n, 0.01, np.float32)
    node = helper.make_node("DynamicQuantizeMatMul", ["x", "q", "s", "z"], ["y"], domain="com.microsoft")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, k])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, n])],
                              [numpy_helper.from_array(q, "q"), numpy_helper.from_array(scale, "s"),
                               numpy_helper.from_array(np.zeros(n, np.int8), "z")])
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    session = ort.InferenceSession(widened_int8(model).SerializeToString(), providers=["CPUExecutionProvider"])
    y = session.run(None, {"x": x})[0]
    # DynamicQuantizeLinear: uint8 over [min(x, 0), max(x, 0)].
    x_scale = np.float32(x.max() / 255)
    xq = np.clip(np.rint(x / x_scale), 0, 255).astype(np.int64)
    exact = (xq @ q.astype(np.int64)) * np.float64(x_scale) * scale
    assert (xq[:, 0::2] * q[0::2].max() + xq[:, 1::2] * q[1::2].max()).max() > np.iinfo(np.int16).max  # would saturate
    np.testing.assert_allclose(y, exact, rtol=1e-6)


@pytest.fixture
def model_copy(e5_converted_dir: Path, tmp_path: Path) -> Path:
    """A model folder of links to the converted one, with its own onnx/ holding only the int8 graph: what a backend
    writes there stays out of the shared folder."""
    return linked_model(e5_converted_dir, tmp_path / "e5-copy", graph_path(e5_converted_dir, "int8").name)


def widened_weights(model) -> bool:  # noqa: ANN001 - an onnx.ModelProto
    """True when every int8 matmul of ``model`` has uint8 weights."""
    import onnx

    weights = {t.name: t for t in model.graph.initializer}
    return all(weights[n.input[1]].data_type == onnx.TensorProto.UINT8
               for n in model.graph.node if n.op_type == "DynamicQuantizeMatMul")


def test_a_cpu_without_vnni_runs_the_int8_graph_widened_once(model_copy: Path, monkeypatch: pytest.MonkeyPatch):
    """The widened graph is written beside the int8 one on first load and read from there after (each session a
    backend opens, and each backend, would otherwise widen it again)."""
    import onnx

    import embeddings.backends

    monkeypatch.setattr(embeddings.backends, "int8_times_int8_exact", lambda: False)
    graph = OnnxBackend(model_copy, 1, "int8", batch_tokens=0)._graph()
    assert graph == str(model_copy / "onnx" / WIDENED_INT8_FILE)
    assert widened_weights(onnx.load(graph))
    written = Path(graph).stat().st_mtime_ns
    assert OnnxBackend(model_copy, 1, "int8", batch_tokens=0)._graph() == graph
    assert Path(graph).stat().st_mtime_ns == written
    assert sorted(p.name for p in (model_copy / "onnx").iterdir()) == sorted(["model_int8.onnx", WIDENED_INT8_FILE])


def test_a_folder_that_cannot_keep_the_widened_graph_widens_it_in_memory(model_copy: Path,
                                                                          monkeypatch: pytest.MonkeyPatch):
    import onnx

    import embeddings.backends

    monkeypatch.setattr(embeddings.backends, "int8_times_int8_exact", lambda: False)
    blocker = model_copy / "onnx" / WIDENED_INT8_FILE
    blocker.mkdir()  # a non-empty directory where the graph should go: the final rename fails
    (blocker / "keep").write_text("x")
    graph = OnnxBackend(model_copy, 1, "int8", batch_tokens=0)._graph()
    assert isinstance(graph, bytes)
    assert widened_weights(onnx.load_from_string(graph))
