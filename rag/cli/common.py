"""What every command shares: the Typer app, consoles, options, and loading settings, model and service."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from rag.settings import Settings, get_settings

if TYPE_CHECKING:  # imported lazily at run time: torch and the index libraries take a second to import
    from embeddings import Embedder
    from rag.service import RagService

app = typer.Typer(help="policy-rag: cited answers from Chinese government articles.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
# Long lines are left to the terminal to wrap: a link broken at column 80 can be neither clicked nor copied.
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

# Exit codes: 1 the command failed, 2 bad usage or input, 3 no usable index.
EXIT_FAILED, EXIT_USAGE, EXIT_NO_INDEX = 1, 2, 3

ModelOpt = Annotated[str | None, typer.Option("--model", help="Embedding model (default: RAG_EMBEDDING_MODEL).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """Print ``error: message`` to stderr and exit with ``code``."""
    err.print(f"[red]error:[/] {escape(message)}")
    raise typer.Exit(code)


def settings_for(model: str | None) -> Settings:
    """The process settings, with the embedding model overridden by ``--model``."""
    settings = get_settings()
    return settings.updated(embedding={"model": model}) if model else settings


def load_model(settings: Settings) -> Embedder:
    """The embedding model, or a clear error and exit code 2."""
    from embeddings import ModelUnavailableError, load_embedder

    try:
        return load_embedder(settings.embedding)
    except ModelUnavailableError as e:
        fail(str(e), EXIT_USAGE)


def load_service(model: str | None) -> RagService:
    """The service over the published index, or a clear error and exit code 3."""
    from rag.index import IndexUnavailableError
    from rag.service import RagService

    settings = settings_for(model)
    svc = RagService(settings, load_model(settings))
    try:
        svc.index()
    except IndexUnavailableError as e:
        fail(f"{e}\n(RAG_HOME is {settings.home})", EXIT_NO_INDEX)
    return svc
