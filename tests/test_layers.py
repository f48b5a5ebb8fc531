"""Imports flow down: embeddings ← records/settings ← rag core ← api / eval ← the CLI (the composition root).

Parsed from the source with ``ast``, so a violation fails here before it becomes a cycle at run time.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

OURS = ("rag", "embeddings", "api", "eval")
# module (file or package, relative to the repository) → the packages of ours it must never import
RULES: dict[str, set[str]] = {
    "embeddings": {"rag", "api", "eval"},
    "rag/records.py": {"rag", "api", "eval"},
    "rag/settings.py": {"rag", "api", "eval"},
    "rag": {"api", "eval"},  # the core; rag/cli is the composition root and may import anything
    "api": {"eval"},
}
COMPOSITION_ROOT = "rag/cli"


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in ``path``."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.append((node.lineno, node.module))
    return out


def rule_for(rel: str) -> set[str] | None:
    """The most specific rule that covers ``rel`` (None for the composition root)."""
    if rel.startswith(COMPOSITION_ROOT):
        return None
    for prefix in sorted(RULES, key=len, reverse=True):
        if rel == prefix or rel.startswith(prefix + "/"):
            return RULES[prefix]
    return set()


def violations(root: Path) -> list[str]:
    found = []
    for package in OURS:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            forbidden = rule_for(rel)
            if forbidden is None:
                continue
            for line, module in imports(path):
                top = module.split(".")[0]
                if top in forbidden:
                    found.append(f"{rel}:{line} imports {module}")
    return found


def test_imports_flow_down():
    assert violations(ROOT) == []


def test_records_and_settings_import_nothing_of_ours_but_the_embedding_config():
    for rel in ("rag/records.py", "rag/settings.py"):
        ours = [m for _, m in imports(ROOT / rel) if m.split(".")[0] in OURS]
        assert set(ours) <= {"embeddings.config"}, rel


@pytest.mark.parametrize(("rel", "source", "bad"), [
    ("embeddings/x.py", "from rag.settings import Settings", True),
    ("rag/retrieval.py", "import api.app", True),
    ("rag/answer.py", "from eval.run import run", True),
    ("rag/records.py", "from rag.tokenize import tokenize", True),
    ("api/app.py", "from eval import run", True),
    ("rag/cli/serve.py", "from api.app import create_app", False),
    ("rag/retrieval.py", "from embeddings import Embedder", False),
])
def test_the_check_itself_catches_upward_imports(tmp_path, rel, source, bad):
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source + "\n", encoding="utf-8")
    assert bool(violations(tmp_path)) is bad
