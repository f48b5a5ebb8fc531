"""The int8 graph computes the same vectors on every CPU ONNX Runtime runs on."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from embeddings.backends import OnnxBackend
from embeddings.onnx_export import WIDENED_ZERO_POINT, graph_path, widened_int8
from tests.conftest import CORPUS


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
    """Without AVX-512 VNNI, ONNX Runtime's uint8 x int8 products may saturate in 16 bits, so such a CPU runs the
    graph widened. The backend here, whichever graph it runs, and the widened graph give the same vectors bit for
    bit: a VNNI CPU's int8 products are exact, and so are widened ones everywhere."""
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
