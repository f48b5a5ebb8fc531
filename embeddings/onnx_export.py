"""Write the converted BERT encoder as an ONNX graph (ONNX Runtime fused ops, mean pooling, L2 norm)."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np

# ONNX Runtime's contrib domain: Attention, SkipLayerNormalization and BiasGelu are the fused
# CPU kernels ORT itself would produce from an exported BERT; emitting them directly avoids
# depending on pattern-matching fusion (and on torch's ONNX exporter).
MS_DOMAIN = "com.microsoft"
OPSET = 17  # LayerNormalization is a standard op from 17 on
INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAME = "sentence_embedding"


def build_onnx_model(weights: dict[str, np.ndarray], *, hidden: int, heads: int, layers: int, eps: float) -> Any:
    """Build an ``onnx.ModelProto`` for BertModel + mean pooling + L2 normalisation.

    ``weights`` uses transformers ``BertModel`` parameter names. Inputs: ``input_ids`` and
    ``attention_mask``, int64 [batch, seq]. Outputs: ``sentence_embedding`` float32
    [batch, hidden] (unit norm) and ``last_hidden_state`` [batch, seq, hidden].
    """
    import onnx
    from onnx import TensorProto, helper

    h = hidden
    nodes: list[Any] = []
    # Initializers are written straight into a TensorProto list (one copy of ~470 MB instead
    # of the three that numpy_helper.from_array + make_graph + make_model would make).
    graph = helper.make_graph([], "multilingual_e5_small", [], [])
    dtypes = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.int64): TensorProto.INT64}

    def init(name: str, arr: np.ndarray) -> str:
        arr = np.asarray(arr)
        t = graph.initializer.add()
        t.name = name
        t.data_type = dtypes[arr.dtype]
        t.dims.extend(arr.shape)
        t.raw_data = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        return name

    def node(op: str, inputs: list[str], outputs: list[str], domain: str = "", **attrs: Any) -> None:
        nodes.append(helper.make_node(op, inputs, outputs, domain=domain or None, **attrs))

    w = weights
    # Embeddings: word + position + token type 0 (folded into the position table), LayerNorm.
    init("word_embeddings", w["embeddings.word_embeddings.weight"])
    pos_type = w["embeddings.position_embeddings.weight"] + w["embeddings.token_type_embeddings.weight"][0]
    init("pos_type_embeddings", pos_type)
    init("emb_ln_w", w["embeddings.LayerNorm.weight"])
    init("emb_ln_b", w["embeddings.LayerNorm.bias"])
    init("zero_1d", np.array([0], dtype=np.int64))
    # Positions 0..seq-1 are the first rows of the table: a Slice (a Range + Gather would do
    # too, but ORT rewrites that pattern into a Slice with scalar bounds that then fails).
    node("Shape", ["input_ids"], ["seq_len_1d"], start=1, end=2)
    node("Slice", ["pos_type_embeddings", "zero_1d", "seq_len_1d", "zero_1d"], ["pos_emb"])
    node("Gather", ["word_embeddings", "input_ids"], ["word_emb"])
    node("Add", ["word_emb", "pos_emb"], ["emb_sum"])
    node("LayerNormalization", ["emb_sum", "emb_ln_w", "emb_ln_b"], ["x0"], axis=-1, epsilon=eps)
    node("Cast", ["attention_mask"], ["mask_i32"], to=TensorProto.INT32)

    x = "x0"
    for i in range(layers):
        p = f"encoder.layer.{i}."
        att = p + "attention."
        # Attention wants one [hidden, 3*hidden] matrix (q|k|v columns) and a [3*hidden] bias.
        qkv_w = np.concatenate([w[att + f"self.{n}.weight"].T for n in ("query", "key", "value")], axis=1)
        qkv_b = np.concatenate([w[att + f"self.{n}.bias"] for n in ("query", "key", "value")])
        node(
            "Attention",
            [x, init(f"l{i}_qkv_w", qkv_w), init(f"l{i}_qkv_b", qkv_b), "mask_i32"],
            [f"l{i}_ctx"],
            domain=MS_DOMAIN,
            num_heads=heads,
        )
        node("MatMul", [f"l{i}_ctx", init(f"l{i}_ao_w", w[att + "output.dense.weight"].T)], [f"l{i}_ao"])
        # SkipLayerNormalization(a, skip, gamma, beta, bias) = LayerNorm(a + skip + bias).
        node(
            "SkipLayerNormalization",
            [
                f"l{i}_ao",
                x,
                init(f"l{i}_aln_w", w[att + "output.LayerNorm.weight"]),
                init(f"l{i}_aln_b", w[att + "output.LayerNorm.bias"]),
                init(f"l{i}_ao_b", w[att + "output.dense.bias"]),
            ],
            [f"l{i}_x1"],
            domain=MS_DOMAIN,
            epsilon=eps,
        )
        node("MatMul", [f"l{i}_x1", init(f"l{i}_fi_w", w[p + "intermediate.dense.weight"].T)], [f"l{i}_fi"])
        # BiasGelu is the exact (erf) GELU of (a + bias), like hidden_act="gelu".
        fi_b = init(f"l{i}_fi_b", w[p + "intermediate.dense.bias"])
        node("BiasGelu", [f"l{i}_fi", fi_b], [f"l{i}_act"], domain=MS_DOMAIN)
        node("MatMul", [f"l{i}_act", init(f"l{i}_fo_w", w[p + "output.dense.weight"].T)], [f"l{i}_fo"])
        node(
            "SkipLayerNormalization",
            [
                f"l{i}_fo",
                f"l{i}_x1",
                init(f"l{i}_oln_w", w[p + "output.LayerNorm.weight"]),
                init(f"l{i}_oln_b", w[p + "output.LayerNorm.bias"]),
                init(f"l{i}_fo_b", w[p + "output.dense.bias"]),
            ],
            [f"l{i}_x2"],
            domain=MS_DOMAIN,
            epsilon=eps,
        )
        x = f"l{i}_x2"
    node("Identity", [x], ["last_hidden_state"])

    # Mean pooling over unmasked tokens, then L2 normalisation (sentence-transformers'
    # Pooling(mean) + Normalize, including their clamps).
    init("axis1", np.array([1], dtype=np.int64))
    init("axis_last", np.array([-1], dtype=np.int64))
    init("min_count", np.array(1e-9, dtype=np.float32))
    init("min_norm", np.array(1e-12, dtype=np.float32))
    node("Cast", ["attention_mask"], ["mask_f"], to=TensorProto.FLOAT)
    node("Unsqueeze", ["mask_f", "axis_last"], ["mask_f3"])
    node("Mul", ["last_hidden_state", "mask_f3"], ["masked"])
    node("ReduceSum", ["masked", "axis1"], ["summed"], keepdims=0)
    node("ReduceSum", ["mask_f3", "axis1"], ["counts"], keepdims=0)
    node("Max", ["counts", "min_count"], ["counts_c"])
    node("Div", ["summed", "counts_c"], ["mean"])
    node("ReduceL2", ["mean"], ["norm"], axes=[-1], keepdims=1)  # axes is an attribute before opset 18
    node("Max", ["norm", "min_norm"], ["norm_c"])
    node("Div", ["mean", "norm_c"], [OUTPUT_NAME])

    graph.node.extend(nodes)
    graph.input.extend(
        [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "sequence"]) for n in INPUT_NAMES]
    )
    graph.output.extend(
        [
            helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["batch", h]),
            helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", h]),
        ]
    )
    model = onnx.ModelProto()
    model.ir_version = 8  # readable by any ONNX Runtime >= 1.10
    model.producer_name = "policy-rag embeddings.onnx_export"
    model.opset_import.extend([helper.make_opsetid("", OPSET), helper.make_opsetid(MS_DOMAIN, 1)])
    # Swap rather than copy the graph into the model.
    model.graph.Swap(graph) if hasattr(model.graph, "Swap") else model.graph.CopyFrom(graph)
    return model


def export_onnx(folder: Path) -> Path:
    """Write ``folder/onnx/model.onnx`` from the folder's BERT ``config.json`` and ``model.safetensors``.

    The file is written under a temporary name and renamed, so it is either absent or
    complete. Raises ImportError if the ``onnx`` package is missing.
    """
    import onnx
    from safetensors.numpy import load_file

    folder = Path(folder)
    cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    if cfg.get("model_type") != "bert" or cfg.get("hidden_act") != "gelu":
        raise ValueError(f"{folder}: only BERT models with exact GELU can be exported")
    model = build_onnx_model(
        load_file(str(folder / "model.safetensors")),
        hidden=int(cfg["hidden_size"]),
        heads=int(cfg["num_attention_heads"]),
        layers=int(cfg["num_hidden_layers"]),
        eps=float(cfg["layer_norm_eps"]),
    )
    path = folder / "onnx" / "model.onnx"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        onnx.save_model(model, str(tmp))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
