"""``rag ingest`` and ``rag delete``: change the index, atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from rag.cli.common import EXIT_NO_INDEX, JsonOpt, ModelOpt, app, err, fail, load_model, out, settings_for


@app.command()
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="JSON/JSONL files or folders; default RAG_CORPUS.")] = None,
    rebuild: Annotated[bool, typer.Option(help="Start a new index instead of updating the current one.")] = False,
    skip_invalid: Annotated[bool, typer.Option(help="Index the valid records and list the invalid ones.")] = False,
    if_missing: Annotated[bool, typer.Option(help="Do nothing when an index already exists.")] = False,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add new articles, re-index changed ones, skip unchanged ones; the new index is published atomically.

    Input: a JSON array or JSON Lines of WeChat article exports, each with the keys 文章标识符aid, 标题title,
    链接url, 时间time (YYYY-MM-DD), 公众号名称 and finalContent; or folders of such files.
    """
    from rag.corpus import CorpusError
    from rag.index import IndexUnavailableError, backend_for
    from rag.ingest import ingest as run_ingest

    settings = settings_for(model)
    backend = backend_for(settings.index)
    if if_missing and backend.version(settings.index) is not None:
        out.print(f"an index exists at {backend.location(settings.index)} (use `rag ingest PATH` to update it)")
        return
    embedder = load_model(settings)
    try:
        report = run_ingest(paths or [settings.corpus], settings, embedder, rebuild=rebuild,
                            skip_invalid=skip_invalid)
    except CorpusError as e:
        fail(f"{e}\nNothing was written. Fix the input, or pass --skip-invalid to index the valid records.")
    except (IndexUnavailableError, FileNotFoundError, ValueError) as e:
        fail(str(e))
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return
    out.print(
        f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
        f"skipped {report.skipped_records}; embedded {report.chunks_embedded} chunks and {report.sentences_embedded} "
        f"sentences in {report.embed_seconds:.1f} s; "
        f"the index holds {report.articles_total} articles, {report.chunks_total} chunks ({report.seconds:.1f} s)"
    )
    for p in report.skipped:
        err.print(f"[yellow]skipped:[/] {escape(p)}")
    for aid in report.empty_bodies:
        err.print(f"[yellow]empty body:[/] {aid} is indexed by its title only")


@app.command()
def delete(aids: Annotated[list[str], typer.Argument(help="Article ids to remove.")]) -> None:
    """Remove articles from the index (no model is loaded: nothing is embedded)."""
    from rag.index import IndexUnavailableError, NoIndexError
    from rag.ingest import UnknownArticlesError
    from rag.ingest import delete as run_delete

    try:
        report = run_delete(aids, settings_for(None))
    except NoIndexError as e:
        fail(f"{e}\nNothing was deleted.", EXIT_NO_INDEX)
    except (UnknownArticlesError, IndexUnavailableError) as e:
        fail(f"{e}\nNothing was deleted.")
    out.print(f"deleted {report.deleted}; the index holds {report.articles_total} articles, "
              f"{report.chunks_total} chunks")
