"""``rag eval``: score retrieval and answers against the gold set."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from rag.cli.common import EXIT_NO_INDEX, EXIT_USAGE, JsonOpt, ModelOpt, app, fail, load_model, settings_for
from rag.records import MODES
from rag.settings import BACKENDS, PROJECT_ROOT

# The project's gold set, wherever the command is run from.
GOLD = PROJECT_ROOT / "eval" / "gold.jsonl"


@app.command("eval")
def evaluate(
    gold: Annotated[Path, typer.Option(help="Gold questions (JSON Lines).")] = GOLD,
    modes: Annotated[str, typer.Option(help="Comma-separated modes to compare.")] = ",".join(MODES),
    out_dir: Annotated[Path | None, typer.Option(
        "--out", help="Where reports are written (default: RAG_HOME/eval; the committed ones: eval/reports).")] = None,
    sweep: Annotated[bool, typer.Option(
        help="Sweep chunking, fusion weights, passages per article and the abstention threshold.")] = False,
    backend: Annotated[str | None, typer.Option(
        help="Index backend to evaluate (default: RAG_INDEX_BACKEND), or several, e.g. local,milvus, to compare "
             "their hybrid figures side by side (backends.md; exit code 1 when they differ by more than 0.01).")
    ] = None,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Score retrieval and answers against the gold set; writes Markdown, PNG and JSON reports."""
    from eval.run import main as run_eval
    from rag.index import IndexUnavailableError

    chosen = [m.strip() for m in modes.split(",") if m.strip()]
    bad = [m for m in chosen if m not in MODES]
    if bad or not chosen:
        fail(f"{'unknown mode(s) ' + ', '.join(bad) if bad else 'no mode given'}; use {', '.join(MODES)}",
             EXIT_USAGE)
    if not gold.is_file():
        fail(f"{gold}: no such gold file", EXIT_USAGE)
    settings = settings_for(model)
    backends = [b.strip() for b in (backend or "").split(",") if b.strip()]
    if unknown := [b for b in backends if b not in BACKENDS]:
        fail(f"unknown backend(s) {', '.join(unknown)}; use {', '.join(BACKENDS)} or {','.join(BACKENDS)}",
             EXIT_USAGE)
    if len(backends) > 1:
        from eval.backends import main as compare_backends

        try:
            code = compare_backends(gold=gold, backends=backends, out_dir=out_dir or settings.home / "eval",
                                    settings=settings, embedder=load_model(settings), as_json=as_json)
        except IndexUnavailableError as e:
            fail(str(e), EXIT_NO_INDEX)
        sys.exit(code)
    if backends:
        settings = settings.updated(index={"backend": backends[0]})
    try:
        code = run_eval(gold=gold, modes=chosen, out_dir=out_dir or settings.home / "eval", sweep=sweep,
                        settings=settings, embedder=load_model(settings), as_json=as_json)
    except IndexUnavailableError as e:
        fail(str(e), EXIT_NO_INDEX)
    sys.exit(code)
