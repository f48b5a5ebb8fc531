"""``rag search`` and ``rag ask``: the API's two questions, from a terminal."""

from __future__ import annotations

import re
from typing import Annotated

import typer
from rich.markup import escape

from rag.cli.common import EXIT_USAGE, JsonOpt, ModelOpt, app, fail, load_service, out
from rag.records import DEFAULT_TOP_K, MAX_HISTORY, MAX_TOP_K, MODES

TopK = Annotated[int, typer.Option("--top-k", "-k", min=1, max=MAX_TOP_K, help="How many passages.")]


def highlight(text: str, terms: list[str]) -> str:
    """Rich markup of ``text`` with the query terms in bold yellow."""
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


EXCERPT_CHARS = 200


def excerpt(text: str, highlights: list[tuple[int, int]], width: int = EXCERPT_CHARS) -> str:
    """Rich markup of up to ``width`` characters of a passage: around its first quoted sentence (in bold), so
    what the answer quotes is always shown; the passage's start when nothing is quoted."""
    start = 0
    if highlights:
        first, end = highlights[0]
        start = max(0, min(first - (width - (end - first)) // 4, len(text) - width))
    stop = min(len(text), start + width)
    spans = sorted((max(a, start), min(b, stop)) for a, b in highlights if a < stop and b > start)
    parts, at = [], start
    for a, b in spans:
        parts += [escape(text[at:a]), f"[bold]{escape(text[a:b])}[/]"]
        at = b
    parts.append(escape(text[at:stop]))
    return ("…" if start > 0 else "") + "".join(parts) + ("…" if stop < len(text) else "")


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in Chinese or English.")],
    top_k: TopK = DEFAULT_TOP_K,
    mode: Annotated[str, typer.Option(help="hybrid, dense or lexical.")] = "hybrid",
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ranked passages: rank, score, title, date and the passage with the matched terms highlighted."""
    from rag.tokenize import text_problem

    if mode not in MODES:
        fail(f"unknown mode {mode!r}; use one of {', '.join(MODES)}", EXIT_USAGE)
    if (problem := text_problem(query, "query")) is not None:
        fail(problem.message, EXIT_USAGE)
    found = load_service(model).search(query, top_k=top_k, mode=mode)  # type: ignore[arg-type]
    if as_json:
        print(found.results().model_dump_json(indent=2))
        return
    if not found.hits:
        out.print("no results")
    terms = list(found.query.terms)  # as searched: translated from English, simplified from Traditional
    for h in found.hits:
        out.print(f"[bold]{h.rank}.[/] [cyan]{h.score:.3f}[/]  [bold]{escape(h.title)}[/]  {h.date}  "
                  f"[dim]{h.aid} [{h.start}:{h.end}][/]")
        out.print("   " + highlight(h.text, terms) + "\n")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A question, in Chinese or English.")],
    history: Annotated[list[str] | None, typer.Option(
        "--after", "-a", help=f"An earlier question this one follows up (repeat for each, oldest first; at most "
                              f"{MAX_HISTORY}).")] = None,
    top_k: TopK = DEFAULT_TOP_K,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A short answer with numbered citations (or an abstention with the closest passages).

    A follow-up: rag ask '那手机呢？' -a '汽车以旧换新补贴多少钱？'
    """
    from rag.tokenize import text_problem

    earlier = history or []
    if len(earlier) > MAX_HISTORY:
        fail(f"--after was given {len(earlier)} times; at most {MAX_HISTORY} earlier questions are read", EXIT_USAGE)
    for n, h in enumerate(earlier, start=1):
        if (problem := text_problem(h, "earlier question")) is not None:
            fail(f"--after #{n}: {problem.message}", EXIT_USAGE)
    if (problem := text_problem(question, "question")) is not None:
        fail(problem.message, EXIT_USAGE)
    a = load_service(model).ask(question, history=[h.strip() for h in earlier], top_k=top_k)
    if as_json:
        print(a.model_dump_json(indent=2))
        return
    if a.conversation and a.conversation.carried:
        asking = f" ({a.conversation.asking})" if a.conversation.asking else ""
        said = "the earlier questions" if len(earlier) > 1 else "the earlier question"
        out.print(f"[dim]read with {said}: {escape(', '.join(a.conversation.carried) + asking)}[/]")
    out.print(("[yellow]" if a.abstained else "[green]") + escape(a.answer) + "[/]")
    said = "that the articles do not answer" if a.abstained else "that this answers the question"
    out.print(f"[dim]{'abstained; ' if a.abstained else ''}confidence {a.confidence:.2f} {said}[/]")
    for caution in a.cautions:
        out.print(f"[yellow]{escape(caution)}[/]")
    out.print()
    if a.notice:
        out.print(f"[dim]{escape(a.notice)}[/]")
    for c in a.citations:
        out.print(f"[bold][{c.n}][/] {escape(c.title)}  {c.date}  [dim]{c.url}[/]")
        out.print("    " + excerpt(c.text, c.highlights))
