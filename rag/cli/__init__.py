"""The ``rag`` command line — the composition root: it wires settings, model, index, API and evaluation."""

from __future__ import annotations

import logging
import os
import warnings

# Nothing may be fetched from a model hub at run time; set before any HF library is imported.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# jieba and milvus-lite import pkg_resources (present because milvus-lite needs setuptools<81); its deprecation
# warning says nothing a user of `rag` can act on.
warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)

# Each command module registers its commands on ``app`` when imported.
from rag.cli import check, evaluate, index, mcp_stdio, model, query, serve  # noqa: E402, F401
from rag.cli.common import app  # noqa: E402

__all__ = ["app", "main"]


def main() -> None:
    """Entry point with quiet library logging."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()
